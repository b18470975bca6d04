"""``al.compile``: trace a whole training step once into straight-line NumPy, then replay it.

The first call with a given signature runs the step eagerly while every NumPy primitive it
computes (forward ops, the backward walk's rules, the accumulation into ``.grad``, the
optimizer's update) is recorded (:mod:`.tracing`, :mod:`.capture`); the recorded steps are
pruned and printed as one Python function (:mod:`.program`), which later calls run while the
assumptions the trace made hold (:mod:`.cache`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .cache import Compiled
from .tracing import TraceError

__all__ = ["Compiled", "TraceError", "compile"]


def compile(fn: Callable[..., Any]) -> Compiled:
    """Return ``fn`` compiled: traced on its first call per signature, replayed afterwards.

    Parameters
    ----------
    fn
        A training step taking Tensors or arrays positionally and returning a Tensor, a tuple
        of Tensors, or ``None``.

    Returns
    -------
    Compiled
        A callable with the results of ``fn``; ``.source`` is the program it runs.
    """
    return Compiled(fn)
