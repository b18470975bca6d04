"""The Python around a traced program: check its guards, read its inputs, write its outputs.

All of it is generated as one small function per program (``run(args)``), so a replay costs
a few attribute reads beyond the NumPy calls themselves. ``run`` returns :data:`STALE` when a
guard fails: the caller then traces the step anew.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _grad_mode
from ..layers import Module
from ..optim import Optimizer
from ..tensor import Tensor
from .tracing import Var

__all__ = ["STALE", "Returned", "make_runner"]

STALE = object()  #: what ``run`` returns when the program's assumptions no longer hold


class Returned:
    """A returned value (a Tensor or, with ``array=True``, a plain array) by its variable."""

    __slots__ = ("array", "var")

    def __init__(self, var: Var, array: bool) -> None:
        self.var, self.array = var, array


class _Writer:
    """Source text of the runner, with the objects it refers to as named globals."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"np": np, "Tensor": Tensor, "math": math}
        self.ids: dict[int, str] = {}
        self.lines: list[str] = []

    def ref(self, obj: Any, hint: str = "o") -> str:
        name = self.ids.get(id(obj))
        if name is None:
            name = self.ids[id(obj)] = f"{hint}{len(self.names)}"
            self.names[name] = obj
        return name


def _tensor(binding: tuple[Any, ...], w: _Writer) -> str:
    """Write the expression for the tensor a ``data``/``grad`` binding names."""
    if binding[0].startswith("arg"):
        return f"args[{binding[1]}]"
    return w.ref(binding[1], "t")


def _read(var: Var, w: _Writer) -> str:
    b = var.binding
    kind = b[0]
    if kind == "arg":
        return f"args[{b[1]}]" if b[2] else f"np.asarray(args[{b[1]}])"
    if kind in ("data", "argdata"):
        return f"{_tensor(b, w)}.data"
    if kind in ("grad", "arggrad"):
        return f"{_tensor(b, w)}.grad.data"
    if kind == "opt":
        return f"{w.ref(b[1])}.state[{b[2]!r}][{b[3]}]"
    if kind == "attr":
        return f"{w.ref(b[1])}.{b[2]}"
    if kind == "recycle":
        w.names["recycle"] = _recycle
        return f"recycle({_tensor(b[1], w)}._grad, {w.ref(b[2], 'like')})"
    if kind == "scalar":
        _, which, opt, i, beta, *rest = b
        count = f"{w.ref(opt)}.state['step'][{i}]"
        cast = w.ref(var.real.dtype.type, "cast")
        if which == "adam2":
            return f"{cast}(math.sqrt(1 - {beta!r} ** {count}))"
        return f"{cast}({rest[0]!r} / (1 - {beta!r} ** {count}))"
    return w.ref(b[1], "c")


def _write(binding: tuple[Any, ...], value: str, w: _Writer) -> str:
    kind = binding[0]
    if kind in ("grad", "arggrad"):
        return f"{_tensor(binding, w)}._grad = None if {value} is None else Tensor._wrap({value})"
    if kind in ("data", "argdata"):
        return f"{_tensor(binding, w)}.data = {value}"
    if kind == "opt":
        return f"{w.ref(binding[1])}.state[{binding[2]!r}][{binding[3]}] = {value}"
    return f"object.__setattr__({w.ref(binding[1])}, {binding[2]!r}, {value})"


def _argument_checks(args: tuple[Any, ...], w: _Writer) -> list[str]:
    """Check that the arguments are of the traced kinds, shapes and dtypes.

    Tensors must also require grad and hold a gradient as when traced.
    """
    checks = [f"len(args) == {len(args)}"]
    for i, a in enumerate(args):
        x = f"args[{i}]"
        if isinstance(a, Tensor):
            d = a.data
            checks.append(f"type({x}) is {w.ref(type(a), 'cls')}")
            checks.append(
                f"{x}.data.shape == {d.shape!r} and {x}.data.dtype == {w.ref(d.dtype, 'dt')}"
            )
            checks.append(f"{x}._requires_grad is {a.requires_grad}")
            checks.append(f"({x}._grad is {'' if a.grad is None else 'not '}None)")
        elif type(a) is np.ndarray:
            checks.append(f"type({x}) is np.ndarray and {x}.shape == {a.shape!r}")
            checks.append(f"{x}.dtype == {w.ref(a.dtype, 'dt')}")
        elif isinstance(a, (bool, int, float, str, type(None))):
            checks.append(f"type({x}) is {type(a).__name__} and {x} == {a!r}")
        else:
            checks.append("False")  # converted arguments: matched by signature, not here
    return checks


def _guards(
    args: tuple[Any, ...], tensors: list[tuple[Any, np.ndarray, bool]], objects: list[Any],
    w: _Writer,
) -> list[str]:  # fmt: skip
    """Write the conditions for replaying a program.

    No trace in progress, no anomaly mode, the traced grad mode; the arguments as traced;
    each tensor's array (the same, or one of the same shape and dtype), no hooks, gradients
    present as when traced; optimizers' settings and buffers; modules' training modes.
    """
    w.names["state"] = _grad_mode._state
    checks = [
        "state.tracer is None and not state.anomaly",
        f"state.enabled is {_grad_mode._state.enabled}",
    ]
    checks += _argument_checks(args, w)
    for t, data, has_grad in tensors:
        name, d = w.ref(t, "t"), w.ref(data, "d")
        same = w.ref(_same_layout(data), "same")
        checks.append(f"({name}.data is {d} or {same}({name}.data))")
        checks.append(f"not {name}._hooks")
        checks.append(f"({name}._grad is {'not ' if has_grad else ''}None)")
        checks.append(f"{name}._requires_grad is {t.requires_grad}")
    for obj in objects:
        o = w.ref(obj)
        if isinstance(obj, Optimizer):
            for key in obj.hyperparameters:
                checks.append(f"{o}.{key} == {w.ref(getattr(obj, key), 'h')}")
            for key, values in obj.state.items():
                for i, v in enumerate(values):
                    if not isinstance(v, int):
                        checks.append(
                            f"({o}.state[{key!r}][{i}] is {'' if v is None else 'not '}None)"
                        )
        elif isinstance(obj, Module):
            checks.append(f"{o}.training is {obj.training}")
    return checks


def _recycle(grad: Any, like: np.ndarray) -> np.ndarray:
    """Return the array to write a tensor's new gradient into.

    That is the array of ``grad`` (its previous gradient) when only that tensor refers to it
    and it fits ``like``; else a new array.
    """
    if grad is not None and sys.getrefcount(grad) <= 3:  # the tensor's slot, ours, the call's
        a = grad.data
        if (
            sys.getrefcount(a) <= 3  # the gradient's slot, the local name, the call's
            and a.base is None
            and a.shape == like.shape
            and a.dtype == like.dtype
            and a.flags.writeable
            and a.flags.c_contiguous
        ):
            return a  # type: ignore[no-any-return]
    return np.empty_like(like)


def _same_layout(data: np.ndarray) -> Callable[[Any], bool]:
    shape, dtype = data.shape, data.dtype
    return lambda d: d.shape == shape and d.dtype == dtype


def make_runner(
    step: Callable[..., Any],
    inputs: list[Var],
    outputs: list[tuple[tuple[Any, ...], Var | None]],
    returns: Any,
    counters: list[tuple[Optimizer, int]],
    guarded: tuple[tuple[Any, ...], list[tuple[Any, np.ndarray, bool]], list[Any]],
) -> tuple[Callable[[tuple[Any, ...]], Any], str]:
    """``run(args)`` for a program ``step``, and its source."""
    w = _Writer()
    w.names["step"] = step
    lines = ["def run(args):"]
    checks = _guards(*guarded, w)
    if checks:
        lines.append("    if not (" + "\n            and ".join(checks) + "):")
        lines.append("        return STALE")
    w.names["STALE"] = STALE
    for opt, i in counters:
        lines.append(f"    {w.ref(opt)}.state['step'][{i}] += 1")
    reads = ", ".join(_read(v, w) for v in inputs)
    lines.append(f"    r = step({reads})")
    shown = _returned(returns)
    for k, (binding, var) in enumerate(outputs):
        value = "None" if var is None else f"r[{len(shown) + k}]"
        lines.append(f"    {_write(binding, value, w)}")
    lines.append(f"    return {_rebuild(returns, iter(range(len(shown))))}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<al.compile runner>", "exec"), w.names)
    return w.names["run"], source


def _returned(value: Any) -> list[Var]:
    if type(value) is Returned:
        return [value.var]
    if type(value) in (tuple, list):
        return [v for x in value for v in _returned(x)]
    return []


def _rebuild(value: Any, index: Any) -> str:
    if type(value) is Returned:
        k = next(index)
        return f"r[{k}]" if value.array else f"Tensor._wrap(r[{k}])"
    if type(value) is tuple:
        inner = ", ".join(_rebuild(v, index) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    if type(value) is list:
        return "[" + ", ".join(_rebuild(v, index) for v in value) + "]"
    return "None"
