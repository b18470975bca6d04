"""In-place operators ``+= -= *= /=`` with PyTorch's rules."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from numeric import numeric_gradient

import autograd_lite as al
from autograd_lite.layers import Linear, Sequential, Tanh

INPLACE = [
    (operator.iadd, np.add),
    (operator.isub, np.subtract),
    (operator.imul, np.multiply),
    (operator.itruediv, np.divide),
]


@pytest.mark.parametrize(("iop", "ufunc"), INPLACE, ids=["+=", "-=", "*=", "/="])
def test_under_no_grad_a_parameter_is_updated_in_its_own_array(iop, ufunc):
    p = al.Tensor([1.0, 2.0, 4.0], requires_grad=True)
    array = p.data
    v = al.Tensor([0.5, 0.25, 2.0])
    with al.no_grad():
        q = iop(p, v)
    assert q is p and p.data is array
    np.testing.assert_array_equal(p.data, ufunc([1.0, 2.0, 4.0], [0.5, 0.25, 2.0]))
    assert p.requires_grad and p.is_leaf


@pytest.mark.parametrize(("iop", "ufunc"), INPLACE, ids=["+=", "-=", "*=", "/="])
def test_a_tensor_that_needs_no_gradient_is_updated_in_place_with_grad_on(iop, ufunc):
    t = al.Tensor([[1.0, 2.0], [3.0, 4.0]])
    array = t.data
    assert iop(t, 2.0) is t and t.data is array
    np.testing.assert_array_equal(t.data, ufunc([[1.0, 2.0], [3.0, 4.0]], 2.0))
    assert iop(t, np.array([1.0, 2.0])) is t  # broadcasting into the tensor's shape
    assert t.data is array


@pytest.mark.parametrize(("iop", "ufunc"), INPLACE, ids=["+=", "-=", "*=", "/="])
def test_a_leaf_that_requires_grad_is_refused_with_grad_on(iop, ufunc):
    p = al.Tensor([1.0, 2.0], requires_grad=True)
    array = p.data
    with pytest.raises(RuntimeError, match=r"leaf .*requires grad.*in place.*no_grad"):
        iop(p, 1.0)
    assert p.data is array
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_the_manual_sgd_step_over_parameters_changes_the_weights_and_lowers_the_loss():
    net = Sequential(Linear(2, 4, rng=0), Tanh(), Linear(4, 1, rng=1))
    x, y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([[1.0], [1.0], [0.0]])
    arrays = [p.data for p in net.parameters()]
    before = [a.copy() for a in arrays]
    losses = []
    for _ in range(20):
        loss = al.mse_loss(net(x), y)
        losses.append(loss.item())
        net.zero_grad()
        loss.backward()
        with al.no_grad():
            for p in net.parameters():
                p -= 0.5 * p.grad
    assert all(p.data is a for p, a in zip(net.parameters(), arrays, strict=True))
    assert all(not np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    assert losses[-1] < 0.5 * losses[0]


def test_on_a_non_leaf_the_op_is_recorded_and_the_gradient_stays_right():
    x0 = np.array([0.5, -1.0, 2.0])
    x = al.Tensor(x0, requires_grad=True)
    y = x * 2.0
    first = y
    y += x
    y *= x
    y -= 1.0
    y /= x + 3.0
    assert y is not first  # the name was rebound to the recorded result
    np.testing.assert_array_equal(first.data, x0 * 2.0)  # the old tensor is untouched
    y.sum().backward()

    def f(xs):
        (a,) = xs
        return float(np.sum(((a * 2.0 + a) * a - 1.0) / (a + 3.0)))

    np.testing.assert_allclose(x.grad.data, numeric_gradient(f, [x0], 0, 1e-6), rtol=1e-7)


def test_adding_a_tensor_that_requires_grad_into_a_plain_one_records_it():
    acc = al.Tensor(np.zeros(2))
    w = al.Tensor([1.0, 3.0], requires_grad=True)
    plain = acc
    acc += w * w
    assert acc is not plain and acc.requires_grad
    np.testing.assert_array_equal(plain.data, [0.0, 0.0])
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 6.0])


def test_an_array_a_live_graph_reads_stays_read_only():
    w = al.Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()  # Mul's rule reads w
    with al.no_grad(), pytest.raises(ValueError, match="read-only"):
        w -= 1.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    loss.backward()  # the graph is released: the array is writable again
    with al.no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_a_value_that_does_not_broadcast_into_the_tensor_is_refused_unchanged():
    t = al.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\+=.*\(2, 2\).*\(2,\)"):
        t += np.ones((2, 2))
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


def test_an_integer_tensor_cannot_take_a_float_in_place():
    t = al.Tensor([1, 2])
    with pytest.raises(TypeError):
        t += 0.5
    np.testing.assert_array_equal(t.data, [1, 2])


def test_a_non_numeric_operand_is_a_type_error():
    t = al.Tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        t += "a"
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
