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


def test_an_empty_state_round_trips(tmp_path):
    # a module without parameters has the state {}; np.savez() writes it as an empty archive
    al.save({}, tmp_path / "none.npz")
    assert al.load(tmp_path / "none.npz") == {}
    np.savez(tmp_path / "numpy.npz")
    assert al.load(tmp_path / "numpy.npz") == {}


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


def test_keys_that_look_like_member_names_or_paths_round_trip(tmp_path):
    state = {
        "a": np.ones(2),
        "a.npy": np.zeros(2),  # np.load's own lookup would hand back "a.npy.npy"'s neighbour
        "a.npy.npy": np.full(2, 2.0),
        "dir/b": np.full(2, 3.0),
        "../up": np.full(2, 4.0),
        "é 😀": np.full(2, 5.0),
        "back\\slash": np.full(2, 6.0),
    }
    al.save(state, tmp_path / "s.npz")
    loaded = al.load(tmp_path / "s.npz")
    assert list(loaded) == list(state)
    for k, v in state.items():
        np.testing.assert_array_equal(loaded[k], v, err_msg=k)


@pytest.mark.parametrize(
    "key, match",
    [("a\x00b", "NUL"), ("\ud800", "not valid Unicode"), ("k" * 65532, "too long")],
)
def test_keys_a_zip_name_cannot_hold_are_refused_before_writing(tmp_path, key, match):
    with pytest.raises(ValueError, match=match):
        al.save({"fine": np.ones(1), key: np.ones(1)}, tmp_path / "s.npz")
    assert os.listdir(tmp_path) == []


def _member(shape: tuple[int, ...], payload: bytes, dtype: str = "<f8") -> bytes:
    """A .npy member whose header declares ``shape`` and ``dtype``, followed by ``payload``."""
    out = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue() + payload


def test_a_header_declaring_more_than_the_member_holds_is_refused(tmp_path):
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("w.npy", _member((2**40,), b"\0" * 16))
    assert path.stat().st_size < 400
    with pytest.raises(
        ValueError, match=r"forged\.npz: member 'w' declares shape \(1099511627776,\)"
    ):
        al.load(path)


def test_a_member_named_twice_is_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as zf:
        zf.writestr("w.npy", _member((1,), b"\0" * 8))
        zf.writestr("w.npy", _member((1,), b"\1" * 8))
    with pytest.raises(ValueError, match=r"holds the member 'w\.npy' twice"):
        al.load(path)


def test_a_compressed_archive_expands_only_up_to_the_cap(tmp_path):
    # 80 MB of zeros deflate to about 80 kB: past the default cap of max(64 MiB, 100 × file)
    path = tmp_path / "bomb.npz"
    n = 10_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("w.npy", "w", force_zip64=True) as member:
            member.write(_member((n,), b""))
            chunk = bytes(1 << 20)
            for _ in range(n * 8 // len(chunk)):
                member.write(chunk)
            member.write(bytes(n * 8 % len(chunk)))
    assert path.stat().st_size < 200_000
    with pytest.raises(ValueError, match=r"bomb\.npz would expand to 80,000,000 bytes.*max_bytes"):
        al.load(path)


def test_max_bytes_caps_and_allows(tmp_path):
    path = tmp_path / "s.npz"
    al.save({"a": np.ones(100), "b": np.ones(100)}, path)  # 1,600 bytes of arrays
    with pytest.raises(ValueError, match="1,600 bytes of arrays, more than max_bytes=1,599"):
        al.load(path, max_bytes=1599)
    assert set(al.load(path, max_bytes=1600)) == {"a", "b"}
    with pytest.raises(TypeError, match="max_bytes must be an int"):
        al.load(path, max_bytes=1.5e9)
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        al.load(path, max_bytes=-1)


def test_load_state_dict_with_the_modules_own_arrays_swapped():
    net = Sequential(Linear(3, 3, rng=0), Tanh(), Linear(3, 3, rng=1))
    first, second = net[0].weight.data.copy(), net[2].weight.data.copy()
    state = {name: p.data for name, p in net.named_parameters()}  # the live arrays, not copies
    state["0.weight"], state["2.weight"] = state["2.weight"], state["0.weight"]
    net.load_state_dict(state)
    np.testing.assert_array_equal(net[0].weight.data, second)
    np.testing.assert_array_equal(net[2].weight.data, first)


def test_load_state_dict_converts_before_checking_finiteness():
    net = Linear(2, 1, rng=0)
    net.weight.data = net.weight.data.astype(np.float32)
    before = net.weight.data.copy()
    state = net.state_dict()
    state["weight"] = np.array([[1e300, 0.0]])  # finite as float64, inf as float32
    with pytest.raises(ValueError, match="'weight' holds values too large for float32"):
        net.load_state_dict(state)
    np.testing.assert_array_equal(net.weight.data, before)
    state["weight"] = np.array([[0.5, -0.25]])
    net.load_state_dict(state)
    assert net.weight.dtype == np.float32 and net.weight.data.tolist() == [[0.5, -0.25]]
