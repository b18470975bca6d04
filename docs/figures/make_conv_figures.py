"""Write ``learned_filters.png``: the 16 first-layer 3×3 filters of the small CNN of
``examples/cnn_digits.py`` after training on the bundled digits (matplotlib, Agg backend).

Usage: ``python docs/figures/make_conv_figures.py [output folder] [--quick]`` (default: this
folder; ``--quick`` trains for one epoch, to test the script fast). About 10 s in full.
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
from autograd_lite.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from autograd_lite.optim import Adam


def train_cnn(epochs: int) -> tuple[Sequential, float]:
    rng = np.random.default_rng(0)
    net = Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Flatten(), Linear(128, 10, rng=rng),
    )  # fmt: skip
    train, test = load_digits(seed=0)
    x = train.inputs.reshape(-1, 1, 8, 8)
    opt = Adam(net.parameters(), lr=0.01)
    for _ in range(epochs):
        order = rng.permutation(len(train))
        for k in range(0, len(order), 32):
            idx = order[k : k + 32]
            loss = al.cross_entropy(net(x[idx]), train.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with al.no_grad():
        scores = net(test.inputs.reshape(-1, 1, 8, 8)).data
    return net, float(np.mean(scores.argmax(axis=1) == test.labels))


def main(folder: Path, quick: bool) -> Path:
    net, accuracy = train_cnn(1 if quick else 15)
    filters = net[0].weight.data[:, 0]  # (16, 3, 3)
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
    lim = float(np.abs(filters).max())
    for ax, f in zip(axes.ravel(), filters):
        ax.imshow(f, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"first-layer 3×3 filters after training (test accuracy {accuracy:.3f})")
    fig.tight_layout()
    path = folder / "learned_filters.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    main(Path(args[0]) if args else Path(__file__).parent, "--quick" in sys.argv)
