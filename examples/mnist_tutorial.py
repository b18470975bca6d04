r"""The tutorial's MNIST chapter, reproduced: 784-100-10, learning rate 0.1, online SGD.

Trains the tutorial's network (no bias nodes, truncated-normal weights, inputs
x · 0.99/255 + 0.01, targets 0.01/0.99) on the 60,000 MNIST training images in file order, one
image per step, as the chapter does, with both update rules of
:class:`~autograd_lite.tutorial.NeuralNetwork`:

- ``update="gradient"``: the true gradient of E = ½ Σ (t − o)², computed by ``backward()``;
- ``update="tutorial"``: the chapter's own rule, which is not the gradient (the hidden error is
  formed from the raw output error and the already-updated W_ho).

The test accuracy on the 10,000 test images is taken after every epoch. Alongside, in the same
run and interleaved epoch by epoch, two hand-written NumPy loops take the same true-gradient
steps over the same samples from the same initial weights: the chapter's own code (with the two
changes that make it the gradient) and a loop over 1-D vectors with ``np.outer``. They give the
times per epoch that the network's are compared with, and a check that ``backward()`` computed
the same steps.

Run::

    python examples/mnist_tutorial.py --data-dir DIR        # or set AUTOGRAD_LITE_MNIST=DIR
    python examples/mnist_tutorial.py --data-dir DIR --quick

DIR holds the four MNIST IDX files (see :func:`autograd_lite.mnist.load_mnist`). The full run
(3 epochs, both rules and the hand-written loop, for each of 5 initial weights) takes several
minutes; it writes a markdown table to ``--out`` (default ``benchmarks/results/mnist.md``,
which the docs' training page includes). ``--quick`` uses the first 3,000 training and 1,000
test images and one seed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograd_lite.data import Digits
from autograd_lite.mnist import load_mnist
from autograd_lite.tutorial import NeuralNetwork

HIDDEN, LEARNING_RATE = 100, 0.1
QUICK_TRAIN, QUICK_TEST = 3000, 1000
ENV_DIR = "AUTOGRAD_LITE_MNIST"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "mnist.md"

#: The targets for the full data: (rule, epochs) → least test accuracy; and the most
#: time per epoch relative to the hand-written loop.
TARGETS = {("gradient", 1): 0.93, ("tutorial", 1): 0.944, ("gradient", 3): 0.96,
           ("tutorial", 3): 0.96}  # fmt: skip
MAX_RATIO = 1.3
#: What a hand-written NumPy version reached (the data's README).
REFERENCE = {("gradient", 1): "0.931", ("tutorial", 1): "0.945–0.947", ("gradient", 3): "0.961",
             ("tutorial", 3): "0.962"}  # fmt: skip
RULES = {"gradient": "true gradient (`update=\"gradient\"`)",
         "tutorial": "the tutorial's rule (`update=\"tutorial\"`)",
         "chapter": "hand-written NumPy, the chapter's code, true gradient",
         "outer": "hand-written NumPy, 1-D vectors and `np.outer`, true gradient"}  # fmt: skip
HAND_LOOPS = ("chapter", "outer")
LOOPS = ("chapter", "gradient", "outer", "tutorial")  # the order of each epoch's runs


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class HandWritten:
    r"""The true-gradient step written out in NumPy, one sample at a time:
    h = σ(W_ih x), o = σ(W_ho h), δ_o = (o − t) o (1 − o), δ_h = (W_ho^T δ_o) h (1 − h),
    W_ho −= η δ_o h^T, W_ih −= η δ_h x^T.

    ``style="chapter"`` writes it as the chapter's ``train`` method does (column vectors,
    ``np.dot`` for the outer products, then the learning rate times the product), with the two
    changes that make it the gradient; ``style="outer"`` uses 1-D vectors and ``np.outer`` of
    the already-scaled δ (one pass less over each weight matrix, but ``np.outer`` is a broadcast
    multiply, slower than ``np.dot``'s BLAS call for the same outer product).
    """

    def __init__(self, wih: np.ndarray, who: np.ndarray, lr: float, style: str) -> None:
        self.wih, self.who, self.lr, self.style = wih.copy(), who.copy(), lr, style

    def epoch(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        (self._chapter if self.style == "chapter" else self._outer)(inputs, targets)

    def _chapter(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        wih, who, lr = self.wih, self.who, self.lr
        for input_vector, target_vector in zip(inputs, targets):
            x = np.array(input_vector, ndmin=2).T
            t = np.array(target_vector, ndmin=2).T
            h = _sigmoid(np.dot(wih, x))
            o = _sigmoid(np.dot(who, h))
            output_errors = (t - o) * o * (1.0 - o)
            hidden_errors = np.dot(who.T, output_errors) * h * (1.0 - h)
            who += lr * np.dot(output_errors, h.T)
            wih += lr * np.dot(hidden_errors, x.T)

    def _outer(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        wih, who, lr = self.wih, self.who, self.lr
        for x, t in zip(inputs, targets):
            h = _sigmoid(wih @ x)
            o = _sigmoid(who @ h)
            d_o = (o - t) * o * (1.0 - o)
            d_h = (who.T @ d_o) * h * (1.0 - h)
            who -= np.outer(lr * d_o, h)
            wih -= np.outer(lr * d_h, x)

    def evaluate(self, data: Digits) -> float:
        o = _sigmoid(_sigmoid(data.inputs @ self.wih.T) @ self.who.T)
        return float(np.mean(np.argmax(o, axis=1) == data.labels))


@dataclass
class Run:
    """Seconds of each training epoch and the test accuracy after it."""

    seconds: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)

    @property
    def per_epoch(self) -> float:
        return float(np.mean(self.seconds))


def network_epoch(net: NeuralNetwork, train: Digits) -> None:
    """One pass over the training set in file order, one sample per step, as the chapter."""
    inputs, targets = train.inputs, train.targets
    for i in range(len(inputs)):
        net.train(inputs[i], targets[i])


def accuracy(net: NeuralNetwork, data: Digits) -> float:
    corrects, wrongs = net.evaluate(data.inputs, data.labels)
    return corrects / (corrects + wrongs)


def experiment(train: Digits, test: Digits, epochs: int, seed: int = 0) -> dict[str, Run]:
    """Both rules and the hand-written loop, interleaved epoch by epoch; returns their runs."""
    nets = {
        rule: NeuralNetwork(784, 10, HIDDEN, LEARNING_RATE, update=rule, rng=seed)
        for rule in ("gradient", "tutorial")
    }
    hands = {
        style: HandWritten(nets["gradient"].wih, nets["gradient"].who, LEARNING_RATE, style)
        for style in HAND_LOOPS
    }
    runs = {name: Run() for name in LOOPS}
    for epoch in range(1, epochs + 1):
        for name in LOOPS:
            start = time.perf_counter()
            if name in hands:
                hands[name].epoch(train.inputs, train.targets)
            else:
                network_epoch(nets[name], train)
            runs[name].seconds.append(time.perf_counter() - start)
            runs[name].accuracy.append(
                hands[name].evaluate(test) if name in hands else accuracy(nets[name], test)
            )
            print(
                f"epoch {epoch}/{epochs}  {name:>8}: test accuracy {runs[name].accuracy[-1]:.4f}"
                f"  {runs[name].seconds[-1]:.1f} s",
                flush=True,
            )
    # backward() took the hand-written loop's steps (up to rounding)
    drift = max(
        float(np.max(np.abs(nets["gradient"].wih - hand.wih)))
        + float(np.max(np.abs(nets["gradient"].who - hand.who)))
        for hand in hands.values()
    )
    print(f"largest difference between the gradient network's and the hand loops' weights: "
          f"{drift:.1e}")  # fmt: skip
    return runs


def _spread(values: list[float]) -> str:
    return f"{min(values):.4f}–{max(values):.4f}" if len(values) > 1 else ""


def table(
    seeds: dict[int, dict[str, Run]], n_train: int, n_test: int, epochs: int, full: bool
) -> str:
    """The results as markdown: accuracies over the seeds, then the times per epoch."""
    shown = sorted({1, epochs})
    k = len(seeds)
    first = min(seeds)
    how = "`python examples/mnist_tutorial.py --data-dir DIR" + (
        "`." if full else " --quick` (a subset: the figures are not the chapter's)."
    )
    lines = [
        "### The tutorial's MNIST chapter, reproduced",
        "",
        f"784-{HIDDEN}-10 sigmoid network, no bias nodes, learning rate {LEARNING_RATE}, online "
        f"SGD over the {n_train:,} training images in file order (as the chapter: no "
        f"shuffling); test accuracy on the {n_test:,} test images. Inputs x · 0.99/255 + 0.01, "
        f"targets 0.01/0.99, the chapter's truncated-normal initial weights drawn with seeds "
        f"{', '.join(map(str, seeds))}. Produced by {how}",
        "",
        f"| update rule | epochs | test accuracy, seed {first} | mean of {k} seeds | "
        "range | hand-written NumPy (data README) | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rule in ("tutorial", "gradient", "chapter", "outer"):
        for e in shown:
            accs = [runs[rule].accuracy[e - 1] for runs in seeds.values()]
            target = TARGETS.get((rule, e))
            lines.append(
                f"| {RULES[rule]} | {e} | {accs[0]:.4f} | {np.mean(accs):.4f} | {_spread(accs)} "
                f"| {REFERENCE.get((rule, e), '') if full else ''} | "
                f"{'≥ ' + format(target, 'g') if target and full else ''} |"
            )
    secs = {name: np.array([s for runs in seeds.values() for s in runs[name].seconds])
            for name in LOOPS}  # fmt: skip
    lines += [
        "",
        f"Time per epoch ({n_train:,} online steps): the mean over {len(secs['outer'])} epochs "
        f"({k} seed{'s' if k > 1 else ''} × {epochs}), all measured in the same run with the "
        "four loops interleaved epoch by epoch, so that every epoch of a network has an epoch "
        "of each hand-written loop next to it. Ratios: of the means, and (in brackets) the "
        "median of the per-epoch ratios.",
        "",
        "| loop | seconds per epoch | steps per second | ratio to the chapter's code "
        "| ratio to the `np.outer` loop |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in LOOPS:
        mean = float(secs[name].mean())
        ratios = [
            f"{mean / secs[base].mean():.2f} ({np.median(secs[name] / secs[base]):.2f})"
            for base in HAND_LOOPS
        ]
        lines.append(
            f"| {RULES[name]} | {mean:.2f} | {n_train / mean:,.0f} | {ratios[0]} | {ratios[1]} |"
        )
    lines += [
        "",
        f"Target: at most {MAX_RATIO}× the hand-written loop. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}.",
        "",
    ]
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(ENV_DIR),
        help=f"folder with the MNIST IDX files (default: ${ENV_DIR})",
    )
    parser.add_argument("--epochs", type=int, default=3, help="epochs per rule (default 3)")
    parser.add_argument(
        "--seeds",
        type=int,
        help="how many initial weights to try, seeds 0, 1, … (default: 5, or 1 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"the first {QUICK_TRAIN:,} training and {QUICK_TEST:,} test images only",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="markdown file to write")
    args = parser.parse_args(argv)
    if args.data_dir is None:
        parser.error(f"give --data-dir DIR (the folder with the MNIST IDX files) or set ${ENV_DIR}")
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer")
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be a positive integer")
    return args


def main(argv: Sequence[str] | None = None, quick: bool = False) -> dict[int, dict[str, Run]]:
    """Run the experiment, write the table, and return the runs of every seed."""
    args = _parse(list(argv) if argv is not None else sys.argv[1:])
    quick = quick or args.quick
    n_seeds = args.seeds or (1 if quick else 5)
    train, test = load_mnist(
        args.data_dir, QUICK_TRAIN if quick else None, QUICK_TEST if quick else None
    )
    seeds = {}
    for seed in range(n_seeds):
        print(f"-- seed {seed}", flush=True)
        seeds[seed] = experiment(train, test, args.epochs, seed)
    text = table(seeds, len(train), len(test), args.epochs, full=not quick)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out}")
    if not quick:
        for (rule, e), least in TARGETS.items():
            if e <= args.epochs:
                got = [runs[rule].accuracy[e - 1] for runs in seeds.values()]
                print(f"{rule}, {e} epochs: mean {np.mean(got):.4f}, lowest {min(got):.4f}; "
                      f"target ≥ {least}")  # fmt: skip
        for base in HAND_LOOPS:
            hand = np.mean([s for runs in seeds.values() for s in runs[base].seconds])
            for rule in ("gradient", "tutorial"):
                secs = np.mean([s for runs in seeds.values() for s in runs[rule].seconds])
                print(f"{rule}: {secs / hand:.2f}× the time per epoch of the {base} hand loop "
                      f"(target ≤ {MAX_RATIO})")  # fmt: skip
    last = [runs[rule].accuracy[-1] for runs in seeds.values() for rule in ("gradient", "tutorial")]
    # both rules learn: far above chance (0.1) even on the quick subset
    assert min(last) > 0.5
    return seeds


if __name__ == "__main__":
    main()
