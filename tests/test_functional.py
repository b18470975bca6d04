"""grad, value_and_grad and hvp against independent formulas."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al


def test_grad_of_one_and_several_arguments():
    f = lambda x, y: (x * x * y).sum()  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(al.grad(f)(x, y), 2 * x * y)
    gx, gy = al.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, 2 * x * y)
    np.testing.assert_allclose(gy, x * x)


def test_value_and_grad_returns_float_value():
    value, g = al.value_and_grad(lambda x: (x**2).sum())(np.array([3.0]))
    assert value == 9.0 and isinstance(value, float)
    np.testing.assert_allclose(g, [6.0])


def test_grad_of_unused_argument_is_zero_and_python_numbers_work():
    assert al.grad(lambda x, y: al.Tensor(x) * 2.0, argnums=1)(1.0, 5) == 0.0
    assert al.grad(lambda x: x * x)(3) == 6.0


def test_grad_rejects_non_scalar_output():
    with pytest.raises(ValueError, match="single element"):
        al.grad(lambda x: x * 2)(np.ones(3))


def test_hvp_matches_hessian_times_vector():
    # f(x) = Σ x³ + x₀ x₁  →  H = diag(6x) + [[0,1],[1,0]]
    f = lambda x: (x**3).sum() + x[0] * x[1]  # noqa: E731
    x, v = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    hessian = np.diag(6 * x) + np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(al.hvp(f, x, v), hessian @ v)


def test_hvp_of_linear_function_is_zero():
    np.testing.assert_array_equal(al.hvp(lambda x: (2 * x).sum(), np.ones(2), np.ones(2)), 0.0)


def test_hvp_through_sigmoid_network_matches_finite_differences():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4))

    def f(x):
        return al.squared_error(al.sigmoid(x @ w), np.full(4, 0.5))

    x, v = rng.standard_normal(3), rng.standard_normal(3)
    eps = 1e-5
    fd = (al.grad(f)(x + eps * v) - al.grad(f)(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(al.hvp(f, x, v), fd, rtol=1e-6, atol=1e-9)
