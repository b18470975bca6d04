"""What every op family needs to write one rule for arrays and Tensors alike."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Op

_PLAIN = (np.ndarray, np.generic, int, float, bool)


def is_plain(value: Any) -> bool:
    """True for NumPy arrays and scalars (the first-order walk), False for Tensors."""
    return isinstance(value, _PLAIN)


def data(value: Any) -> Any:
    """The plain array behind ``value`` (masks and constants are computed on plain data)."""
    return value if isinstance(value, _PLAIN) else value.data


def record(op: Op, *args: Any) -> Any:
    """Apply ``op`` to ``args`` through the Tensor class of the first Tensor among them."""
    for a in args:
        if not isinstance(a, _PLAIN):
            return type(a)._apply(op, *args)
    raise TypeError(f"{op.name}: record() needs at least one Tensor argument")


def shape_of(value: Any) -> tuple[int, ...]:
    return tuple(np.shape(value.data if not isinstance(value, _PLAIN) else value))


class Sizes:
    """Shapes for an op's rule text: ``sizes(0)`` is ``" (3, 4)"``, the shape of input 0 while
    the node holds its inputs (``""`` before it is applied or once it is released); ``sizes(-1)``
    is the output's (that of ḡ = ∂E/∂o), and ``T=True`` swaps the last two axes (for aᵀ)."""

    def __init__(self, op: Op) -> None:
        inputs = getattr(op, "inputs", None)
        self.shapes = None if inputs is None else [*map(shape_of, inputs), shape_of(op.out)]

    def __call__(self, i: int, T: bool = False) -> str:
        if self.shapes is None:
            return ""
        s = self.shapes[i]
        return f" {s[:-2] + s[:-3:-1] if T else s}"

    def shape(self, i: int) -> tuple[int, ...] | None:
        return None if self.shapes is None else self.shapes[i]
