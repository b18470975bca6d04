r"""Optimizers: :class:`SGD`, :class:`Adam`, :class:`RMSprop`, :class:`AdamW` and
:class:`Adagrad`, with PyTorch's update rules.

An optimizer holds a fixed list of parameters (Tensors with ``requires_grad=True``). ``step()``
reads each parameter's ``.grad`` and changes ``.data`` in place; parameters whose ``.grad`` is
``None`` are skipped. While a graph kept by ``retain_graph=True`` still needs a parameter's array
(it is then read-only, see :class:`autograd_lite.engine.Guard`), the step gives the parameter a
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

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]


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

    #: Whether ``weight_decay`` λ is added to the gradient (g + λ p); AdamW decays p itself.
    decay_in_gradient = True

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
        wd = getattr(self, "weight_decay", 0.0) if self.decay_in_gradient else 0.0
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


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), with PyTorch's recurrence.

    With g = ∂E/∂p + λ p, α = ``alpha`` and μ = ``momentum``:

    .. math::
        s \leftarrow α s + (1 − α) g^2, \qquad
        p \leftarrow p − η \frac{g}{\sqrt{s} + ε} \text{ (μ = 0), or }
        b \leftarrow μ b + \frac{g}{\sqrt{s} + ε}, \; p \leftarrow p − η b.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        self.alpha = _check_number("alpha", alpha, 0.0, 1.0)
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.momentum = _check_number("momentum", momentum)
        super().__init__(params, lr)
        n = len(self.params)
        self._square_avg: list[np.ndarray | None] = [None] * n
        self._momentum_buffer: list[np.ndarray | None] = [None] * n

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        alpha, mu = self.alpha, self.momentum
        for i, p, g in self._gradients():
            s = self._square_avg[i]
            if s is None:
                s = self._square_avg[i] = np.zeros_like(p.data)
            s *= alpha
            s += (1 - alpha) * (g * g)
            direction = g / (np.sqrt(s) + self.eps)
            if mu > 0:
                b = self._momentum_buffer[i]
                if b is None:
                    b = self._momentum_buffer[i] = np.zeros_like(p.data)
                b *= mu
                b += direction
                direction = b
            _descend(p, self._lr, direction)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter), with PyTorch's semantics: each
    step first shrinks the parameter, p ← p (1 − η λ), then takes Adam's step on ∂E/∂p alone
    (λ = ``weight_decay``, 0.01 by default)."""

    decay_in_gradient = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _gradients(self) -> list[tuple[int, Tensor, np.ndarray]]:
        found = super()._gradients()  # every gradient checked before any parameter shrinks
        keep = 1 - self._lr * self.weight_decay
        if keep != 1:
            for _, p, _ in found:
                if p.data.flags.writeable:
                    p.data *= keep
                else:
                    p.data = p.data * keep
        return found


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.), with PyTorch's recurrence: with g = ∂E/∂p + λ p,

    .. math::
        s \leftarrow s + g^2, \qquad p \leftarrow p − η \frac{g}{\sqrt{s} + ε}.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ) -> None:
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        super().__init__(params, lr)
        self._sum: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for i, p, g in self._gradients():
            s = self._sum[i]
            if s is None:
                s = self._sum[i] = np.zeros_like(p.data)
            s += g * g
            _descend(p, self._lr, g / (np.sqrt(s) + self.eps))
