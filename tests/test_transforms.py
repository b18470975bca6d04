"""``jvp``, ``jacobian`` and ``hessian`` against finite differences and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import numeric_gradient

import autograd_lite as al


def numeric_jacobian(f_np, x: np.ndarray) -> np.ndarray:
    """Central differences, element by element of the output: shape ``out.shape + x.shape``."""
    out_shape = np.shape(f_np(x))
    rows = [
        numeric_gradient(lambda xs, k=k: float(np.ravel(f_np(xs[0]))[k]), [x], 0, 1e-6)
        for k in range(int(np.prod(out_shape)))
    ]
    return np.stack(rows).reshape(out_shape + x.shape)


def f_al(x):
    return (x * x).sum(axis=1) * x[:, 0] + x.tanh().sum(axis=1)


def f_np(x):
    return (x * x).sum(axis=1) * x[:, 0] + np.tanh(x).sum(axis=1)


X = np.array([[0.3, -1.2, 0.8], [1.5, 0.4, -0.7]])


def test_jacobian_has_output_shape_plus_input_shape_and_matches_finite_differences():
    jac = al.jacobian(f_al)(X)
    assert jac.shape == (2, 2, 3)
    np.testing.assert_allclose(jac, numeric_jacobian(f_np, X), rtol=1e-6, atol=1e-9)


def test_jacobian_of_a_matrix_valued_function():
    a = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    jac = al.jacobian(lambda x: al.matmul(a, x).exp())(np.array([[0.1, 0.2], [0.3, -0.4]]))
    assert jac.shape == (3, 2, 2, 2)
    expected = numeric_jacobian(lambda x: np.exp(a @ x), np.array([[0.1, 0.2], [0.3, -0.4]]))
    np.testing.assert_allclose(jac, expected, rtol=1e-6)


def test_jacobian_of_a_scalar_is_the_gradient_and_several_argnums_give_a_tuple():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    jx, jy = al.jacobian(lambda a, b: a * b * b, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(jx, np.diag(y * y))
    np.testing.assert_allclose(jy, np.diag(2 * x * y))
    g = al.jacobian(lambda a: (a**3).sum())(x)
    assert g.shape == (2,)
    np.testing.assert_allclose(g, 3 * x**2)


def test_jacobian_of_an_output_that_does_not_depend_on_the_input_is_zero():
    jac = al.jacobian(lambda a: al.Tensor(np.ones(3)))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(jac, np.zeros((3, 2)))


@pytest.mark.parametrize("seed", range(3))
def test_jvp_is_the_jacobian_times_v(seed):
    v = np.random.default_rng(seed).standard_normal(X.shape)
    out = al.jvp(f_al, X, v)
    assert out.shape == (2,)
    expected = numeric_jacobian(f_np, X).reshape(2, 6) @ v.reshape(6)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-9)


def test_jvp_of_a_linear_map_is_exact_for_any_output_shape():
    a = np.arange(12.0).reshape(2, 3, 2)
    v = np.array([0.5, -2.0])
    np.testing.assert_allclose(al.jvp(lambda x: al.Tensor(a) @ x, np.array([1.0, 1.0]), v), a @ v)
    scalar = al.jvp(lambda x: (x * x).sum(), np.array([1.0, 3.0]), v)
    assert scalar.shape == ()
    assert scalar == pytest.approx(2 * (1.0 * 0.5 + 3.0 * -2.0))


def test_jvp_where_the_output_ignores_the_input_is_zero():
    out = al.jvp(lambda x: al.Tensor(np.ones((2, 2))), np.array([1.0]), np.array([1.0]))
    np.testing.assert_array_equal(out, np.zeros((2, 2)))


def test_jvp_checks_its_arguments():
    with pytest.raises(ValueError, match=r"jvp: v has shape \(3,\), x has shape \(2,\)"):
        al.jvp(lambda x: x * 2, np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="jvp: the function must return a Tensor"):
        al.jvp(lambda x: 1.0, np.ones(2), np.ones(2))


def test_hessian_matches_the_closed_form():
    a = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, -1.0], [1.0, 0.0, 1.0]])
    x = np.array([0.2, -0.5, 1.0])
    h = al.hessian(lambda t: t.exp().sum() + 0.5 * (t @ (al.Tensor(a) @ t)))(x)
    np.testing.assert_allclose(h, np.diag(np.exp(x)) + (a + a.T) / 2, rtol=1e-12)


def test_hessian_of_a_matrix_input_has_shape_input_plus_input():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    h = al.hessian(lambda t: (t**3).sum())(x)
    assert h.shape == (2, 2, 2, 2)
    expected = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            expected[i, j, i, j] = 6 * x[i, j]
    np.testing.assert_allclose(h, expected)


def test_hessian_matches_finite_differences_of_the_gradient_formula():
    x = np.array([0.3, -0.8, 1.1])

    def grad_np(z):  # ∇ of Σ tanh(z) z₀ by hand
        g = (1 - np.tanh(z) ** 2) * z[0]
        g[0] += np.tanh(z).sum()
        return g

    h = al.hessian(lambda t: t.tanh().sum() * t[0])(x)
    np.testing.assert_allclose(h, numeric_jacobian(grad_np, x), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)


def test_hessian_with_several_argnums_is_a_nested_tuple_of_blocks():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (haa, hab), (hba, hbb) = al.hessian(lambda x, y: (x * y * y).sum(), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(haa, np.zeros((2, 2)))
    np.testing.assert_allclose(hab, np.diag(2 * b))
    np.testing.assert_allclose(hba, np.diag(2 * b))
    np.testing.assert_allclose(hbb, np.diag(2 * a))


def test_hessian_of_a_linear_function_is_zero_and_a_non_scalar_is_refused():
    h = al.hessian(lambda t: (t * 3.0).sum())(np.ones(2))
    np.testing.assert_array_equal(h, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="hessian: the function must return a single element"):
        al.hessian(lambda t: t * 2)(np.ones(2))
    with pytest.raises(IndexError, match="argnums 3"):
        al.jacobian(lambda t: t, argnums=3)(np.ones(2))
