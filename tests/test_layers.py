"""Modules, parameters, layers, initialisers and state dicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.layers import (
    Dropout,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    default_uniform,
    he_normal,
    he_uniform,
    truncated_normal,
    tutorial_normal,
    xavier_normal,
    xavier_uniform,
)


class TwoLayer(Module):
    def __init__(self):
        super().__init__()
        self.first = Linear(3, 4, rng=0)
        self.scale = Parameter(np.ones(4))
        self.second = Linear(4, 2, bias=False, rng=1)

    def forward(self, x):
        return self.second(self.first(x).tanh() * self.scale)


def test_parameter_is_a_float_leaf_that_requires_grad_and_owns_its_data():
    src = np.array([1, 2, 3])
    p = Parameter(src)
    assert isinstance(p, al.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64
    p.data[0] = 10
    assert src[0] == 1
    assert repr(p).startswith("Parameter(")


def test_named_parameters_in_assignment_order_with_dotted_names():
    net = TwoLayer()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight"]
    assert len(list(net.parameters())) == 4
    assert list(net.parameters())[1] is net.first.weight


def test_shared_parameter_listed_once():
    shared = Linear(2, 2)
    seq = Sequential(shared, Tanh(), shared)
    assert len(list(seq.parameters())) == 2


def test_typos_are_not_swallowed():
    net = TwoLayer()
    with pytest.raises(AttributeError):
        net.frist
    with pytest.raises(AttributeError):
        Linear(2, 3).wieght


def test_a_parameter_cannot_be_overwritten_by_a_plain_array():
    lin = Linear(2, 3)
    with pytest.raises(TypeError, match="weight"):
        lin.weight = np.zeros((3, 2))
    assert len(list(lin.parameters())) == 2
    lin.weight = Parameter(np.zeros((3, 2)))  # a Parameter may replace it
    lin.bias = None  # and None removes it
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_a_list_of_modules_is_refused_rather_than_silently_ignored():
    class Bad(Module):
        def __init__(self):
            super().__init__()
            self.blocks = [Linear(2, 2), Linear(2, 2)]

    with pytest.raises(TypeError, match=r"Bad\.blocks.*ModuleList"):
        Bad()


def test_linear_forward_and_gradients_match_numpy():
    rng = np.random.default_rng(0)
    lin = Linear(3, 4, rng=2)
    assert lin.weight.shape == (4, 3) and lin.bias.shape == (4,)
    x = rng.normal(size=(5, 3))
    y = lin(x)
    W, b = lin.weight.data, lin.bias.data
    np.testing.assert_allclose(y.data, x @ W.T + b, atol=1e-14)
    g = rng.normal(size=(5, 4))
    y.backward(g)
    np.testing.assert_allclose(lin.weight.grad.data, g.T @ x, atol=1e-13)
    np.testing.assert_allclose(lin.bias.grad.data, g.sum(0), atol=1e-13)
    # a single sample (1-D) takes the same values
    np.testing.assert_allclose(lin(x[1]).data, y.data[1], atol=1e-14)
    xt = al.Tensor(x, requires_grad=True)
    lin(xt).backward(g)
    np.testing.assert_allclose(xt.grad.data, g @ W, atol=1e-13)


def test_linear_arguments():
    assert Linear(2, 3, bias=False).bias is None
    with pytest.raises(ValueError, match="in_features"):
        Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        Linear(2, 2.5)
    with pytest.raises(ValueError, match="init"):
        Linear(2, 3, init="lecun")
    with pytest.raises(ValueError, match="shape"):
        Linear(2, 3, init=lambda shape, rng: np.zeros((2, 3)))
    lin = Linear(2, 3, init=lambda shape, rng: np.full(shape, 0.5))
    np.testing.assert_array_equal(lin.weight.data, 0.5)
    np.testing.assert_array_equal(lin.bias.data, 0.0)
    with pytest.raises(ValueError, match=r"Linear: input of shape \(4, 5\) .* in_features=2"):
        lin(np.ones((4, 5)))


def test_activations():
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(Sigmoid()(x).data, 1 / (1 + np.exp(-x)), atol=1e-15)
    np.testing.assert_allclose(Tanh()(x).data, np.tanh(x), atol=1e-15)
    np.testing.assert_array_equal(ReLU()(x).data, [0.0, 0.5, 3.0])


def test_sequential_container():
    a, b, c = Linear(2, 3), Tanh(), Linear(3, 1)
    seq = Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    assert list(seq) == [a, b, c]
    assert isinstance(seq[1:], Sequential) and seq[1:][0] is b
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = np.ones((4, 2))
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    with pytest.raises(TypeError, match="item 1"):
        Sequential(a, np.tanh)
    assert "Linear(in_features=2, out_features=3, bias=True)" in repr(seq)


def test_train_and_eval_reach_every_module():
    net = Sequential(Linear(2, 2), Sequential(Dropout(0.5), Tanh()))
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad():
    net = TwoLayer()
    net(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_dropout():
    with pytest.raises(ValueError, match="p"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="p"):
        Dropout(-0.1)
    with pytest.raises(ValueError, match="p"):
        Dropout(float("nan"))
    drop = Dropout(0.25, rng=0)
    x = al.Tensor(np.ones((200, 100)), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert abs(1 - kept.mean() - 0.25) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)  # inverted: E[y] = x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # gradient is the same mask
    drop.eval()
    assert drop(x) is x
    assert Dropout(0.0)(x) is x
    a, b = Dropout(0.5, rng=3)(np.ones(50)), Dropout(0.5, rng=3)(np.ones(50))
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dropout_keeps_the_floating_dtype_of_its_input(dtype):
    x = al.Tensor(np.linspace(1.0, 2.0, 40, dtype=dtype), requires_grad=True)
    y = Dropout(0.3, rng=7)(x)
    keep = np.random.default_rng(7).random(40) >= 0.3  # the same stream the layer draws from
    assert y.dtype == dtype
    expected = np.where(keep, x.data.astype(np.float64) / 0.7, 0)
    np.testing.assert_allclose(y.data, expected, rtol=2 * np.finfo(dtype).eps)  # 2 roundings
    y.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("p", [np.float32(0.5), np.float64(0.25), np.int64(0), 0, 0.5])
def test_dropout_accepts_any_real_number(p):
    assert Dropout(p).p == float(p)


@pytest.mark.parametrize("p", [True, False, np.bool_(False), "0.5", None, 1 + 0j, np.float32(1)])
def test_dropout_refuses_bools_non_numbers_and_out_of_range(p):
    with pytest.raises(ValueError, match=r"p must be a real number in \[0, 1\)"):
        Dropout(p)


def test_state_dict_is_a_copy():
    net = TwoLayer()
    state = net.state_dict()
    assert list(state) == [n for n, _ in net.named_parameters()]
    state["scale"][:] = 7
    assert np.all(net.scale.data == 1)


def test_load_state_dict_round_trip_keeps_the_same_arrays():
    a, b = TwoLayer(), TwoLayer()
    for p in a.parameters():
        p.data += 1
    array_before = b.first.weight.data
    b.load_state_dict(a.state_dict())
    assert b.first.weight.data is array_before  # copied in place: optimizers keep working
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda s: s.pop("second.weight"), KeyError),
        (lambda s: s.update(extra=np.ones(2)), KeyError),
        (lambda s: s.update({"second.weight": np.ones((3, 4))}), ValueError),
        (lambda s: s.update({"second.weight": np.array([["a"] * 4] * 2)}), TypeError),
    ],
)
def test_load_state_dict_mismatch_changes_nothing(change, error):
    net = TwoLayer()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    state = {k: v + 1 for k, v in before.items()}  # every entry would change something
    change(state)
    with pytest.raises(error):
        net.load_state_dict(state)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        TwoLayer().load_state_dict([("scale", np.ones(4))])


def _normal_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _normal_pdf(z):
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("low, high", [(-0.125, 0.125), (-1.0, 2.0), (0.5, 0.9), (-3.0, 3.0)])
def test_truncated_normal_matches_its_mean_and_variance(low, high):
    z = truncated_normal((200_000,), low, high, rng=0)
    assert z.min() >= low and z.max() <= high
    Z = _normal_cdf(high) - _normal_cdf(low)
    mean = (_normal_pdf(low) - _normal_pdf(high)) / Z
    var = 1 + (low * _normal_pdf(low) - high * _normal_pdf(high)) / Z - mean**2
    assert z.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / z.size))
    assert z.var() == pytest.approx(var, rel=0.02)


def test_truncated_normal_arguments():
    with pytest.raises(ValueError):
        truncated_normal((3,), 1.0, -1.0)
    with pytest.raises(ValueError):
        truncated_normal((3,), -1.0, 1.0, sd=0.0)
    t = truncated_normal((2, 3), 9.0, 11.0, mean=10.0, sd=2.0, rng=1)
    assert t.shape == (2, 3) and np.all((t >= 9) & (t <= 11))


def test_initialiser_scales():
    shape = (300, 400)
    w = tutorial_normal(shape, 0)
    assert np.abs(w).max() <= 1 / 20 and np.abs(w).max() > 0.049
    a = math.sqrt(6 / 700)
    w = xavier_uniform(shape, 0)
    assert np.abs(w).max() <= a and w.std() == pytest.approx(a / math.sqrt(3), rel=0.02)
    assert xavier_normal(shape, 0).std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)
    assert he_normal(shape, 0).std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert np.abs(he_uniform(shape, 0)).max() <= math.sqrt(6 / 400)
    assert np.abs(default_uniform(shape, 0)).max() <= 1 / 20
    np.testing.assert_array_equal(he_normal(shape, 5), he_normal(shape, 5))
