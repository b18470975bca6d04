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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import _grad_mode
from ._anomaly import check_backward

if TYPE_CHECKING:
    from ._guard import Guard

__all__ = ["Op", "sum_to_shape", "topological_order", "walk_backward"]

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

    # ``_in`` holds ``inputs`` compactly: an input that has a node of its own as that node (the
    # intermediate Tensor is freed as soon as its user drops it), and the one input itself for a
    # one-input op (no tuple per node; ``_xs`` holds ``xs`` likewise). A long graph so keeps one
    # object per op alive for the cycle collector to walk, where Tensor, node and tuples of its
    # inputs would be more.
    __slots__ = ("_in", "_xs", "guard", "hooks", "needs", "out", "trace")

    #: Input positions whose *values* the rule reads (``None``: all), and whether it reads the
    #: output. Those arrays are made read-only until the node is released (see
    #: :class:`autograd_lite._guard.Guard`).
    keeps: ClassVar[tuple[int, ...] | None] = None
    keeps_out: ClassVar[bool] = True
    #: For a product of two inputs (a · b, a @ b): each input's value is read only for the
    #: *other* input's gradient, so an input is kept only while the other one needs a gradient.
    crossed: ClassVar[bool] = False
    #: Fields that may hold arrays the rule reads (an index, a condition, labels): kept like
    #: inputs, a small one copied and a large one locked.
    array_fields: ClassVar[tuple[str, ...]] = ()
    #: Derived: whether an input or an array field may need locking (else only the output's
    #: base can, when the rule reads the output and it is a view).
    locks_inputs: ClassVar[bool] = True
    #: Derived: whether the class keeps :meth:`release` as it is here (the walk inlines it).
    plain_release: ClassVar[bool] = True
    #: The Tensor class, set by it: ``inputs`` rebuilds an input held as its node as one.
    tensor_type: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive ``locks_inputs`` and ``plain_release`` from the subclass's declarations."""
        super().__init_subclass__(**kwargs)
        cls.plain_release = cls.release is Op.release
        cls.locks_inputs = (
            cls.keeps is None or bool(cls.keeps) or cls.crossed or bool(cls.array_fields)
        )

    _in: Any
    _xs: Any
    out: Any
    needs: tuple[bool, ...]
    hooks: list[Callable[[Any], Any]] | None
    guard: Guard | None
    trace: Any

    @property
    def inputs(self) -> tuple[Any, ...] | None:
        """The values the op was applied to (Tensors and constants); ``None`` once released.

        An input computed by another node comes back as a new Tensor holding that node and the
        array this op saw (the Tensor the op was applied to may be gone).
        """
        kept = self._in
        if kept is None:
            return None
        held: tuple[Any, ...] = kept if type(kept) is tuple else (kept,)
        if not any(isinstance(x, Op) for x in held):
            return held
        xs = self.xs or (None,) * len(held)
        wrap = self.tensor_type._from_node
        return tuple(wrap(v, x) if isinstance(x, Op) else x for x, v in zip(held, xs))

    @inputs.setter
    def inputs(self, value: tuple[Any, ...] | None) -> None:
        self._in = None if value is None else held_inputs(value)

    @property
    def xs(self) -> tuple[Any, ...] | None:
        """The plain values (arrays, constants) forward saw; ``None`` once released."""
        kept = self._xs
        if kept is None or type(self._in) is tuple:
            return kept  # type: ignore[no-any-return]
        return (kept,)

    @xs.setter
    def xs(self, value: tuple[Any, ...] | None) -> None:  # after ``inputs``: it says how many
        self._xs = value if value is None or type(self._in) is tuple else value[0]

    def keep_copies(self, xs: tuple[Any, ...]) -> None:
        """Hold ``xs`` as the values the rule reads: forward's, some plain arrays copied.

        Each copy replaces its plain array among the inputs too.
        """
        held, before = self._in, self._xs
        if type(held) is tuple:
            if len(held) == 2:  # the common case, unrolled
                a, b = held
                self._in = (xs[0] if a is before[0] else a, xs[1] if b is before[1] else b)
            else:
                self._in = tuple([c if h is b else h for h, b, c in zip(held, before, xs)])
            self._xs = xs
        else:
            if held is before:  # the one input was a plain array
                self._in = xs[0]
            self._xs = xs[0]

    def forward(self, *xs: Any) -> np.ndarray:
        """Compute the op's output from the plain values ``xs`` of its inputs."""
        raise NotImplementedError

    def backward(self, grad: Any, out: Any, *xs: Any) -> Sequence[Any]:
        """Return ``grad · ∂out/∂x`` for each input ``x`` (``None`` where none is needed)."""
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The op's name: its class's."""
        return type(self).__name__

    def params(self) -> dict[str, Any]:
        """Return the op's parameters (fields declared by subclasses), for display."""
        fields = {}
        for cls in type(self).__mro__:
            if cls is Op:
                break
            for slot in cls.__dict__.get("__slots__", ()):
                fields[slot] = getattr(self, slot, None)
        return fields

    def __repr__(self) -> str:
        """Show the op's name and parameters."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.name}({args})"

    def rule(self) -> str:
        """Return the node's gradient rule in one line, ``o = …;  ∂E/∂x = …, …``.

        It has one ``∂E/∂x`` per input (named as in ``backward``), and the node's parameters filled
        in. The default is the first paragraph of the class docstring, each parameter named there in
        double backquotes shown with its value and each ``∂E/∂x`` followed by that input's shape
        while the node holds its inputs. Ops whose parameters change the formulas themselves (a
        transpose, a reduction, an index) override this.
        """
        import inspect  # only the explainer asks: keep it off the engine's import path

        text = " ".join(inspect.cleandoc(type(self).__doc__ or "").split("\n\n")[0].split())
        for key, value in self.params().items():
            text = text.replace(f"``{key}``", f"{key}={value}")
        inputs = getattr(self, "inputs", None)
        if not text or inputs is None:
            return text or f"{self.name}: no rule documented"
        names = list(inspect.signature(type(self).backward).parameters)[3:]
        out, summed = np.shape(self.out), []
        for name, x in zip(names, inputs):
            shape = np.shape(x if isinstance(x, (np.ndarray, np.generic, int, float)) else x.data)
            text = text.replace(f"∂E/∂{name} =", f"∂E/∂{name} {shape} =", 1)
            if f"∂E/∂{name} {shape}" in text and shape != out and len(shape) <= len(out):
                if all(n in (1, m) for n, m in zip(shape[::-1], out[::-1])):
                    summed.append(f"{name} {shape}")
        if summed:  # broadcasting, undone by the engine
            text += f" ḡ {out} is summed back to {' and '.join(summed)}."
        return text

    def can_rerun_backward(self) -> bool:
        """Say whether ``backward`` can run again on inputs and a result kept elsewhere.

        A built-in op's rule reads only its arguments, so it can (the explainer keeps them); a
        node whose rule keeps state of its own may have dropped it at release.
        """
        return True

    def release(self) -> None:
        """Drop what the backward walk needed, so arrays are freed by reference counting."""
        self._in = None
        self._xs = None
        self.out = None
        guard = self.guard
        if guard is not None:
            guard.release()
            self.guard = None


def held_inputs(args: tuple[Any, ...]) -> Any:
    """Return what a node keeps of the inputs ``args``.

    Each Tensor that has a node is kept as that node; the one input itself if there is one
    (unless it is a tuple), else a tuple of them.
    """
    tensor = Op.tensor_type
    held = tuple([x._node if isinstance(x, tensor) and x._node is not None else x for x in args])
    return held[0] if len(held) == 1 and type(held[0]) is not tuple else held


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


_EMIT = object()  # on topological_order's stack: "the node below me is done, emit it"


def topological_order(
    root: Op, *, skip_released: bool = False, expanded: dict[Op, None] | None = None
) -> list[Op]:
    """Nodes reachable from ``root``, every node after all nodes it depends on (no recursion).

    Parameters
    ----------
    root
        The node to start from.
    skip_released
        Treat a node that was already released as one with no inputs, instead of raising
        ``RuntimeError`` (mentioning ``retain_graph``).
    expanded
        If given, an empty dict that receives every node in the order the depth-first walk
        expands it (``root`` first, each node's first input before its second).

    Returns
    -------
    list of Op
        The nodes in depth-first post-order, the first input's nodes before the second's.
    """
    order: list[Op] = []
    visited: dict[Op, None] = {} if expanded is None else expanded  # nodes hash by identity
    # A depth-first walk whose stack holds nodes to expand and, above each expanded node, the
    # marker _EMIT (no tuple per entry: a long chain leaves the collector nothing to track).
    stack: list[Any] = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = pop()
        if node is _EMIT:
            emit(pop())
            continue
        # Expand node, then at once its first input (what a push and a pop would do next).
        while node is not None and node not in visited:
            visited[node] = None
            push(node)
            push(_EMIT)
            held, needs, node = node._in, node.needs, None
            if type(held) is not tuple:  # one input, held as itself
                if held is None:
                    if skip_released:
                        break
                    raise RuntimeError(RELEASED_MESSAGE)
                if needs[0] and isinstance(held, Op):
                    node = held
            elif len(held) == 2:  # the common case, unrolled
                x = held[1]
                if needs[1] and isinstance(x, Op) and x not in visited:
                    push(x)
                if needs[0] and isinstance(held[0], Op):
                    node = held[0]
            else:
                for x, need in zip(reversed(held), reversed(needs)):  # the first input on top
                    if need and isinstance(x, Op) and x not in visited:
                        push(x)
    return order


def _owner(a: Any) -> int:
    """Return the id of the array that owns the memory of ``a`` (an array, or a Tensor's)."""
    if type(a) is not np.ndarray and hasattr(a, "_node"):
        a = a.data
    return id(a if a.base is None else a.base)


class _Totals:
    """Each leaf's total gradient, returned in memory of its own.

    A total shares memory with no other leaf's total, nor with the seed, a gradient a hook saw,
    or an array a node holds. Rules may hand back ḡ itself (add, reshape...) or, in custom ops,
    what they saved, so each leaf contribution records whether it may alias an array its node
    holds (those are read-only while the node lives: recorded results from birth, inputs it
    reads while it is locked), and at the end a total is copied only if so, or if it shares its
    owner (``a.base``, or ``a`` itself) with another total, the seed or an array a hook saw.
    """

    __slots__ = ("cls", "create_graph", "leaves", "visible")

    def __init__(self, cls: Any, create_graph: bool, seed: Any) -> None:
        self.cls, self.create_graph = cls, create_graph
        self.leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, total, aliases a node's array]
        self.visible = {_owner(seed)}  # owners of the seed and of what hooks saw

    def hooked(self, node: Op, g: Any) -> Any:
        """``g`` after ``node``'s hooks, both remembered as seen by user code."""
        if self.create_graph:  # anomaly mode names the node for a NaN its hooks record
            _grad_mode._state.rule = node
        new = _run_hooks(node.hooks, g, self.cls, self.create_graph)  # type: ignore[arg-type]
        self.visible.update((_owner(g), _owner(new)))
        return new

    def add(self, x: Any, gx: Any, node: Op) -> None:
        """Add ``gx``, a contribution of ``node``'s rule, to leaf ``x``'s total."""
        entry = self.leaves.get(id(x))
        if entry is not None:
            entry[1] = entry[1] + gx  # a new array
            entry[2] = False
        elif not self.create_graph:  # a node's arrays are read-only while it lives
            self.leaves[id(x)] = [x, gx, not gx.flags.writeable]
        else:  # with create_graph all are: does gx hold what the node holds?
            owner = _owner(gx)
            held = (node.out, *node.xs)  # type: ignore[misc]
            aliased = any(type(v) is np.ndarray and owner in (id(v), id(v.base)) for v in held)
            self.leaves[id(x)] = [x, gx, aliased]

    def results(self) -> list[tuple[Any, Any]]:
        """``[(leaf, total)]`` after the leaves' own hooks, each total in memory of its own."""
        result = []
        create_graph, visible = self.create_graph, self.visible
        for x, g, aliased in self.leaves.values():
            if x._hooks:
                visible.add(_owner(g))
                g = _run_hooks(x._hooks, g, self.cls, create_graph)
                aliased = True  # the hooks saw it, or returned an array of their own
            owner = _owner(g)
            if aliased or owner in visible:
                g = g * 1 if create_graph else np.array(g)  # a copy (recorded with create_graph)
                owner = _owner(g)
            visible.add(owner)
            result.append((x, g))
        return result


def _run_hooks(hooks: list[Callable[[Any], Any]], grad: Any, cls: Any, create_graph: bool) -> Any:
    """Call each hook on the gradient, and return the gradient after them.

    A hook's return value (if not None) replaces it, and must be a numeric array of the same
    shape (it is converted to the gradient's dtype).
    """
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


Rule = Callable[[Op, Any], Sequence[Any]]


def _checked_rule(node: Op, g: Any) -> Sequence[Any]:
    """Anomaly mode's step: the rule on arrays, then a check for NaN and inf it produced."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        grads = node.backward(g, node.out, *node.xs)  # type: ignore[misc]
    check_backward(node, g, grads)
    return grads


def _recorded_rule(cls: Any) -> Rule:
    """``create_graph``'s step: the rule on the node's input Tensors, itself recorded."""
    state = _grad_mode._state

    def rule(node: Op, g: Any) -> Sequence[Any]:
        state.rule = node  # anomaly mode names it for a NaN made by the recorded rule
        inputs = node.inputs or ()
        for x, kept in zip(inputs, node.xs):  # type: ignore[arg-type]
            if hasattr(x, "_node") and x.data is not kept:
                raise RuntimeError(
                    f"backward: an input of {node!r} had its .data replaced after the op was "
                    "recorded, so its gradient would be wrong; recompute the forward pass after "
                    "changing a tensor"
                )
        return node.backward(g, cls._from_node(node.out, node), *inputs)

    return rule


def _propagate(
    order: list[Op],
    grads: dict[Op, Any],
    totals: _Totals,
    rule: Rule | None,
    retain_graph: bool,
    on_step: Callable[[Op, Any, Sequence[Any]], None] | None,
) -> None:
    """Visit ``order`` backwards, passing each node's gradient on to its inputs.

    Each node's rule turns the gradient flowing into it (from ``grads``) into its inputs'
    gradients, which flow on into their nodes (in ``grads``) or their leaf totals.
    ``rule`` is ``None`` for the plain rule on arrays, kept inline: this loop runs once per node.
    """
    pop, leaves, plain = grads.pop, totals.leaves, not totals.create_graph
    for node in reversed(order):
        g = pop(node, None)
        if g is not None:
            if node.hooks:
                g = totals.hooked(node, g)
            guard = node.guard
            if guard is not None and guard.seen is not None:
                guard.verify(node)  # nothing the rule reads changed behind the lock's back
            held = node._in
            if type(held) is tuple:
                inputs, xs = held, node._xs
            else:
                inputs, xs = (held,), (node._xs,)
            input_grads = node.backward(g, node.out, *xs) if rule is None else rule(node, g)
            if on_step is not None:
                on_step(node, g, input_grads)
            for x, xdata, need, gx in zip(inputs, xs, node.needs, input_grads):
                if not need or gx is None:
                    continue
                if gx.shape != xdata.shape:  # xdata: the input's array as forward saw it
                    gx = sum_to_shape(gx, xdata.shape)
                if gx.dtype is not xdata.dtype and gx.dtype != xdata.dtype:  # Tensors: recorded
                    gx = gx.astype(xdata.dtype)
                if not isinstance(x, Op):  # a leaf
                    if plain and id(x) not in leaves:  # totals.add's first case, inline
                        leaves[id(x)] = [x, gx, not gx.flags.writeable]
                    else:
                        totals.add(x, gx, node)
                elif x in grads:
                    grads[x] = grads[x] + gx
                else:
                    grads[x] = gx
        if not retain_graph:
            if node.plain_release:  # Op.release, inline
                node._in = node._xs = node.out = None
                if node.guard is not None:
                    node.guard.release()
                    node.guard = None
            else:
                node.release()


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
    totals = _Totals(cls, create_graph, grad)
    node = root._node
    if node is None:  # backward() on a leaf: its gradient is the seed itself
        totals.leaves[id(root)] = [root, grad, True]
        return totals.results()
    order = topological_order(node)
    state = _grad_mode._state
    previous = state.enabled, state.rule
    rule = _recorded_rule(cls) if create_graph else _checked_rule if state.anomaly else None
    state.enabled = create_graph
    try:
        _propagate(order, {node: grad}, totals, rule, retain_graph, on_step)
    except BaseException:
        if not retain_graph:  # a failed walk releases the rest too: nothing it keeps (nor the
            for node in order:  # arrays it holds read-only) outlives the error behind the loss
                node.release()
        raise
    finally:
        state.enabled, state.rule = previous
    return totals.results()
