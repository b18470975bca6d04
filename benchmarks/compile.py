"""Benchmark: ``al.compile``'d training steps against the hand-written NumPy steps.

Run from the repository root::

    python benchmarks/compile.py              # writes benchmarks/results/compile.md
    python benchmarks/compile.py --quick      # fewer repetitions
    python benchmarks/compile.py --data-dir DIR   # the MNIST epoch on the real images

The workloads are those of ``benchmarks/run.py`` (6, 1, 2, 3: the tutorial's sigmoid network
trained by SGD; 4: a chain of tanh ops, forward and backward), each step compiled and timed in
turns with the hand-written step of ``workloads.py`` and the eager step, in one process. The
MNIST row runs the chapter's online epoch (true gradient, ``examples/mnist_tutorial.py``)
against ``NeuralNetwork(..., compiled=True).train`` on the same images: the real ones with
``--data-dir`` (or ``AUTOGRAD_LITE_MNIST``), else images of the same shape drawn at random
(the timing does not depend on the pixel values).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

import workloads
from mnist_tutorial import ENV_DIR, HIDDEN, LEARNING_RATE, HandWritten
from run import NETS, interleaved_medians, peak_bytes

import autograd_lite as al
from autograd_lite.tutorial import NeuralNetwork

TARGETS = {6: 1.2, 1: 0.6, 2: 1.0, 3: 1.0, 4: 1.5, "mnist": 1.0}
DEFAULT_OUT = HERE / "results" / "compile.md"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def net_row(key: int, reps: int) -> tuple[str, str | None]:
    """The row of training-step workload ``key``; for workload 2 also the memory line."""
    label, shape, divisor, floor = NETS[key]
    hand = workloads.sigmoid_net(*shape)
    eager = workloads.sigmoid_net(*shape)
    compiled = al.compile(workloads.sigmoid_net(*shape)["autograd_lite"])
    steps = {"hand-written": hand["hand-written"], "compiled": compiled,
             "eager": eager["autograd_lite"]}  # fmt: skip
    m = interleaved_medians(steps, max(reps // divisor, floor))
    ratio = m["compiled"] / m["hand-written"]
    speedup = m["eager"] / m["compiled"]
    row = (f"| {label} | {_us(m['hand-written'])} | {_us(m['compiled'])} | **{ratio:.2f}×** "
           f"(target ≤ {TARGETS[key]}) | {_us(m['eager'])} | {speedup:.1f}× |")  # fmt: skip
    memory = None
    if key == 2:
        h, c = peak_bytes(hand["hand-written"]), peak_bytes(compiled)
        memory = (f"Peak memory of one step of workload 2 (tracemalloc): compiled "
                  f"{c / 1e6:.2f} MB, hand-written {h / 1e6:.2f} MB: **{c / h:.2f}×** "
                  f"(target ≤ 1.0).")  # fmt: skip
    return row, memory


def chain_row(n_ops: int, turns: int) -> str:
    """Workload 4: ``n_ops`` tanh ops forward and backward, per op."""
    steps = workloads.chain(n_ops)
    x0 = np.random.default_rng(0).uniform(-1, 1, 4)

    def chain_step(x_start: np.ndarray) -> al.Tensor:
        # workloads.chain's eager step, returning the gradient (else nothing is left to compute)
        x = al.Tensor(x_start, requires_grad=True)
        y = x
        for _ in range(n_ops):
            y = y.tanh()
        y.backward(np.ones(x_start.shape))
        assert x.grad is not None
        return x.grad

    traced = al.compile(chain_step)
    traced(x0)  # the trace

    def compiled() -> None:
        traced(x0)

    timed = {"hand-written": steps["hand-written"], "compiled": compiled,
             "eager": steps["autograd_lite"]}  # fmt: skip
    best: dict[str, float] = {name: float("inf") for name in timed}
    for _ in range(turns):
        for name, step in timed.items():
            t0 = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - t0)
    per = {name: t / n_ops for name, t in best.items()}
    ratio = per["compiled"] / per["hand-written"]
    return (f"| 4. chain of {n_ops:,} tanh ops (per op) | {_us(per['hand-written'])} | "
            f"{_us(per['compiled'])} | **{ratio:.2f}×** (target ≤ {TARGETS[4]}) | "
            f"{_us(per['eager'])} | {per['eager'] / per['compiled']:.1f}× |")  # fmt: skip


def mnist_images(data_dir: str | None, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` training images scaled as the chapter does, one-hot targets, and their source."""
    if data_dir:
        from autograd_lite.mnist import load_mnist

        train, _ = load_mnist(data_dir, n, 1)  # scaled x · 0.99/255 + 0.01, targets 0.01/0.99
        return train.inputs[:n], train.targets[:n], "the MNIST training images"
    rng = np.random.default_rng(0)
    x = rng.uniform(0.01, 0.99, (n, 784))
    t = np.full((n, 10), 0.01)
    t[np.arange(n), rng.integers(0, 10, n)] = 0.99
    return x, t, "random images of MNIST's shape (784 pixels, 10 classes)"


def mnist_row(x: np.ndarray, t: np.ndarray, turn: int) -> str:
    """The chapter's online epoch against the compiled network, in turns of ``turn`` images."""
    net = NeuralNetwork(784, 10, HIDDEN, LEARNING_RATE, rng=0, compiled=True)
    chapter = HandWritten(net.wih.copy(), net.who.copy(), LEARNING_RATE, "chapter")
    eager = NeuralNetwork(784, 10, HIDDEN, LEARNING_RATE, rng=0)

    def per_sample(train: Callable[..., object]) -> Callable[[np.ndarray, np.ndarray], None]:
        def loop(xs: np.ndarray, ts: np.ndarray) -> None:
            for a, b in zip(xs, ts):
                train(a, b)

        return loop

    loops = {"chapter": chapter.epoch, "compiled": per_sample(net.train),
             "eager": per_sample(eager.train)}  # fmt: skip
    seconds: dict[str, float] = dict.fromkeys(loops, 0.0)
    for start in range(0, len(x) - turn + 1, turn):
        for name, loop in loops.items():
            t0 = time.perf_counter()
            loop(x[start : start + turn], t[start : start + turn])
            seconds[name] += time.perf_counter() - t0
    n = len(x) // turn * turn
    per = {name: s / n for name, s in seconds.items()}
    ratio = per["compiled"] / per["chapter"]
    return (f"| MNIST online epoch, 784-{HIDDEN}-10 (per image) | {_us(per['chapter'])} | "
            f"{_us(per['compiled'])} | **{ratio:.2f}×** (target ≤ {TARGETS['mnist']}) | "
            f"{_us(per['eager'])} | {per['eager'] / per['compiled']:.1f}× |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--data-dir", default=os.environ.get(ENV_DIR), help="MNIST IDX files")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="markdown file to write")
    args = parser.parse_args(argv)
    reps = 300 if args.quick else 2000
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}. Median times per step, the steps taking turns "
        "in one process (`python benchmarks/compile.py`).",
        "",
        "| workload | hand-written | compiled | compiled / hand | eager | eager / compiled |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    memory = None
    for key in (6, 1, 2, 3):
        row, mem = net_row(key, reps)
        lines.append(row)
        memory = memory or mem
        print(row, flush=True)
    for n_ops in (10_000,):
        lines.append(chain_row(n_ops, 3 if args.quick else 7))
        print(lines[-1], flush=True)
    x, t, source = mnist_images(args.data_dir, 3000 if args.quick else 10_000)
    lines.append(mnist_row(x, t, 500))
    print(lines[-1], flush=True)
    lines += ["", memory or "", "", f"The MNIST row trains on {source}."]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(memory)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
