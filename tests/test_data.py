"""The bundled digits: shapes, scaling, targets, and a deterministic split."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from autograd_lite.data import (
    Digits,
    load_digits,
    one_hot,
    read_digits,
    scale_pixels,
    split_indices,
)


def test_raw_file_as_documented():
    pixels, labels = read_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    assert pixels.dtype.kind == "i" and labels.dtype.kind == "i"
    assert pixels.min() == 0 and pixels.max() == 16
    assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels).min() >= 170  # every digit well represented
    # the first row of the file
    assert list(pixels[0, :8]) == [0, 0, 5, 13, 9, 1, 0, 0] and labels[0] == 0
    assert labels[1] == 1


def test_split_sizes_types_and_scaling():
    train, test = load_digits()
    assert isinstance(train, Digits) and len(train) == 1347 and len(test) == 450
    assert train.inputs.shape == (1347, 64) and test.inputs.shape == (450, 64)
    assert train.targets.shape == (1347, 10) and test.labels.shape == (450,)
    assert train.labels.dtype.kind == "i"
    for part in (train, test):
        assert part.inputs.min() == pytest.approx(0.01) and part.inputs.max() == pytest.approx(0.99)
        assert set(np.unique(part.targets)) == {0.01, 0.99}
        np.testing.assert_array_equal(part.targets.argmax(1), part.labels)
        np.testing.assert_array_equal((part.targets == 0.99).sum(1), 1)


def test_scaling_formula():
    np.testing.assert_allclose(scale_pixels(np.array([0, 8, 16])), [0.01, 0.5, 0.99])
    full = load_digits(split=False)
    pixels, _ = read_digits()
    np.testing.assert_allclose(full.inputs, 0.01 + 0.98 * pixels / 16)


def test_split_is_a_seeded_partition():
    full = load_digits(split=False)
    train_idx, test_idx = split_indices(1797, 450, seed=0)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    np.testing.assert_array_equal(np.union1d(train_idx, test_idx), np.arange(1797))
    train, test = load_digits(seed=0)
    np.testing.assert_array_equal(train.inputs, full.inputs[train_idx])
    np.testing.assert_array_equal(test.labels, full.labels[test_idx])
    again, _ = load_digits(seed=0)
    np.testing.assert_array_equal(again.inputs, train.inputs)
    other, _ = load_digits(seed=1)
    assert not np.array_equal(other.labels, train.labels)
    small_train, small_test = load_digits(test_size=100)
    assert len(small_train) == 1697 and len(small_test) == 100


def test_split_and_one_hot_arguments():
    with pytest.raises(ValueError, match="test_size"):
        split_indices(10, 10)
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=0)
    with pytest.raises(ValueError, match="labels"):
        one_hot(np.array([0, 10]))
    with pytest.raises(TypeError, match="integer"):
        one_hot(np.array([0.5]))
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3, 0, 1), [[0, 0, 1], [1, 0, 0]])


def test_read_digits_checks_a_users_file(tmp_path):
    path = tmp_path / "bad.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="65 columns"):
        read_digits(path)
    good = tmp_path / "good.csv.gz"
    with gzip.open(good, "wt") as f:
        f.write(",".join(["3"] * 64 + ["7"]) + "\n")
    pixels, labels = read_digits(good)
    assert pixels.shape == (1, 64) and labels.tolist() == [7]
    with gzip.open(path, "wt") as f:
        f.write(",".join(["17"] * 64 + ["7"]) + "\n")
    with pytest.raises(ValueError, match=r"0\.\.16"):
        read_digits(path)
