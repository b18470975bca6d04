r"""Shape and indexing: reshape, transpose, broadcast, indexing, concatenate, stack.

These ops move values around without changing them, so each gradient rule moves ``ḡ`` back:
reshape it, transpose it by the inverse permutation, sum it over broadcast axes, scatter-add it
into the indexed positions (repeated indices accumulate), or split it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op, sum_to_shape
from .checks import Axes, Call, Checks, Example, Form, Index, Permutation, normal
from .recording import Sizes, apply, is_plain, record, shape_of
from .recording import tensors as tensors_of

if TYPE_CHECKING:
    from ..tensor import Tensor
from .axes import permutation, single_axis


class Reshape(Op):
    r"""o = a viewed with ``shape``;  ∂E/∂a = ḡ reshaped to a's shape."""

    __slots__ = ("shape",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Reshape", lambda r: (lambda a: a.reshape(3, 2), [normal(r, 2, 3)])),),
        forms=(
            Form("{0}.reshape(-1)", lambda x: x.reshape(-1)),
            Form("{0}.T.flatten()", lambda x: x.T.flatten()),
        ),
    )

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a: np.ndarray) -> np.ndarray:
        r"""Return o = a viewed with ``shape``."""
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape shape {shape_of(a)} into {self.shape}"
            ) from None

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ reshaped to a's shape."""
        return (g.reshape(a.shape),)


class Transpose(Op):
    r"""o = a with axes permuted by ``axes``;  ∂E/∂a = ḡ permuted by the inverse permutation."""

    __slots__ = ("axes",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Transpose", lambda r: (lambda a: a.transpose(2, 0, 1), [normal(r, 2, 3, 2)])),
            Example(
                "Transpose (negative axes)",
                lambda r: (lambda a: a.transpose(-1, 0, -2), [normal(r, 2, 3, 4)]),
            ),
        ),
        forms=(
            Form("{0}.transpose()", lambda x: x.transpose()),
            Form(
                "{0}.transpose(*axes)",
                lambda x, axes: x.transpose(*axes),
                inputs="permutation",
                graph=Call({"axes": Permutation()}),
            ),
        ),
    )

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, a: np.ndarray) -> np.ndarray:
        r"""Return o = a with axes permuted by ``axes``."""
        self.axes = permutation(self.axes, np.ndim(a), "transpose")
        return a.transpose(self.axes)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ permuted by the inverse permutation."""
        inverse = None if self.axes is None else tuple(np.argsort(self.axes))
        return (g.transpose(inverse),)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s = Sizes(self)
        if self.axes is None:
            return f"o = a{s(0)} with axes reversed; ∂E/∂a{s(0)} = ḡ{s(1)} with axes reversed."
        inverse = tuple(int(i) for i in np.argsort(self.axes))
        return (
            f"o = a{s(0)} with axes permuted by {self.axes}; "
            f"∂E/∂a{s(0)} = ḡ{s(1)} permuted by the inverse {inverse}."
        )


class BroadcastTo(Op):
    r"""o = a broadcast to ``shape``;  ∂E/∂a = ḡ summed over the broadcast axes."""

    __slots__ = ("shape",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "BroadcastTo",
                lambda r: (lambda a: apply(BroadcastTo((2, 3, 4)), a), [normal(r, 3, 1)]),
            ),
        ),
    )

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a: np.ndarray) -> np.ndarray:
        r"""Return o = a broadcast to ``shape``."""
        return np.broadcast_to(a, self.shape)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ summed over the broadcast axes."""
        return (sum_to_shape(g, a.shape),)


def normalize_index(index: Any) -> Any:
    """``index`` in the form NumPy reads it, with every sequence inside it an array.

    NumPy treats a list, or a tuple *inside* the index tuple (``x[:, (1, 1)]``, ``x[(0, 0), :]``),
    as an integer or boolean array: advanced indexing, where a position may be picked more
    than once. Converting each such part once, when the op is recorded, lets the scatter see
    every advanced part as an array (an empty sequence becomes an empty integer array, as in
    NumPy). Ints, NumPy integer scalars, slices, ``None``, ``...``, bools and arrays stay as
    they are; a top-level tuple stays the index tuple.
    """
    if type(index) is tuple:
        return tuple(_index_part(p) for p in index)
    return _index_part(index)


def _index_part(part: Any) -> Any:
    if part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer, np.ndarray)):
        return part
    if isinstance(part, (np.bool_, str, bytes)):
        return part
    try:
        arr = np.asarray(part)
    except (TypeError, ValueError):  # ragged: NumPy refuses it too, with its own message
        return part
    if arr.size == 0 and arr.dtype.kind not in "biu":
        arr = arr.astype(np.intp)
    return arr


def _picks_repeatedly(index: Any) -> bool:
    """Tell whether ``index`` has an integer-array part (which may pick one position twice).

    Then the scatter must accumulate. Slices, ints and boolean masks pick each position at most
    once.
    """
    parts = index if type(index) is tuple else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


class GetItem(Op):
    r"""o = a[index];  ∂E/∂a = zeros with ḡ scatter-added at ``index`` (repeats accumulate).

    Every index NumPy accepts: ints (negative too), slices, ``None``, ``...``, boolean masks,
    and integer arrays, lists, tuples and nested sequences, mixed in one index tuple.
    """

    __slots__ = ("index",)
    keeps = ()
    keeps_out = False
    array_fields = ("index",)

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("GetItem (slice)", lambda r: (lambda a: a[1:, ::2], [normal(r, 3, 4)])),
            Example(
                "GetItem (repeated indices)",
                lambda r: (lambda a: a[np.array([0, 2, 0, 0])], [normal(r, 3, 2)]),
            ),
            Example(
                "GetItem (mask)",
                lambda r: (lambda a: a[np.array([True, False, True, True])], [normal(r, 4)]),
            ),
            Example(
                "GetItem (tuple inside the index, repeated)",
                lambda r: (lambda a: a[(0, 0, -1), :, (1, 1, 0)], [normal(r, 3, 2, 2)]),
            ),
        ),
        forms=(
            Form(
                "{0}[index]",
                lambda x, index: x[index],
                inputs="index",
                graph=Call({"index": Index()}),
            ),
        ),
    )

    def __init__(self, index: Any) -> None:
        self.index = normalize_index(index)

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = a[index]."""
        return a[self.index]

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = zeros with ḡ scatter-added at ``index`` (repeats accumulate)."""
        return (scatter_add(g, self.index, a.shape),)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s, at = Sizes(self), index_text(self.index)
        return (
            f"o = a{s(0)}{at}; ∂E/∂a{s(0)} = zeros like a with ḡ{s(1)} scatter-added at {at} "
            "(repeated indices accumulate)."
        )


class ScatterAdd(Op):
    r"""o = zeros(shape) with a added at ``index``;  ∂E/∂a = ḡ[index]."""

    __slots__ = ("index", "shape")
    keeps = ()
    keeps_out = False
    array_fields = ("index",)

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "ScatterAdd",
                lambda r: (
                    lambda a: apply(ScatterAdd(np.array([0, 2, 0, 3]), (5,)), a),
                    [normal(r, 4)],
                ),
            ),
        ),
    )

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = normalize_index(index), shape

    def forward(self, a: np.ndarray) -> np.ndarray:
        r"""Return o = zeros(shape) with a added at ``index``."""
        out = np.zeros(self.shape, dtype=np.result_type(a))
        if _picks_repeatedly(self.index):
            np.add.at(out, self.index, a)
        else:  # each position is picked at most once
            out[self.index] = a
        return out

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ[index]."""
        return (g[self.index],)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s, at = Sizes(self), index_text(self.index)
        return f"o = zeros {self.shape} with a{s(0)} added at {at}; ∂E/∂a{s(0)} = ḡ{s(1)}{at}."


class Concatenate(Op):
    r"""o = [a₁, a₂, …] joined along ``axis``;  ∂E/∂aₖ = the slice of ḡ that aₖ filled."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Concatenate",
                lambda r: (
                    lambda a, b: concatenate([a, b], axis=1),
                    [normal(r, 2, 3), normal(r, 2, 2)],
                ),
            ),
        ),
        forms=(
            Form(
                "concatenate(xs, axis)",
                lambda *xs, axis: concatenate(xs, axis),
                inputs="sequence",
                graph=Call({"axis": Axes(single=True)}, 2, "same", ndim=(1, 8), max_size=18),
            ),
        ),
    )

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        r"""Return o = [a₁, a₂, …] joined along ``axis``."""
        self.axis = single_axis(self.axis, max(np.ndim(xs[0]), 1), "concatenate")
        try:
            return np.concatenate(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(shape_of(x)) for x in xs)
            raise ValueError(
                f"concatenate: shapes {shapes} do not fit together along axis {self.axis}"
            ) from None

    def backward(self, g: Any, out: Any, *xs: Any) -> list[Any]:
        r"""Return ∂E/∂aₖ = the slice of ḡ that aₖ filled."""
        axis = self.axis
        lead = (slice(None),) * axis
        grads: list[Any] = []
        start = 0
        for x, need in zip(xs, self.needs):
            stop = start + x.shape[axis]
            grads.append(g[lead + (slice(start, stop),)] if need else None)
            start = stop
        return grads

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s = Sizes(self)
        if s.shapes is None:
            return f"o = [x0, x1, …] joined along axis {self.axis}; ∂E/∂xₖ = ḡ's slice from xₖ."
        *shapes, g = s.shapes
        axis, start, parts = self.axis % len(g), 0, []
        for k, shape in enumerate(shapes):
            at = index_text((slice(None),) * axis + (slice(start, start + shape[axis]),))
            parts.append(f"∂E/∂x{k}{s(k)} = ḡ{s(-1)}{at}")
            start += shape[axis]
        names = ", ".join(f"x{k}" for k in range(len(shapes)))
        return f"o = [{names}] joined along axis {self.axis}; " + ", ".join(parts) + "."


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return apply(Concatenate(int(axis)), *tensors_of("concatenate", tensors))


class Stack(Op):
    r"""o = [a₁, a₂, …] stacked along a new ``axis``;  ∂E/∂aₖ = ḡ taken at position k of axis."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Stack",
                lambda r: (lambda a, b: stack([a, b], axis=1), [normal(r, 2, 2), normal(r, 2, 2)]),
            ),
            Example(
                "Stack (negative axis)",
                lambda r: (lambda a, b: stack([a, b], axis=-1), [normal(r, 2, 3), normal(r, 2, 3)]),
            ),
        ),
        forms=(
            Form(
                "stack(xs, axis)",
                lambda *xs, axis: stack(xs, axis),
                inputs="stack",
                graph=Call({"axis": Axes(single=True, extra=1)}, 2, "same", max_size=18),
            ),
        ),
    )

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        r"""Return o = [a₁, a₂, …] stacked along a new ``axis``."""
        self.axis = single_axis(self.axis, np.ndim(xs[0]) + 1, "stack")
        try:
            return np.stack(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(shape_of(x)) for x in xs)
            raise ValueError(f"stack: shapes {shapes} must all be equal") from None

    def backward(self, g: Any, out: Any, *xs: Any) -> list[Any]:
        r"""Return ∂E/∂aₖ = ḡ taken at position k of axis."""
        lead = (slice(None),) * self.axis
        return [g[lead + (k,)] if need else None for k, need in enumerate(self.needs)]

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s = Sizes(self)
        if s.shapes is None:
            return f"o = [x0, x1, …] stacked along a new axis {self.axis}; ∂E/∂xₖ = ḡ at k there."
        *shapes, g = s.shapes
        lead = (slice(None),) * (self.axis % len(g))
        parts = [f"∂E/∂x{k}{s(k)} = ḡ{s(-1)}{index_text(lead + (k,))}" for k in range(len(shapes))]
        names = ", ".join(f"x{k}" for k in range(len(shapes)))
        return f"o = [{names}] stacked along a new axis {self.axis}; " + ", ".join(parts) + "."


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    return apply(Stack(int(axis)), *tensors_of("stack", tensors))


def index_text(index: Any, max_elems: int = 8) -> str:
    """Return ``index`` as NumPy syntax for rule texts (``[1:, ::2]``).

    A large array shows as its kind and shape (``[<int array (100,)>]``).
    """

    def part(p: Any) -> str:
        if isinstance(p, slice):
            text = ("" if p.start is None else str(p.start)) + ":"
            text += "" if p.stop is None else str(p.stop)
            return text + ("" if p.step is None else f":{p.step}")
        if p is None:
            return "None"
        if p is Ellipsis:
            return "..."
        if isinstance(p, np.ndarray):
            kind = "bool mask" if p.dtype == bool else "int array"
            return str(p.tolist()) if p.size <= max_elems else f"<{kind} {p.shape}>"
        return str(p)

    parts = index if isinstance(index, tuple) else (index,)
    if not parts:
        return "[()]"  # the empty index: all of a 0-d array
    return "[" + ", ".join(part(p) for p in parts) + "]"


def broadcast_to(v: Any, shape: tuple[int, ...]) -> Any:
    """Return ``v`` broadcast to ``shape``: NumPy on plain values, recorded on Tensors."""
    if is_plain(v):
        return np.broadcast_to(v, shape)
    return v if v.shape == shape else record(BroadcastTo(shape), v)


def scatter_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Return zeros of ``shape`` with ``g`` added at ``index`` (repeats accumulate)."""
    op = ScatterAdd(index, shape)
    return op.forward(g) if is_plain(g) else record(op, g)
