"""The tutorial's network, trained on the bundled handwritten digits.

Builds ``NeuralNetwork(64, 10, 100, ...)`` with bias nodes, trains it by online SGD along the
true gradient, and reports the test accuracy and the confusion matrix; then trains the same
network with the tutorial's original update rule (not the gradient) for comparison.

Run: ``python examples/tutorial_network.py`` (about 10 s), or ``--quick``.
"""

from __future__ import annotations

import sys

import numpy as np

from autograd_lite.data import load_digits
from autograd_lite.tutorial import NeuralNetwork


def fit(update: str, epochs: int, seed: int = 0) -> NeuralNetwork:
    """Train a 64-100-10 network on the training digits; one sample per step, as the tutorial."""
    train, _ = load_digits(seed=0)
    net = NeuralNetwork(64, 10, 100, learning_rate=1.0, bias=1, update=update, rng=seed)
    order_rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for i in order_rng.permutation(len(train)):
            net.train(train.inputs[i], train.targets[i])
    return net


def main(quick: bool = False) -> float:
    """Train both ways, print what they reach, and return the gradient network's test accuracy."""
    epochs = 2 if quick else 30
    _, test = load_digits(seed=0)
    results = {}
    for update in ("gradient", "tutorial"):
        net = fit(update, epochs)
        corrects, wrongs = net.evaluate(test.inputs, test.labels)
        results[update] = corrects / (corrects + wrongs)
        print(f"{update:>8} update, {epochs} epochs: test accuracy {results[update]:.3f}")
        if update == "gradient":
            print(net.confusion_matrix(test.inputs, test.labels))
    assert results["gradient"] >= (0.85 if quick else 0.97), results
    return results["gradient"]


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
