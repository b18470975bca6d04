"""Negative and mixed-sign axes for every op that takes axes: the gradient matches central
finite differences, and bad axes raise an error naming the op."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numeric import numeric_gradient

import autograd_lite as al
from autograd_lite.testing import strategies as als

AxisError = np.exceptions.AxisError


def _negative(axis, ndim):
    """``axis`` with at least its first axis written negative (``-1`` for ``ndim - 1``)."""
    if isinstance(axis, tuple):
        return (axis[0] - ndim if axis[0] >= 0 else axis[0], *axis[1:])
    return axis - ndim if axis >= 0 else axis


# op name -> (fn(tensors, axis), how many inputs, extra axes the op's axis may point at,
#             whether the axis is one int)
OPS = {
    "sum": (lambda xs, ax: xs[0].sum(axis=ax), 1, 0, False),
    "mean": (lambda xs, ax: xs[0].mean(axis=ax, keepdims=True), 1, 0, False),
    "max": (lambda xs, ax: xs[0].max(axis=ax), 1, 0, False),
    "min": (lambda xs, ax: xs[0].min(axis=ax, keepdims=True), 1, 0, False),
    "softmax": (lambda xs, ax: xs[0].softmax(axis=ax), 1, 0, True),
    "log_softmax": (lambda xs, ax: al.log_softmax(xs[0], ax), 1, 0, True),
    "concatenate": (lambda xs, ax: al.concatenate(xs, axis=ax), 2, 0, True),
    "stack": (lambda xs, ax: al.stack(xs, axis=ax), 2, 1, True),
    "transpose": (lambda xs, ax: xs[0].transpose(*ax), 1, 0, None),
}


@pytest.mark.parametrize("name", OPS)
@given(data=st.data())
def test_negative_axes_give_the_right_gradient(name, data):
    fn, n_inputs, extra, single = OPS[name]
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape) + extra
    if single is None:
        axis = data.draw(als.axis_permutations(ndim))
    else:
        axis = data.draw(als.axes(ndim, single=single).filter(lambda a: a is not None))
    axis = _negative(axis, ndim)
    n = int(np.prod(shape))
    arrays = [  # distinct values: no ties for max and min
        (np.arange(n) * 0.37 % 1.3 + k).reshape(shape) for k in range(n_inputs)
    ]
    out = fn([al.Tensor(a) for a in arrays], axis)
    w = np.random.default_rng(0).standard_normal(out.shape)
    leaves = [al.Tensor(a, requires_grad=True) for a in arrays]
    fn(leaves, axis).backward(w)

    def projected(xs):
        return float(np.sum(fn([al.Tensor(x) for x in xs], axis).data * w))

    for i, t in enumerate(leaves):
        numeric = numeric_gradient(projected, arrays, i, 1e-6)
        np.testing.assert_allclose(t.grad.data, numeric, rtol=1e-6, atol=1e-8)


def test_transpose_with_a_negative_axis_example():
    x = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x.transpose(-1, 0) * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 2, 4], [1, 3, 5]])


BAD = [
    ("sum", lambda t: t.sum(axis=2), AxisError),
    ("sum", lambda t: t.sum(axis=(0, -2)), ValueError),
    ("mean", lambda t: t.mean(axis=-3), AxisError),
    ("max", lambda t: t.max(axis=(1, 1)), ValueError),
    ("min", lambda t: t.min(axis=(-1, 5)), AxisError),
    ("softmax", lambda t: t.softmax(axis=-3), AxisError),
    ("log_softmax", lambda t: t.log_softmax(axis=2), AxisError),
    ("transpose", lambda t: t.transpose(-1, 1), ValueError),
    ("transpose", lambda t: t.transpose(0, 2), AxisError),
    ("transpose", lambda t: t.transpose(0), ValueError),
    ("transpose", lambda t: t.transpose(0.0, 1), TypeError),
    ("concatenate", lambda t: al.concatenate([t, t], axis=-3), AxisError),
    ("stack", lambda t: al.stack([t, t], axis=3), AxisError),
]


@pytest.mark.parametrize(("name", "call", "error"), BAD, ids=[f"{b[0]}-{i}" for i, b in
                                                             enumerate(BAD)])  # fmt: skip
def test_bad_axes_name_the_op(name, call, error):
    t = al.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(error, match=name):
        call(t)
    assert t.grad is None and t.data.flags.writeable  # nothing was recorded
