"""autograd_lite: small, exact reverse-mode automatic differentiation on NumPy."""

from __future__ import annotations

import importlib as _importlib

from ._grad_mode import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .function import Context, Function
from .functional import grad, hessian, hvp, jacobian, jvp, value_and_grad
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
from .tensor import Tensor, tensor

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Context",
    "Function",
    "Tensor",
    "TraceError",
    "avg_pool2d",
    "binary_cross_entropy",
    "compile",
    "concatenate",
    "conv2d",
    "cross_entropy",
    "data",
    "detect_anomaly",
    "elu",
    "enable_grad",
    "exp",
    "grad",
    "hessian",
    "huber_loss",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "l1_loss",
    "layers",
    "leaky_relu",
    "load",
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
    "optim",
    "relu",
    "save",
    "sigmoid",
    "softmax",
    "softplus",
    "squared_error",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "testing",
    "tutorial",
    "value_and_grad",
    "viz",
    "where",
]  # fmt: skip

_SUBMODULES = {"layers", "optim", "testing", "viz", "tutorial", "data"}
_LATER = {
    "save": "serialization",
    "load": "serialization",
    "compile": "compiler",
    "TraceError": "compiler",
}


def __getattr__(name: str) -> object:
    """Load the subpackages (and ``save``/``load``) on first use, keeping ``import`` light."""
    if name in _SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    if name in _LATER:
        return getattr(_importlib.import_module(f".{_LATER[name]}", __name__), name)
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names only (not the modules and helpers this package is built from)."""
    return sorted([*__all__, "__version__"])


del annotations  # the future import, not part of the package's namespace
