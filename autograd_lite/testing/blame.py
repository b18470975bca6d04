r"""Gradient blame: which recorded op's own rule is wrong?

When a check of a composite function fails, the function runs once more with creation sites
recorded, and every node of its graph, in forward order, is checked on its own: its rule
``backward(ḡ, o, *xs)`` against central differences of its ``forward`` on exactly the values
``xs`` it saw (to second order for :func:`gradgradcheck`). The first node that disagrees is
named, with the place in the user's code that created it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._grad_mode import enable_grad, recording_sites
from .report import BlameResult

__all__ = ["find_blame"]


def find_blame(
    fn: Callable[..., Any], problem: Any, *, order: int, eps: float, atol: float, rtol: float
) -> BlameResult | None:
    """The first op behind ``fn(*inputs)`` whose own rule fails a local check, or ``None``."""
    from .gradcheck import blame_node, forward_nodes, local_check

    with enable_grad(), recording_sites():
        args = problem.args(problem.values, leaves=True)
        result = fn(*args)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    for node in forward_nodes(outs):
        report = local_check(node, order=order, eps=eps, atol=atol, rtol=rtol)
        if report is not None and not report.passed:
            return blame_node(node, report)
    return None
