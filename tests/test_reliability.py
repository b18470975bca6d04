"""Never silently wrong: anomaly mode, and arrays that backward needs cannot change under it."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import autograd_lite as al


def test_writing_into_saved_data_is_refused_until_backward():
    w = al.Tensor(np.ones(3), requires_grad=True)
    x = al.Tensor(np.arange(3.0), requires_grad=True)
    loss = (w * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 100.0  # the rule for w reads x
    with pytest.raises(ValueError, match="read-only"):
        w.data -= 1.0  # the rule for x reads w
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])
    w.data -= 1.0  # released: writes are fine again
    x.data[0] = 5.0
    assert w.data[0] == 0.0 and x.data[0] == 5.0


def test_an_input_whose_partner_needs_no_gradient_is_not_locked():
    # y = W x with a constant x: ∂E/∂W = ḡ xᵀ reads x only, so W may change after the forward
    w = al.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = al.Tensor(np.array([1.0, -2.0, 0.5]))
    y = w @ x
    assert w.data.flags.writeable and not x.data.flags.writeable
    w.data[...] = 100.0
    y.backward(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(w.grad.data, np.outer([1.0, 3.0], [1.0, -2.0, 0.5]))
    assert x.data.flags.writeable


def test_small_plain_arrays_are_copied_and_large_ones_locked():
    from autograd_lite._guard import COPY_LIMIT

    w = al.Tensor(np.ones(3), requires_grad=True)
    small = np.array([1.0, 2.0, 3.0])
    loss = (w * small).sum()
    small[0] = 50.0  # the node kept its own copy: the caller's array stays writable
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])  # the values forward saw
    big = np.ones(COPY_LIMIT + 1)
    v = al.Tensor(np.ones(COPY_LIMIT + 1), requires_grad=True)
    loss = (v * big).sum()
    with pytest.raises(ValueError, match="read-only"):
        big[0] = 2.0
    loss.backward()
    big[0] = 2.0


def test_second_order_uses_the_copied_constant():
    # d/dw Σ w² c = 2 w c and d²/dw² = 2 c, with the c that forward saw
    w = al.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    c = np.array([3.0, 0.5])
    loss = (w * w * c).sum()
    c[:] = 100.0
    loss.backward(create_graph=True)
    np.testing.assert_allclose(w.grad.data, [6.0, -2.0])  # 2 w c with c = [3, 0.5]
    g = w.grad
    w.grad = None
    g.sum().backward()
    np.testing.assert_allclose(w.grad.data, [6.0, 1.0])  # 2 c


def test_a_small_plain_target_is_copied_by_the_loss():
    o = al.Tensor(np.array([0.2, 0.9]), requires_grad=True)
    t = np.array([0.0, 1.0])
    loss = al.squared_error(o, t)
    t[:] = 7.0
    loss.backward()
    np.testing.assert_allclose(o.grad.data, [0.2, -0.1])  # o − t with the recorded t


def test_views_are_protected_through_their_base():
    base = np.ones((2, 3))
    w = al.Tensor(base, requires_grad=True)
    x = al.Tensor(np.ones((4, 3)), requires_grad=True)
    loss = (x @ w.T).sigmoid().sum()
    with pytest.raises(ValueError, match="read-only"):
        base[0, 0] = 3.0  # w.T is a view of base; writing through the base is refused too
    loss.backward()
    base[0, 0] = 3.0


def test_recorded_results_are_read_only_and_unrecorded_ones_are_not():
    x = al.Tensor(np.ones(2), requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        y.data[0] = 5.0  # what an op produced while recording is what backward saw
    with al.no_grad():
        z = x * 2
    z.data[0] = 5.0  # nothing recorded: an ordinary array
    assert z.data[0] == 5.0


def test_unused_graph_unlocks_when_it_dies():
    x = al.Tensor(np.ones(2), requires_grad=True)
    y = x * x
    assert not x.data.flags.writeable
    del y
    gc.collect()
    assert x.data.flags.writeable


def test_arrays_shared_by_two_graphs_stay_locked_until_both_release():
    x = al.Tensor(np.ones(2), requires_grad=True)
    a, b = (x * x).sum(), (x * 3 * x).sum()
    a.backward()
    assert not x.data.flags.writeable  # b still needs it
    b.backward()
    assert x.data.flags.writeable


def test_read_only_arrays_stay_read_only():
    arr = np.ones(2)
    arr.flags.writeable = False
    x = al.Tensor(arr, requires_grad=True)
    (x * x).sum().backward()
    assert not arr.flags.writeable


def test_rules_that_read_no_values_leave_arrays_writable():
    x = al.Tensor(np.ones(2), requires_grad=True)
    y = (x + 1).sum()
    x.data[0] = 2.0  # add's rule never reads x: the gradient stays right
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_replacing_data_before_a_second_order_backward_is_an_error():
    x = al.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x * x).sum()
    x.data = np.array([5.0, 5.0])
    with pytest.raises(RuntimeError, match=r"\.data replaced"):
        y.backward(create_graph=True)


def test_first_order_backward_uses_the_values_of_the_forward():
    x = al.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    x.data = np.array([5.0, 5.0])  # rebinding: the graph keeps the arrays it computed with
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_guards_hold_no_cycles():
    gc.disable()
    try:
        x = al.Tensor(np.ones(2), requires_grad=True)
        y = (x * x).exp()
        probe = weakref.ref(y)
        assert not x.data.flags.writeable
        del y
        assert probe() is None
        assert x.data.flags.writeable  # unlocked by reference counting alone
    finally:
        gc.enable()


def test_detect_anomaly_names_the_op_in_forward():
    x = al.Tensor(np.array([1.0, 0.0]), requires_grad=True)
    with al.detect_anomaly(), pytest.raises(al.AnomalyError) as info:
        x.log() * 2
    message = str(info.value)
    assert "Log()" in message and "inf" in message and "(2,)" in message
    assert "test_reliability.py" in message  # where the op was created


def test_detect_anomaly_names_the_op_in_backward():
    x = al.Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with al.detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d√x/dx = 1/(2√x) is inf at 0
        with pytest.raises(al.AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert "Sqrt()" in message and "backward" in message and "test_reliability.py" in message


def test_detect_anomaly_passes_finite_computations_and_restores_state():
    x = al.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with al.detect_anomaly():
        x.log().sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 0.5])
    assert not al._grad_mode._state.anomaly and not al._grad_mode._state.sites


def test_a_guard_freed_by_the_collector_inside_the_bookkeeping_does_not_deadlock():
    # x.backward(create_graph=True) makes a cycle x -> x.grad -> graph -> x; the collector may
    # free it while another op holds the guard's lock. Run in a subprocess so a hang can't block.
    code = (
        "import gc, numpy as np, autograd_lite as al\n"
        "from autograd_lite import _guard\n"
        "gc.disable()\n"
        "x = al.Tensor(np.ones(3), requires_grad=True)\n"
        "(x * x * x).sum().backward(create_graph=True)\n"
        "data = x.data\n"
        "del x\n"
        "_guard._locked_mutex.acquire()\n"
        "_guard._inside.busy = True\n"
        "gc.collect()\n"
        "_guard._drain_deferred()\n"
        "_guard._inside.busy = False\n"
        "_guard._locked_mutex.release()\n"
        "assert data.flags.writeable and not _guard._locked and not _guard._deferred\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_an_op_returning_its_input_does_not_freeze_the_callers_array():
    class Identity(al.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    arr = np.ones(3)
    x = al.Tensor(arr, requires_grad=True)
    y = Identity.apply(x)
    with pytest.raises(ValueError, match="read-only"):
        y.data[0] = 2.0  # the result is read-only ...
    (y * 2).sum().backward()
    del y
    arr[0] = 2.0  # ... but the caller's own array is theirs again
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


# -- arrays an op holds as fields (an index, a condition, labels, clip bounds) ------------------


def _field_cases():
    """Per op with array fields: ``make(n) -> (leaf, field array, loss builder, expected grad)``;
    the expected gradient is written out from the field's values at the forward pass."""

    def getitem(n):
        x = al.Tensor(np.linspace(-1.0, 1.0, n), requires_grad=True)
        idx = (np.arange(n) * 7) % n
        expected = np.zeros(n)
        np.add.at(expected, idx, np.arange(n, dtype=float))
        return x, idx, lambda: (x[idx] * np.arange(n, dtype=float)).sum(), expected

    def scatter_add(n):
        from autograd_lite.ops.shape import scatter_add as scatter

        x = al.Tensor(np.linspace(-1.0, 1.0, n), requires_grad=True)
        idx = (np.arange(n) * 3) % n
        w = np.arange(n, dtype=float)
        return x, idx, lambda: (scatter(x, idx, (n,)) * w).sum(), w[idx]  # ∂/∂x_k = w[idx_k]

    def where(n):
        x = al.Tensor(np.ones(n), requires_grad=True)
        cond = np.arange(n) % 3 == 0
        return x, cond, lambda: (al.where(cond, x, 0.0) * 2.0).sum(), 2.0 * cond

    def cross_entropy(n):
        x = al.Tensor(np.zeros((n, 2)), requires_grad=True)
        labels = np.arange(n) % 2
        expected = (0.5 - np.eye(2)[labels]) / n  # (softmax(0) − onehot) / n
        return x, labels, lambda: al.cross_entropy(x, labels), expected

    def clip(n):
        x = al.Tensor(np.linspace(-1.0, 1.0, n), requires_grad=True)
        low = np.where(np.arange(n) % 2 == 0, -2.0, 2.0)
        return x, low, lambda: x.clip(low, None).sum(), (x.data >= low).astype(float)

    return {"GetItem": getitem, "ScatterAdd": scatter_add, "Where": where,
            "CrossEntropy": cross_entropy, "Clip": clip}  # fmt: skip


FIELD_CASES = _field_cases()


def _op_classes(cls=None):
    from autograd_lite.engine import Op

    for sub in (cls or Op).__subclasses__():
        yield sub
        yield from _op_classes(sub)


def test_every_op_with_array_fields_has_a_case():
    with_fields = {c.__name__ for c in _op_classes() if c.array_fields}
    assert with_fields == set(FIELD_CASES)


def _spoil(arr):
    arr[0] = arr[1]  # every case's field differs there; a one-element change is always caught


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_a_small_array_field_is_copied_so_later_writes_change_nothing(name):
    x, field, build, expected = FIELD_CASES[name](12)
    loss = build()
    _spoil(field)  # the caller's array stays writable ...
    loss.backward()
    np.testing.assert_allclose(x.grad.data, expected)  # ... and the gradient uses the old values


@pytest.mark.parametrize("name", sorted(FIELD_CASES))
def test_a_large_array_field_is_locked_and_checked(name):
    from autograd_lite._guard import COPY_LIMIT

    n = COPY_LIMIT + 2
    x, field, build, expected = FIELD_CASES[name](n)
    view = field[:]  # made before the forward: locking the array cannot reach it
    loss = build()
    with pytest.raises(ValueError, match="read-only"):
        _spoil(field)
    _spoil(view)
    with pytest.raises(RuntimeError, match="changed after the op was recorded"):
        loss.backward()
    assert x.grad is None and field.flags.writeable  # nothing written; the failed walk unlocked
    x, field, build, expected = FIELD_CASES[name](n)
    build().backward()  # untouched, the same case passes
    np.testing.assert_allclose(x.grad.data, expected)


@pytest.mark.parametrize("n", [3, 5000])
def test_a_view_made_before_the_forward_cannot_change_a_gradient(n):
    base = np.arange(1.0, n + 1.0)
    view = base[:]
    x = al.Tensor(base, requires_grad=True)
    loss = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        base[0] = 100.0
    view[0] = 100.0  # gradient 2x would say 200
    with pytest.raises(RuntimeError, match=r"input 0 of Mul\(\) \(an array of shape"):
        loss.backward()
    assert x.grad is None and base.flags.writeable
    loss = (x * x).sum()
    loss.backward()
    assert x.grad.data[0] == 200.0  # recomputed after the change: the new value's gradient


def test_a_view_of_a_large_constant_made_before_the_forward_is_checked():
    from autograd_lite._guard import COPY_LIMIT

    c = np.ones(COPY_LIMIT + 1)
    view = c[1:]
    w = al.Tensor(np.ones(COPY_LIMIT + 1), requires_grad=True)
    loss = (w * c).sum()
    view[-1] = 3.0
    with pytest.raises(RuntimeError, match="input 1 of Mul"):
        loss.backward()
    assert w.grad is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda v: v.__setitem__([3, 70_000], v[[70_000, 3]]),  # a swap of two different values
        lambda v: v.__setitem__(5, np.nextafter(v[5], np.inf)),  # one element, by one ulp
        lambda v: v.__setitem__(7, np.nan),
        lambda v: v[::-1].sort(),  # the whole array reordered
    ],
    ids=["swap", "one-ulp", "nan", "reordered"],
)
@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "constant"])
def test_a_change_through_an_earlier_view_of_a_large_array_is_caught(spoil, leaf):
    n = 70_001  # larger than any copy or exact-byte limit: checked by its fingerprint
    base = np.random.default_rng(0).normal(size=n)
    view = base[:]
    w = al.Tensor(np.ones(n), requires_grad=True)
    x = al.Tensor(base, requires_grad=True) if leaf else base
    loss = (w * x).sum()
    spoil(view)
    assert not np.array_equal(view, np.random.default_rng(0).normal(size=n))
    with pytest.raises(RuntimeError, match=r"input 1 of Mul\(\) \(an array of shape \(70001,\)"):
        loss.backward()
    assert w.grad is None


def test_a_large_array_with_nans_passes_the_check_when_unchanged():
    n = 70_001
    base = np.full(n, np.nan)
    view = base[:]
    w = al.Tensor(np.ones(n), requires_grad=True)
    loss = (w * base).sum()
    view[3] = np.nan  # the same bits: nothing changed
    loss.backward()
    assert np.isnan(w.grad.data).all()


def test_detect_anomaly_says_backward_for_a_nan_made_by_a_create_graph_rule():
    # d√x/dx = 1 / (2√x) is inf at 0; with create_graph the rule's Div is itself recorded
    x = al.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with al.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(al.AnomalyError, match=r"in backward .*gradient rule of Sqrt\(\)"):
            y.backward(create_graph=True)
    assert x.grad is None and al._grad_mode._state.rule is None
    with al.detect_anomaly(), pytest.raises(al.AnomalyError, match=r"Log\(\) .* in forward"):
        (x * 0).log()
