"""The in-place rule: the arrays a node's gradient rule reads stay as the forward saw them.

Results of recorded operations are read-only from birth; arrays from outside that a rule reads
are locked (or, when small, copied) by :class:`Guard` while a live node needs them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .engine import Op

__all__ = ["COPY_LIMIT", "Guard"]

_locked: dict[int, list[Any]] = {}  # id(array) -> [array, number of live nodes that need it]
_locked_mutex = threading.Lock()
# The cycle collector may free a Guard while this thread is inside the bookkeeping below (any
# allocation can trigger it). Such a Guard hands its arrays to ``_deferred`` instead of taking
# the lock again; they are unlocked before the bookkeeping ends.
_inside = threading.local()
_deferred: list[list[np.ndarray]] = []


def _unlock(arrays: list[np.ndarray]) -> None:
    """Count down each array's users (mutex held); unlock it when none is left.

    An array is made writable *before* its entry goes, so that the lock-free look in
    :meth:`Guard.lock` never sees a locked array as "read-only, not ours".
    """
    for a in reversed(arrays):  # bases before their views
        entry = _locked[id(a)]
        if entry[1] > 1:
            entry[1] -= 1
            continue
        try:
            a.setflags(write=True)
        except ValueError:  # pragma: no cover - its base was made read-only by others
            pass
        del _locked[id(a)]


def _drain_deferred() -> None:
    """Unlock what Guards freed inside the bookkeeping handed over (mutex held)."""
    while _deferred:
        _unlock(_deferred.pop())


#: Plain arrays (not Tensors) of at most this many elements that a rule reads are copied when
#: the op is recorded instead of locked: copying a few kilobytes costs less than the locking.
COPY_LIMIT = 4096


#: A crossed op's kept positions, indexed by needs[0] + 2 · needs[1]: input 0 is kept when input 1
#: needs a gradient, and input 1 when input 0 does.
_CROSSED_KEEPS: tuple[tuple[int, ...], ...] = ((), (1,), (0,), (0, 1))


def _keep_copy(op: Op, i: int) -> None:
    """Give node ``op`` its own copy of its plain-array input ``i`` (in ``xs`` and ``inputs``)."""
    copy = op.xs[i].copy()  # type: ignore[index]
    op.xs[i] = copy  # type: ignore[index]
    inputs = list(op.inputs)  # type: ignore[arg-type]
    inputs[i] = copy
    op.inputs = tuple(inputs)


class Guard:
    """Keeps the arrays a node's rule reads read-only until the node is released or dies.

    The rule: an array that backward will read cannot change. Results of recorded operations
    are read-only from birth (``Tensor._apply`` marks them); arrays from outside (leaf data,
    inputs, constants) are locked here while a live node needs them, and unlocked when the
    last such node is released by backward or dies. A small plain array (not a Tensor's data,
    at most :data:`COPY_LIMIT` elements) is copied into the node instead, so the caller's array
    stays writable and the node keeps the values it saw. Writing into a locked array
    (``t.data[0] = 1``, ``t.data -= 1``) raises NumPy's "read-only" ``ValueError`` instead of
    silently changing a gradient. Views are locked together with their base arrays. Arrays that
    were read-only before are left alone; a count per array lets several nodes share one.
    """

    __slots__ = ("arrays",)

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays

    @staticmethod
    def lock(op: Op, xs: list[Any], out: np.ndarray) -> Guard | None:
        if op.crossed:
            needs = op.needs
            keeps: Sequence[int] = _CROSSED_KEEPS[needs[0] + 2 * needs[1]]
        else:
            keeps = range(len(xs)) if op.keeps is None else op.keeps
        wanted = []
        for i in keeps:
            a = xs[i]
            if type(a) is np.ndarray:
                if a.size <= COPY_LIMIT and op.inputs[i] is a:  # type: ignore[index]
                    _keep_copy(op, i)  # a small plain array: a private copy is cheaper
                else:
                    wanted.append(a)
        if op.keeps_out and out.base is not None:  # out itself is read-only from birth
            wanted.append(out.base)
        # Without the lock: only writable arrays and arrays locked by other nodes need work
        # (an entry is made before its array goes read-only, and an array goes writable before
        # its entry is removed, so no array is ever "read-only and not ours" in between).
        todo = []
        for a in wanted:
            while type(a) is np.ndarray:
                if a.flags.writeable or id(a) in _locked:
                    todo.append(a)
                a = a.base
        if not todo:
            return None
        locked: list[np.ndarray] = []
        _locked_mutex.acquire()
        _inside.busy = True
        try:
            for a in todo:
                entry = _locked.get(id(a))
                if entry is not None:
                    entry[1] += 1
                    locked.append(a)
                elif a.flags.writeable:
                    _locked[id(a)] = [a, 1]
                    a.setflags(write=False)
                    locked.append(a)
        finally:
            if _deferred:
                _drain_deferred()
            _inside.busy = False
            _locked_mutex.release()
        return Guard(locked) if locked else None

    def release(self) -> None:
        arrays, self.arrays = self.arrays, []
        if not arrays:
            return
        _locked_mutex.acquire()
        _inside.busy = True
        try:
            _unlock(arrays)
        finally:
            if _deferred:
                _drain_deferred()
            _inside.busy = False
            _locked_mutex.release()

    def __del__(self) -> None:
        if not self.arrays:
            return
        if getattr(_inside, "busy", False):  # freed by the collector inside the bookkeeping
            _deferred.append(self.arrays)
            self.arrays = []
            return
        try:
            self.release()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
