"""Module-level forms of the Tensor methods, the multi-input ops, and the losses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import elementwise as ew
from .ops import losses
from .ops import shape as sh
from .ops.linalg import MatMul
from .tensor import Tensor, _apply, _operand

ArrayLike = Any


def as_tensor(x: ArrayLike) -> Tensor:
    """``x`` itself if it is a Tensor, else a new Tensor (no gradient) holding it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _binary_args(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    pa, pb = _operand(a), _operand(b)
    for name, v, p in (("first", a, pa), ("second", b, pb)):
        if p is NotImplemented:
            raise TypeError(f"{op}: {name} argument must be numeric, got {type(v).__name__}")
    if not isinstance(pa, Tensor) and not isinstance(pb, Tensor):
        pa = Tensor(pa)
    return pa, pb


def sigmoid(x: ArrayLike) -> Tensor:
    r"""σ(x) = 1 / (1 + e⁻ˣ), elementwise and overflow-free."""
    return as_tensor(x).sigmoid()


def tanh(x: ArrayLike) -> Tensor:
    """tanh x, elementwise."""
    return as_tensor(x).tanh()


def relu(x: ArrayLike) -> Tensor:
    """max(x, 0), elementwise."""
    return as_tensor(x).relu()


def exp(x: ArrayLike) -> Tensor:
    """eˣ, elementwise."""
    return as_tensor(x).exp()


def log(x: ArrayLike) -> Tensor:
    """Natural logarithm, elementwise."""
    return as_tensor(x).log()


def softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    r"""e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis``."""
    return as_tensor(x).softmax(axis)


def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    r"""xᵢ − log Σⱼ e^{xⱼ} along ``axis``."""
    return as_tensor(x).log_softmax(axis)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules for 1-D and batched operands."""
    return _apply(MatMul(), *_binary_args("matmul", a, b))


def _matmul_transposed(a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a @ b.T`` as one node (a linear layer's x Wᵀ): no transpose node, and the gradient of
    ``b`` comes back in ``b``'s own layout."""
    return _apply(MatMul(transpose_b=True), *_binary_args("matmul", a, b))


def sum(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:
    r"""Σ over ``axis`` (all axes by default)."""
    return as_tensor(x).sum(axis, keepdims)


def mean(x: ArrayLike, axis: Any = None, keepdims: bool = False) -> Tensor:
    r"""(1/n) Σ over ``axis`` (all axes by default)."""
    return as_tensor(x).mean(axis, keepdims)


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise maximum with broadcasting; ties share the gradient evenly."""
    return _apply(ew.Maximum(), *_binary_args("maximum", a, b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise minimum with broadcasting; ties share the gradient evenly."""
    return _apply(ew.Minimum(), *_binary_args("minimum", a, b))


def where(cond: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcasting); ``cond`` records no gradient."""
    c = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if c.dtype != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    return _apply(ew.Where(c), *_binary_args("where", a, b))


def _sequence(op: str, tensors: Sequence[ArrayLike]) -> list[Tensor]:
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, Sequence):
        raise TypeError(f"{op}: expected a sequence of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    return [as_tensor(t) for t in tensors]


def concatenate(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return _apply(sh.Concatenate(int(axis)), *_sequence("concatenate", tensors))


def stack(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    return _apply(sh.Stack(int(axis)), *_sequence("stack", tensors))


# -- losses ------------------------------------------------------------------------------------


def _target(t: ArrayLike) -> Any:
    """A loss's target: Tensors as they are, numeric arrays as plain constants, else a Tensor
    (which checks that the data is numeric)."""
    if isinstance(t, Tensor) or (type(t) is np.ndarray and t.dtype.kind in "biuf"):
        return t
    return Tensor(t)


def squared_error(prediction: ArrayLike, target: ArrayLike, reduction: str = "sum") -> Tensor:
    r"""The tutorial's E = ½ Σ (t − o)²; its gradient with respect to the prediction is o − t."""
    op = losses.SquaredError(reduction, 0.5, "squared_error")
    return _apply(op, as_tensor(prediction), _target(target))


def mse_loss(prediction: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    r"""PyTorch's mean squared error: mean (o − t)²."""
    op = losses.SquaredError(reduction, 1.0, "mse_loss")
    return _apply(op, as_tensor(prediction), _target(target))


def binary_cross_entropy(
    probabilities: ArrayLike, target: ArrayLike, reduction: str = "mean"
) -> Tensor:
    r"""−[t log p + (1 − t) log(1 − p)], finite at p = 0 and p = 1."""
    op = losses.BinaryCrossEntropy(reduction)
    return _apply(op, as_tensor(probabilities), _target(target))


def cross_entropy(logits: ArrayLike, labels: ArrayLike, reduction: str = "mean") -> Tensor:
    r"""log-softmax followed by the negative log-likelihood of the integer class ``labels``."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices, got dtype {y.dtype}")
    return _apply(losses.CrossEntropy(y, reduction), as_tensor(logits))
