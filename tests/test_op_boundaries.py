"""Each op at the boundaries of its domain (exact ties, kinks, clip bounds, base 0 of pow),
first and second order, against the convention stated independently in ``op_cases.py``
(PyTorch's values at those points)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_cases import BOUNDARY_CASES

import autograd_lite as al


def _leaves(arrays):
    return [al.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def _grad(t):
    return np.zeros_like(t.data) if t.grad is None else t.grad.data


def _sum_to(g, shape):
    """An independent undoing of broadcasting: sum g over the axes that shape lacks or has as 1."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def _draw(case, data):
    arrays, kwargs = data.draw(case.inputs, label="inputs")
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    shape = case.fn(*[al.Tensor(a) for a in arrays], **kwargs).shape
    w = data.draw(st.sampled_from([1.0, -0.5, 2.0]), label="w") * np.ones(shape)
    return arrays, kwargs, w


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_first_derivative_at_the_boundaries(case, data):
    arrays, kwargs, w = _draw(case, data)
    leaves = _leaves(arrays)
    case.fn(*leaves, **kwargs).backward(w)
    expected = case.grad(w, *np.broadcast_arrays(*arrays), **kwargs)
    for i, (t, e) in enumerate(zip(leaves, expected)):
        np.testing.assert_allclose(_grad(t), _sum_to(e, t.shape), rtol=1e-12, atol=0,
                                   err_msg=f"input {i}")  # fmt: skip


@pytest.mark.parametrize("case", [c for c in BOUNDARY_CASES if c.second], ids=lambda c: c.name)
@given(data=st.data())
def test_second_derivative_at_the_boundaries(case, data):
    arrays, kwargs, w = _draw(case, data)
    us = [data.draw(st.sampled_from([1.0, -2.0]), label="u") * np.ones(a.shape) for a in arrays]
    leaves = _leaves(arrays)
    case.fn(*leaves, **kwargs).backward(w, create_graph=True)
    grads = [t.grad for t in leaves]
    assert all(np.all(np.isfinite(g.data)) for g in grads if g is not None)
    for t in leaves:
        t.grad = None
    s = sum(((g * u).sum() for g, u in zip(grads, us) if g is not None), al.Tensor(0.0))
    if s.requires_grad:
        s.backward()
    if case.hessian is None:
        expected = [np.zeros(a.shape) for a in arrays]
    else:
        expected = case.hessian(w, us[0], *arrays)
    for i, (t, e) in enumerate(zip(leaves, expected)):
        np.testing.assert_allclose(_grad(t), e, rtol=1e-12, atol=0, err_msg=f"input {i}")


def test_pow_examples_take_pytorchs_values():
    x = al.Tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])  # was NaN at 0
    x = al.Tensor(0.0, requires_grad=True)
    (x**1).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert g.item() == 1.0 and x.grad.item() == 0.0  # the second derivative was NaN
    a = al.Tensor([0.0, 0.0], requires_grad=True)
    b = al.Tensor([0.0, 2.0], requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [0.0, 0.0])  # was NaN and -inf
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    e = al.Tensor([0.0, 1.0, 2.0], requires_grad=True)
    (0.0**e).sum().backward()  # raised "math domain error"
    np.testing.assert_array_equal(e.grad.data, [0.0, 0.0, 0.0])


def test_pow_with_a_negative_scalar_base_gives_nan_with_a_warning():
    e = al.Tensor([1.0, 2.0], requires_grad=True)
    y = (-2.0) ** e
    np.testing.assert_array_equal(y.data, [-2.0, 4.0])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        y.sum().backward()  # (−2)ˣ has no real derivative in x: NaN, as in PyTorch
    assert np.all(np.isnan(e.grad.data))
