r"""Gradient blame: find the recorded op whose own rule is wrong.

When a check of a composite function fails, the function runs once more with creation sites
recorded, and every node of its graph, in forward order, is checked on its own: its rule
``backward(ḡ, o, *xs)`` against central differences of its ``forward`` on exactly the values
``xs`` it saw (to second order for :func:`gradgradcheck`). The first node that disagrees is
named, with the place in the user's code that created it. For a second-order failure the
blamed node's first-order rule is checked too, so that the message can say which of the two
is wrong; if no node fails to second order, the first node whose first-order rule is wrong is
named (a wrong rule can be differentiable, so that its own derivative agrees with it).

The local checks themselves are the caller's (``checks``: the first- and second-order check
functions), so this module depends on nothing but the engine and the report.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._anomaly import creation_site
from .._grad_mode import enable_grad, recording_sites
from ..engine import Op, topological_order
from ..tensor import Tensor
from .report import BlameResult, ElementError, GradcheckReport, GradcheckWarning

__all__ = ["find_blame", "forward_nodes", "local_check"]

Check = Callable[..., GradcheckReport]


def find_blame(
    fn: Callable[..., Any],
    args: list[Any],
    *,
    order: int,
    eps: float,
    atol: float,
    rtol: float,
    checks: tuple[Check, Check],
) -> BlameResult | None:
    """Return the first op behind ``fn(*args)`` whose own rule fails a local check, or ``None``.

    ``checks`` are the first- and second-order checks, called as ``check(fn, inputs, eps=...,
    atol=..., rtol=..., blame=False)``.
    """
    with enable_grad(), recording_sites(), np.errstate(all="ignore"):
        result = fn(*args)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    tolerances = {"eps": eps, "atol": atol, "rtol": rtol}
    nodes = forward_nodes(outs)
    for node in nodes:
        report = local_check(node, checks[order - 1], **tolerances)
        if report is not None and _fails(report):
            first_ok = None
            if order == 2:
                first = local_check(node, checks[0], **tolerances)
                first_ok = first is None or not _fails(first)
            return blame_node(node, report, order, first_ok)
    if order == 2:  # a wrong first-order rule can be differentiable and still fail order 2
        for node in nodes:
            report = local_check(node, checks[0], **tolerances)
            if report is not None and _fails(report):
                return blame_node(node, report, 1)
    return None


def _fails(report: GradcheckReport) -> bool:
    return any(e.rule_failure for r in report.inputs for e in r.worst)


def fresh_op(node: Op) -> Op:
    """Return a new op like ``node`` (same class and parameters), safe to run forward again.

    A node that holds more than its parameters (a custom Function's context) says how to make
    a fresh one through ``__copy__``.
    """
    return copy.copy(node)


def local_check(
    node: Op, check: Check, *, eps: float, atol: float, rtol: float
) -> GradcheckReport | None:
    """Run ``check`` on ``node``'s own rule at the values its forward saw.

    ``None`` if there is nothing to check (no input of ``node`` needs a gradient).
    """
    assert node.inputs is not None and node.xs is not None
    local_inputs: list[Any] = []
    any_checked = False
    for x, need, xv in zip(node.inputs, node.needs, node.xs):
        if isinstance(x, Tensor):
            arr = np.asarray(xv)
            if need and arr.dtype.kind == "f":
                local_inputs.append(Tensor(arr.astype(np.float64), requires_grad=True))
                any_checked = True
            else:
                local_inputs.append(Tensor._wrap(arr))
        else:
            local_inputs.append(xv)
    if not any_checked:
        return None

    def local_fn(*args: Any) -> Tensor:
        return Tensor._apply(fresh_op(node), *args)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        return check(local_fn, local_inputs, eps=eps, atol=atol, rtol=rtol, blame=False)


def forward_nodes(outputs: Sequence[Any]) -> list[Op]:
    """Every recorded node behind ``outputs``, each after the nodes it depends on."""
    seen: set[int] = set()
    order = []
    for out in outputs:
        node = getattr(out, "_node", None)
        if node is None:
            continue
        for n in topological_order(node):
            if id(n) not in seen:
                seen.add(id(n))
                order.append(n)
    return order


def severity(e: ElementError) -> tuple[bool, float]:
    """Sort key of a failed entry: non-finite ones first, then by absolute error."""
    finite = math.isfinite(e.analytic) and math.isfinite(e.numeric)
    return (not finite, e.abs_error if finite else math.inf)


def blame_node(
    node: Op, report: GradcheckReport, order: int = 1, first_order_ok: bool | None = None
) -> BlameResult:
    """Return the :class:`BlameResult` of ``node``, whose local ``report`` failed."""
    worst = max((e for r in report.inputs for e in r.worst if e.failed), key=severity)
    text = str(node)  # the op with its parameters, or what kind of node it is
    return BlameResult(
        node.name,
        text,
        creation_site(node),
        worst.input,
        worst.index,
        worst.analytic,
        worst.numeric,
        worst.abs_error,
        order,
        first_order_ok,
    )
