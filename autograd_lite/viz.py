r"""See the graph and the backward pass: Graphviz DOT text and a step-by-step trace.

Two tools for teaching what ``backward()`` does:

- :func:`to_dot` draws the graph that produced a tensor: one box per recorded op (its name,
  parameters, output shape and rule), one ellipse per leaf tensor, one plain label per
  constant, and an arrow from each input to the op that used it. Render the text with
  Graphviz (``dot -Tsvg``) or the optional ``graphviz`` Python package; nothing here needs
  either.
- :func:`explain_backward` runs the backward walk on its own, without touching any ``.grad``,
  and records every step: the node, its rule (``node.rule()``: the op states its own formulas
  with its parameters and this node's shapes filled in), the gradient ∂E/∂o flowing in and what
  it passes to each input. ``print(trace)`` shows the table;
  ``trace.paths(leaf)`` splits a gradient into one contribution per path, by the multivariate
  chain rule

  .. math:: \frac{\partial E}{\partial w} = \sum_{\text{paths } E \to w}
            \prod_{\text{edges } o \to x \text{ on the path}} \frac{\partial o}{\partial x},

  each product applied as a chain of vector-Jacobian products.

Hooks registered with ``register_hook`` are *not* run by the explainer: the trace shows the
plain chain rule, so the path contributions add up to the gradient that ``backward()`` would
give without hooks.

Example
-------
>>> import autograd_lite as al
>>> x = al.Tensor([1.0, 2.0], requires_grad=True)
>>> y = (x * x).sum()
>>> trace = al.viz.explain_backward(y, names={"x": x, "y": y})
>>> [(d, c.tolist()) for d, c in trace.paths(x)]
[('y=Sum#2 ─a→ Mul#1 ─a→ x', [1.0, 2.0]), ('y=Sum#2 ─a→ Mul#1 ─b→ x', [1.0, 2.0])]
"""

from __future__ import annotations

import html
import inspect
import shutil
import subprocess
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine import Op, sum_to_shape, topological_order, walk_backward
from .tensor import Tensor

__all__ = ["MAX_PATHS", "DotGraph", "Step", "Trace", "explain_backward", "to_dot"]

MAX_PATHS = 10_000
"""``Trace.paths`` refuses graphs with more paths than this (their number can grow
exponentially with depth)."""


# -- shared helpers: labels, rules, value formatting ----------------------------------------------


def _format_array(value: Any, max_elems: int = 8) -> str:
    """Render on one line: all values when there are few, else the shape and the first few."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.4g}"
    if arr.size <= max_elems:
        text = np.array2string(arr, separator=", ", formatter={"float_kind": "{:.4g}".format})
        return " ".join(text.split())
    head = ", ".join(f"{v:.4g}" for v in arr.ravel()[:4])
    return f"{arr.shape} [{head}, …]"


def _input_names(node: Op, count: int) -> list[str]:
    """Name the op's inputs as its ``backward(g, out, a, b)`` calls them.

    Without such names, ``x0, x1, …`` (as in the op's rule text).
    """
    params = list(inspect.signature(type(node).backward).parameters.values())[3:]
    if len(params) >= count and all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params):
        return [p.name for p in params[:count]]  # an optional input left out (conv2d's bias)
    return [f"x{i}" for i in range(count)]


def _op_text(node: Op, width: int = 60) -> str:
    """``repr(node)`` (name and parameters), shortened to ``width`` characters."""
    text = " ".join(repr(node).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int = 60) -> str:
    """``text`` broken into lines of at most about ``width`` characters, at spaces."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(np.shape(value.data if isinstance(value, Tensor) else value))


def _graph(root: Tensor) -> tuple[list[Op], list[Tensor]]:
    """List every op node behind ``root`` and every leaf Tensor among their inputs.

    The nodes come each after the nodes it depends on (``engine.topological_order``), the leaves
    in order of discovery; the walk is iterative, and tolerant of released nodes.
    """
    if root._node is None:
        return [], [root]
    expanded: dict[Op, None] = {}
    order = topological_order(root._node, skip_released=True, expanded=expanded)
    leaves: dict[int, Tensor] = {}
    for node in expanded:  # leaves as the walk meets them: each node's last input first
        for x in reversed(node.inputs or ()):
            if isinstance(x, Tensor) and x._node is None:
                leaves.setdefault(id(x), x)
    return order, list(leaves.values())


class _Labels:
    """Readable names of a graph's nodes and leaves.

    ``names`` given by the user for leaves and results, otherwise ``Op#k`` for the k-th op in
    topological order and ``leaf#k (shape)`` for the k-th leaf.
    """

    def __init__(self, order: list[Op], leaves: list[Tensor], names: Mapping[str, Any]) -> None:
        if not isinstance(names, Mapping):
            raise TypeError(f"names must be a dict of name -> Tensor, got {type(names).__name__}")
        by_tensor: dict[int, str] = {}
        by_node: dict[int, str] = {}
        for name, t in names.items():
            if not isinstance(name, str) or not isinstance(t, Tensor):
                raise TypeError(f"names must map str to Tensor; got {name!r}: {type(t).__name__}")
            by_tensor[id(t)] = name
            if t._node is not None:
                by_node[id(t._node)] = name
        self.tensor_names = by_tensor
        self.node: dict[int, str] = {}
        for k, node in enumerate(order, 1):
            op = f"{node.name}#{k}"
            given = by_node.get(id(node))
            self.node[id(node)] = op if given is None else f"{given}={op}"
        self.leaf: dict[int, str] = {}
        for k, t in enumerate(leaves, 1):
            self.leaf[id(t)] = by_tensor.get(id(t), f"leaf#{k} {t.shape}")

    def short(self, t: Tensor) -> str:
        """Return the user's name for ``t`` if there is one, else its label."""
        return self.tensor_names.get(id(t)) or self.of_input(t)

    def of_input(self, x: Any) -> str:
        """Return the label of an input: its op's label, its leaf name, or ``const (shape)``.

        A tensor that requires grad but is not in the graph is ``tensor (shape)``.
        """
        if isinstance(x, Tensor):
            if x._node is not None:
                return self.node.get(id(x._node), x._node.name)
            if id(x) in self.leaf:
                return self.leaf[id(x)]
            if x.requires_grad:
                return f"tensor {_shape(x)}"
        return f"const {_shape(x)}"


# -- to_dot ---------------------------------------------------------------------------------------


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    """Build an HTML table, every cell escaped; line breaks in a cell become ``<br>``."""

    def cells(tag: str, row: list[str]) -> str:
        return "".join(
            f'<{tag} style="text-align:left">{html.escape(c).replace(chr(10), "<br>")}</{tag}>'
            for c in row
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


class DotGraph(str):
    """The DOT text :func:`to_dot` returns: a plain ``str`` that also shows itself in a notebook.

    Where Graphviz's ``dot`` program is on the ``PATH``, Jupyter shows the rendered SVG;
    elsewhere an HTML table with one row per node (its label, op, output shape, inputs and
    rule), and IPython's plain display prints the same rows as text. Nothing beyond NumPy is
    needed. ``graph.nodes`` holds those rows.
    """

    nodes: list[list[str]]
    HEADER = ("node", "op", "shape", "inputs", "rule")

    def __new__(cls, text: str, nodes: list[list[str]]) -> DotGraph:
        """Make the DOT ``text``, carrying the table rows ``nodes``."""
        self = super().__new__(cls, text)
        self.nodes = nodes
        return self

    def svg(self) -> str | None:
        """Render the graph with ``dot -Tsvg``; ``None`` where ``dot`` is missing or fails."""
        exe = shutil.which("dot")
        if exe is None:
            return None
        try:
            done = subprocess.run(
                [exe, "-Tsvg"], input=str(self), capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 and "<svg" in done.stdout else None

    def _repr_svg_(self) -> str | None:
        return self.svg()

    def _repr_html_(self) -> str | None:
        if shutil.which("dot") is not None and self.svg() is not None:
            return None  # Jupyter prefers HTML to SVG: leave the drawing to _repr_svg_
        return _html_table(list(self.HEADER), self.nodes)

    def text(self) -> str:
        """Return the nodes as readable lines, one per node (what a terminal shows)."""
        lines = []
        for name, op, shape, inputs, rule in self.nodes:
            lines.append(f"{name}: {op} → {shape}" + (f" ← {inputs}" if inputs else ""))
            if rule:
                lines.append(f"    {rule}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())


def _quote(text: str) -> str:
    r"""Quote ``text`` for DOT: backslashes and quotes escaped, newlines as ``\n``."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def to_dot(
    tensor: Tensor, values: bool = False, names: Mapping[str, Tensor] | None = None
) -> DotGraph:
    """Graphviz DOT text of the graph that produced ``tensor``.

    Parameters
    ----------
    tensor
        The result whose history to draw (a leaf gives a one-node graph).
    values
        Also show each op's output values, each leaf's value and, if set, its ``.grad``.
    names
        Optional labels, e.g. ``{"wih": wih, "h": h}``, for leaves and for op results.

    Returns
    -------
    DotGraph
        A ``str``: ``digraph autograd { ... }`` with one box per op, one ellipse per leaf
        Tensor (filled when it requires grad), one plain label per constant input, and an
        arrow from every input to the op that used it. A node whose saved values were
        released by an earlier ``backward()`` is drawn dashed and marked "released"; its
        inputs are no longer known, so nothing is drawn below it. In a notebook it displays
        itself (see
        :class:`DotGraph`).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    order, leaves = _graph(tensor)
    labels = _Labels(order, leaves, names or {})
    lines = [
        "digraph autograd {",
        "  rankdir=BT;",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    ids: dict[int, str] = {}
    rows: list[list[str]] = []
    for k, t in enumerate(leaves):
        ids[id(t)] = f"leaf{k}"
        text = [labels.leaf[id(t)] if id(t) in labels.tensor_names else "leaf", f"{t.shape}"]
        if t.requires_grad:
            text.append("requires_grad")
        if values:
            text.append(f"value {_format_array(t.data)}")
            if t.grad is not None:
                text.append(f"grad {_format_array(t.grad.data)}")
        rows.append([labels.leaf[id(t)], "leaf" + (", requires_grad" if t.requires_grad else ""),
                     str(t.shape), "", ""])  # fmt: skip
        style = ', style=filled, fillcolor="#dbe9f6"' if t.requires_grad else ""
        lines.append(f"  leaf{k} [shape=ellipse, label={_quote(chr(10).join(text))}{style}];")
    n_const = 0
    for k, node in enumerate(order):
        nid = ids[id(node)] = f"op{k}"
        text = [labels.node[id(node)], _op_text(node)]
        if node.inputs is None:
            rows.append([labels.node[id(node)], _op_text(node), "released", "", node.rule()])
            text.append("released")
            lines.append(f"  {nid} [shape=box, style=dashed, label={_quote(chr(10).join(text))}];")
            continue
        text.append(f"→ {np.shape(node.out)}")
        if values:
            text.append(_format_array(node.out))
        text.append(_wrap(node.rule()))
        lines.append(f"  {nid} [shape=box, label={_quote(chr(10).join(text))}];")
        slots = _input_names(node, len(node.inputs))
        sources = ", ".join(f"{s}: {labels.of_input(x)}" for s, x in zip(slots, node.inputs))
        rows.append([labels.node[id(node)], _op_text(node), str(np.shape(node.out)), sources,
                     node.rule()])  # fmt: skip
        for slot, x in zip(slots, node.inputs, strict=True):
            if isinstance(x, Tensor):
                src = ids.get(id(x._node)) if x._node is not None else ids.get(id(x))
            else:
                src = f"const{n_const}"
                n_const += 1
                value = f"{_format_array(x)}" if values or np.size(x) == 1 else f"{np.shape(x)}"
                lines.append(f"  {src} [shape=plaintext, label={_quote(value)}];")
            lines.append(f"  {src} -> {nid} [label={_quote(slot)}];")
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n", rows)


# -- explain_backward -----------------------------------------------------------------------------


def _join(link: tuple[str, Any] | None) -> str:
    """Join the text of a path kept as a linked list ``(last piece, (previous piece, ...))``."""
    pieces = []
    while link is not None:
        pieces.append(link[0])
        link = link[1]
    return " ".join(reversed(pieces))


@dataclass
class Step:
    """One step of the backward walk: ``node`` received ``grad_in`` = ∂E/∂o and passed it on.

    ``grads_out[k]`` went to its k-th input, labelled ``input_labels[k]`` (already summed back
    to the input's shape; ``None`` where no gradient flows).
    """

    index: int
    node: Op
    label: str
    rule: str
    grad_in: np.ndarray
    input_labels: list[str]
    input_slots: list[str]
    grads_out: list[np.ndarray | None]
    # What the node's rule needs, kept so paths() works after a later backward() released it.
    inputs: tuple[Any, ...] = field(repr=False, default=())
    xs: tuple[Any, ...] = field(repr=False, default=())
    out: Any = field(repr=False, default=None)


@dataclass
class Trace:
    """What :func:`explain_backward` recorded.

    The steps in the order the walk took them, and each leaf's total gradient.
    ``str(trace)`` is a readable table.
    """

    loss: Tensor
    seed: np.ndarray
    steps: list[Step]
    leaf_grads: list[tuple[str, Tensor, np.ndarray]]
    names: dict[str, Tensor] = field(repr=False)
    _labels: _Labels = field(repr=False)

    def step_for(self, tensor: Tensor) -> Step:
        """Return the step of the op that produced ``tensor`` (a non-leaf of this graph)."""
        for step in self.steps:
            if tensor._node is step.node:
                return step
        raise ValueError("step_for: this tensor is not the result of an op in the trace")

    def grad(self, tensor: Tensor | str) -> np.ndarray:
        """Return the total gradient of the loss with respect to ``tensor``.

        ``tensor`` is a leaf or an op's result, or its name; the gradient is the one the
        backward walk computed.
        """
        t = self._resolve(tensor, "grad")
        if t._node is not None:
            return self.step_for(t).grad_in
        for _, leaf, g in self.leaf_grads:
            if leaf is t:
                return g
        raise ValueError("grad: this leaf receives no gradient from the loss")

    def _resolve(self, tensor: Tensor | str, who: str) -> Tensor:
        if isinstance(tensor, str):
            if tensor not in self.names:
                raise ValueError(f"{who}: no tensor named {tensor!r} in this trace's names")
            return self.names[tensor]
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{who}: expected a Tensor or a name, got {type(tensor).__name__}")
        return tensor

    def paths(self, leaf: Tensor | str) -> list[tuple[str, np.ndarray]]:
        r"""One ``(description, contribution)`` pair per path from the loss to ``leaf``.

        A path is a chain of edges "op → its k-th input"; its contribution is the seed gradient
        passed along that chain alone, each edge applying the op's vector-Jacobian product and
        undoing broadcasting. By the multivariate chain rule the contributions add up to the
        gradient of the loss with respect to ``leaf`` (a value used twice by one op, as in
        ``x * x``, gives two paths). ``leaf`` may also be an op's result, or a name.

        Raises ``ValueError`` if ``leaf`` is not reached from the loss, or if there are more
        than :data:`MAX_PATHS` paths.
        """
        target = self._resolve(leaf, "paths")
        root = self.loss._node
        if target is self.loss:
            return [(self._labels.of_input(target), self.seed)]
        if root is None:
            raise ValueError("paths: the loss is a leaf, so no path leads to another tensor")

        def hits(x: Any) -> bool:
            if not isinstance(x, Tensor):
                return False
            return x is target or (target._node is not None and x._node is target._node)

        if any(getattr(s.node, "ctx", True) is None for s in self.steps):
            raise RuntimeError(
                "paths: a custom Function in this graph was released by a backward() after "
                "explain_backward; call paths() first, or pass retain_graph=True to backward()"
            )
        steps = {id(s.node): s for s in self.steps}
        # How many paths lead from each node to the target (reverse topological order).
        count: dict[int, int] = {}
        for s in reversed(self.steps):  # inputs before the ops that use them
            n = 0
            for x, need in zip(s.inputs, s.node.needs, strict=True):
                if need and isinstance(x, Tensor):
                    if hits(x):
                        n += 1
                    elif x._node is not None:
                        n += count.get(id(x._node), 0)
            count[id(s.node)] = n
        total = count.get(id(root), 0)
        if total == 0:
            raise ValueError(
                f"paths: {self._labels.of_input(target)} is not reached by the backward walk "
                "from the loss (not part of the graph, or does not require grad)"
            )
        if total > MAX_PATHS:
            raise ValueError(
                f"paths: {total} paths lead from the loss to {self._labels.of_input(target)}, "
                f"more than MAX_PATHS={MAX_PATHS}; explain a smaller graph"
            )

        labels = self._labels
        result: list[tuple[str, np.ndarray]] = []
        # Depth-first, no recursion: (node, gradient flowing into it, the path so far as a linked
        # list of text pieces, so a long chain is not copied at every step).
        Link = tuple[str, Any]
        stack: list[tuple[Op, np.ndarray, Link]] = [
            (root, self.seed, (labels.node[id(root)], None))
        ]
        while stack:
            node, g, link = stack.pop()
            inputs = steps[id(node)].inputs
            grads = node.backward(g, steps[id(node)].out, *steps[id(node)].xs)
            slots = _input_names(node, len(inputs))
            branches: list[tuple[Op, np.ndarray, Link]] = []
            for x, need, slot, gx in zip(inputs, node.needs, slots, grads, strict=False):
                if not need or gx is None or not isinstance(x, Tensor):
                    continue
                child = x._node
                if not hits(x) and (child is None or count.get(id(child), 0) == 0):
                    continue
                gx = np.asarray(sum_to_shape(gx, x.data.shape), dtype=x.data.dtype)
                if hits(x):
                    result.append((_join(((f"─{slot}→ {labels.of_input(x)}"), link)), gx))
                elif child is not None:
                    branches.append((child, gx, (f"─{slot}→ {labels.node[id(child)]}", link)))
            stack.extend(reversed(branches))
        return result

    def format_paths(self, leaf: Tensor | str) -> str:
        """Format the path contributions as a list, with their sum and the walk's gradient."""
        pairs = self.paths(leaf)
        target = self._resolve(leaf, "format_paths")
        short = self._labels.short
        lines = [f"∂{short(self.loss)}/∂{short(target)} split over {len(pairs)} path(s):"]
        for k, (text, contribution) in enumerate(pairs, 1):
            lines.append(f"  path {k}: {text}")
            lines.append(f"          contributes {_format_array(contribution)}")
        total = sum(c for _, c in pairs)
        lines.append(f"  sum of paths: {_format_array(total)}")
        lines.append(f"  gradient:     {_format_array(self.grad(target))}")
        return "\n".join(lines)

    def __str__(self) -> str:
        """Return :meth:`format`'s table."""
        return self.format()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.format())

    HEADER = ("step", "node", "rule", "gradient in", "passes to input")
    LEAVES = "gradients of the leaves (what backward() would add to .grad):"

    def _rows(self, max_elems: int) -> tuple[str, list[list[str]]]:
        """Return the title and one row per (step, input): the table, for text and HTML."""

        def fmt(a: Any) -> str:
            return _format_array(a, max_elems)

        rows: list[list[str]] = []
        for s in self.steps:
            first = True
            for label, slot, g in zip(s.input_labels, s.input_slots, s.grads_out, strict=True):
                cell = f"{label} as {slot}: " + ("no gradient" if g is None else fmt(g))
                if first:
                    rows.append([str(s.index), s.label, s.rule, fmt(s.grad_in), cell])
                    first = False
                else:
                    rows.append(["", "", "", "", cell])
        loss = self._labels.short(self.loss)
        return f"backward trace of {loss}, seed ∂{loss}/∂{loss} = {fmt(self.seed)}", rows

    def _repr_html_(self) -> str:
        """Return the table for a notebook, then each leaf's gradient."""
        title, rows = self._rows(8)
        text = f"<p>{html.escape(title)}</p>" + _html_table(list(self.HEADER), rows)
        if self.leaf_grads:
            leaves = [[name, _format_array(g)] for name, _, g in self.leaf_grads]
            text += f"<p>{html.escape(self.LEAVES)}</p>" + _html_table(["leaf", "gradient"], leaves)
        return text

    def format(self, max_elems: int = 8) -> str:
        """Format the trace as a table, then each leaf's total gradient.

        One row per (step, input) with the node, its rule, the gradient flowing in and what it
        passes to that input. Arrays with more than ``max_elems`` elements are shown as their
        shape and first values.
        """
        header = list(self.HEADER)
        title, rows = self._rows(max_elems)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        out = [title, line(header), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)]
        if self.leaf_grads:
            out.append("")
            out.append(self.LEAVES)
            for name, _, g in self.leaf_grads:
                out.append(f"  {name}: {_format_array(g, max_elems)}")
        return "\n".join(out)


def explain_backward(
    loss: Tensor, gradient: Any = None, names: Mapping[str, Tensor] | None = None
) -> Trace:
    r"""Run the backward walk from ``loss`` on its own and record every step.

    Parameters
    ----------
    loss
        The tensor to differentiate (a single element, unless ``gradient`` is given).
    gradient
        The seed ∂E/∂loss, shaped like ``loss`` (default 1 for a single element).
    names
        Optional labels for leaves and op results, e.g. ``{"wih": wih, "h": h, "o": o}``.

    Returns
    -------
    Trace
        ``str(trace)`` is the table; ``trace.paths(leaf)`` splits a gradient by path.
        No ``.grad`` changes, hooks are not run, and the graph is kept, so ``loss.backward()``
        still works afterwards.
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain_backward: expected a Tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise RuntimeError("explain_backward: this tensor does not require grad")
    if gradient is None:
        if loss.size != 1:
            raise RuntimeError(
                f"explain_backward: a gradient is needed for a tensor of shape {loss.shape}; "
                "pass gradient= with an array of that shape"
            )
        seed = np.ones(loss.shape, dtype=loss.dtype)
    else:
        seed = np.array(np.asarray(gradient), dtype=loss.dtype)
        if seed.shape != loss.shape:
            raise ValueError(
                f"explain_backward: gradient shape {seed.shape} does not match {loss.shape}"
            )
    order, leaves = _graph(loss)
    if any(node.inputs is None for node in order):
        raise RuntimeError(
            "explain_backward: the graph was already released by backward(); pass "
            "retain_graph=True to that backward() to explain it afterwards"
        )
    labels = _Labels(order, leaves, names or {})
    steps: list[Step] = []

    def on_step(node: Op, grad_in: Any, input_grads: Any) -> None:
        inputs = node.inputs or ()
        grads_out: list[np.ndarray | None] = [None] * len(inputs)
        for k, (x, need, g) in enumerate(zip(inputs, node.needs, input_grads, strict=False)):
            if need and g is not None:
                grads_out[k] = np.asarray(sum_to_shape(g, _shape(x)), dtype=x.data.dtype)
        steps.append(
            Step(
                index=len(steps) + 1,
                node=node,
                label=labels.node[id(node)],
                rule=node.rule(),
                grad_in=np.asarray(grad_in),
                input_labels=[labels.of_input(x) for x in inputs],
                input_slots=_input_names(node, len(inputs)),
                grads_out=grads_out,
                inputs=inputs,
                xs=node.xs or (),
                out=node.out,
            )
        )

    # Hooks are set aside so the trace shows the plain chain rule (and no hook runs twice).
    hooked = [(node, node.hooks) for node in order if node.hooks]
    hooked_leaves = [(t, t._hooks) for t in leaves if t._hooks]
    for node, _ in hooked:
        node.hooks = None
    for t, _ in hooked_leaves:
        t._hooks = None
    try:
        totals = walk_backward(loss, seed, retain_graph=True, create_graph=False, on_step=on_step)
    finally:
        for node, hooks in hooked:
            node.hooks = hooks
        for t, hooks in hooked_leaves:
            t._hooks = hooks
    leaf_grads = [(labels.of_input(t), t, np.asarray(g)) for t, g in totals if t.requires_grad]
    return Trace(loss, seed, steps, leaf_grads, dict(names or {}), labels)
