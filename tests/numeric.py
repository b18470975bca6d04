"""Independent central finite differences for the core tests (no autograd_lite code involved)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def numeric_gradient(
    f: Callable[[Sequence[np.ndarray]], float], arrays: Sequence[np.ndarray], i: int, eps: float
) -> np.ndarray:
    """∂f/∂arrays[i] by central differences: (f(x + eps eₖ) − f(x − eps eₖ)) / (2 eps)."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    x = base[i]
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        plus = f(base)
        flat[k] = old - eps
        minus = f(base)
        flat[k] = old
        gflat[k] = (plus - minus) / (2 * eps)
    return grad
