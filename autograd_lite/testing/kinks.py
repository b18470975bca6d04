r"""Where built-in ops are not differentiable, and whether a finite-difference stencil crosses it.

Each kinky op declares a *branch mask* beside its rule (``checks.kink_mask``, see
:mod:`autograd_lite.ops.checks`): an integer array saying on which side of its kink every
element of its input lies (and exactly on it, as a value of its own). The built-in ones:

============  ==================================================
op            mask
============  ==================================================
``ReLU``      sign(x)
``Abs``       sign(x)
``Maximum``   sign(a − b)  (ties: 0)
``Minimum``   sign(a − b)
``Max/Min``   [a = result] (which elements attain the extreme)
``Clip``      sign(x − low) + sign(x − high)
``LeakyReLU`` sign(x)
``ELU``       sign(x)
``L1Loss``    sign(o − t)
``HuberLoss`` sign(|o − t| − δ)
``MaxPool2d`` [window = result] (which elements attain each window's maximum)
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
from ..ops.checks import checks_of

__all__ = ["branch_mask", "first_difference", "graph_masks"]


def branch_mask(node: Op) -> np.ndarray | None:
    """Return the branch mask of a recorded ``node`` (its ``checks.kink_mask``), or ``None``."""
    mask = checks_of(node).kink_mask
    if mask is None or node.xs is None:
        return None
    return np.asarray(mask(node, node.xs, node.out))


def graph_masks(outputs: list[Any]) -> list[tuple[Op, np.ndarray]]:
    """Return the branch masks of every kinky node behind ``outputs``, in forward order."""
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
    """Return the first kinky op whose mask differs between the two stencil points.

    As ``(description, creation site)``; ``None`` if none does (or the graphs differ in shape).
    """
    if len(plus) != len(minus):
        return None
    for (p, mp), (m, mm) in zip(plus, minus):
        if type(p) is not type(m) or mp.shape != mm.shape:
            return None
        if not np.array_equal(mp, mm):
            return repr(p), creation_site(p)
    return None
