r"""NumPy's protocols on Tensors: which NumPy callable runs which autograd_lite op.

``Tensor.__array_ufunc__`` and ``Tensor.__array_function__`` send every NumPy ufunc or function
that meets a Tensor here. Three rules, in this order:

1. ``out=`` plain ndarray(s): the call runs on the Tensors' data and records nothing, so
   ``w.data -= lr * w.grad`` (``np.subtract(w.data, w.grad, out=w.data)``) is an ordinary
   NumPy update. A Tensor as ``out`` is a ``TypeError`` (write ``t -= ...`` instead).
2. A callable in :data:`UFUNCS` or :data:`FUNCTIONS`: its counterpart runs, recording the same
   op as the Tensor method or ``al.`` function does (``np.exp(t)`` is ``t.exp()``,
   ``np.ones(3) * t`` is ``t.__rmul__(np.ones(3))``) and returning a Tensor.
3. Anything else runs on the data and returns what NumPy returns (plain arrays, numbers),
   unless that would silently drop a gradient: a floating result computed from a Tensor that
   requires grad, while gradient mode is on, is a ``TypeError`` naming the NumPy function.
   Answers that carry no gradient (``np.isnan``, ``np.argmax``, ``np.allclose``, ``np.shape``)
   are always given.

An argument a counterpart does not have (``dtype=``, ``where=``, ``order="F"``, ``np.dot`` of
3-D arrays) takes rule 3 as well. Adding a NumPy callable is one line in a table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops as fn
from ._grad_mode import is_grad_enabled
from .tensor import Tensor

__all__ = ["FUNCTIONS", "UFUNCS", "apply_function", "apply_ufunc"]


class _UnsupportedError(Exception):
    """Raised by a counterpart for an argument it does not have: NumPy's own code runs instead."""


def _operator(name: str, reflected: str) -> Callable[[Any, Any], Tensor]:
    """Make a binary ufunc's counterpart: the Tensor operator ``name``.

    ``reflected`` is used when the Tensor is on the right, so ``np.add(a, t)`` and ``a + t`` are
    one code path.
    """

    def call(a: Any, b: Any) -> Tensor:
        out = getattr(a, name)(b) if isinstance(a, Tensor) else getattr(b, reflected)(a)
        if out is NotImplemented:
            raise _UnsupportedError
        return out  # type: ignore[no-any-return]

    return call


UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _operator("__add__", "__radd__"),
    np.subtract: _operator("__sub__", "__rsub__"),
    np.multiply: _operator("__mul__", "__rmul__"),
    np.true_divide: _operator("__truediv__", "__rtruediv__"),  # np.divide is np.true_divide
    np.power: _operator("__pow__", "__rpow__"),
    np.matmul: _operator("__matmul__", "__rmatmul__"),
    np.less: _operator("__lt__", "__gt__"),
    np.less_equal: _operator("__le__", "__ge__"),
    np.greater: _operator("__gt__", "__lt__"),
    np.greater_equal: _operator("__ge__", "__le__"),
    np.equal: _operator("__eq__", "__eq__"),
    np.not_equal: _operator("__ne__", "__ne__"),
    np.negative: Tensor.__neg__,
    np.exp: Tensor.exp,
    np.log: Tensor.log,
    np.sqrt: Tensor.sqrt,
    np.absolute: Tensor.abs,  # np.abs is np.absolute
    np.tanh: Tensor.tanh,
    np.maximum: fn.maximum,
    np.minimum: fn.minimum,
}
"""NumPy ufunc → the autograd_lite callable that records the same op."""


def _plain(**given: Any) -> None:
    """Refuse (to NumPy's own code) any argument other than its default."""
    if any(v is not None for v in given.values()):
        raise _UnsupportedError


def _sum_like(method: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def call(
        a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
        **rest: Any,
    ) -> Tensor:  # fmt: skip
        _plain(dtype=dtype, out=out, **rest)
        return method(fn.as_tensor(a), axis, keepdims)

    return call


def _max_like(method: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def call(
        a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **rest: Any
    ) -> Tensor:
        _plain(out=out, **rest)
        return method(fn.as_tensor(a), axis, keepdims)

    return call


def _reshape(
    a: Any, shape: Any = None, order: str = "C", *, copy: Any = None, newshape: Any = None
) -> Tensor:
    _plain(copy=copy, order=None if order == "C" else order)
    return fn.as_tensor(a).reshape(newshape if shape is None else shape)


def _transpose(a: Any, axes: Any = None) -> Tensor:
    return fn.as_tensor(a).transpose(axes)


def _join(join: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def call(
        arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
        casting: str = "same_kind",
    ) -> Tensor:  # fmt: skip
        _plain(out=out, dtype=dtype)
        if axis is None:  # NumPy flattens first
            raise _UnsupportedError
        return join(list(arrays), axis)

    return call


def _where(condition: Any, *xy: Any) -> Tensor:
    if len(xy) != 2:  # np.where(cond) alone: the indices of the true elements
        raise _UnsupportedError
    return fn.where(condition, *xy)


def _clip(
    a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,
    max: Any = None, **rest: Any,
) -> Tensor:  # fmt: skip
    _plain(out=out, **rest)
    low = min if a_min is None else a_min
    high = max if a_max is None else a_max
    if np.ndim(low) or np.ndim(high) or isinstance(low, Tensor) or isinstance(high, Tensor):
        raise _UnsupportedError  # the op clips at fixed numbers, not at arrays
    return fn.as_tensor(a).clip(low, high)


def _dot(a: Any, b: Any, out: Any = None) -> Tensor:
    _plain(out=out)
    na, nb = np.ndim(a), np.ndim(b)
    if na > 2 or nb > 2:
        raise _UnsupportedError  # np.dot of N-D arrays is not a matrix product
    product: Tensor = fn.as_tensor(a) * b if na == 0 or nb == 0 else fn.matmul(a, b)
    return product


FUNCTIONS: dict[Callable[..., Any], Callable[..., Tensor]] = {
    np.sum: _sum_like(Tensor.sum),
    np.mean: _sum_like(Tensor.mean),
    np.max: _max_like(Tensor.max),
    np.amax: _max_like(Tensor.max),
    np.min: _max_like(Tensor.min),
    np.amin: _max_like(Tensor.min),
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.concatenate: _join(fn.concatenate),
    np.stack: _join(fn.stack),
    np.where: _where,
    np.clip: _clip,
    np.dot: _dot,
}
"""NumPy function → the autograd_lite callable that records the same op (same arguments)."""


# -- dispatch ------------------------------------------------------------------------------------


def _data(obj: Any) -> Any:
    """``obj`` with Tensors replaced by their arrays (inside lists and tuples too)."""
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_data(o) for o in obj)
    return obj


def _needs_gradient(obj: Any) -> bool:
    if isinstance(obj, Tensor):
        return obj.requires_grad
    if isinstance(obj, (list, tuple)):
        return any(_needs_gradient(o) for o in obj)
    return False


def _floating(result: Any) -> bool:
    if isinstance(result, (list, tuple)):
        return any(_floating(r) for r in result)
    return isinstance(result, (float, complex, np.ndarray, np.inexact)) and (
        np.asarray(result).dtype.kind in "fc"
    )


def _on_data(name: str, call: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> Any:
    """Rule 3: NumPy's own result on the data, unless it would drop a gradient."""
    result = call(*_data(args), **{k: _data(v) for k, v in kwargs.items()})
    if _floating(result) and is_grad_enabled() and _needs_gradient((args, tuple(kwargs.values()))):
        raise TypeError(
            f"{name} has no differentiable counterpart in autograd_lite, and its result would "
            "lose the gradient of a Tensor that requires grad; use the Tensor methods or "
            "al. functions, or apply it to t.detach() (or inside al.no_grad()) if no gradient "
            "should flow"
        )
    return result


def _refuse_tensor_out(name: str, out: Any) -> None:
    for o in out if isinstance(out, tuple) else (out,):
        if isinstance(o, Tensor):
            raise TypeError(
                f"{name}: out= must be a plain ndarray, not a Tensor; update a Tensor with "
                "t += ..., t -= ... (inside al.no_grad() for a parameter), or write to t.data"
            )


def apply_ufunc(
    ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``Tensor.__array_ufunc__``: the rules in this module's docstring."""
    if not kwargs and method == "__call__":  # the common case first: ``ndarray * t``
        counterpart = UFUNCS.get(ufunc)
        if counterpart is not None:
            try:
                return counterpart(*inputs)
            except _UnsupportedError:
                pass
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    call = getattr(ufunc, method)
    out = kwargs.get("out")
    if out is not None:
        _refuse_tensor_out(name, out)
        return call(*_data(inputs), **{k: _data(v) for k, v in kwargs.items()})
    return _on_data(name, call, inputs, kwargs)


def apply_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``: the rules in this module's docstring."""
    out = kwargs.get("out")
    if out is None:
        counterpart = FUNCTIONS.get(func)
        if counterpart is not None:
            try:
                return counterpart(*args, **kwargs)
            except _UnsupportedError:
                pass
    name = f"{getattr(func, '__module__', None) or 'numpy'}.{func.__name__}"
    if out is not None:
        _refuse_tensor_out(name, out)
        return func(*_data(args), **{k: _data(v) for k, v in kwargs.items()})
    return _on_data(name, func, args, kwargs)
