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
  subexpressions, broadcasting, reductions, indexing, joins, matmul, losses, convolution and
  pooling) and the input Tensors it runs on. The ops are those of ``ops.ALL_OPS``, each called
  as its checks' forms declare (:class:`autograd_lite.ops.checks.Call`). Every op is kept
  inside its domain and away from its kinks *at the drawn values* (the program is evaluated
  while it is drawn), so ``gradcheck(fn, inputs)`` holds. ``fn`` is
  pure and its ``repr`` is the program, one line per op, for readable failure reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..engine import Op
from ..ops import ALL_OPS
from ..ops.checks import (
    Arg,
    Axes,
    Call,
    Form,
    Index,
    Labels,
    OneOf,
    Permutation,
    Values,
    checks_of,
)
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
NewInput = Callable[[Shape, bool], int]


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
    op: str = ""  # the op class it calls; "" for the sum that gathers unused values


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

    @property
    def ops(self) -> tuple[str, ...]:
        """Return the class names of the ops the program calls, one per drawn step."""
        return tuple(item.op for kind, item in self._events if kind == "step" and item.op)  # type: ignore[union-attr]

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

OpRef = type[Op] | str


@dataclass(frozen=True)
class _Entry:
    """One way random programs call an op: its class name, the form, and how to call it."""

    op: str
    form: Form
    call: Call

    @property
    def tensors(self) -> int:
        """Return how many Tensors the call passes."""
        return self.call.tensors or self.form.arity


def _entries(ops: Iterable[OpRef] | None = None) -> list[_Entry]:
    """Return the callable forms of every op in ``ALL_OPS``, or of ``ops`` (classes or names)."""
    named = {cls.__name__: cls for cls in ALL_OPS}
    chosen: list[type[Op]] = []
    for ref in ALL_OPS if ops is None else ops:
        if isinstance(ref, str) and ref in named:
            chosen.append(named[ref])
        elif isinstance(ref, type) and issubclass(ref, Op):
            chosen.append(ref)
        else:
            raise ValueError(f"graphs: ops must be Op classes or names in ops.ALL_OPS, got {ref!r}")
    found = []
    for cls in chosen:
        entries = [
            _Entry(cls.__name__, form, form.graph)
            for form in checks_of(cls).forms
            if form.graph is not None
        ]
        if ops is not None and not entries:
            raise ValueError(f"graphs: {cls.__name__} declares no form that graphs() can call")
        found += entries
    if not found:
        raise ValueError("graphs: ops names no op to draw")
    return found


def _arg(arg: Arg, shape: Shape) -> st.SearchStrategy[Any] | None:
    """Return the strategy for a keyword argument on an input of ``shape`` (None: none fits)."""
    ndim = len(shape)
    if isinstance(arg, Axes):
        n = ndim + arg.extra
        return None if arg.single and n == 0 else axes(n, single=arg.single)
    if isinstance(arg, Permutation):
        return axis_permutations(ndim)
    if isinstance(arg, Index):
        return indices(shape, allow_empty=False)
    if isinstance(arg, OneOf):
        return st.sampled_from(arg.choices)
    if isinstance(arg, Labels):
        if ndim not in (1, 2):
            return None
        return hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1))
    if ndim < 2:  # a Window
        return None
    sides = (min(arg.upto[0], shape[-2]), min(arg.upto[1], shape[-1]))
    return st.tuples(st.integers(1, sides[0]), st.integers(1, sides[1]))


def _arg_text(arg: Arg, value: Any) -> str:
    if isinstance(arg, Index):
        return index_text(value)
    return repr(value.tolist() if isinstance(value, np.ndarray) else value)


Into = tuple[Callable[[Tensor], Tensor], str]


def _into(v: Values, a: np.ndarray) -> tuple[Into, np.ndarray] | None:
    """Put ``a`` where ``v`` admits: as it is, or squashed into [low, high] by a sigmoid.

    Return the map on Tensors with its text, and the mapped values; None where neither fits.
    """
    if v.admits(a):
        return ((lambda t: t), "{}"), a
    if not (np.isfinite(v.low) and np.isfinite(v.high)):
        return None
    low, width = v.low + v.margin, v.high - v.low - 2 * v.margin
    squashed = low + width / (1 + np.exp(-a))
    if not v.admits(squashed):
        return None
    text = f"({low:g} + {width:g} * sigmoid({{}}))"
    return ((lambda t: low + width * t.sigmoid()), text), squashed


def _operand(
    draw: Any, entry: _Entry, a: np.ndarray, shape: Shape, values: list[np.ndarray], new: NewInput
) -> tuple[int, ...]:
    """Return the value the call's second Tensor is (none for a call of one Tensor)."""
    if entry.tensors < 2:
        return ()
    call = entry.call
    if call.new is not None:
        made = call.new(shape, lambda low, high: int(draw(st.integers(low, high))))
        return (new(made, True),)
    if call.operand == "same":
        return (draw(st.sampled_from([k for k, v in enumerate(values) if v.shape == a.shape])),)
    return (draw(st.integers(0, len(values) - 1)),)


def _small(entry: _Entry, arrays: list[np.ndarray]) -> bool:
    """Tell whether the call's inputs (broadcast together where they do) are small enough."""
    call = entry.call
    shapes = [
        x.shape for x in (arrays if call.operand == "broadcast" and not call.new else arrays[:1])
    ]
    try:
        return int(np.prod(np.broadcast_shapes(*shapes))) <= call.max_size
    except ValueError:
        return False


def _draw_call(
    draw: Any, entry: _Entry, i: int, values: list[np.ndarray], new: NewInput
) -> _Step | None:
    """Draw a call of ``entry`` on value ``i`` (None where its inputs do not fit)."""
    form, call, a = entry.form, entry.call, values[i]
    if not call.ndim[0] <= a.ndim <= call.ndim[1]:
        return None
    shape = (1,) * (call.lift - a.ndim) + a.shape
    kwargs: dict[str, Any] = {}
    for name, arg in call.args.items():
        strategy = _arg(arg, shape)
        if strategy is None:
            return None
        kwargs[name] = draw(strategy)
    args = (i, *_operand(draw, entry, a, shape, values, new))
    arrays = [a.reshape(shape), *(values[k] for k in args[1:])]
    if not _small(entry, arrays):
        return None
    fitted = [_into(v, x) for v, x in zip(form.values, arrays)]
    if any(f is None for f in fitted):
        return None
    maps = [f[0] for f in fitted if f is not None]
    arrays = [f[1] for f in fitted if f is not None] + arrays[len(fitted) :]
    if not form.admits(*arrays) or (call.fits is not None and not call.fits(tuple(arrays), kwargs)):
        return None
    lifted = shape if shape != a.shape else None
    text = _call_text(entry, maps, lifted, kwargs)
    return _Step(args, _call_fn(form.fn, maps, shape, kwargs), text, entry.op)


def _call_fn(
    fn: Callable[..., Tensor], maps: list[Into], shape: Shape, kwargs: dict[str, Any]
) -> Callable[..., Tensor]:
    """Return the step: lift the first Tensor to ``shape``, map the Tensors, call ``fn``."""

    def step(first: Tensor, *rest: Tensor) -> Tensor:
        ts = [first.reshape(shape), *rest]
        ts[: len(maps)] = [m[0](t) for m, t in zip(maps, ts)]
        return fn(*ts, **kwargs)

    return step


def _call_text(
    entry: _Entry, maps: list[Into], lifted: Shape | None, kwargs: dict[str, Any]
) -> str:
    """Return the step's program text: the form's call on ``{0}``, ``{1}``, then its arguments."""
    names = [f"{{{k}}}" for k in range(entry.tensors)]
    shown = [entry.form.text.count(name) > 0 for name in names]
    if lifted is not None:
        names[0] = f"{{0}}.reshape({lifted})"
    names[: len(maps)] = [m[1].format(n) for m, n in zip(maps, names)]
    text = entry.form.text
    for k, name in enumerate(names):
        text = text.replace(f"{{{k}}}", name)
    if not all(shown):
        text += " on " + ", ".join(names)
    if kwargs:
        args = entry.call.args
        text += " with " + ", ".join(f"{k}={_arg_text(args[k], v)}" for k, v in kwargs.items())
    return text


@st.composite
def _draw_graph(
    draw: Any,
    entries: list[_Entry],
    min_ops: int,
    max_ops: int,
    max_inputs: int,
    max_side: int,
    max_dims: int,
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

    n_ops = draw(st.integers(min(min_ops, max_ops), max_ops))
    attempts = 0
    while program.n_ops < n_ops and attempts < 10 * n_ops:
        attempts += 1
        i = len(values) - 1 if draw(st.booleans()) else draw(st.integers(0, len(values) - 1))
        step = _draw_call(draw, draw(st.sampled_from(entries)), i, values, new_input)
        if step is None:
            continue
        with np.errstate(all="ignore"):
            out = step.fn(*(Tensor._wrap(values[k]) for k in step.args)).data
        if not 0 < out.size <= 64 or not np.all(np.isfinite(out)) or np.abs(out).max() > LIMIT:
            continue
        program._add_step(step)
        values.append(np.asarray(out, dtype=np.float64))
    if program.n_ops == 0:
        program._add_step(_Step((len(values) - 1,), lambda x: x.tanh(), "tanh({0})", "Tanh"))
        values.append(np.tanh(values[-1]))
    _sum_unused_into_output(program, inputs, len(values) - 1)
    return program, tuple(inputs)


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
    ops: Iterable[type[Op] | str] | None = None,
) -> st.SearchStrategy[tuple[Program, tuple[Tensor, ...]]]:
    r"""Random programs ``(fn, inputs)`` over the built-in ops, valid for :func:`gradcheck`.

    The ops and how each is called come from ``ops.ALL_OPS``: every form an op's checks
    declare with a ``graph`` call (:class:`autograd_lite.ops.checks.Call`) is drawn, with the
    arguments, second operand, shapes and values the call names, so a new op with checks is
    drawn with no change here.

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
    ops
        Draw only these ops: classes or class names from ``ops.ALL_OPS`` (an op class outside
        it works too); by default every op in ``ops.ALL_OPS``. A program where none of them
        fits its values gets a ``tanh`` instead. ``ValueError`` names an unknown op or one that
        declares no form ``graphs()`` can call.

    Axes are drawn with either sign (``sum(axis=(-1, 0))``, ``transpose(-1, 0)``, ``stack(...,
    axis=-3)``) and indices in every form :func:`indices` draws. Every op is drawn only where
    it is well defined at the drawn values, as its form's values and call say: ``log`` and
    ``sqrt`` on values ≥ 0.1, division by values ≥ 0.5 in magnitude (or by y² + 1), ``relu``,
    ``abs``, ``clip``, ``maximum``/``minimum``, ``max``/``min``, ``max_pool2d`` and the kinked
    losses only where no value lies within 1e-2 of a kink or a tie, and no intermediate value
    beyond ±50. An input that must lie in a bounded range (probabilities for
    ``binary_cross_entropy``) and does not is squashed into it by a sigmoid; the first input of
    an op that needs more axes (``conv2d``) is viewed with leading sides of 1.
    """
    limits = (("min_ops", min_ops, 1), ("max_ops", max_ops, 1), ("max_inputs", max_inputs, 1),
              ("max_side", max_side, 1), ("max_dims", max_dims, 0))  # fmt: skip
    for name, v, low in limits:
        if not isinstance(v, int) or v < low:
            raise ValueError(f"graphs: {name} must be an int >= {low}, got {v!r}")
    return _draw_graph(_entries(ops), min_ops, max_ops, max_inputs, max_side, max_dims)
