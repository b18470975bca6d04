"""Blame names the planted wrong op inside a larger graph, with where it was created."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.engine import topological_order
from autograd_lite.testing import GradcheckError, gradcheck


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
