"""The program: a list of steps on named values, pruned, and printed as one NumPy function.

What a learner reads in ``.source`` is exactly what runs: the function is compiled from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tracing import DIVERGED, Step, TraceError, Var

__all__ = ["fold_scales", "generate", "live_steps", "preallocate", "render", "simplify"]


def live_steps(steps: list[Step], outputs: Iterable[Var]) -> list[Step]:
    """Keep the steps that something visible depends on.

    Visible are the outputs, a write into an input (a parameter updated in place), and a draw
    from a random generator. A variable counts as read when any view of its memory is
    (``Var.root``), so in-place writes stay correct. A comment moves to the first step of its
    group that is kept.
    """
    outputs = list(outputs)
    live = {v.root for v in outputs}  # memory read later (through any view)
    used = set(outputs)  # variables referenced later
    kept: set[int] = set()
    for step in reversed(steps):
        if step.form == "comment":
            continue
        keep = step.effect or step.form == "check" or any(v in used for v in step.outs)
        keep = keep or any(v.root in live or v.root.binding is not None for v in step.writes)
        if not keep:
            continue
        kept.add(id(step))
        for v in (*step.reads(), *step.writes):
            used.add(v)
            live.add(v.root)
    result: list[Step] = []
    pending = None
    for step in steps:
        pending = step.comment or pending
        if id(step) in kept:
            step.comment, pending = pending, None
            result.append(step)
    return result


def simplify(steps: list[Step]) -> list[Step]:
    """Drop steps that recompute a value already at hand, and products by one.

    A repeated value is the same primitive on the same unchanged inputs; later steps read the
    earlier variable instead. Only fresh arrays that nothing writes into are merged, so no
    write can reach both.
    """
    written = {v.root for s in steps for v in s.writes}
    versions: dict[Var, int] = {}
    seen: dict[Any, Var] = {}
    alias: dict[Var, Var] = {}
    kept: list[Step] = []
    for step in steps:
        if alias:
            step.args = _substitute(step.args, alias)
            step.kwargs = dict(zip(step.kwargs, _substitute(tuple(step.kwargs.values()), alias)))
        out = step.outs[0] if len(step.outs) == 1 else None
        pure = not step.writes and not step.effect
        if out is not None and pure and out.root is out and out not in written:
            same = _identity(step, out)
            if same is not None and same.root not in written:
                alias[out] = same
                _carry(step, kept)
                continue
            key = (step.form, step.func, _key(step.args), _key(step.kwargs), _stamp(step, versions))
            if key in seen:
                alias[out] = seen[key]
                _carry(step, kept)
                continue
            seen[key] = out
        for v in step.writes:
            versions[v.root] = versions.get(v.root, 0) + 1
        kept.append(step)
    return kept


def _carry(dropped: Step, kept: list[Step]) -> None:
    """Keep a dropped step's comment for the next step (the first of its rule)."""
    if dropped.comment:
        kept.append(Step("comment", "", (), {}, (), comment=dropped.comment))


def _identity(step: Step, out: Var) -> Var | None:
    """``x`` for ``x * 1.0`` or ``1.0 * x`` when that changes neither dtype nor shape."""
    if step.form != "binop" or step.func != "*":
        return None
    a, b = step.args
    x, one = (a, b) if type(a) is Var else (b, a)
    if type(x) is not Var or type(one) is Var or isinstance(one, (tuple, list, slice)):
        return None
    try:
        unit = bool(one == 1)
    except (TypeError, ValueError):
        return None
    same = x.real.shape == out.real.shape and x.real.dtype == out.real.dtype
    return x if unit and same else None


def _substitute(values: tuple[Any, ...], alias: dict[Var, Var]) -> tuple[Any, ...]:
    out = []
    for v in values:
        if type(v) is Var:
            v = alias.get(v, v)
        elif type(v) in (tuple, list):
            v = type(v)(_substitute(tuple(v), alias))
        elif type(v) is slice:
            v = slice(*_substitute((v.start, v.stop, v.step), alias))
        out.append(v)
    return tuple(out)


def _key(value: Any) -> Any:
    if type(value) is Var:
        return ("var", id(value))
    if type(value) in (tuple, list):
        return (type(value).__name__, *(_key(v) for v in value))
    if type(value) is dict:
        return tuple((k, _key(v)) for k, v in value.items())
    if type(value) is slice:
        return ("slice", _key(value.start), _key(value.stop), _key(value.step))
    if isinstance(value, np.generic):
        return (type(value).__name__, value.item())
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (type(value).__name__, value)


def _stamp(step: Step, versions: dict[Var, int]) -> tuple[int, ...]:
    return tuple(versions.get(v.root, 0) for v in step.reads())


def fold_scales(steps: list[Step], escaping: Iterable[Var]) -> list[Step]:
    """Compute ``c · (A @ B)`` as ``(c · A) @ B`` when nothing else reads ``A @ B``.

    ``A`` is the smaller operand: an SGD step η ∂E/∂W on a gradient that is not kept scales
    the few numbers of an outer product's factor instead of every weight (the products
    differ by a rounding of the last bit).
    """
    gone = {v.root for v in escaping}
    reads: dict[Var, int] = {}
    defined: dict[Var, int] = {}
    for i, step in enumerate(steps):
        for v in (*step.reads(), *step.writes):
            reads[v.root] = reads.get(v.root, 0) + 1
        for v in step.outs:
            defined[v] = i
    inserted: dict[int, Step] = {}
    alias: dict[Var, Var] = {}
    for step in steps:
        scale = _scaling(step)
        if scale is None:
            continue
        g, c = scale
        j = defined.get(g)
        if j is None or g in gone or g.root is not g or reads.get(g) != 1 or step.outs[0] in gone:
            continue
        dot = steps[j]
        if dot.func != "np.dot" or dot.kwargs or j in inserted:
            continue
        a, b = dot.args
        if type(a) is not Var or type(b) is not Var or step.outs[0].real.dtype != g.real.dtype:
            continue
        first = a.real.size <= b.real.size
        small = a if first else b
        if small.real.size >= g.real.size:  # a dot product: scaling the result is cheaper
            continue
        scaled = Var(f"{small.name}_scaled", small.real * c)
        inserted[j] = Step("binop", "*", (small, c), {}, (scaled,), comment=None)
        dot.args = (scaled, b) if first else (a, scaled)
        alias[step.outs[0]] = g
        step.form = "comment"  # the product is gone; later steps read g itself
    out: list[Step] = []
    for i, step in enumerate(steps):
        if i in inserted:
            inserted[i].comment, step.comment = step.comment, None
            out.append(inserted[i])
        if alias:
            step.args = _substitute(step.args, alias)
            step.kwargs = dict(zip(step.kwargs, _substitute(tuple(step.kwargs.values()), alias)))
        out.append(step)
    return out


def _scaling(step: Step) -> tuple[Var, Any] | None:
    """``(g, c)`` for a step ``g * c`` or ``c * g`` with ``c`` a Python number."""
    if step.form != "binop" or step.func != "*" or len(step.outs) != 1:
        return None
    a, b = step.args
    g, c = (a, b) if type(a) is Var else (b, a)
    if type(g) is not Var or type(c) not in (float, int):
        return None
    return g, c


_UFUNCS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "power"}


def preallocate(
    steps: list[Step], escaping: Iterable[Var], min_size: int, recycled: dict[Var, Any]
) -> list[Var]:
    """Give each large temporary array a buffer made once.

    The buffer is reused from call to call and by later temporaries of the same shape and
    dtype once nothing reads the earlier one: its primitive then writes there (``out=``).
    Returns the buffers, inputs of the program.

    Values that leave the program (``escaping``: results, gradients, new optimizer state) get
    fresh arrays, since callers may keep them; a gradient in ``recycled`` (variable → the
    binding of the tensor whose ``.grad`` it becomes) is written into the memory of that
    tensor's previous gradient when nothing else refers to it (the runner checks).
    """
    gone = {v.root for v in escaping}
    last: dict[Var, int] = {}
    for i, step in enumerate(steps):
        for v in (*step.reads(), *step.writes, *step.outs):
            last[v.root] = i
    free: dict[tuple[Any, ...], list[tuple[int, Var]]] = {}
    buffers: list[Var] = []
    owner: dict[Var, Var] = {}  # a temporary -> its buffer
    for i, step in enumerate(steps):
        out = step.outs[0] if len(step.outs) == 1 else None
        if out is None or out.root is not out or not _fits(step, out, min_size):
            continue
        if out in recycled and step.func != "np.empty":
            real = np.empty_like(out.real)
            buffer = Var(f"old_{out.name}", real, binding=("recycle", recycled[out], real))
            buffers.append(buffer)
            _write_into(step, buffer)
            continue
        if out in gone:
            continue
        key = (out.real.shape, out.real.dtype.str)
        pool = free.setdefault(key, [])
        # a buffer free before this step, or (for an elementwise ufunc, which may write over
        # its own operand) the buffer of an operand that this step reads for the last time
        dying = {
            id(owner[v]) for v in step.args if type(v) is Var and last.get(v) == i and v in owner
        }
        elementwise = step.func != "np.dot"
        ready = [
            k
            for k, (end, b) in enumerate(pool)
            if end < i or (elementwise and end == i and id(b) in dying)
        ]
        if ready:
            _, buffer = pool.pop(ready[0])
        else:
            real = np.empty_like(out.real)
            buffer = Var(f"buffer{len(buffers)}", real, binding=("const", real))
            buffers.append(buffer)
        pool.append((last[out], buffer))
        owner[out] = buffer
        _write_into(step, buffer)
    return buffers


def _write_into(step: Step, buffer: Var) -> None:
    if step.func == "np.empty":
        step.form, step.func, step.args, step.kwargs = "alias", "", (buffer,), {}
        return
    if step.form in ("binop", "unop"):
        name = "negative" if step.form == "unop" else _UFUNCS[step.func]
        step.form, step.func = "call", f"np.{name}"
    step.kwargs = {**step.kwargs, "out": buffer}


def _fits(step: Step, out: Var, min_size: int) -> bool:
    """Tell whether ``step`` can write its result into a buffer.

    It can for a large array from a ufunc (or ``np.dot``, or a fresh ``np.empty``) with no
    ``out=`` of its own.
    """
    real = out.real
    if not isinstance(real, np.ndarray) or real.ndim == 0 or real.size < min_size:
        return False
    if "out" in step.kwargs or not real.flags.c_contiguous:
        return False
    if step.form == "binop":
        return step.func in _UFUNCS
    if step.form == "unop":
        return True
    if step.form != "call":
        return False
    if step.func in ("np.dot", "np.empty"):
        return True
    return isinstance(getattr(np, step.func[3:], None), np.ufunc) and "." not in step.func[3:]


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
    name = str(getattr(value, "__name__", ""))
    if isinstance(value, type) and getattr(np, name, None) is value:
        return f"np.{name}"
    if value is float or value is int or value is bool:
        return {float: "float", int: "int", bool: "bool"}[value]
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
    """Write the right-hand side (or the whole statement, for in-place steps) of ``step``."""
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
    if form == "alias":
        return render(args[0])
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
    if step.form == "check":
        var, value = step.args
        call = f"{render(var)}.item()" if step.func == "item" else f"{step.func}({render(var)})"
        return (
            f"if {call} != {render(value)}:  # checked by {step.kwargs['where']}\n"
            f"        raise RuntimeError({DIVERGED!r})"
        )
    expr = expression(step)
    if not step.outs or step.form in ("inplace", "setitem"):
        return expr
    return f"{', '.join(v.name for v in step.outs)} = {expr}"


def _widen_errstate(steps: list[Step]) -> None:
    """Widen ``np.errstate`` to one block from the first step that needs it to the last.

    Only when they all need the same one: entering it costs about a microsecond; inside it
    NumPy only stays quiet about what eager code silenced elsewhere in the step, and the
    values are the same.
    """
    marked = [i for i, s in enumerate(steps) if s.errstate]
    if not marked or any(steps[i].errstate != steps[marked[0]].errstate for i in marked):
        return
    if any(v == "raise" for v in (steps[marked[0]].errstate or {}).values()):
        return
    for step in steps[marked[0] : marked[-1] + 1]:
        step.errstate = steps[marked[0]].errstate


def generate(name: str, inputs: list[Var], steps: list[Step], results: list[str]) -> str:
    """Write the source of ``def name(*inputs): ...; return results``."""
    lines = [f"def {name}({', '.join(v.name for v in inputs)}):"]
    _widen_errstate(steps)
    errstate: dict[str, str] | None = None
    for step in steps:
        if step.errstate != errstate and step.form != "comment":
            errstate = step.errstate
            if errstate:
                args = ", ".join(f"{k}={v!r}" for k, v in sorted(errstate.items()))
                lines.append(f"    with np.errstate({args}):")
        pad = "        " if errstate else "    "
        if step.comment:
            lines.append(f"{pad}# {step.comment}")
        if step.form != "comment":
            lines.append(pad + statement(step).replace("\n", "\n" + pad[4:]))
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    return "\n".join(lines) + "\n"
