"""Conv2d, pooling, Flatten, Embedding, LayerNorm, BatchNorm and the new activation layers:
PyTorch's initialisation, state_dict keys and formulas, checked against hand-written NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import layers


def test_conv2d_layer_initialisation_and_keys():
    conv = layers.Conv2d(3, 8, (3, 2), stride=2, padding=1, rng=0)
    bound = 1 / np.sqrt(3 * 3 * 2)
    assert conv.weight.shape == (8, 3, 3, 2) and conv.bias.shape == (8,)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound  # uniform over the whole range
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert list(layers.Conv2d(1, 2, 3, bias=False).state_dict()) == ["weight"]
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    np.testing.assert_allclose(
        conv(x).data, al.conv2d(x, conv.weight.data, conv.bias.data, 2, 1).data
    )


def test_a_small_cnn_trains_through_every_layer():
    net = layers.Sequential(
        layers.Conv2d(1, 2, 3, padding=1, rng=0), layers.ReLU(), layers.MaxPool2d(2),
        layers.AvgPool2d(2, stride=1), layers.Flatten(), layers.Linear(8, 3, rng=1),
    )  # fmt: skip
    x = al.Tensor(np.random.default_rng(2).standard_normal((4, 1, 6, 6)))
    out = net(x)
    assert out.shape == (4, 3)
    al.cross_entropy(out, np.array([0, 1, 2, 0])).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())


def test_embedding_looks_up_rows_and_accumulates_repeats():
    emb = layers.Embedding(5, 3, rng=0)
    assert list(emb.state_dict()) == ["weight"]
    big = layers.Embedding(400, 50, rng=0).weight.data
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02  # N(0, 1)
    idx = np.array([[1, 4], [1, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.data[:, 0], [0, 3, 0, 0, 1])


def test_layer_norm_matches_the_formula():
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    ln = layers.LayerNorm((3, 4))
    ln.weight.data[...] = 2.0
    ln.bias.data[...] = 0.5
    mu = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(ln(x).data, (x - mu) / np.sqrt(var + 1e-5) * 2.0 + 0.5)
    assert list(ln.state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"does not end in \(3, 4\)"):
        ln(np.zeros((2, 4, 3)))


def test_batch_norm_uses_batch_statistics_then_running_ones():
    rng = np.random.default_rng(4)
    bn = layers.BatchNorm2d(3)
    assert list(bn.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    xs = [rng.standard_normal((4, 3, 2, 5)) * 2 + 1 for _ in range(2)]
    rm, rv = np.zeros(3), np.ones(3)
    for x in xs:
        mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        c = mu[None, :, None, None], var[None, :, None, None]
        np.testing.assert_allclose(bn(x).data, (x - c[0]) / np.sqrt(c[1] + 1e-5), atol=1e-12)
        n = 4 * 2 * 5
        rm, rv = 0.9 * rm + 0.1 * mu, 0.9 * rv + 0.1 * var * n / (n - 1)
    np.testing.assert_allclose(bn.running_mean, rm)
    np.testing.assert_allclose(bn.running_var, rv)
    assert int(bn.num_batches_tracked) == 2
    bn.eval()
    x = xs[0]
    expected = (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected)
    np.testing.assert_allclose(bn.running_mean, rm)  # evaluation changes nothing


def test_batch_norm_state_round_trips_and_bad_input_changes_nothing():
    net = layers.Sequential(layers.Linear(3, 4, rng=0), layers.BatchNorm1d(4))
    net(np.random.default_rng(5).standard_normal((6, 3)))
    state = net.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                          "1.running_var", "1.num_batches_tracked"}  # fmt: skip
    fresh = layers.Sequential(layers.Linear(3, 4, rng=9), layers.BatchNorm1d(4))
    fresh.load_state_dict(state)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    assert fresh[1].num_batches_tracked.dtype == np.int64
    bad = dict(state, **{"1.running_var": np.ones(5)})
    with pytest.raises(ValueError, match="running_var"):
        fresh.load_state_dict(bad)
    np.testing.assert_array_equal(fresh[1].running_var, state["1.running_var"])
    before = fresh[1].running_mean.copy()
    with pytest.raises(ValueError, match="num_features=4"):
        fresh[1](np.zeros((6, 5)))
    with pytest.raises(ValueError, match="more than one value per channel"):
        fresh[1](np.zeros((1, 4)))
    np.testing.assert_array_equal(fresh[1].running_mean, before)


def test_batch_norm_1d_over_a_length_axis_and_its_gradient():
    x = al.Tensor(np.random.default_rng(6).standard_normal((3, 2, 4)), requires_grad=True)
    bn = layers.BatchNorm1d(2)
    y = bn(x)
    # the normalised values of each channel sum to zero, so their gradient sums to zero too
    np.testing.assert_allclose(y.data.mean(axis=(0, 2)), 0, atol=1e-12)
    (y * np.arange(24.0).reshape(3, 2, 4)).sum().backward()
    np.testing.assert_allclose(x.grad.data.sum(axis=(0, 2)), 0, atol=1e-10)


def test_activation_layers_apply_their_functions():
    x = np.array([-2.0, -0.1, 0.5, 3.0])
    np.testing.assert_allclose(layers.LeakyReLU(0.2)(x).data, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(layers.Softplus()(x).data, np.log1p(np.exp(x)))
    np.testing.assert_allclose(layers.ELU(0.5)(x).data, np.where(x > 0, x, 0.5 * np.expm1(x)))
    assert "negative_slope=0.2" in repr(layers.LeakyReLU(0.2))
