"""Custom operations through al.Function, to first and second order."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from custom_ops import Cube
from numeric import numeric_gradient

import autograd_lite as al


class ScaledExp(al.Function):
    """o = eˣ · c for a constant c; saves its output."""

    @staticmethod
    def forward(ctx, x, c):
        out = x.exp() * c
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out, None


def test_custom_op_first_derivative():
    x = al.Tensor([0.5, -1.5], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)


def test_custom_op_second_derivative_through_saved_input_and_output():
    x = al.Tensor([0.5, -1.5], requires_grad=True)
    Cube.apply(x).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)

    y = al.Tensor([0.3, 0.7], requires_grad=True)
    ScaledExp.apply(y, 2.0).sum().backward(create_graph=True)
    g = y.grad
    y.grad = None
    g.sum().backward()
    np.testing.assert_allclose(y.grad.data, 2 * np.exp(y.data))


def test_custom_op_inside_a_graph_matches_finite_differences():
    a = np.array([[0.2, -0.4], [0.9, 0.1]])
    x = al.Tensor(a, requires_grad=True)
    (Cube.apply(x.sigmoid()) * 2).sum().backward()

    def f(xs):
        return float(np.sum(2 * (1 / (1 + np.exp(-xs[0]))) ** 3))

    np.testing.assert_allclose(x.grad.data, numeric_gradient(f, [a], 0, 1e-6), rtol=1e-7)


def test_wrong_number_of_gradients_is_reported():
    class Bad(al.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = al.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"Bad\.backward returned 1 gradient"):
        Bad.apply(x, x).sum().backward()


def test_wrong_gradient_shape_is_reported():
    class BadShape(al.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)

    x = al.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"BadShape.backward.*\(5,\).*\(2,\)"):
        BadShape.apply(x).sum().backward()


def test_backward_releases_what_a_custom_op_saved():
    """The node of a Function drops its context (the saved tensors) once its rule has run,
    even while its output, and so the node, stays alive."""
    saved = []

    class SavesAnArray(al.Function):
        @staticmethod
        def forward(ctx, x):
            twice = x * 2.0
            saved.append(weakref.ref(twice))
            ctx.save_for_backward(twice)
            return x * 3.0

        @staticmethod
        def backward(ctx, grad):
            (twice,) = ctx.saved_tensors
            return grad * (twice / twice) * 3.0

    x = al.Tensor([1.0, 2.0], requires_grad=True)
    gc.disable()
    try:
        y = SavesAnArray.apply(x)
        loss = y.sum()
        assert saved[0]() is not None  # kept for the rule
        loss.backward()
        assert saved[0]() is None  # released by backward although y (and its node) lives on
        np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
        assert y.shape == (2,)
    finally:
        gc.enable()
