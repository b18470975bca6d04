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
#: the op is recorded instead of locked (a copy of a small array costs less than locking it and
#: checking it at backward); larger ones are locked, so a batch is never duplicated.
COPY_LIMIT = 4096
#: Up to this many elements, an array is checked at backward against a copy of its bytes.
EXACT_LIMIT = 4096
#: A larger array's fingerprint sums its words by position modulo this prime (see _fingerprint).
FOLD = 1021


#: A crossed op's kept positions, indexed by needs[0] + 2 · needs[1]: input 0 is kept when input 1
#: needs a gradient, and input 1 when input 0 does.
_CROSSED_KEEPS: tuple[tuple[int, ...], ...] = ((), (1,), (0,), (0, 1))


def _keep_field(value: Any, name: str, wanted: list[tuple[np.ndarray, int | str]]) -> Any:
    """Return what a node keeps of its array field ``name``.

    ``value`` is an array, or a tuple holding arrays such as an index: each small array is
    replaced by a private copy; a large one is kept and added to ``wanted``.
    """
    if type(value) is tuple:
        return tuple(_keep_field(v, name, wanted) for v in value)
    if type(value) is not np.ndarray:
        return value
    if value.size <= COPY_LIMIT:
        return value.copy()
    wanted.append((value, name))
    return value


def _words(a: np.ndarray) -> np.ndarray:
    """Return ``a``'s bytes as one flat array of the widest unsigned words that tile them.

    No copy is made for a contiguous array.
    """
    if a.itemsize == 8 and a.flags.c_contiguous:  # float64, int64: the common case, directly
        return a.reshape(-1).view(np.uint64)
    raw = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    for word in (np.uint64, np.uint32, np.uint16):
        if raw.size % np.dtype(word).itemsize == 0:
            return raw.view(word)
    return raw


def _fingerprint(a: np.ndarray) -> bytes:
    """Return what ``a`` holds, to compare at backward.

    For a small array that is its bytes (exact); else, with ``w_i`` its i-th machine word, the
    :data:`FOLD` sums ``Σ_{i ≡ k (mod FOLD)} w_i`` modulo the word size, one pass and no copy for a
    contiguous array. Bits are compared, so NaNs and signed zeros compare as themselves. Any change
    to one element changes one sum, and so does a swap of two different values unless their
    positions differ by a multiple of FOLD; only changes that cancel within one residue class go
    unseen.
    """
    if a.size <= EXACT_LIMIT:
        return a.tobytes()
    words = _words(a)
    rows = words.size // FOLD
    sums = np.add.reduce(words[: rows * FOLD].reshape(rows, FOLD), axis=0)
    tail = words[rows * FOLD :]
    sums[: tail.size] += tail
    fingerprint: bytes = sums.tobytes()
    return fingerprint


def _where(where: int | str) -> str:
    if where == "out":
        return "the output"
    return f"input {where}" if isinstance(where, int) else f"the array {where!r}"


def _lock_all(wanted: list[tuple[np.ndarray, int | str]]) -> Guard | None:
    """Lock the arrays in ``wanted`` (with their bases) and fingerprint those it locks."""
    # Without the lock: only writable arrays and arrays locked by other nodes need work
    # (an entry is made before its array goes read-only, and an array goes writable before
    # its entry is removed, so no array is ever "read-only and not ours" in between).
    todo = []
    seen = None
    for w, where in wanted:
        a: Any = w
        ours = False
        while type(a) is np.ndarray:
            if a.flags.writeable or id(a) in _locked:
                todo.append(a)
                ours = True
            a = a.base
        if ours:
            if seen is None:
                seen = []
            seen.append((w, _fingerprint(w), where))
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
    return Guard(locked, seen) if locked or seen else None


class Guard:
    """Keep the arrays a node's rule reads read-only while the node lives; check them at backward.

    Nothing may change behind NumPy's back either (see :meth:`verify`).
    The rule: an array that backward will read cannot change. Results of recorded operations
    are read-only from birth (``Tensor._apply`` marks them); arrays from outside (leaf data,
    inputs, constants, and the arrays an op holds as fields: an index, a ``where`` condition,
    class labels) are locked here while a live node needs them, and unlocked when the last such
    node is released by backward or dies. A small plain array (not a Tensor's data, at most
    :data:`COPY_LIMIT` elements) is copied into the node instead, so the caller's array stays
    writable and the node keeps the values it saw; so is a small array field. Writing into a
    locked array (``t.data[0] = 1``, ``t.data -= 1``) raises NumPy's "read-only" ``ValueError``
    instead of silently changing a gradient. Views are locked together with their base arrays.
    Arrays that were read-only before are left alone; a count per array lets several nodes share
    one. Locking cannot reach a view made *before* the forward pass (it stays writable), so
    every array this guard locks for the rule is fingerprinted (:func:`_fingerprint`) and
    :meth:`verify` compares before the rule runs.
    """

    __slots__ = ("arrays", "seen")

    def __init__(
        self,
        arrays: list[np.ndarray],
        seen: list[tuple[np.ndarray, bytes, int | str]] | None,
    ) -> None:
        self.arrays = arrays
        self.seen = seen  # (array the rule reads, its fingerprint, which one) or None

    @staticmethod
    def lock(op: Op, args: tuple[Any, ...], xs: tuple[Any, ...], out: np.ndarray) -> Guard | None:
        """Keep what node ``op`` (applied to ``args``, whose plain values are ``xs``) reads.

        The arrays its rule reads that may need locking are locked and fingerprinted; a small
        plain array among ``args`` is replaced by a private copy in ``op.xs`` and ``op.inputs``
        instead, and so is a small array field.
        """
        if op.crossed:
            needs = op.needs
            keeps: Sequence[int] = _CROSSED_KEEPS[needs[0] + 2 * needs[1]]
        else:
            keeps = range(len(xs)) if op.keeps is None else op.keeps
        wanted: list[tuple[np.ndarray, int | str]] = []
        copied = None
        for i in keeps:
            a = xs[i]
            if type(a) is not np.ndarray:
                continue
            if args[i] is a:  # a plain array: a small one is copied, a large one locked
                if a.size <= COPY_LIMIT:
                    if copied is None:
                        copied = list(xs)
                    copied[i] = a.copy()
                    continue
            elif not a.flags.writeable and a.base is None and id(a) not in _locked:
                continue  # a recorded result (read-only from birth) or an array read-only before
            wanted.append((a, i))
        if copied is not None:
            op.keep_copies(tuple(copied))
        for name in op.array_fields:
            value = getattr(op, name)
            if type(value) is np.ndarray or type(value) is tuple:
                setattr(op, name, _keep_field(value, name, wanted))
        if op.keeps_out and out.base is not None:  # out itself is read-only from birth
            wanted.append((out.base, "out"))
        return _lock_all(wanted) if wanted else None

    def verify(self, op: Op) -> None:
        """Raise ``RuntimeError`` if an array the rule of ``op`` reads changed since the forward."""
        for a, before, where in self.seen or ():
            if _fingerprint(a) != before:
                raise RuntimeError(
                    f"backward: {_where(where)} of {op!r} (an array of shape {a.shape}) changed "
                    "after the op was recorded, through a view made before the forward pass (or "
                    "memory NumPy cannot lock), so its gradient would be wrong; recompute the "
                    "forward pass after changing an array"
                )

    def release(self) -> None:
        self.seen = None
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
