r"""Optimizers with PyTorch's update rules, and learning-rate schedules.

The optimizers are :class:`SGD`, :class:`Adam`, :class:`RMSprop`, :class:`AdamW` and
:class:`Adagrad`; the schedules :class:`StepLR` and :class:`CosineAnnealingLR`.

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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from .tensor import Tensor

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "Optimizer",
    "RMSprop",
    "StepLR",
]


_CHUNK = 1 << 14  # elements of the scratch array for lr·direction (128 KiB of float64)


def writable_data(t: Tensor) -> np.ndarray:
    """Return ``t``'s array, ready to be changed in place.

    While a graph kept by ``retain_graph=True`` (or recorded with ``create_graph=True``) still
    reads ``t``'s array, that array is read-only: ``t`` then gets a copy of it first, so the graph
    keeps the values it was recorded with and ``t`` alone sees the change.
    """
    if not t.data.flags.writeable:
        t.data = t.data.copy()
    return t.data


def _descend(p: Tensor, lr: float, direction: np.ndarray) -> None:
    """Update p ← p − lr · direction in place.

    A large parameter is updated in chunks through a small reused scratch array, so no second
    parameter-sized array is allocated (beyond the copy :func:`writable_data` makes of an array
    a retained graph still reads).
    """
    data = writable_data(p)
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


def _fraction(name: str, value: Any) -> float:
    return _check_number(name, value, 0.0, 1.0)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _betas(name: str, value: Any) -> tuple[float, float]:
    try:
        b1, b2 = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}") from None
    return (_fraction(f"{name}[0]", b1), _fraction(f"{name}[1]", b2))


class Optimizer:
    r"""Base class of the optimizers: parameters, ``zero_grad`` and the state dict.

    It holds and validates the parameters, and provides ``zero_grad``, ``state_dict`` and
    ``load_state_dict``.

    A subclass declares what its state is, and the base class does the rest:

    - ``hyperparameters``: ``{attribute: checker}``, the settings saved in ``state_dict`` and
      restored by ``load_state_dict`` (``lr`` among them). A checker ``(name, value) -> value``
      validates and normalises a value, raising on a bad one (``_check_number``, ``_fraction``,
      ``_flag``, ``_betas``); the constructor uses the same checkers.
    - ``buffers``: names of per-parameter arrays shaped like the parameter (PyTorch's names:
      ``momentum_buffer``, ``exp_avg``, ...). ``self.state[name][i]`` holds parameter i's
      array, or ``None`` before its first step; ``step()`` updates them in place.
    - ``counters``: names of per-parameter integers (``step``), in ``self.state[name][i]``,
      starting at 0.

    ``self.state`` is made by ``Optimizer.__init__`` from these declarations, so a subclass
    only declares them and writes ``step()``::

        class Momentum(Optimizer):
            hyperparameters = {"lr": _check_number, "momentum": _check_number}
            buffers = ("momentum_buffer",)

    ``state_dict()`` is flat, so :func:`autograd_lite.save` can write it: each hyperparameter
    under its name, and ``"state.{i}.{name}"`` for parameter i's buffers and counters.
    """

    hyperparameters: ClassVar[dict[str, Callable[[str, Any], Any]]] = {"lr": _check_number}
    buffers: ClassVar[tuple[str, ...]] = ()
    counters: ClassVar[tuple[str, ...]] = ()

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
        n = len(plist)
        self.state: dict[str, list[Any]] = {name: [None] * n for name in self.buffers}
        self.state.update({name: [0] * n for name in self.counters})

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
        """Update every parameter that has a gradient (each subclass states its rule)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return copies of the hyperparameters, buffers and step counts, as named arrays.

        Keys: each hyperparameter's name (``"lr"``, ``"betas"``, ...), and
        ``"state.{i}.{name}"`` for parameter i's buffers (those it has: a parameter that never
        stepped has none) and counters. Save it with :func:`autograd_lite.save`.
        """
        out = {name: np.array(getattr(self, name)) for name in self.hyperparameters}
        for name in (*self.buffers, *self.counters):
            for i, value in enumerate(self.state[name]):
                if value is not None:
                    out[f"state.{i}.{name}"] = np.array(value)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (for the same parameters, in the same order).

        Everything is checked first: a missing or unexpected key, a buffer whose shape is not
        its parameter's, a non-integer or negative count, or a hyperparameter its checker
        refuses raises ``KeyError``/``ValueError``/``TypeError``, and nothing changes.
        Buffers are copied, so later steps never write into ``state``'s arrays.
        """
        cls = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{cls}.load_state_dict: expected a mapping, got {type(state).__name__}"
            )
        arrays = {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
        missing = [k for k in self.hyperparameters if k not in arrays]
        n = len(self.params)
        wanted = {f"state.{i}.{name}" for i in range(n) for name in (*self.buffers, *self.counters)}
        unexpected = [k for k in arrays if k not in self.hyperparameters and k not in wanted]
        if missing or unexpected:
            raise KeyError(
                f"{cls}.load_state_dict: keys differ; missing {missing}, unexpected {unexpected} "
                f"(is it the state of another optimizer, or of {n} other parameters?)"
            )
        settings = {}
        for name, check in self.hyperparameters.items():
            arr = arrays[name]
            value = arr.item() if arr.ndim == 0 else tuple(arr.tolist())
            settings[name] = check(name, value)
        new: dict[str, list[Any]] = {name: [None] * n for name in self.buffers}
        new.update({name: [0] * n for name in self.counters})
        for i, p in enumerate(self.params):
            for name in self.buffers:
                buf = arrays.get(f"state.{i}.{name}")
                if buf is None:
                    continue
                if buf.shape != p.shape or buf.dtype.kind != "f":
                    raise ValueError(
                        f"{cls}.load_state_dict: 'state.{i}.{name}' has shape {buf.shape} and "
                        f"dtype {buf.dtype}; parameter {i} has shape {p.shape} and dtype {p.dtype}"
                    )
                new[name][i] = np.array(buf, dtype=p.dtype)
            for name in self.counters:
                arr = arrays.get(f"state.{i}.{name}", np.array(0))
                if arr.shape != () or arr.dtype.kind not in "iu" or arr < 0:
                    raise ValueError(
                        f"{cls}.load_state_dict: 'state.{i}.{name}' must be a count (an integer "
                        f">= 0), got {arr!r}"
                    )
                new[name][i] = int(arr)
        for name, value in settings.items():
            setattr(self, name, value)
        self.state = new

    def _gradients(self) -> list[tuple[int, Tensor, np.ndarray]]:
        """List ``(index, parameter, g + λ p)`` for every parameter with a gradient g.

        All are checked before any is changed, so a bad ``.grad`` changes nothing.
        """
        found = []
        wd = getattr(self, "weight_decay", 0.0) if self.decay_in_gradient else 0.0
        for i, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            g = grad.data
            if g.shape != p.data.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: parameter {i} has shape {p.data.shape} but "
                    f"its .grad has shape {g.shape}"
                )
            found.append((i, p, g + wd * p.data if wd else g))
        return found


class _Schedule:
    """Base of the learning-rate schedules: ``step()`` once per epoch sets ``optimizer.lr``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        self._last_lr = optimizer.lr

    def _next_lr(self, lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr(self.optimizer.lr, self.last_epoch)
        self._last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """Return ``[lr]``, the learning rate the last ``step()`` set.

        The list holds one rate per parameter group, as in PyTorch; there is one group.
        """
        return [self._last_lr]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return ``last_epoch``, ``base_lr`` and the last learning rate, to resume a schedule."""
        return {
            "last_epoch": np.array(self.last_epoch),
            "base_lr": np.array(self.base_lr),
            "last_lr": np.array(self._last_lr),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s values (checked first; on an error nothing changes)."""
        name = type(self).__name__
        keys = {"last_epoch", "base_lr", "last_lr"}
        if not isinstance(state, Mapping) or set(state) != keys:
            raise KeyError(f"{name}.load_state_dict: expected exactly the keys {sorted(keys)}")
        epoch = np.asarray(state["last_epoch"])
        if epoch.shape != () or epoch.dtype.kind not in "iu" or epoch < 0:
            raise ValueError(f"{name}.load_state_dict: last_epoch must be an integer >= 0")
        base = _check_number("base_lr", np.asarray(state["base_lr"]).item())
        last = _check_number("last_lr", np.asarray(state["last_lr"]).item())
        self.last_epoch, self.base_lr, self._last_lr = int(epoch), base, last


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class StepLR(_Schedule):
    r"""Decay the learning rate by ``gamma`` every ``step_size`` epochs (PyTorch's ``StepLR``).

    .. math:: η_e = η_0 \, γ^{\lfloor e / \text{step\_size} \rfloor},

    computed as PyTorch does, by multiplying the current rate by γ at every
    ``step_size``-th epoch (so a rate set by hand in between is carried on).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = _positive_int("step_size", step_size)
        gamma = _check_number("gamma", gamma)
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def _next_lr(self, lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch % self.step_size == 0 else lr


class CosineAnnealingLR(_Schedule):
    r"""Cosine annealing from the initial rate η₀ to ``eta_min`` over ``T_max`` epochs.

    This is PyTorch's ``CosineAnnealingLR``, without restarts:

    .. math:: η_e = η_{min} + \tfrac12 (η_0 − η_{min}) \left(1 + \cos \frac{e π}{T_{max}}\right),

    computed with PyTorch's recursive form (the ratio of consecutive cosine factors applied to
    the current rate), which equals the formula above to rounding. After ``T_max`` epochs the
    rate rises again along the same cosine, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        t_max = _positive_int("T_max", T_max)
        eta_min = _check_number("eta_min", eta_min)
        super().__init__(optimizer)
        self.T_max, self.eta_min = t_max, eta_min

    def _next_lr(self, lr: float, epoch: int) -> float:
        t, low = self.T_max, self.eta_min
        if (epoch - 1 - t) % (2 * t) == 0:  # the cosine's trough: the ratio below is 0/0
            return lr + (self.base_lr - low) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * epoch / t)) / (1 + math.cos(math.pi * (epoch - 1) / t))
        return ratio * (lr - low) + low


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum, Nesterov and weight decay.

    With g = ∂E/∂p + λ p (λ = ``weight_decay``) and μ = ``momentum``, PyTorch's recurrence:

    .. math::
        v_1 = g_1, \quad v_t = μ v_{t-1} + g_t, \qquad
        p \leftarrow p - \eta \, d_t, \quad d_t = g_t + μ v_t \text{ (Nesterov) or } v_t.

    With μ = 0 this is the plain step p ← p − η g.
    """

    hyperparameters: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        "lr": _check_number,
        "momentum": _check_number,
        "weight_decay": _check_number,
        "nesterov": _flag,
    }
    buffers = ("momentum_buffer",)

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

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, mu = self._lr, self.momentum
        if mu == 0.0:
            for _, p, g in self._gradients():
                _descend(p, lr, g)
            return
        velocity = self.state["momentum_buffer"]
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

    hyperparameters: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        "lr": _check_number,
        "betas": _betas,
        "eps": _check_number,
        "weight_decay": _check_number,
    }
    buffers = ("exp_avg", "exp_avg_sq")
    counters = ("step",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.betas = _betas("betas", betas)
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        super().__init__(params, lr)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        lr, eps = self._lr, self.eps
        b1, b2 = self.betas
        exp_avg, exp_avg_sq, steps = (
            self.state["exp_avg"],
            self.state["exp_avg_sq"],
            self.state["step"],
        )
        for i, p, g in self._gradients():
            m, v = exp_avg[i], exp_avg_sq[i]
            if m is None or v is None:
                m = exp_avg[i] = np.zeros_like(p.data)
                v = exp_avg_sq[i] = np.zeros_like(p.data)
            t = steps[i] = steps[i] + 1
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

    hyperparameters: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        "lr": _check_number,
        "alpha": lambda name, v: _check_number(name, v, 0.0, 1.0),
        "eps": _check_number,
        "weight_decay": _check_number,
        "momentum": _check_number,
    }
    buffers = ("square_avg", "momentum_buffer")

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

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        alpha, mu = self.alpha, self.momentum
        square_avg, momentum_buffer = self.state["square_avg"], self.state["momentum_buffer"]
        for i, p, g in self._gradients():
            s = square_avg[i]
            if s is None:
                s = square_avg[i] = np.zeros_like(p.data)
            s *= alpha
            s += (1 - alpha) * (g * g)
            direction = g / (np.sqrt(s) + self.eps)
            if mu > 0:
                b = momentum_buffer[i]
                if b is None:
                    b = momentum_buffer[i] = np.zeros_like(p.data)
                b *= mu
                b += direction
                direction = b
            _descend(p, self._lr, direction)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter), with PyTorch's semantics.

    Each step first shrinks the parameter, p ← p (1 − η λ), then takes Adam's step on ∂E/∂p
    alone (λ = ``weight_decay``, 0.01 by default).
    """

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
                data = writable_data(p)
                data *= keep
        return found


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.), with PyTorch's recurrence.

    With g = ∂E/∂p + λ p:

    .. math::
        s \leftarrow s + g^2, \qquad p \leftarrow p − η \frac{g}{\sqrt{s} + ε}.
    """

    hyperparameters: ClassVar[dict[str, Callable[[str, Any], Any]]] = {
        "lr": _check_number,
        "eps": _check_number,
        "weight_decay": _check_number,
    }
    buffers = ("sum",)

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

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        sums = self.state["sum"]
        for i, p, g in self._gradients():
            s = sums[i]
            if s is None:
                s = sums[i] = np.zeros_like(p.data)
            s += g * g
            _descend(p, self._lr, g / (np.sqrt(s) + self.eps))
