"""The backward walk: fan-out, diamonds, deep chains, release, retain_graph, hooks, threads."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest
from numeric import numeric_gradient

import autograd_lite as al


def test_fan_out_sums_gradients_of_every_use():
    x = al.Tensor(3.0, requires_grad=True)
    y = x * 2 + x * x + x  # dy/dx = 2 + 2x + 1
    y.backward()
    assert x.grad.item() == pytest.approx(2 + 2 * 3 + 1)


def test_diamond_reaches_shared_node_once_with_full_gradient():
    x = al.Tensor([0.5, -1.0], requires_grad=True)
    a = x.exp()
    b, c = a * 3, a.sigmoid()
    loss = (b + c).sum()
    loss.backward()
    e = np.exp([0.5, -1.0])
    s = 1 / (1 + np.exp(-e))
    np.testing.assert_allclose(x.grad.data, (3 + s * (1 - s)) * e, rtol=1e-12)


def test_node_reached_directly_and_through_a_longer_path():
    # x / x.sum(): the sum node is an input of the root and also reachable via x's other path.
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    w = np.array([0.3, -1.2])
    (x / x.sum()).backward(w, create_graph=True)
    g = x.grad
    x.grad = None
    (g * np.array([0.7, 0.2])).sum().backward()
    # S(x) = u·(w/s − (w·x)/s²) differentiated by hand: dS/dx = −(u·w)/s² ... written out:
    s, wx, u = 3.0, w @ [1.0, 2.0], np.array([0.7, 0.2])
    expected = -(u @ w) / s**2 - (u.sum() * w) / s**2 + 2 * u.sum() * wx / s**3
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_chain_of_100k_ops_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = al.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)
    del y  # releasing a long chain must not recurse either


def test_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = al.Tensor(np.ones(3), requires_grad=True)
        h = (x * 2).sigmoid()
        probe = weakref.ref(h.data)  # the graph keeps h's array (h itself only as its node)
        loss = (h * h).sum()
        del h
        assert probe() is not None  # still held by the graph
        loss.backward()
        assert probe() is None  # backward released the saved values
        h2 = x.exp()
        probe2 = weakref.ref(h2)
        del h2
        assert probe2() is None  # an unused graph dies at once, no cycle collector needed
    finally:
        gc.enable()


def test_second_backward_through_released_graph_mentions_retain_graph():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    before = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()
    np.testing.assert_array_equal(x.grad.data, before)  # nothing changed


@pytest.mark.parametrize("retain", [False, True])
def test_a_failed_backward_leaves_no_array_locked_unless_the_graph_is_retained(retain):
    w = al.Tensor(np.ones((2, 3)), requires_grad=True)
    h = (al.Tensor(np.ones((4, 2))) @ w).sigmoid()
    out = h @ w.T  # its rule reads w: w's array is read-only until the node is released
    handle = out.register_hook(lambda g: np.ones(5))  # a hook that fails the walk at once
    with pytest.raises(ValueError, match="register_hook"):
        out.sum().backward(retain_graph=retain)
    assert w.grad is None
    if retain:  # the graph is kept whole: drop the bad hook and go again
        assert not w.data.flags.writeable
        handle.remove()
        out.sum().backward()
        expected = numeric_gradient(_sigmoid_then_wt, [w.data], 0, 1e-6)
        np.testing.assert_allclose(w.grad.data, expected, atol=1e-7)
    else:
        w.data[0, 0] = 2.0  # writable again: nothing of the failed graph holds it
        with pytest.raises(RuntimeError, match="retain_graph"):
            out.sum().backward()


def _sigmoid_then_wt(arrays) -> float:
    """Σ (σ(1 w) wᵀ) in NumPy, for the test above."""
    (w,) = arrays
    h = 1 / (1 + np.exp(-(np.ones((4, 2)) @ w)))
    return float((h @ w.T).sum())


def test_retain_graph_allows_accumulation():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_backward_needs_gradient_for_non_scalar():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient is needed"):
        (x * 2).backward()
    assert x.grad is None


def test_backward_gradient_shape_is_checked():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        al.Tensor([1.0]).sum().backward()


def test_hooks_see_and_replace_gradients():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    h = x * 3
    h.register_hook(lambda g: g * 10)  # replace the gradient flowing into h
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])
    np.testing.assert_array_equal(x.grad.data, [30.0, 30.0])


def test_hook_handle_removes_hook():
    x = al.Tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_no_grad_records_nothing_and_restores():
    x = al.Tensor([1.0], requires_grad=True)
    with al.no_grad():
        assert not al.is_grad_enabled()
        y = x * 2
        with al.enable_grad():
            z = x * 2
    assert al.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf


def test_no_grad_as_decorator():
    @al.no_grad()
    def f(t):
        return t * 2

    assert not f(al.Tensor([1.0], requires_grad=True)).requires_grad


def test_nothing_recorded_when_no_input_needs_grad():
    a, b = al.Tensor([1.0]), al.Tensor([2.0])
    assert (a * b)._node is None


def test_no_grad_in_one_thread_does_not_affect_another():
    inside = threading.Event()
    release = threading.Event()
    result = {}

    def worker():
        with al.no_grad():
            inside.set()
            release.wait(5)
            result["worker"] = al.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    x = al.Tensor([1.0], requires_grad=True)
    result["main"] = (x * 2).requires_grad
    release.set()
    t.join()
    assert result == {"worker": False, "main": True}


def test_broadcast_gradient_is_summed_back_to_input_shape():
    a = al.Tensor(np.ones((3, 1)), requires_grad=True)
    b = al.Tensor(np.arange(4.0), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 3.0))


def test_repeated_indices_accumulate():
    x = al.Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_leaf_backward_and_detach():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad


def test_create_graph_defaults_retain_graph():
    x = al.Tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == pytest.approx(12.0)
    x.grad = None
    g.backward()  # d²y/dx² = 6x, through the retained graph
    assert x.grad.item() == pytest.approx(12.0)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_float32_leaf_gets_a_float32_gradient_from_a_float64_graph(create_graph):
    # Σ c x² with a float64 constant c computes in float64; ∂/∂x = 2 c x, ∂²/∂x² = 2 c
    x = al.Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    c = np.array([3.0, 0.25])
    (x * x * c).sum().backward(create_graph=create_graph)
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [6.0, -1.0])
    if create_graph:
        g, x.grad = x.grad, None
        g.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad.data, [6.0, 0.5])


def test_grad_accepts_none_and_tensors_of_the_right_shape_only():
    p = al.Tensor(np.ones(2), requires_grad=True)
    for bad, exc in (
        (np.ones(2), TypeError),
        ([1.0, 1.0], TypeError),
        (al.Tensor(np.ones(3)), ValueError),
    ):
        with pytest.raises(exc, match=r"\.grad must"):
            p.grad = bad
        assert p.grad is None
    p.grad = al.Tensor(np.full(2, 0.5))
    al.optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.data, [0.5, 0.5])
    p.grad = None
    assert p.grad is None
