"""``Tensor``: an array that remembers how it was computed, so ``backward()`` can differentiate."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _grad_mode
from ._anomaly import check_forward
from ._guard import Guard
from .engine import Op, held_inputs, walk_backward
from .ops import activations as act
from .ops import elementwise as ew
from .ops import reductions as red
from .ops import shape as sh
from .ops.linalg import MatMul
from .ops.recording import operand as _operand

_state = _grad_mode._state
_new = object.__new__
_SCALARS = (int, float, bool)


#: ``needs`` tuples shared by every node: one input (indexed by its flag), two inputs (indexed by
#: both). Tuples, not lists: a node keeps them unchanged, and the cycle collector stops tracking
#: a tuple of plain values, so a long graph costs it fewer objects to walk.
_NEEDS1: tuple[tuple[bool, ...], ...] = ((False,), (True,))
_NEEDS2: tuple[tuple[tuple[bool, ...], ...], ...] = (
    ((False, False), (False, True)),
    ((True, False), (True, True)),
)


def _apply(op: Op, *args: Any) -> Tensor:
    """Run ``op`` forward on the plain values of ``args``; record it if an input needs grad."""
    state = _state
    tracer = state.tracer
    if tracer is not None:
        args = tracer.on_apply(op, args)
    held: Any = None  # what the node will keep of args (see Op._in)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            xs: tuple[Any, ...] = (a.data,)
            record = a._requires_grad
            held = a if a._node is None else a._node  # see Op: an input is kept as its node
        else:
            xs, record = args, False
        needs: tuple[bool, ...] = _NEEDS1[record]
    elif len(args) == 2:
        a, b = args
        if isinstance(a, Tensor):
            ra, da = a._requires_grad, a.data
        else:
            ra, da = False, a
        if isinstance(b, Tensor):
            rb, db = b._requires_grad, b.data
        else:
            rb, db = False, b
        xs, record, needs = (da, db), ra or rb, _NEEDS2[ra][rb]
        if record:  # (only a Tensor that requires grad can have a node)
            held = (
                a if not ra or a._node is None else a._node,
                b if not rb or b._node is None else b._node,
            )
    else:
        xs = tuple([a.data if isinstance(a, Tensor) else a for a in args])
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        record = True in needs
        held = held_inputs(args)
    if state.anomaly:
        out = _checked_forward(op, xs)
    else:
        out = op.forward(*xs)
        if tracer is not None:
            out = tracer.on_result(out)
        elif type(out) is not np.ndarray:
            out = np.asarray(out)
    t = _new(Tensor)
    t.data = out
    t._grad = None
    t._hooks = None
    if record and state.enabled:  # make op the node of out (inline: this runs once per op)
        op._in = held
        op._xs = xs if type(held) is tuple else xs[0]  # see Op: one input, held as itself
        op.out = out
        op.needs = needs
        op.hooks = None
        out.setflags(write=False)  # a recorded result stays as backward will see it
        if op.locks_inputs or (op.keeps_out and out.base is not None):
            op.guard = Guard.lock(op, args, xs, out)
        else:  # nothing to lock: out itself is read-only from birth
            op.guard = None
        if state.sites:
            op.trace = traceback.extract_stack()[:-1]
        t._node = op
        t._requires_grad = True
    else:
        t._node = None
        t._requires_grad = False
    return t


def _checked_forward(op: Op, xs: tuple[Any, ...]) -> np.ndarray:
    """Anomaly mode's forward: raise if ``op`` produced NaN or inf."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.asarray(op.forward(*xs))
    check_forward(op, xs, out)
    return out


def _index(idx: Any) -> Any:
    """Return ``idx`` with Tensors replaced by their arrays.

    The op normalises the rest (see :func:`autograd_lite.ops.shape.normalize_index`).
    """
    if type(idx) is tuple:
        return tuple(i.data if isinstance(i, Tensor) else i for i in idx)
    return idx.data if isinstance(idx, Tensor) else idx


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


class _HookHandle:
    __slots__ = ("_fn", "_hooks")

    def __init__(self, hooks: list[Callable[..., Any]], fn: Callable[..., Any]) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        """Unregister the hook (doing it twice is harmless)."""
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class Tensor:
    r"""An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data
        Anything ``np.asarray`` accepts, or a Tensor (its array is shared, not copied). Python
        floats and ints become float64 and int64, as in NumPy, unless ``dtype`` says otherwise.
    requires_grad
        Whether ``backward()`` should compute ∂E/∂(this tensor). Only floating dtypes may.
    dtype
        Optional NumPy dtype to convert the data to.
    """

    __slots__ = ("__weakref__", "_grad", "_hooks", "_node", "_requires_grad", "data")
    __hash__ = object.__hash__  # identity, so tensors can be dict keys despite elementwise ==

    data: np.ndarray
    _grad: Tensor | None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            arr = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__}: {exc}"
            ) from None
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"Tensor: data must be numeric, got dtype {arr.dtype}")
        if requires_grad:
            _check_differentiable(arr.dtype)
        self.data = arr
        self._grad = None
        self._requires_grad = bool(requires_grad)
        self._node: Op | None = None
        self._hooks: list[Callable[..., Any]] | None = None

    # -- construction used by the engine (no validation: the array is already good) -----------

    @staticmethod
    def _wrap(arr: Any) -> Tensor:
        t = object.__new__(Tensor)
        t.data = arr if type(arr) is np.ndarray else np.asarray(arr)
        t._grad, t._requires_grad, t._node, t._hooks = None, False, None, None
        return t

    @staticmethod
    def _from_node(arr: np.ndarray, node: Op) -> Tensor:
        t = Tensor._wrap(arr)
        t._requires_grad, t._node = True, node
        return t

    _apply = staticmethod(_apply)

    # -- attributes ------------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether ``backward()`` computes ∂E/∂(this tensor); settable on a floating-dtype leaf."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._node is not None:
            raise RuntimeError(
                "requires_grad can only be changed on a leaf tensor; use detach() for a new leaf"
            )
        if value:
            _check_differentiable(self.data.dtype)
        self._requires_grad = bool(value)

    @property
    def grad(self) -> Tensor | None:
        """∂E/∂(this tensor) accumulated by ``backward()``, or ``None``.

        May be set to ``None`` or to a Tensor of this tensor's shape; anything else is refused
        (``TypeError``, ``ValueError``) before it can reach an optimizer.
        """
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f".grad must be a Tensor or None, got {type(value).__name__}; wrap an array "
                    "as al.Tensor(array)"
                )
            if value.data.shape != self.data.shape:
                raise ValueError(
                    f".grad must have the tensor's shape {self.data.shape}, got {value.data.shape}"
                )
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """Whether no op recorded this tensor: made by the user, or not requiring grad."""
        return self._node is None

    @property
    def shape(self) -> tuple[int, ...]:
        """The length of each axis, as ``ndarray.shape``."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes, as ``ndarray.ndim``."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements, as ``ndarray.size``."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The axes reversed, as ``ndarray.T`` (below 2-D: self); ∂E/∂a = ḡ, axes reversed."""
        return self if self.ndim < 2 else _apply(sh.Transpose(None), self)

    def __repr__(self) -> str:
        """Return ``Tensor([...])``, plus ``dtype=`` unless float64 and ``requires_grad=True``."""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self._requires_grad else ""
        if self.data.dtype != np.float64:
            extra = f", dtype={self.data.dtype}" + extra
        return f"Tensor({body}{extra})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """Return the data for ``np.asarray(t)``, copied only for ``copy`` or a new ``dtype``."""
        arr = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __len__(self) -> int:
        """Return the length of the first axis, as ``len(ndarray)``."""
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """Yield ``self[i]`` along the first axis (each an indexing op, so gradients flow)."""
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        """Return the truth of a single-element tensor (``ValueError`` for more, as NumPy)."""
        return bool(self.data)

    def __float__(self) -> float:
        """Return the value of a 0-d tensor as a Python float."""
        return float(self.data)

    def __int__(self) -> int:
        """Return the value of a 0-d tensor as a Python int."""
        return int(self.data)

    def numpy(self) -> np.ndarray:
        """Return the underlying array (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """Return the single element as a Python number (``ValueError`` unless there is one)."""
        if self.data.size != 1:
            raise ValueError(
                f"item: a tensor of shape {self.shape} has {self.data.size} elements; item() "
                "needs exactly one"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """Return a new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor._wrap(self.data)

    def astype(self, dtype: Any) -> Tensor:
        """Return the values converted to ``dtype``; ∂E/∂a = ḡ converted back to a's dtype.

        Returns ``self`` when its dtype already is ``dtype``.
        """
        if np.dtype(dtype).kind not in "biufc":
            raise TypeError(f"astype: {np.dtype(dtype)} is not a numeric dtype")
        if np.dtype(dtype) == self.dtype:
            return self
        return _apply(ew.Cast(dtype), self)

    # -- autograd --------------------------------------------------------------------------------

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        r"""Accumulate ∂(self)/∂x · gradient into ``x.grad`` of every leaf ``x`` that requires grad.

        ``gradient`` (same shape as self) is needed unless self has a single element.
        ``retain_graph`` (default: ``create_graph``) keeps the saved values for another backward;
        ``create_graph`` records the backward pass itself, so the gradients are differentiable.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (no tensor it was computed from "
                "has requires_grad=True, or it was computed under no_grad)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: a gradient is needed for a tensor of shape {self.shape}; call "
                    "backward(gradient) with an array of that shape (only single-element "
                    "tensors get the implicit gradient 1)"
                )
            grad: Any = _unit(self.data)
        else:
            garr = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if garr.shape != self.shape:
                raise ValueError(
                    f"backward: gradient shape {garr.shape} does not match tensor shape "
                    f"{self.shape}"
                )
            if garr.dtype.kind not in "biuf":
                raise TypeError(f"backward: gradient must be numeric, got dtype {garr.dtype}")
            grad = np.array(garr, dtype=self.dtype)  # a copy the caller cannot change under us
            if create_graph and isinstance(gradient, Tensor) and gradient._requires_grad:
                grad = gradient
        if create_graph and not isinstance(grad, Tensor):
            grad = Tensor._wrap(grad)
        retain = create_graph if retain_graph is None else retain_graph
        for leaf, g in walk_backward(self, grad, retain_graph=retain, create_graph=create_graph):
            if not leaf._requires_grad:
                continue
            before = leaf._grad  # set directly: the walk's totals have the leaf's shape
            if create_graph:
                leaf._grad = g if before is None else before + g
            elif before is None:  # the walk's totals are writable arrays of their own
                leaf._grad = Tensor._wrap(g)
            else:
                leaf._grad = Tensor._wrap(before.data + g)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``fn(grad)`` with the gradient flowing into this tensor during backward.

        ``fn`` may return a replacement gradient: a numeric array or Tensor of the same shape
        (converted to the gradient's dtype); any other shape or a non-numeric value is an error
        during backward. Returns a handle with ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad")
        node = self._node
        if node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if node.hooks is None:
                node.hooks = []
            hooks = node.hooks
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    @staticmethod
    def _as_tensor(value: Any) -> Tensor:
        return value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))

    @staticmethod
    def _as_array(value: Any) -> np.ndarray:
        return value.data if isinstance(value, Tensor) else np.asarray(value)

    # -- operators -------------------------------------------------------------------------------

    def _binary(self, op: Op, other: Any, reflected: bool = False) -> Tensor:
        if type(other) is np.ndarray:  # the common operand, checked without _operand's detour
            if other.dtype.kind not in "biufc":
                return NotImplemented  # type: ignore[no-any-return]
        elif not isinstance(other, (Tensor, float, int)):
            other = _operand(other)
            if other is NotImplemented:
                return NotImplemented  # type: ignore[no-any-return]
        return _apply(op, other, self) if reflected else _apply(op, self, other)

    def __add__(self, other: Any) -> Tensor:
        """Return self + other, broadcast (∂/∂self = 1, ∂/∂other = 1)."""
        return self._binary(ew.Add(), other)

    def __radd__(self, other: Any) -> Tensor:
        """Return other + self, broadcast (∂/∂other = 1, ∂/∂self = 1)."""
        return self._binary(ew.Add(), other, True)

    def __sub__(self, other: Any) -> Tensor:
        """Return self − other, broadcast (∂/∂self = 1, ∂/∂other = −1)."""
        return self._binary(ew.Sub(), other)

    def __rsub__(self, other: Any) -> Tensor:
        """Return other − self, broadcast (∂/∂other = 1, ∂/∂self = −1)."""
        return self._binary(ew.Sub(), other, True)

    def __mul__(self, other: Any) -> Tensor:
        """Return self · other, broadcast (∂/∂self = other, ∂/∂other = self)."""
        return self._binary(ew.Mul(), other)

    def __rmul__(self, other: Any) -> Tensor:
        """Return other · self, broadcast (∂/∂other = self, ∂/∂self = other)."""
        return self._binary(ew.Mul(), other, True)

    def __truediv__(self, other: Any) -> Tensor:
        """Return self / other, broadcast (∂/∂self = 1 / other, ∂/∂other = −self / other²)."""
        return self._binary(ew.Div(), other)

    def __rtruediv__(self, other: Any) -> Tensor:
        """Return other / self, broadcast (∂/∂other = 1 / self, ∂/∂self = −other / self²)."""
        return self._binary(ew.Div(), other, True)

    def __pow__(self, other: Any) -> Tensor:
        """Return aᵇ for a = self, b = other, broadcast (∂/∂a = b · aᵇ⁻¹, ∂/∂b = aᵇ · log a)."""
        return self._binary(ew.Pow(), other)

    def __rpow__(self, other: Any) -> Tensor:
        """Return aᵇ for a = other, b = self, broadcast (∂/∂a = b · aᵇ⁻¹, ∂/∂b = aᵇ · log a)."""
        return self._binary(ew.Pow(), other, True)

    def __matmul__(self, other: Any) -> Tensor:
        """Return a @ b for a = self, as ``np.matmul`` (∂E/∂a = ḡ @ bᵀ, ∂E/∂b = aᵀ @ ḡ)."""
        return self._binary(MatMul(), other)

    def __rmatmul__(self, other: Any) -> Tensor:
        """Return a @ b for b = self, as ``np.matmul`` (∂E/∂a = ḡ @ bᵀ, ∂E/∂b = aᵀ @ ḡ)."""
        return self._binary(MatMul(), other, True)

    def __neg__(self) -> Tensor:
        """Return −self (∂/∂self = −1)."""
        return _apply(ew.Neg(), self)

    def __pos__(self) -> Tensor:
        """Return self: +t is the identity and records nothing."""
        return self

    # -- in-place operators -----------------------------------------------------------------

    def _inplace(self, op: Op, ufunc: np.ufunc, other: Any) -> Tensor:
        """Do ``self op= other`` PyTorch's way.

        Written into ``self.data`` when nothing needs recording (gradient mode off, or neither
        side requires grad); refused on a leaf that requires grad; otherwise the out-of-place op
        is recorded and the name rebound.
        """
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
        if _state.enabled and (self._requires_grad or (isinstance(o, Tensor) and o._requires_grad)):
            if self._requires_grad and self._node is None:
                raise RuntimeError(
                    f"a leaf Tensor that requires grad (shape {self.shape}) cannot be changed in "
                    f"place ({_INPLACE_SYMBOL[ufunc]}) while gradient mode is on; do it inside "
                    "al.no_grad(), e.g. with al.no_grad(): p -= lr * p.grad"
                )
            return self._binary(op, o)
        value = o.data if isinstance(o, Tensor) else o
        try:
            fits = np.broadcast_shapes(self.shape, np.shape(value)) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{_INPLACE_SYMBOL[ufunc]}: a value of shape {np.shape(value)} does not broadcast "
                f"to the tensor's shape {self.shape}"
            )
        ufunc(self.data, value, out=self.data)  # a read-only array raises before any write
        return self

    def __iadd__(self, other: Any) -> Tensor:
        """Do ``self += other``: in place, or recorded out of place when a gradient must flow."""
        return self._inplace(ew.Add(), np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        """Do ``self -= other``: in place, or recorded out of place when a gradient must flow."""
        return self._inplace(ew.Sub(), np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        """Do ``self *= other``: in place, or recorded out of place when a gradient must flow."""
        return self._inplace(ew.Mul(), np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        """Do ``self /= other``: in place, or recorded out of place when a gradient must flow."""
        return self._inplace(ew.Div(), np.true_divide, other)

    # -- NumPy's protocols ---------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.exp(t)``, ``ndarray * t``, ``arr -= t``: see :mod:`autograd_lite.interop`."""
        return (_INTEROP or _interop()).apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(
        self, func: Callable[..., Any], types: Any, args: Any, kwargs: dict[str, Any]
    ) -> Any:
        """``np.sum(t)``, ``np.concatenate([a, b])``: see :mod:`autograd_lite.interop`."""
        return (_INTEROP or _interop()).apply_function(func, args, kwargs)

    def _compare(self, ufunc: np.ufunc, other: Any) -> Tensor:
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
        return Tensor._wrap(ufunc(self.data, o.data if isinstance(o, Tensor) else o))

    def __lt__(self, other: Any) -> Tensor:
        """Return the bool tensor self < other, broadcast (no gradient)."""
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        """Return the bool tensor self ≤ other, broadcast (no gradient)."""
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        """Return the bool tensor self > other, broadcast (no gradient)."""
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        """Return the bool tensor self ≥ other, broadcast (no gradient)."""
        return self._compare(np.greater_equal, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        """Return the bool tensor self == other, elementwise and broadcast (no gradient)."""
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        """Return the bool tensor self ≠ other, elementwise and broadcast (no gradient)."""
        return self._compare(np.not_equal, other)

    def __getitem__(self, idx: Any) -> Tensor:
        """Return self[idx], NumPy's indexing; ∂E/∂self = ḡ scatter-added at idx (repeats add)."""
        return _apply(sh.GetItem(_index(idx)), self)

    # -- reductions and shape --------------------------------------------------------------------

    def _reduce(self, cls: type[red.Reduction], axis: Any, keepdims: bool) -> Tensor:
        return _apply(cls(axis, bool(keepdims)), self)  # the op normalises the axes

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        r"""Σ over ``axis`` (all axes by default)."""
        return self._reduce(red.Sum, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        r"""(1/n) Σ over ``axis`` (all axes by default)."""
        return self._reduce(red.Mean, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient evenly."""
        return self._reduce(red.Max, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties share the gradient evenly."""
        return self._reduce(red.Min, axis, keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """Return the values in a new shape: ``reshape(2, 3)`` or ``reshape((2, 3))``; -1 allowed.

        A view of the data where NumPy can make one; ∂E/∂a = ḡ reshaped back to a's shape.
        """
        return _apply(sh.Reshape(_shape_args(shape)), self)

    def transpose(self, *axes: Any) -> Tensor:
        """Axes permuted (``transpose()`` reverses them, like NumPy)."""
        if not axes or (len(axes) == 1 and axes[0] is None):
            perm = None
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            perm = tuple(axes[0])
        else:
            perm = axes
        return _apply(sh.Transpose(perm), self)  # the op normalises negative axes

    def flatten(self) -> Tensor:
        """Return the values on one axis (C order), as ``reshape(-1)``: a view where possible."""
        return _apply(sh.Reshape((-1,)), self)

    # -- elementwise -----------------------------------------------------------------------------

    def exp(self) -> Tensor:
        """Return eˣ for x = self, elementwise (∂/∂x = eˣ)."""
        return _apply(ew.Exp(), self)

    def log(self) -> Tensor:
        """Return the natural log, elementwise (∂/∂self = 1 / self)."""
        return _apply(ew.Log(), self)

    def sqrt(self) -> Tensor:
        """Return √self, elementwise (∂/∂self = 1 / (2 √self))."""
        return _apply(ew.Sqrt(), self)

    def abs(self) -> Tensor:
        """Return |self|, elementwise (∂/∂self = sign(self): 0 at the kink self = 0)."""
        return _apply(ew.Abs(), self)

    __abs__ = abs  # abs(t), as for NumPy arrays

    def clip(self, low: float | None = None, high: float | None = None) -> Tensor:
        """Return min(max(self, low), high), as ``np.clip``; a ``None`` bound leaves that side open.

        ∂/∂self = [low ≤ self ≤ high]: the gradient passes at the bounds, as in ``torch.clamp``.
        """
        return _apply(ew.Clip(low, high), self)

    def sigmoid(self) -> Tensor:
        """Return σ(x) = 1 / (1 + e⁻ˣ) for x = self, elementwise (∂σ/∂x = σ · (1 − σ))."""
        return _apply(act.Sigmoid(), self)

    def tanh(self) -> Tensor:
        """Return tanh(self), elementwise (∂/∂self = 1 − tanh²(self))."""
        return _apply(act.Tanh(), self)

    def relu(self) -> Tensor:
        """Return max(self, 0), elementwise (∂/∂self = [self > 0]: 0 at the kink self = 0)."""
        return _apply(act.ReLU(), self)

    def softmax(self, axis: int = -1) -> Tensor:
        """Return oᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis`` (x = self); ∂E/∂x = o · (ḡ − Σⱼ ḡⱼ oⱼ)."""
        return _apply(act.Softmax(axis), self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """Return oᵢ = xᵢ − log Σⱼ e^{xⱼ} along ``axis`` (x = self); ∂E/∂x = ḡ − e^{o} · Σⱼ ḡⱼ."""
        return _apply(act.LogSoftmax(axis), self)

    def logsumexp(self, axis: Any = -1, keepdims: bool = False) -> Tensor:
        """Return log Σ eˣ over ``axis`` (x = self), overflow-free; ∂E/∂x = ḡ · e^{x − o}."""
        return red.logsumexp(self, axis, keepdims)


_INPLACE_SYMBOL: dict[Any, str] = {
    np.add: "+=",
    np.subtract: "-=",
    np.multiply: "*=",
    np.true_divide: "/=",
}


def _interop() -> Any:
    """Return the NumPy dispatch tables' module, importing it on first use.

    Not imported at the top: it builds on the functions module, which itself builds on this one.
    """
    global _INTEROP
    if _INTEROP is None:
        from . import interop

        _INTEROP = interop
    return _INTEROP


_INTEROP: Any = None
Op.tensor_type = Tensor  # the class a node rebuilds an input held as its node as


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Return ``Tensor(data, requires_grad, dtype)`` (PyTorch's spelling)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


_UNITS: dict[np.dtype[Any], np.ndarray] = {}  # dtype -> the scalar array 1 of that dtype


def _unit(like: np.ndarray) -> np.ndarray:
    """Return a new array of ones with the shape and dtype of the single-element ``like``."""
    one = _UNITS.get(like.dtype)
    if one is None:
        one = _UNITS[like.dtype] = np.array(1, dtype=like.dtype)
    return one.copy() if like.ndim == 0 else one.reshape(like.shape).copy()


def _check_differentiable(dtype: np.dtype[Any]) -> None:
    if dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require gradients, got dtype {dtype}")
