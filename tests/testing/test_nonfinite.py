"""A nan or inf on either side of a gradient check is a failure that names the element."""

from __future__ import annotations

import numpy as np
import pytest
from planted import NanRule, SquareNanCurvature

import autograd_lite as al
from autograd_lite.testing import (
    GradcheckError,
    check_gradients,
    check_second_gradients,
    eps_sweep,
    gradcheck,
    gradgradcheck,
)


def t(x):
    return al.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


class InfInOneElement(NanRule):
    """o = 2x, with a rule that is right except for an inf in element 1."""

    @staticmethod
    def backward(ctx, grad):
        planted = np.full(grad.shape, 2.0)
        planted[1] = np.inf
        return grad * al.Tensor(planted)


class InfAboveHalf(al.Function):
    """o = x for x ≤ 0.5, inf above; its rule says inf everywhere."""

    @staticmethod
    def forward(ctx, x):
        return al.Tensor(np.where(x.data <= 0.5, x.data, np.inf))

    @staticmethod
    def backward(ctx, grad):
        return grad * np.inf


def test_a_nan_rule_fails_and_is_named():
    x = t([0.5, 1.0])
    assert not gradcheck(lambda x: NanRule.apply(x), (x,), raise_exception=False)
    with pytest.raises(GradcheckError, match=r"analytic gradient is nan at index \(0,\)") as info:
        gradcheck(lambda x: NanRule.apply(x).sum(), (x,))
    report = info.value.report
    assert report.inputs[0].n_failed == 2 and report.inputs[0].n_nonfinite == 2
    assert np.isnan(report.max_abs_error)  # not dropped by max()
    assert report.blame == "NanRule"


def test_an_inf_in_one_element_fails_there():
    x = t([0.5, 1.0, 1.5])
    with pytest.raises(GradcheckError, match=r"analytic gradient is inf at index \(1,\)") as info:
        gradcheck(lambda x: InfInOneElement.apply(x).sum(), (x,))
    report = info.value.report
    assert report.inputs[0].n_failed == 1
    worst = report.inputs[0].worst[0]
    assert worst.index == (1,) and worst.analytic == np.inf and worst.numeric == pytest.approx(2)


def test_non_finite_central_differences_fail_without_blaming_a_rule():
    # sqrt is finite at 1e-7 but not at 1e-7 - eps: its rule is right, fn leaves its domain
    x = t([1e-7, 1.0])
    with pytest.raises(GradcheckError, match=r"numeric gradient is nan at index \(0,\)") as info:
        gradcheck(lambda x: x.sqrt().sum(), (x,))
    assert info.value.report.blame is None
    assert "edge of fn's domain" in str(info.value)
    assert info.value.report.inputs[0].n_failed == 1


def test_non_finite_on_both_sides_fails():
    x = t([0.5 - 1e-7])  # the stencil point above 0.5 gives inf, and so does the rule
    with pytest.raises(GradcheckError, match="analytic gradient is inf and numeric gradient is"):
        gradcheck(lambda x: InfAboveHalf.apply(x), (x,))


def test_a_kink_does_not_excuse_a_nan():
    x = t([0.0, 1.0])  # relu's kink at element 0; the nan after it must still fail
    report = check_gradients(lambda x: NanRule.apply(x.relu()).sum(), (x,))
    assert not report.passed and report.inputs[0].n_failed == 2


def test_directional_and_fast_checks_do_not_pass_a_nan():
    x = t(np.linspace(0.5, 1.5, 40))
    for options in ({"full_limit": 10}, {"fast_mode": True}):
        report = check_gradients(lambda x: NanRule.apply(x).sum(), (x,), **options)
        assert not report.passed and report.inputs[0].mode == "full", options
        assert report.inputs[0].n_failed == 40


def test_gradgradcheck_fails_on_a_nan_first_gradient():
    x = t([0.5, 1.0])
    with pytest.raises(GradcheckError, match="analytic gradient is nan") as info:
        gradgradcheck(lambda x: NanRule.apply(x).sum(), (x,))
    report = info.value.report
    assert report.order == 2 and "not finite" in report.projection
    assert report.blame == "NanRule"


def test_gradgradcheck_fails_on_a_nan_second_derivative():
    x = t([0.5, 1.0])
    assert gradcheck(lambda x: SquareNanCurvature.apply(x), (x,))
    report = check_second_gradients(lambda x: SquareNanCurvature.apply(x).sum(), (x,))
    assert not report.passed and report.inputs[0].n_nonfinite == 4  # the 2 × 2 Hessian
    assert "analytic gradient is nan" in str(report)
    assert report.blame == "SquareNanCurvature"


def test_eps_sweep_refuses_a_nan_gradient():
    with pytest.raises(ValueError, match=r"analytic gradient is nan at input 0 index \(0,\)"):
        eps_sweep(lambda x: NanRule.apply(x), (t([0.5, 1.0]),))


def test_eps_sweep_gives_steps_outside_the_domain_an_infinite_error():
    sweep = eps_sweep(lambda x: x.sqrt(), (t([1e-4]),), eps=[1e-7, 1e-3])
    assert np.isfinite(sweep.errors[0]) and sweep.errors[1] == np.inf
    assert sweep.best_eps == pytest.approx(1e-7)
    assert "not finite" in str(sweep)
    with pytest.raises(ValueError, match="not finite at any step"):
        eps_sweep(lambda x: x.sqrt(), (t([1e-4]),), eps=[1e-3, 1e-2])
