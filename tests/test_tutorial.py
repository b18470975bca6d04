"""The tutorial's NeuralNetwork: its step is the chain rule written out by hand, and the
tutorial's original update is shown, numerically, not to be the gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_lite.data import load_digits
from autograd_lite.tutorial import NeuralNetwork, tutorial_update


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def append(a, bias):
    return a if bias is None else np.concatenate([a, np.full(a.shape[:-1] + (1,), bias)], -1)


def chain_rule_step(wih, who, x, t, lr, bias):
    """One gradient step on ½ Σ (t − o)², summed over the rows, derived by hand."""
    X, T = np.atleast_2d(x), np.atleast_2d(t)
    Xb = append(X, bias)
    H = sig(Xb @ wih.T)
    Hb = append(H, bias)
    Out = sig(Hb @ who.T)
    delta_o = (Out - T) * Out * (1 - Out)  # ∂E/∂(output net input)
    grad_who = delta_o.T @ Hb
    delta_h = (delta_o @ who)[:, : H.shape[1]] * H * (1 - H)  # the bias node has no input
    grad_wih = delta_h.T @ Xb
    return wih - lr * grad_wih, who - lr * grad_who


def error(wih, who, x, t, bias):
    h = sig(append(np.atleast_2d(x), bias) @ wih.T)
    o = sig(append(h, bias) @ who.T)
    return 0.5 * np.sum((np.atleast_2d(t) - o) ** 2)


def sample(rng, n, n_in=6, n_out=3):
    x = rng.uniform(0.01, 0.99, (n, n_in))
    t = np.full((n, n_out), 0.01)
    t[np.arange(n), rng.integers(0, n_out, n)] = 0.99
    return x, t


@pytest.mark.parametrize("bias", [None, 1.0, 0.5])
@pytest.mark.parametrize("batch", [None, 1, 7])
def test_train_step_equals_hand_written_chain_rule(bias, batch):
    rng = np.random.default_rng(3)
    net = NeuralNetwork(6, 3, 5, learning_rate=0.7, bias=bias, rng=1)
    for _ in range(3):  # several steps, so each starts from weights the last one produced
        x, t = sample(rng, batch or 1)
        if batch is None:
            x, t = x[0], t[0]  # a 1-D vector is one sample
        wih, who = chain_rule_step(net.wih.copy(), net.who.copy(), x, t, 0.7, bias)
        before = error(net.wih, net.who, x, t, bias)
        assert net.train(x, t) == pytest.approx(before, rel=1e-12)
        np.testing.assert_allclose(net.wih, wih, rtol=0, atol=1e-12)
        np.testing.assert_allclose(net.who, who, rtol=0, atol=1e-12)


def test_train_returns_the_error_before_the_step():
    rng = np.random.default_rng(0)
    net = NeuralNetwork(6, 3, 5, 0.3, bias=1, rng=2)
    x, t = sample(rng, 4)
    before = error(net.wih, net.who, x, t, 1.0)
    assert net.train(x, t) == pytest.approx(before, rel=1e-12)
    assert error(net.wih, net.who, x, t, 1.0) < before


def test_batch_step_is_the_sum_of_per_sample_gradients():
    rng = np.random.default_rng(1)
    x, t = sample(rng, 5)
    a = NeuralNetwork(6, 3, 4, 0.1, rng=0)
    a.train(x, t)
    w0 = NeuralNetwork(6, 3, 4, 0.1, rng=0)
    steps = [chain_rule_step(w0.wih, w0.who, x[i], t[i], 0.1, None) for i in range(5)]
    dwih = sum(s[0] - w0.wih for s in steps)
    dwho = sum(s[1] - w0.who for s in steps)
    np.testing.assert_allclose(a.wih, w0.wih + dwih, atol=1e-12)
    np.testing.assert_allclose(a.who, w0.who + dwho, atol=1e-12)


def test_gradient_agrees_with_finite_differences():
    rng = np.random.default_rng(2)
    x, t = sample(rng, 3)
    net = NeuralNetwork(6, 3, 4, 1.0, bias=1, rng=5)
    wih, who = net.wih.copy(), net.who.copy()
    net.train(x, t)
    grad_wih = wih - net.wih  # lr = 1
    h = 1e-6
    for idx in [(0, 0), (2, 5), (3, 6)]:  # (3, 6) is a bias-node weight
        up, down = wih.copy(), wih.copy()
        up[idx] += h
        down[idx] -= h
        numeric = (error(up, who, x, t, 1.0) - error(down, who, x, t, 1.0)) / (2 * h)
        assert grad_wih[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-10)


def tutorial_train_columns(wih, who, x, t, lr):
    """The seed chapter's train(), verbatim in its column-vector form, on copies."""
    wih, who = wih.copy(), who.copy()
    input_vector = np.array(x, ndmin=2).T
    target_vector = np.array(t, ndmin=2).T
    output_hidden = sig(wih @ input_vector)
    output_network = sig(who @ output_hidden)
    output_errors = target_vector - output_network
    tmp = output_errors * output_network * (1.0 - output_network)
    who += lr * (tmp @ output_hidden.T)
    hidden_errors = who.T @ output_errors
    tmp = hidden_errors * output_hidden * (1.0 - output_hidden)
    wih += lr * (tmp @ input_vector.T)
    return wih, who


def test_tutorial_update_is_the_seed_chapters_rule():
    rng = np.random.default_rng(4)
    net = NeuralNetwork(6, 3, 5, 0.4, rng=3)
    x, t = sample(rng, 1)
    got = tutorial_update(net.wih, net.who, x[0], t[0], 0.4)
    want = tutorial_train_columns(net.wih, net.who, x[0], t[0], 0.4)
    np.testing.assert_allclose(got[0], want[0], atol=1e-14)
    np.testing.assert_allclose(got[1], want[1], atol=1e-14)


def test_tutorial_update_with_bias_cuts_the_bias_row_like_the_later_chapter():
    rng = np.random.default_rng(5)
    wih, who = rng.normal(0, 0.3, (4, 7)), rng.normal(0, 0.3, (3, 5))
    x, t = sample(rng, 1)
    xb = np.append(x[0], 1.0)[:, None]
    hb = np.append(sig(wih @ xb), [[1.0]], axis=0)
    o = sig(who @ hb)
    e = t[0][:, None] - o
    who2 = who + 0.5 * (e * o * (1 - o)) @ hb.T
    he = who2.T @ e
    wih2 = wih + 0.5 * ((he * hb * (1 - hb)) @ xb.T)[:-1, :]
    got = tutorial_update(wih, who, x[0], t[0], 0.5, bias=1.0)
    np.testing.assert_allclose(got[0], wih2, atol=1e-14)
    np.testing.assert_allclose(got[1], who2, atol=1e-14)


def test_tutorial_rule_is_not_the_gradient():
    """Same who step, but a hidden-layer step that is measurably off the gradient."""
    rng = np.random.default_rng(6)
    net = NeuralNetwork(64, 10, 20, 0.3, rng=0)
    x, t = sample(rng, 1, 64, 10)
    wih, who = net.wih.copy(), net.who.copy()
    tut_wih, tut_who = tutorial_update(wih, who, x[0], t[0], 0.3)
    net.train(x[0], t[0])
    # the output layer's step is the gradient's
    np.testing.assert_allclose(tut_who, net.who, atol=1e-14)
    # the hidden layer's is not: it skips o (1 − o) ≤ ¼ and uses the updated who
    d_grad, d_tut = (net.wih - wih).ravel(), (tut_wih - wih).ravel()
    rel = np.linalg.norm(d_tut - d_grad) / np.linalg.norm(d_grad)
    cosine = d_tut @ d_grad / (np.linalg.norm(d_tut) * np.linalg.norm(d_grad))
    assert rel > 1.0  # more than 100 % off in size
    assert cosine < 0.99  # and pointing elsewhere
    # finite differences agree with the gradient step, not the tutorial's
    h, idx = 1e-6, np.unravel_index(np.argmax(np.abs(d_grad - d_tut)), wih.shape)
    up, down = wih.copy(), wih.copy()
    up[idx] += h
    down[idx] -= h
    slope = (error(up, who, x, t, None) - error(down, who, x, t, None)) / (2 * h)
    assert -0.3 * slope == pytest.approx((net.wih - wih)[idx], rel=1e-6)
    assert -0.3 * slope != pytest.approx((tut_wih - wih)[idx], rel=0.1)


@pytest.mark.parametrize("bias", [None, 1.0])
def test_update_tutorial_option_uses_the_tutorial_rule(bias):
    rng = np.random.default_rng(7)
    net = NeuralNetwork(6, 3, 5, 0.4, bias=bias, update="tutorial", rng=3)
    x, t = sample(rng, 3)
    want = tutorial_update(net.wih, net.who, x, t, 0.4, bias)
    net.train(x, t)
    np.testing.assert_allclose(net.wih, want[0], atol=1e-14)
    np.testing.assert_allclose(net.who, want[1], atol=1e-14)


@pytest.mark.parametrize("bias", [None, 1])
def test_weights_are_shaped_and_initialised_as_in_the_tutorial(bias):
    net = NeuralNetwork(64, 10, 100, 0.1, bias=bias, rng=0)
    extra = 0 if bias is None else 1
    assert net.wih.shape == (100, 64 + extra)
    assert net.who.shape == (10, 100 + extra)
    assert np.abs(net.wih).max() <= 1 / math.sqrt(64 + extra)
    assert np.abs(net.who).max() <= 1 / math.sqrt(100 + extra)
    assert np.abs(net.wih).max() > 0.9 / math.sqrt(64 + extra)  # the cut is reached, not smaller


def test_bias_values():
    assert NeuralNetwork(3, 2, 2, 0.1, bias=0).wih.shape == (2, 3)  # 0: no bias node
    assert NeuralNetwork(3, 2, 2, 0.1, bias=True).bias == 1.0
    with pytest.raises(ValueError, match="bias"):
        NeuralNetwork(3, 2, 2, 0.1, bias=float("nan"))


def test_same_seed_same_weights():
    a, b = NeuralNetwork(5, 2, 3, 0.1, rng=4), NeuralNetwork(5, 2, 3, 0.1, rng=4)
    np.testing.assert_array_equal(a.wih, b.wih)
    assert not np.array_equal(a.wih, NeuralNetwork(5, 2, 3, 0.1, rng=5).wih)


def test_run_evaluate_confusion_matrix():
    net = NeuralNetwork(4, 3, 5, 0.1, rng=0)
    data = np.random.default_rng(0).uniform(size=(20, 4))
    out = net.run(data)
    assert out.shape == (20, 3)
    assert net.run(data[0]).shape == (3,)
    np.testing.assert_allclose(net.run(data[0]), out[0], atol=1e-15)
    labels = np.arange(20) % 3
    corrects, wrongs = net.evaluate(data, labels)
    assert corrects + wrongs == 20
    assert corrects == int(np.sum(out.argmax(1) == labels))
    cm = net.confusion_matrix(data, labels)
    assert cm.shape == (3, 3) and cm.sum() == 20
    assert np.trace(cm) == corrects
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(labels, minlength=3))
    np.testing.assert_array_equal(cm.sum(axis=0), np.bincount(out.argmax(1), minlength=3))


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr"):
        NeuralNetwork(3, 2, 2, -0.1)
    with pytest.raises(ValueError, match="lr"):
        NeuralNetwork(3, 2, 2, float("nan"))
    with pytest.raises(ValueError, match="no_of_hidden_nodes"):
        NeuralNetwork(3, 2, 0, 0.1)
    with pytest.raises(ValueError, match="update"):
        NeuralNetwork(3, 2, 2, 0.1, update="magic")
    net = NeuralNetwork(3, 2, 2, 0.1, rng=0)
    before = net.wih.copy()
    with pytest.raises(ValueError):
        net.train(np.ones(4), np.ones(2))
    with pytest.raises(ValueError):
        net.train(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(net.wih, before)
    with pytest.raises(ValueError, match="wih"):
        net.wih = np.zeros((3, 3))
    with pytest.raises(ValueError, match="lr"):
        net.learning_rate = -1


def test_learning_rate_and_state_dict():
    net = NeuralNetwork(3, 2, 4, 0.1, bias=1, rng=0)
    net.learning_rate = 0.5
    assert net.optimizer.lr == 0.5
    state = net.state_dict()
    assert set(state) == {"wih", "who"}
    other = NeuralNetwork(3, 2, 4, 0.1, bias=1, rng=9)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.wih, net.wih)
    before = other.who.copy()
    with pytest.raises(ValueError, match="who"):
        other.load_state_dict({"wih": state["wih"] * 0, "who": np.zeros((3, 3))})
    np.testing.assert_array_equal(other.who, before)
    np.testing.assert_array_equal(other.wih, net.wih)  # unchanged: the check came first
    with pytest.raises(KeyError):
        other.load_state_dict({"wih": state["wih"]})


def test_learns_the_digits_quickly():
    train, test = load_digits(seed=0)
    net = NeuralNetwork(64, 10, 100, 1.0, bias=1, rng=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for i in rng.permutation(len(train)):
            net.train(train.inputs[i], train.targets[i])
    corrects, _ = net.evaluate(test.inputs, test.labels)
    assert corrects / len(test) > 0.9
