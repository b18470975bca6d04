"""How cheap can per-op bookkeeping be? A deliberately bare reverse-mode engine, for measuring.

Run from the repository root::

    python benchmarks/minimal_engine.py

It records and walks the tutorial's step (matrix-vector product, sigmoid, product, sigmoid,
½ Σ (o − t)², then SGD) with the least a Python engine can do per op: a slotted node that keeps
its inputs, the values its rule reads and its output; a slotted tensor; an iterative
topological sort; gradients in a dict. None of what autograd_lite adds for its users — the
in-place guard, hooks, anomaly mode, broadcasting and dtype checks, modules, the chunked update,
error messages — so the difference between its step and the hand-written one is a floor for the
bookkeeping of the architecture in DESIGN.md. Not part of the package; on workload 6's arrays
(``workloads.tutorial_arrays``) it checks that it takes the hand-written step's weights, then
times the toy step (4-3-2) beside workload 6's hand-written and autograd_lite steps.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import timeit
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads


class Tensor:
    __slots__ = ("data", "grad", "node", "requires_grad")

    def __init__(self, data: np.ndarray, requires_grad: bool = False) -> None:
        self.data, self.grad, self.node, self.requires_grad = data, None, None, requires_grad


class Node:
    __slots__ = ("inputs", "out", "saved")

    def backward(self, g: np.ndarray) -> tuple[Any, ...]:
        raise NotImplementedError


def _record(node: Node, inputs: tuple[Any, ...], saved: tuple[Any, ...], out: Any) -> Tensor:
    node.inputs, node.saved, node.out = inputs, saved, out
    t = Tensor(out, True)
    t.node = node
    return t


class MatVec(Node):
    """o = W x;  ∂E/∂W = ḡ xᵀ,  ∂E/∂x = Wᵀ ḡ."""

    __slots__ = ()

    def backward(self, g):
        w, x = self.saved
        gx = np.dot(g, w) if isinstance(self.inputs[1], Tensor) else None
        return np.dot(g.reshape(-1, 1), x.reshape(1, -1)), gx


class Sigmoid(Node):
    """o = σ(x);  ∂E/∂x = ḡ o (1 − o)."""

    __slots__ = ()

    def backward(self, g):
        o = self.out
        return (g * (o * (1 - o)),)


class HalfSquaredError(Node):
    """E = ½ Σ (o − t)²;  ∂E/∂o = ḡ (o − t)."""

    __slots__ = ()

    def backward(self, g):
        o, t = self.saved
        return (o - t) * g, None


def matvec(w: Tensor, x: Any) -> Tensor:
    xd = x.data if isinstance(x, Tensor) else x
    return _record(MatVec(), (w, x), (w.data, xd), np.dot(w.data, xd))


def sigmoid(x: Tensor) -> Tensor:
    return _record(Sigmoid(), (x,), (), 1.0 / (1.0 + np.exp(-x.data)))


def half_squared_error(o: Tensor, t: np.ndarray) -> Tensor:
    d = o.data - t
    return _record(HalfSquaredError(), (o, t), (o.data, t), 0.5 * np.dot(d, d))


def backward(loss: Tensor) -> None:
    """Every leaf's .grad += ∂loss/∂leaf; the nodes are released as they are used."""
    order, seen, stack = [], set(), [(loss.node, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            for x in node.inputs:
                if isinstance(x, Tensor) and x.node is not None and x.node not in seen:
                    stack.append((x.node, False))
    grads = {loss.node: np.float64(1.0)}
    for node in reversed(order):
        g = grads.pop(node)
        for x, gx in zip(node.inputs, node.backward(g)):
            if gx is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if x.node is not None:
                grads[x.node] = gx + grads[x.node] if x.node in grads else gx
            else:
                x.grad = gx if x.grad is None else x.grad + gx
        node.inputs = node.saved = node.out = None


def main() -> int:
    shape, lr = (4, 3, 2, 1), 0.1  # workload 6's toy step, on its arrays
    w1, w2, xs, ts = workloads.tutorial_arrays(*shape)
    x, t = xs[0], ts[0]  # its single sample, as the 1-D vectors this engine takes
    p1, p2 = Tensor(w1, True), Tensor(w2, True)

    def bare() -> None:
        loss = half_squared_error(sigmoid(matvec(p2, sigmoid(matvec(p1, x)))), t)
        p1.grad = p2.grad = None
        backward(loss)
        for p in (p1, p2):
            p.data -= lr * p.grad

    steps = workloads.sigmoid_net(*shape, lr=lr)
    for _ in range(3):
        bare()
        hand_w1, hand_w2 = steps["hand-written"]()
    assert np.allclose(p1.data, hand_w1, rtol=1e-13) and np.allclose(p2.data, hand_w2, rtol=1e-13)
    timed = {
        "hand-written": steps["hand-written"],
        "bare engine": bare,
        "autograd_lite": steps["autograd_lite"],
    }
    n = 20_000
    best = {k: min(timeit.repeat(f, number=n, repeat=7)) / n * 1e6 for k, f in timed.items()}
    for name, us in best.items():
        print(f"{name:14s} {us:6.1f} µs per toy step, {us - best['hand-written']:5.1f} µs over "
              "the hand-written step")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
