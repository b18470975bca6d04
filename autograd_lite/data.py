r"""The bundled handwritten digits, and mini-batches of aligned arrays.

The digits are scaled and split the way the tutorial prepares MNIST; :func:`batches` cuts any
aligned arrays into mini-batches.

The data are the UCI "Optical Recognition of Handwritten Digits" test set (1,797 8×8 images,
pixel counts 0..16; E. Alpaydin and C. Kaynak, 1998; CC BY 4.0, see ``datasets/README.md``).

Scaling, following the tutorial's MNIST chapter:

- inputs: x ↦ 0.01 + 0.98 · x / 16, so every pixel lies in [0.01, 0.99] (the tutorial writes
  x · 0.99/255 + 0.01 for MNIST, which reaches 1.00; we keep the range symmetric with the
  targets, so no input is exactly 0 and no weight update vanishes because of one);
- targets: one-hot vectors with 0.01 for "no" and 0.99 for "yes", since a sigmoid output can
  reach neither 0 nor 1.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from importlib import resources
from os import PathLike
from typing import Any, Literal, NamedTuple, overload

import numpy as np

from .tensor import Tensor

__all__ = [
    "DIGITS_TEST_SIZE",
    "Digits",
    "batches",
    "load_digits",
    "one_hot",
    "read_digits",
    "scale_pixels",
    "split_indices",
]

DIGITS_TEST_SIZE = 450  #: held-out digits in the default split (1,347 train / 450 test)
_N_PIXELS = 64
_MAX_PIXEL = 16


class Digits(NamedTuple):
    """One set of digits, as three aligned arrays.

    ``inputs`` (n, 64) in [0.01, 0.99], integer ``labels`` (n,), and one-hot ``targets``
    (n, 10) holding 0.01 and 0.99.
    """

    inputs: np.ndarray
    labels: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        """Return n, the number of digits (not the tuple's 3 fields)."""
        return len(self.labels)


def read_digits(path: str | PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read the raw digits: pixel counts (1797, 64) int64 in 0..16, labels (1797,) in 0..9.

    ``path`` defaults to the copy bundled with the package; any gzipped CSV of the same layout
    (64 pixel columns then the label) may be given instead.
    """
    if path is None:
        source = resources.files("autograd_lite").joinpath("datasets", "digits.csv.gz")
        with source.open("rb") as raw, gzip.open(raw, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
        name = "the bundled digits.csv.gz"
    else:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
        name = str(path)
    if table.shape[1] != _N_PIXELS + 1:
        raise ValueError(f"{name}: expected 65 columns (64 pixels, 1 label), got {table.shape[1]}")
    if not np.array_equal(table, np.round(table)):
        raise ValueError(f"{name}: pixels and labels must be whole numbers")
    table = table.astype(np.int64)
    pixels, labels = table[:, :_N_PIXELS], table[:, _N_PIXELS]
    if pixels.min() < 0 or pixels.max() > _MAX_PIXEL:
        raise ValueError(f"{name}: pixel counts must lie in 0..16")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{name}: labels must lie in 0..9")
    return np.ascontiguousarray(pixels), np.ascontiguousarray(labels)


def scale_pixels(pixels: np.ndarray, max_value: float = _MAX_PIXEL) -> np.ndarray:
    r"""Map pixel counts 0..``max_value`` onto [0.01, 0.99]: x ↦ 0.01 + 0.98 · x / max_value."""
    return 0.01 + 0.98 * np.asarray(pixels, dtype=np.float64) / max_value


def one_hot(
    labels: np.ndarray, n_classes: int = 10, low: float = 0.01, high: float = 0.99
) -> np.ndarray:
    """Targets ``(n, n_classes)``: ``high`` in each label's column, ``low`` elsewhere."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: labels must be a 1-D integer array, got {labels.dtype} "
            f"of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {n_classes})")
    targets = np.full((labels.size, n_classes), low, dtype=np.float64)
    targets[np.arange(labels.size), labels] = high
    return targets


def split_indices(n: int, test_size: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` at random, seeded: ``(train indices, test indices)``, each sorted.

    The same ``seed`` gives the same split on every platform (NumPy's ``default_rng``).
    """
    if not 0 < test_size < n:
        raise ValueError(f"split: test_size must lie strictly between 0 and {n}, got {test_size}")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[test_size:]), np.sort(order[:test_size])


def _subset(pixels: np.ndarray, labels: np.ndarray) -> Digits:
    return Digits(scale_pixels(pixels), labels, one_hot(labels))


@overload
def load_digits(
    test_size: int = ..., seed: int | None = ..., split: Literal[True] = ...
) -> tuple[Digits, Digits]: ...
@overload
def load_digits(
    test_size: int = ..., seed: int | None = ..., *, split: Literal[False]
) -> Digits: ...
@overload
def load_digits(
    test_size: int = ..., seed: int | None = ..., split: bool = ...
) -> tuple[Digits, Digits] | Digits: ...
def load_digits(
    test_size: int = DIGITS_TEST_SIZE, seed: int | None = 0, split: bool = True
) -> tuple[Digits, Digits] | Digits:
    """Load the bundled digits, scaled, with one-hot targets; by default split into train and test.

    Parameters
    ----------
    test_size
        How many digits to hold out (default 450, leaving 1,347 for training).
    seed
        Seed of the random split (``None``: a fresh split each call).
    split
        ``False`` returns all 1,797 digits in file order as one :class:`Digits`.

    Returns
    -------
    ``(train, test)``, two :class:`Digits` with fields ``inputs``, ``labels``, ``targets``.

    Examples
    --------
    >>> train, test = load_digits(seed=0)
    >>> train.inputs.shape, test.targets.shape
    ((1347, 64), (450, 10))
    """
    pixels, labels = read_digits()
    if not split:
        return _subset(pixels, labels)
    train_idx, test_idx = split_indices(len(labels), int(test_size), seed)
    return _subset(pixels[train_idx], labels[train_idx]), _subset(
        pixels[test_idx], labels[test_idx]
    )


def batches(
    *arrays: Any, batch_size: int, shuffle: bool = False, seed: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """Mini-batches: tuples of aligned slices ``(a[idx], b[idx], ...)`` of ``arrays``.

    All arrays must have the same first dimension n (else ``ValueError``); the batches take
    rows ``0..batch_size-1``, ``batch_size..``, ..., the last one possibly shorter. With
    ``shuffle`` the rows are taken in a random order (NumPy's ``default_rng(seed)``: the same
    seed gives the same batches; ``None`` a fresh order each call). Arrays stay arrays (without
    shuffling the batches are views) and Tensors are indexed as Tensors. The arguments are
    checked when ``batches`` is called, not on the first batch.

    Examples
    --------
    >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [len(yb) for _, yb in batches(x, y, batch_size=2)]
    [2, 2, 1]
    """
    if not arrays:
        raise TypeError("batches: give at least one array")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batches: batch_size must be an integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}")
    items = [a if isinstance(a, (Tensor, np.ndarray)) else np.asarray(a) for a in arrays]
    shapes = [a.shape for a in items]
    if any(len(s) == 0 for s in shapes):
        raise ValueError(f"batches: every array needs a first dimension; shapes {shapes}")
    n = shapes[0][0]
    if any(s[0] != n for s in shapes):
        raise ValueError(f"batches: the arrays' first dimensions differ; shapes {shapes}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else None
    return _batches(items, n, int(batch_size), order)


def _batches(
    items: list[Any], n: int, size: int, order: np.ndarray | None
) -> Iterator[tuple[Any, ...]]:
    for start in range(0, n, size):
        idx: Any = slice(start, start + size) if order is None else order[start : start + size]
        yield tuple(a[idx] for a in items)
