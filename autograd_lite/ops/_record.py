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
