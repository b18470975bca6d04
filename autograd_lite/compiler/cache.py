"""The compiled step: one traced program per signature, each guarded by what it assumed."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _grad_mode
from ..tensor import Tensor
from .capture import Capture
from .program import fold_scales, generate, live_steps, preallocate, simplify
from .runner import STALE, Returned, make_runner
from .tracing import DIVERGED, Traced, TraceError, Var, active
from .updates import route_updates

__all__ = ["Compiled"]

_state = _grad_mode._state
_CONSTRUCTORS = ("array", "asarray", "asanyarray", "ascontiguousarray", "zeros", "ones",
                 "empty", "full", "eye", "arange")  # fmt: skip


class _NumpyInTrace:
    """NumPy as autograd_lite's modules see it while any thread traces a step.

    Everything is NumPy itself, except that array constructors called in a thread that is
    tracing, given traced arrays (or making new ones), are recorded by that thread's recorder.
    """

    def __getattr__(self, name: str) -> Any:
        real = getattr(np, name)
        if name not in _CONSTRUCTORS:
            return real

        def construct(*args: Any, **kwargs: Any) -> Any:
            recorder = active()
            if recorder is None:
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


def _patch_numpy() -> Callable[[], None]:
    """Make ``np`` in autograd_lite's modules a :class:`_NumpyInTrace`; return what undoes it."""
    proxy = _NumpyInTrace()
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


class _Patched:
    """NumPy and the optimizers patched for tracing while any trace is in progress.

    The first trace in (in any thread) patches them, the last one out restores them; the
    patched versions act as the originals in threads that are not tracing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> None:
        with self._lock:
            if self._count == 0:
                self._undo = [_patch_numpy(), route_updates()]
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0:
                for undo in reversed(self._undo):
                    undo()
                self._undo = []


_TRACING = _Patched()


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return what a program is specialised to.

    That is the grad mode, and each argument's kind, shape, dtype and (for Tensors) whether
    it requires grad; Python scalars by value.
    """
    sig: list[Any] = [_state.enabled]
    for a in args:
        if isinstance(a, Tensor):
            d = a.data
            sig.append(("T", d.shape, d.dtype, a.requires_grad, a.grad is None))
        elif type(a) is np.ndarray:
            sig.append(("A", a.shape, a.dtype))
        elif isinstance(a, (int, float, bool, str, type(None))):
            sig.append((type(a), a))
        else:
            arr = np.asarray(a)
            sig.append(("L", arr.shape, arr.dtype))
    return tuple(sig)


#: Temporaries with at least this many elements get a buffer reused from call to call.
BUFFER_SIZE = 1024


class Program:
    """One traced program, its source, and the runner that replays it while its guards hold."""

    def __init__(self, capture: Capture, returns: Any, args: tuple[Any, ...]) -> None:
        arg_of = {id(a): i for i, a in enumerate(args) if isinstance(a, Tensor)}
        outputs: list[tuple[tuple[Any, ...], Var | None]] = []
        for binding, var in capture.outputs:
            moved = _for_args(binding, arg_of)
            if moved is not None:
                outputs.append((moved, var))
        shown = [r.var for r in _flat(returns)] + [v for _, v in outputs if v is not None]
        steps = fold_scales(live_steps(simplify(capture.steps), shown), shown)
        used = {v.root for s in steps for v in (*s.reads(), *s.writes)} | {v.root for v in shown}
        inputs = [v for v in capture.inputs if v in used]
        for v in inputs:
            binding = _for_args(v.binding, arg_of) or ("const", v.real)
            if binding[0] == "arg":
                binding = ("arg", binding[1], type(args[binding[1]]) is np.ndarray)
            v.binding = binding
        read_grads = {id(v.binding[1]) for v in inputs if v.binding[0] in ("grad", "arggrad")}
        recycled = {
            var: binding
            for binding, var in outputs
            if var is not None and binding[0] == "grad" and id(binding[1]) not in read_grads
        }
        inputs += preallocate(steps, shown, BUFFER_SIZE, recycled)
        self.source = generate("step", inputs, steps, [v.name for v in shown])
        namespace: dict[str, Any] = {"np": np}
        exec(compile(self.source, "<al.compile step>", "exec"), namespace)
        self.function: Callable[..., Any] = namespace["step"]
        tensors = []
        for ref, data, gdata in capture.tensors:
            t = ref()
            if t is not None and id(t) not in arg_of:
                tensors.append((t, data, gdata is not None))
        self.run, self.runner_source = make_runner(
            self.function, inputs, outputs, returns, capture.counters,
            (args, tensors, capture.objects),
        )  # fmt: skip


def _flat(value: Any) -> list[Returned]:
    if type(value) is Returned:
        return [value]
    if type(value) in (tuple, list):
        return [x for v in value for x in _flat(v)]
    return []


def _real_result(value: Any) -> Any:
    """Return the step's results from the trace itself (the eager results)."""
    if type(value) is Returned:
        real = value.var.real
        return real if value.array else Tensor(real)
    if type(value) in (tuple, list):
        return type(value)(_real_result(v) for v in value)
    return None


def _for_args(binding: tuple[Any, ...], arg_of: dict[int, int]) -> tuple[Any, ...] | None:
    """Rebind a binding to a tensor that is a positional argument to that argument.

    ``None`` for a tensor that no longer exists.
    """
    kind = binding[0]
    if kind in ("data", "grad"):
        t = binding[1]()
        if t is None:
            return None
        if id(t) in arg_of:
            return (f"arg{kind}", arg_of[id(t)])
        return (kind, t)
    return binding


class Compiled:
    """``fn`` traced into straight-line NumPy once per signature, then replayed.

    What a replay does not repeat: Python side effects of the step (a print, a hook's own
    bookkeeping) happen while it is traced only; arrays the step reads from outside without
    receiving them as arguments are constants of the program, read by reference (changed in
    place, the program sees it; rebound to another array, it does not). The program reuses
    buffers from call to call, so one compiled step must not run in two threads at once.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise TypeError(f"al.compile: expected a function, got {type(fn).__name__}")
        self.fn = fn
        self.cache: dict[tuple[Any, ...], list[Program]] = {}
        self.traces = 0
        self._last: Program | None = None
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The program the last call ran, as Python source that uses only NumPy."""
        if self._last is None:
            raise RuntimeError("al.compile: .source exists once the step has been called")
        return self._last.source

    def __call__(self, *args: Any) -> Any:
        """Call the step: replay its program, or trace it first."""
        last = self._last  # the common case: the program of the previous call fits again
        if last is not None:
            try:
                result = last.run(args)
            except RuntimeError as exc:
                result = self._diverged(exc, last)
            if result is not STALE:
                return result
        return self._call(args)

    def _diverged(self, exc: RuntimeError, program: Program) -> Any:
        """Forget ``program`` when a check made while tracing came out differently.

        The caller then traces anew; other errors propagate.
        """
        if not str(exc).startswith(DIVERGED):
            raise exc
        for programs in self.cache.values():
            if program in programs:
                programs.remove(program)
        self._last = None
        return STALE

    def _call(self, args: tuple[Any, ...]) -> Any:
        if _state.tracer is not None:  # called inside another trace: trace through it
            return self.fn(*args)
        if _state.anomaly:
            raise RuntimeError(
                "al.compile: anomaly mode is on; a compiled step cannot check each op, so call "
                "the function itself (uncompiled) inside detect_anomaly()"
            )
        programs = self.cache.setdefault(_signature(args), [])
        for program in list(programs):
            try:
                result = program.run(args)
            except RuntimeError as exc:
                result = self._diverged(exc, program)
                break
            if result is not STALE:
                self._last = program
                return result
        program, result = self._trace(args)
        programs.insert(0, program)
        del programs[8:]
        self._last = program
        return result

    def _trace(self, args: tuple[Any, ...]) -> tuple[Program, Any]:
        """Run the step eagerly once, recording it; the program and the step's results."""
        capture = Capture(self.fn)
        self.traces += 1
        names = _argument_names(self.fn, len(args))
        with _TRACING:
            _state.tracer = capture
            try:
                capture.start()
                traced_args = [capture.argument(i, a, names[i]) for i, a in enumerate(args)]
                result = self.fn(*traced_args)
            finally:
                _state.tracer = None
                capture.finish()
        returns = _returns(capture, result)
        program = Program(capture, returns, args)
        return program, _real_result(returns)


def _argument_names(fn: Callable[..., Any], n: int) -> list[str]:
    """Return the names of ``fn``'s first ``n`` positional parameters (``x0, x1, ...`` next)."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
    if hasattr(fn, "__self__") and names:
        names = names[1:]
    return [names[i] if i < len(names) else f"x{i}" for i in range(n)]


def _returns(capture: Capture, result: Any) -> Any:
    """Return the step's return value with each Tensor or array replaced by its variable."""
    if result is None:
        return None
    if isinstance(result, Tensor):
        d = result.data
        if type(d) is Traced and d.var is not None:
            return Returned(d.var, False)
        return Returned(capture.unwrap(np.asarray(d))[1], False)
    if isinstance(result, np.ndarray):
        return Returned(capture.unwrap(result)[1], True)
    if type(result) in (tuple, list):
        return type(result)(_returns(capture, r) for r in result)
    raise TraceError(
        f"al.compile: the step returned a {type(result).__name__}; return Tensors, a tuple "
        "of them, or None"
    )


__all__ += ["TraceError"]
