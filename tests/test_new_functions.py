"""softplus, leaky_relu, elu, logsumexp and the nll, l1 and huber losses against formulas written
here (and PyTorch's conventions at the kinks); stability at extreme inputs."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al

X = np.array([-3.0, -0.5, 0.0, 0.25, 2.0])


def _grad(fn, x, *args, **kwargs):
    t = al.Tensor(x, requires_grad=True)
    fn(t, *args, **kwargs).sum().backward()
    return t.grad.data


def test_softplus_is_log_one_plus_exp_with_the_sigmoid_as_slope():
    np.testing.assert_allclose(al.softplus(X).data, np.log1p(np.exp(X)))
    np.testing.assert_allclose(_grad(al.softplus, X), 1 / (1 + np.exp(-X)))


def test_softplus_is_finite_at_extremes_without_warnings():
    x = np.array([-1e4, -800.0, 800.0, 1e4])
    np.testing.assert_allclose(al.softplus(x).data, [0.0, 0.0, 800.0, 1e4])
    np.testing.assert_allclose(_grad(al.softplus, x), [0.0, 0.0, 1.0, 1.0])


def test_leaky_relu_and_its_slope_with_pytorchs_value_at_zero():
    np.testing.assert_allclose(al.leaky_relu(X, 0.1).data, np.where(X > 0, X, 0.1 * X))
    np.testing.assert_allclose(al.leaky_relu(X).data, np.where(X > 0, X, 0.01 * X))
    np.testing.assert_allclose(_grad(al.leaky_relu, X, 0.1), [0.1, 0.1, 0.1, 1.0, 1.0])


def test_elu_and_its_slope_alpha_exp_x_below_zero():
    a = 0.7
    np.testing.assert_allclose(al.elu(X, a).data, np.where(X > 0, X, a * (np.exp(X) - 1)))
    np.testing.assert_allclose(_grad(al.elu, X, a), np.where(X > 0, 1.0, a * np.exp(X)))
    assert al.elu(np.array([-1e4])).data[0] == -1.0


def test_logsumexp_matches_the_formula_and_is_stable():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(al.logsumexp(x).data, np.log(np.exp(x).sum(-1)))
    np.testing.assert_allclose(
        al.logsumexp(x, axis=0, keepdims=True).data, np.log(np.exp(x).sum(0, keepdims=True))
    )
    np.testing.assert_allclose(al.logsumexp(x, axis=None).data, np.log(np.exp(x).sum()))
    np.testing.assert_allclose(al.Tensor(x).logsumexp(axis=(0, 1)).data, np.log(np.exp(x).sum()))
    g = _grad(al.logsumexp, x)
    np.testing.assert_allclose(g, np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    big = np.array([[1e4, 1e4], [-1e4, -1e4]])
    np.testing.assert_allclose(al.logsumexp(big).data, [1e4 + np.log(2), -1e4 + np.log(2)])
    np.testing.assert_allclose(_grad(al.logsumexp, big), np.full((2, 2), 0.5))


def test_logsumexp_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="zero elements"):
        al.logsumexp(np.zeros((2, 0)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_of_log_softmax_is_cross_entropy(reduction):
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    terms = -logp[np.arange(5), labels]
    want = {"mean": terms.mean(), "sum": terms.sum(), "none": terms}[reduction]
    np.testing.assert_allclose(al.nll_loss(logp, labels, reduction).data, want)
    t = al.Tensor(logp, requires_grad=True)
    al.nll_loss(t, labels, reduction).sum().backward()
    expected = np.zeros((5, 4))
    expected[np.arange(5), labels] = -1 / 5 if reduction == "mean" else -1
    np.testing.assert_allclose(t.grad.data, expected)
    np.testing.assert_allclose(al.nll_loss(logp[0], labels[0]).data, terms[0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_and_huber_losses_match_their_formulas(reduction):
    o, t = (
        np.array([[0.5, -2.0, 3.0], [1.0, 0.0, 0.2]]),
        np.array([[0.0, 0.0, 0.0], [1.0, 1.5, 0.1]]),
    )
    d = o - t
    red = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(al.l1_loss(o, t, reduction).data, red(np.abs(d)))
    huber = np.where(np.abs(d) <= 1.5, 0.5 * d**2, 1.5 * (np.abs(d) - 0.75))
    np.testing.assert_allclose(al.huber_loss(o, t, 1.5, reduction).data, red(huber))
    n = d.size if reduction == "mean" else 1
    ot = al.Tensor(o, requires_grad=True)
    al.l1_loss(ot, t, reduction).sum().backward()
    np.testing.assert_allclose(ot.grad.data, np.sign(d) / n)  # 0 where o = t, as PyTorch
    ot = al.Tensor(o, requires_grad=True)
    tt = al.Tensor(t, requires_grad=True)
    al.huber_loss(ot, tt, 1.5, reduction).sum().backward()
    np.testing.assert_allclose(ot.grad.data, np.clip(d, -1.5, 1.5) / n)
    np.testing.assert_allclose(tt.grad.data, -np.clip(d, -1.5, 1.5) / n)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: al.nll_loss(np.zeros((2, 3)), np.array([0, 3])), r"labels must lie in \[0, 3\)"),
        (lambda: al.nll_loss(np.zeros((2, 3)), np.array([0.0, 1.0])), "integer class indices"),
        (lambda: al.l1_loss(np.zeros(3), np.zeros(2)), r"shape \(3,\) and target shape \(2,\)"),
        (lambda: al.huber_loss(np.zeros(2), np.zeros(2), delta=0), "delta must be a positive"),
        (lambda: al.huber_loss(np.zeros(2), np.zeros(2), reduction="avg"), "reduction must be"),
        (lambda: al.leaky_relu(np.zeros(2), "0.1"), "negative_slope must be a number"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
