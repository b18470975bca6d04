"""Write the docs' measured figures (PNG, matplotlib with the Agg backend).

Usage: ``python docs/figures/make_figures.py [output folder] [--quick]`` (default: this folder;
``--quick`` trains for fewer epochs and seeds, to test the script fast). About 30 s in full.

Figures:

- ``eps_sweep.png``: the worst gradient error of the tutorial network against the
  finite-difference step ε (truncation ∝ ε² on the right, rounding ∝ u/ε on the left).
- ``loss_curve.png``: the mean error E per epoch while training the tutorial's 64-100-10 network
  (bias nodes, lr 1.0, online SGD along the true gradient) on the bundled digits.
- ``confusion_matrix.png``: that network's confusion matrix on the 450 held-out digits.
- ``hidden_weights.png``: the first 30 of its hidden nodes' incoming weights (rows of ``wih``),
  each shown as the 8×8 image it responds to.
- ``tutorial_vs_gradient.png``: test accuracy per epoch (lr 0.1 and 0.3, mean of five seeds) for
  the true gradient and for the tutorial's original rule; the table is printed to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import autograd_lite as al
from autograd_lite.data import load_digits
from autograd_lite.testing import eps_sweep
from autograd_lite.tutorial import NeuralNetwork


def eps_sweep_figure(out: Path) -> None:
    """The tutorial network's gradient error against ε."""
    rng = np.random.default_rng(0)
    x = np.array([[0.9], [0.1], [0.5]])
    t = np.array([[0.01], [0.99]])
    wih = al.Tensor(rng.normal(0, 3**-0.5, (4, 3)), requires_grad=True)
    who = al.Tensor(rng.normal(0, 4**-0.5, (2, 4)), requires_grad=True)

    def error(wih: al.Tensor, who: al.Tensor) -> al.Tensor:
        return al.squared_error(al.sigmoid(who @ al.sigmoid(wih @ x)), t)

    sweep = eps_sweep(error, (wih, who))
    sweep.plot(str(out / "eps_sweep.png"))
    print(f"eps_sweep.png: best eps {sweep.best_eps:.0e}")


def train_network(epochs: int) -> tuple[NeuralNetwork, list[float]]:
    """The CLI's default network, trained by online SGD; returns it and the loss per epoch."""
    train, _ = load_digits(seed=0)
    net = NeuralNetwork(64, 10, 100, learning_rate=1.0, bias=1, rng=0)
    order = np.random.default_rng(0)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for i in order.permutation(len(train)):
            total += net.train(train.inputs[i], train.targets[i])
        losses.append(total / len(train))
    return net, losses


def training_figures(out: Path, epochs: int) -> None:
    _, test = load_digits(seed=0)
    net, losses = train_network(epochs)
    corrects, wrongs = net.evaluate(test.inputs, test.labels)
    accuracy = corrects / (corrects + wrongs)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(range(1, epochs + 1), losses, "o-")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean E = ½ Σ (t − o)² per digit")
    ax.set_title(f"training the 64-100-10 network (test accuracy {accuracy:.3f})")
    fig.tight_layout()
    fig.savefig(out / "loss_curve.png", dpi=110)
    plt.close(fig)

    cm = net.confusion_matrix(test.inputs, test.labels)
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.imshow(cm, cmap="Blues")
    for (i, j), n in np.ndenumerate(cm):
        if n:
            colour = "white" if n > cm.max() / 2 else "black"
            ax.text(j, i, str(n), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"confusion matrix, {len(test)} test digits")
    fig.tight_layout()
    fig.savefig(out / "confusion_matrix.png", dpi=110)
    plt.close(fig)

    weights = net.wih[:, :64]  # drop the bias node's column
    fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
    for k, ax in enumerate(axes.ravel()):
        w = weights[k].reshape(8, 8)
        lim = np.abs(w).max()
        ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_axis_off()
    fig.suptitle("incoming weights of hidden nodes 0-29 as 8×8 images (red +, blue −)")
    fig.tight_layout()
    fig.savefig(out / "hidden_weights.png", dpi=110)
    plt.close(fig)
    print(f"loss_curve.png, confusion_matrix.png, hidden_weights.png: accuracy {accuracy:.3f}")


def accuracy_curve(update: str, lr: float, epochs: int, seed: int) -> np.ndarray:
    train, test = load_digits(seed=0)
    net = NeuralNetwork(64, 10, 100, lr, update=update, rng=seed)
    order = np.random.default_rng(seed)
    accuracies = []
    for _ in range(epochs):
        for i in order.permutation(len(train)):
            net.train(train.inputs[i], train.targets[i])
        corrects, wrongs = net.evaluate(test.inputs, test.labels)
        accuracies.append(corrects / (corrects + wrongs))
    return np.array(accuracies)


def comparison_figure(out: Path, epochs: int, seeds: int) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    print(f"test accuracy, mean of {seeds} seeds, epochs 1..{epochs}:")
    for ax, lr in zip(axes, (0.1, 0.3)):
        for update, style in (("gradient", "o-"), ("tutorial", "s--")):
            curves = np.array([accuracy_curve(update, lr, epochs, s) for s in range(seeds)])
            mean = curves.mean(axis=0)
            label = "true gradient" if update == "gradient" else "tutorial's rule"
            ax.plot(range(1, epochs + 1), mean, style, label=label)
            print(f"  lr {lr}  {label:>15}: " + " ".join(f"{a:.3f}" for a in mean))
        ax.set_title(f"learning rate {lr}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "tutorial_vs_gradient.png", dpi=110)
    plt.close(fig)


def main(out: Path, quick: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    eps_sweep_figure(out)
    training_figures(out, epochs=2 if quick else 30)
    comparison_figure(out, epochs=2 if quick else 10, seeds=1 if quick else 5)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    main(Path(args[0]) if args else Path(__file__).parent, quick="--quick" in sys.argv)
