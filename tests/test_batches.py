"""``al.data.batches``: aligned mini-batches."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.data import batches


def test_batches_are_aligned_slices_in_order_and_the_last_may_be_shorter():
    x, y = np.arange(14).reshape(7, 2), np.arange(7) * 10
    out = list(batches(x, y, batch_size=3))
    assert [len(b[0]) for b in out] == [3, 3, 1]
    for xb, yb in out:
        np.testing.assert_array_equal(xb[:, 0] // 2 * 10, yb)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in out]), y)
    assert all(isinstance(b, tuple) and len(b) == 2 for b in out)
    (only,) = batches(y, batch_size=10)  # one batch of everything
    np.testing.assert_array_equal(only[0], y)


def test_shuffled_batches_cover_every_row_once_and_a_seed_repeats_them():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    first = list(batches(x, y, batch_size=4, shuffle=True, seed=3))
    again = list(batches(x, y, batch_size=4, shuffle=True, seed=3))
    seen = np.concatenate([yb for _, yb in first])
    assert sorted(seen) == list(range(10)) and not np.array_equal(seen, y)
    for (xa, ya), (xb, yb) in zip(first, again, strict=True):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa[:, 0] // 2, ya)


def test_tensors_are_sliced_as_tensors_and_lists_become_arrays():
    t = al.Tensor(np.ones((5, 2)), requires_grad=True)
    (tb, lb), _ = list(batches(t, [1, 2, 3, 4, 5], batch_size=4))
    assert isinstance(tb, al.Tensor) and tb.requires_grad and tb.shape == (4, 2)
    np.testing.assert_array_equal(lb, [1, 2, 3, 4])


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((np.ones(3), np.ones(4)), {"batch_size": 2}, ValueError, r"first dimensions differ"),
        ((np.ones(3),), {"batch_size": 0}, ValueError, "at least 1"),
        ((np.ones(3),), {"batch_size": 1.5}, TypeError, "must be an integer"),
        ((np.float64(1.0),), {"batch_size": 1}, ValueError, "first dimension"),
        ((), {"batch_size": 1}, TypeError, "at least one array"),
    ],
)
def test_bad_arguments_are_refused_when_called(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        batches(*args, **kwargs)  # no next(): the check happens at the call
