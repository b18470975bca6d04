"""The checker is checked: it rejects wrong rules, accepts right ones, and explains itself."""

from __future__ import annotations

import numpy as np
import pytest
from planted import OffByOnePercentMul, Square

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.testing import (
    GradcheckError,
    GradcheckWarning,
    check_gradients,
    eps_sweep,
    gradcheck,
    gradgradcheck,
)


def t(x, grad=True):
    return al.Tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


@pytest.fixture
def rng():
    return np.random.default_rng(1)


class WrongSignTanh(al.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.tanh()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -grad * (1 - out * out)


class RightTanh(WrongSignTanh):
    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class BiasFirstRowOnly(al.Function):
    """x + b with b broadcast over rows; the rule for b forgets to sum over the rows."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad[0]


class Bias(BiasFirstRowOnly):
    @staticmethod
    def backward(ctx, grad):
        return grad, grad.sum(axis=0)


def test_rejects_a_rule_off_by_one_percent(rng):
    a, b = t(rng.uniform(0.5, 2, (3, 2))), t(rng.uniform(0.5, 2, (3, 2)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: al.Tensor._apply(OffByOnePercentMul(), a, b), (a, b))
    report = info.value.report
    bad, good = report.inputs
    assert bad.position == 0 and bad.n_failed == 6 and good.n_failed == 0
    worst = bad.worst[0]
    assert worst.failed and worst.rel_error == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert worst.analytic == pytest.approx(1.01 * worst.numeric, rel=1e-6)
    assert report.blame == "OffByOnePercentMul"
    message = str(info.value)
    assert "input 0" in message and "FAIL" in message and "OffByOnePercentMul" in message
    assert f"{worst.analytic:.6g}" in message and f"{worst.numeric:.6g}" in message


def test_accepts_the_correct_rules(rng):
    a, b = t(rng.standard_normal((3, 2))), t(rng.standard_normal((3, 2)))
    assert gradcheck(lambda a, b: al.Tensor._apply(ops.Mul(), a, b), (a, b))
    assert gradcheck(lambda x: RightTanh.apply(x), (a,))
    x, bias = t(rng.standard_normal((4, 3))), t(rng.standard_normal(3))
    assert gradcheck(lambda x, b: Bias.apply(x, b), (x, bias))
    assert gradgradcheck(lambda x: (RightTanh.apply(x) * x).sum(), (a,))


def test_rejects_the_wrong_sign(rng):
    x = t(rng.standard_normal(5))
    assert not gradcheck(lambda x: WrongSignTanh.apply(x), (x,), raise_exception=False)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: (WrongSignTanh.apply(x) * 2).sum(), (x,))
    worst = info.value.report.inputs[0].worst[0]
    assert worst.analytic == pytest.approx(-worst.numeric, rel=1e-6)
    assert info.value.report.blame == "WrongSignTanh"


def test_rejects_a_rule_that_forgets_broadcasting(rng):
    x, b = t(rng.standard_normal((4, 3))), t(rng.standard_normal(3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, b: BiasFirstRowOnly.apply(x, b), (x, b))
    report = info.value.report
    assert report.inputs[0].n_failed == 0
    assert report.inputs[1].n_failed > 0
    assert report.blame == "BiasFirstRowOnly"
    # with one row the bug is invisible: the checker must not cry wolf
    assert gradcheck(lambda x, b: BiasFirstRowOnly.apply(x, b), (t(np.ones((1, 3))), b))


def test_gradgradcheck_rejects_a_rule_without_a_derivative(rng):
    class CubeViaData(al.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * al.Tensor(3 * x.data**2)  # right value, but no derivative of its own

    x = t(rng.uniform(0.5, 1.5, 4))
    assert gradcheck(lambda x: CubeViaData.apply(x), (x,))
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: CubeViaData.apply(x).sum(), (x,))
    report = info.value.report
    assert report.order == 2 and report.blame == "CubeViaData"
    worst = report.inputs[0].worst[0]
    assert worst.analytic == 0 and abs(worst.numeric) > 0.1  # w·6x for the random weight w


def test_gradgradcheck_rejects_a_wrong_second_order_rule(rng):
    class SquareWrongCurvature(Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            # 2x + 1e-3·(x³ − x³.data): right value, derivative off by 3e-3·x²
            return grad * (2 * x + 1e-3 * (x**3 - al.Tensor(x.data**3)))

    x = t(rng.uniform(1, 2, 3))
    assert gradcheck(lambda x: SquareWrongCurvature.apply(x), (x,))
    assert not gradgradcheck(
        lambda x: SquareWrongCurvature.apply(x).sum(), (x,), raise_exception=False
    )


def test_kinks_are_reported_not_failed():
    x = t([-1.0, 0.0, 2.0])
    report = check_gradients(lambda x: x.relu(), (x,))
    assert report.passed
    assert [(k.input, k.index) for k in report.kinks] == [(0, (1,))]
    assert report.kinks[0].op == "ReLU()"
    assert "test_gradcheck.py" in report.kinks[0].site
    with pytest.raises(GradcheckError, match="not differentiable at ReLU"):
        gradcheck(lambda x: x.relu(), (x,), strict_kinks=True)


@pytest.mark.parametrize(
    "fn, x",
    [
        (lambda x: x.abs().sum(), [0.0, 1.0]),
        (lambda x: x.max(), [3.0, 3.0, 1.0]),
        (lambda x: al.maximum(x, al.Tensor([1.0, 0.0])), [1.0, 2.0]),
        (lambda x: x.clip(-1.0, 1.0), [1.0, 0.5]),
        (lambda x: (x * 2 - 2).relu(), [1.0, 3.0]),  # the kink is inside, not at an input
    ],
)
def test_kinks_of_each_builtin(fn, x):
    assert gradcheck(fn, (t(x),))
    assert not gradcheck(fn, (t(x),), strict_kinks=True, raise_exception=False)


def test_float32_warns_and_checks_in_float64():
    x = al.Tensor(np.array([0.3, -0.7], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning, match="float32"):
        assert gradcheck(lambda x: x.tanh(), (x,))


def test_users_tensors_are_left_alone(rng):
    x = t(rng.standard_normal(3))
    x.grad = al.Tensor(np.full(3, 7.0))
    before = x.data.copy()
    assert gradcheck(lambda x: (x * x).sum(), (x,))
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(x.grad.data, np.full(3, 7.0))


def test_bad_arguments_are_clear(rng):
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x, (t([1.0], grad=False),))
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: x.data, (t([1.0]),))
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x, (t([1.0]),), eps=0)
    with pytest.raises(TypeError, match="inputs"):
        gradcheck(lambda x: x, 3.0)


def test_large_inputs_use_directions_and_fall_back_to_the_full_report(rng):
    x = t(rng.standard_normal(300))
    report = check_gradients(lambda x: (x.tanh() * x).sum(), (x,), full_limit=100)
    assert report.passed and report.inputs[0].mode == "directional"
    y = t(rng.uniform(0.5, 1, 300))
    bad = check_gradients(
        lambda y: al.Tensor._apply(OffByOnePercentMul(), y, y * 1.0).sum(), (y,), full_limit=100
    )
    assert not bad.passed and bad.inputs[0].mode == "full" and bad.inputs[0].n_failed == 300


def test_several_outputs_and_constants(rng):
    a = t(rng.standard_normal((2, 2)))
    assert gradcheck(lambda a, k: (a * k, (a @ a).exp().sum()), (a, 3.0))


def test_eps_sweep_finds_the_valley(tmp_path, rng):
    x = t(rng.uniform(0.5, 1.5, 4))
    sweep = eps_sweep(lambda x: (x.exp() * x).sum(), (x,))
    assert sweep.eps.shape == sweep.errors.shape == (23,)
    assert sweep.eps[0] == pytest.approx(1e-12) and sweep.eps[-1] == pytest.approx(1e-1)
    assert 1e-8 <= sweep.best_eps <= 1e-3
    k = int(np.argmin(sweep.errors))
    assert sweep.errors[0] > 10 * sweep.errors[k] and sweep.errors[-1] > 10 * sweep.errors[k]
    assert "recommended eps" in str(sweep)
    path = sweep.plot(str(tmp_path / "sweep.png"))
    assert (tmp_path / "sweep.png").stat().st_size > 1000 and path.endswith("sweep.png")
    with pytest.raises(ValueError, match="eps"):
        eps_sweep(lambda x: x, (x,), eps=[1e-3, -1.0])
