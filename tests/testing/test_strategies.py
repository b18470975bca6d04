"""The Hypothesis strategies draw what they promise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import Phase, find, given, seed, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.ops.checks import checks_of
from autograd_lite.testing import check_gradients
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


DRAWABLE = [
    cls.__name__
    for cls in ops.ALL_OPS
    if any(form.graph is not None for form in checks_of(cls).forms)
]


def test_graphs_draw_every_op_that_declares_a_call():
    """Over 600 programs from a fixed seed, every op whose checks declare a call shows up."""
    seen: set[str] = set()

    @seed(0)
    @settings(max_examples=600, database=None, deadline=None)
    @given(als.graphs())
    def collect(graph):
        seen.update(graph[0].ops)

    collect()
    assert len(DRAWABLE) > 40
    assert sorted(set(DRAWABLE) - seen) == []
    assert seen <= set(DRAWABLE)


@pytest.mark.parametrize("name", DRAWABLE)
def test_graphs_restricted_to_one_op_draw_only_it(name):
    fn, inputs = find(
        als.graphs(min_ops=2, max_ops=2, ops=[name]),
        lambda graph: name in graph[0].ops,
        settings=settings(max_examples=300, database=None, phases=[Phase.generate]),
    )
    assert set(fn.ops) == {name}
    report = check_gradients(fn, inputs)
    assert report.passed and not report.kinks, f"{fn!r}\n{report}"


def test_graphs_take_op_classes_too():
    fn, _ = find(
        als.graphs(min_ops=1, max_ops=1, ops=[ops.Stack]),
        lambda graph: graph[0].ops == ("Stack",),
        settings=settings(max_examples=300, database=None),
    )
    assert "stack(xs, axis) on " in repr(fn) and " with axis=" in repr(fn)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="'Nope'"):
        als.graphs(ops=["Nope"])
    with pytest.raises(ValueError, match="BroadcastTo declares no form"):
        als.graphs(ops=[ops.BroadcastTo])
    with pytest.raises(ValueError, match="no op to draw"):
        als.graphs(ops=[])
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


@given(st.data())
def test_axes_are_valid_and_take_either_sign(data):
    ndim = data.draw(st.integers(1, 4))
    axis = data.draw(als.axes(ndim))
    one = data.draw(als.axes(ndim, single=True))
    perm = data.draw(als.axis_permutations(ndim))
    np.zeros((2,) * ndim).sum(axis=axis)  # NumPy accepts them (raises otherwise)
    assert -ndim <= one < ndim
    assert sorted(p % ndim for p in perm) == list(range(ndim))


def _parts(index):
    return index if type(index) is tuple else (index,)


def _array_like(part):
    """An advanced (array-valued) index part: an array, list or tuple with at least one axis."""
    return isinstance(part, (np.ndarray, list, tuple)) and np.ndim(part) > 0


INDEX_FORMS = {
    "tuple inside the index": lambda i: (
        type(i) is tuple and any(isinstance(p, tuple) and len(p) > 1 for p in i)
    ),
    "nested list": lambda i: any(
        isinstance(p, list) and p and isinstance(p[0], list) for p in _parts(i)
    ),
    "list at the top": lambda i: isinstance(i, list),
    "NumPy integer scalar": lambda i: any(isinstance(p, np.integer) for p in _parts(i)),
    "negative int": lambda i: any(type(p) is int and p < 0 for p in _parts(i)),
    "bool mask array": lambda i: any(
        isinstance(p, np.ndarray) and p.dtype == bool and p.ndim for p in _parts(i)
    ),
    "bool mask list": lambda i: any(
        isinstance(p, list) and p and isinstance(p[0], bool) for p in _parts(i)
    ),
    "0-d bool": lambda i: any(isinstance(p, (bool, np.bool_)) for p in _parts(i)),
    "None": lambda i: any(p is None for p in _parts(i)),
    "ellipsis": lambda i: any(p is Ellipsis for p in _parts(i)),
    "negative step": lambda i: any(isinstance(p, slice) and (p.step or 1) < 0 for p in _parts(i)),
    "repeated integer array": lambda i: any(
        isinstance(p, np.ndarray) and p.dtype.kind == "i" and len(np.unique(p)) < p.size
        for p in _parts(i)
    ),
    "two arrays split by a slice": lambda i: (
        type(i) is tuple
        and len(i) >= 3
        and _array_like(i[0])
        and isinstance(i[1], slice)
        and _array_like(i[2])
    ),
    "empty list": lambda i: any(isinstance(p, list) and not p for p in _parts(i)),
}


@pytest.mark.parametrize("form", INDEX_FORMS)
def test_indices_draw_every_form(form):
    found = find(als.indices((3, 4, 2)), INDEX_FORMS[form], settings=settings(max_examples=5000))
    np.zeros((3, 4, 2))[found]  # a valid index


@given(st.data())
def test_indices_are_valid(data):
    shape = data.draw(st.lists(st.integers(1, 4), max_size=3).map(tuple))
    index = data.draw(als.indices(shape, allow_empty=False))
    np.zeros(shape)[index]  # NumPy accepts it (raises otherwise)
    assert isinstance(als.index_text(index), str)
