"""The MNIST chapter's online step, five ways, on the real data: where the time goes.

Run from the repository root::

    python benchmarks/mnist_step.py --data-dir DIR     # DIR: the four MNIST IDX files

In one process, in turns of a few thousand training images each (the same images for every
loop, from the same initial weights): the chapter's own hand-written loop (the true-gradient
version, as in ``examples/mnist_tutorial.py``), ``NeuralNetwork.train`` (the true gradient by
``backward()``), and the NumPy calls that autograd_lite makes for that step written out with no
framework (``workloads.tutorial_train_kernels``). The third is the floor for any engine that
uses autograd_lite's kernels: what lies between it and the network is the framework's
bookkeeping, what lies between it and the chapter's loop is the choice of kernels. The last two
run the step through ``minimal_engine.py``'s bare engine, with the chapter's ``w -= lr·g`` and
with autograd_lite's chunked update: the floor of per-op Python bookkeeping. Writes a markdown
table to ``--out`` (default ``benchmarks/results/mnist_step.md``).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

import minimal_engine
import workloads
from mnist_tutorial import ENV_DIR, HIDDEN, LEARNING_RATE, HandWritten

from autograd_lite.mnist import load_mnist
from autograd_lite.tutorial import NeuralNetwork

LOOPS = {
    "chapter": "hand-written NumPy, the chapter's code (true gradient)",
    "kernels": "autograd_lite's NumPy calls alone, no framework",
    "bare": "a bare engine (`minimal_engine.py`), the chapter's `w -= lr·g`",
    "bare chunked": "a bare engine, autograd_lite's chunked update",
    "network": "`NeuralNetwork.train` (true gradient, by `backward()`)",
}


def measure(inputs: np.ndarray, targets: np.ndarray, turn: int) -> dict[str, list[float]]:
    """Seconds per step of each loop, one entry per turn of ``turn`` images."""
    net = NeuralNetwork(784, 10, HIDDEN, LEARNING_RATE, rng=0)
    chapter = HandWritten(net.wih, net.who, LEARNING_RATE, "chapter")
    kernels = workloads.tutorial_train_kernels(net.wih.copy(), net.who.copy(), LEARNING_RATE)
    bare = {
        chunked: minimal_engine.bare_train(net.wih.copy(), net.who.copy(), LEARNING_RATE, chunked)
        for chunked in (False, True)
    }

    def per_sample(train):
        def loop(xs: np.ndarray, ts: np.ndarray) -> None:
            for x, t in zip(xs, ts):
                train(x, t)

        return loop

    loops = {
        "chapter": chapter.epoch,
        "kernels": per_sample(kernels),
        "bare": per_sample(bare[False]),
        "bare chunked": per_sample(bare[True]),
        "network": per_sample(net.train),
    }
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for start in range(0, len(inputs) - turn + 1, turn):
        xs, ts = inputs[start : start + turn], targets[start : start + turn]
        for name, loop in loops.items():
            t0 = time.perf_counter()
            loop(xs, ts)
            seconds[name].append((time.perf_counter() - t0) / turn)
    return seconds


def table(seconds: dict[str, list[float]], n: int, turn: int) -> str:
    base = np.array(seconds["chapter"])
    lines = [
        "### The MNIST chapter's step: kernels and bookkeeping",
        "",
        f"784-{HIDDEN}-10, learning rate {LEARNING_RATE}, one image per step, the first {n:,} "
        f"training images in turns of {turn:,}; median over the turns. Produced by "
        "`python benchmarks/mnist_step.py --data-dir DIR`.",
        "",
        "| loop | µs per step | ratio to the chapter's loop |",
        "| --- | --- | --- |",
    ]
    for name, label in LOOPS.items():
        per = np.array(seconds[name])
        lines.append(f"| {label} | {np.median(per) * 1e6:.1f} | {np.median(per / base):.2f} |")
    lines += [
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_DIR), help="the MNIST folder")
    parser.add_argument("--samples", type=int, default=60_000, help="training images to use")
    parser.add_argument("--turn", type=int, default=3_000, help="images per turn of a loop")
    parser.add_argument("--out", default=str(HERE / "results" / "mnist_step.md"))
    args = parser.parse_args(argv)
    if args.data_dir is None:
        parser.error(f"give --data-dir DIR or set ${ENV_DIR}")
    if not 0 < args.turn <= args.samples:
        parser.error("--turn must be positive and at most --samples")
    train, _ = load_mnist(args.data_dir, args.samples, 1)
    text = table(measure(train.inputs, train.targets, args.turn), len(train), args.turn)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
