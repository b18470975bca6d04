r"""Custom operations: subclass :class:`Function`, write ``forward`` and ``backward``.

``forward(ctx, *args)`` receives Tensors cut off from the graph (and non-Tensor arguments as
given), runs with recording off, and returns a Tensor or an array. ``backward(ctx, grad)``
receives the incoming gradient ∂E/∂o as a Tensor and returns one gradient per argument of
``forward`` (``None`` for arguments without one), each shaped like its argument or broadcastable
to it. ``ctx.save_for_backward(*tensors)`` keeps what backward needs; ``ctx.saved_tensors``
returns it.

Second derivatives: when ``backward(create_graph=True)`` runs, ``backward`` is called with
recording on, and ``ctx.saved_tensors`` returns the graph-connected versions of saved inputs and
of the saved output. A ``backward`` written with Tensor operations (not by reaching into
``.data``) is therefore differentiable itself.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ._grad_mode import no_grad
from .engine import Op
from .tensor import Tensor


class Context:
    """What ``forward`` leaves for ``backward``; any other attributes may be set freely."""

    def __init__(self) -> None:
        self._saved: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep ``tensors`` (inputs, the output, or other values) for ``backward``."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """Return what ``save_for_backward`` kept."""
        return self._saved


class _FunctionOp(Op):
    """Adapts a user's :class:`Function` to the engine's op interface."""

    __slots__ = ("ctx", "fn", "result", "views")

    def __init__(self, fn: type[Function]) -> None:
        self.fn = fn
        self.ctx = Context()

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __repr__(self) -> str:
        return f"{self.name}(Function)"

    def __str__(self) -> str:
        """Return how messages name this kind of node: a user's op, not a built-in one."""
        return "a custom Function"

    def can_rerun_backward(self) -> bool:
        """Say whether the Function's context still holds what its backward saved."""
        return self.ctx is not None

    def __copy__(self) -> _FunctionOp:
        """Return a new node for the same Function, ready to run forward again."""
        return _FunctionOp(self.fn)

    def rule(self) -> str:
        """Return the Function's name, its inputs' shapes and its docstrings' first paragraphs.

        The docstrings are the class's (its math), then ``forward``'s and ``backward``'s.
        """
        head = f"{self.name} (custom Function"
        inputs = getattr(self, "inputs", None)
        if inputs is not None:
            shapes = [np.shape(x.data if isinstance(x, Tensor) else x) for x in inputs]
            head += "; " + ", ".join(f"x{k} {s}" for k, s in enumerate(shapes))
            head += f" → o {np.shape(self.out)}"
        parts = [head + "):"]
        fn = self.fn
        for label, doc in (
            ("", fn.__doc__),
            ("forward: ", fn.forward.__doc__),
            ("backward: ", fn.backward.__doc__),
        ):
            paragraph = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
            if paragraph:
                parts.append(label + paragraph)
        return " ".join(parts) if len(parts) > 1 else f"{parts[0]} no docstring"

    def forward(self, *xs: Any) -> np.ndarray:
        self.views = [Tensor._wrap(x) if isinstance(x, np.ndarray) else x for x in xs]
        with no_grad():
            result = self.fn.forward(self.ctx, *self.views)
        self.result = result
        out = result.data if isinstance(result, Tensor) else np.asarray(result)
        if out.dtype.kind not in "biufc":
            raise TypeError(f"{self.name}.forward must return a numeric Tensor or array")
        if any(out is x for x in xs):  # handed back an input: the result (read-only) is a view
            out = out.view()
        return out

    def backward(self, g: Any, out: Any, *xs: Any) -> list[Any]:
        ctx = self.ctx
        ctx.needs_input_grad = self.needs
        graph_mode = isinstance(g, Tensor)
        saved_plain = ctx._saved
        if graph_mode:  # hand backward the graph-connected versions of what forward saved
            swap = {id(v): x for v, x in zip(self.views, xs)}
            swap[id(self.result)] = out
            ctx._saved = tuple(swap.get(id(s), s) for s in saved_plain)
        try:
            grads = self.fn.backward(ctx, g if graph_mode else Tensor._wrap(g))
        finally:
            ctx._saved = saved_plain
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(xs):
            raise ValueError(
                f"{self.name}.backward returned {len(grads)} gradient(s) for {len(xs)} input(s)"
            )
        result: list[Any] = []
        for i, (gx, x, need) in enumerate(zip(grads, xs, self.needs)):
            if gx is None or not need:
                result.append(None)
                continue
            if not graph_mode:
                gx = gx.data if isinstance(gx, Tensor) else np.asarray(gx)
            xshape = np.shape(x.data if isinstance(x, Tensor) else x)
            try:
                fits = np.broadcast_shapes(gx.shape, xshape) == gx.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"{self.name}.backward: gradient for input {i} has shape {gx.shape}, "
                    f"which does not reduce to the input's shape {xshape}"
                )
            result.append(gx)
        return result

    def release(self) -> None:
        super().release()
        self.ctx = None  # type: ignore[assignment]
        self.views = self.result = None  # type: ignore[assignment]


class Function:
    """Base class for custom operations; use ``MyOp.apply(*args)``, never instantiate it."""

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        """Compute the output from the arguments (Tensors cut off from the graph)."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        """Return one gradient per argument of ``forward``, given ∂E/∂o as ``grad``."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run ``forward`` on ``args`` and record the op so ``backward`` is used for gradients."""
        return Tensor._apply(_FunctionOp(cls), *args)
