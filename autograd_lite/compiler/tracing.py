"""The recorder: arrays that log every NumPy primitive computed on them.

While a step is traced, every array the step computes with is a :class:`Traced` array: an
``ndarray`` holding the real values, tagged with the program variable (:class:`Var`) that names
it. NumPy's protocols (``__array_ufunc__``, ``__array_function__``) and the methods overridden
below report each primitive to the :class:`Recorder`, which computes it on the real arrays and
appends one :class:`Step` to the program.
"""

from __future__ import annotations

import keyword
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import _grad_mode
from ..engine import Op

__all__ = ["Recorder", "Step", "TraceError", "Traced", "Var"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))
_state = _grad_mode._state


class TraceError(RuntimeError):
    """A step cannot be traced: its Python control flow depends on a traced value."""


def user_line() -> str:
    """``file:line: code`` of the innermost frame outside autograd_lite and NumPy."""
    for frame in reversed(traceback.extract_stack()):
        path = os.path.abspath(frame.filename)
        if not path.startswith((_PACKAGE, _NUMPY)):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown line>"


def data_dependent(what: str) -> TraceError:
    """Make the error for Python code that needs a traced value's contents."""
    return TraceError(
        f"al.compile: {what} needs the value of a traced array, so the step's Python control "
        f"flow would depend on its data, at {user_line()}; compute it with array operations "
        "(al.where, al.maximum), or leave this step uncompiled"
    )


class Var:
    """One named value of the program.

    ``root`` is the variable whose memory this one views (itself for a fresh array);
    ``binding`` says where an input comes from (``None`` for values the program computes).
    """

    __slots__ = ("binding", "name", "real", "root")

    def __init__(self, name: str, real: Any, root: Var | None = None, binding: Any = None):
        self.name = name
        self.real = real
        self.root: Var = self if root is None else root
        self.binding = binding

    def __repr__(self) -> str:
        """Show the variable's name."""
        return self.name


class Step:
    """One primitive: ``outs = func(*args, **kwargs)``, printed in the given ``form``.

    ``form`` is ``call`` (``np.exp(a)``), ``method`` (``a.reshape(s)``), ``attr`` (``a.T``),
    ``getitem``, ``setitem``, ``binop`` (``a @ b``) or ``unop`` (``-a``). ``writes`` are the
    variables it changes in place (``out=``); ``effect`` marks a step kept even if nothing reads
    its result (a draw from a random generator).
    """

    __slots__ = (
        "args", "comment", "effect", "errstate", "form", "func", "kwargs", "outs", "writes",
    )  # fmt: skip

    def __init__(
        self,
        form: str,
        func: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        outs: tuple[Var, ...],
        writes: tuple[Var, ...] = (),
        comment: str | None = None,
        effect: bool = False,
    ) -> None:
        self.form, self.func, self.args, self.kwargs = form, func, args, kwargs
        self.outs, self.writes, self.comment, self.effect = outs, writes, comment, effect
        #: NumPy's floating-point error handling while the step ran, where the traced code
        #: changed it (``np.errstate(over="ignore")`` around an exp that may overflow).
        self.errstate: dict[str, str] | None = None

    def reads(self) -> Iterator[Var]:
        """Every variable among the arguments."""
        yield from _vars_in(self.args)
        yield from _vars_in(tuple(self.kwargs.values()))


def _vars_in(values: Any) -> Iterator[Var]:
    for v in values:
        if type(v) is Var:
            yield v
        elif type(v) in (tuple, list):
            yield from _vars_in(v)
        elif type(v) is slice:
            yield from _vars_in((v.start, v.stop, v.step))


def _owner(a: np.ndarray) -> Any:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _layout(a: np.ndarray) -> tuple[Any, ...]:
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


_BINOPS = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "divide": "/",
    "matmul": "@",
    "power": "**",
}
_INPLACE = {"add", "subtract", "multiply", "divide"}
#: Hints that would shadow a name the source uses (builtins, NumPy's module name).
_RENAMED = {"sum": "total", "max": "largest", "min": "smallest", "abs": "magnitude",
            "np": "array", "any": "some", "all": "every", "copy": "copied"}  # fmt: skip
#: NumPy functions that return facts about shapes and types, never about values.
_STATIC = {"shape", "ndim", "size", "result_type", "iscomplexobj", "isrealobj", "can_cast"}


def _numpy_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for prefix, module in (
        ("np.lib.stride_tricks", np.lib.stride_tricks),
        ("np.linalg", np.linalg),
        ("np", np),
    ):
        for key in dir(module):
            if not key.startswith("_"):
                names[id(getattr(module, key))] = f"{prefix}.{key}"
    return names


_NAMES = _numpy_names()


class Recorder:
    """Collects the steps of one trace, names the values, and tells inputs from constants."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.inputs: list[Var] = []
        self._layouts: dict[tuple[Any, ...], Var] = {}
        self._owners: dict[int, Var] = {}
        self._keep: list[Any] = []  # arrays whose ids and addresses the maps above rely on
        self._taken: set[str] = set()
        self.named: set[Var] = set()
        self.ops: list[Op] = []
        self.errors: dict[str, str] = {k: str(v) for k, v in np.geterr().items()}
        self.context: Callable[[], str | None] = lambda: None

    # -- names and variables ----------------------------------------------------------------

    def name(self, hint: str) -> str:
        """Return a fresh Python identifier built from ``hint``."""
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint).strip("_") or "v"
        base = _RENAMED.get(base, base)
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "v_" + base
        name, k = base, 1
        while name in self._taken:
            k += 1
            name = f"{base}_{k}"
        self._taken.add(name)
        return name

    def _register(self, var: Var, real: np.ndarray) -> None:
        self._keep.append(real)
        self._layouts[_layout(real)] = var
        owner = _owner(real)
        if var.root is var and id(owner) not in self._owners:
            self._owners[id(owner)] = var
            self._keep.append(owner)

    def bind(self, real: np.ndarray, hint: str, binding: Any) -> Traced:
        """Make ``real`` an input of the program, read by ``binding`` at every call."""
        var = Var(self.name(hint), real, binding=binding)
        self.inputs.append(var)
        self._register(var, real)
        return self.traced(real, var)

    def lookup(self, a: np.ndarray) -> Var | None:
        """Find the variable holding exactly the array ``a`` (the same memory and layout)."""
        return self._layouts.get(_layout(a))

    def traced(self, real: np.ndarray, var: Var) -> Traced:
        """Make ``real`` a traced array of the variable ``var``."""
        t = real.view(Traced)
        t.var = var
        return t

    def result(self, real: Any, hint: str) -> Any:
        """Make a new variable for an array the step computed."""
        if isinstance(real, np.generic) or (type(real) in (bool, int, float)):
            real = np.asarray(real)
        if not isinstance(real, np.ndarray):
            return real
        if type(real) is not np.ndarray:
            real = real.view(np.ndarray)
        owner = self._owners.get(id(_owner(real)))
        var = Var(self.name(hint), real, root=owner)
        self._register(var, real)
        return self.traced(real, var)

    # -- arguments --------------------------------------------------------------------------

    def unwrap(self, obj: Any) -> tuple[Any, Any]:
        """``(real value, symbolic value)`` of an argument: arrays become variables."""
        if isinstance(obj, np.ndarray):
            var = obj.var if type(obj) is Traced else None
            plain = obj.view(np.ndarray) if type(obj) is not np.ndarray else obj
            if var is None:
                var = self.lookup(plain)
            if var is None:
                if type(obj) is Traced:
                    raise TraceError(f"al.compile: an array view that was not traced: {obj!r}")
                var = Var(self.name("const"), plain, binding=("const", plain))
                self.inputs.append(var)
                self._register(var, plain)
            return plain, var
        if type(obj) in (tuple, list):
            pairs = [self.unwrap(o) for o in obj]
            return type(obj)(p[0] for p in pairs), type(obj)(p[1] for p in pairs)
        if type(obj) is slice:
            parts = [self.unwrap(o) for o in (obj.start, obj.stop, obj.step)]
            return slice(*(p[0] for p in parts)), slice(*(p[1] for p in parts))
        if isinstance(obj, _Generator):
            return obj.real, obj.var
        return obj, obj

    def unwrap_kwargs(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split keyword arguments into real and symbolic values."""
        real, sym = {}, {}
        for k, v in kwargs.items():
            real[k], sym[k] = self.unwrap(v)
        return real, sym

    # -- recording --------------------------------------------------------------------------

    def add(self, step: Step) -> None:
        """Record ``step``, with the comment and error state it runs under."""
        step.comment = self.context()
        errors: dict[str, str] = {k: str(v) for k, v in np.geterr().items()}
        if errors != self.errors:
            step.errstate = {k: v for k, v in errors.items() if v != self.errors[k]}
        self.steps.append(step)

    def call(
        self,
        form: str,
        func: str,
        compute: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        hint: str,
    ) -> Any:
        """Compute ``compute(*args, **kwargs)`` on the real values and record it."""
        real_args, sym_args = self.unwrap(args)
        real_kwargs, sym_kwargs = self.unwrap_kwargs(kwargs)
        out = kwargs.get("out")
        result = compute(*real_args, **real_kwargs)
        if out is not None:
            targets = out if type(out) is tuple else (out,)
            writes = tuple(self.unwrap(o)[1] for o in targets)
            self.add(Step(form, func, sym_args, sym_kwargs, (), writes))
            return out[0] if type(out) is tuple and len(out) == 1 else out
        if form == "setitem" or func.endswith(".at") or (result is None and form == "call"):
            # an in-place primitive (a[i] = v, np.add.at, np.put_along_axis): writes its first
            self.add(Step(form, func, sym_args, sym_kwargs, (), (sym_args[0],)))
            return result
        if type(result) is tuple:
            wrapped = tuple(self.result(r, hint) for r in result)
            outs = tuple(w.var for w in wrapped if type(w) is Traced and w.var is not None)
            if len(outs) == len(result):
                self.add(Step(form, func, sym_args, sym_kwargs, outs))
                return wrapped
            return result
        wrapped = self.result(result, hint)
        if type(wrapped) is Traced and wrapped.var is not None:
            self.add(Step(form, func, sym_args, sym_kwargs, (wrapped.var,)))
        return wrapped

    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: Any) -> Any:
        """Record a ufunc call (``np.exp(a)``, ``a + b``, ``np.add.reduce``)."""
        name = ufunc.__name__
        func = f"np.{name}" if method == "__call__" else f"np.{name}.{method}"
        form = "call"
        if method == "__call__" and not kwargs and name in _BINOPS and len(inputs) == 2:
            form, func = "binop", _BINOPS[name]
        elif method == "__call__" and not kwargs and name == "negative":
            form, func = "unop", "-"
        if form == "binop" and name == "matmul" and _matrices(inputs):
            return self.call("call", "np.dot", np.dot, inputs, {}, "matmul")  # as eager: BLAS
        out = kwargs.get("out")
        if (
            method == "__call__"
            and name in _INPLACE
            and out is not None
            and len(kwargs) == 1
            and len(out) == 1
            and out[0] is inputs[0]
        ):
            form, func = "inplace", _BINOPS[name]
        compute = getattr(ufunc, method)
        return self.call(form, func, compute, inputs, dict(kwargs), name)

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Record a NumPy function call that dispatched to a traced array."""
        name = getattr(func, "__name__", "f")
        if name in _STATIC:
            real_args, _ = self.unwrap(args)
            return func(*real_args, **self.unwrap_kwargs(kwargs)[0])
        path = _NAMES.get(id(func))
        if path is None:
            raise TraceError(f"al.compile cannot trace the NumPy function {name} ({user_line()})")
        return self.call("call", path, func, args, kwargs, name)

    # -- the hooks in Tensor._apply -----------------------------------------------------------

    def on_apply(self, op: Op, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``args`` of an op about to run, with every array replaced by its traced version."""
        self.ops.append(op)
        out = []
        for a in args:
            if type(a) is np.ndarray:
                a = self.as_traced(a)
            elif hasattr(a, "_node") and type(a.data) is not Traced:
                self.on_tensor(a)
            out.append(a)
        return tuple(out)

    def on_tensor(self, t: Any) -> None:
        """Bind a Tensor whose array is not traced yet (a parameter, a captured tensor)."""
        raise NotImplementedError

    def as_traced(self, a: np.ndarray) -> Traced:
        """Return ``a`` as a traced array: the variable that holds it, else a new constant."""
        _, var = self.unwrap(a)
        return self.traced(a, var)

    def on_result(self, out: Any) -> Any:
        """Return an op's result as a traced array (a plain view of a traced one is recognised)."""
        if type(out) is not Traced:
            out = self.as_traced(np.asarray(out))
        var = out.var
        op = self.ops.pop() if self.ops else None
        fresh = var is not None and var.binding is None and var.root is var
        if fresh and op is not None and var not in self.named:
            self._taken.discard(var.name)
            var.name = self.name(_snake(op.name))  # the op's result, named after it
            self.named.add(var)
        return out


def _matrices(inputs: tuple[Any, ...]) -> bool:
    """Whether both operands are 1-D or 2-D arrays (``np.dot`` then computes ``a @ b``)."""
    return all(isinstance(a, np.ndarray) and 0 < a.ndim <= 2 for a in inputs)


def _snake(name: str) -> str:
    """``SquaredError`` → ``squared_error`` (``MatMul`` → ``matmul``)."""
    text = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
    return text.replace("mat_mul", "matmul")


def active() -> Recorder | None:
    """Return the recorder tracing in this thread, if any."""
    tracer = _state.tracer
    return tracer if isinstance(tracer, Recorder) else None


def _traced_method(name: str, form: str = "method") -> Callable[..., Any]:
    def method(self: Traced, *args: Any, **kwargs: Any) -> Any:
        tracer = active()
        plain = self.view(np.ndarray)
        if tracer is None:
            return getattr(plain, name)(*args, **kwargs)

        def compute(a: np.ndarray, *rest: Any, **kw: Any) -> Any:
            return getattr(a, name)(*rest, **kw)

        return tracer.call(form, name, compute, (self, *args), kwargs, name)

    method.__name__ = name
    return method


#: The start of the message a program raises when a check that autograd_lite's own code made
#: while traced (a label in range, a value finite) comes out differently: the step is traced anew.
DIVERGED = "al.compile: a check made while tracing came out differently"


def _concrete(t: Traced, what: str, convert: Callable[[np.ndarray], Any]) -> Any:
    """Return the Python value of ``t`` where code needs one.

    In autograd_lite's own code (a check of its inputs) the value is used and the program
    checks at each call that it is the same; in the user's code it is data-dependent control
    flow, a :class:`TraceError`.
    """
    tracer = active()
    plain = t.view(np.ndarray)
    if tracer is None:
        return convert(plain)
    where = _library_caller()
    if where is None:
        raise data_dependent(".item()" if what == "item" else f"{what}()")
    value = convert(plain)
    if type(value) not in (bool, int, float) or (type(value) is float and value != value):
        raise data_dependent(f"{what}() of a value that is not a plain number, at {where}")
    _, var = tracer.unwrap(t)
    tracer.add(Step("check", what, (var, value), {"where": where}, ()))
    return value


def _library_caller() -> str | None:
    """Return ``file:line`` of autograd_lite's code that asked for a value.

    ``None`` if the user's code did (past NumPy's frames and the Tensor's own conversions).
    """
    frame = sys._getframe(3)
    tensor_py = os.path.join(_PACKAGE, "tensor.py")
    compiler = os.path.dirname(os.path.abspath(__file__))
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_NUMPY) or path == tensor_py or path.startswith(compiler)):
            if path.startswith(_PACKAGE):
                return f"{os.path.relpath(path, _PACKAGE)}:{frame.f_lineno}"
            return None
        frame = frame.f_back  # type: ignore[assignment]
    return None


class Traced(np.ndarray):
    """An array that reports what is computed from it to the active :class:`Recorder`."""

    var: Var | None  # type: ignore[assignment]  # ndarray.var (the variance) is not used here

    def __array_finalize__(self, obj: Any) -> None:
        """Start a view made by NumPy itself untagged."""
        self.var = None  # a view NumPy made internally: recognised by its memory, if at all

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Record a ufunc applied to a traced array."""
        tracer = active()
        if tracer is None:
            plain = [i.view(np.ndarray) if isinstance(i, Traced) else i for i in inputs]
            if "out" in kwargs:
                kwargs["out"] = tuple(
                    o.view(np.ndarray) if isinstance(o, Traced) else o for o in kwargs["out"]
                )
            return getattr(ufunc, method)(*plain, **kwargs)
        return tracer.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """Record a NumPy function applied to a traced array."""
        tracer = active()
        if tracer is None:
            return func._implementation(*_plain(args), **_plain(kwargs))
        return tracer.function(func, args, kwargs)

    reshape = _traced_method("reshape")
    transpose = _traced_method("transpose")
    swapaxes = _traced_method("swapaxes")
    ravel = _traced_method("ravel")
    flatten = _traced_method("flatten")
    squeeze = _traced_method("squeeze")
    astype = _traced_method("astype")
    copy = _traced_method("copy")
    sum = _traced_method("sum")
    mean = _traced_method("mean")
    max = _traced_method("max")
    min = _traced_method("min")
    prod = _traced_method("prod")
    any = _traced_method("any")
    all = _traced_method("all")
    argmax = _traced_method("argmax")
    argmin = _traced_method("argmin")
    dot = _traced_method("dot")
    clip = _traced_method("clip")
    __getitem__ = _traced_method("__getitem__", "getitem")
    __setitem__ = _traced_method("__setitem__", "setitem")

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        """Record ``a.T``."""
        tracer = active()
        if tracer is None or self.ndim < 2:
            return self.view(np.ndarray).T
        hint = f"{self.var.name}_T" if self.var is not None else "T"
        return tracer.call("attr", "T", lambda a: a.T, (self,), {}, hint)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        """Record a view of another dtype (``view(np.ndarray)`` is the untraced array)."""
        if (args and args[0] is np.ndarray) or kwargs.get("type") is np.ndarray:
            return super().view(*args, **kwargs)
        tracer = active()
        if tracer is None or (args and args[0] is Traced):
            return super().view(*args, **kwargs)
        base = super().view(np.ndarray)
        return tracer.call("method", "view", lambda a, *r: a.view(*r), (base, *args), {}, "view")

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the first axis, each row recorded."""
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        """Refuse (in the user's code) or check (in autograd_lite's) a truth value."""
        return bool(_concrete(self, "bool", bool))

    def __float__(self) -> float:
        """Refuse (in the user's code) or check (in autograd_lite's) a float value."""
        return float(_concrete(self, "float", float))

    def __int__(self) -> int:
        """Refuse (in the user's code) or check (in autograd_lite's) an int value."""
        return int(_concrete(self, "int", int))

    def __index__(self) -> int:
        """Refuse (in the user's code) or check (in autograd_lite's) an index."""
        return int(_concrete(self, "int", lambda a: a.__index__()))

    def item(self, *args: Any) -> Any:
        """Refuse (in the user's code) or check (in autograd_lite's) a Python number."""
        if args:
            return self[args].item() if len(args) > 1 else self.reshape(-1)[args[0]].item()
        return _concrete(self, "item", lambda a: a.item())

    def tolist(self) -> Any:
        """Refuse the list of values (data-dependent)."""
        if active() is None:
            return self.view(np.ndarray).tolist()
        raise data_dependent(".tolist()")


def _plain(value: Any) -> Any:
    if isinstance(value, Traced):
        return value.view(np.ndarray)
    if type(value) in (tuple, list):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Generator:
    """A random generator seen by the program: each draw is a step that calls the real one."""

    def __init__(self, real: np.random.Generator, var: Var) -> None:
        self.real, self.var = real, var

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)
        if not callable(method):
            return method

        def draw(*args: Any, **kwargs: Any) -> Any:
            tracer = active()
            if tracer is None:
                return method(*args, **kwargs)
            before = len(tracer.steps)
            result = tracer.call(
                "method",
                name,
                lambda g, *a, **k: getattr(g, name)(*a, **k),
                (self, *args),
                kwargs,
                "draw",
            )
            for step in tracer.steps[before:]:
                step.effect = True
            return result

        return draw


def generator(recorder: Recorder, real: np.random.Generator, hint: str) -> _Generator:
    """Make a stand-in for ``real`` whose draws are steps of the program.

    The generator is an input, passed by reference, so each call draws fresh numbers from it.
    """
    var = Var(recorder.name(hint), real, binding=("const", real))
    recorder.inputs.append(var)
    return _Generator(real, var)
