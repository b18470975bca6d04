"""One trace of a step: what it reads and writes outside its arguments, swapped in and out.

Before the step runs, the state it can reach (parameters and tensors it touches, optimizer
buffers, modules' array attributes and random generators) is replaced by traced stand-ins, and
NumPy's array constructors in autograd_lite's modules are routed through the recorder. After it
runs, everything is put back, holding the real results, and what changed becomes the program's
outputs.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable, Iterator
from types import FunctionType
from typing import Any

import numpy as np

from ..engine import Op
from ..function import Function
from ..layers import Module
from ..optim import Optimizer
from ..tensor import Tensor
from .tracing import Recorder, Traced, Var, generator

__all__ = ["Capture", "reachable"]

#: What a program input is read from at each call (see ``Compiled``), or an output written to.
Binding = tuple[Any, ...]


def reachable(fn: Callable[..., Any]) -> list[tuple[str, Any]]:
    """Find the modules, optimizers and tensors that ``fn`` can reach, as ``(path, object)``.

    Reachable are its closure, the globals it names, its defaults and its bound object, and
    (two levels down) their attributes, their items and the closures of functions among them.
    ``path`` is the name it is reached by (``"model"``).
    """
    roots: list[tuple[str, Any]] = []
    self_obj = getattr(fn, "__self__", None)
    if self_obj is not None:
        roots += (
            [(k, v) for k, v in vars(self_obj).items()] if hasattr(self_obj, "__dict__") else []
        )
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is not None:
        roots += _closure(func)
        glob = getattr(func, "__globals__", {})
        roots += [(n, glob[n]) for n in dict.fromkeys(_names(code)) if n in glob]
        roots += [("default", d) for d in getattr(func, "__defaults__", None) or ()]
    found: list[tuple[str, Any]] = []
    _collect(roots, found, set(), 2)
    return found


def _closure(func: Any) -> list[tuple[str, Any]]:
    """Return the ``(name, value)`` of each filled cell of ``func``'s closure."""
    cells = getattr(func, "__closure__", None) or ()
    return [(n, c.cell_contents) for n, c in zip(func.__code__.co_freevars, cells) if _filled(c)]


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _names(code: Any) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            yield from _names(const)


def _collect(
    values: list[tuple[str, Any]], found: list[tuple[str, Any]], seen: set[int], depth: int
) -> None:
    for path, v in values:
        if id(v) in seen or isinstance(v, (type, str, bytes, int, float, np.ndarray)):
            continue
        seen.add(id(v))
        if isinstance(v, (Module, Optimizer, Tensor)):
            found.append((path, v))
            if isinstance(v, Module):
                for m in v.modules():
                    if id(m) not in seen:
                        seen.add(id(m))
                        found.append((path, m))
            continue
        if depth and isinstance(v, FunctionType):  # a function the step calls: its closure
            _collect(_closure(v), found, seen, depth - 1)
            continue
        if not depth or callable(v):
            continue
        if type(v) in (list, tuple):
            _collect([(f"{path}_{i}", x) for i, x in enumerate(v)], found, seen, depth - 1)
        elif type(v) is dict:
            items = [(f"{path}_{k}", x) for k, x in v.items()]
            _collect(items, found, seen, depth - 1)
        elif hasattr(v, "__dict__") and type(v).__module__ != "builtins":
            _collect([(f"{path}_{k}", x) for k, x in vars(v).items()], found, seen, depth - 1)


def _identifier(path: str) -> str:
    parts = [p.strip("_") for p in path.replace(".", "_").split("_")]
    return "_".join(p for p in parts if p) or "param"


def _param_names(objects: list[tuple[str, Any]]) -> dict[int, str]:
    """Each reachable parameter's name: the path to its module and its name there."""
    names: dict[int, str] = {}
    for path, obj in objects:  # a tensor the step names itself is called that
        if isinstance(obj, Tensor):
            names.setdefault(id(obj), _identifier(path))
    for path, obj in objects:
        if isinstance(obj, Module):
            for name, p in obj.named_parameters():
                names.setdefault(id(p), _identifier(f"{path}.{name}"))
    return names


def _real(value: Any) -> Any:
    return value.view(np.ndarray) if type(value) is Traced else value


class Capture(Recorder):
    """The recorder of one trace, with the state of the objects the step reaches."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        found = reachable(fn)
        self.objects = [obj for _, obj in found]
        self.names = _param_names(found)
        self.tensors: list[tuple[Any, np.ndarray, Any]] = []  # (ref, data, grad data) at start
        self.restore: list[Callable[[], None]] = []
        self.outputs: list[tuple[Binding, Var | None]] = []
        self.counters: list[tuple[Optimizer, int]] = []
        self.rules: dict[int, str] = {}
        self._comment: tuple[Any, ...] | None = None
        self.context = self._context

    # -- inputs -----------------------------------------------------------------------------

    def on_tensor(self, t: Any) -> None:
        """Bind a tensor's array (and its gradient's) as inputs read at each call."""
        data = t.data
        var = self.lookup(data)
        if var is not None:  # a new Tensor around an array the step computed
            t.data = self.traced(data, var)
            return
        ref = weakref.ref(t)
        name = self.names.get(id(t), "tensor")
        t.data = self.bind(data, name, ("data", ref))
        grad = t.grad
        gdata = None
        if grad is not None:
            gdata = grad.data
            grad.data = self.bind(gdata, "grad_" + name, ("grad", ref))
        self.tensors.append((ref, data, gdata))

    def argument(self, i: int, value: Any, name: str) -> Any:
        """Positional argument ``i`` (called ``name``) as the step sees it while traced."""
        if isinstance(value, Tensor):
            self.names[id(value)] = name
            self.on_tensor(value)
            return value
        return self.bind(np.asarray(value), name, ("arg", i))

    def start(self) -> None:
        """Swap the reachable state for traced stand-ins."""
        for obj in self.objects:
            if isinstance(obj, Optimizer):
                self._optimizer(obj)
            elif isinstance(obj, Module):
                self._module(obj)

    def _optimizer(self, opt: Optimizer) -> None:
        for key, values in opt.state.items():
            for i, value in enumerate(values):
                if isinstance(value, np.ndarray):
                    name = f"{key}_{self.names.get(id(opt.params[i]), i)}"
                    values[i] = self.bind(value, name, ("opt", opt, key, i))

    def _module(self, module: Module) -> None:
        for key, value in list(vars(module).items()):
            if type(value) is np.ndarray:
                hint = f"{type(module).__name__.lower()}_{key}"
                object.__setattr__(module, key, self.bind(value, hint, ("attr", module, key)))
            elif isinstance(value, np.random.Generator):
                object.__setattr__(module, key, generator(self, value, "rng"))
                self.restore.append(functools.partial(object.__setattr__, module, key, value))

    def scalar(self, value: float, dtype: Any, binding: Binding, hint: str) -> Traced:
        """Bind a number the program reads at each call (``binding`` says how it is computed)."""
        return self.bind(np.asarray(value, dtype=dtype), hint, ("scalar", *binding))

    # -- outputs ----------------------------------------------------------------------------

    def finish(self) -> None:
        """Put the real arrays back, and note what the step changed as outputs."""
        for undo in reversed(self.restore):
            undo()
        for ref, data, gdata in self.tensors:
            t = ref()
            if t is None:
                continue
            self._tensor_out(t, data, gdata, ref)
        for obj in self.objects:
            if isinstance(obj, Optimizer):
                for key, values in obj.state.items():
                    for i, value in enumerate(values):
                        if type(value) is Traced:
                            binding: Binding = ("opt", obj, key, i)
                            if value.var is None or value.var.binding != binding:
                                self._out(binding, value)
                            values[i] = _real(value)
            elif isinstance(obj, Module):
                for key, value in list(vars(obj).items()):
                    if type(value) is Traced:
                        where: Binding = ("attr", obj, key)
                        if value.var is None or value.var.binding != where:
                            self._out(where, value)
                        object.__setattr__(obj, key, _real(value))

    def _tensor_out(self, t: Any, data: np.ndarray, gdata: Any, ref: Any) -> None:
        now = t.data
        if type(now) is Traced:
            if now.var is not None and now.var.binding is not None:
                t.data = data
            else:
                self._out(("data", ref), now)
                t.data = _real(now)
        grad = t.grad
        if grad is None:
            if gdata is not None:
                self.outputs.append((("grad", ref), None))
            return
        if type(grad.data) is Traced:
            var = grad.data.var
            if var is not None and var.binding is not None and var.binding[0] == "grad":
                grad.data = gdata  # untouched
            else:
                self._out(("grad", ref), grad.data)
                t.grad = Tensor(_real(grad.data))
        elif gdata is None or grad.data is not gdata:
            self._out(("grad", ref), self.as_traced(grad.data))

    def _out(self, binding: Binding, value: Any) -> None:
        var = value.var if type(value) is Traced else None
        if var is None:
            var = self.unwrap(value)[1]
        self.outputs.append((binding, var))

    # -- comments ---------------------------------------------------------------------------

    def _context(self) -> str | None:
        """Return a comment for the next step, when it starts a new op's forward, rule or update."""
        frame = sys._getframe(3)
        key: tuple[Any, ...] = ("step",)
        text = None
        while frame is not None:
            code = frame.f_code
            owner = frame.f_locals.get("self")
            if code.co_name in ("forward", "backward") and isinstance(owner, Op):
                key = (code.co_name, id(owner))
                text = _op_comment(owner, code.co_name)
                if not _custom(owner):  # a custom Function's inner ops are part of it
                    outer = _custom_frame(frame)
                    if outer is not None:
                        key = (outer.f_code.co_name, id(outer.f_locals["self"]))
                        text = _op_comment(outer.f_locals["self"], outer.f_code.co_name)
                break
            if isinstance(owner, Optimizer):
                key, text = ("opt", id(owner)), f"{type(owner).__name__}: update the parameters"
                break
            if code.co_name == "walk_backward":
                key, text = ("walk",), "backward: sum the gradients that meet, undo broadcasting"
                break
            if code.co_name == "backward" and isinstance(owner, Tensor):
                key, text = ("acc",), "backward: accumulate into .grad"
                break
            frame = frame.f_back  # type: ignore[assignment]
        if key == self._comment:
            return None
        self._comment = key
        return text


def _custom(op: Op) -> bool:
    """Whether ``op`` runs a user's :class:`Function`."""
    fn = getattr(op, "fn", None)
    return isinstance(fn, type) and issubclass(fn, Function)


def _custom_frame(frame: Any) -> Any:
    """Find the frame of a custom Function's forward or backward that ``frame`` runs inside."""
    while frame is not None:
        owner = frame.f_locals.get("self")
        if frame.f_code.co_name in ("forward", "backward") and isinstance(owner, Op):
            if _custom(owner):
                return frame
        frame = frame.f_back
    return None


def _op_comment(op: Op, phase: str) -> str:
    if phase == "forward":
        return f"{op.name} (custom Function)" if _custom(op) else op.name
    try:
        rule = " ".join(op.rule().split())
    except Exception:  # a rule text that cannot be made is no reason to fail the trace
        rule = ""
    return f"backward of {op.name}: {rule}"[:150].rstrip()
