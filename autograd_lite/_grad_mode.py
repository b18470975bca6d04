"""The per-thread switch that decides whether operations are recorded."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled: bool = True
    sites: bool = False  # remember where each recorded op was created (anomaly mode, blame)
    anomaly: bool = False  # raise at the first NaN or inf an op produces (detect_anomaly)


_state = _State()


def is_grad_enabled() -> bool:
    """Return whether operations in this thread are being recorded for backward."""
    return _state.enabled


class _GradMode:
    """Context manager (and decorator) that sets recording to ``self.mode`` in this thread."""

    mode: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_state.enabled)
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - named like the PyTorch and NumPy context managers
    """Record nothing inside the block (this thread only); usable as a decorator."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside the block (this thread only); usable as a decorator."""

    mode = True


class recording_sites:  # noqa: N801
    """Inside the block (this thread), every recorded op remembers the stack that created it.

    Read it back with :func:`autograd_lite._anomaly.creation_site`. Off by default: taking a stack
    costs tens of microseconds per op.
    """

    def __enter__(self) -> None:
        self._previous = _state.sites
        _state.sites = True

    def __exit__(self, *exc: object) -> None:
        _state.sites = self._previous


class detect_anomaly:  # noqa: N801 - named like PyTorch's
    """Inside the block (this thread), the first NaN or inf that an op produces, in forward or in
    backward, raises :class:`AnomalyError` naming the op, the shapes, and where the op was created.

    Slower (every result is scanned and every op remembers its creation stack): for debugging.
    """

    def __enter__(self) -> None:
        self._previous = (_state.anomaly, _state.sites)
        _state.anomaly = _state.sites = True

    def __exit__(self, *exc: object) -> None:
        _state.anomaly, _state.sites = self._previous


class AnomalyError(FloatingPointError):
    """An op produced NaN or inf inside :class:`detect_anomaly`."""
