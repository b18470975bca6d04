"""Fast mode: uᵀJv for random unit u, v accepts right rules, rejects wrong ones, costs little."""

from __future__ import annotations

import numpy as np
import pytest
from planted import OffByOnePercentMul, OneElementOff

import autograd_lite as al
from autograd_lite.testing import GradcheckError, check_gradients, gradcheck, gradgradcheck


def t(x):
    return al.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


class Counted:
    """fn, counting its calls (every forward the checker runs)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_accepts_right_rules(rng):
    a, b = t(rng.standard_normal((6, 5))), t(rng.standard_normal((5, 4)))
    for fn in (
        lambda a, b: (a @ b).tanh(),
        lambda a, b: ((a @ b).sigmoid() * 3, (a * a).sum(axis=0)),
        lambda a, b: (a.exp() * a).sum(),
    ):
        report = check_gradients(fn, (a, b), fast_mode=True)
        assert report.passed and {r.mode for r in report.inputs} == {"fast"}
    assert gradcheck(lambda a, b: (a @ b).tanh(), (a, b), fast_mode=True)
    assert gradgradcheck(lambda a, b: (a @ b).tanh().sum(), (a, b), fast_mode=True)


def test_rejects_a_uniform_scale_error_and_names_the_worst_element(rng):
    a, b = t(rng.uniform(0.5, 2, (4, 5))), t(rng.uniform(0.5, 2, (4, 5)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(
            lambda a, b: al.Tensor._apply(OffByOnePercentMul(), a, b).sum(), (a, b), fast_mode=True
        )
    report = info.value.report
    assert report.inputs[0].mode == "full" and report.inputs[0].n_failed == 20
    assert report.inputs[1].n_failed == 0 and report.blame == "OffByOnePercentMul"


def test_rejects_an_error_in_one_element_with_a_tolerance_below_its_dilution(rng):
    # 1 % in one of n = 64 elements moves uᵀJv by about 1 %/√n: rtol must be below that
    x = t(rng.uniform(0.5, 1.5, 64))
    report = check_gradients(
        lambda x: OneElementOff.apply(x), (x,), fast_mode=True, rtol=1e-6, atol=1e-9
    )
    assert not report.passed and report.inputs[0].mode == "full"
    assert report.inputs[0].worst[0].index == (0,) and report.blame == "OneElementOff"
    right = check_gradients(lambda x: x * x, (x,), fast_mode=True, rtol=1e-6, atol=1e-9)
    assert right.passed and right.inputs[0].mode == "fast"


def test_evaluates_far_fewer_times_than_the_full_check(rng):
    x = t(rng.standard_normal((10, 20)))
    fast, full = Counted(lambda x: (x.tanh() * x).sum()), Counted(lambda x: (x.tanh() * x).sum())
    assert check_gradients(fast, (x,), fast_mode=True).passed
    assert check_gradients(full, (x,)).passed
    assert full.calls == 2 * x.data.size + 2  # the start, the backward pass, 2 per element
    assert fast.calls == 2 * 4 + 2  # the start, the backward pass, 2 per direction v
    assert fast.calls * 10 < full.calls


def test_is_deterministic_for_a_seed(rng):
    x = t(rng.standard_normal(30))
    errors = [
        check_gradients(lambda x: x.tanh() * x, (x,), fast_mode=True, seed=s).max_abs_error
        for s in (3, 3, 4)
    ]
    assert errors[0] == errors[1] != errors[2]
