"""The command line: ``python -m autograd_lite {train, gradcheck}`` (or ``autograd-lite``).

``train`` trains the tutorial's network on the bundled handwritten digits (or, with
``--data mnist --data-dir DIR``, on the user's copy of MNIST) and prints the test accuracy and the
confusion matrix; ``gradcheck`` checks every built-in op against finite
differences (it is provided by :mod:`autograd_lite.testing.cli`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .data import Digits
    from .layers import Sequential
    from .tutorial import NeuralNetwork

__all__ = ["build_parser", "main"]

DEFAULTS = {"hidden": 100, "lr": 1.0, "epochs": 30, "batch_size": 1, "seed": 0, "bias": 1.0}
#: Where ``--data mnist`` differs: the tutorial's MNIST chapter (784-100-10, η = 0.1, no bias).
MNIST_DEFAULTS = {"lr": 0.1, "epochs": 1, "bias": 0.0}
#: Where ``--model cnn`` differs: Adam's learning rate, and batches of 32 (see ``_train_cnn``).
CNN_DEFAULTS = {"lr": 0.01, "epochs": 15, "bias": 0.0, "batch_size": 32}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except ``None`` (options whose default depends on ``--data``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``python -m autograd_lite``."""
    return _parsers()[0]


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """Build the parser and its ``train`` sub-parser (whose errors ``main`` reports)."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lite",
        description="autograd_lite: small, exact reverse-mode autodiff on NumPy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser(
        "train",
        help="train the tutorial's network on the bundled handwritten digits or on MNIST",
        description=(
            "Train the tutorial's 64-H-10 sigmoid network (bias nodes, truncated-normal "
            "weights, E = ½ Σ (t − o)², plain SGD along the true gradient) on 1,347 of the "
            "bundled 1,797 UCI digits, then report accuracy on the other 450. With --data mnist "
            "--data-dir DIR: the tutorial's MNIST chapter instead (784-H-10, no bias node, "
            "lr 0.1, 1 epoch by default; 60,000 training and 10,000 test images read from DIR)."
        ),
        formatter_class=_HelpFormatter,
    )
    _add_data_options(train)
    _add_training_options(train)
    _add_output_options(train)
    train.add_argument(
        "--model",
        choices=("tutorial", "cnn"),
        default="tutorial",
        help="the tutorial's network, or a small CNN on the digits (two 3×3 convolutions with "
        "ReLU and 2×2 max-pooling, then a linear layer; cross-entropy and Adam; by default lr "
        "0.01, 15 epochs and batches of 32 when --batch-size is left at 1)",
    )
    sub.add_parser(
        "gradcheck",
        help="check every built-in op against finite differences",
        add_help=False,
    )
    return parser, train


def _add_data_options(train: argparse.ArgumentParser) -> None:
    """Add ``train``'s options that choose the data and the network's size."""
    train.add_argument(
        "--data",
        choices=("digits", "mnist"),
        default="digits",
        help="the bundled UCI digits, or MNIST read from --data-dir",
    )
    train.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the four MNIST IDX files (train-images-idx3-ubyte[.gz], "
        "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; "
        "the train-images.idx3-ubyte spelling is accepted too)",
    )
    train.add_argument("--hidden", type=int, default=DEFAULTS["hidden"], help="hidden nodes")


def _add_training_options(train: argparse.ArgumentParser) -> None:
    """Add ``train``'s options that set the learning: rate, epochs, batches, seeds, bias, rule."""
    train.add_argument(
        "--lr", type=float, help="SGD learning rate (default: 1 for digits, 0.1 for mnist)"
    )
    train.add_argument(
        "--epochs", type=int, help="passes over the data (default: 30 for digits, 1 for mnist)"
    )
    train.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULTS["batch_size"],
        help="samples per step (1 = online SGD as in the tutorial; the error is summed over a "
        "batch, so larger batches take larger steps: lower --lr with them, e.g. to lr / batch "
        "size; left at its default, --lr draws a warning)",
    )
    train.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS["seed"],
        help="seed of the initial weights and the shuffling",
    )
    train.add_argument(
        "--split-seed", type=int, default=0, help="seed of the train/test split (digits)"
    )
    train.add_argument(
        "--bias",
        type=float,
        help="value of the bias node, 0: no bias node (default: 1 for digits, 0 for mnist)",
    )
    train.add_argument(
        "--update",
        choices=("gradient", "tutorial"),
        default="gradient",
        help="the true gradient, or the tutorial's original rule (not the gradient)",
    )


def _add_output_options(train: argparse.ArgumentParser) -> None:
    """Add ``train``'s options for what it writes: plots, weights, the progress bar."""
    train.add_argument(
        "--plot", metavar="DIR", help="write loss.png and confusion.png to DIR (needs matplotlib)"
    )
    train.add_argument("--save", metavar="PATH", help="save the trained weights (.npz) to PATH")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument(
        "--compile",
        action="store_true",
        help="train the tutorial's network through al.compile (traced once, then replayed)",
    )


def _physical_memory() -> int | None:
    """Bytes of memory in this machine, where the platform says (else ``None``)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _check_train_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill in the defaults that depend on ``--data`` and ``--model``, then check every option.

    A bad option ends the program through ``parser.error`` (status 2), before any training.
    """
    if args.model == "cnn" and args.data != "digits":
        parser.error("--model cnn trains on the bundled 8×8 digits only (--data digits)")
    if args.compile and (args.model == "cnn" or args.update != "gradient"):
        parser.error("--compile trains the tutorial's network by the gradient (--update gradient)")
    _apply_defaults(args)
    _check_data(parser, args)
    _check_numbers(parser, args)
    _check_outputs(parser, args)


def _apply_defaults(args: argparse.Namespace) -> None:
    """Set the options left out to their defaults for the data and model chosen.

    Warns when batches are summed at the per-sample learning rate, which trains to chance.
    """
    defaults = MNIST_DEFAULTS if args.data == "mnist" else DEFAULTS
    if args.model == "cnn":
        defaults = CNN_DEFAULTS
        if args.batch_size == DEFAULTS["batch_size"]:
            args.batch_size = CNN_DEFAULTS["batch_size"]
    if args.model != "cnn" and args.batch_size > 1 and args.lr is None:  # (Adam's mean loss)
        lr = defaults["lr"]
        print(
            f"warning: --batch-size {args.batch_size} keeps the per-sample learning rate "
            f"{lr:g}; the error is summed over a batch, so each step is {args.batch_size} times "
            f"larger (on the digits this trains to chance); pass --lr, e.g. --lr "
            f"{lr / args.batch_size:.3g}",
            file=sys.stderr,
        )
    for name in ("lr", "epochs", "bias"):
        if getattr(args, name) is None:
            setattr(args, name, defaults[name])


def _check_data(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check the data options, and that the network's weights fit in this machine's memory."""
    if args.data == "mnist":
        if args.data_dir is None:
            parser.error("--data mnist needs --data-dir DIR, the folder with the MNIST IDX files")
        from .mnist import find_mnist_files

        try:
            find_mnist_files(args.data_dir)
        except FileNotFoundError as exc:
            parser.error(f"--data-dir: {exc}")
    elif args.data_dir is not None:
        parser.error("--data-dir is only used with --data mnist")
    if args.hidden < 1:
        parser.error("--hidden must be a positive integer")
    n_in = 784 if args.data == "mnist" else 64
    need = 3 * 8 * args.hidden * (n_in + 12)  # the weights, their gradient, the update
    have = _physical_memory()
    if need > (have or 2**40):
        limit = f"this machine has {have / 1e9:,.1f} GB" if have else "more than 1 TB"
        parser.error(
            f"--hidden {args.hidden} would need about {need / 1e9:,.1f} GB for the "
            f"{n_in}-{args.hidden}-10 network's weights ({limit}); use fewer hidden nodes"
        )


def _check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check the seeds, epochs, batch size, learning rate and bias value."""
    for name in ("seed", "split_seed"):
        if getattr(args, name) < 0:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} must be a non-negative integer, got {getattr(args, name)}")
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer")
    if args.batch_size < 1:
        parser.error("--batch-size must be a positive integer")
    if not math.isfinite(args.lr) or args.lr <= 0:
        parser.error("--lr must be a positive, finite number")
    if not math.isfinite(args.bias):
        parser.error("--bias must be a finite number")


def _check_outputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check that ``--plot`` can draw and ``--save`` can write where they are told."""
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
        if os.path.isdir(args.save):
            parser.error(f"--save: {args.save} is a folder; give a file path such as weights.npz")


class _Progress:
    """Report training progress on stderr.

    A tqdm bar over the training samples (its rate in samples per second), labelled with the
    epoch under way; or one line per finished epoch with the rate, when stderr is not a terminal
    (a log file gets lines, not one long line of bar updates) or tqdm is not installed.
    """

    def __init__(self, epochs: int, samples_per_epoch: int, enabled: bool) -> None:
        self.epochs, self.enabled, self.bar = epochs, enabled, None
        self.epoch_start = time.perf_counter()
        if enabled and getattr(sys.stderr, "isatty", lambda: False)():
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(
                    total=epochs * samples_per_epoch,
                    desc=f"epoch 1/{epochs}",
                    unit=" samples",
                    unit_scale=True,
                    file=sys.stderr,
                )

    def advance(self, samples: int) -> None:
        """Count ``samples`` more training samples as used."""
        if self.bar is not None:
            self.bar.update(samples)

    def update(self, epoch: int, loss: float, accuracy: float, samples: int) -> None:
        """Report the end of ``epoch``, which took ``samples`` samples."""
        if not self.enabled:
            return
        now = time.perf_counter()
        rate = samples / max(now - self.epoch_start, 1e-9)
        self.epoch_start = now
        if self.bar is not None:  # the label names the epoch now under way
            self.bar.set_description(f"epoch {min(epoch + 1, self.epochs)}/{self.epochs}", False)
            self.bar.set_postfix_str(f"epoch {epoch}: loss {loss:.4f}, train acc {accuracy:.3f}")
        else:
            print(
                f"epoch {epoch}/{self.epochs}  loss {loss:.4f}  train accuracy {accuracy:.3f}  "
                f"{rate:,.0f} samples/s",
                file=sys.stderr,
            )

    def close(self) -> None:
        """Close the bar, if there is one (closing twice is harmless)."""
        if self.bar is not None:
            self.bar.close()


def format_confusion(cm: np.ndarray) -> str:
    """Format the confusion matrix as text: rows are the true digit, columns the predicted one."""
    n = cm.shape[0]
    width = max(3, len(str(int(cm.max()))) + 1)
    head = "true\\pred" + "".join(f"{j:>{width}}" for j in range(n))
    rows = [f"{i:>9}" + "".join(f"{int(v):>{width}}" for v in cm[i]) for i in range(n)]
    return "\n".join([head, *rows])


def _plot(folder: str, losses: list[float], cm: np.ndarray, accuracy: float) -> list[str]:
    """Write loss.png and confusion.png to ``folder``; return their paths."""
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
    """Run ``train`` with parsed arguments; print the results and return the exit status."""
    from .data import load_digits
    from .tutorial import NeuralNetwork

    if args.model == "cnn":
        return _train_cnn(args)
    if args.data == "mnist":
        from .mnist import load_mnist

        try:
            train, test = load_mnist(args.data_dir)
        except (OSError, ValueError) as exc:
            print(f"error: cannot read MNIST: {exc}", file=sys.stderr)
            return 2
    else:
        train, test = load_digits(seed=args.split_seed)
    n_in = train.inputs.shape[1]
    net = NeuralNetwork(
        n_in,
        10,
        args.hidden,
        args.lr,
        bias=args.bias or None,
        update=args.update,
        rng=args.seed,
        compiled=args.compile,
    )
    n, bs = len(train.labels), args.batch_size
    start = time.perf_counter()
    losses = _tutorial_epochs(net, train, args)
    if losses is None:
        return 1
    seconds = time.perf_counter() - start
    corrects, wrongs = net.evaluate(test.inputs, test.labels)
    total_test = corrects + wrongs
    rate = args.epochs * n / seconds
    accuracy = corrects / total_test
    cm = net.confusion_matrix(test.inputs, test.labels)
    print(
        f"trained {n_in}-{args.hidden}-10 on {args.data} for {args.epochs} "
        f"epoch{'s' if args.epochs != 1 else ''} "
        f"(lr {args.lr:g}, batch size {bs}, bias {args.bias:g}, update {args.update}) "
        f"in {seconds:.1f} s ({rate:,.0f} samples/s)"
    )
    print(f"train accuracy: {net.evaluate(train.inputs, train.labels)[0] / n:.3f}")
    print(f"test accuracy: {accuracy:.3f} ({corrects}/{total_test})")
    return _finish(args, losses, cm, accuracy, net.state_dict())


def _tutorial_epochs(
    net: NeuralNetwork, train: Digits, args: argparse.Namespace
) -> list[float] | None:
    """Train ``net`` for ``args.epochs`` epochs over the shuffled samples.

    Each step takes one sample, or a batch of ``args.batch_size``. Return each epoch's mean loss
    per sample, or ``None`` (after saying so) when the loss stops being finite.
    """
    rng = np.random.default_rng(args.seed)
    n, bs = len(train.labels), args.batch_size
    inputs, targets = train.inputs, train.targets
    losses: list[float] = []
    progress = _Progress(args.epochs, n, not args.no_progress)
    chunk = max(bs, 500 // bs * bs)  # samples between progress-bar updates
    try:
        for epoch in range(1, args.epochs + 1):
            order = rng.permutation(n)
            total = 0.0
            for k0 in range(0, n, chunk):
                part = order[k0 : k0 + chunk]
                if bs == 1:
                    for i in part:
                        total += net.train(inputs[i], targets[i])
                else:
                    for k in range(0, len(part), bs):
                        idx = part[k : k + bs]
                        total += net.train(inputs[idx], targets[idx])
                progress.advance(len(part))
            losses.append(total / n)
            if _diverged(progress, losses[-1], epoch):
                return None
            train_acc = net.evaluate(train.inputs, train.labels)[0] / n
            progress.update(epoch, losses[-1], train_acc, n)
    finally:
        progress.close()
    return losses


def _diverged(progress: _Progress, loss: float, epoch: int) -> bool:
    """Return whether ``loss`` is no longer finite; if so, close the bar and say so."""
    if math.isfinite(loss):
        return False
    progress.close()
    print(f"error: the loss became {loss} in epoch {epoch}; lower --lr", file=sys.stderr)
    return True


def _finish(
    args: argparse.Namespace,
    losses: list[float],
    cm: np.ndarray,
    accuracy: float,
    state: dict[str, np.ndarray],
) -> int:
    """End ``train``: print the confusion matrix, then the plots and the weights if asked."""
    from . import serialization

    print("confusion matrix (rows: true digit, columns: predicted):")
    print(format_confusion(cm))
    if args.plot is not None:
        for path in _plot(args.plot, losses, cm, accuracy):
            print(f"wrote {path}")
    if args.save is not None:
        serialization.save(state, args.save)
        print(f"saved weights to {args.save}")
    return 0


def _train_cnn(args: argparse.Namespace) -> int:
    """Run ``train --model cnn``; print what ``train`` prints and return the exit status."""
    import autograd_lite as al

    from .data import load_digits

    train, test = load_digits(seed=args.split_seed)
    net = _cnn(np.random.default_rng(args.seed))

    def predict(inputs: np.ndarray) -> np.ndarray:
        with al.no_grad():
            return np.asarray(net(inputs.reshape(-1, 1, 8, 8)).data.argmax(axis=1))

    n, bs = len(train.labels), args.batch_size
    start = time.perf_counter()
    losses = _cnn_epochs(net, train, args, predict)
    if losses is None:
        return 1
    seconds = time.perf_counter() - start
    predicted = predict(test.inputs)
    corrects = int((predicted == test.labels).sum())
    accuracy = corrects / len(test.labels)
    cm = np.zeros((10, 10), dtype=np.int64)
    np.add.at(cm, (test.labels, predicted), 1)
    print(
        f"trained the CNN on digits for {args.epochs} epoch{'s' if args.epochs != 1 else ''} "
        f"(Adam lr {args.lr:g}, batch size {bs}) in {seconds:.1f} s "
        f"({args.epochs * n / seconds:,.0f} samples/s)"
    )
    print(f"train accuracy: {np.mean(predict(train.inputs) == train.labels):.3f}")
    print(f"test accuracy: {accuracy:.3f} ({corrects}/{len(test.labels)})")
    return _finish(args, losses, cm, accuracy, net.state_dict())


def _cnn(gen: np.random.Generator) -> Sequential:
    """Build the CNN: 1×8×8 → conv 16 → relu → pool → conv 32 → relu → pool → linear 10."""
    from . import layers

    return layers.Sequential(
        layers.Conv2d(1, 16, 3, padding=1, rng=gen), layers.ReLU(), layers.MaxPool2d(2),
        layers.Conv2d(16, 32, 3, padding=1, rng=gen), layers.ReLU(), layers.MaxPool2d(2),
        layers.Flatten(), layers.Linear(128, 10, rng=gen),
    )  # fmt: skip


def _cnn_epochs(
    net: Sequential,
    train: Digits,
    args: argparse.Namespace,
    predict: Callable[[np.ndarray], np.ndarray],
) -> list[float] | None:
    """Train the CNN with Adam on the mean cross-entropy of shuffled batches.

    Return each epoch's mean loss per sample, or ``None`` (after saying so) when the loss
    stops being finite.
    """
    import autograd_lite as al

    from .optim import Adam

    opt = Adam(net.parameters(), lr=args.lr)
    shuffle = np.random.default_rng(args.seed + 1)  # as examples/cnn_digits.py does
    x = train.inputs.reshape(-1, 1, 8, 8)
    n, bs = len(train.labels), args.batch_size
    losses: list[float] = []
    progress = _Progress(args.epochs, n, not args.no_progress)
    try:
        for epoch in range(1, args.epochs + 1):
            order = shuffle.permutation(n)
            total = 0.0
            for k in range(0, n, bs):
                idx = order[k : k + bs]
                loss = al.cross_entropy(net(x[idx]), train.labels[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
                progress.advance(len(idx))
            losses.append(total / n)
            if _diverged(progress, losses[-1], epoch):
                return None
            progress.update(
                epoch, losses[-1], float(np.mean(predict(train.inputs) == train.labels)), n
            )
    finally:
        progress.close()
    return losses


def gradcheck_command(argv: Sequence[str]) -> int:
    """Hand ``argv`` to :func:`autograd_lite.testing.cli.main`."""
    try:
        from .testing import cli
    except ImportError as exc:
        print(f"error: the gradcheck command is not available ({exc})", file=sys.stderr)
        return 2
    try:
        result: Any = cli.main(list(argv))
    except SystemExit as exc:  # argparse's --help and its errors (printed, status 2)
        return exc.code if isinstance(exc.code, int) else 2
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
