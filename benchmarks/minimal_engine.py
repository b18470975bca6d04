"""How cheap can per-op bookkeeping be? A deliberately bare reverse-mode engine, for measuring.

Run from the repository root::

    python benchmarks/minimal_engine.py

It records and walks the tutorial's step (linear map, sigmoid, linear map, sigmoid,
½ Σ (o − t)², then SGD) with the least a Python engine can do per op: a slotted node that keeps
its inputs, the values its rule reads and its output; a slotted tensor; an iterative
topological sort; gradients in a dict. None of what autograd_lite adds for its users — the
in-place guard, hooks, anomaly mode, broadcasting and dtype checks, modules, error messages —
so the difference between its step and the hand-written one is a floor for the bookkeeping of
any engine that records every op and walks the graph in Python. Its SGD update comes
two ways: NumPy's ``w -= lr * g`` (a temporary as large as w) and autograd_lite's chunked update
(no such temporary). Not part of the package. On workloads 6, 1 and 2's arrays
(``workloads.tutorial_arrays``) it times the bare engine beside the hand-written and
autograd_lite steps, in one process, and writes a markdown table to ``--out`` (default
``benchmarks/results/minimal_engine.md``); ``benchmarks/mnist_step.py`` runs it on MNIST.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run
import workloads

import autograd_lite as al
from autograd_lite.optim import _descend


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


class Linear(Node):
    """o = W x for a sample, o = x Wᵀ for rows;  ∂E/∂W = ḡ xᵀ (ḡᵀ x for rows),
    ∂E/∂x = Wᵀ ḡ (ḡ W for rows)."""

    __slots__ = ()

    def backward(self, g):
        w, x = self.saved
        gx = np.dot(g, w) if isinstance(self.inputs[1], Tensor) else None
        if x.ndim == 1:
            return np.dot(g.reshape(-1, 1), x.reshape(1, -1)), gx
        return np.dot(g.T, x), gx


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


def linear(w: Tensor, x: Any) -> Tensor:
    xd = x.data if isinstance(x, Tensor) else x
    out = np.dot(w.data, xd) if xd.ndim == 1 else np.dot(xd, w.data.T)
    return _record(Linear(), (w, x), (w.data, xd), out)


def sigmoid(x: Tensor) -> Tensor:
    return _record(Sigmoid(), (x,), (), 1.0 / (1.0 + np.exp(-x.data)))


def half_squared_error(o: Tensor, t: np.ndarray) -> Tensor:
    d = (o.data - t).reshape(-1)
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


def bare_train(
    wih: np.ndarray, who: np.ndarray, lr: float, chunked: bool
) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``train(x, t)``: one SGD step of the tutorial network through the bare engine, on one
    sample (1-D) or rows; updates ``wih`` and ``who`` in place with ``w -= lr * g`` or, if
    ``chunked``, with autograd_lite's chunked update."""
    p1, p2 = Tensor(wih, True), Tensor(who, True)
    q1, q2 = al.Tensor(wih), al.Tensor(who)  # the chunked update reads .data: shares them

    def train(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        loss = half_squared_error(sigmoid(linear(p2, sigmoid(linear(p1, x)))), t)
        p1.grad = p2.grad = None
        backward(loss)
        if chunked:
            _descend(q1, lr, p1.grad)
            _descend(q2, lr, p2.grad)
        else:
            wih.__isub__(lr * p1.grad)
            who.__isub__(lr * p2.grad)
        float(loss.data)
        return wih, who

    return train


def steps(shape: tuple[int, int, int, int], lr: float = 0.1) -> dict[str, workloads.Step]:
    """Workload ``shape``'s hand-written, autograd_lite and kernels-only steps, and the bare
    engine's with each update, all from the same initial weights on the same arrays."""
    wih, who, x, t = workloads.tutorial_arrays(*shape)
    x, t = (x[0], t[0]) if shape[3] == 1 else (x, t)  # one sample: the 1-D vectors of the tutorial
    found = workloads.sigmoid_net(*shape, lr=lr)
    found.pop("pytorch", None)
    for name, chunked in (("bare, w -= lr·g", False), ("bare, chunked update", True)):
        train = bare_train(wih.copy(), who.copy(), lr, chunked)
        found[name] = lambda train=train: train(x, t)
    return found


#: label, (n_in, n_hidden, n_out, batch), timed calls per step; a batch of 1 runs as the 1-D
#: sample of the tutorial in the bare engine, as rows of one in the benchmark's other steps
ROWS = (
    ("6. toy 4-3-2, batch 1", (4, 3, 2, 1), 2000),
    ("1. 784-100-10, batch 1", (784, 100, 10, 1), 2000),
    ("2. 784-100-10, batch 64", (784, 100, 10, 64), 400),
)


def table(reps_scale: float = 1.0) -> str:
    names = ("autograd_lite", "kernels only", "bare, w -= lr·g", "bare, chunked update")
    lines = [
        "| workload | hand-written | " + " | ".join(names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for label, shape, reps in ROWS:
        found = steps(shape)
        medians = run.interleaved_medians(found, max(int(reps * reps_scale), 20))
        base = medians["hand-written"]
        cells = [label, run._us(base)]
        cells += [f"{run._us(medians[n])} ({medians[n] / base:.3f})" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
        if shape[3] > 1:
            hand = run.peak_bytes(found["hand-written"])
            cells = [f"{label}: peak memory", f"{hand / 1e6:.2f} MB"]
            for n in names:
                if n == "kernels only":  # a transcription of calls, not of lifetimes
                    cells.append("—")
                    continue
                peak = run.peak_bytes(found[n])
                cells.append(f"{peak / 1e6:.2f} MB ({peak / hand:.2f}×)")
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Median time per step (ratio to the hand-written step). Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}. Produced by "
        "`python benchmarks/minimal_engine.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--out", default=str(HERE / "results" / "minimal_engine.md"))
    args = parser.parse_args(argv)
    np.seterr(over="ignore")  # the hand-written sigmoid overflows harmlessly for very negative z
    text = table(0.2 if args.quick else 1.0)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
