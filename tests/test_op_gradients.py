"""Every op's first and second derivatives against central finite differences, in float64,
over mutually broadcastable shapes and domain-safe values (see ``op_cases.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numeric import numeric_gradient
from op_cases import CASES

import autograd_lite as al


def _leaves(arrays):
    return [al.Tensor(a, requires_grad=True) for a in arrays]


def _grad_or_zeros(t):
    return np.zeros_like(t.data) if t.grad is None else np.asarray(t.grad.data)


def _draw(case, data):
    arrays, kwargs = data.draw(case.inputs, label="inputs")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    return [np.array(a, dtype=np.float64) for a in arrays], kwargs, rng


def _first_order(case, arrays, kwargs, w):
    """Gradients of ⟨w, f(x)⟩ with respect to every input, by backward()."""
    tensors = _leaves(arrays)
    out = case.fn(*tensors, **kwargs)
    out.backward(w)
    return [_grad_or_zeros(t) for t in tensors]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_first_derivative_matches_finite_differences(case, data):
    arrays, kwargs, rng = _draw(case, data)
    out_shape = case.fn(*[al.Tensor(a) for a in arrays], **kwargs).shape
    w = rng.standard_normal(out_shape)
    analytic = _first_order(case, arrays, kwargs, w)

    def projected(xs):
        return float(np.sum(case.fn(*[al.Tensor(x) for x in xs], **kwargs).data * w))

    for i, grad in enumerate(analytic):
        numeric = numeric_gradient(projected, arrays, i, eps=1e-6)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_second_derivative_matches_finite_differences_of_first(case, data):
    arrays, kwargs, rng = _draw(case, data)
    out_shape = case.fn(*[al.Tensor(a) for a in arrays], **kwargs).shape
    w = rng.standard_normal(out_shape)
    us = [rng.standard_normal(a.shape) for a in arrays]

    # Analytic: S(x) = Σᵢ ⟨uᵢ, ∂⟨w, f⟩/∂xᵢ⟩ built with create_graph=True, then differentiated.
    tensors = _leaves(arrays)
    case.fn(*tensors, **kwargs).backward(w, create_graph=True)
    s = sum(((t.grad * u).sum() for t, u in zip(tensors, us) if t.grad is not None), al.Tensor(0.0))
    for t in tensors:
        t.grad = None
    if s.requires_grad:
        s.backward()
    analytic = [_grad_or_zeros(t) for t in tensors]

    def s_numeric(xs):
        grads = _first_order(case, xs, kwargs, w)
        return float(sum(np.sum(g * u) for g, u in zip(grads, us)))

    for i, grad in enumerate(analytic):
        numeric = numeric_gradient(s_numeric, arrays, i, eps=1e-5)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5, err_msg=f"input {i}")
