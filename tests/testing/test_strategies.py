"""The Hypothesis strategies draw what they promise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite.testing import strategies as als


@given(als.tensors(min_value=-1, max_value=1, requires_grad=True, max_dims=2, max_side=3))
def test_tensors_respect_their_bounds(x):
    assert isinstance(x, al.Tensor) and x.requires_grad and x.dtype == np.float64
    assert x.ndim <= 2 and all(1 <= n <= 3 for n in x.shape)
    assert np.all(np.abs(x.data) <= 1)


@given(als.tensors((2, 3), dtype=np.float32, requires_grad=st.booleans()))
def test_tensors_with_a_fixed_shape_and_dtype(x):
    assert x.shape == (2, 3) and x.dtype == np.float32


@given(st.data())
def test_broadcastable_shapes_broadcast(data):
    shape = data.draw(st.sampled_from([(3, 1), (2, 3), (4,), ()]))
    other = data.draw(als.broadcastable_shapes(shape, max_dims=3))
    np.broadcast_shapes(shape, other)  # raises if they do not fit


@given(als.graphs(max_ops=6))
def test_graphs_are_pure_and_readable(graph):
    fn, inputs = graph
    assert any(x.requires_grad for x in inputs)
    first, second = fn(*inputs), fn(*inputs)
    np.testing.assert_array_equal(first.data, second.data)
    assert np.all(np.isfinite(first.data))
    text = repr(fn)
    assert text.startswith("Program(") and "return v" in text
    assert text.count("= input") == len(inputs)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="max_ops"):
        als.graphs(max_ops=0)
    with pytest.raises(ValueError, match="min_value"):
        als.tensors(min_value=2, max_value=1)
    with pytest.raises(TypeError, match="only floating"):
        als.tensors(dtype=np.int64, requires_grad=True)


def test_testing_imports_without_hypothesis():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import autograd_lite as al\n"
        "assert al.testing.gradcheck(lambda x: x.tanh(), al.Tensor([0.5], requires_grad=True))\n"
        "try:\n    al.testing.strategies\nexcept ImportError:\n    print('no hypothesis')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "no hypothesis" in done.stdout
