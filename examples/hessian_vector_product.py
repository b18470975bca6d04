r"""Hessian-vector products without forming the Hessian.

For the Rosenbrock function f(x) = Σᵢ [100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²], ``al.hvp(f, x, v)``
computes ∇²f(x) · v by differentiating ⟨∇f(x), v⟩ once more (a second backward pass through the
recorded first one). We check it against the Hessian written out by hand and against a central
difference of gradients, (∇f(x + hv) − ∇f(x − hv)) / 2h.

Run: ``python examples/hessian_vector_product.py``.
"""

from __future__ import annotations

import numpy as np

import autograd_lite as al


def rosenbrock(x: al.Tensor) -> al.Tensor:
    r"""f(x) = Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²."""
    a, b = x[:-1], x[1:]
    return (100 * (b - a * a) ** 2 + (1 - a) ** 2).sum()


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    """The Hessian of :func:`rosenbrock`, derived by hand."""
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] -= 400 * x[i]
        H[i + 1, i] -= 400 * x[i]
    return H


def main(quick: bool = False) -> np.ndarray:
    """Compare three ways of computing ∇²f(x) · v; return the autodiff one."""
    rng = np.random.default_rng(0)
    n = 5 if quick else 50
    x, v = rng.normal(size=n), rng.normal(size=n)
    hv = al.hvp(rosenbrock, x, v)
    exact = rosenbrock_hessian(x) @ v
    g = al.grad(rosenbrock)
    h = 1e-5
    numeric = (g(x + h * v) - g(x - h * v)) / (2 * h)
    print(f"n = {n}: |hvp − H v| = {np.abs(hv - exact).max():.2e}, "
          f"|hvp − finite difference| = {np.abs(hv - numeric).max():.2e}")  # fmt: skip
    np.testing.assert_allclose(hv, exact, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(hv, numeric, rtol=1e-5, atol=1e-4)
    assert hv.shape == x.shape
    return hv


if __name__ == "__main__":
    main()
