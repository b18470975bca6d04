"""Optimizer updates as the program records them.

Two built-in updates are traced through versions written here, with the same arithmetic:
Adam's (and AdamW's), whose bias corrections depend on the step count, a Python number the
program must read at each call, not a constant of the trace; and SGD's, whose chunked in-place
update is recorded as one product into a reused buffer and one subtraction. The other
optimizers are traced as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..optim import SGD, Adam, Optimizer, writable_data
from .capture import Capture
from .tracing import active

__all__ = ["route_updates"]


def _descend(p: Any, lr: Any, direction: Any) -> None:
    """Set p ← p − lr · direction, in place (in a copy if a retained graph still reads p's)."""
    data = writable_data(p)
    data -= direction * lr


def sgd_step(opt: SGD, capture: Capture) -> None:
    """SGD's update: v ← μ v + g (v = g at first), p ← p − η (g + μ v if Nesterov, else v)."""
    lr, mu = opt.lr, opt.momentum
    velocity = opt.state["momentum_buffer"]
    for i, p, g in opt._gradients():
        direction = g
        if mu != 0.0:
            v = velocity[i]
            if v is None:
                v = velocity[i] = g.astype(p.data.dtype, copy=True)
            else:
                v *= mu
                v += g
            direction = g + mu * v if opt.nesterov else v
        _descend(p, lr, direction)


def adam_step(opt: Adam, capture: Capture) -> None:
    """Adam's update, with 1/√(1 − β₂ᵗ) and η/(1 − β₁ᵗ) read by the program at each call."""
    lr, eps = opt.lr, opt.eps
    b1, b2 = opt.betas
    exp_avg, exp_avg_sq, steps = opt.state["exp_avg"], opt.state["exp_avg_sq"], opt.state["step"]
    for i, p, g in opt._gradients():
        m, v = exp_avg[i], exp_avg_sq[i]
        if m is None or v is None:
            m = exp_avg[i] = np.zeros_like(p.data)
            v = exp_avg_sq[i] = np.zeros_like(p.data)
        t = steps[i] = steps[i] + 1
        capture.counters.append((opt, i))
        dtype = p.data.dtype
        root = capture.scalar(math.sqrt(1 - b2**t), dtype, ("adam2", opt, i, b2), "bias_sqrt")
        rate = capture.scalar(lr / (1 - b1**t), dtype, ("adam1", opt, i, b1, lr), "rate")
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step = np.sqrt(v)
        step /= root
        step += eps
        np.divide(m, step, out=step)
        _descend(p, rate, step)


_UPDATES: dict[type[Optimizer], Callable[[Any, Capture], None]] = {
    SGD: sgd_step,
    Adam: adam_step,
}


def _routed(cls: type[Optimizer], original: Callable[[Any], None]) -> Callable[[Any], None]:
    update = _UPDATES[cls]

    def step(self: Any) -> None:
        tracer = active()
        if isinstance(tracer, Capture) and type(self).step is step:
            update(self, tracer)
        else:
            original(self)

    step.__doc__ = original.__doc__
    return step


def route_updates() -> Callable[[], None]:
    """Route SGD's and Adam's ``step`` through the updates above; return what undoes it.

    Subclasses that keep ``step`` are routed too. A routed ``step`` is the original in a
    thread that is not tracing, so one routing serves all the traces in progress.
    """
    originals = {cls: cls.step for cls in _UPDATES}
    for cls, original in originals.items():
        cls.step = _routed(cls, original)  # type: ignore[method-assign,assignment]

    def undo() -> None:
        for cls, original in originals.items():
            cls.step = original  # type: ignore[method-assign]

    return undo
