"""``save`` and ``load``: state dicts as NumPy ``.npz`` archives, never pickle.

The file is an ordinary ``.npz`` (a zip archive of ``.npy`` members), readable by
``np.load(path, allow_pickle=False)``. It is written to a temporary file beside ``path`` and
moved into place, so an interrupted save never leaves a half-written file under ``path``.
``load`` refuses, with a ``ValueError`` naming the file and the problem, anything that is not such
an archive: a truncated or corrupted file, another kind of zip archive, object (pickled) or
non-numeric arrays.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
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


def load(path: PathLike) -> dict[str, np.ndarray]:
    """Read a ``.npz`` archive written by :func:`save` (or ``np.savez``) into ``{name: array}``.

    Raises ``FileNotFoundError`` if ``path`` does not exist and ``ValueError`` (naming the file)
    if it is not a complete ``.npz`` archive of numeric arrays.
    """
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
    result: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(target) as zf:
            names = zf.namelist()
            foreign = [n for n in names if not n.endswith(".npy")]
            if foreign or not names:
                what = f"members that are not .npy arrays: {foreign[:3]}" if foreign else "nothing"
                raise ValueError(f"load: {target} is a zip archive holding {what}; not an .npz")
        with np.load(target, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arr = npz[key]
                except ValueError as exc:
                    if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                        raise ValueError(
                            f"load: {target} holds an object array under {key!r}; refused, "
                            "since reading it would run pickle"
                        ) from None
                    raise ValueError(f"load: {target}: member {key!r} is damaged: {exc}") from None
                if not isinstance(arr, np.ndarray):
                    raise ValueError(f"load: {target}: member {key!r} is not a NumPy array")
                if arr.dtype.kind not in "biufc":
                    raise ValueError(
                        f"load: {target}: member {key!r} has non-numeric dtype {arr.dtype}"
                    )
                result[key] = arr
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ValueError(f"load: {target} is damaged or truncated ({exc})") from None
    return result
