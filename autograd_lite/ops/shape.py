r"""Shape and indexing: reshape, transpose, broadcast, indexing, concatenate, stack.

These ops move values around without changing them, so each gradient rule moves ``ḡ`` back:
reshape it, transpose it by the inverse permutation, sum it over broadcast axes, scatter-add it
into the indexed positions (repeated indices accumulate), or split it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Op, sum_to_shape
from ._record import is_plain, record, shape_of


class Reshape(Op):
    r"""o = a viewed with shape ``shape``;  ∂E/∂a = ḡ reshaped to a's shape."""

    __slots__ = ("shape",)
    keeps = ()
    keeps_out = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a):
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape shape {shape_of(a)} into {self.shape}"
            ) from None

    def backward(self, g, out, a):
        return (g.reshape(a.shape),)


class Transpose(Op):
    r"""o = a with axes permuted by ``axes``;  ∂E/∂a = ḡ permuted by the inverse permutation."""

    __slots__ = ("axes",)
    keeps = ()
    keeps_out = False

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, a):
        try:
            return a.transpose(self.axes)
        except ValueError:
            raise ValueError(
                f"transpose: axes {self.axes} do not fit shape {shape_of(a)}"
            ) from None

    def backward(self, g, out, a):
        inverse = None if self.axes is None else tuple(np.argsort(self.axes))
        return (g.transpose(inverse),)


class BroadcastTo(Op):
    r"""o = a broadcast to ``shape``;  ∂E/∂a = ḡ summed over the broadcast axes."""

    __slots__ = ("shape",)
    keeps = ()
    keeps_out = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, a):
        return np.broadcast_to(a, self.shape)

    def backward(self, g, out, a):
        return (sum_to_shape(g, a.shape),)


def _is_advanced_int(part: Any) -> bool:
    return isinstance(part, np.ndarray) and part.dtype.kind in "iu"


class GetItem(Op):
    r"""o = a[index];  ∂E/∂a = zeros with ḡ scatter-added at ``index`` (repeats accumulate)."""

    __slots__ = ("index",)
    keeps = ()
    keeps_out = False
    array_fields = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, a):
        return a[self.index]

    def backward(self, g, out, a):
        return (scatter_add(g, self.index, a.shape),)


class ScatterAdd(Op):
    r"""o = zeros(shape) with a added at ``index``;  ∂E/∂a = ḡ[index]."""

    __slots__ = ("index", "shape")
    keeps = ()
    keeps_out = False
    array_fields = ("index",)

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, a):
        out = np.zeros(self.shape, dtype=np.result_type(a))
        index = self.index
        parts = index if isinstance(index, tuple) else (index,)
        if any(_is_advanced_int(p) for p in parts):
            np.add.at(out, index, a)
        else:  # basic slicing and boolean masks select each element at most once
            out[index] = a
        return out

    def backward(self, g, out, a):
        return (g[self.index],)


class Concatenate(Op):
    r"""o = [a₁, a₂, …] joined along ``axis``;  ∂E/∂aₖ = the slice of ḡ that aₖ filled."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        try:
            return np.concatenate(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(shape_of(x)) for x in xs)
            raise ValueError(
                f"concatenate: shapes {shapes} do not fit together along axis {self.axis}"
            ) from None

    def backward(self, g, out, *xs):
        axis = self.axis % g.ndim
        lead = (slice(None),) * axis
        grads, start = [], 0
        for x, need in zip(xs, self.needs):
            stop = start + x.shape[axis]
            grads.append(g[lead + (slice(start, stop),)] if need else None)
            start = stop
        return grads


class Stack(Op):
    r"""o = [a₁, a₂, …] stacked along a new ``axis``;  ∂E/∂aₖ = ḡ taken at position k of axis."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        try:
            return np.stack(xs, axis=self.axis)
        except ValueError:
            shapes = ", ".join(str(shape_of(x)) for x in xs)
            raise ValueError(f"stack: shapes {shapes} must all be equal") from None

    def backward(self, g, out, *xs):
        lead = (slice(None),) * (self.axis % g.ndim)
        return [g[lead + (k,)] if need else None for k, need in enumerate(self.needs)]


def broadcast_to(v: Any, shape: tuple[int, ...]) -> Any:
    if is_plain(v):
        return np.broadcast_to(v, shape)
    return v if v.shape == shape else record(BroadcastTo(shape), v)


def scatter_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    op = ScatterAdd(index, shape)
    return op.forward(g) if is_plain(g) else record(op, g)
