r"""Axis arguments, normalised in one place.

Every op that takes axes (the reductions, softmax and log-softmax, transpose, concatenate,
stack) turns them into non-negative axes here, in its forward, before anything uses them: a
gradient rule then never sees ``-1`` where it needs the axis it stands for (an inverse
permutation computed from raw negative axes is wrong). Out-of-range axes raise NumPy's
``AxisError`` and repeated or malformed axes a ``ValueError`` or ``TypeError``, each naming the op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["normalize_axis", "permutation", "single_axis"]


def _one(ax: Any, ndim: int, op: str, given: Any) -> int:
    if not isinstance(ax, (int, np.integer)) or isinstance(ax, (bool, np.bool_)):
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {given!r}")
    if not -ndim <= ax < ndim:
        raise np.exceptions.AxisError(int(ax), ndim, msg_prefix=op)
    return int(ax) % ndim


def _axes(axis: Any, ndim: int, op: str) -> list[int]:
    """Return each axis of ``axis`` (an int or a tuple/list of ints) as a non-negative int.

    They keep their order; a repeated axis (``(0, -2)`` on 2-D data) is an error.
    """
    given = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = [_one(ax, ndim, op, axis) for ax in given]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r} (for {ndim}-D data)")
    return out


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Return the axes to reduce over, sorted and non-negative (``None``: all axes)."""
    if axis is None:
        return None
    return tuple(sorted(_axes(axis, ndim, op)))


def single_axis(axis: Any, ndim: int, op: str) -> int:
    """One axis (softmax, concatenate, stack) as a non-negative int."""
    if isinstance(axis, (tuple, list)) or axis is None:
        raise TypeError(f"{op}: axis must be a single int, got {axis!r}")
    return _one(axis, ndim, op, axis)


def permutation(axes: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Return a transpose's axes as a permutation of ``range(ndim)`` (``None``: reverse them)."""
    if axes is None:
        return None
    given = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
    perm = tuple(_one(ax, ndim, op, axes) for ax in given)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(
            f"{op}: axes {given} are not a permutation of the {ndim} axes of {ndim}-D data "
            "(give each axis once)"
        )
    return perm
