"""Every built-in op as a test case: a function of Tensors and a Hypothesis strategy for inputs
that stay inside the op's domain and away from its kinks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.ops.checks import checks_of
from autograd_lite.testing import strategies as als


def values(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


def away_from_zero(shape, low=0.2, high=2.0):
    """Values with |x| in [low, high]: no kink of relu/abs and no tiny divisor in reach."""
    mag = hnp.arrays(np.float64, shape, elements=st.floats(low, high))
    sign = hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))
    return st.tuples(mag, sign).map(lambda ms: ms[0] * ms[1])


def distinct(shape):
    """Values at least 0.1 apart, so max/min have no ties within the stencil."""
    n = int(np.prod(shape))
    return st.permutations(list(range(n))).map(
        lambda p: ((np.array(p, dtype=np.float64) - n // 2) * 0.1).reshape(shape)
    )


small_shape = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def broadcast_pair(draw, elements_a=values, elements_b=values):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a_shape, b_shape = shapes.input_shapes
    return draw(elements_a(a_shape)), draw(elements_b(b_shape))


@st.composite
def one(draw, elements=values, shape=small_shape):
    return (draw(elements(draw(shape))),)


@st.composite
def with_axis(draw, elements=values):
    """An input and an axis argument: None, an int or a tuple, with mixed signs (``(-1, 0)``)."""
    shape = draw(small_shape)
    x = draw(elements(shape))
    return (x,), {"axis": draw(als.axes(len(shape))), "keepdims": draw(st.booleans())}


@st.composite
def with_single_axis(draw, elements=values):
    shape = draw(small_shape)
    return (draw(elements(shape)),), {"axis": draw(als.axes(len(shape), single=True))}


@st.composite
def with_permutation(draw):
    shape = draw(small_shape)
    return (draw(values(shape)),), {"axes": draw(als.axis_permutations(len(shape)))}


@st.composite
def matmul_pair(draw):
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["2d", "vec-mat", "mat-vec", "vec-vec", "batched"]))
    a_shape, b_shape = {
        "2d": ((m, k), (k, n)),
        "vec-mat": ((k,), (k, n)),
        "mat-vec": ((m, k), (k,)),
        "vec-vec": ((k,), (k,)),
        "batched": ((2, m, k), (1, k, n)),
    }[kind]
    return draw(values(a_shape)), draw(values(b_shape))


@st.composite
def index_case(draw):
    """Every index form NumPy accepts (see ``autograd_lite.testing.strategies.indices``)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    return (draw(values(shape)),), {"index": draw(als.indices(shape))}


@st.composite
def sequence_case(draw, stacked=0):
    """Inputs for concatenate (``stacked=0``) or stack (``stacked=1``: one more axis to pick)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    n = draw(st.integers(1, 3))
    axis = draw(als.axes(len(shape) + stacked, single=True))
    return tuple(draw(values(shape)) for _ in range(n)), {"axis": axis}


@st.composite
def loss_case(draw, pred=values, target=values):
    shape = draw(small_shape)
    reduction = draw(st.sampled_from(["sum", "mean", "none"]))
    return (draw(pred(shape)), draw(target(shape))), {"reduction": reduction}


@st.composite
def cross_entropy_case(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    one_sample = draw(st.booleans())
    shape = (c,) if one_sample else (n, c)
    labels = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, c - 1)))
    reduction = draw(st.sampled_from(["sum", "mean", "none"]))
    return (draw(values(shape, -5, 5)),), {"labels": labels, "reduction": reduction}


def shifted(shape):
    return distinct(shape).map(lambda v: v + 0.05)


def off_clip_bounds(shape):
    return values(shape).map(lambda v: np.where(np.abs(np.abs(v) - 0.5) < 0.1, v + 0.2, v))


def probabilities(shape):
    return values(shape, 0.05, 0.95)


def _args(strategy):
    """Normalise a strategy to one that draws (arrays, kwargs)."""
    return strategy.map(
        lambda v: v if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], dict) else (v, {})
    )


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable[..., Any]
    inputs: st.SearchStrategy[Any]
    differentiable: tuple[int, ...] | None = None  # which inputs get gradients (None: all)


CASES: list[OpCase] = []  # filled from ops.ALL_OPS at the end of this module


# -- domain boundaries: exact ties, kinks, clip bounds and base 0 ------------------------------
#
# At these points finite differences do not apply; each case states the convention (PyTorch's)
# as an independent formula: ``grad(w, *arrays, **kwargs)`` is ∂⟨w, f⟩/∂ each input, and
# ``hessian(w, u, *arrays)`` the second derivative along u where it is not zero (the other ops
# are piecewise linear there). Second derivatives of aᵇ in b at a = 0 are NaN in PyTorch (they
# meet 0 · log 0): those cases check the first order only.


def on_boundaries(points, low=-2.0, high=2.0):
    """Arrays whose elements are often exactly one of ``points`` (a tie, a kink, a bound)."""
    pick = st.sampled_from(list(points)) | st.floats(low, high)
    return lambda shape: hnp.arrays(np.float64, shape, elements=pick)


ties = on_boundaries([-1.0, 0.0, 1.0], -1.0, 1.0)  # few distinct values: many ties


def _reduced_rows(a, axis):
    """``a`` with the reduced axes moved last and flattened: shape (rest..., n)."""
    axes = (
        tuple(range(a.ndim))
        if axis is None
        else tuple(ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
    )
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    return moved.reshape(moved.shape[: len(rest)] + (-1,)), rest + list(axes), moved.shape


def _extreme_grad(largest):
    """Ties share the gradient evenly (PyTorch's max()/amax): a loop over the output elements."""

    def grad(w, a, axis, keepdims):
        rows, order, moved_shape = _reduced_rows(a, axis)
        w_rows = np.reshape(w, rows.shape[:-1])
        out = np.zeros(rows.shape)
        for pos in np.ndindex(rows.shape[:-1]):
            row = rows[pos]
            hit = np.flatnonzero(row == (row.max() if largest else row.min()))
            out[pos + (hit,)] = w_rows[pos] / hit.size
        return [np.transpose(out.reshape(moved_shape), np.argsort(order))]

    return grad


def _pair_grad(largest):
    """maximum/minimum: the winner gets ḡ, a tie gives each side ½ ḡ (PyTorch's rule)."""

    def grad(w, a, b):
        wins = a > b if largest else a < b
        ga = np.where(a == b, 0.5 * w, np.where(wins, w, 0.0))
        return [ga, w - ga]

    return grad


@dataclass(frozen=True)
class BoundaryCase:
    name: str
    fn: Callable[..., Any]
    inputs: st.SearchStrategy[Any]
    grad: Callable[..., list[np.ndarray]]
    hessian: Callable[..., list[np.ndarray]] | None = None  # ∂²⟨w, f⟩ · u, if not zero
    second: bool = True  # False: the second derivative is NaN there in PyTorch too


def _same_shape_pair(elements_a, elements_b):
    return small_shape.flatmap(lambda s: st.tuples(elements_a(s), elements_b(s)))


def _pow_base_grad(w, a, b):
    """∂(aᵇ)/∂a with a ≥ 0: b aᵇ⁻¹, which at a = 0 is 1 for b = 1 and 0 for b = 0 or b > 1."""
    safe = np.where(a == 0, 1.0, a)
    return np.where(a == 0, np.where(b == 1, 1.0, 0.0), b * safe ** (b - 1)) * w


def _pow_grads(w, a, b):
    safe = np.where(a == 0, 1.0, a)
    gb = np.where(a == 0, 0.0, a**b * np.log(safe)) * w  # 0ᵇ is 0 or 1 for b ≥ 0: no slope
    return [_pow_base_grad(w, a, b), gb]


def _int_power(k):
    """x**k at 0 for a Python scalar k: its rule, its second derivative and the function."""

    def f(a):
        return a**k

    def grad(w, a):
        return [np.zeros_like(a) if k == 0 else k * a ** (k - 1) * w]

    def hessian(w, u, a):
        return [np.zeros_like(a) if k < 2 else k * (k - 1) * a ** (k - 2) * w * u]

    return f, grad, hessian


base_or_zero = on_boundaries([0.0], 0.5, 2.0)
exponents = on_boundaries([0.0, 1.0, 2.0, 3.0], 1.0, 3.0)

BOUNDARY_CASES = [
    BoundaryCase(
        "max-ties", lambda a, axis, keepdims: a.max(axis, keepdims), with_axis(ties),
        _extreme_grad(True),
    ),
    BoundaryCase(
        "min-ties", lambda a, axis, keepdims: a.min(axis, keepdims), with_axis(ties),
        _extreme_grad(False),
    ),
    BoundaryCase("maximum-ties", al.maximum, _args(broadcast_pair(ties, ties)), _pair_grad(True)),
    BoundaryCase("minimum-ties", al.minimum, _args(broadcast_pair(ties, ties)), _pair_grad(False)),
    BoundaryCase("maximum-self", lambda a: al.maximum(a, a), _args(one(ties)),
                 lambda w, a: [w * 1.0]),
    BoundaryCase("abs-at-0", lambda a: a.abs(), _args(one(ties)), lambda w, a: [np.sign(a) * w]),
    BoundaryCase("relu-at-0", al.relu, _args(one(ties)), lambda w, a: [(a > 0) * w]),
    BoundaryCase(  # the gradient passes at exactly low and high, as in PyTorch's clamp
        "clip-at-bounds", lambda a: a.clip(-0.5, 0.5), _args(one(on_boundaries([-0.5, 0.5]))),
        lambda w, a: [((a >= -0.5) & (a <= 0.5)) * w],
    ),
    BoundaryCase(
        "clip-low-only", lambda a: a.clip(0.5, None), _args(one(on_boundaries([0.5]))),
        lambda w, a: [(a >= 0.5) * w],
    ),
    BoundaryCase("pow-base-0", lambda a, b: a**b, _args(_same_shape_pair(base_or_zero, exponents)),
                 _pow_grads, second=False),
    *[
        BoundaryCase(f"pow-x**{k!r}-at-0", _int_power(k)[0], _args(one(on_boundaries([0.0]))),
                     *_int_power(k)[1:])
        for k in (0, 1, 2, 3, 0.0, 1.0, 2.0)
    ],
    BoundaryCase(  # PyTorch: ∂(0ˣ)/∂x = 0 for x ≥ 0
        "rpow-base-0", lambda b: 0.0 ** b, _args(one(on_boundaries([0.0, 1.0], 0.0, 2.0))),
        lambda w, b: [np.zeros_like(b)], second=False,
    ),
]  # fmt: skip


# -- convolution, pooling, and the newer activations, reductions and losses -----------------------


@st.composite
def conv_case(draw):
    n, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), 5))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), 5))
    arrays = [draw(values((n, c, h, w))), draw(values((k, c, kh, kw)))]
    if draw(st.booleans()):
        arrays.append(draw(values((k,))))
    return tuple(arrays), {"stride": stride, "padding": padding}


@st.composite
def pool_case(draw, elements=values):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.none() | st.tuples(st.integers(1, 2), st.integers(1, 2)))
    h, w = draw(st.integers(kernel[0], 5)), draw(st.integers(kernel[1], 5))
    x = draw(elements((draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)))
    return (x,), {"kernel_size": kernel, "stride": stride}


@st.composite
def differing_by(draw, gap, reduction=True):
    """(prediction, target) whose difference d keeps |d| off ``gap`` (the loss's kink)."""
    shape = draw(small_shape)
    t = draw(values(shape))
    d = draw(away_from_zero(shape, 0.1, 0.8)) + draw(
        hnp.arrays(np.float64, shape, elements=st.sampled_from([-gap, 0.0, gap]))
    )
    kwargs = {"reduction": draw(st.sampled_from(["sum", "mean", "none"]))} if reduction else {}
    return (t + d, t), kwargs


def nll_case():
    return cross_entropy_case()


# -- every op's forms, drawn as the op's checks declare ----------------------------------------


def push_away(a, points, gap):
    """``a`` with every element closer than ``gap`` to one of ``points`` moved to ``gap``."""
    for p in points:
        a = np.where(np.abs(a - p) < gap, p + np.where(a >= p, gap, -gap), a)
    return a


def elements(v):
    """Arrays (a function of the shape) whose elements lie where :class:`Values` ``v`` says."""
    if v.distinct:
        return distinct
    low = v.low if np.isfinite(v.low) else -2.0
    high = v.high if np.isfinite(v.high) else 2.0
    gap = max(v.margin, 0.2)
    if not v.avoid:
        return lambda shape: values(shape, low, high)
    return lambda shape: values(shape, low, high).map(lambda a: push_away(a, v.avoid, gap))


def _elementwise(form):
    els = [elements(v) for v in form.values]
    if form.arity == 1:
        return one(els[0])
    if form.apart == (0.0,):  # no ties: distinct values, the other side shifted off them
        return broadcast_pair(distinct, shifted)
    return broadcast_pair(*els)


def _loss(form):
    if form.apart:
        return differing_by(form.apart[0])
    return loss_case(*(elements(v) for v in form.values))


INPUTS = {
    "elementwise": _elementwise,
    "axis": lambda f: with_axis(elements(f.values[0])),
    "single_axis": lambda f: with_single_axis(elements(f.values[0])),
    "permutation": lambda f: with_permutation(),
    "index": lambda f: index_case(),
    "matmul": lambda f: matmul_pair(),
    "sequence": lambda f: sequence_case(),
    "stack": lambda f: sequence_case(stacked=1),
    "loss": _loss,
    "labels": lambda f: cross_entropy_case(),
    "conv": lambda f: conv_case(),
    "pool": lambda f: pool_case(elements(f.values[0])),
}

CASES += [
    OpCase(f"{cls.__name__}: {form.text}", form.fn, _args(INPUTS[form.inputs](form)))
    for cls in ops.ALL_OPS
    for form in checks_of(cls).forms
]
