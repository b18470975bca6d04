"""The command line: ``python -m autograd_lite {train, gradcheck}`` (or ``autograd-lite``).

``train`` trains the tutorial's network on the bundled handwritten digits and prints the test
accuracy and the confusion matrix; ``gradcheck`` checks every built-in op against finite
differences (it is provided by :mod:`autograd_lite.testing.cli`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["build_parser", "main"]

DEFAULTS = {"hidden": 100, "lr": 1.0, "epochs": 30, "batch_size": 1, "seed": 0, "bias": 1.0}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m autograd_lite``."""
    return _parsers()[0]


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lite",
        description="autograd_lite: small, exact reverse-mode autodiff on NumPy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train",
        help="train the tutorial's network on the bundled handwritten digits",
        description=(
            "Train the tutorial's 64-H-10 sigmoid network (bias nodes, truncated-normal "
            "weights, E = ½ Σ (t − o)², plain SGD along the true gradient) on 1,347 of the "
            "bundled 1,797 UCI digits, then report accuracy on the other 450."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--hidden", type=int, default=DEFAULTS["hidden"], help="hidden nodes")
    train.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="SGD learning rate")
    train.add_argument(
        "--epochs", type=int, default=DEFAULTS["epochs"], help="passes over the data"
    )
    train.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS["batch_size"],
        help="samples per step (1 = online SGD as in the tutorial; the error is summed over a "
        "batch, so larger batches take larger steps: lower --lr with them)",
    )
    train.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS["seed"],
        help="seed of the initial weights and the shuffling",
    )
    train.add_argument("--split-seed", type=int, default=0, help="seed of the train/test split")
    train.add_argument(
        "--bias",
        type=float,
        default=DEFAULTS["bias"],
        help="value of the bias node (0: no bias node)",
    )
    train.add_argument(
        "--update",
        choices=("gradient", "tutorial"),
        default="gradient",
        help="the true gradient, or the tutorial's original rule (not the gradient)",
    )
    train.add_argument(
        "--plot", metavar="DIR", help="write loss.png and confusion.png to DIR (needs matplotlib)"
    )
    train.add_argument("--save", metavar="PATH", help="save the trained weights (.npz) to PATH")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub.add_parser(
        "gradcheck",
        help="check every built-in op against finite differences",
        add_help=False,
    )
    return parser, train


def _check_train_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.hidden < 1:
        parser.error("--hidden must be a positive integer")
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer")
    if args.batch_size < 1:
        parser.error("--batch-size must be a positive integer")
    if not math.isfinite(args.lr) or args.lr <= 0:
        parser.error("--lr must be a positive, finite number")
    if not math.isfinite(args.bias):
        parser.error("--bias must be a finite number")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'autograd_lite[plot]'")
        if os.path.exists(args.plot) and not os.path.isdir(args.plot):
            parser.error(f"--plot: {args.plot} exists and is not a folder")
    if args.save is not None:
        folder = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(folder):
            parser.error(f"--save: folder {folder} does not exist")


class _Progress:
    """A tqdm bar over epochs on stderr, or one line per epoch if tqdm is not installed."""

    def __init__(self, epochs: int, enabled: bool) -> None:
        self.epochs, self.enabled, self.bar = epochs, enabled, None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=epochs, desc="training", unit="epoch", file=sys.stderr)

    def update(self, epoch: int, loss: float, accuracy: float) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", train_acc=f"{accuracy:.3f}", refresh=False)
            self.bar.update(1)
        else:
            print(
                f"epoch {epoch}/{self.epochs}  loss {loss:.4f}  train accuracy {accuracy:.3f}",
                file=sys.stderr,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_confusion(cm: np.ndarray) -> str:
    """The confusion matrix as text: rows are the true digit, columns the predicted one."""
    n = cm.shape[0]
    width = max(3, len(str(int(cm.max()))) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}}" for j in range(n))
    rows = [f"{i:>9}" + "".join(f"{int(v):>{width}}" for v in cm[i]) for i in range(n)]
    return "\n".join([head, *rows])


def _plot(folder: str, losses: list[float], cm: np.ndarray, accuracy: float) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, "loss.png"), os.path.join(folder, "confusion.png")]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(losses) + 1), losses, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean ½ Σ (t − o)² per sample")
    ax.set_title("training loss")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(
            j,
            i,
            str(v),
            ha="center",
            va="center",
            color="white" if v > cm.max() / 2 else "black",
            fontsize=8,
        )
    ax.set_xticks(range(cm.shape[1]))
    ax.set_yticks(range(cm.shape[0]))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"test confusion matrix (accuracy {accuracy:.3f})")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    return paths


def train_command(args: argparse.Namespace) -> int:
    """Run ``train`` with parsed arguments; prints the results and returns 0."""
    from . import serialization
    from .data import load_digits
    from .tutorial import NeuralNetwork

    train, test = load_digits(seed=args.split_seed)  # type: ignore[misc]
    net = NeuralNetwork(
        64, 10, args.hidden, args.lr, bias=args.bias or None, update=args.update, rng=args.seed
    )
    rng = np.random.default_rng(args.seed)
    n, bs = len(train.labels), args.batch_size
    losses: list[float] = []
    progress = _Progress(args.epochs, not args.no_progress)
    start = time.perf_counter()
    try:
        for epoch in range(1, args.epochs + 1):
            order = rng.permutation(n)
            total = 0.0
            if bs == 1:
                inputs, targets = train.inputs, train.targets
                for i in order:
                    total += net.train(inputs[i], targets[i])
            else:
                for k in range(0, n, bs):
                    idx = order[k : k + bs]
                    total += net.train(train.inputs[idx], train.targets[idx])
            losses.append(total / n)
            if not math.isfinite(losses[-1]):
                progress.close()
                print(
                    f"error: the loss became {losses[-1]} in epoch {epoch}; lower --lr",
                    file=sys.stderr,
                )
                return 1
            train_acc = net.evaluate(train.inputs, train.labels)[0] / n
            progress.update(epoch, losses[-1], train_acc)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    corrects, wrongs = net.evaluate(test.inputs, test.labels)
    total_test = corrects + wrongs
    accuracy = corrects / total_test
    cm = net.confusion_matrix(test.inputs, test.labels)
    print(
        f"trained 64-{args.hidden}-10 for {args.epochs} epochs "
        f"(lr {args.lr:g}, batch size {bs}, bias {args.bias:g}, update {args.update}) "
        f"in {seconds:.1f} s"
    )
    print(f"train accuracy: {net.evaluate(train.inputs, train.labels)[0] / n:.3f}")
    print(f"test accuracy: {accuracy:.3f} ({corrects}/{total_test})")
    print("confusion matrix (rows: true digit, columns: predicted):")
    print(format_confusion(cm))
    if args.plot is not None:
        for path in _plot(args.plot, losses, cm, accuracy):
            print(f"wrote {path}")
    if args.save is not None:
        serialization.save(net.state_dict(), args.save)
        print(f"saved weights to {args.save}")
    return 0


def gradcheck_command(argv: Sequence[str]) -> int:
    """Hand ``argv`` to :func:`autograd_lite.testing.cli.main`."""
    try:
        from .testing import cli
    except ImportError as exc:
        print(f"error: the gradcheck command is not available ({exc})", file=sys.stderr)
        return 2
    result: Any = cli.main(list(argv))
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m autograd_lite`` and ``autograd-lite``; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] == "gradcheck":
        return gradcheck_command(args_list[1:])
    parser, train_parser = _parsers()
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return 0
        _check_train_args(train_parser, args)
    except SystemExit as exc:  # argparse's --help and its errors (printed, status 2)
        return exc.code if isinstance(exc.code, int) else 2
    return train_command(args)


if __name__ == "__main__":
    sys.exit(main())
