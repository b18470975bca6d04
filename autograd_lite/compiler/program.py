"""The program: a list of steps on named values, pruned, and printed as one NumPy function.

What a learner reads in ``.source`` is exactly what runs: the function is compiled from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tracing import Step, TraceError, Var

__all__ = ["generate", "live_steps", "render"]


def live_steps(steps: list[Step], outputs: Iterable[Var]) -> list[Step]:
    """The steps that something visible depends on: the outputs, a write into an input (a
    parameter updated in place), or a draw from a random generator. A variable counts as read
    when any view of its memory is (``Var.root``), so in-place writes stay correct."""
    live = {v.root for v in outputs}
    kept: list[Step] = []
    for step in reversed(steps):
        targets = (*step.outs, *step.writes)
        keep = step.effect or any(v.root in live for v in targets)
        keep = keep or any(v.root.binding is not None for v in step.writes)
        if not keep:
            continue
        kept.append(step)
        for v in step.reads():
            live.add(v.root)
        for v in step.writes:
            live.add(v.root)
    kept.reverse()
    return kept


def render(value: Any) -> str:
    """``value`` as Python source that evaluates to it (NumPy as ``np``)."""
    if type(value) is Var:
        return value.name
    if value is None or value is Ellipsis or type(value) in (bool, int, str):
        return repr(value)
    if type(value) is float:
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, np.generic):
        kind = type(value).__name__
        inner = render(value.item())
        return f"np.{kind}({inner})"
    if isinstance(value, np.dtype):
        return f"np.dtype({value.str!r})"
    if isinstance(value, type) and getattr(np, value.__name__, None) is value:
        return f"np.{value.__name__}"
    if value in (float, int, bool):
        return value.__name__  # type: ignore[no-any-return]
    if type(value) is tuple:
        inner = ", ".join(render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if type(value) is list:
        return "[" + ", ".join(render(v) for v in value) + "]"
    if type(value) is slice:
        return f"slice({render(value.start)}, {render(value.stop)}, {render(value.step)})"
    raise TraceError(f"al.compile cannot write {type(value).__name__} {value!r} as source")


def _index(idx: Any) -> str:
    def one(i: Any) -> str:
        if type(i) is slice:
            parts = [render(p) if p is not None else "" for p in (i.start, i.stop, i.step)]
            text = ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
            return text
        if i is Ellipsis:
            return "..."
        return render(i)

    if type(idx) is tuple:
        if not idx:
            return "()"
        return ", ".join(one(i) for i in idx) + ("," if len(idx) == 1 else "")
    return one(idx)


def _kwargs(kwargs: dict[str, Any]) -> list[str]:
    out = []
    for k, v in kwargs.items():
        if k == "out" and type(v) is tuple and len(v) == 1:
            v = v[0]
        out.append(f"{k}={render(v)}")
    return out


def expression(step: Step) -> str:
    """The right-hand side (or the whole statement, for in-place steps) of ``step``."""
    form, func, args = step.form, step.func, step.args
    if form == "binop":
        return f"{render(args[0])} {func} {render(args[1])}"
    if form == "inplace":
        return f"{render(args[0])} {func}= {render(args[1])}"
    if form == "unop":
        text = render(args[0])
        return f"-{text}" if not text.startswith("-") else f"-({text})"
    if form == "attr":
        return f"{render(args[0])}.{func}"
    if form == "getitem":
        return f"{render(args[0])}[{_index(args[1])}]"
    if form == "setitem":
        return f"{render(args[0])}[{_index(args[1])}] = {render(args[2])}"
    rest = [render(a) for a in args[1:]] if form == "method" else [render(a) for a in args]
    call = ", ".join([*rest, *_kwargs(step.kwargs)])
    if form == "method":
        return f"{render(args[0])}.{func}({call})"
    return f"{func}({call})"


def statement(step: Step) -> str:
    expr = expression(step)
    if not step.outs or step.form in ("inplace", "setitem"):
        return expr
    return f"{', '.join(v.name for v in step.outs)} = {expr}"


def generate(name: str, inputs: list[Var], steps: list[Step], results: list[str]) -> str:
    """The source of ``def name(*inputs): ...; return results``."""
    lines = [f"def {name}({', '.join(v.name for v in inputs)}):"]
    for step in steps:
        if step.comment:
            lines.append(f"    # {step.comment}")
        lines.append(f"    {statement(step)}")
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    return "\n".join(lines) + "\n"
