r"""Function transforms: ``grad``, ``value_and_grad``, ``hvp``, ``jvp``, ``jacobian``, ``hessian``.

Everything here is built on the one reverse-mode walk of the engine. ``jacobian`` runs one
backward pass per output element; ``hessian`` is the Jacobian of the gradient (recorded with
``create_graph``); ``jvp`` transposes a vector-Jacobian product (see :func:`jvp` for why).
"""

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


def _point_and_direction(x: Any, v: Any, name: str) -> tuple[Tensor, np.ndarray]:
    """Return a fresh leaf for ``x``, and ``v`` as an array of its dtype and its shape."""
    xt = _leaf(x, name)
    va = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=xt.dtype)
    if va.shape != xt.shape:
        raise ValueError(f"{name}: v has shape {va.shape}, x has shape {xt.shape}")
    return xt, va


def _with_leaves(
    args: tuple[Any, ...], argnums: int | Sequence[int], name: str
) -> tuple[list[Any], list[Tensor]]:
    """``args`` with the ones ``argnums`` picks replaced by fresh leaves, and those leaves."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    targs = list(args)
    for i in nums:
        if not -len(args) <= i < len(args):
            raise IndexError(f"{name}: argnums {i} is out of range for {len(args)} arguments")
        targs[i] = _leaf(args[i], name)
    return targs, [targs[i] for i in nums]


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

    def wrapped(*args: Any, **kwargs: Any) -> tuple[float, Any]:
        targs, wrt = _with_leaves(args, argnums, "grad")
        with enable_grad():
            out = _scalar_output(f(*targs, **kwargs), "grad")
        grads = _gradients(out, wrt)
        return out.item(), (grads[0] if single else tuple(grads))

    return wrapped


def grad(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return ``g(*args) -> ∂f/∂args[argnums]`` as an array (a tuple for several argnums)."""
    vg = value_and_grad(f, argnums)
    return lambda *args, **kwargs: vg(*args, **kwargs)[1]


def hvp(f: Callable[[Tensor], Tensor], x: Any, v: Any) -> np.ndarray:
    r"""Return the Hessian-vector product ∇²f(x) · v, by differentiating ⟨∇f(x), v⟩ once more."""
    xt, va = _point_and_direction(x, v, "hvp")
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


def _tensor_output(out: Any, name: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    return out


def _jacobian_of(out: Tensor, wrt: Sequence[Tensor], create_graph: bool = False) -> list[Any]:
    """Return ∂out/∂w for each w, shaped ``out.shape + w.shape``.

    One backward walk runs per element of ``out``, seeded with that element's unit vector (the graph
    is kept between walks).
    """
    rows: list[list[Any]] = [[] for _ in wrt]
    for k in range(out.size):
        found: dict[int, Any] = {}
        if out.requires_grad:
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[k] = 1
            seed_t: Any = seed.reshape(out.shape)
            if create_graph:
                seed_t = Tensor(seed_t)
            for leaf, g in walk_backward(out, seed_t, retain_graph=True, create_graph=create_graph):
                found[id(leaf)] = g
        for row, w in zip(rows, wrt, strict=True):
            g = found.get(id(w))
            row.append(np.zeros_like(w.data) if g is None else np.asarray(g, dtype=w.dtype))
    return [
        np.stack(row).reshape(out.shape + w.shape) if row else np.zeros(out.shape + w.shape)
        for row, w in zip(rows, wrt, strict=True)
    ]


def jacobian(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    r"""Return ``J(*args)``: the full Jacobian ∂f/∂args[argnums] as an array.

    ``J[i..., j...] = ∂f(x)[i...] / ∂x[j...]``, of shape ``f(x).shape + x.shape`` (a tuple of
    such arrays for several ``argnums``). Computed in reverse mode: one backward pass per
    element of ``f(x)``, so it suits functions with few outputs; ``f`` may return any shape.
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        targs, wrt = _with_leaves(args, argnums, "jacobian")
        with enable_grad():
            out = _tensor_output(f(*targs, **kwargs), "jacobian")
        jac = _jacobian_of(out, wrt)
        return jac[0] if isinstance(argnums, int) else tuple(jac)

    return wrapped


def hessian(f: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    r"""Return ``H(*args)``: the Hessian ∂²f/∂x∂x of scalar ``f`` as an array.

    ``H[i..., j...] = ∂²f / ∂x[i...] ∂x[j...]``, of shape ``x.shape + x.shape`` (the Jacobian's
    ``output.shape + input.shape`` rule applied to ∇f). For several ``argnums`` the result is
    a nested tuple: ``H[a][b]`` of shape ``x_a.shape + x_b.shape``. The gradient is recorded
    with ``create_graph=True`` and then differentiated once per element.
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        targs, wrt = _with_leaves(args, argnums, "hessian")
        with enable_grad():
            out = _scalar_output(f(*targs, **kwargs), "hessian")
            first: dict[int, Any] = {}
            if out.requires_grad:
                seed = Tensor(np.ones(out.shape, dtype=out.dtype))
                for leaf, g in walk_backward(out, seed, retain_graph=True, create_graph=True):
                    first[id(leaf)] = g
            blocks = []
            for x in wrt:
                g = first.get(id(x))
                if isinstance(g, Tensor):
                    blocks.append(_jacobian_of(g, wrt))
                else:  # ∇f does not depend on the inputs (or f does not depend on x)
                    blocks.append([np.zeros(x.shape + w.shape, dtype=w.dtype) for w in wrt])
        if isinstance(argnums, int):
            return blocks[0][0]
        return tuple(tuple(row) for row in blocks)

    return wrapped


def jvp(f: Callable[[Tensor], Tensor], x: Any, v: Any) -> np.ndarray:
    r"""Return the Jacobian-vector product J·v of ``f`` at ``x``, of shape ``f(x).shape``.

    ``(J v)[i...] = Σ_j ∂f(x)[i...]/∂x[j] · v[j]``, the directional derivative of ``f`` along
    ``v``, for any output shape.

    How: by transposing a vector-Jacobian product (the "double-backward trick"), not by a
    separate forward-mode pass. With a dummy cotangent u (zeros of ``f(x)``'s shape), the
    backward pass recorded with ``create_graph=True`` gives g(u) = Jᵀu, which is linear in u;
    differentiating ⟨g(u), v⟩ with respect to u gives J v. Why: the engine stores one rule per
    op, its vector-Jacobian product; a forward mode would need a second (tangent) rule for every
    op and every custom ``Function``. The trick reuses the rules already there (and tested),
    at the cost of two backward passes instead of one forward pass. A custom ``Function``
    needs a backward that supports ``create_graph`` (written in Tensor operations).
    """
    xt, va = _point_and_direction(x, v, "jvp")
    with enable_grad():
        out = _tensor_output(f(xt), "jvp")
        if not out.requires_grad:
            return np.zeros(out.shape, dtype=out.dtype)
        u = Tensor(np.zeros(out.shape, dtype=out.dtype), requires_grad=True)
        vjp = dict(walk_backward(out, u, retain_graph=True, create_graph=True))
        g = vjp.get(xt)
        if not isinstance(g, Tensor):
            return np.zeros(out.shape, dtype=out.dtype)
        return _gradients((g * va).sum(), [u])[0]
