"""A network of your own: 64-32-16-10 with tanh and ReLU, cross-entropy and Adam.

Everything the tutorial's class does by hand is here in the open: a ``Sequential`` of layers,
mini-batches, ``cross_entropy`` on the raw scores (logits), ``backward()`` and ``Adam``.

Run: ``python examples/custom_network.py`` (a few seconds), or ``--quick``.
"""

from __future__ import annotations

import sys

import numpy as np

import autograd_lite as al
from autograd_lite.data import load_digits
from autograd_lite.layers import Dropout, Linear, ReLU, Sequential, Tanh
from autograd_lite.optim import Adam


def build(seed: int = 0) -> Sequential:
    """64 → 32 (tanh, Xavier init) → 16 (ReLU, He init) → 10 logits."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Linear(64, 32, init="xavier", rng=rng),
        Tanh(),
        Dropout(0.1, rng=rng),
        Linear(32, 16, init="he", rng=rng),
        ReLU(),
        Linear(16, 10, init="xavier", rng=rng),
    )


def main(quick: bool = False) -> float:
    """Train; every few epochs print the epoch's mean training loss (over all its samples: the
    last mini-batch alone is noisy) and the test accuracy; return the final accuracy."""
    train, test = load_digits(seed=0)
    net = build()
    opt = Adam(net.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    epochs, batch = (3, 32) if quick else (40, 32)
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        net.train()
        order = rng.permutation(len(train))
        total = 0.0
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            loss = al.cross_entropy(net(train.inputs[idx]), train.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)  # the batch's mean loss, times its samples
        net.eval()
        with al.no_grad():
            predicted = net(test.inputs).data.argmax(axis=1)
        accuracy = float(np.mean(predicted == test.labels))
        if epoch % 10 == 0 or epoch == epochs:
            mean_loss = total / len(order)
            print(f"epoch {epoch:>2}: mean loss {mean_loss:.4f}, test accuracy {accuracy:.3f}")
    assert accuracy >= (0.8 if quick else 0.93), accuracy
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
