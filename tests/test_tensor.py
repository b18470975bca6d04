"""Tensor construction, dtype rules, operators on either side, comparisons, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al


def test_python_numbers_become_float64_and_int64():
    assert al.Tensor(1.5).dtype == np.float64
    assert al.Tensor([1, 2]).dtype == np.int64
    assert al.Tensor([1, 2], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "data", [[1, 2], [True, False], np.array([1, 2], dtype=np.uint8), np.array([1 + 2j])]
)
def test_non_floating_data_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating"):
        al.Tensor(data, requires_grad=True)


@pytest.mark.parametrize("data", ["abc", None, [object()], {"a": 1}, [[1, 2], [3]]])
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="Tensor"):
        al.Tensor(data)


def test_requires_grad_setter_checks_dtype_and_leafness():
    t = al.Tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True
    assert not t.requires_grad
    x = al.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad = False


def test_float32_stays_float32_through_every_kind_of_op():
    x = al.Tensor(np.linspace(0.1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    w = al.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    y = ((x * 2.0 + 1) / 3.0 - 0.5) ** 2
    y = y.exp().log().sqrt().sigmoid().tanh().relu().abs().clip(0.0, 1.0)
    z = (y @ w).softmax(-1).log_softmax(0).sum(axis=0).mean()
    z = z + al.squared_error(y, np.zeros((2, 3), np.float32)) + y.max() + y[0, 1:].min()
    assert z.dtype == np.float32
    z.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_numpy2_promotion_with_arrays():
    x = al.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    y = x * np.ones(2, dtype=np.float64)  # a float64 array promotes, as in NumPy
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32  # gradients come back in the leaf's dtype


def test_operators_work_with_arrays_and_scalars_on_either_side():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([3.0, 4.0])
    results = [arr + x, arr - x, arr * x, arr / x, arr**x, 2 - x, 2 / x, 2**x, x @ arr, arr @ x]
    for r in results:
        assert isinstance(r, al.Tensor) and r.requires_grad
    (arr - x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


def test_comparisons_return_bool_tensors_that_record_nothing():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    for r in (x < 2, x <= 2, x > 1, x >= 1, x == 1, x != 1, 1 < x):
        assert isinstance(r, al.Tensor) and r.dtype == bool and not r.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True])
    assert x[x > 1.5].shape == (1,)


def test_asarray_and_numpy_testing_accept_tensors():
    t = al.Tensor([1.0, 2.0])
    assert np.asarray(t) is t.data
    np.testing.assert_allclose(t, [1.0, 2.0])


def test_attributes_and_shape_methods():
    t = al.Tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, t.T.shape) == ((2, 3), 2, 6, (3, 2))
    assert t.reshape(3, 2).shape == t.reshape((3, 2)).shape == (3, 2)
    assert t.transpose(1, 0).shape == t.transpose((1, 0)).shape == (3, 2)
    assert t.flatten().shape == (6,)
    assert t.sum(axis=(0, 1)).item() == 15.0 and t.mean(axis=-1, keepdims=True).shape == (2, 1)
    assert t.is_leaf and t.grad is None and t.numpy() is t.data
    assert len(t) == 2 and [r.shape for r in t] == [(3,), (3,)]
    assert "requires_grad=True" in repr(al.Tensor([1.0], requires_grad=True))


def test_shape_mismatch_names_op_and_both_shapes():
    a, b = al.Tensor(np.ones((3, 4))), al.Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned"):
        a @ b
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5, 2\)"):
        a + b
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\)"):
        a.reshape(5)
    with pytest.raises(np.exceptions.AxisError, match="sum"):
        a.sum(axis=2)
    with pytest.raises(ValueError, match="concatenate"):
        al.concatenate([a, b], axis=0)


def test_unsupported_operand_is_a_type_error():
    with pytest.raises(TypeError):
        al.Tensor([1.0]) + "a"
    with pytest.raises(TypeError):
        al.maximum(al.Tensor([1.0]), "a")


def test_sigmoid_is_exact_and_finite_at_extremes():
    x = al.Tensor([-1000.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = al.sigmoid(x)
        y.sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_log_softmax_never_overflows():
    x = al.Tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = al.log_softmax(x)
        y[0, 0].backward()
    np.testing.assert_allclose(y.data, [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0, 0.0]], atol=1e-300)


@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((3, 0), -1), ((0,), 0), ((2, 0, 4), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_an_empty_axis_is_empty(name, shape, axis):
    x = al.Tensor(np.zeros(shape), requires_grad=True)
    y = getattr(x, name)(axis=axis)
    assert y.shape == shape and y.dtype == np.float64
    y.backward(np.ones(shape))
    assert x.grad.shape == shape


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reducing_the_full_axes_of_an_empty_array_is_empty(name):
    x = al.Tensor(np.zeros((0, 3)), requires_grad=True)
    y = getattr(x, name)(axis=1)  # zero rows of three: nothing to reduce, nothing empty reduced
    assert y.shape == (0,)
    y.backward(np.ones(0))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("reduction, value", [("sum", 0.0), ("none", None)])
@pytest.mark.parametrize("loss", ["squared_error", "mse_loss", "binary_cross_entropy"])
def test_losses_of_an_empty_batch_without_a_mean(loss, reduction, value):
    p = al.Tensor(np.full((0, 2), 0.5), requires_grad=True)
    e = getattr(al, loss)(p, np.zeros((0, 2)), reduction=reduction)
    assert e.shape == (() if value is not None else (0, 2))
    if value is not None:
        assert e.item() == value
    e.backward(np.ones(e.shape))
    assert p.grad.shape == (0, 2)


def test_builtin_abs_records_the_gradient_sign_x():
    x = al.Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = abs(x)
    np.testing.assert_array_equal(y.data, [2.0, 0.5, 3.0])
    y.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.data, [-1.0, 1.0, 1.0])  # d|x|/dx = sign x


def test_where_needs_boolean_condition():
    with pytest.raises(TypeError, match="boolean"):
        al.where(np.array([1, 0]), al.Tensor([1.0, 2.0]), 0.0)


# -- every leaf's .grad has memory of its own -----------------------------------------------


def _assert_private(grads, others=(), writeable=True):
    for i, g in enumerate(grads):
        assert g.flags.writeable or not writeable
        for h in [*grads[i + 1 :], *others]:
            assert not np.shares_memory(g, h)


def test_leaves_fed_the_same_gradient_get_separate_arrays():
    a = al.Tensor(np.ones(3), requires_grad=True)
    b = al.Tensor(np.ones(3), requires_grad=True)
    ((a + b) * 2).sum().backward()
    _assert_private([a.grad.data, b.grad.data], [a.data, b.data])
    a.grad.data *= 0.5  # clipping one gradient in place leaves the other alone
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a.reshape(3) + b.T.flatten(),
        lambda a, b: al.concatenate([a, b]).reshape(6),
        lambda a, b: al.stack([a, b], axis=-1).flatten(),
        lambda a, b: a.astype(np.float64) + b,
        lambda a, b: (a + b)[np.array([0, 0])].sum() * 1.0 + (a * 0).sum(),
    ],
    ids=["add", "sub", "views", "concatenate", "stack", "cast", "getitem"],
)
def test_no_two_leaves_share_gradient_memory_nor_with_the_seed(build):
    a = al.Tensor(np.ones(3), requires_grad=True)
    b = al.Tensor(np.full(3, 2.0), requires_grad=True)
    out = build(a, b)
    seed = np.ones(out.shape)
    out.backward(seed)
    _assert_private([a.grad.data, b.grad.data], [seed, a.data, b.data])


def test_backward_on_a_leaf_does_not_keep_the_seed():
    a = al.Tensor(np.ones(3), requires_grad=True)
    seed = np.arange(3.0)
    a.backward(seed)
    _assert_private([a.grad.data], [seed])


def test_a_gradient_a_hook_saw_or_returned_is_not_adopted():
    a = al.Tensor(np.ones(3), requires_grad=True)
    b = al.Tensor(np.ones(3), requires_grad=True)
    kept, mine = [], np.full(3, 7.0)
    a.register_hook(lambda g: mine)
    b.register_hook(lambda g: kept.append(g.data))
    (a * 1.0 + b).sum().backward()
    _assert_private([a.grad.data, b.grad.data], [mine, *kept])
    np.testing.assert_array_equal(a.grad.data, mine)


def test_a_custom_rule_returning_a_saved_array_does_not_alias_it():
    class Identity(al.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return x  # ∂/∂x of x²/2 (returned as the saved array itself)

    a = al.Tensor(np.arange(3.0), requires_grad=True)
    Identity.apply(a).sum().backward()
    _assert_private([a.grad.data], [a.data])


def test_create_graph_gradients_are_separate_tensors_too():
    a = al.Tensor(np.ones(3), requires_grad=True)
    b = al.Tensor(np.ones(3), requires_grad=True)
    seed = al.Tensor(np.ones(3), requires_grad=True)
    (a + b).backward(seed, create_graph=True)
    assert a.grad is not b.grad and a.grad is not seed
    _assert_private([a.grad.data, b.grad.data], [seed.data], writeable=False)  # recorded results
    (a.grad * 3).sum().backward()  # still differentiable with respect to the seed
    np.testing.assert_array_equal(seed.grad.data, [3.0, 3.0, 3.0])
