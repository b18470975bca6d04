"""Blame names the planted wrong op inside a larger graph, with where it was created."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.engine import topological_order
from autograd_lite.testing import GradcheckError, gradcheck, gradgradcheck


class SlightlyWrongSigmoid(ops.Sigmoid):
    __slots__ = ()

    def backward(self, g, out, x):
        return (g * out * (1 - out) * 1.02,)


class LeakyClamp(al.Function):
    """A user's op whose rule forgets the factor 0.1 on the negative side."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return al.Tensor(np.where(x.data > 0, x.data, 0.1 * x.data))

    @staticmethod
    def backward(ctx, grad):
        return grad  # wrong for x < 0, where it should be 0.1 * grad


def network(x, w, b, planted):
    h = (x @ w + b).tanh()  # MatMul, Add, Tanh
    s = al.Tensor._apply(planted(), h) if isinstance(planted, type) else h.sigmoid()  # Sigmoid
    z = s * h + (h * h).exp()  # Mul, Mul, Exp, Add
    z = z[:, :2].log_softmax(axis=1)  # GetItem, LogSoftmax
    return (z.mean(axis=0) ** 2).sum()  # Mean, Pow, Sum


@pytest.fixture
def inputs():
    rng = np.random.default_rng(3)
    return (
        al.Tensor(rng.standard_normal((4, 3))),
        al.Tensor(rng.standard_normal((3, 3)), requires_grad=True),
        al.Tensor(rng.standard_normal(3), requires_grad=True),
    )


def test_the_graph_has_at_least_ten_ops(inputs):
    out = network(*inputs, SlightlyWrongSigmoid)
    assert len(topological_order(out._node)) >= 10


def test_the_correct_network_passes(inputs):
    assert gradcheck(lambda x, w, b: network(x, w, b, None), inputs)


def test_blame_names_the_planted_builtin(inputs):
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w, b: network(x, w, b, SlightlyWrongSigmoid), inputs)
    report = info.value.report
    assert report.blame == "SlightlyWrongSigmoid"
    assert "test_blame.py" in report.blame_detail.site and "in network" in report.blame_detail.site
    assert report.blame_detail.abs_error > 0
    assert "SlightlyWrongSigmoid" in str(info.value) and "test_blame.py" in str(info.value)


def test_blame_names_a_users_function_by_class_name():
    rng = np.random.default_rng(4)
    w = al.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    x = al.Tensor(rng.standard_normal((2, 3)))

    def model(w, x):
        h = (x @ w).tanh() * 3  # some of these are negative: the wrong branch is exercised
        y = LeakyClamp.apply(h)
        return ((y @ w.T).sigmoid() + h.exp() * 0.1).sum()

    with pytest.raises(GradcheckError) as info:
        gradcheck(model, (w, x))
    assert info.value.report.blame == "LeakyClamp"
    assert "LeakyClamp" in str(info.value)


class SwishSavedSigmoid(al.Function):
    """o = x σ(x), saving σ(x) as a constant: the first-order rule is right, its own derivative
    misses σ'(x) (σ is not recorded, so create_graph=True sees a constant)."""

    @staticmethod
    def forward(ctx, x):
        s = al.Tensor(1 / (1 + np.exp(-x.data)))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * (1 - s))


class Swish(SwishSavedSigmoid):
    """The same rule with σ recomputed from the saved input in recorded operations."""

    @staticmethod
    def backward(ctx, grad):
        x, _ = ctx.saved_tensors
        s = x.sigmoid()
        return grad * (s + x * s * (1 - s))


def test_second_order_blame_names_the_derivative_of_the_rule_not_the_rule():
    x = al.Tensor(np.linspace(-1.5, 1.5, 4), requires_grad=True)

    def fn(x):
        return (SwishSavedSigmoid.apply(x * 1.5) * x).sum()

    assert gradcheck(fn, (x,))  # the first-order rule is right
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(fn, (x,))
    detail = info.value.report.blame_detail
    assert detail.name == "SwishSavedSigmoid" and detail.order == 2 and detail.first_order_ok
    message = str(info.value)
    assert "derivative of the gradient rule of SwishSavedSigmoid" in message
    assert "second-order error" in message and "first-order values agree" in message
    assert "Tensor operations" in message and "create_graph=True" in message
    assert "disagrees with central differences of its own forward" not in message
    assert gradgradcheck(lambda x: (Swish.apply(x * 1.5) * x).sum(), (x,))  # the fix works


class CubeWrongViaData(al.Function):
    """o = x³ with a rule that is wrong (2x² for 3x²) and reads .data (no derivative)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * al.Tensor(2 * x.data**2)


def test_second_order_blame_says_when_the_first_order_rule_is_wrong_too():
    x = al.Tensor(np.linspace(0.5, 1.5, 4), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: CubeWrongViaData.apply(x).sum(), (x,))
    detail = info.value.report.blame_detail
    assert detail.name == "CubeWrongViaData" and detail.order == 2
    assert detail.first_order_ok is False
    assert "first-order rule is wrong too" in str(info.value)


def test_second_order_check_blames_a_wrong_but_differentiable_first_order_rule():
    # LeakyClamp's rule returns grad: wrong, but its own derivative (0) agrees with it
    x = al.Tensor(np.linspace(-1.5, 1.5, 4), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: (LeakyClamp.apply(x) ** 2).sum(), (x,))
    detail = info.value.report.blame_detail
    assert detail.name == "LeakyClamp" and detail.order == 1
    assert "the gradient rule of LeakyClamp" in str(info.value)
    assert "its own forward" in str(info.value)
