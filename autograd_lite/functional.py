"""Function transforms: ``grad``, ``value_and_grad`` and ``hvp``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._grad_mode import enable_grad
from .engine import walk_backward
from .tensor import Tensor


def _leaf(x: Any, name: str) -> Tensor:
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if isinstance(x, (int, float)) or arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name}: cannot differentiate with respect to dtype {arr.dtype}")
    return Tensor(arr, requires_grad=True)


def _scalar_output(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(
            f"{name}: the function must return a single element, got shape {out.shape}"
        )
    return out


def _gradients(out: Tensor, wrt: Sequence[Tensor]) -> list[np.ndarray]:
    found: dict[int, Any] = {}
    if out.requires_grad:
        seed = np.ones(out.shape, dtype=out.dtype)
        for leaf, g in walk_backward(out, seed, retain_graph=False, create_graph=False):
            found[id(leaf)] = g
    return [
        np.array(found[id(x)], dtype=x.dtype) if id(x) in found else np.zeros_like(x.data)
        for x in wrt
    ]


def value_and_grad(
    f: Callable[..., Tensor], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[float, Any]]:
    """Return ``g(*args) -> (f(*args) as a float, ∂f/∂args[argnums] as array(s))``."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)  # type: ignore[arg-type]

    def wrapped(*args: Any, **kwargs: Any) -> tuple[float, Any]:
        targs = list(args)
        for i in nums:
            if not -len(args) <= i < len(args):
                raise IndexError(f"grad: argnums {i} is out of range for {len(args)} arguments")
            targs[i] = _leaf(args[i], "grad")
        with enable_grad():
            out = _scalar_output(f(*targs, **kwargs), "grad")
        grads = _gradients(out, [targs[i] for i in nums])
        return out.item(), (grads[0] if single else tuple(grads))

    return wrapped


def grad(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return ``g(*args) -> ∂f/∂args[argnums]`` as an array (a tuple for several argnums)."""
    vg = value_and_grad(f, argnums)
    return lambda *args, **kwargs: vg(*args, **kwargs)[1]


def hvp(f: Callable[[Tensor], Tensor], x: Any, v: Any) -> np.ndarray:
    r"""The Hessian-vector product ∇²f(x) · v, by differentiating ⟨∇f(x), v⟩ once more."""
    xt = _leaf(x, "hvp")
    va = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=xt.dtype)
    if va.shape != xt.shape:
        raise ValueError(f"hvp: v has shape {va.shape}, x has shape {xt.shape}")
    with enable_grad():
        out = _scalar_output(f(xt), "hvp")
        if not out.requires_grad:
            return np.zeros_like(xt.data)
        seed = Tensor(np.ones(out.shape, dtype=out.dtype))
        first = dict(
            (id(leaf), g)
            for leaf, g in walk_backward(out, seed, retain_graph=True, create_graph=True)
        )
        g = first.get(id(xt))
        if g is None:
            return np.zeros_like(xt.data)
        return _gradients((g * va).sum(), [xt])[0]
