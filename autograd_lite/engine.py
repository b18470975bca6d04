r"""The reverse-mode engine: graph nodes, topological order, and the backward walk.

Every recorded operation is an :class:`Op` instance, and that instance *is* the graph node: it
keeps the tensors it was applied to (``inputs``), the plain values its forward saw (``xs``) and
the array it produced (``out``). The backward walk visits nodes in reverse topological order,
keeps the gradient flowing into each node in a dictionary local to the call, and asks each node
for its vector-Jacobian product

.. math:: \bar{x}_k = \bar{o} \cdot \frac{\partial o}{\partial x_k},

summing contributions where a value is used more than once. Broadcasting is undone in exactly
one place, :func:`sum_to_shape`.

The engine never imports the Tensor class: it works with any object that has ``data``,
``requires_grad``, ``grad``, ``_node`` and ``_hooks``, and builds new tensors through the
class methods ``_wrap(array)`` and ``_from_node(array, node)`` of the root's class.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from . import _grad_mode

__all__ = ["Op", "creation_site", "sum_to_shape", "topological_order", "walk_backward"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

RELEASED_MESSAGE = (
    "backward: the graph behind this tensor was already released by an earlier backward(); "
    "pass retain_graph=True to that earlier backward() to backpropagate through it again"
)


class Op:
    r"""One recorded operation: its forward, its gradient rule, and its place in the graph.

    Subclasses implement ``forward(*xs)`` on plain NumPy values and ``backward(grad, out, *xs)``
    returning one gradient (or ``None``) per input. The rule is written once, in operations that
    work both on arrays (the fast first-order walk) and on Tensors (``create_graph=True``, when
    ``grad``, ``out`` and ``xs`` are Tensors and the rule itself is recorded). Parameters such as
    an axis live in ``__slots__`` fields and show in ``repr``.
    """

    __slots__ = ("guard", "hooks", "inputs", "needs", "out", "trace", "xs")

    #: Input positions whose *values* the rule reads (``None``: all), and whether it reads the
    #: output. Those arrays are made read-only until the node is released (see :class:`Guard`).
    keeps: ClassVar[tuple[int, ...] | None] = None
    keeps_out: ClassVar[bool] = True
    #: For a product of two inputs (a · b, a @ b): each input's value is read only for the
    #: *other* input's gradient, so an input is kept only while the other one needs a gradient.
    crossed: ClassVar[bool] = False
    guarded: ClassVar[bool] = True  # derived: whether there is anything to keep read-only

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.guarded = cls.keeps is None or bool(cls.keeps) or cls.keeps_out

    inputs: tuple[Any, ...] | None
    xs: list[Any] | None
    out: Any
    needs: list[bool]
    hooks: list[Callable[[Any], Any]] | None
    trace: Any

    def forward(self, *xs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: Any, out: Any, *xs: Any) -> Sequence[Any]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def params(self) -> dict[str, Any]:
        """The op's parameters (fields declared by subclasses), for display."""
        fields = {}
        for cls in type(self).__mro__:
            if cls is Op:
                break
            for slot in cls.__dict__.get("__slots__", ()):
                fields[slot] = getattr(self, slot, None)
        return fields

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.name}({args})"

    def release(self) -> None:
        """Drop what the backward walk needed, so arrays are freed by reference counting."""
        self.inputs = None
        self.xs = None
        self.out = None
        guard = self.guard
        if guard is not None:
            guard.release()
            self.guard = None


# -- in-place safety ---------------------------------------------------------------------------

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


# -- anomaly mode ------------------------------------------------------------------------------


def _nonfinite(values: Sequence[Any]) -> str | None:
    """'nan' or 'inf' if any floating array among ``values`` holds one, else None."""
    for v in values:
        arr = np.asarray(v.data if hasattr(v, "_node") else v)
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            return "nan" if np.isnan(arr).any() else "inf"
    return None


def _shapes(values: Sequence[Any]) -> str:
    return ", ".join(str(np.shape(v.data if hasattr(v, "_node") else v)) for v in values)


def check_forward(op: Op, xs: Sequence[Any], out: np.ndarray) -> None:
    """In anomaly mode: raise if ``op`` just produced NaN or inf."""
    bad = _nonfinite([out])
    if bad is None:
        return
    from ._grad_mode import AnomalyError

    site = creation_site_from(traceback.extract_stack()[:-1])
    already = _nonfinite(xs)
    cause = f" (its inputs already held {already})" if already else ""
    raise AnomalyError(
        f"detect_anomaly: {op!r} produced {bad} in forward{cause}; input shapes "
        f"{_shapes(xs)}, output shape {out.shape}; created at {site}"
    )


def check_backward(node: Op, grad: Any, grads: Sequence[Any]) -> None:
    """In anomaly mode: raise if the rule of ``node`` just produced a NaN or inf gradient."""
    bad = _nonfinite([g for g in grads if g is not None])
    if bad is None:
        return
    from ._grad_mode import AnomalyError

    already = _nonfinite([grad])
    cause = f" (the gradient flowing in already held {already})" if already else ""
    raise AnomalyError(
        f"detect_anomaly: the gradient rule of {node!r} produced {bad} in backward{cause}; "
        f"input shapes {_shapes(node.xs or ())}, incoming gradient shape {np.shape(grad)}; "
        f"created at {creation_site(node) or 'an unknown place (outside detect_anomaly)'}"
    )


def creation_site(node: Op) -> str | None:
    """Where the user's code created ``node`` ("file:line in function"), if it was recorded
    inside :class:`autograd_lite._grad_mode.recording_sites`; else ``None``."""
    stack = getattr(node, "trace", None)
    return creation_site_from(stack) if stack else None


def creation_site_from(stack: Sequence[Any]) -> str:
    """The innermost frame of ``stack`` outside this package, as "file:line in function"."""
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    frame = stack[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"


def sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo NumPy broadcasting: sum ``grad`` over the axes that broadcasting added or stretched.

    Works on arrays and on Tensors alike (it uses only ``.shape``, ``.sum`` and ``.reshape``).
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def topological_order(root: Op) -> list[Op]:
    """Nodes reachable from ``root``, every node after all nodes it depends on (no recursion).

    Raises ``RuntimeError`` mentioning ``retain_graph`` if any node was already released.
    """
    order: list[Op] = []
    visited: set[Op] = set()  # nodes hash by identity
    stack: list[tuple[Op, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        inputs = node.inputs
        if inputs is None:
            raise RuntimeError(RELEASED_MESSAGE)
        stack.append((node, True))
        for x, need in zip(inputs, node.needs):
            if need:
                child = x._node
                if child is not None and child not in visited:
                    stack.append((child, False))
    return order


def _run_hooks(hooks: list[Callable[[Any], Any]], grad: Any, cls: Any, create_graph: bool) -> Any:
    """Call each hook on the gradient; a hook's return value (if not None) replaces it, and must
    be a numeric array of the same shape (it is converted to the gradient's dtype)."""
    for hook in hooks:
        replaced = hook(grad if create_graph else cls._wrap(grad))
        if replaced is None:
            continue
        new = cls._as_tensor(replaced) if create_graph else cls._as_array(replaced)
        name = getattr(hook, "__name__", type(hook).__name__)
        if new.dtype.kind not in "biuf":
            raise TypeError(f"register_hook: the hook {name} returned a {new.dtype} gradient")
        if new.shape != grad.shape:
            raise ValueError(
                f"register_hook: the hook {name} returned a gradient of shape {new.shape} for a "
                f"gradient of shape {grad.shape}"
            )
        grad = new if create_graph or new.dtype == grad.dtype else new.astype(grad.dtype)
    return grad


def walk_backward(
    root: Any,
    grad: Any,
    *,
    retain_graph: bool,
    create_graph: bool,
    on_step: Callable[[Op, Any, Sequence[Any]], None] | None = None,
) -> list[tuple[Any, Any]]:
    """Backpropagate ``grad`` from ``root``; return ``[(leaf, total gradient), ...]``.

    Nothing is written to ``.grad`` here; :meth:`Tensor.backward` and :func:`grad` decide what
    to do with the leaves' totals. With ``create_graph`` the gradients are Tensors and every
    rule is recorded; otherwise they are arrays. Unless ``retain_graph``, each node's saved
    values are released as soon as its rule has run (and all of them if the walk fails).
    ``on_step(node, grad_in, grads_out)``, if given, sees every step (the explainer uses it).
    """
    cls = type(root)
    # Each leaf's total is returned in memory of its own: shared with no other leaf's total, nor
    # with the seed, a gradient a hook saw, or an array a node holds. Rules may hand back ḡ
    # itself (add, reshape...) or, in custom ops, what they saved, so each leaf contribution
    # records whether it may alias an array its node holds (those are read-only while the node
    # lives: recorded results from birth, inputs it reads while it is locked), and at the end a
    # total is copied only if so, or if it shares its owner (``a.base``, or ``a`` itself: NumPy
    # points every view at the array that owns the memory) with another total, the seed or an
    # array a hook saw.
    leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, total, aliases a node's array]
    visible: set[int] = set()  # ids of the owners of the seed and of what hooks saw
    node = root._node
    if node is None:  # backward() on a leaf: its gradient is the seed itself
        if root._hooks:
            grad = _run_hooks(root._hooks, grad, cls, create_graph)
        return [(root, grad * 1 if create_graph else np.array(grad))]
    a = grad.data if create_graph else grad
    visible.add(id(a if a.base is None else a.base))
    order = topological_order(node)
    grads: dict[Op, Any] = {node: grad}
    previous = _grad_mode._state.enabled
    anomaly = _grad_mode._state.anomaly
    _grad_mode._state.enabled = create_graph
    try:
        for node in reversed(order):
            g = grads.pop(node, None)
            if g is None:
                if not retain_graph:
                    node.release()
                continue
            if node.hooks:
                for h in (g, _run_hooks(node.hooks, g, cls, create_graph)):
                    a = h.data if create_graph else h
                    visible.add(id(a if a.base is None else a.base))
                g = h
            inputs = node.inputs
            if create_graph:
                for x, kept in zip(inputs, node.xs):  # type: ignore[arg-type]
                    if hasattr(x, "_node") and x.data is not kept:
                        raise RuntimeError(
                            f"backward: an input of {node!r} had its .data replaced after the "
                            "op was recorded, so its gradient would be wrong; recompute the "
                            "forward pass after changing a tensor"
                        )
                out = cls._from_node(node.out, node)
                input_grads = node.backward(g, out, *inputs)
            elif anomaly:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    input_grads = node.backward(g, node.out, *node.xs)  # type: ignore[misc]
                check_backward(node, g, input_grads)
            else:
                input_grads = node.backward(g, node.out, *node.xs)  # type: ignore[misc]
            if on_step is not None:
                on_step(node, g, input_grads)
            for x, xdata, need, gx in zip(inputs, node.xs, node.needs, input_grads):  # type: ignore[arg-type]
                if not need or gx is None:
                    continue
                if gx.shape != xdata.shape:  # xdata: the input's array as forward saw it
                    gx = sum_to_shape(gx, xdata.shape)
                if not create_graph and gx.dtype is not xdata.dtype and gx.dtype != xdata.dtype:
                    gx = gx.astype(xdata.dtype)
                child = x._node
                if child is not None:
                    seen = grads.get(child)
                    grads[child] = gx if seen is None else seen + gx
                else:
                    entry = leaves.get(id(x))
                    if entry is None:
                        if not create_graph:  # a node's arrays are read-only while it lives
                            aliased = not gx.flags.writeable
                        else:  # with create_graph all are: does gx hold what the node holds?
                            a = gx.data if hasattr(gx, "_node") else gx
                            owner = a if a.base is None else a.base
                            aliased = any(
                                type(v) is np.ndarray and (v is owner or v.base is owner)
                                for v in (node.out, *node.xs)  # type: ignore[misc]
                            )
                        leaves[id(x)] = [x, gx, aliased]
                    else:
                        entry[1] = entry[1] + gx  # a new array
                        entry[2] = False
            if not retain_graph:
                node.release()
    except BaseException:
        if not retain_graph:  # a failed walk releases the rest too: nothing it keeps (nor the
            for node in order:  # arrays it holds read-only) outlives the error behind the loss
                node.release()
        raise
    finally:
        _grad_mode._state.enabled = previous
    result = []
    for x, g, aliased in leaves.values():
        if x._hooks:
            a = g.data if create_graph else g
            visible.add(id(a if a.base is None else a.base))
            g = _run_hooks(x._hooks, g, cls, create_graph)
            aliased = True  # the hooks saw it, or returned an array of their own
        a = g.data if create_graph and hasattr(g, "_node") else g
        owner = id(a if a.base is None else a.base)
        if aliased or owner in visible:
            g = g * 1 if create_graph else np.array(g)  # a copy (recorded with create_graph)
            owner = id(g.data if create_graph else g)
        visible.add(owner)
        result.append((x, g))
    return result
