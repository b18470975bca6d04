"""Indexing in every form NumPy accepts: the gradient scatter-adds exactly (repeats accumulate).

The reference is independent of the code under test: index an array of positions
``arange(size).reshape(shape)`` with the same index, then count each position's weight with
``np.bincount``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al
from autograd_lite.testing import strategies as als


def _expected(shape, index, w):
    size = int(np.prod(shape))
    positions = np.arange(size).reshape(shape)[index]
    return np.bincount(positions.ravel(), weights=np.ravel(w), minlength=size).reshape(shape)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
EXAMPLES = max(300, settings().max_examples)  # cheap examples; many index forms to cover


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_every_index_form_scatter_adds_exactly(data):
    shape = data.draw(shapes, label="shape")
    index = data.draw(als.indices(shape), label="index")
    x = al.Tensor(np.zeros(shape), requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, np.zeros(shape)[index])
    w = data.draw(hnp.arrays(np.float64, y.shape, elements=st.floats(-2, 2)), label="w")
    y.backward(w)
    np.testing.assert_allclose(x.grad.data, _expected(shape, index, w), rtol=1e-12, atol=1e-12)


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_index_gradients_are_differentiable_again(data):
    """With create_graph the scatter is recorded; its own gradient takes the same positions."""
    shape = data.draw(shapes, label="shape")
    index = data.draw(als.indices(shape), label="index")
    x = al.Tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), requires_grad=True)
    y = x[index]
    w = al.Tensor(np.ones(y.shape), requires_grad=True)
    y.backward(w, create_graph=True)
    g = x.grad
    u = np.arange(g.size, dtype=float).reshape(g.shape)
    (g * u).sum().backward()  # ∂/∂w of ⟨u, scatter(w)⟩ = u gathered at the index
    np.testing.assert_array_equal(w.grad.data, u[index])


@pytest.mark.parametrize(
    "index",
    [
        (slice(None), (1, 1)),  # a tuple inside the index tuple: advanced, column 1 twice
        ((0, 0), slice(None)),
        [[0, 1], [1, 1]],  # a nested list: a 2-D integer array
        (slice(None), [2, -1, 2]),  # negative entries
        ([0, 1, 1], [2, 2, 2]),  # two arrays broadcast together: (1, 2) twice
        ([1, 1], slice(None), None),
        (Ellipsis, (0, 0, 0)),
        (np.int64(1), [0, 0]),
        ([True, False], (2, 2)),  # a mask beside an integer array
        (slice(None), []),  # an empty list: an empty integer array, as in NumPy
        ((1, 1),),
    ],
    ids=repr,
)
def test_sequence_indices_accumulate(index):
    x = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[index]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, _expected((2, 3), index, np.ones(y.shape)))


def test_tuple_column_example():
    x = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x[:, (1, 1)].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 2, 0], [0, 2, 0]])  # column 1 was 1


def test_a_tensor_can_index():
    x = al.Tensor(np.arange(4.0), requires_grad=True)
    x[al.Tensor(np.array([3, 3, 0]))].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 0, 2])


def test_a_float_index_is_refused_before_recording():
    x = al.Tensor(np.arange(4.0), requires_grad=True)
    with pytest.raises(IndexError):
        x[[0.5, 1.0]]
