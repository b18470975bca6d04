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
    rule: Any = None  # the node whose gradient rule a create_graph backward is recording
    tracer: Any = None  # sees every op before it is applied (``on_apply(op, args)``), if set

    def __init__(self) -> None:  # runs once in each thread that touches the state
        #: What each context manager entered in this thread saved, by id(manager): one
        #: instance may be entered by several threads at once, and nested in one.
        self.saved: dict[int, list[Any]] = {}


_state = _State()


class _Switch:
    """Base of the context managers: what ``__enter__`` replaces is kept per thread."""

    def _save(self, value: Any) -> None:
        _state.saved.setdefault(id(self), []).append(value)

    def _restore(self) -> Any:
        saved = _state.saved
        stack = saved[id(self)]
        value = stack.pop()
        if not stack:
            del saved[id(self)]
        return value


def is_grad_enabled() -> bool:
    """Return whether operations in this thread are being recorded for backward."""
    return _state.enabled


class _GradMode(_Switch):
    """Context manager (and decorator) that sets recording to ``self.mode`` in this thread."""

    mode: bool

    def __enter__(self) -> None:
        self._save(_state.enabled)
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._restore()

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


class recording_sites(_Switch):  # noqa: N801
    """Inside the block (this thread), every recorded op remembers the stack that created it.

    Read it back with :func:`autograd_lite._anomaly.creation_site`. Off by default: taking a stack
    costs tens of microseconds per op.
    """

    def __enter__(self) -> None:
        self._save(_state.sites)
        _state.sites = True

    def __exit__(self, *exc: object) -> None:
        _state.sites = self._restore()


class detect_anomaly(_Switch):  # noqa: N801 - named like PyTorch's
    """Raise at the first NaN or inf an op produces inside the block (this thread).

    In forward or in backward, :class:`AnomalyError` names the op, the shapes, and where the op was
    created. Slower (every result is scanned and every op remembers its creation stack): for
    debugging.
    """

    def __enter__(self) -> None:
        self._save((_state.anomaly, _state.sites))
        _state.anomaly = _state.sites = True

    def __exit__(self, *exc: object) -> None:
        _state.anomaly, _state.sites = self._restore()


class AnomalyError(FloatingPointError):
    """An op produced NaN or inf inside :class:`detect_anomaly`."""
