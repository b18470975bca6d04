"""Fuzz: random programs from ``graphs()`` against finite differences, to first and second order.

Two independent routes per order:

- first order: a central difference of ⟨w, f(x)⟩ for every input element, written here (not the
  toolkit's checker), against ``f(x).backward(w)``;
- second order: the toolkit's :func:`gradgradcheck`, and, written here, the Hessian-vector product
  from ``backward(create_graph=True)`` then ``backward()`` against the central difference
  (g(x + εu) − g(x − εu)) / 2ε of the first-order gradient g along a random direction u.

Example counts: ``max(100, profile's max_examples)`` per test, so 100 under the ``ci`` and ``dev``
profiles and 1000 under ``thorough``, the profile for local runs::

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numeric import numeric_gradient

import autograd_lite as al
from autograd_lite.testing import gradgradcheck
from autograd_lite.testing.strategies import graphs

EXAMPLES = max(100, settings().max_examples)
EPS = 1e-6
SEEDS = st.integers(0, 2**32 - 1)


def _leaves(inputs: tuple[al.Tensor, ...]) -> list[al.Tensor]:
    """Fresh float64 copies of the inputs, keeping which ones require grad."""
    return [al.Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad) for t in inputs]


def _weighted(fn, leaves: list[al.Tensor], w: np.ndarray) -> float:
    with al.no_grad():
        return float(np.sum(np.asarray(fn(*leaves).data) * w))


def _first_order(fn, leaves: list[al.Tensor], w: np.ndarray) -> list[np.ndarray]:
    """∂⟨w, f⟩/∂x for every input that requires grad, by backward."""
    out = fn(*leaves)
    if out.requires_grad:  # else no input that requires grad reaches the output: all zeros
        out.backward(w)
    return [
        np.zeros(x.shape) if x.grad is None else x.grad.data.copy()
        for x in leaves
        if x.requires_grad
    ]


def _setup(graph, seed: int):
    """The program, its inputs, fresh leaves, a random output weight w, and the leaves that
    require grad."""
    fn, inputs = graph
    rng = np.random.default_rng(seed)
    leaves = _leaves(inputs)
    with al.no_grad():
        out_shape = fn(*leaves).shape
    w = rng.standard_normal(out_shape)
    checked = [x for x in leaves if x.requires_grad]
    return fn, inputs, rng, leaves, w, checked


def _agree(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> bool:
    return bool(np.all(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)))


@settings(max_examples=EXAMPLES)
@given(graphs(), SEEDS)
def test_first_order_matches_central_differences(graph, seed):
    fn, _, _, leaves, w, checked = _setup(graph, seed)
    analytic = _first_order(fn, leaves, w)
    assert checked, "graphs() always draws an input that requires grad"

    def weighted(arrays: list[np.ndarray]) -> float:
        for x, a in zip(checked, arrays):
            x.data = a
        return _weighted(fn, leaves, w)

    base = [x.data.copy() for x in checked]
    for i, a in enumerate(analytic):
        numeric = numeric_gradient(weighted, base, i, EPS)
        assert _agree(a, numeric, 1e-5, 1e-4), f"{fn!r}\nanalytic {a}\nnumeric {numeric}"


@settings(max_examples=EXAMPLES)
@given(graphs(), SEEDS)
def test_second_order_hessian_vector_products_match_differences_of_gradients(graph, seed):
    fn, inputs, rng, leaves, w, checked = _setup(graph, seed)
    u = [rng.standard_normal(x.shape) for x in checked]
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in u))
    u = [d / norm for d in u]

    # analytic: g = ∂⟨w, f⟩/∂x recorded, then ∂⟨u, g⟩/∂x = H u
    out = fn(*leaves)
    if out.requires_grad:
        out.backward(w, create_graph=True)
    grads = [x.grad for x in checked]
    for x in checked:
        x.grad = None
    s = None
    for g, d in zip(grads, u):
        if g is not None and g.requires_grad:
            term = (g * d).sum()
            s = term if s is None else s + term
    if s is not None:
        s.backward()
    hu = [np.zeros(x.shape) if x.grad is None else x.grad.data.copy() for x in checked]

    # numeric: central difference of the first-order gradient along u
    step = 1e-5
    base = [x.data.copy() for x in checked]

    def gradient_at(sign: float) -> list[np.ndarray]:
        fresh = _leaves(inputs)
        moved = [x for x in fresh if x.requires_grad]
        for x, b, d in zip(moved, base, u):
            x.data = b + sign * step * d
        return _first_order(fn, fresh, w)

    up, down = gradient_at(1.0), gradient_at(-1.0)
    for a, p, m in zip(hu, up, down):
        numeric = (p - m) / (2 * step)
        assert _agree(a, numeric, 1e-5, 1e-3), f"{fn!r}\nH u {a}\nnumeric {numeric}"


@settings(max_examples=EXAMPLES)
@given(graphs())
def test_gradgradcheck_holds_on_random_programs(graph):
    fn, inputs = graph
    assert gradgradcheck(fn, inputs), repr(fn)
