"""autograd_lite: small, exact reverse-mode automatic differentiation on NumPy."""

from __future__ import annotations

import importlib
from typing import Any

from ._grad_mode import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .function import Context, Function
from .functional import grad, hvp, value_and_grad
from .functions import (
    binary_cross_entropy,
    concatenate,
    cross_entropy,
    exp,
    log,
    log_softmax,
    matmul,
    maximum,
    mean,
    minimum,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    squared_error,
    stack,
    sum,
    tanh,
    where,
)
from .ops.activations import elu, leaky_relu, softplus
from .ops.conv import avg_pool2d, conv2d, max_pool2d
from .ops.losses import huber_loss, l1_loss, nll_loss
from .ops.reductions import logsumexp
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Context",
    "Function",
    "Tensor",
    "avg_pool2d",
    "binary_cross_entropy",
    "concatenate",
    "conv2d",
    "cross_entropy",
    "detect_anomaly",
    "elu",
    "enable_grad",
    "exp",
    "grad",
    "huber_loss",
    "hvp",
    "is_grad_enabled",
    "l1_loss",
    "leaky_relu",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max_pool2d",
    "maximum",
    "mean",
    "minimum",
    "mse_loss",
    "nll_loss",
    "no_grad",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "squared_error",
    "stack",
    "sum",
    "tanh",
    "value_and_grad",
    "where",
]  # fmt: skip

_SUBMODULES = {"layers", "optim", "testing", "viz", "tutorial", "data"}
_LATER = {"save": "serialization", "load": "serialization"}


def __getattr__(name: str) -> Any:
    """Load the subpackages (and ``save``/``load``) on first use, keeping ``import`` light."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LATER:
        return getattr(importlib.import_module(f".{_LATER[name]}", __name__), name)
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
