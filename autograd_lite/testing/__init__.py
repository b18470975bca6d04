r"""Gradient checking for autograd_lite and for users' own ops.

- :func:`gradcheck` / :func:`gradgradcheck`: backward against float64 central differences,
  raising :class:`GradcheckError` whose ``report`` (and message) lists the worst elements,
  elements at kinks of built-in ops, and the op whose own rule is to blame.
- :func:`eps_sweep`: the gradient error over a range of finite-difference steps.
- :mod:`autograd_lite.testing.strategies`: Hypothesis strategies (needs the ``hypothesis``
  extra; imported on first use).
"""

from __future__ import annotations

import importlib
from typing import Any

from .gradcheck import check_gradients, check_second_gradients, gradcheck, gradgradcheck
from .report import (
    BlameResult,
    ElementError,
    GradcheckError,
    GradcheckReport,
    GradcheckWarning,
    InputReport,
    KinkNote,
)
from .sweep import EpsSweep, eps_sweep

__all__ = [
    "BlameResult", "ElementError", "EpsSweep", "GradcheckError", "GradcheckReport",
    "GradcheckWarning", "InputReport", "KinkNote", "check_gradients", "check_second_gradients",
    "eps_sweep", "gradcheck", "gradgradcheck",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import ``strategies`` (and ``catalogue``) on first use: Hypothesis is an optional extra."""
    if name in ("strategies", "catalogue"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'autograd_lite.testing' has no attribute {name!r}")
