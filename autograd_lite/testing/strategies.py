r"""Hypothesis strategies for property tests of autograd_lite code (the ``hypothesis`` extra).

>>> from hypothesis import given
>>> from autograd_lite.testing import gradcheck
>>> from autograd_lite.testing.strategies import graphs
>>> @given(graphs())
... def test_backward_matches_finite_differences(graph):
...     fn, inputs = graph
...     assert gradcheck(fn, inputs)

- :func:`tensors` draws Tensors (shape, dtype, value range, ``requires_grad``).
- :func:`broadcastable_shapes` draws shapes that broadcast against a given shape.
- :func:`indices` draws every kind of index NumPy accepts for a given shape.
- :func:`axes` and :func:`axis_permutations` draw axis arguments (``None``, an int, a tuple;
  a transpose's permutation) with either sign.
- :func:`graphs` draws ``(fn, inputs)``: a random program over the built-in ops (shared
  subexpressions, broadcasting, reductions, indexing, matmul, losses) and the input Tensors it
  runs on. Every op is kept inside its domain and away from its kinks *at the drawn values*
  (the program is evaluated while it is drawn), so ``gradcheck(fn, inputs)`` holds. ``fn`` is
  pure and its ``repr`` is the program, one line per op, for readable failure reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import ops as fx
from ..ops import ALL_OPS, conv
from ..ops import losses as lo
from ..ops import reductions as red
from ..ops.checks import MARGIN, Form, checks_of
from ..tensor import Tensor

__all__ = [
    "Program",
    "axes",
    "axis_permutations",
    "broadcastable_shapes",
    "graphs",
    "index_text",
    "indices",
    "tensors",
]

Shape = tuple[int, ...]


def tensors(
    shape: Shape | st.SearchStrategy[Shape] | None = None,
    *,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    requires_grad: bool | st.SearchStrategy[bool] = False,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
) -> st.SearchStrategy[Tensor]:
    r"""Tensors of ``dtype`` with finite elements in [min_value, max_value].

    ``shape`` is a fixed shape, a strategy of shapes, or ``None`` for any shape with
    ``min_dims``–``max_dims`` axes of ``min_side``–``max_side`` elements. ``requires_grad``
    is a bool or a strategy of bools (only floating dtypes may require grad).
    """
    dt = np.dtype(dtype)
    if not min_value <= max_value:
        raise ValueError(f"tensors: min_value {min_value} is greater than max_value {max_value}")
    if shape is None:
        shapes: st.SearchStrategy[Shape] = hnp.array_shapes(
            min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
        )
    elif isinstance(shape, st.SearchStrategy):
        shapes = shape
    else:
        shapes = st.just(tuple(int(n) for n in shape))
    if dt.kind == "f":
        elements: st.SearchStrategy[Any] = st.floats(
            min_value, max_value, allow_nan=False, allow_infinity=False, width=8 * dt.itemsize
        )
    elif dt.kind in "iu":
        elements = st.integers(int(np.ceil(min_value)), int(np.floor(max_value)))
    else:
        raise TypeError(f"tensors: dtype must be floating or integer, got {dt}")
    grads = (
        requires_grad if isinstance(requires_grad, st.SearchStrategy) else st.just(requires_grad)
    )
    if dt.kind != "f" and requires_grad is True:
        raise TypeError(f"tensors: only floating dtypes can require grad, got {dt}")
    return st.builds(
        lambda arr, rg: Tensor(arr, requires_grad=bool(rg) and dt.kind == "f"),
        hnp.arrays(dt, shapes, elements=elements),
        grads,
    )


def broadcastable_shapes(
    shape: Shape,
    *,
    min_dims: int = 0,
    max_dims: int | None = None,
    min_side: int = 1,
    max_side: int | None = None,
) -> st.SearchStrategy[Shape]:
    r"""Draw shapes that broadcast against ``shape`` under NumPy's rules.

    Sides of 1, missing leading axes, and longer shapes whose trailing axes fit).
    """
    shape = tuple(int(n) for n in shape)
    return hnp.broadcastable_shapes(
        shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def axes(ndim: int, *, single: bool = False) -> st.SearchStrategy[Any]:
    r"""Axis arguments for ``ndim``-D data, each axis as often negative (``-1``) as not.

    With ``single`` an int in [−ndim, ndim); else also ``None`` and tuples of distinct axes
    in any order and with mixed signs (``(-1, 0)``), the forms the reductions take.
    """
    if ndim == 0:
        return st.just(None) if not single else st.nothing()
    one = st.integers(-ndim, ndim - 1)
    if single:
        return one

    def signed(perm: list[int]) -> st.SearchStrategy[tuple[int, ...]]:
        flips = st.lists(st.booleans(), min_size=len(perm), max_size=len(perm))
        return flips.map(lambda f: tuple(a - ndim if neg else a for a, neg in zip(perm, f)))

    subsets = st.permutations(list(range(ndim))).flatmap(
        lambda p: st.integers(1, ndim).flatmap(lambda k: signed(p[:k]))
    )
    return st.none() | one | subsets


def axis_permutations(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Transpose axes for ``ndim``-D data: a permutation, each axis drawn with either sign."""
    return st.permutations(list(range(ndim))).flatmap(
        lambda p: st.lists(st.booleans(), min_size=ndim, max_size=ndim).map(
            lambda f: tuple(a - ndim if neg else a for a, neg in zip(p, f))
        )
    )


def _as_tuples(v: Any) -> Any:
    return tuple(_as_tuples(x) for x in v) if isinstance(v, list) else v


@st.composite
def _int_part(draw: Any, n: int, shape: Shape, nested: bool) -> Any:
    """Draw an integer-array index for an axis of length ``n``.

    As an array, a (nested) list or, inside an index tuple (``nested``), a (nested) tuple; values
    may repeat and be negative.
    """
    arr = np.asarray(draw(hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1))))
    forms = ["array", "list", "int32"] + (["tuple", "tuple"] if nested else [])
    form = draw(st.sampled_from(forms))
    if arr.ndim == 0 and draw(st.booleans()):
        return draw(st.sampled_from([int(arr), np.int64(arr), np.int32(arr)]))
    if form == "array":
        return arr
    if form == "int32":
        return arr.astype(np.int32)
    return arr.tolist() if form == "list" else _as_tuples(arr.tolist())


@st.composite
def indices(draw: Any, shape: Shape, *, allow_empty: bool = True) -> Any:
    r"""Draw indices ``x[index]`` that NumPy accepts for an array of ``shape``, of every form.

    Ints (Python and NumPy, negative too), slices (negative bounds and steps), ``None``,
    ``...``, boolean masks (arrays or lists, over one or more axes, and 0-d ``True``/``False``),
    and integer arrays, lists, tuples and nested sequences with repeats and negative entries,
    mixed in one index tuple (integer arrays that broadcast together, next to each other or
    split by a slice). With ``allow_empty``, empty integer lists and masks with no ``True``
    may occur too. A bare index (not a tuple) is drawn as well.
    """
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    side = st.sampled_from([0, 1, 2, 3, 2, 3] if allow_empty else [1, 2, 3])
    adv_shape = tuple(draw(st.lists(side, min_size=0, max_size=2)))
    parts: list[Any] = []
    kinds: list[str] = []
    dim = 0
    used_mask = False
    while dim < ndim:
        n = shape[dim]
        kind = draw(st.sampled_from(["full", "int", "slice", "array", "array", "mask", "stop"]))
        if kind == "stop":
            break
        if kind == "int" and n > 0:
            k = draw(st.integers(-n, n - 1))
            parts.append(draw(st.sampled_from([k, np.int64(k), np.intp(k)])))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            step = st.none() | st.sampled_from([1, 2, -1, -2])
            parts.append(slice(draw(bound), draw(bound), draw(step)))
        elif kind == "array" and n > 0:
            sub = tuple(  # broadcasts against adv_shape: trailing sides kept or set to 1
                m if draw(st.booleans()) else 1
                for m in adv_shape[draw(st.integers(0, len(adv_shape))) :]
            )
            parts.append(draw(_int_part(n, sub, nested=True)))
        elif kind == "mask" and not used_mask:
            mask, span = _mask_part(draw, shape, dim, allow_empty)
            parts.append(mask)
            kinds.append("mask")
            used_mask = True
            dim += span
            continue
        else:
            parts.append(slice(None))
        kinds.append(kind)
        dim += 1
    if used_mask and "array" in kinds:  # the mask's count must broadcast with the arrays: 1 does
        i = kinds.index("mask")
        one = np.zeros(np.shape(parts[i]), dtype=bool)
        one.flat[draw(st.integers(0, max(one.size - 1, 0)))] = one.size > 0
        parts[i] = one
    index = _index_of(draw, parts, dim < ndim, allow_empty)
    try:
        np.zeros(shape)[index]
    except (IndexError, ValueError):  # integer arrays whose shapes do not broadcast together
        assume(False)
    return index


def _mask_part(draw: Any, shape: Shape, dim: int, allow_empty: bool) -> tuple[Any, int]:
    """Draw a boolean mask over one or more axes from ``dim``, and the number of axes it spans."""
    span = draw(st.integers(1, len(shape) - dim))
    mshape = shape[dim : dim + span]
    size = int(np.prod(mshape))
    count = draw(st.integers(0 if allow_empty else min(1, size), size))
    flat = np.zeros(size, dtype=bool)
    flat[draw(st.permutations(list(range(size))))[:count]] = True
    mask = flat.reshape(mshape)
    return (mask.tolist() if draw(st.booleans()) else mask), span


def _index_of(draw: Any, parts: list[Any], room: bool, allow_empty: bool) -> Any:
    """Return the index made of ``parts``, with ``...`` (if ``room``), ``None`` and 0-d masks."""
    if room and draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        extra = draw(st.sampled_from([None, None, True, False, np.True_]))
        if extra is not None and not allow_empty and not extra:
            extra = True
        parts.insert(draw(st.integers(0, len(parts))), extra)
    index: Any = tuple(parts)
    if len(parts) == 1 and draw(st.booleans()):
        index = parts[0]
        if isinstance(index, tuple):  # a bare tuple would be the index tuple: a list instead
            index = list(index)
    return index


def index_text(index: Any) -> str:
    """``index`` as it would be written between brackets (for readable program listings)."""

    def part(p: Any) -> str:
        if isinstance(p, slice):
            text = ":".join("" if v is None else str(v) for v in (p.start, p.stop))
            return text if p.step is None else f"{text}:{p.step}"
        if p is Ellipsis:
            return "..."
        if isinstance(p, np.ndarray):
            return f"np.array({p.tolist()}, dtype={p.dtype})"
        if isinstance(p, np.generic):
            return f"np.{type(p).__name__}({p})"
        return repr(p)

    if type(index) is tuple:
        return ", ".join(part(p) for p in index) if index else "()"
    return part(index)


# -- random programs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    args: tuple[int, ...]
    fn: Callable[..., Tensor]
    text: str


class Program:
    r"""A straight-line program over the built-in ops; ``program(*inputs)`` runs it.

    Values are numbered ``v0, v1, …`` in the order they appear; inputs are values too (an op
    such as matmul may bring in a new input of the right shape). ``repr`` shows one line per
    value.
    """

    def __init__(self) -> None:
        self._events: list[tuple[str, int | _Step]] = []
        self.n_inputs = 0
        self.n_ops = 0

    def _add_input(self) -> None:
        self._events.append(("input", self.n_inputs))
        self.n_inputs += 1

    def _add_step(self, step: _Step) -> None:
        self._events.append(("step", step))
        self.n_ops += 1

    def _input_positions(self) -> list[tuple[int, int]]:
        return [(v, item) for v, (kind, item) in enumerate(self._events) if kind == "input"]  # type: ignore[misc]

    def _is_input(self, v: int) -> bool:
        return self._events[v][0] == "input"

    def _used(self) -> set[int]:
        used: set[int] = set()
        for kind, item in self._events:
            if kind == "step":
                used.update(item.args)  # type: ignore[union-attr]
        return used

    def __call__(self, *inputs: Tensor) -> Tensor:
        """Run the program on ``inputs`` and return its last value."""
        if len(inputs) != self.n_inputs:
            raise TypeError(f"Program: expected {self.n_inputs} inputs, got {len(inputs)}")
        env: list[Tensor] = []
        for kind, item in self._events:
            if kind == "input":
                env.append(inputs[item])  # type: ignore[index]
            else:
                step: _Step = item  # type: ignore[assignment]
                env.append(step.fn(*(env[i] for i in step.args)))
        return env[-1]

    def __repr__(self) -> str:
        """Return the program, one line per value."""
        lines = []
        for v, (kind, item) in enumerate(self._events):
            if kind == "input":
                lines.append(f"v{v} = input {item}")
            else:
                step: _Step = item  # type: ignore[assignment]
                names = {f"{{{k}}}": f"v{a}" for k, a in enumerate(step.args)}
                text = step.text
                for key, name in names.items():
                    text = text.replace(key, name)
                lines.append(f"v{v} = {text}")
        lines.append(f"return v{len(self._events) - 1}")
        return "Program(\n  " + "\n  ".join(lines) + "\n)"


LIMIT = 50.0  # largest magnitude an intermediate value may take


def _gap_ok(a: np.ndarray, axis: Any, largest: bool) -> bool:
    """Tell whether the extreme over ``axis`` beats the runner-up.

    ``axis`` is None, an int or a tuple, either sign; it must beat the runner-up by at least MARGIN
    (no ties).
    """
    if axis is None:
        axis = tuple(range(a.ndim))
    axis = tuple(ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
    rest = [i for i in range(a.ndim) if i not in axis]
    flat = np.transpose(a, rest + list(axis)).reshape([a.shape[i] for i in rest] + [-1])
    if flat.shape[-1] < 2:
        return True
    s = np.sort(flat, axis=-1)
    gap = s[..., -1] - s[..., -2] if largest else s[..., 1] - s[..., 0]
    return bool(np.all(gap >= MARGIN))


def _graph_forms(arity: int) -> list[Form]:
    """Return the elementwise forms of every op in ``ALL_OPS`` that random programs may draw."""
    return [
        form
        for cls in ALL_OPS
        for form in checks_of(cls).forms
        if form.graph and form.inputs == "elementwise" and form.arity == arity
    ]


_UNARY = _graph_forms(1)
_BINARY = _graph_forms(2)


def _unary(draw: Any, a: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    form = draw(st.sampled_from(_UNARY))
    return (form.fn, form.text) if form.admits(a) else None


def _binary(draw: Any, a: np.ndarray, b: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    form = draw(st.sampled_from([*_BINARY, None]))  # None: where, with a drawn condition
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return None
    if int(np.prod(shape)) > 36:
        return None
    if form is not None:
        return (form.fn, form.text) if form.admits(a, b) else None
    cond = np.asarray(draw(hnp.arrays(bool, shape)))
    return (lambda x, y: fx.where(cond, x, y)), f"where({cond.tolist()}, {{0}}, {{1}})"


def _reduce(draw: Any, a: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    name = draw(st.sampled_from(["sum", "mean", "max", "min", "softmax", "log_softmax"]))
    keep = draw(st.booleans())
    if name in ("softmax", "log_softmax"):
        if a.ndim == 0:
            return None
        ax = draw(axes(a.ndim, single=True))
        return (lambda x: getattr(x, name)(axis=ax)), f"{{0}}.{name}(axis={ax})"
    axis = draw(axes(a.ndim))
    if name in ("max", "min") and not _gap_ok(a, axis, name == "max"):
        return None
    return (lambda x: getattr(x, name)(axis=axis, keepdims=keep)), (
        f"{{0}}.{name}(axis={axis}, keepdims={keep})"
    )


def _index(draw: Any, a: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    index = draw(indices(a.shape, allow_empty=False))
    return (lambda x: x[index]), f"{{0}}[{index_text(index)}]"


def _shape_op(draw: Any, a: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    name = draw(st.sampled_from(["flatten", "transpose", "T", "reshape"]))
    if name == "flatten" or a.ndim < 2:
        return (lambda x: x.flatten()), "{0}.flatten()"
    if name == "T":
        return (lambda x: x.T), "{0}.T"
    if name == "transpose":
        perm = draw(axis_permutations(a.ndim))
        return (lambda x: x.transpose(*perm)), f"{{0}}.transpose{perm}"
    return (lambda x: x.reshape(-1, 1)), "{0}.reshape(-1, 1)"


def _join(draw: Any, a: np.ndarray, b: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    if a.shape != b.shape or a.ndim == 0 or 2 * a.size > 36:
        return None
    if draw(st.booleans()):
        ax = draw(axes(a.ndim + 1, single=True))
        return (lambda x, y: fx.stack([x, y], axis=ax)), f"stack([{{0}}, {{1}}], axis={ax})"
    ax = draw(axes(a.ndim, single=True))
    return (lambda x, y: fx.concatenate([x, y], axis=ax)), (
        f"concatenate([{{0}}, {{1}}], axis={ax})"
    )


def _loss(draw: Any, a: np.ndarray, b: np.ndarray) -> tuple[Callable[..., Tensor], str] | None:
    name = draw(st.sampled_from(["squared_error", "mse_loss", "bce", "cross_entropy"]))
    if name in ("squared_error", "mse_loss"):
        if a.shape != b.shape:
            return None
        f = fx.squared_error if name == "squared_error" else fx.mse_loss
        return (lambda x, y: f(x, y)), f"{name}({{0}}, {{1}})"
    if name == "bce":
        if float(np.abs(a).max()) > 4:
            return None
        target = np.asarray(draw(hnp.arrays(np.float64, a.shape, elements=st.floats(0, 1))))
        return (lambda x: fx.binary_cross_entropy(x.sigmoid(), target)), (
            f"binary_cross_entropy(sigmoid({{0}}), {np.round(target, 3).tolist()})"
        )
    if a.ndim not in (1, 2):
        return None
    labels = np.asarray(
        draw(hnp.arrays(np.int64, a.shape[:-1], elements=st.integers(0, a.shape[-1] - 1)))
    )
    return (lambda x: fx.cross_entropy(x, labels)), f"cross_entropy({{0}}, {labels.tolist()})"


def _window_gaps_ok(image: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> bool:
    """Whether every window's maximum beats its runner-up by at least MARGIN (no ties)."""
    w = conv.windows(image, kernel, stride)
    flat = np.sort(w.reshape(w.shape[:4] + (-1,)), axis=-1)
    return flat.shape[-1] < 2 or bool(np.all(flat[..., -1] - flat[..., -2] >= MARGIN))


Made = tuple[Callable[..., Tensor], str]


def _newer(draw: Any, a: np.ndarray, b: np.ndarray) -> tuple[Made, str] | None:
    """Convolution, pooling, and the newer reduction and losses, with which values they take.

    ``"a"`` (one), ``"ab"`` (two) or ``"aw"`` (one, and a new conv2d weight input).
    """
    name = draw(st.sampled_from([
        "logsumexp", "nll_loss", "l1_loss", "huber_loss", "conv2d", "max_pool2d", "avg_pool2d",
    ]))  # fmt: skip
    if name == "logsumexp":
        if a.ndim == 0:
            return None
        axis = draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
        return ((lambda x: red.logsumexp(x, axis)), f"logsumexp({{0}}, axis={axis})"), "a"
    if name == "nll_loss":
        if a.ndim not in (1, 2):
            return None
        labels = np.asarray(
            draw(hnp.arrays(np.int64, a.shape[:-1], elements=st.integers(0, a.shape[-1] - 1)))
        )
        return ((lambda x: lo.nll_loss(x, labels)), f"nll_loss({{0}}, {labels.tolist()})"), "a"
    if name in ("l1_loss", "huber_loss"):
        if a.shape != b.shape:
            return None
        gap = np.abs(a - b) - (0.0 if name == "l1_loss" else 1.0)
        if float(np.abs(gap).min()) < MARGIN:
            return None
        loss = lo.l1_loss if name == "l1_loss" else lo.huber_loss
        return ((lambda x, y: loss(x, y)), f"{name}({{0}}, {{1}})"), "ab"
    hw = a.shape if a.ndim == 2 else (1, a.size)
    image = a.reshape((1, 1) + hw)
    kernel = (draw(st.integers(1, min(2, hw[0]))), draw(st.integers(1, min(3, hw[1]))))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if name == "conv2d":
        return (
            (lambda x, w: _conv_flat(x, w, hw, stride)),
            f"conv2d({{0}}, {{1}}, {stride})",
        ), "aw"
    if name == "max_pool2d" and not _window_gaps_ok(image, kernel, stride):
        return None
    reduce = conv.max_pool2d if name == "max_pool2d" else conv.avg_pool2d

    def pool(x: Tensor) -> Tensor:
        out = reduce(x.reshape((1, 1) + hw), kernel, stride)
        return out.reshape(out.shape[2:])

    return (pool, f"{name}({{0}}, {kernel}, {stride})"), "a"


def _conv_flat(x: Tensor, w: Tensor, hw: tuple[int, int], stride: tuple[int, int]) -> Tensor:
    """conv2d of x seen as a one-channel image, padding 1, its channels stacked as rows."""
    out = conv.conv2d(x.reshape((1, 1) + hw), w, stride=stride, padding=1)
    return out.reshape((-1, out.shape[3]))


_KINDS = [
    "newer",
    "unary",
    "unary",
    "binary",
    "binary",
    "reduce",
    "index",
    "shape",
    "matmul",
    "join",
    "loss",
]


@st.composite
def _draw_graph(
    draw: Any, min_ops: int, max_ops: int, max_inputs: int, max_side: int, max_dims: int
) -> tuple[Program, tuple[Tensor, ...]]:
    program = Program()
    inputs: list[Tensor] = []
    values: list[np.ndarray] = []
    elements = st.floats(-2, 2, allow_nan=False, allow_infinity=False)

    def new_input(shape: Shape, requires_grad: bool) -> int:
        arr = draw(hnp.arrays(np.float64, shape, elements=elements))
        inputs.append(Tensor(arr, requires_grad=requires_grad))
        values.append(np.asarray(arr, dtype=np.float64))
        program._add_input()
        return len(values) - 1

    first = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side))
    new_input(first, True)
    for _ in range(draw(st.integers(0, max_inputs - 1))):
        shape = draw(broadcastable_shapes(first, max_dims=max_dims, max_side=max_side))
        new_input(shape, draw(st.booleans()))

    def pick() -> int:  # any earlier value, so subexpressions get shared
        return int(draw(st.integers(0, len(values) - 1)))

    n_ops = draw(st.integers(min(min_ops, max_ops), max_ops))
    attempts = 0
    while program.n_ops < n_ops and attempts < 10 * n_ops:
        attempts += 1
        kind = draw(st.sampled_from(_KINDS))
        i = len(values) - 1 if draw(st.booleans()) else pick()
        drawn_step = _draw_step(draw, kind, i, values, pick, new_input, max_side)
        if drawn_step is None:
            continue
        args, made = drawn_step
        if made is None:
            continue
        fn, text = made
        with np.errstate(all="ignore"):
            out = fn(*(Tensor._wrap(values[k]) for k in args)).data
        if not 0 < out.size <= 64 or not np.all(np.isfinite(out)) or np.abs(out).max() > LIMIT:
            continue
        program._add_step(_Step(args, fn, text))
        values.append(np.asarray(out, dtype=np.float64))
    if program.n_ops == 0:
        program._add_step(_Step((len(values) - 1,), lambda x: x.tanh(), "tanh({0})"))
        values.append(np.tanh(values[-1]))
    _sum_unused_into_output(program, inputs, len(values) - 1)
    return program, tuple(inputs)


def _draw_step(
    draw: Any,
    kind: str,
    i: int,
    values: list[np.ndarray],
    pick: Callable[[], int],
    new_input: Callable[[Shape, bool], int],
    max_side: int,
) -> tuple[tuple[int, ...], Made | None] | None:
    """Draw an op of ``kind`` on value ``i``: the values it reads, and its function and text."""
    a = values[i]
    args: tuple[int, ...] = (i,)
    made: tuple[Callable[..., Tensor], str] | None
    if kind == "unary":
        made = _unary(draw, a)
    elif kind == "reduce":
        made = _reduce(draw, a)
    elif kind == "index":
        made = _index(draw, a)
    elif kind == "shape":
        made = _shape_op(draw, a)
    elif kind == "newer":
        drawn = _newer(draw, a, values[j := pick()])
        made = None if drawn is None else drawn[0]
        if drawn is not None and drawn[1] == "ab":
            args = (i, j)
        elif drawn is not None and drawn[1] == "aw":
            k = draw(st.integers(1, 2))
            args = (
                i,
                new_input((k, 1, draw(st.integers(1, 2)), draw(st.integers(1, 3))), True),
            )
    elif kind == "matmul":
        if a.ndim == 0 or a.size > 12:
            return None
        j = new_input((a.shape[-1], draw(st.integers(1, max_side))), True)
        args, made = (i, j), ((lambda x, w: x @ w), "{0} @ {1}")
    else:
        j = pick()
        made, reads_b = _pair_op(draw, kind, a, values[j])
        args = (i, j) if reads_b else (i,)
    return args, made


def _pair_op(draw: Any, kind: str, a: np.ndarray, b: np.ndarray) -> tuple[Made | None, bool]:
    """Draw a binary, joining or loss op on ``a`` and ``b``; the flag says whether it reads b.

    A loss may take its target from the program text instead of from ``b``.
    """
    if kind == "binary":
        return _binary(draw, a, b), True
    if kind == "join":
        return _join(draw, a, b), True
    made = _loss(draw, a, b)
    return made, made is None or "{1}" in made[1]


def _sum_unused_into_output(program: Program, inputs: list[Tensor], last: int) -> None:
    """Make every op's value (and every input that requires grad) reach the output ``last``."""
    grad_inputs = {v for v, kind in program._input_positions() if inputs[kind].requires_grad}
    used = program._used()
    unused = [
        v for v in range(last) if v not in used and (v in grad_inputs or not program._is_input(v))
    ]
    if unused:
        program._add_step(_Step((last, *unused), _sum_into_first, _sum_text(len(unused))))


def _sum_into_first(first: Tensor, *rest: Tensor) -> Tensor:
    total = first
    for r in rest:
        total = total + r.sum()
    return total


def _sum_text(n: int) -> str:
    return "{0} + " + " + ".join(f"{{{k}}}.sum()" for k in range(1, n + 1))


def graphs(
    *,
    min_ops: int = 3,
    max_ops: int = 8,
    max_inputs: int = 3,
    max_side: int = 3,
    max_dims: int = 2,
) -> st.SearchStrategy[tuple[Program, tuple[Tensor, ...]]]:
    r"""Random programs ``(fn, inputs)`` over the built-in ops, valid for :func:`gradcheck`.

    Parameters
    ----------
    min_ops, max_ops
        Fewest and most ops in the program (each may expand to a few recorded ops, such as
        log(x·x + 1)).
    max_inputs
        Most inputs drawn up front (matmul may add a weight input of its own); the first input
        requires grad, the others may or may not.
    max_side, max_dims
        Largest side and number of axes of the inputs.

    Axes are drawn with either sign (``sum(axis=(-1, 0))``, ``transpose(-1, 0)``, ``stack(...,
    axis=-3)``) and indices in every form :func:`indices` draws. Every op is drawn only where
    it is well defined at the drawn values: ``log`` and ``sqrt``
    on values ≥ 0.1, division by values ≥ 0.5 in magnitude (or by y² + 1), ``relu``, ``abs``,
    ``clip``, ``maximum``/``minimum`` and ``max``/``min`` only where no value lies within 1e-2
    of a kink or a tie, and no intermediate value beyond ±50.
    """
    limits = (("min_ops", min_ops, 1), ("max_ops", max_ops, 1), ("max_inputs", max_inputs, 1),
              ("max_side", max_side, 1), ("max_dims", max_dims, 0))  # fmt: skip
    for name, v, low in limits:
        if not isinstance(v, int) or v < low:
            raise ValueError(f"graphs: {name} must be an int >= {low}, got {v!r}")
    return _draw_graph(min_ops, max_ops, max_inputs, max_side, max_dims)
