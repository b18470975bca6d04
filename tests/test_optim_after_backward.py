"""Optimizer steps after backward keep working, also while a retained graph still holds the
parameters read-only (``retain_graph=True``), and a retained graph keeps the values it recorded.

Gradients are checked against the hand-derived formula for y = σ(x Wᵀ + b), E = ½ Σ (y − t)²:
δ = (y − t) ⊙ y ⊙ (1 − y), ∂E/∂W = δᵀ x, ∂E/∂b = Σ_rows δ; updates against the optimizers'
recurrences written out in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import layers, optim

RNG = np.random.default_rng(7)
X = RNG.standard_normal((6, 3))
TARGET = RNG.uniform(0.1, 0.9, (6, 2))


def hand_gradient(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = 1.0 / (1.0 + np.exp(-(X @ w.T + b)))
    delta = (y - TARGET) * y * (1.0 - y)
    return delta.T @ X, delta.sum(axis=0)


def make(kind: str) -> tuple[layers.Linear, optim.Optimizer, dict[str, float]]:
    lin = layers.Linear(3, 2, rng=1)
    if kind == "sgd":
        return lin, optim.SGD(lin.parameters(), lr=0.3), {"lr": 0.3, "mu": 0.0}
    if kind == "momentum":
        return lin, optim.SGD(lin.parameters(), lr=0.3, momentum=0.8), {"lr": 0.3, "mu": 0.8}
    if kind == "nesterov":
        opt = optim.SGD(lin.parameters(), lr=0.3, momentum=0.8, nesterov=True)
        return lin, opt, {"lr": 0.3, "mu": 0.8, "nesterov": 1.0}
    return lin, optim.Adam(lin.parameters(), lr=0.05), {"lr": 0.05}


class Reference:
    """The optimizers' recurrences in plain NumPy, one state per parameter."""

    def __init__(self, kind: str, hyper: dict[str, float], n: int) -> None:
        self.kind, self.h = kind, hyper
        self.v: list[np.ndarray | None] = [None] * n
        self.m: list[np.ndarray | None] = [None] * n
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> list[np.ndarray]:
        lr = self.h["lr"]
        if self.kind == "adam":
            self.t += 1
            out = []
            for i, (p, g) in enumerate(zip(params, grads)):
                m = np.zeros_like(p) if self.m[i] is None else self.m[i]
                v = np.zeros_like(p) if self.v[i] is None else self.v[i]
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                self.m[i], self.v[i] = m, v
                mhat, vhat = m / (1 - 0.9**self.t), v / (1 - 0.999**self.t)
                out.append(p - lr * mhat / (np.sqrt(vhat) + 1e-8))
            return out
        mu = self.h["mu"]
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if mu == 0.0:
                out.append(p - lr * g)
                continue
            v = g.copy() if self.v[i] is None else mu * self.v[i] + g
            self.v[i] = v
            d = g + mu * v if self.h.get("nesterov") else v
            out.append(p - lr * d)
        return out


def loss_of(lin: layers.Linear) -> al.Tensor:
    # X requires grad, so the rule for ∂E/∂X reads W: the graph holds W's array read-only
    return al.squared_error(lin(al.Tensor(X, requires_grad=True)).sigmoid(), TARGET)


KINDS = ["sgd", "momentum", "nesterov", "adam"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("retain", [False, True])
def test_steps_after_backward_follow_the_recurrence(kind, retain):
    lin, opt, hyper = make(kind)
    ref = Reference(kind, hyper, 2)
    expected = [lin.weight.data.copy(), lin.bias.data.copy()]
    graphs = []
    for _ in range(5):
        opt.zero_grad()
        loss = loss_of(lin)
        loss.backward(retain_graph=retain)
        gw, gb = hand_gradient(*expected)
        np.testing.assert_allclose(lin.weight.grad.data, gw, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(lin.bias.grad.data, gb, rtol=1e-12, atol=1e-14)
        if retain:
            assert not lin.weight.data.flags.writeable  # the retained graph still reads W
        opt.step()  # must not raise "assignment destination is read-only"
        expected = ref.step(expected, [gw, gb])
        np.testing.assert_allclose(lin.weight.data, expected[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(lin.bias.data, expected[1], rtol=1e-12, atol=1e-14)
        graphs.append(loss)  # keep every retained graph alive through the later steps
    assert np.all(np.isfinite(lin.weight.data))


@pytest.mark.parametrize("kind", KINDS)
def test_a_retained_graph_keeps_the_values_it_recorded(kind):
    lin, opt, _ = make(kind)
    w0, b0 = lin.weight.data.copy(), lin.bias.data.copy()
    loss = loss_of(lin)
    loss.backward(retain_graph=True)
    opt.step()
    assert not np.array_equal(lin.weight.data, w0)  # the parameters did move
    # a second backward through the old graph: the gradient at the recorded values w0, b0
    opt.zero_grad()
    loss.backward()
    gw, gb = hand_gradient(w0, b0)
    np.testing.assert_allclose(lin.weight.grad.data, gw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lin.bias.grad.data, gb, rtol=1e-12, atol=1e-14)
    # a new forward pass sees the new values
    opt.zero_grad()
    loss_of(lin).backward()
    gw1, gb1 = hand_gradient(lin.weight.data, lin.bias.data)
    np.testing.assert_allclose(lin.weight.grad.data, gw1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lin.bias.grad.data, gb1, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_without_retained_graphs_steps_are_in_place(kind):
    lin, opt, _ = make(kind)
    arrays = [p.data for p in lin.parameters()]
    for _ in range(3):
        opt.zero_grad()
        loss_of(lin).backward()
        opt.step()
    assert all(p.data is a for p, a in zip(lin.parameters(), arrays))
    assert all(a.flags.writeable for a in arrays)


def test_parameters_unlock_once_the_retained_graph_dies():
    lin, opt, _ = make("momentum")
    loss = loss_of(lin)
    loss.backward(retain_graph=True)
    opt.step()
    del loss
    assert all(p.data.flags.writeable for p in lin.parameters())
    lin.weight.data[0, 0] = 1.5  # in-place writes work again
    assert lin.weight.data[0, 0] == 1.5


def test_step_after_create_graph_backward():
    lin, opt, hyper = make("adam")
    w0, b0 = lin.weight.data.copy(), lin.bias.data.copy()
    loss = loss_of(lin)
    loss.backward(create_graph=True)  # retains the graph; the gradients have graphs of their own
    assert lin.weight.grad.requires_grad
    opt.step()
    expected = Reference("adam", hyper, 2).step([w0, b0], list(hand_gradient(w0, b0)))
    np.testing.assert_allclose(lin.weight.data, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lin.bias.data, expected[1], rtol=1e-12, atol=1e-14)


def test_load_state_dict_while_a_retained_graph_reads_the_parameters():
    lin, _, _ = make("sgd")
    w0, b0 = lin.weight.data.copy(), lin.bias.data.copy()
    loss = loss_of(lin)
    loss.backward(retain_graph=True)
    new = {"weight": np.full((2, 3), 0.25), "bias": np.array([0.5, -0.5])}
    lin.load_state_dict(new)  # W is read-only for the graph: it gets a new array
    np.testing.assert_array_equal(lin.weight.data, new["weight"])
    np.testing.assert_array_equal(lin.bias.data, new["bias"])
    lin.zero_grad()
    loss.backward()  # the old graph: the gradient at the values it recorded
    gw, gb = hand_gradient(w0, b0)
    np.testing.assert_allclose(lin.weight.grad.data, gw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lin.bias.grad.data, gb, rtol=1e-12, atol=1e-14)


def test_load_state_dict_is_whole_when_only_a_later_layer_is_read_only():
    net = layers.Sequential(layers.Linear(3, 3, rng=0), layers.Linear(3, 2, rng=1))
    # only the second layer's weight is held by a graph (the rule for ∂/∂X reads it)
    pending = net[1](al.Tensor(X, requires_grad=True)).sum()
    assert net[0].weight.data.flags.writeable and not net[1].weight.data.flags.writeable
    state = {k: v + 1.0 for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    assert pending.requires_grad
