"""al.save / al.load: .npz round trips, and refusals of anything else."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.layers import Linear, Sequential, Tanh


def test_round_trip_keeps_names_values_and_dtypes(tmp_path):
    state = {
        "w": np.arange(6.0).reshape(2, 3),
        "b32": np.array([1.5, -2.0], dtype=np.float32),
        "count": np.array(7),
        "0.weight": al.Tensor([[1.0, 2.0]]),
    }
    path = tmp_path / "weights.npz"
    al.save(state, path)
    loaded = al.load(path)
    assert list(loaded) == list(state)
    for k, v in state.items():
        want = np.asarray(v)
        np.testing.assert_array_equal(loaded[k], want)
        assert loaded[k].dtype == want.dtype
    with np.load(path, allow_pickle=False) as npz:  # an ordinary .npz
        np.testing.assert_array_equal(npz["w"], state["w"])


def test_writes_exactly_at_the_path(tmp_path):
    al.save({"a": np.ones(2)}, tmp_path / "model.weights")
    assert os.listdir(tmp_path) == ["model.weights"]
    assert al.load(str(tmp_path / "model.weights"))["a"].shape == (2,)


def test_module_state_round_trip(tmp_path):
    net = Sequential(Linear(3, 4, rng=0), Tanh(), Linear(4, 2, rng=1))
    al.save(net.state_dict(), tmp_path / "net.npz")
    other = Sequential(Linear(3, 4, rng=5), Tanh(), Linear(4, 2, rng=6))
    other.load_state_dict(al.load(tmp_path / "net.npz"))
    x = np.ones((2, 3))
    np.testing.assert_array_equal(other(x).data, net(x).data)


def test_reads_numpy_savez_files(tmp_path):
    np.savez(tmp_path / "np.npz", x=np.eye(2))
    np.testing.assert_array_equal(al.load(tmp_path / "np.npz")["x"], np.eye(2))


def test_bad_state_is_refused_before_writing(tmp_path):
    path = tmp_path / "keep.npz"
    al.save({"a": np.ones(2)}, path)
    with pytest.raises(TypeError, match="'bad'"):
        al.save({"a": np.zeros(2), "bad": np.array(["x"])}, path)
    with pytest.raises(TypeError, match="strings"):
        al.save({1: np.zeros(2)}, path)
    with pytest.raises(TypeError, match="'obj'"):
        al.save({"obj": np.array([{}, 1], dtype=object)}, path)
    with pytest.raises(TypeError, match="mapping"):
        al.save([np.zeros(2)], path)
    np.testing.assert_array_equal(al.load(path)["a"], np.ones(2))  # the old file is intact
    assert sorted(os.listdir(tmp_path)) == ["keep.npz"]  # no temporary left behind


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    al.save({"w": np.random.default_rng(0).normal(size=(50, 50))}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"w\.npz.*(truncated|not an \.npz)"):
        al.load(path)


def test_corrupted_member_is_refused(tmp_path):
    path = tmp_path / "w.npz"
    al.save({"w": np.zeros((20, 20))}, path)
    data = bytearray(path.read_bytes())
    i = data.index(b"\x00" * 64, 200)  # inside the array's bytes
    data[i : i + 8] = b"\x01" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"w\.npz"):
        al.load(path)


def test_not_a_zip_is_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello, not an archive")
    with pytest.raises(ValueError, match=r"notes\.npz.*not an \.npz"):
        al.load(text)
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match=r"not an \.npz"):
        al.load(npy)


def test_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"not \.npy"):
        al.load(path)
    empty = tmp_path / "empty.npz"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(ValueError, match="nothing"):
        al.load(empty)


def test_npy_member_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "fake.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", "not really npy")
    with pytest.raises(ValueError, match="'x'"):
        al.load(path)


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, ok=np.ones(2), evil=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="object array under 'evil'"):
        al.load(path)


def test_non_numeric_arrays_are_refused(tmp_path):
    path = tmp_path / "strings.npz"
    buf = io.BytesIO()
    np.savez(buf, names=np.array(["a", "b"]))
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="non-numeric"):
        al.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz"):
        al.load(tmp_path / "nothing.npz")
