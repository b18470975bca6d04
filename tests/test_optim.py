"""SGD and Adam against their recurrences written out by hand; argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.layers import Linear, Parameter
from autograd_lite.optim import SGD, Adam

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.0]), np.array([1.5, 0.0, -0.7])]
P0 = np.array([1.0, -2.0, 0.5])


def run(opt_factory, grads=GRADS):
    p = Parameter(P0)
    opt = opt_factory([p])
    history = []
    for g in grads:
        p.grad = al.Tensor(g.copy())
        opt.step()
        history.append(p.data.copy())
    return history


def test_plain_sgd():
    got = run(lambda ps: SGD(ps, lr=0.1))
    p = P0.copy()
    for g, q in zip(GRADS, got):
        p = p - 0.1 * g
        np.testing.assert_allclose(q, p, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_momentum_recurrence(nesterov, weight_decay):
    lr, mu = 0.1, 0.9
    got = run(lambda ps: SGD(ps, lr, momentum=mu, weight_decay=weight_decay, nesterov=nesterov))
    p, v = P0.copy(), None
    for g, q in zip(GRADS, got):
        g = g + weight_decay * p
        v = g if v is None else mu * v + g  # first step: v = g
        p = p - lr * (g + mu * v if nesterov else v)
        np.testing.assert_allclose(q, p, atol=1e-14)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_recurrence(weight_decay):
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-6
    got = run(lambda ps: Adam(ps, lr, (b1, b2), eps, weight_decay))
    p, m, v = P0.copy(), np.zeros(3), np.zeros(3)
    for t, (g, q) in enumerate(zip(GRADS, got), start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(q, p, rtol=1e-13, atol=1e-15)


def test_adam_first_step_moves_every_coordinate_by_about_lr():
    got = run(lambda ps: Adam(ps, lr=0.01), GRADS[:1])
    step = P0 - got[0]
    np.testing.assert_allclose(step, 0.01 * np.sign(GRADS[0]), rtol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, 0.1, momentum=0.5), lambda ps: Adam(ps, 0.1)])
def test_parameters_without_grad_are_skipped_and_keep_their_own_state(make):
    a, b = Parameter(P0), Parameter(P0)
    opt = make([a, b])
    a.grad = al.Tensor(GRADS[0])
    opt.step()  # b has no gradient: untouched, and its state not started
    np.testing.assert_array_equal(b.data, P0)
    b.grad = al.Tensor(GRADS[0])
    a.grad = None
    before_a = a.data.copy()
    opt.step()
    np.testing.assert_array_equal(a.data, before_a)
    solo = Parameter(P0)
    solo_opt = make([solo])
    solo.grad = al.Tensor(GRADS[0])
    solo_opt.step()
    np.testing.assert_allclose(b.data, solo.data, atol=1e-15)  # b's first step is a first step


def test_zero_grad_and_training_with_backward():
    lin = Linear(3, 1, rng=0)
    opt = SGD(lin.parameters(), lr=0.05)
    x, y = np.random.default_rng(0).normal(size=(20, 3)), np.zeros((20, 1))
    losses = []
    for _ in range(30):
        loss = al.mse_loss(lin(x), y)
        opt.zero_grad()
        assert all(p.grad is None for p in lin.parameters())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_updates_happen_in_place():
    p = Parameter(P0)
    array = p.data
    p.grad = al.Tensor(GRADS[0])
    SGD([p], 0.1).step()
    assert p.data is array


@pytest.mark.parametrize("bad", [float("nan"), -0.1, float("inf")])
def test_bad_learning_rate_is_refused(bad):
    p = Parameter(P0)
    for make in (lambda: SGD([p], lr=bad), lambda: Adam([p], lr=bad)):
        with pytest.raises(ValueError, match="lr"):
            make()
    opt = SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = bad
    assert opt.lr == 0.1


def test_argument_checks():
    p = Parameter(P0)
    with pytest.raises(TypeError, match="lr"):
        SGD([p], lr="0.1")
    with pytest.raises(ValueError, match="momentum"):
        SGD([p], 0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([p], 0.1, nesterov=True)
    with pytest.raises(ValueError, match="weight_decay"):
        SGD([p], 0.1, weight_decay=math.nan)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(-0.1, 0.9))
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        Adam([p], eps=-1e-8)
    with pytest.raises(ValueError, match="empty"):
        SGD([], 0.1)
    with pytest.raises(TypeError, match="not a Tensor"):
        SGD([P0], 0.1)
    with pytest.raises(ValueError, match="requires_grad"):
        SGD([al.Tensor(P0)], 0.1)
    with pytest.raises(ValueError, match="requires_grad"):
        SGD([p * 2], 0.1)  # not a leaf
    with pytest.raises(ValueError, match="more than once"):
        Adam([p, p])
    with pytest.raises(TypeError, match="iterable"):
        SGD(p, 0.1)


def test_parameters_from_a_generator():
    lin = Linear(2, 2)
    opt = Adam(p for p in lin.parameters())
    assert len(opt.params) == 2
