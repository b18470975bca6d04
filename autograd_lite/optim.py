r"""Optimizers: :class:`SGD` and :class:`Adam`, with PyTorch's update rules.

An optimizer holds a fixed list of parameters (Tensors with ``requires_grad=True``). ``step()``
reads each parameter's ``.grad`` and changes ``.data`` in place; parameters whose ``.grad`` is
``None`` are skipped. While a graph kept by ``retain_graph=True`` still needs a parameter's array
(it is then read-only, see :class:`autograd_lite._guard.Guard`), the step gives the parameter a
new array instead, so that graph keeps the values it was recorded with. ``zero_grad()`` sets
every ``.grad`` to ``None``. Arguments are checked once, at construction (and when ``lr`` is
assigned), so ``step()`` does no validation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["SGD", "Adam", "Optimizer"]


_CHUNK = 1 << 14  # elements of the scratch array for lr·direction (128 KiB of float64)


def _descend(p: Tensor, lr: float, direction: np.ndarray) -> None:
    """p ← p − lr · direction, in place; a large parameter is updated in chunks through a small
    reused scratch array, so no second parameter-sized array is ever allocated. If a retained
    graph still reads p's array (it is read-only then), p gets a new array instead."""
    data = p.data
    if not data.flags.writeable:
        p.data = data - lr * direction
        return
    if data.size <= _CHUNK or not (data.flags.c_contiguous and direction.flags.c_contiguous):
        data -= lr * direction
        return
    flat, dflat = data.reshape(-1), direction.reshape(-1)
    # lr is a Python float, so lr · direction keeps a floating direction's dtype
    dtype = dflat.dtype if dflat.dtype.kind == "f" else np.result_type(dflat.dtype, lr)
    scratch = np.empty(_CHUNK, dtype=dtype)
    multiply, subtract = np.multiply, np.subtract
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        step = scratch[: part.size]
        multiply(dflat[start : start + _CHUNK], lr, out=step)
        subtract(part, step, out=part)


def _check_number(name: str, value: Any, low: float = 0.0, below: float | None = None) -> float:
    """``value`` as a float, finite, ≥ ``low`` and (if given) < ``below``; else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < low or (below is not None and v >= below):
        bounds = f"in [{low:g}, {below:g})" if below is not None else f"finite and ≥ {low:g}"
        raise ValueError(f"invalid {name}: {value!r} (must be {bounds})")
    return v


class Optimizer:
    """Base class: holds the parameters, validates them, provides ``zero_grad``."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors, not one Tensor "
                "(wrap it in a list)"
            )
        plist = list(params)
        if not plist:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(plist):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Tensor"
                )
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: parameter {i} (shape {p.shape}) must be a leaf "
                    "Tensor with requires_grad=True"
                )
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: parameter {i} appears more than once")
            seen.add(id(p))
        self.params: list[Tensor] = plist
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate; assigning checks it (finite, ≥ 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to ``None``."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def _gradients(self) -> list[tuple[int, Tensor, np.ndarray]]:
        """``(index, parameter, gradient + weight decay)`` for every parameter with a gradient;
        all are checked before any is changed, so a bad ``.grad`` changes nothing."""
        found = []
        wd = getattr(self, "weight_decay", 0.0)
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            g = g.data
            if g.shape != p.data.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: parameter {i} has shape {p.data.shape} but "
                    f"its .grad has shape {g.shape}"
                )
            found.append((i, p, g + wd * p.data if wd else g))
        return found


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum, Nesterov and weight decay.

    With g = ∂E/∂p + λ p (λ = ``weight_decay``) and μ = ``momentum``, PyTorch's recurrence:

    .. math::
        v_1 = g_1, \quad v_t = μ v_{t-1} + g_t, \qquad
        p \leftarrow p - \eta \, d_t, \quad d_t = g_t + μ v_t \text{ (Nesterov) or } v_t.

    With μ = 0 this is the plain step p ← p − η g.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.momentum = _check_number("momentum", momentum)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        if nesterov and self.momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr)
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, mu = self._lr, self.momentum
        if mu == 0.0:
            for _, p, g in self._gradients():
                _descend(p, lr, g)
            return
        velocity = self._velocity
        for i, p, g in self._gradients():
            v = velocity[i]
            if v is None:
                v = velocity[i] = np.array(g, dtype=p.data.dtype)
            else:
                v *= mu
                v += g
            direction = g + mu * v if self.nesterov else v
            _descend(p, lr, direction)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba), with PyTorch's semantics.

    With g = ∂E/∂p + λ p and t the number of steps this parameter has taken:

    .. math::
        m \leftarrow β_1 m + (1 − β_1) g, \quad v \leftarrow β_2 v + (1 − β_2) g^2, \qquad
        p \leftarrow p − η \frac{m / (1 − β_1^t)}{\sqrt{v / (1 − β_2^t)} + ε}.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}") from None
        self.betas = (
            _check_number("betas[0]", b1, 0.0, 1.0),
            _check_number("betas[1]", b2, 0.0, 1.0),
        )
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        super().__init__(params, lr)
        n = len(self.params)
        self._m: list[np.ndarray | None] = [None] * n
        self._v: list[np.ndarray | None] = [None] * n
        self._t = [0] * n

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, eps = self._lr, self.eps
        b1, b2 = self.betas
        for i, p, g in self._gradients():
            m, v = self._m[i], self._v[i]
            if m is None or v is None:
                m = self._m[i] = np.zeros_like(p.data)
                v = self._v[i] = np.zeros_like(p.data)
            t = self._t[i] = self._t[i] + 1
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            step = np.sqrt(v)
            step /= math.sqrt(1 - b2**t)
            step += eps
            np.divide(m, step, out=step)
            _descend(p, lr / (1 - b1**t), step)
