"""RMSprop, AdamW and Adagrad against their recurrences written out here in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((2, 3))
GRADS = [RNG.standard_normal((2, 3)) for _ in range(5)]


def _run(opt_cls, **kw):
    p = al.Tensor(W0.copy(), requires_grad=True)
    opt = opt_cls([p], **kw)
    for g in GRADS:
        p.grad = al.Tensor(g)
        opt.step()
    return p.data


@pytest.mark.parametrize("momentum, wd", [(0.0, 0.0), (0.7, 0.1)])
def test_rmsprop_follows_its_recurrence(momentum, wd):
    lr, alpha, eps = 0.02, 0.9, 1e-8
    p, s, b = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for g in GRADS:
        g = g + wd * p
        s = alpha * s + (1 - alpha) * g**2
        d = g / (np.sqrt(s) + eps)
        b = momentum * b + d
        p = p - lr * (b if momentum else d)
    got = _run(optim.RMSprop, lr=lr, alpha=alpha, momentum=momentum, weight_decay=wd)
    np.testing.assert_allclose(got, p, rtol=1e-12)


def test_adamw_decays_the_parameter_not_the_gradient():
    lr, (b1, b2), eps, wd = 0.05, (0.9, 0.99), 1e-8, 0.2
    p, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    got = _run(optim.AdamW, lr=lr, betas=(b1, b2), weight_decay=wd)
    np.testing.assert_allclose(got, p, rtol=1e-12)
    assert optim.AdamW([al.Tensor([1.0], requires_grad=True)]).weight_decay == 0.01


@pytest.mark.parametrize("wd", [0.0, 0.3])
def test_adagrad_follows_its_recurrence(wd):
    lr, eps = 0.1, 1e-10
    p, s = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        g = g + wd * p
        s = s + g**2
        p = p - lr * g / (np.sqrt(s) + eps)
    np.testing.assert_allclose(_run(optim.Adagrad, lr=lr, weight_decay=wd), p, rtol=1e-12)


def test_a_bad_gradient_changes_nothing_in_adamw():
    good, bad = al.Tensor(W0.copy(), requires_grad=True), al.Tensor(W0.copy(), requires_grad=True)
    opt = optim.AdamW([good, bad], lr=0.1, weight_decay=0.5)
    good.grad, bad.grad = al.Tensor(GRADS[0]), al.Tensor(GRADS[0])
    bad.data = np.ones(4)  # .grad no longer fits (a wrong-shape .grad is refused when assigned)
    with pytest.raises(ValueError, match="parameter 1"):
        opt.step()
    np.testing.assert_array_equal(good.data, W0)  # not even decayed


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: optim.RMSprop(p, momentum=-1), "momentum"),
        (lambda p: optim.AdamW(p, weight_decay=-0.1), "weight_decay"),
        (lambda p: optim.Adagrad(p, eps=float("nan")), "eps"),
    ],
)
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make([al.Tensor([1.0], requires_grad=True)])
