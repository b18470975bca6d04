"""micrograd's demo, in autograd_lite: a 2-16-16-1 MLP separates two moons.

The data are two interleaved half circles with Gaussian noise, made with NumPy (seeded). The
loss is micrograd's: the max-margin (hinge) loss mean(max(0, 1 − yᵢ sᵢ)) over the scores sᵢ,
with labels yᵢ = ±1, plus the L2 penalty α Σ p². Training is 100 steps of plain gradient
descent written by hand, with a learning rate decaying from 1.0 to 0.1, as in micrograd::

    with al.no_grad():
        for p in model.parameters():
            p -= lr * p.grad

(the in-place ``-=`` writes into each parameter's array; outside ``no_grad()`` it would be
refused). Every step is full-batch, so the run is deterministic.

Run: ``python examples/micrograd_demo.py`` (well under a second).
"""

from __future__ import annotations

import sys

import numpy as np

import autograd_lite as al
from autograd_lite.layers import Linear, ReLU, Sequential


def two_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points ``(n, 2)`` on two interleaved half circles, labels ``(n,)`` in {−1, +1}.

    The upper moon is (cos t, sin t) and the lower one (1 − cos t, ½ − sin t), t ∈ [0, π],
    each point moved by N(0, noise²) in both coordinates.
    """
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t[:n_upper]), np.sin(t[:n_upper])], axis=1)
    lower = np.stack([1 - np.cos(t[n_upper:]), 0.5 - np.sin(t[n_upper:])], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.ones(n_upper), -np.ones(n - n_upper)])
    return x, y


def uniform_pm1(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """micrograd's initialisation: every weight from U(−1, 1) (biases start at 0)."""
    return rng.uniform(-1.0, 1.0, shape)


def build(seed: int = 0) -> Sequential:
    """2 → 16 (ReLU) → 16 (ReLU) → 1 score."""
    rng = np.random.default_rng(seed)

    def layer(n_in: int, n_out: int) -> Linear:
        return Linear(n_in, n_out, init=uniform_pm1, rng=rng)

    return Sequential(layer(2, 16), ReLU(), layer(16, 16), ReLU(), layer(16, 1))


def loss_and_accuracy(
    model: Sequential, x: np.ndarray, y: np.ndarray, alpha: float = 1e-4
) -> tuple[al.Tensor, float]:
    r"""Hinge loss mean(max(0, 1 − y s)) + α Σ p², and the fraction with sign(s) = y."""
    scores = model(x).reshape(-1)
    hinge = (1 - al.Tensor(y) * scores).relu().mean()
    penalty = sum((p * p).sum() for p in model.parameters())
    accuracy = float(np.mean((scores.data > 0) == (y > 0)))
    return hinge + alpha * penalty, accuracy


def main(quick: bool = False, steps: int = 100) -> float:
    """Train for ``steps`` steps, print the loss now and then, and return the accuracy."""
    x, y = two_moons()
    model = build()
    accuracy = 0.0
    for k in range(steps):
        loss, accuracy = loss_and_accuracy(model, x, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        with al.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        if k % 20 == 0 or k == steps - 1:
            print(f"step {k:>3}: loss {loss.item():.4f}, accuracy {accuracy:.0%}")
    _, accuracy = loss_and_accuracy(model, x, y)
    print(f"training accuracy after {steps} steps: {accuracy:.0%}")
    assert accuracy >= 0.99, accuracy
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
