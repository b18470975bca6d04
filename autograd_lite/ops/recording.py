r"""Recording an op: one rule for arrays and Tensors alike, and the public functions' arguments.

A gradient rule runs on plain NumPy values in the first-order walk and on Tensors when
``create_graph=True`` records it; :func:`is_plain`, :func:`data` and :func:`record` let one
rule serve both. The public functions (``al.sigmoid``, ``al.matmul``...) turn their arguments
into Tensors or constants with :func:`as_tensor`, :func:`binary_args`, :func:`tensors` and
:func:`target`, and apply their op with :func:`apply`.

The Tensor class is looked up only when a function is called with no Tensor at all, because
``tensor.py`` builds on this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import Op

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "Sizes", "apply", "as_tensor", "binary_args", "data", "is_plain", "is_tensor", "operand",
    "record", "shape_of", "target", "tensor_class", "tensors",
]  # fmt: skip

_PLAIN = (np.ndarray, np.generic, int, float, bool)


def is_plain(value: Any) -> bool:
    """Tell NumPy arrays and scalars (the first-order walk) from Tensors."""
    return isinstance(value, _PLAIN)


def is_tensor(value: Any) -> bool:
    """Tell a Tensor (anything that can hold a graph node) from every other value."""
    return type(value) is not np.ndarray and hasattr(value, "_node")


def _array_operand(value: Any) -> bool:
    """Whether ``value`` is a numeric NumPy array, which every function takes as it is."""
    return type(value) is np.ndarray and value.dtype.kind in "biufc"


def data(value: Any) -> Any:
    """Return the plain array behind ``value`` (masks and constants use plain data)."""
    return value if isinstance(value, _PLAIN) else value.data


def record(op: Op, *args: Any) -> Any:
    """Apply ``op`` to ``args`` through the Tensor class of the first Tensor among them."""
    for a in args:
        if not isinstance(a, _PLAIN):
            return type(a)._apply(op, *args)
    raise TypeError(f"{op.name}: record() needs at least one Tensor argument")


def shape_of(value: Any) -> tuple[int, ...]:
    """Return the shape of an array, a scalar or a Tensor."""
    return tuple(np.shape(value.data if not isinstance(value, _PLAIN) else value))


class Sizes:
    r"""Shapes for an op's rule text.

    ``sizes(0)`` is ``" (3, 4)"``, the shape of input 0 while the node holds its inputs (``""``
    before it is applied or once it is released); ``sizes(-1)`` is the output's (that of
    ḡ = ∂E/∂o), and ``T=True`` swaps the last two axes (for aᵀ).
    """

    def __init__(self, op: Op) -> None:
        inputs = getattr(op, "inputs", None)
        self.shapes = None if inputs is None else [*map(shape_of, inputs), shape_of(op.out)]

    def __call__(self, i: int, T: bool = False) -> str:
        """Return the shape of value ``i`` as text (swapped last axes with ``T``)."""
        if self.shapes is None:
            return ""
        s = self.shapes[i]
        return f" {s[:-2] + s[:-3:-1] if T else s}"

    def shape(self, i: int) -> tuple[int, ...] | None:
        """Return the shape of value ``i``, or ``None`` when the node holds no inputs."""
        return None if self.shapes is None else self.shapes[i]


def tensor_class() -> type[Tensor]:
    """Return the Tensor class (imported on first use: ``tensor.py`` imports this package)."""
    from ..tensor import Tensor

    return Tensor


def apply(op: Op, *args: Any) -> Tensor:
    """Return ``op`` applied to ``args`` as a Tensor (recorded when an input requires grad).

    Lists and other array-likes become arrays; plain arguments alone are wrapped in a Tensor
    that needs no gradient.
    """
    tensor, first = Op.tensor_type, None
    for a in args:  # the common case: Tensors and arrays only, passed on as they are
        if type(a) is not np.ndarray:
            if not isinstance(a, tensor):
                break
            if first is None:
                first = a
    else:
        return (tensor if first is None else type(first))._apply(op, *args)  # type: ignore[no-any-return]
    # a list comprehension: with a generator here, memory grew with the cycle collector off
    args = tuple([a if isinstance(a, _PLAIN) or is_tensor(a) else _numeric(op, a) for a in args])
    for a in args:
        if not isinstance(a, _PLAIN):
            return type(a)._apply(op, *args)  # type: ignore[no-any-return]
    return tensor_class()._apply(op, *args)


def _numeric(op: Op, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{op.name}: expected a Tensor or numeric array, got {type(value).__name__}"
        )
    return arr


def as_tensor(x: Any) -> Tensor:
    """Return ``x`` itself if it is a Tensor, else a new Tensor (no gradient) holding it."""
    return x if is_tensor(x) else tensor_class()(x)


def operand(x: Any) -> Any:
    """Tensors and Python scalars as they are, else a numeric array, else ``NotImplemented``."""
    if is_tensor(x) or isinstance(x, (int, float, bool)):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return NotImplemented
    return arr if arr.dtype.kind in "biufc" else NotImplemented


def binary_args(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """Return the two arguments of a binary function, the first as a Tensor if neither is one.

    Raises ``TypeError`` naming ``op`` and the argument when one is not numeric.
    """
    tensor = Op.tensor_type
    if isinstance(b, tensor):  # the common cases: a Tensor with a Tensor or a numeric array
        if isinstance(a, tensor) or _array_operand(a):
            return a, b
    elif isinstance(a, tensor) and _array_operand(b):
        return a, b
    pa, pb = operand(a), operand(b)
    for name, v, p in (("first", a, pa), ("second", b, pb)):
        if p is NotImplemented:
            raise TypeError(f"{op}: {name} argument must be numeric, got {type(v).__name__}")
    if not is_tensor(pa) and not is_tensor(pb):
        pa = tensor_class()(pa)
    return pa, pb


def tensors(op: str, values: Sequence[Any]) -> list[Tensor]:
    """Return a non-empty sequence of tensors (or arrays) as Tensors, for joining ops."""
    if is_tensor(values) or isinstance(values, np.ndarray) or not isinstance(values, Sequence):
        raise TypeError(f"{op}: expected a sequence of tensors, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{op}: needs at least one tensor")
    return [as_tensor(t) for t in values]


def target(t: Any) -> Any:
    """Return a loss's target: Tensors as they are, numeric arrays as plain constants.

    Anything else becomes a Tensor (which checks that the data is numeric).
    """
    if is_tensor(t) or (type(t) is np.ndarray and t.dtype.kind in "biuf"):
        return t
    return as_tensor(t)
