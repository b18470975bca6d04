r"""Loaders for MNIST from the user's own copy: IDX files (gzipped or not) and the tutorial's CSV.

The package does not bundle MNIST; point :func:`load_mnist` at a folder that holds the four IDX
files, or :func:`load_mnist_csv` at one of the tutorial's CSV files. Both return the same
:class:`~autograd_lite.data.Digits` records as :func:`autograd_lite.data.load_digits`, scaled as in
the tutorial's MNIST chapter:

- inputs: x ↦ x · 0.99/255 + 0.01, so pixel 0..255 becomes 0.01..1.00;
- targets: one-hot, 0.01 for "no" and 0.99 for "yes".

IDX (LeCun's format): a big-endian header ``0x00 0x00 <type> <ndim>`` (the *magic number*;
2051 = ``0x00000803`` for the unsigned-byte 3-D image files, 2049 = ``0x00000801`` for the 1-D
label files), then ``ndim`` big-endian 32-bit sizes, then the items. A file whose magic number,
sizes or length do not agree is refused with a ``ValueError`` naming the file and the problem.
"""

from __future__ import annotations

import gzip
import io
import zlib
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .data import Digits, one_hot

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "MNIST_FILES",
    "find_mnist_files",
    "load_mnist",
    "load_mnist_csv",
    "read_idx",
    "scale_mnist",
]

StrPath = str | PathLike[str]

IMAGES_MAGIC = 0x00000803  #: 2051: unsigned bytes, 3 dimensions (n × rows × columns)
LABELS_MAGIC = 0x00000801  #: 2049: unsigned bytes, 1 dimension (n)

#: IDX type code → big-endian NumPy dtype
_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The file stems looked for in a folder, for each part (the official names first, then the
#: ``train-images.idx3-ubyte`` spelling some mirrors use); each with or without ``.gz``.
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: StrPath) -> bytes:
    """Read the file's bytes, decompressed if it is gzipped (told by its first two bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: damaged or truncated gzip data ({exc})") from None


def read_idx(path: StrPath, magic: int | None = None) -> np.ndarray:
    r"""Read the array stored in one IDX file, gzipped or not, in native byte order.

    Parameters
    ----------
    path
        The file. Gzip compression is recognised by content, not by the name.
    magic
        The magic number the file must have (e.g. :data:`IMAGES_MAGIC` = 2051 or
        :data:`LABELS_MAGIC` = 2049); ``None`` accepts any valid IDX header.

    Returns
    -------
    An array of the header's shape and type (``uint8`` for MNIST).

    Raises
    ------
    ValueError
        Naming the file, when the header is short or not IDX, the magic number is not the
        expected one, or the data are shorter or longer than the sizes in the header say.
    """
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise ValueError(f"{path}: truncated: {len(buf)} bytes, too short for an IDX header")
    found = int.from_bytes(buf[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(
            f"{path}: wrong magic number {found} (0x{found:08x}); expected {magic} "
            f"(0x{magic:08x}, {_describe(magic)})"
        )
    type_code, ndim = buf[2], buf[3]
    if buf[:2] != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{path}: not an IDX file: magic number {found} (0x{found:08x}) is not "
            "0x0000TTDD with a known type TT and DD ≥ 1 dimensions"
        )
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(
            f"{path}: truncated: the header needs {header} bytes for {ndim} sizes, "
            f"the file has {len(buf)}"
        )
    shape = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(buf) - header
    if have != expected:
        what = "truncated" if have < expected else "longer than its header says"
        raise ValueError(
            f"{path}: {what}: the header promises shape {shape} = {expected} bytes of data, "
            f"the file has {have}"
        )
    array = np.frombuffer(buf, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _describe(magic: int) -> str:
    if magic == IMAGES_MAGIC:
        return "an IDX file of images"
    if magic == LABELS_MAGIC:
        return "an IDX file of labels"
    return "IDX"


def scale_mnist(pixels: np.ndarray) -> np.ndarray:
    r"""Scale grey levels 0..255 as the tutorial does: x ↦ x · 0.99/255 + 0.01 (float64)."""
    return np.asarray(pixels, dtype=np.float64) * (0.99 / 255) + 0.01


def _check_labels(labels: np.ndarray, name: str) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = int(np.flatnonzero((labels < 0) | (labels > 9))[0])
        raise ValueError(f"{name}: labels must lie in 0..9; item {bad} is {labels[bad]}")
    return labels.astype(np.int64)


def _record(pixels: np.ndarray, labels: np.ndarray) -> Digits:
    return Digits(scale_mnist(pixels), labels, one_hot(labels))


def _limit(n: int | None, name: str) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"load_mnist: {name} must be None or a positive integer, got {n!r}")
    return int(n)


def find_mnist_files(data_dir: StrPath) -> dict[str, Path]:
    """Find the paths of the four MNIST IDX files in ``data_dir``, keyed as :data:`MNIST_FILES`.

    Each part may be named ``train-images-idx3-ubyte`` or ``train-images.idx3-ubyte`` (and so
    on), with or without ``.gz``. A missing folder or file is a ``FileNotFoundError`` that lists
    the names looked for.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist or is not a folder")
    found: dict[str, Path] = {}
    missing: list[str] = []
    for part, stems in MNIST_FILES.items():
        names = [stem + ext for stem in stems for ext in (".gz", "")]
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        if path is None:
            missing.append(f"{stems[0]}[.gz] (or {stems[1]}[.gz])")
        else:
            found[part] = path
    if missing:
        raise FileNotFoundError(
            f"MNIST folder {folder} lacks " + ", ".join(missing) + "; it needs the four IDX "
            "files of the MNIST database"
        )
    return found


def _load_part(images_path: Path, labels_path: Path, n: int | None) -> Digits:
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"MNIST counts disagree: {images_path} holds {images.shape[0]} images, "
            f"{labels_path} holds {labels.shape[0]} labels"
        )
    labels = _check_labels(labels, str(labels_path))
    if n is not None:
        images, labels = images[:n], labels[:n]
    return _record(images.reshape(images.shape[0], -1), labels)


def load_mnist(
    data_dir: StrPath, n_train: int | None = None, n_test: int | None = None
) -> tuple[Digits, Digits]:
    r"""MNIST from the four IDX files in ``data_dir``, scaled as in the tutorial.

    Parameters
    ----------
    data_dir
        The folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (or the
        ``train-images.idx3-ubyte`` spelling), each gzipped (``.gz``) or not.
    n_train, n_test
        Keep only the first ``n_train`` training and ``n_test`` test samples (``None``: all).

    Returns
    -------
    ``(train, test)``: two :class:`~autograd_lite.data.Digits` with ``inputs`` (n, 784) =
    x · 0.99/255 + 0.01, integer ``labels`` (n,) and one-hot ``targets`` (n, 10) of 0.01/0.99.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the files is missing.
    ValueError
        If a file is not IDX, has the wrong magic number or a length that disagrees with its
        header, if images and labels differ in number, or a label is not a digit.
    """
    n_train, n_test = _limit(n_train, "n_train"), _limit(n_test, "n_test")
    paths = find_mnist_files(data_dir)
    train = _load_part(paths["train_images"], paths["train_labels"], n_train)
    test = _load_part(paths["test_images"], paths["test_labels"], n_test)
    if train.inputs.shape[1] != test.inputs.shape[1]:
        raise ValueError(
            f"MNIST image sizes disagree: {train.inputs.shape[1]} pixels per training image, "
            f"{test.inputs.shape[1]} per test image"
        )
    return train, test


def load_mnist_csv(path: StrPath, n: int | None = None, n_pixels: int = 784) -> Digits:
    r"""One of the tutorial's MNIST CSV files (``mnist_train.csv``, ``mnist_test.csv``).

    Each line is a label 0..9 followed by ``n_pixels`` grey levels 0..255, comma-separated;
    the file may be gzipped. ``n`` keeps the first ``n`` lines. Returns a
    :class:`~autograd_lite.data.Digits` scaled as :func:`load_mnist` scales the IDX files.

    Raises
    ------
    ValueError
        Naming the file, when it is empty, a line has another number of columns or a value that
        is not a number, a grey level lies outside 0..255 or a label outside 0..9.
    """
    n = _limit(n, "n")
    text = _read_bytes(path).decode("ascii", errors="replace")
    if not text.strip():
        raise ValueError(f"{path}: no data (empty file)")
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2, max_rows=n)
    except ValueError as exc:
        raise ValueError(
            f"{path}: not the tutorial's MNIST CSV layout (label, then {n_pixels} grey levels "
            f"per line): {exc}"
        ) from None
    if table.shape[0] == 0:
        raise ValueError(f"{path}: no data (empty file)")
    if table.shape[1] != n_pixels + 1:
        raise ValueError(
            f"{path}: expected {n_pixels + 1} columns (label, then {n_pixels} grey levels), "
            f"got {table.shape[1]}"
        )
    whole = np.isfinite(table) & (table == np.round(table))
    if not whole.all():
        row = int(np.flatnonzero(~whole.all(axis=1))[0])
        raise ValueError(f"{path}: line {row + 1}: labels and grey levels must be whole numbers")
    pixels, labels = table[:, 1:], table[:, 0].astype(np.int64)
    out_of_range = (pixels < 0) | (pixels > 255)
    if out_of_range.any():
        row = int(np.flatnonzero(out_of_range.any(axis=1))[0])
        raise ValueError(f"{path}: line {row + 1}: grey levels must lie in 0..255")
    if labels.min() < 0 or labels.max() > 9:
        row = int(np.flatnonzero((labels < 0) | (labels > 9))[0])
        raise ValueError(f"{path}: line {row + 1}: the label must lie in 0..9, got {labels[row]}")
    return _record(pixels, labels)
