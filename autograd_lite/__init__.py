"""autograd_lite: small, exact reverse-mode automatic differentiation on NumPy."""

from __future__ import annotations

import importlib as _importlib

from . import ops as _ops
from ._grad_mode import AnomalyError, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .function import Context, Function
from .ops import *  # noqa: F403 - the ops' public functions, listed in ops.__all__
from .tensor import Tensor, tensor
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "Context",
    "Function",
    "Tensor",
    "TraceError",
    "compile",
    "data",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "layers",
    "load",
    "no_grad",
    "optim",
    "save",
    "tensor",
    "testing",
    "tutorial",
    "value_and_grad",
    "viz",
]  # fmt: skip
__all__ += _ops.__all__

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
    """Return the public names only (not the modules and helpers this package is built from)."""
    return sorted([*__all__, "__version__"])


del annotations  # the future import, not part of the package's namespace
