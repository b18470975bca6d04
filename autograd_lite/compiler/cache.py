"""The compiled step: one traced program per signature, each guarded by what it assumed."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _grad_mode
from ..layers import Module
from ..optim import Adam, Optimizer
from ..tensor import Tensor
from .capture import Capture, bound_value, traced_step
from .program import generate, live_steps
from .tracing import Recorder, TraceError, Traced, Var

__all__ = ["Compiled"]

_state = _grad_mode._state
_CONSTRUCTORS = ("array", "asarray", "asanyarray", "ascontiguousarray", "zeros", "ones",
                 "empty", "full", "eye", "arange")  # fmt: skip


class _NumpyInTrace:
    """What ``np`` is inside autograd_lite's modules while a step is traced: NumPy itself,
    except that array constructors given traced arrays (or making new ones) are recorded."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        real = getattr(np, name)
        if name not in _CONSTRUCTORS:
            return real
        recorder = self._recorder

        def construct(*args: Any, **kwargs: Any) -> Any:
            if _state.tracer is not recorder:
                return real(*args, **kwargs)
            first = args[0] if args else None
            if name in ("asarray", "asanyarray") and type(first) is Traced:
                dtype = kwargs.get("dtype", args[1] if len(args) > 1 else None)
                if dtype is None or np.dtype(dtype) == first.dtype:
                    return first
            elif name in ("array", "asarray", "asanyarray", "ascontiguousarray"):
                if type(first) is not Traced:
                    return real(*args, **kwargs)
            return recorder.call("call", f"np.{name}", real, args, kwargs, name)

        return construct


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    sig: list[Any] = [_state.enabled]
    for a in args:
        if isinstance(a, Tensor):
            d = a.data
            sig.append((d.shape, d.dtype, a.requires_grad))
        elif type(a) is np.ndarray:
            sig.append((a.shape, a.dtype))
        elif isinstance(a, (int, float, bool, str, type(None))):
            sig.append((type(a), a))
        else:
            arr = np.asarray(a)
            sig.append((arr.shape, arr.dtype))
    return tuple(sig)


class Program:
    """One traced program and the conditions under which replaying it is right."""

    def __init__(self, capture: Capture, returns: Any, args: tuple[Any, ...]) -> None:
        arg_of = {id(a): i for i, a in enumerate(args) if isinstance(a, Tensor)}
        self.outputs: list[tuple[tuple[Any, ...], Var | None]] = []
        for binding, var in capture.outputs:
            binding = _for_args(binding, arg_of)
            if binding is not None:
                self.outputs.append((binding, var))
        self.returns = returns
        shown = [v for v in _flat(returns) if type(v) is Var]
        shown += [v for _, v in self.outputs if v is not None]
        steps = live_steps(capture.steps, shown)
        used = {v.root for s in steps for v in (*s.reads(), *s.writes)} | {v.root for v in shown}
        self.inputs = [v for v in capture.inputs if v in used]
        for v in self.inputs:
            v.binding = _for_args(v.binding, arg_of) or ("const", v.real)
        names = [v.name for v in shown]
        self.source = generate("step", self.inputs, steps, names)
        namespace: dict[str, Any] = {"np": np}
        exec(compile(self.source, "<al.compile step>", "exec"), namespace)  # noqa: S102
        self.function: Callable[..., Any] = namespace["step"]
        self.counters = list(capture.counters)
        self.guards = _guards(capture, args)
        self.getters = [_getter(v) for v in self.inputs]
        self.n_returned = len([v for v in _flat(returns) if type(v) is Var])

    def valid(self, args: tuple[Any, ...]) -> bool:
        return all(check(args) for check in self.guards)

    def run(self, args: tuple[Any, ...]) -> Any:
        for opt, i in self.counters:
            opt.state["step"][i] += 1
        results = self.function(*[get(args) for get in self.getters])
        n = self.n_returned
        for (binding, _), value in zip(self.outputs, results[n:]):
            _write(binding, value, args)
        return _rebuild(self.returns, iter(results[:n]))


def _flat(value: Any) -> list[Any]:
    if type(value) in (tuple, list):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _rebuild(structure: Any, values: Any) -> Any:
    if type(structure) is Var:
        return Tensor(next(values))
    if type(structure) in (tuple, list):
        return type(structure)(_rebuild(s, values) for s in structure)
    return structure


def _for_args(binding: tuple[Any, ...], arg_of: dict[int, int]) -> tuple[Any, ...] | None:
    kind = binding[0]
    if kind in ("data", "grad"):
        t = binding[1]()
        if t is None:
            return None
        if id(t) in arg_of:
            return (f"arg{kind}", arg_of[id(t)])
    return binding


def _getter(var: Var) -> Callable[[tuple[Any, ...]], Any]:
    binding = var.binding
    kind = binding[0]
    if kind == "arg":
        i = binding[1]
        return lambda args: args[i].data if isinstance(args[i], Tensor) else np.asarray(args[i])
    if kind == "argdata":
        i = binding[1]
        return lambda args: args[i].data
    if kind == "arggrad":
        i = binding[1]
        return lambda args: args[i].grad.data
    if kind == "scalar":
        return _scalar_getter(binding, var.real.dtype)
    if kind == "const":
        value = binding[1]
        return lambda args: value
    if kind == "data":
        ref = binding[1]
        return lambda args: ref().data
    return lambda args: bound_value(binding)


def _scalar_getter(binding: tuple[Any, ...], dtype: Any) -> Callable[[tuple[Any, ...]], Any]:
    _, kind, opt, i, beta, *rest = binding
    steps = opt.state["step"]
    cast = dtype.type
    if kind == "adam2":
        return lambda args: cast(math.sqrt(1 - beta ** steps[i]))
    lr = rest[0]
    return lambda args: cast(lr / (1 - beta ** steps[i]))


def _write(binding: tuple[Any, ...], value: Any, args: tuple[Any, ...]) -> None:
    kind = binding[0]
    if kind == "grad":
        t = binding[1]()
        if t is not None:
            t.grad = None if value is None else Tensor(value)
    elif kind == "arggrad":
        args[binding[1]].grad = None if value is None else Tensor(value)
    elif kind == "data":
        t = binding[1]()
        if t is not None:
            t.data = value
    elif kind == "argdata":
        args[binding[1]].data = value
    elif kind == "opt":
        binding[1].state[binding[2]][binding[3]] = value
    elif kind == "attr":
        object.__setattr__(binding[1], binding[2], value)


def _guards(capture: Capture, args: tuple[Any, ...]) -> list[Callable[[tuple[Any, ...]], bool]]:
    """Checks that what the trace assumed still holds: tensors' arrays (shape, dtype), their
    hooks and gradients' presence, optimizers' settings and buffers, modules' modes."""
    guards: list[Callable[[tuple[Any, ...]], bool]] = []
    for ref, data, gdata in capture.tensors:
        t = ref()
        if t is None or any(t is a for a in args):
            continue
        guards.append(_tensor_guard(ref, data, gdata is not None))
    for obj in capture.objects:
        if isinstance(obj, Optimizer):
            guards.append(_optimizer_guard(obj))
        elif isinstance(obj, Module):
            mode = obj.training
            guards.append(lambda args, m=obj, mode=mode: m.training == mode)
    return guards


def _tensor_guard(ref: Any, data: np.ndarray, has_grad: bool) -> Callable[..., bool]:
    shape, dtype, requires = data.shape, data.dtype, ref().requires_grad

    def check(args: tuple[Any, ...]) -> bool:
        t = ref()
        if t is None or t._hooks or t.requires_grad != requires:
            return False
        if (t.grad is not None) != has_grad:
            return False
        d = t.data
        return d is data or (d.shape == shape and d.dtype == dtype)

    return check


def _optimizer_guard(opt: Optimizer) -> Callable[..., bool]:
    names = list(opt.hyperparameters)
    settings = [getattr(opt, n) for n in names]
    present = {k: [v is None for v in values] for k, values in opt.state.items()}

    def check(args: tuple[Any, ...]) -> bool:
        if [getattr(opt, n) for n in names] != settings:
            return False
        return all([v is None for v in opt.state[k]] == p for k, p in present.items())

    return check


def _patch_optimizers() -> Callable[[], None]:
    """Route Adam's (and AdamW's) ``step`` through the tracer while tracing."""
    original = Adam.step
    Adam.step = traced_step(original)  # type: ignore[method-assign]

    def undo() -> None:
        Adam.step = original  # type: ignore[method-assign]

    return undo


def _patch_numpy(recorder: Recorder) -> Callable[[], None]:
    proxy = _NumpyInTrace(recorder)
    patched = []
    for name, module in list(sys.modules.items()):
        if name.startswith("autograd_lite") and ".compiler" not in name:
            if getattr(module, "np", None) is np:
                module.np = proxy  # type: ignore[attr-defined]
                patched.append(module)

    def undo() -> None:
        for module in patched:
            module.np = np  # type: ignore[attr-defined]

    return undo


class Compiled:
    """``fn`` traced into straight-line NumPy once per signature, then replayed."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError(f"al.compile: expected a function, got {type(fn).__name__}")
        self.fn = fn
        self.cache: dict[tuple[Any, ...], list[Program]] = {}
        self.traces = 0
        self._last: Program | None = None
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @property
    def source(self) -> str:
        """The program the last call ran, as Python source that uses only NumPy."""
        if self._last is None:
            raise RuntimeError("al.compile: .source exists once the step has been called")
        return self._last.source

    def __call__(self, *args: Any) -> Any:
        if _state.tracer is not None:  # called inside another trace: trace through it
            return self.fn(*args)
        if _state.anomaly:
            raise RuntimeError(
                "al.compile: anomaly mode is on; a compiled step cannot check each op, so call "
                "the function itself (uncompiled) inside detect_anomaly()"
            )
        key = _signature(args)
        programs = self.cache.setdefault(key, [])
        for program in programs:
            if program.valid(args):
                self._last = program
                return program.run(args)
        program, result = self._trace(args)
        programs.insert(0, program)
        del programs[8:]
        self._last = program
        return result

    def _trace(self, args: tuple[Any, ...]) -> tuple[Program, Any]:
        capture = Capture(self.fn)
        undo = [_patch_numpy(capture), _patch_optimizers()]
        _state.tracer = capture
        try:
            capture.start()
            traced_args = [capture.argument(i, a) for i, a in enumerate(args)]
            result = self.fn(*traced_args)
        finally:
            _state.tracer = None
            for u in undo:
                u()
            capture.finish()
        returns = _returns(capture, result)
        self.traces += 1
        program = Program(capture, returns, args)
        return program, _rebuild(returns, iter([v.real for v in _flat(returns) if type(v) is Var]))


def _returns(capture: Capture, result: Any) -> Any:
    """The step's return value with each Tensor or array replaced by its variable."""
    if result is None:
        return None
    if isinstance(result, Tensor):
        d = result.data
        if type(d) is Traced and d.var is not None:
            return d.var
        return capture.unwrap(np.asarray(d))[1]
    if isinstance(result, np.ndarray):
        return capture.unwrap(result)[1]
    if type(result) in (tuple, list):
        return type(result)(_returns(capture, r) for r in result)
    raise TraceError(
        f"al.compile: the step returned a {type(result).__name__}; return Tensors, a tuple "
        "of them, or None"
    )


__all__ += ["TraceError"]
