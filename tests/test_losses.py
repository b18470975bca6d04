"""Fused losses agree with the same math built from primitive ops, and stay finite at extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al

shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)
REDUCE = {"sum": lambda t: t.sum(), "mean": lambda t: t.mean(), "none": lambda t: t}


def _both(fused, primitive, arrays, grad_shape_from=None):
    """Values and input gradients of two implementations, on fresh leaves."""
    results = []
    for impl in (fused, primitive):
        leaves = [al.Tensor(a, requires_grad=True) for a in arrays]
        out = impl(*leaves)
        out.backward(np.ones(out.shape))
        results.append((out.data, [leaf.grad.data for leaf in leaves]))
    return results


@given(shapes.flatmap(lambda s: st.tuples(hnp.arrays(float, s, elements=st.floats(-3, 3)),
                                          hnp.arrays(float, s, elements=st.floats(-3, 3)))),
       st.sampled_from(["sum", "mean", "none"]))  # fmt: skip
def test_squared_error_and_mse_match_primitives(pair, reduction):
    red = REDUCE[reduction]
    (v1, g1), (v2, g2) = _both(
        lambda o, t: al.squared_error(o, t, reduction),
        lambda o, t: red(0.5 * (t - o) ** 2),
        pair,
    )
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    (v1, g1), (v2, g2) = _both(
        lambda o, t: al.mse_loss(o, t, reduction), lambda o, t: red((o - t) ** 2), pair
    )
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_squared_error_gradient_is_prediction_minus_target():
    o = al.Tensor([0.2, 0.9], requires_grad=True)
    t = np.array([0.01, 0.99])
    loss = al.squared_error(o, t)
    assert loss.item() == pytest.approx(0.5 * ((0.01 - 0.2) ** 2 + (0.99 - 0.9) ** 2))
    loss.backward()
    np.testing.assert_allclose(o.grad.data, o.data - t, rtol=1e-15)


@given(shapes.flatmap(lambda s: st.tuples(hnp.arrays(float, s, elements=st.floats(0.01, 0.99)),
                                          hnp.arrays(float, s, elements=st.floats(0, 1)))),
       st.sampled_from(["sum", "mean", "none"]))  # fmt: skip
def test_binary_cross_entropy_matches_primitives(pair, reduction):
    (v1, g1), (v2, g2) = _both(
        lambda p, t: al.binary_cross_entropy(p, t, reduction),
        lambda p, t: REDUCE[reduction](-(t * p.log() + (1 - t) * (1 - p).log())),
        pair,
    )
    np.testing.assert_allclose(v1, v2, rtol=1e-10, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from(["sum", "mean", "none"]), st.data())
def test_cross_entropy_matches_primitives(n, c, reduction, data):
    x = data.draw(hnp.arrays(float, (n, c), elements=st.floats(-20, 20)))
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    onehot = np.eye(c)[y]
    (v1, g1), (v2, g2) = _both(
        lambda x: al.cross_entropy(x, y, reduction),
        lambda x: REDUCE[reduction](-(x.log_softmax(-1) * onehot).sum(axis=-1)),
        [x],
    )
    np.testing.assert_allclose(v1, v2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g1[0], g2[0], rtol=1e-10, atol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    x = al.Tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = al.cross_entropy(x, np.array([1]))
        loss.backward()
    assert loss.item() == pytest.approx(2e4)
    np.testing.assert_allclose(x.grad.data, [[1.0, -1.0, 0.0]], atol=1e-12)


def test_binary_cross_entropy_is_finite_at_zero_and_one():
    p = al.Tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", invalid="raise"):
        loss = al.binary_cross_entropy(p, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0])
    assert np.all(np.isfinite(p.grad.data))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: al.squared_error(al.Tensor(np.ones((3, 1))), np.ones(3)), ValueError,
         r"squared_error.*\(3, 1\).*\(3,\)"),
        (lambda: al.mse_loss(al.Tensor(np.ones(2)), np.ones(2), reduction="avg"), ValueError,
         "reduction"),
        (lambda: al.cross_entropy(al.Tensor(np.ones((2, 3))), np.array([0, 3])), ValueError,
         r"labels must lie in \[0, 3\)"),
        (lambda: al.cross_entropy(al.Tensor(np.ones((2, 3))), np.array([0.0, 1.0])), TypeError,
         "integer"),
        (lambda: al.cross_entropy(al.Tensor(np.ones((2, 3))), np.array([0])), ValueError,
         "labels shape"),
        (lambda: al.binary_cross_entropy(al.Tensor([0.5, 1.5]), np.ones(2)), ValueError,
         r"probabilities must lie in \[0, 1\]"),
        (lambda: al.binary_cross_entropy(al.Tensor([0.5, np.nan]), np.ones(2)), ValueError,
         "NaN"),
    ],
)  # fmt: skip
def test_bad_loss_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
