"""A small convolutional network on the bundled 8×8 digits.

Two 3×3 convolutions with ReLU and 2×2 max-pooling see the image as an image (neighbouring
pixels, shared weights), then a linear layer reads the 32 feature maps of 2×2:

    1×8×8 → conv 16 → relu → pool → 16×4×4 → conv 32 → relu → pool → 32×2×2 → linear → 10

trained with Adam on cross-entropy, on the same 1,347 digits the tutorial's network learns from,
and tested on the same 450 (``load_digits(seed=0)``).

Run: ``python examples/cnn_digits.py`` (well under a minute), or ``--quick``.
"""

from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small products: one BLAS thread is fastest on a busy CPU

import numpy as np  # noqa: E402

import autograd_lite as al  # noqa: E402
from autograd_lite.data import load_digits  # noqa: E402
from autograd_lite.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential  # noqa: E402
from autograd_lite.optim import Adam  # noqa: E402


def build(seed: int = 0) -> Sequential:
    """The network above, with PyTorch's default initialisation."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(32 * 2 * 2, 10, rng=rng),
    )


def images(inputs: np.ndarray) -> np.ndarray:
    """Rows of 64 pixels as (N, 1, 8, 8) images."""
    return inputs.reshape(-1, 1, 8, 8)


def accuracy(net: Sequential, inputs: np.ndarray, labels: np.ndarray) -> int:
    """How many images the network labels correctly (evaluated without recording a graph)."""
    with al.no_grad():
        return int((net(images(inputs)).data.argmax(axis=1) == labels).sum())


def main(quick: bool = False) -> float:
    """Train, print the test accuracy, and return it."""
    train, test = load_digits(seed=0)
    net = build()
    opt = Adam(net.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    epochs, batch = (2, 32) if quick else (15, 32)
    x = images(train.inputs)
    for _ in range(epochs):
        order = rng.permutation(len(train))
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            loss = al.cross_entropy(net(x[idx]), train.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    correct = accuracy(net, test.inputs, test.labels)
    score = correct / len(test)
    print(f"test accuracy: {score:.3f} ({correct}/{len(test)})")
    assert score >= (0.8 if quick else 0.985), "the CNN should learn the digits"
    return score


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
