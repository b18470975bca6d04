"""NumPy's ufuncs and functions on Tensors: every entry of the dispatch tables records its op
and differentiates correctly; ``out=`` computes on data; anything else never drops a gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numeric import numeric_gradient

import autograd_lite as al
from autograd_lite import interop
from autograd_lite.layers import Linear

MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])

# How to call each entry that is not a plain unary or binary ufunc: input shapes and the call.
SPECIAL: dict[Any, tuple[list[tuple[int, ...]], Callable[..., Any]]] = {
    np.matmul: ([(3, 4), (4, 2)], lambda f, a, b: f(a, b)),
    np.sum: ([(3, 4)], lambda f, a: f(a, axis=1)),
    np.mean: ([(3, 4)], lambda f, a: f(a, axis=0, keepdims=True)),
    np.max: ([(3, 4)], lambda f, a: f(a, axis=1)),
    np.amax: ([(3, 4)], lambda f, a: f(a)),
    np.min: ([(3, 4)], lambda f, a: f(a, axis=0)),
    np.amin: ([(3, 4)], lambda f, a: f(a, 1, keepdims=True)),
    np.reshape: ([(3, 4)], lambda f, a: f(a, (4, 3))),
    np.transpose: ([(3, 4)], lambda f, a: f(a)),
    np.concatenate: ([(3, 4), (2, 4)], lambda f, a, b: f([a, b], axis=0)),
    np.stack: ([(3, 4), (3, 4)], lambda f, a, b: f([a, b], axis=1)),
    np.where: ([(3, 4), (3, 4)], lambda f, a, b: f(MASK, a, b)),
    np.clip: ([(3, 4)], lambda f, a: f(a, 0.8, 1.6)),
    np.dot: ([(3, 4), (4,)], lambda f, a, b: f(a, b)),
}
ENTRIES = [*interop.UFUNCS, *interop.FUNCTIONS]


def _spec(fn: Any) -> tuple[list[tuple[int, ...]], Callable[..., Any]]:
    if fn in SPECIAL:
        return SPECIAL[fn]
    if isinstance(fn, np.ufunc) and fn.nin == 1:
        return [(3, 4)], lambda f, a: f(a)
    if isinstance(fn, np.ufunc) and fn.nin == 2:
        return [(3, 4), (4,)], lambda f, a, b: f(a, b)  # broadcasting, undone in the gradient
    pytest.fail(f"numpy.{fn.__name__} is in the dispatch table but has no case in SPECIAL")


@pytest.mark.parametrize("fn", ENTRIES, ids=lambda f: f.__name__)
def test_every_dispatched_numpy_callable_matches_numpy_and_finite_differences(fn):
    shapes, call = _spec(fn)
    rng = np.random.default_rng(len(fn.__name__))
    arrays = [rng.uniform(0.5, 2.0, s) for s in shapes]  # inside every op's domain
    tensors = [al.Tensor(a, requires_grad=True) for a in arrays]
    out = call(fn, *tensors)
    expected = call(fn, *arrays)  # NumPy itself on plain arrays: the oracle
    assert isinstance(out, al.Tensor)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)
    if expected.dtype == bool:  # comparisons: an answer, recording nothing
        assert not out.requires_grad
        return
    weights = rng.standard_normal(expected.shape)
    (out * weights).sum().backward()
    for i, t in enumerate(tensors):

        def loss(xs: list[np.ndarray]) -> float:
            return float(np.sum(call(fn, *xs) * weights))

        np.testing.assert_allclose(
            t.grad.data, numeric_gradient(loss, arrays, i, 1e-6), rtol=1e-6, atol=1e-8
        )


@pytest.mark.parametrize(
    ("np_call", "method"),
    [
        (lambda t: np.exp(t), lambda t: t.exp()),
        (lambda t: np.sum(t, axis=0), lambda t: t.sum(axis=0)),
        (lambda t: np.reshape(t, (-1,)), lambda t: t.reshape(-1)),
        (lambda t: np.clip(t, 0.5, 1.0), lambda t: t.clip(0.5, 1.0)),
        (lambda t: np.ones(4) * t, lambda t: t * np.ones(4)),
        (lambda t: np.maximum(t, 1.0), lambda t: al.maximum(t, 1.0)),
    ],
)
def test_a_numpy_call_records_the_same_op_as_the_method(np_call, method):
    t = al.Tensor(np.linspace(0.1, 2.0, 12).reshape(3, 4), requires_grad=True)
    a, b = np_call(t), method(t)
    assert type(a._node) is type(b._node)
    np.testing.assert_array_equal(a.data, b.data)


def test_the_reductions_no_longer_trip_over_out_and_keep_the_graph():
    t = al.Tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    for f, value in ((np.sum, 11.0), (np.mean, 2.75), (np.max, 5.0), (np.min, 1.0)):
        r = f(t)
        assert isinstance(r, al.Tensor) and r.requires_grad and r.item() == value
    for r in (np.reshape(t, (4,)), np.clip(t, 2.0, 4.0), np.transpose(t)):
        assert isinstance(r, al.Tensor) and r.requires_grad


@pytest.mark.parametrize(
    "op",
    [
        lambda a, t: a + t, lambda a, t: a - t, lambda a, t: a * t, lambda a, t: a / t,
        lambda a, t: a**t, lambda a, t: a @ t, lambda a, t: np.float64(2.0) * t,
    ],
)  # fmt: skip
def test_ndarray_op_tensor_returns_a_tensor_with_the_gradient(op):
    a = np.array([1.5, 2.0, 2.5])
    t = al.Tensor([0.5, 1.0, 1.5], requires_grad=True)
    out = op(a, t)
    assert isinstance(out, al.Tensor) and out.requires_grad
    out.sum().backward()
    expected = numeric_gradient(lambda xs: float(np.sum(op(a, xs[0]))), [t.data], 0, 1e-6)
    np.testing.assert_allclose(t.grad.data, expected, rtol=1e-6)


def test_ndarray_compared_with_a_tensor_gives_a_tensor_of_bools():
    t = al.Tensor([0.0, 2.0], requires_grad=True)
    out = np.array([1.0, 1.0]) < t
    assert isinstance(out, al.Tensor) and not out.requires_grad
    np.testing.assert_array_equal(out.data, [False, True])


def test_out_ndarray_computes_on_data_and_records_nothing():
    w = al.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    array = w.data
    w.data -= 0.1 * w.grad  # micrograd's form: np.subtract(w.data, <Tensor>, out=w.data)
    assert w.data is array
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    assert isinstance(w.grad, al.Tensor)
    buffer = np.empty(2)
    result = np.multiply(w, 3.0, out=buffer)
    assert result is buffer
    np.testing.assert_allclose(buffer, [2.4, 4.8])
    total = np.sum(w, out=np.empty(()))
    assert type(total) is np.ndarray and total == pytest.approx(2.4)


def test_a_tensor_as_out_is_refused():
    w = al.Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="out= must be a plain ndarray"):
        np.add(w.data, 1.0, out=w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (np.sin, r"numpy\.sin\b"),
        (np.cumsum, r"numpy\.cumsum\b"),
        (np.add.reduce, r"numpy\.add\.reduce\b"),
        (lambda t: np.sum(t, dtype=np.float32), r"numpy\.sum\b"),  # an argument sum() lacks
        (lambda t: np.dot(t.reshape(2, 1, 2), t.reshape(2, 2, 1)), r"numpy\.dot\b"),
        (lambda t: np.linalg.norm(t), r"numpy\.linalg\.norm\b"),
    ],
)
def test_numpy_without_a_counterpart_refuses_to_drop_the_gradient(call, name):
    t = al.Tensor([0.5, 1.0, 1.5, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=name):
        call(t)
    y = t * 2  # a tensor with a graph: the same
    with pytest.raises(TypeError, match="differentiable counterpart"):
        np.sin(y)


def test_numpy_without_a_counterpart_computes_where_no_gradient_is_lost():
    x = np.array([0.5, 1.0, 1.5])
    t = al.Tensor(x)
    np.testing.assert_array_equal(np.sin(t), np.sin(x))  # no grad needed: NumPy's own result
    p = al.Tensor(x, requires_grad=True)
    with al.no_grad():
        np.testing.assert_array_equal(np.sin(p), np.sin(x))
    # answers that carry no gradient are given even for a tensor that requires grad
    assert np.argmax(p) == 2
    assert np.allclose(p, x)
    assert np.shape(p) == (3,)
    np.testing.assert_array_equal(np.isnan(p), [False, False, False])
    np.testing.assert_allclose(p, x)  # NumPy's testing helpers accept Tensors
    (idx,) = np.where(p > 0.7)
    np.testing.assert_array_equal(idx, [1, 2])


def test_tables_hold_numpy_callables_only():
    assert all(isinstance(f, np.ufunc) for f in interop.UFUNCS)
    assert all(callable(f) and not isinstance(f, np.ufunc) for f in interop.FUNCTIONS)
    named = {np.add, np.subtract, np.multiply, np.divide, np.power, np.negative, np.exp, np.log,
             np.sqrt, np.abs, np.tanh, np.maximum, np.minimum, np.matmul, np.dot, np.sum,
             np.mean, np.max, np.min, np.reshape, np.transpose, np.concatenate, np.stack,
             np.where, np.clip}  # fmt: skip
    assert named <= set(ENTRIES)


def test_a_linear_layer_accepts_numpy_reductions_of_its_output():
    lin = Linear(3, 2, rng=0)
    x = np.ones((4, 3))
    np.mean(lin(x) ** 2).backward()
    assert lin.weight.grad is not None and lin.weight.grad.shape == (2, 3)
