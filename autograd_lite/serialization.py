"""``save`` and ``load``: state dicts as NumPy ``.npz`` archives, never pickle.

The file is an ordinary ``.npz`` (a zip archive of ``.npy`` members), readable by
``np.load(path, allow_pickle=False)``. It is written to a temporary file beside ``path`` and
moved into place, so an interrupted save never leaves a half-written file under ``path``.
``load`` refuses, with a ``ValueError`` naming the file and the problem, anything that is not such
an archive: a truncated or corrupted file, another kind of zip archive, object (pickled) or
non-numeric arrays, a member whose header declares more data than it holds, and arrays that
would together take more than ``max_bytes`` of memory (by default max(64 MiB, 100 × the file's
size): a compressed archive cannot expand without limit). Every member's header is checked
before any array is read.
"""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["load", "save"]

PathLike = str | os.PathLike[str]


def _numeric(key: str, value: Any) -> np.ndarray:
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"save: {key!r} holds dtype {arr.dtype}; only numeric arrays can be saved")
    return arr


#: Default cap of :func:`load`: the arrays may take max(this, ``_EXPANSION`` × file size) bytes.
DEFAULT_MAX_BYTES = 64 * 2**20
_EXPANSION = 100


def _check_key(key: str) -> None:
    """Refuse a key that would not survive as a zip member name.

    It must hold no NUL (zip readers cut the name there), be valid UTF-8, and be short enough
    for the name field (65,535 bytes with the ``.npy`` suffix).
    """
    if "\x00" in key:
        raise ValueError(
            f"save: key {key!r} contains a NUL character, which a zip name cannot hold"
        )
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"save: key {key!r} is not valid Unicode text") from None
    if size + 4 > 0xFFFF:
        raise ValueError(f"save: key of {size} bytes is too long (at most 65,531 bytes)")


def save(state_dict: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state_dict`` (names → arrays or Tensors) to ``path`` as a ``.npz`` archive.

    The file is written exactly at ``path`` (no suffix is added). Keys must be non-empty strings;
    values must be numeric. Everything is checked before the file is touched.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"save: expected a mapping of names to arrays, got {type(state_dict).__name__}"
        )
    arrays: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}")
        _check_key(key)
        arrays[key] = _numeric(key, value)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {target} is a folder; give a file path")
    fd, tmp = tempfile.mkstemp(prefix=".autograd_lite-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
            for key, arr in arrays.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, arr, allow_pickle=False)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _header(target: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Check member ``info``'s ``.npy`` header without reading its data.

    Return the bytes of data it declares. Object, non-numeric and over-declared arrays are
    refused.
    """
    key = info.filename[:-4]
    with zf.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        except ValueError as exc:
            raise ValueError(f"load: {target}: member {key!r} is damaged: {exc}") from None
        start = member.tell()
    if dtype.hasobject:
        raise ValueError(
            f"load: {target} holds an object array under {key!r}; refused, since reading it "
            "would run pickle"
        )
    if dtype.kind not in "biufc":
        raise ValueError(f"load: {target}: member {key!r} has non-numeric dtype {dtype}")
    declared = math.prod(shape) * dtype.itemsize
    held = info.file_size - start
    if declared > held:
        raise ValueError(
            f"load: {target}: member {key!r} declares shape {shape} of {dtype} ({declared:,} "
            f"bytes) but holds {held:,} bytes; the file is damaged or forged"
        )
    return declared


def load(path: PathLike, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Read a ``.npz`` archive written by :func:`save` (or ``np.savez``) into ``{name: array}``.

    Each member ``NAME.npy`` becomes the key ``NAME``. ``max_bytes`` caps the memory the arrays
    may take together (default: max(64 MiB, 100 × the file's size), which an archive of stored,
    uncompressed arrays never reaches); raise it to read a highly compressed archive.

    Raises ``FileNotFoundError`` if ``path`` does not exist and ``ValueError`` (naming the file)
    if it is not a complete ``.npz`` archive of numeric arrays within the cap.
    """
    _check_cap(max_bytes)
    target = os.fspath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(f"load: {target} is a folder, not an .npz file")
    if not os.path.isfile(target):
        raise FileNotFoundError(f"load: no such file: {target}")
    if not zipfile.is_zipfile(target):
        raise ValueError(
            f"load: {target} is not an .npz archive (not a zip file, or truncated); "
            "it may be a .npy, a pickle or a partial download"
        )
    if max_bytes is None:
        max_bytes = max(DEFAULT_MAX_BYTES, _EXPANSION * os.path.getsize(target))
    try:
        with zipfile.ZipFile(target) as zf:
            infos = zf.infolist()
            _check_members(target, zf, infos, max_bytes)
            return {info.filename[:-4]: _read_member(target, zf, info) for info in infos}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, zlib.error) as exc:
        raise ValueError(f"load: {target} is damaged or truncated ({exc})") from None
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or an unknown compression
        raise ValueError(f"load: {target} cannot be read: {exc}") from None


def _check_cap(max_bytes: Any) -> None:
    """Refuse a ``max_bytes`` that is neither ``None`` nor an int ≥ 0."""
    if max_bytes is not None and (
        isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer))
    ):
        raise TypeError(f"load: max_bytes must be an int or None, got {max_bytes!r}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"load: max_bytes must be >= 0, got {max_bytes}")


def _check_members(
    target: str, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], max_bytes: int
) -> None:
    """Check, before reading any data, that the members are distinct ``.npy`` arrays.

    Their declared sizes must add up to at most ``max_bytes``.
    """
    names = [i.filename for i in infos]
    foreign = [n for n in names if not n.endswith(".npy")]
    if foreign:
        raise ValueError(
            f"load: {target} is a zip archive holding members that are not .npy "
            f"arrays: {foreign[:3]}; not an .npz"
        )
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"load: {target} holds the member {twice[0]!r} twice")
    total = sum(_header(target, zf, info) for info in infos)
    if total > max_bytes:
        raise ValueError(
            f"load: {target} would expand to {total:,} bytes of arrays, more than "
            f"max_bytes={max_bytes:,}; pass a larger max_bytes if the file is trusted"
        )


def _read_member(target: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """Read member ``info``'s array (never a pickle)."""
    with zf.open(info) as member:
        try:
            arr: np.ndarray = np.lib.format.read_array(member, allow_pickle=False)
        except ValueError as exc:
            key = info.filename[:-4]
            raise ValueError(f"load: {target}: member {key!r} is damaged: {exc}") from None
    return arr
