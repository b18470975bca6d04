"""Anomaly mode's checks: name the op that first produced NaN or inf, and where it was made."""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _grad_mode
from ._grad_mode import AnomalyError

if TYPE_CHECKING:
    from .engine import Op

__all__ = ["check_backward", "check_forward", "creation_site", "creation_site_from"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _nonfinite(values: Sequence[Any]) -> str | None:
    """'nan' or 'inf' if any floating array among ``values`` holds one, else None."""
    for v in values:
        arr = np.asarray(v.data if hasattr(v, "_node") else v)
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            return "nan" if np.isnan(arr).any() else "inf"
    return None


def _shapes(values: Sequence[Any]) -> str:
    return ", ".join(str(np.shape(v.data if hasattr(v, "_node") else v)) for v in values)


def check_forward(op: Op, xs: Sequence[Any], out: np.ndarray) -> None:
    """In anomaly mode: raise if ``op`` just produced NaN or inf."""
    bad = _nonfinite([out])
    if bad is None:
        return
    site = creation_site_from(traceback.extract_stack()[:-1])
    already = _nonfinite(xs)
    cause = f" (its inputs already held {already})" if already else ""
    rule = _grad_mode._state.rule
    when = (
        "forward"
        if rule is None
        else (f"backward (create_graph=True), in the gradient rule of {rule!r} or its hooks")
    )
    raise AnomalyError(
        f"detect_anomaly: {op!r} produced {bad} in {when}{cause}; input shapes "
        f"{_shapes(xs)}, output shape {out.shape}; created at {site}"
    )


def check_backward(node: Op, grad: Any, grads: Sequence[Any]) -> None:
    """In anomaly mode: raise if the rule of ``node`` just produced a NaN or inf gradient."""
    bad = _nonfinite([g for g in grads if g is not None])
    if bad is None:
        return
    already = _nonfinite([grad])
    cause = f" (the gradient flowing in already held {already})" if already else ""
    raise AnomalyError(
        f"detect_anomaly: the gradient rule of {node!r} produced {bad} in backward{cause}; "
        f"input shapes {_shapes(node.xs or ())}, incoming gradient shape {np.shape(grad)}; "
        f"created at {creation_site(node) or 'an unknown place (outside detect_anomaly)'}"
    )


def creation_site(node: Op) -> str | None:
    """Return where the user's code created ``node`` ("file:line in function"), or ``None``.

    It is known if ``node`` was recorded inside
    :class:`autograd_lite._grad_mode.recording_sites`.
    """
    stack = getattr(node, "trace", None)
    return creation_site_from(stack) if stack else None


def creation_site_from(stack: Sequence[Any]) -> str:
    """Return the innermost frame of ``stack`` outside this package ("file:line in function")."""
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    frame = stack[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"
