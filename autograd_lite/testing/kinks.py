r"""Where built-in ops are not differentiable, and whether a finite-difference stencil crosses it.

Each kinky op gets a *branch mask*: an integer array saying on which side of its kink every
element of its input lies (and exactly on it, as a value of its own):

============  ==================================================
op            mask
============  ==================================================
``ReLU``      sign(x)
``Abs``       sign(x)
``Maximum``   sign(a − b)  (ties: 0)
``Minimum``   sign(a − b)
``Max/Min``   [a = result] (which elements attain the extreme)
``Clip``      sign(x − low) + sign(x − high)
============  ==================================================

An input element whose stencil points x ± ε·eᵢ give different masks for some op (or an op
whose input sits exactly on its kink) has a one-sided derivative there, and the central
difference averages two different slopes: the element is "not differentiable at" that op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._anomaly import creation_site
from ..engine import Op, topological_order
from ..ops import Abs, Clip, Max, Maximum, Minimum, ReLU

__all__ = ["branch_mask", "first_difference", "graph_masks"]


def branch_mask(node: Op) -> np.ndarray | None:
    """The branch mask of a recorded ``node`` (see the module docstring), or ``None``."""
    xs = node.xs
    if xs is None:
        return None
    if isinstance(node, (ReLU, Abs)):
        return np.sign(np.asarray(xs[0]))
    if isinstance(node, (Maximum, Minimum)):
        return np.sign(np.asarray(xs[0]) - np.asarray(xs[1]))
    if isinstance(node, Max):  # Min is a subclass
        a = np.asarray(xs[0])
        out = np.asarray(node.out)
        return (a == node.expand(out, a.shape)).astype(np.int8)
    if isinstance(node, Clip):
        a = np.asarray(xs[0])
        mask = np.zeros(a.shape)
        if node.low is not None:
            mask += np.sign(a - node.low)
        if node.high is not None:
            mask += np.sign(a - node.high)
        return mask
    return None


def graph_masks(outputs: list[Any]) -> list[tuple[Op, np.ndarray]]:
    """The branch masks of every kinky node behind ``outputs`` (Tensors), in forward order."""
    seen: set[int] = set()
    found = []
    for out in outputs:
        node = getattr(out, "_node", None)
        if node is None:
            continue
        for n in topological_order(node):
            if id(n) in seen:
                continue
            seen.add(id(n))
            mask = branch_mask(n)
            if mask is not None:
                found.append((n, mask))
    return found


def first_difference(
    plus: list[tuple[Op, np.ndarray]], minus: list[tuple[Op, np.ndarray]]
) -> tuple[str, str | None] | None:
    """The first kinky op whose mask differs between the two stencil points, as
    ``(description, creation site)``; ``None`` if none does (or the graphs differ in shape)."""
    if len(plus) != len(minus):
        return None
    for (p, mp), (m, mm) in zip(plus, minus):
        if type(p) is not type(m) or mp.shape != mm.shape:
            return None
        if not np.array_equal(mp, mm):
            return repr(p), creation_site(p)
    return None
