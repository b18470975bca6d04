"""conv2d and pooling against naive loops over every output pixel, written here; the gradients
against finite differences and against the full convolution with the flipped kernel."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import numeric_gradient

import autograd_lite as al


def naive_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """o[n,k,i,j] = b[k] + Σ_{c,u,v} x_p[n, c, s·i + u, s·j + v] w[k, c, u, v], pixel by pixel."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = xp.shape
    k, _, kh, kw = w.shape
    ho, wo = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, k, ho, wo))
    for a in range(n):
        for o in range(k):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[a, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[a, o, i, j] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return out


def naive_pool(x, k, s, reduce):
    n, c, h, w = x.shape
    ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = x[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@pytest.mark.parametrize(
    "stride, padding", [((1, 1), (0, 0)), ((2, 2), (1, 1)), ((1, 2), (2, 0)), ((3, 1), (0, 1))]
)
def test_conv2d_matches_the_naive_loop(stride, padding):
    rng = np.random.default_rng(1)
    x, w, b = (
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal((4, 3, 3, 2)),
        rng.standard_normal(4),
    )
    got = al.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(got.data, naive_conv2d(x, w, b, stride, padding), atol=1e-12)
    np.testing.assert_allclose(
        al.conv2d(x, w, stride=stride[0], padding=padding[0]).data,
        naive_conv2d(x, w, None, (stride[0],) * 2, (padding[0],) * 2),
        atol=1e-12,
    )


def test_conv2d_gradients_match_finite_differences_of_the_naive_loop():
    rng = np.random.default_rng(2)
    arrays = [
        rng.standard_normal((2, 2, 5, 4)),
        rng.standard_normal((3, 2, 3, 2)),
        rng.standard_normal(3),
    ]
    w_out = rng.standard_normal(naive_conv2d(*arrays, (2, 1), (1, 1)).shape)
    ts = [al.Tensor(a, requires_grad=True) for a in arrays]
    al.conv2d(*ts, stride=(2, 1), padding=1).backward(w_out)

    def f(xs):
        return float(np.sum(naive_conv2d(*xs, (2, 1), (1, 1)) * w_out))

    for i, t in enumerate(ts):
        np.testing.assert_allclose(t.grad.data, numeric_gradient(f, arrays, i, 1e-6), atol=1e-7)


def test_input_gradient_is_the_full_convolution_with_the_flipped_kernel():
    rng = np.random.default_rng(3)
    x, w = (
        al.Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True),
        rng.standard_normal((3, 2, 3, 3)),
    )
    g = rng.standard_normal((1, 3, 3, 3))
    al.conv2d(x, w).backward(g)
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, K, kh, kw)
    np.testing.assert_allclose(x.grad.data, naive_conv2d(g, flipped, padding=(2, 2)), atol=1e-12)


def test_second_derivative_of_a_convolution_is_recorded():
    rng = np.random.default_rng(4)
    x = al.Tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    w = al.Tensor(rng.standard_normal((1, 1, 2, 2)), requires_grad=True)
    (al.conv2d(x, w, stride=2, padding=1) ** 2).sum().backward(create_graph=True)
    s = x.grad.sum()  # ∂/∂w of Σ ∂E/∂x, compared with finite differences on w
    w.grad = None
    s.backward()

    def f(ws):
        xt = al.Tensor(x.data, requires_grad=True)
        (al.conv2d(xt, ws[0], stride=2, padding=1) ** 2).sum().backward()
        return float(xt.grad.data.sum())

    np.testing.assert_allclose(w.grad.data, numeric_gradient(f, [w.data], 0, 1e-6), rtol=1e-6)


@pytest.mark.parametrize("kernel, stride", [((2, 2), None), ((3, 2), (1, 2)), ((2, 3), (2, 1))])
def test_pooling_matches_the_naive_loop(kernel, stride):
    x = np.random.default_rng(5).standard_normal((2, 3, 6, 7))
    s = kernel if stride is None else stride
    np.testing.assert_allclose(
        al.max_pool2d(x, kernel, stride).data, naive_pool(x, kernel, s, np.max)
    )
    np.testing.assert_allclose(
        al.avg_pool2d(x, kernel, stride).data, naive_pool(x, kernel, s, np.mean), atol=1e-15
    )


def test_max_pool_ties_split_the_gradient_and_overlaps_add_up():
    x = al.Tensor([[[[1.0, 3.0, 0.0], [3.0, 0.5, 2.0]]]], requires_grad=True)
    al.max_pool2d(x, 2, stride=1).backward(np.array([[[[1.0, 10.0]]]]))
    # window 1 has a tie of 3s (½ each); window 2's maximum is the 3 at (0, 1) too
    np.testing.assert_allclose(x.grad.data, [[[[0.0, 10.5, 0.0], [0.5, 0.0, 0.0]]]])


def test_avg_pool_gradient_spreads_evenly_and_skips_uncovered_pixels():
    x = al.Tensor(np.zeros((1, 1, 3, 5)), requires_grad=True)
    al.avg_pool2d(x, 2).sum().backward()
    expected = np.zeros((3, 5))
    expected[:2, :4] = 0.25
    np.testing.assert_allclose(x.grad.data[0, 0], expected)


def test_bad_shapes_are_named():
    x, w = np.zeros((1, 3, 4, 4)), np.zeros((2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"input has 3 channels .*weight expects 2"):
        al.conv2d(x, w)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\) is larger than the padded input"):
        al.conv2d(x, np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        al.conv2d(x, np.zeros((2, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="bias shape"):
        al.conv2d(x, np.zeros((2, 3, 3, 3)), bias=np.zeros(3))
    with pytest.raises(ValueError, match="must be 4-D"):
        al.max_pool2d(np.zeros((4, 4)), 2)
