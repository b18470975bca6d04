"""Tests for autograd_lite.viz: the DOT graph and the backward explainer.

Gradients are checked against central finite differences and against hand-written NumPy
formulas (the tutorial chapter's corrected backprop equations), never against viz itself.
"""

from __future__ import annotations

import doctest
import inspect
import re
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from custom_ops import Cube
from hypothesis import given
from hypothesis import strategies as st
from op_cases import CASES as OP_CASES

import autograd_lite as al
from autograd_lite import ops, viz
from autograd_lite.testing.catalogue import CASES as CATALOGUE

rng = np.random.default_rng(0)


def numeric_grad(f: Callable[[], float], x: al.Tensor, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of the scalar ``f()`` with respect to ``x.data``, in place."""
    g = np.zeros_like(x.data)
    for i in np.ndindex(x.shape):
        old = x.data[i]
        x.data[i] = old + eps
        up = f()
        x.data[i] = old - eps
        down = f()
        x.data[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


# Each builder returns (leaves, f) where f(*leaves) is a scalar Tensor.
def diamond():
    x = al.Tensor(rng.normal(size=3), requires_grad=True)

    def f(x):
        a = x * 2.0
        b = a.exp()
        return (a * b + a).sum()

    return [x], f


def broadcasting():
    x = al.Tensor(rng.normal(size=(3, 1)), requires_grad=True)
    b = al.Tensor(rng.normal(size=(4,)), requires_grad=True)

    def f(x, b):
        y = x + b  # (3, 4)
        return (y * y.sigmoid() * b).mean()

    return [x, b], f


def used_twice():
    x = al.Tensor(rng.normal(size=(2, 2)), requires_grad=True)
    return [x], lambda x: (x * x).sum()


def matmul_fanout():
    w = al.Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    v = al.Tensor(rng.normal(size=2), requires_grad=True)

    def f(w, v):
        h = (w @ v).tanh()
        return (h * h).sum() + (w.sum(axis=0) * v).sum() + (v**2).sum()

    return [w, v], f


def nested_diamonds():
    x = al.Tensor(rng.uniform(0.5, 1.5, size=2), requires_grad=True)

    def f(x):
        y = x
        for _ in range(4):  # 2⁴ paths from the loss to x, and more through the sqrt
            y = y * y.sqrt() + y
        return y.sum()

    return [x], f


BUILDERS = [diamond, broadcasting, used_twice, matmul_fanout, nested_diamonds]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_paths_sum_to_the_gradient(build):
    leaves, f = build()
    loss = f(*leaves)
    trace = viz.explain_backward(loss)
    for x in leaves:
        assert x.grad is None, "explain_backward must not touch .grad"
    loss.backward()  # the graph is still there: explain_backward retained it
    for x in leaves:
        pairs = trace.paths(x)
        assert len(pairs) >= 1
        total = sum(c for _, c in pairs)
        numeric = numeric_grad(lambda: float(f(*leaves).data), x)
        np.testing.assert_allclose(total, numeric, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(total, x.grad.data, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(trace.grad(x), x.grad.data, rtol=1e-12, atol=1e-12)
        leaf_label = next(name for name, t, _ in trace.leaf_grads if t is x)
        for text, c in pairs:
            assert c.shape == x.shape
            assert text.startswith(trace.steps[0].label + " ─")
            assert text.endswith("→ " + leaf_label)


def test_x_times_x_has_one_path_per_use():
    x = al.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = (x * x).sum()
    pairs = viz.explain_backward(loss, names={"x": x}).paths(x)
    assert [text for text, _ in pairs] == ["Sum#2 ─a→ Mul#1 ─a→ x", "Sum#2 ─a→ Mul#1 ─b→ x"]
    for _, c in pairs:  # each use of x contributes x (d(a·b)/da = b = x)
        np.testing.assert_array_equal(c, x.data)


def test_path_counts_of_nested_diamonds():
    x = al.Tensor([2.0], requires_grad=True)
    y = x
    for _ in range(3):
        y = y + y * 3.0  # each level: a direct path and one through the Mul
    trace = viz.explain_backward(y.sum())
    pairs = trace.paths(x)
    assert len(pairs) == 2**3
    # path contributions are products of local derivatives: 1 or 3 per level
    assert sorted(float(c[0]) for _, c in pairs) == [1, 3, 3, 3, 9, 9, 9, 27]


def test_too_many_paths_is_a_clear_error():
    x = al.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(15):  # 2¹⁵ = 32768 paths
        y = y + y
    trace = viz.explain_backward(y.sum())
    with pytest.raises(ValueError, match=r"32768 paths .*MAX_PATHS"):
        trace.paths(x)
    np.testing.assert_array_equal(trace.grad(x), [2.0**15])


def test_paths_to_an_intermediate_result_and_by_name():
    x = al.Tensor(rng.normal(size=3), requires_grad=True)
    h = x.sigmoid()
    loss = (h * h + h * x).sum()
    trace = viz.explain_backward(loss, names={"x": x, "h": h})
    pairs = trace.paths("h")
    assert len(pairs) == 3
    hv, xv = h.data, x.data
    expected = 2 * hv + xv  # ∂/∂h of Σ (h² + h·x), x held fixed
    np.testing.assert_allclose(sum(c for _, c in pairs), expected, rtol=1e-12)
    np.testing.assert_allclose(trace.grad(h), expected, rtol=1e-12)
    assert all(text.endswith("h=Sigmoid#1") for text, _ in pairs)


def test_paths_refuses_a_tensor_outside_the_graph():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    other = al.Tensor([1.0, 2.0], requires_grad=True)
    const = al.Tensor([3.0, 4.0])
    trace = viz.explain_backward((x * const).sum())
    with pytest.raises(ValueError, match=r"paths: tensor \(2,\) is not reached"):
        trace.paths(other)
    with pytest.raises(ValueError, match=r"paths: leaf#1 \(2,\) is not reached"):
        trace.paths(const)
    with pytest.raises(ValueError, match="no tensor named 'w'"):
        trace.paths("w")
    with pytest.raises(TypeError, match="expected a Tensor or a name"):
        trace.paths(3)


def test_a_long_chain_needs_no_recursion():
    x = al.Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    trace = viz.explain_backward(y.sum())
    assert len(trace.steps) == 3001
    ((text, c),) = trace.paths(x)
    assert text.count("Mul#") == 3000
    np.testing.assert_allclose(c, [1.0001**3000], rtol=1e-12)
    dot = viz.to_dot(y)
    assert dot.count("->") == 2 * 3000  # each Mul: the previous value and the constant


# -- the tutorial network (python-course.eu) -------------------------------------------------------


def test_tutorial_network_rows_match_the_chapters_formulas():
    n_in, n_hidden, n_out = 3, 4, 2
    x = rng.uniform(0.1, 1.0, size=(n_in, 1))
    t = np.array([[0.01], [0.99]])
    wih = al.Tensor(rng.normal(0, n_in**-0.5, size=(n_hidden, n_in)), requires_grad=True)
    who = al.Tensor(rng.normal(0, n_hidden**-0.5, size=(n_out, n_hidden)), requires_grad=True)

    z_h = wih @ x
    h = al.sigmoid(z_h)
    z_o = who @ h
    o = al.sigmoid(z_o)
    E = al.squared_error(o, t, reduction="sum")
    names = {"wih": wih, "who": who, "z_h": z_h, "h": h, "z_o": z_o, "o": o, "E": E}
    trace = viz.explain_backward(E, names=names)

    # The chapter's corrected formulas, in plain NumPy.
    hv, ov = h.data, o.data
    delta_o = (ov - t) * ov * (1 - ov)
    grad_who = delta_o @ hv.T
    delta_h = (who.data.T @ delta_o) * hv * (1 - hv)
    grad_wih = delta_h @ x.T

    assert [s.label for s in trace.steps] == [
        "E=SquaredError#5", "o=Sigmoid#4", "z_o=MatMul#3", "h=Sigmoid#2", "z_h=MatMul#1",
    ]  # fmt: skip
    step_E = trace.step_for(E)
    np.testing.assert_allclose(step_E.grad_in, 1.0)
    np.testing.assert_allclose(step_E.grads_out[0], ov - t, rtol=1e-12)  # ∂E/∂o = o − t
    assert step_E.grads_out[1] is None  # the target gets no gradient

    step_o = trace.step_for(o)
    np.testing.assert_allclose(step_o.grad_in, ov - t, rtol=1e-12)
    np.testing.assert_allclose(step_o.grads_out[0], delta_o, rtol=1e-12)  # δ_o

    step_zo = trace.step_for(z_o)
    assert step_zo.input_labels == ["who", "h=Sigmoid#2"]
    np.testing.assert_allclose(step_zo.grad_in, delta_o, rtol=1e-12)
    np.testing.assert_allclose(step_zo.grads_out[0], grad_who, rtol=1e-12)  # δ_o hᵀ
    np.testing.assert_allclose(step_zo.grads_out[1], who.data.T @ delta_o, rtol=1e-12)

    step_h = trace.step_for(h)
    np.testing.assert_allclose(step_h.grads_out[0], delta_h, rtol=1e-12)  # δ_h

    step_zh = trace.step_for(z_h)
    assert step_zh.input_labels[0] == "wih" and step_zh.input_labels[1] == "const (3, 1)"
    np.testing.assert_allclose(step_zh.grads_out[0], grad_wih, rtol=1e-12)  # δ_h xᵀ
    assert step_zh.grads_out[1] is None

    np.testing.assert_allclose(trace.grad("who"), grad_who, rtol=1e-12)
    np.testing.assert_allclose(trace.grad("wih"), grad_wih, rtol=1e-12)
    for leaf, expected in ((wih, grad_wih), (who, grad_who)):
        ((_, c),) = trace.paths(leaf)  # one path each in this network
        np.testing.assert_allclose(c, expected, rtol=1e-12)

    text = str(trace)
    assert "o = σ(x) = 1 / (1 + e⁻ˣ); ∂E/∂x (2, 1) = ∂E/∂o · o · (1 − o)." in text
    matmul = "o = a @ b; ∂E/∂a (2, 4) = ḡ (2, 1) @ bᵀ (1, 4), ∂E/∂b (4, 1) = aᵀ (4, 2) @ ḡ (2, 1)."
    assert matmul in text
    assert "who as a:" in text and "wih as a:" in text and "const (3, 1) as b: no gradient" in text


def test_tutorial_network_with_one_dimensional_vectors():
    x = np.array([0.3, 0.7])
    t = np.array([1.0, 0.0])
    wih = al.Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    who = al.Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    h = al.sigmoid(wih @ x)
    o = al.sigmoid(who @ h)
    E = al.squared_error(o, t)
    trace = viz.explain_backward(E, names={"wih": wih, "who": who})
    hv, ov = h.data, o.data
    delta_o = (ov - t) * ov * (1 - ov)
    delta_h = (who.data.T @ delta_o) * hv * (1 - hv)
    np.testing.assert_allclose(trace.grad(who), np.outer(delta_o, hv), rtol=1e-12)
    np.testing.assert_allclose(trace.grad(wih), np.outer(delta_h, x), rtol=1e-12)


# -- the table ------------------------------------------------------------------------------------


def test_str_is_a_table_with_one_row_per_input():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    c = al.Tensor([3.0, 5.0])
    y = (x * c + x).sum()
    trace = viz.explain_backward(y, names={"x": x, "y": y})
    lines = str(trace).splitlines()
    assert lines[0] == "backward trace of y, seed ∂y/∂y = 1"
    assert [cell.strip() for cell in lines[1].split("|")] == [
        "step", "node", "rule", "gradient in", "passes to input",
    ]  # fmt: skip
    rows = [line for line in lines[3:] if "|" in line]
    assert len(rows) == 1 + 2 + 2  # Sum: 1 input; Add: 2; Mul: 2
    assert rows[0].split("|")[1].strip() == "y=Sum#3"
    assert "x as a: [3, 5]" in rows[3]  # Mul passes ḡ · c to x
    assert "leaf#2 (2,) as b: no gradient" in rows[4]  # c does not require grad
    assert "  x: [4, 6]" in lines  # the leaf's total: c + 1


def test_large_values_are_summarised():
    x = al.Tensor(np.arange(20.0), requires_grad=True)
    trace = viz.explain_backward((x * 2.0).sum())
    text = str(trace)
    assert "(20,) [2, 2, 2, 2, …]" in text
    assert "[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]" in trace.format(20)


def test_custom_function_rule_comes_from_its_docstring():
    x = al.Tensor([2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    trace = viz.explain_backward(y)
    assert trace.steps[1].label == "Cube#1"
    rule = "Cube (custom Function; x0 (1,) → o (1,)): o = x³; ∂E/∂x = 3 x² ḡ."
    assert trace.steps[1].rule == rule
    np.testing.assert_allclose(sum(c for _, c in trace.paths(x)), [12.0])
    assert "Cube(Function)" in viz.to_dot(y)


def test_hooks_are_not_run_and_stay_registered():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    calls = []
    h.register_hook(lambda g: calls.append("h") or g * 10)
    x.register_hook(lambda g: calls.append("x"))
    loss = h.sum()
    trace = viz.explain_backward(loss)
    assert calls == []
    np.testing.assert_array_equal(trace.grad(x), [3.0, 3.0])
    loss.backward()
    assert calls == ["h", "x"]
    np.testing.assert_array_equal(x.grad.data, [30.0, 30.0])


def test_explicit_seed_for_a_non_scalar_result():
    x = al.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    seed = np.array([1.0, 0.0, -1.0])
    trace = viz.explain_backward(y, gradient=seed)
    np.testing.assert_allclose(trace.grad(x), 2 * x.data * seed)
    np.testing.assert_allclose(sum(c for _, c in trace.paths(x)), 2 * x.data * seed)


def test_a_leaf_loss_has_one_trivial_path():
    x = al.Tensor(4.0, requires_grad=True)
    trace = viz.explain_backward(x, names={"x": x})
    assert trace.steps == []
    assert trace.paths(x) == [("x", trace.seed)]
    np.testing.assert_array_equal(trace.grad(x), 1.0)


def test_bad_input_is_refused_clearly():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.explain_backward(np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.explain_backward(al.Tensor(1.0))
    with pytest.raises(RuntimeError, match=r"gradient is needed .* shape \(2,\)"):
        viz.explain_backward(x * 2)
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match \(2,\)"):
        viz.explain_backward(x * 2, gradient=np.ones(3))
    with pytest.raises(TypeError, match="names must map str to Tensor"):
        viz.explain_backward((x * 2).sum(), names={"x": x.data})
    with pytest.raises(TypeError, match="names must be a dict"):
        viz.to_dot(x, names=[x])
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot([1.0])


def test_released_graph():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        viz.explain_backward(y)
    dot = viz.to_dot(y)  # drawn, not an error: the released root shows as such
    assert "released" in dot
    assert "style=dashed" in dot
    assert dot.count("->") == 0


# -- DOT ----------------------------------------------------------------------------------------

NODE = re.compile(r'^  (\w+) \[(?:\w+=(?:"(?:[^"\\]|\\.)*"|[\w#]+)(?:, )?)+\];$')
EDGE = re.compile(r'^  (\w+) -> (\w+) \[label="(?:[^"\\]|\\.)*"\];$')


def parse_dot(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A strict reader for the subset of DOT that to_dot writes: every line must be a header,
    a graph/node attribute statement, a node statement or an edge between declared nodes."""
    lines = dot.splitlines()
    assert lines[0] == "digraph autograd {" and lines[-1] == "}"
    assert dot.count("{") == dot.count("}") == 1
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if line in ("  rankdir=BT;", '  node [fontname="Helvetica", fontsize=11];'):
            continue
        if m := EDGE.match(line):
            assert m[1] in nodes and m[2] in nodes, f"edge between undeclared nodes: {line}"
            edges.append((m[1], m[2]))
        elif m := NODE.match(line):
            assert m[1] not in nodes, f"node declared twice: {line}"
            nodes[m[1]] = line
        else:
            raise AssertionError(f"not a DOT statement to_dot should write: {line!r}")
    return nodes, edges


def test_dot_structure_counts_ops_leaves_and_constants():
    w = al.Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = al.Tensor(np.zeros(2))  # a leaf that does not require grad
    x = np.ones(3)  # a plain constant
    y = al.sigmoid(w @ x + b)
    loss = (y * y).sum() * 0.5
    dot = viz.to_dot(loss, names={"w": w, "y": y})
    nodes, edges = parse_dot(dot)
    ops = [n for n in nodes if n.startswith("op")]
    leaves = [n for n in nodes if n.startswith("leaf")]
    consts = [n for n in nodes if n.startswith("const")]
    assert len(ops) == 6  # MatMul, Add, Sigmoid, Mul, Sum, Mul
    assert len(leaves) == 2  # w and b
    assert len(consts) == 2  # x and 0.5
    assert len(edges) == 2 + 2 + 1 + 2 + 1 + 2  # one per op input
    assert len(nodes) == len(ops) + len(leaves) + len(consts)
    assert 'label="w\\n(2, 3)\\nrequires_grad"' in dot
    assert 'label="leaf\\n(2,)"' in dot  # b: no name, no requires_grad
    assert "y=Sigmoid#3\\nSigmoid()\\n→ (2,)" in dot
    assert "Sum#5\\nSum(axis=None, keepdims=False)\\n→ ()" in dot
    # every op has exactly as many incoming edges as inputs; the root feeds nothing
    indegree = {n: sum(1 for _, dst in edges if dst == n) for n in ops}
    assert sorted(indegree.values()) == [1, 1, 2, 2, 2, 2]
    assert not [src for src, _ in edges if src == "op5"]


def test_dot_lists_every_op_after_its_inputs():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    a = x.exp()
    b = a * 2.0
    loss = (b + a).sum()  # Add reaches a directly and again through b
    nodes, edges = parse_dot(viz.to_dot(loss, names={"a": a, "b": b}))
    names = [n for n in nodes if not n.startswith("const")]  # constants come with their edge
    for src, dst in edges:
        if src in names:
            assert names.index(src) < names.index(dst), f"{src} drawn after {dst}"
    labels = [nodes[n].split('label="')[1].split("\\n")[0] for n in names]
    assert labels == ["leaf", "a=Exp#1", "b=Mul#2", "Add#3", "Sum#4"]


def test_dot_with_values_shows_values_and_grads():
    x = al.Tensor([1.0, -2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss, values=True, names={"x": x})
    nodes, edges = parse_dot(dot)
    assert len(nodes) == 3 and len(edges) == 3  # x feeds Mul twice
    assert "value [1, -2]" in dot and "grad [2, -4]" in dot
    assert "→ ()\\n5" in dot  # the loss's value
    assert "value" not in viz.to_dot(loss)


def test_dot_of_a_leaf_and_quoting():
    x = al.Tensor([1.0], requires_grad=True)
    nodes, edges = parse_dot(viz.to_dot(x, names={'odd "name" \\': x}))
    assert len(nodes) == 1 and edges == []
    assert 'label="odd \\"name\\" \\\\\\n(1,)\\nrequires_grad"' in nodes["leaf0"]


def test_module_docstring_example():
    failures, tried = doctest.testmod(viz, verbose=False)
    assert tried >= 4 and failures == 0


# -- every op states its own rule, with this node's shapes ------------------------------------

SHAPE = r"\(([0-9, ]*)\)"
SYMBOL = r"(?:(?<=\s)|(?<=∂E/∂)|^)(ḡ|[a-zE]\d?)(ᵀ?) " + SHAPE
INDEX = r"(\[(?:[^\[\]]|\[[^\[\]]*\])*\])"
PRODUCT = re.compile(
    r"∂E/∂(\w+) " + SHAPE + r" = (ḡ|[a-z]\d?)(ᵀ?) " + SHAPE + r" (@|⊗) (ḡ|[a-z]\d?)(ᵀ?) " + SHAPE
    + r"( summed over the batch axes)?"
)  # fmt: skip
INDEXED = re.compile(r"(?:∂E/∂\w+ " + SHAPE + r"|^o) = (?:ḡ|a) " + SHAPE + INDEX)


def parse_shape(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.replace(" ", "").split(",") if v)


def swap_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[:-2] + shape[:-3:-1]


def reduced_axes(axis: tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else axis


def check_rule(step: viz.Step) -> None:
    """The rule a node states fits the node: each input's ∂E/∂ with its real shape, every shape
    it prints equal to the real one, every product and index it prints giving the shape it claims,
    and the node's parameters (axes, keepdims, reduction, exponent, bounds...) in the text."""
    node, rule = step.node, step.rule
    assert rule == node.rule()
    real = {slot: np.shape(x.data if isinstance(x, al.Tensor) else x)
            for slot, x in zip(step.input_slots, step.inputs)}  # fmt: skip
    out = np.shape(node.out)
    real.setdefault("o", out)
    real.update({"E": out, "ḡ": out})
    if hasattr(node, "labels"):
        real["y"] = node.labels.shape
    for slot in step.input_slots:
        assert f"∂E/∂{slot} {real[slot]} =" in rule, f"{node}: no ∂E/∂{slot} with its shape: {rule}"
    for sym, t, shape in re.findall(SYMBOL, rule):
        assert sym in real, f"{node}: unknown symbol {sym!r} in {rule}"
        expected = swap_last(real[sym]) if t else real[sym]
        assert parse_shape(shape) == expected, f"{node}: {sym}{t} is {expected}, not ({shape})"
    for m in PRODUCT.finditer(rule):
        stated, s1, s2 = parse_shape(m[2]), parse_shape(m[5]), parse_shape(m[9])
        try:
            shape = np.matmul(np.empty(s1), np.empty(s2)).shape if m[6] == "@" else s1 + s2
        except ValueError:
            raise AssertionError(f"{node}: the shapes in {m[0]} do not fit a product") from None
        if m[10]:  # the engine sums the batch axes back to the input's shape
            assert shape != stated and np.broadcast_shapes(shape, stated) == shape, m[0]
        else:
            assert shape == stated, f"{node}: {m[0]} gives {shape}"
    for m in INDEXED.finditer(rule):
        source, index = parse_shape(m[2]), m[3]
        target = parse_shape(m[1]) if m[1] is not None else out
        if "<" not in index:  # a large index array is shown by its kind and shape
            assert eval(f"np.empty({source}){index}").shape == target, f"{node}: {m[0]}"
    check_parameters(node, rule, real)


def check_parameters(node: Any, rule: str, real: dict[str, tuple[int, ...]]) -> None:
    name = type(node).__name__
    if name in ("Sum", "Mean", "Max", "Min"):
        shape = real["a"]
        axes = reduced_axes(node.axis, len(shape))
        over = "all axes" if node.axis is None else str(axes[0] if len(axes) == 1 else axes)
        assert over in rule
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        assert (f"reshaped to {kept}" in rule) != node.keepdims, rule
        assert f"broadcast back to {shape}" in rule
        if name == "Mean":
            assert f"n = {int(np.prod([shape[i] for i in axes]))}" in rule
    elif name == "MatMul":
        assert rule.startswith("o = a @ bᵀ" if node.transpose_b else ("o = a @ b", "o = a · b"))
    elif name == "Transpose" and node.axes is None:
        assert rule.count("with axes reversed") == 2
        assert real["ḡ"] == real["a"][::-1]
    elif name == "Transpose":
        found = re.search(r"inverse \(([0-9, ]*)\)", rule)[1]
        inverse = tuple(int(i) for i in found.split(",") if i.strip())  # "(0,)" for one axis
        assert inverse == tuple(np.argsort(node.axes))
        assert np.empty(real["ḡ"]).transpose(inverse).shape == real["a"]
    elif name in ("Softmax", "LogSoftmax"):
        assert f"axis={node.axis}" in rule
    elif name in ("Reshape", "BroadcastTo"):
        assert f"shape={node.shape}" in rule
    elif name == "Cast":
        assert f"dtype={node.dtype}" in rule
    elif name in ("SquaredError", "BinaryCrossEntropy", "CrossEntropy"):
        assert f"reduction={node.reduction!r}" in rule
        if node.reduction == "mean":
            n = node.labels.size if name == "CrossEntropy" else int(np.prod(real[step_slot(node)]))
            assert f"n = {n}" in rule
    elif name == "Pow" and not isinstance(node.inputs[1], al.Tensor):
        b = float(node.inputs[1])
        assert f"a^{b:g}" in rule and f"· {b:g} · a^{b - 1:g}" in rule
    elif name == "Clip":
        assert f"[{node.low:g} ≤ a ≤ {node.high:g}]" in rule
    elif name in ("Concatenate", "Stack"):
        assert f"axis {node.axis}" in rule


def step_slot(node: Any) -> str:
    """The name of a loss's first input (o for squared error, p for binary cross-entropy)."""
    return {"SquaredError": "o", "BinaryCrossEntropy": "p"}[type(node).__name__]


def concrete_ops() -> set[str]:
    """Every op class defined in autograd_lite.ops's modules that has a forward and a rule."""
    from autograd_lite.engine import Op

    found = set()
    for module in (m for m in vars(ops).values() if inspect.ismodule(m)):
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, Op) and cls.__module__ == module.__name__:
                if cls.forward is not Op.forward and cls.backward is not Op.backward:
                    found.add(name)
    return found


def test_every_op_states_its_exact_rule_with_the_node_shapes():
    assert concrete_ops() <= {c.__name__ for c in ops.ALL_OPS}, "an op missing from ops.ALL_OPS"
    rng = np.random.default_rng(3)
    checked: set[str] = set()
    for case in CATALOGUE:
        fn, inputs = case.build(rng)
        out = fn(*inputs)
        trace = viz.explain_backward(out, gradient=np.ones(out.shape))
        dot = viz.to_dot(out)
        for step in trace.steps:
            check_rule(step)
            assert " ".join(step.rule.split()[:4]) in dot.replace("\\n", " ")
            checked.add(step.node.name)
        out.backward(np.ones(out.shape))  # releases the nodes: the rules lose their shapes
        for step in trace.steps:
            released = step.node.rule()  # the labels of cross-entropy are a parameter: kept
            assert "∂E/∂" in released and {m[0] for m in re.findall(SYMBOL, released)} <= {"y"}
    names = {c.__name__ for c in ops.ALL_OPS}
    assert checked >= names, f"no rule checked for {names - checked}"


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda a, b: a @ b, "o = a @ b; ∂E/∂a (3, 4) = ḡ (3, 5) @ bᵀ (5, 4), "
                             "∂E/∂b (4, 5) = aᵀ (4, 3) @ ḡ (3, 5)."),
        (lambda a, b: a[1:, ::2], "o = a (3, 4)[1:, ::2]; ∂E/∂a (3, 4) = zeros like a with ḡ "
                                  "(2, 2) scatter-added at [1:, ::2] (repeated indices "
                                  "accumulate)."),
        (lambda a, b: a.sum(axis=1), "o = Σ over axis 1 of a; ∂E/∂a (3, 4) = ḡ (3,) reshaped to "
                                     "(3, 1), broadcast back to (3, 4)."),
    ],
)  # fmt: skip
def test_rule_texts_read_as_the_math(build, expected):
    a = al.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    b = al.Tensor(rng.normal(size=(4, 5)), requires_grad=True)
    assert build(a, b)._node.rule() == expected


def test_linear_layer_rows_state_the_transposed_product():
    layer = al.layers.Linear(4, 3)
    x = al.Tensor(rng.normal(size=(2, 4)))
    trace = viz.explain_backward(layer(x).sum())
    (step,) = [s for s in trace.steps if s.node.name == "MatMul"]
    rule = "o = a @ bᵀ; ∂E/∂a (2, 4) = ḡ (2, 3) @ b (3, 4), ∂E/∂b (3, 4) = ḡᵀ (3, 2) @ a (2, 4)."
    assert rule in str(trace)
    check_rule(step)


# -- notebook displays ------------------------------------------------------------------------


def small_graph():
    w = al.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (w @ np.ones(2)).sum()
    return w, loss


def test_a_graph_shows_a_table_where_graphviz_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    w, loss = small_graph()
    graph = viz.to_dot(loss, names={"<w>": w})
    assert isinstance(graph, str) and graph.startswith("digraph autograd {")
    assert graph._repr_svg_() is None
    page = graph._repr_html_()
    assert page.count("<tr>") == 1 + 3  # the header, the leaf, MatMul and Sum
    assert "&lt;w&gt;" in page and "<w>" not in page  # escaped
    assert "∂E/∂a (2, 2) = ḡ (2,) ⊗ b (2,)" in page
    printed = []
    graph._repr_pretty_(types.SimpleNamespace(text=printed.append), False)
    assert printed[0].splitlines()[0] == "<w>: leaf, requires_grad → (2, 2)"
    assert "MatMul#1: MatMul(transpose_b=False) → (2,) ← a: <w>, b: const (2,)" in printed[0]


def test_a_graph_is_drawn_where_graphviz_is_installed(monkeypatch, tmp_path):
    fake = tmp_path / "dot"  # stands for Graphviz: checks its arguments, echoes an SVG
    fake.write_text(
        f"#!{sys.executable}\nimport sys\nassert sys.argv[1:] == ['-Tsvg']\n"
        "text = sys.stdin.read()\nprint(f'<svg><!-- {text.count(\"->\")} edges --></svg>')\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    _, loss = small_graph()
    graph = viz.to_dot(loss)
    assert graph._repr_svg_().strip() == "<svg><!-- 3 edges --></svg>"
    assert graph._repr_html_() is None  # Jupyter would prefer HTML: leave it to the SVG
    fake.write_text("#!/bin/sh\nexit 1\n")  # a broken dot: back to the table
    assert graph._repr_svg_() is None and "<table>" in graph._repr_html_()


def test_a_trace_shows_an_html_table():
    w, loss = small_graph()
    trace = viz.explain_backward(loss, names={"w": w, "E<": loss})
    page = trace._repr_html_()
    assert page.startswith("<p>backward trace of E&lt;, seed ∂E&lt;/∂E&lt; = 1</p>")
    assert page.count("<table>") == 2  # the steps, then the leaves' gradients
    assert page.count("<tr>") == 1 + 1 + 2 + 1 + 1  # header, Sum, MatMul's two inputs; leaves
    assert "w as a: [[1, 1], [1, 1]]" in page
    printed = []
    trace._repr_pretty_(types.SimpleNamespace(text=printed.append), False)
    assert printed == [str(trace)]


@pytest.mark.parametrize("case", OP_CASES, ids=lambda c: c.name)
@given(data=st.data())
def test_rules_fit_the_nodes_over_drawn_shapes(case, data):
    """The same checks over Hypothesis's shapes: broadcasting, batched and 1-D products, every
    kind of index, negative axes, each reduction."""
    arrays, kwargs = data.draw(case.inputs, label="inputs")
    tensors = [al.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = case.fn(*tensors, **kwargs)
    trace = viz.explain_backward(out, gradient=np.ones(out.shape))
    for step in trace.steps:
        check_rule(step)


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (ops.Sum(1), "o = Σ over axis 1 of a; ∂E/∂a = ḡ with the reduced axes restored as size 1, "
                     "broadcast back."),
        (ops.Clip(None, 1.0), "o = min(a, 1); ∂E/∂a = ḡ · [a ≤ 1]."),
        (ops.MatMul(transpose_b=True), "o = a @ bᵀ; ∂E/∂a = ḡ @ b, ∂E/∂b = ḡᵀ @ a."),
    ],
)  # fmt: skip
def test_an_op_not_yet_applied_states_its_rule_without_shapes(op, expected):
    assert op.rule() == expected


def test_paths_through_a_custom_function_released_after_the_explanation_says_so():
    x = al.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (Cube.apply(x) * 2.0).sum()
    trace = viz.explain_backward(loss)
    ((_, contribution),) = trace.paths(x)  # before the release: 3x² · 2, by hand
    np.testing.assert_allclose(contribution, 6.0 * np.array([1.0, 4.0]))
    loss.backward()  # releases the graph, the Function's context with it
    with pytest.raises(RuntimeError, match="custom Function in this graph was released"):
        trace.paths(x)
