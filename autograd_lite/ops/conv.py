r"""Convolution and pooling over images in NCHW layout (batch, channels, height, width).

``conv2d`` is a cross-correlation, as in PyTorch: with the input x zero-padded by p and stride s,

    o[n, k, i, j] = b[k] + Σ_{c, u, v} x[n, c, s·i + u, s·j + v] · w[k, c, u, v].

Every op sees its input through a window view (``sliding_window_view``, no copy) of shape
(N, C, H_out, W_out, kh, kw); the forward copies the windows once into columns and is one
matrix product over the window and channel axes.
The gradients are convolutions too:

- ∂E/∂x is the *full* convolution of ḡ with the flipped kernel (:class:`ConvTranspose2d`): each
  output gradient is spread back over the window it came from, scatter-added with one slice
  update per kernel offset (kh·kw of them, never a loop over pixels);
- ∂E/∂w is the correlation of the input with ḡ (:class:`ConvWeightGrad2d`): one ``tensordot``;
- ∂E/∂b = Σ ḡ over the batch and both spatial axes.

Both gradient ops are ops themselves whose rules are again conv2d, ConvTranspose2d and
ConvWeightGrad2d, so ``create_graph=True`` differentiates a convolution to any order. Pooling
is the same pattern: a window reduction forward, and a scatter-add of the windows
(:class:`Fold2d`, whose own gradient is the window extraction :class:`Unfold2d`) backward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine import Op
from .checks import (
    STRIDES,
    Call,
    Checks,
    Example,
    Form,
    OneOf,
    Values,
    Window,
    clear_extreme,
    distinct,
    normal,
    tensor,
)
from .recording import apply, data, is_plain, record, shape_of

if TYPE_CHECKING:
    from ..tensor import Tensor

Pair = tuple[int, int]


def pair(value: Any, op: str, name: str, low: int) -> Pair:
    """Return an int or a pair of ints, each at least ``low``, as a pair (else raise)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    ok = len(items) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low for v in items
    )
    if not ok:
        raise ValueError(f"{op}: {name} must be an int >= {low} or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def out_size(size: Pair, kernel: Pair, stride: Pair, padding: Pair = (0, 0)) -> Pair:
    """(H_out, W_out) = ⌊(H + 2p − k) / s⌋ + 1 on each axis."""
    return (
        (size[0] + 2 * padding[0] - kernel[0]) // stride[0] + 1,
        (size[1] + 2 * padding[1] - kernel[1]) // stride[1] + 1,
    )


def windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair = (0, 0)) -> np.ndarray:
    """Return the (N, C, H_out, W_out, kh, kw) view of every window of the zero-padded ``x``."""
    if padding != (0, 0):
        x = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    return sliding_window_view(x, kernel, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]


def columns(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """Return the windows as an (N, C·kh·kw, H_out·W_out) array, one copy (im2col).

    A convolution is one matrix product that lands directly in NCHW order.
    """
    win = windows(x, kernel, stride, padding)
    n, c, ho, wo, kh, kw = win.shape
    return np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw, ho * wo)


def fold_array(cols: np.ndarray, size: Pair, stride: Pair, padding: Pair = (0, 0)) -> np.ndarray:
    """Scatter-add windows (N, C, H_out, W_out, kh, kw) back into an (N, C, H, W) image.

    The adjoint of :func:`windows`, one strided slice update per kernel offset.
    """
    n, c, ho, wo, kh, kw = cols.shape
    sh, sw = stride
    image = np.zeros((n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1]), cols.dtype)
    for u in range(kh):
        for v in range(kw):
            image[:, :, u : u + sh * ho : sh, v : v + sw * wo : sw] += cols[:, :, :, :, u, v]
    if padding == (0, 0):
        return image
    return image[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]


def check_image(op: str, x: Any, kernel: Pair, padding: Pair = (0, 0)) -> None:
    """Check for a 4-D input whose padded height and width hold at least one window."""
    shape = shape_of(x)
    if len(shape) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {shape}")
    padded = (shape[2] + 2 * padding[0], shape[3] + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(
            f"{op}: kernel {kernel} is larger than the padded input ({padded[0]}, {padded[1]}) "
            f"(input shape {shape}, padding {padding})"
        )


# -- convolution ---------------------------------------------------------------------------------


def _conv2d_example(rng: np.random.Generator) -> tuple[Any, list[Any]]:
    x, w, b = normal(rng, 2, 2, 5, 4), normal(rng, 3, 2, 3, 2), normal(rng, 3)
    return (lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=1)), [x, w, b]


def _conv2d_form(*xs: Any, stride: Any, padding: Any) -> Tensor:
    """``conv2d`` of an image, a weight and perhaps a bias, for the property tests."""
    return conv2d(xs[0], xs[1], xs[2] if len(xs) > 2 else None, stride=stride, padding=padding)


class Conv2d(Op):
    r"""o = x ⋆ w + b: o[n,k,i,j] = b[k] + Σ_{c,u,v} x_p[n, c, s·i + u, s·j + v] w[k, c, u, v];
    ∂E/∂x = ConvTranspose2d(ḡ, w) (the full convolution of ḡ with the flipped kernel),
    ∂E/∂w = ConvWeightGrad2d(x, ḡ) (the correlation of x_p with ḡ), ∂E/∂b = Σ_{n,i,j} ḡ.
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("padding", "stride")
    keeps = (0, 1)
    keeps_out = False
    crossed = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Conv2d (stride, padding, bias)", _conv2d_example),
            Example(
                "Conv2d (no bias)",
                lambda r: (conv2d, [normal(r, 1, 3, 4, 4), normal(r, 2, 3, 3, 3)]),
            ),
        ),
        forms=(
            Form(
                "conv2d(*xs, stride, padding)",
                _conv2d_form,
                inputs="conv",
                graph=Call(
                    {"stride": STRIDES, "padding": OneOf(((1, 1),))},
                    tensors=2,
                    new=lambda s, pick: (pick(1, 2), s[1], pick(1, 2), pick(1, 3)),
                    ndim=(0, 4),
                    lift=4,
                ),
            ),
        ),
    )

    def __init__(self, stride: Pair = (1, 1), padding: Pair = (0, 0)) -> None:
        self.stride, self.padding = stride, padding

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> Any:
        r"""Return o for the inputs' values (see the class docstring)."""
        ho, wo = out_size(x.shape[2:], w.shape[2:], self.stride, self.padding)
        cols = columns(x, w.shape[2:], self.stride, self.padding)
        o = np.matmul(w.reshape(w.shape[0], -1), cols)  # (N, K, H_out · W_out)
        if b is not None:
            o += b[:, None]
        return o.reshape(x.shape[0], w.shape[0], ho, wo)

    def backward(self, g: Any, out: Any, x: Any, w: Any, b: Any = None) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        needs = self.needs
        gx = conv_transpose(g, w, self.stride, self.padding, x.shape[2:]) if needs[0] else None
        gw = conv_weight_grad(x, g, self.stride, self.padding, w.shape[2:]) if needs[1] else None
        if b is None:
            return gx, gw
        return gx, gw, (g.sum(axis=(0, 2, 3)) if needs[2] else None)


def convolve(x: Any, w: Any, stride: Pair, padding: Pair) -> Any:
    """conv2d for gradient rules: NumPy on plain values, a recorded op on Tensors."""
    op = Conv2d(stride, padding)
    return op.forward(x, w) if is_plain(x) and is_plain(w) else record(op, x, w)


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    r"""Return the 2-D cross-correlation of ``x`` with ``weight``, plus ``bias``.

    ``x`` is (N, C, H, W), ``weight`` (K, C, kh, kw) and ``bias`` (K,), as PyTorch's ``conv2d``;
    ``stride`` and ``padding`` (zeros) are ints or pairs.
    The result has shape (N, K, ⌊(H + 2p − kh)/s⌋ + 1, ⌊(W + 2p − kw)/s⌋ + 1).
    """
    s, p = pair(stride, "conv2d", "stride", 1), pair(padding, "conv2d", "padding", 0)
    wshape = shape_of(weight)
    if len(wshape) != 4:
        raise ValueError(f"conv2d: weight must be 4-D (K, C, kh, kw), got shape {wshape}")
    check_image("conv2d", x, wshape[2:], p)
    xshape = shape_of(x)
    if xshape[1] != wshape[1]:
        raise ValueError(
            f"conv2d: input has {xshape[1]} channels (shape {xshape}) but the weight expects "
            f"{wshape[1]} (shape {wshape})"
        )
    if bias is None:
        return apply(Conv2d(s, p), x, weight)
    if shape_of(bias) != wshape[:1]:
        raise ValueError(
            f"conv2d: bias shape {shape_of(bias)} does not fit weight shape {wshape} "
            f"(expected ({wshape[0]},))"
        )
    return apply(Conv2d(s, p), x, weight, bias)


class ConvTranspose2d(Op):
    r"""The input gradient of conv2d, a transposed convolution: for ḡ (N, K, H_out, W_out) and w,
    o[n, c, s·i + u − p, s·j + v − p] += Σ_k ḡ[n, k, i, j] w[k, c, u, v], an image of ``size``;
    equivalently the full convolution of the stride-dilated ḡ with w flipped in both axes.
    It is linear in each input, and its adjoints are the other two ops: for ō of the image's shape,
    ∂E/∂g = conv2d(ō, w),  ∂E/∂w = ConvWeightGrad2d(ō, ḡ)  (g: the input ḡ).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("padding", "size", "stride")
    keeps = (0, 1)
    keeps_out = False
    crossed = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(  # the input gradient of a (5, 4) image
                "ConvTranspose2d",
                lambda r: (
                    lambda g, w: apply(ConvTranspose2d((2, 1), (1, 0), (5, 4)), g, w),
                    [normal(r, 2, 3, 3, 3), normal(r, 3, 2, 2, 2)],
                ),
            ),
        ),
    )

    def __init__(self, stride: Pair, padding: Pair, size: Pair) -> None:
        self.stride, self.padding, self.size = stride, padding, size

    def forward(self, g: np.ndarray, w: np.ndarray) -> np.ndarray:
        r"""Return o for the inputs' values (see the class docstring)."""
        n, k, ho, wo = g.shape
        # each window's share of the image gradient: (N, C·kh·kw, H_out·W_out)
        shares = np.matmul(w.reshape(k, -1).T, g.reshape(n, k, ho * wo))
        cols = shares.reshape(n, w.shape[1], w.shape[2], w.shape[3], ho, wo)
        return fold_array(cols.transpose(0, 1, 4, 5, 2, 3), self.size, self.stride, self.padding)

    def backward(self, go: Any, out: Any, g: Any, w: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        needs = self.needs
        gg = convolve(go, w, self.stride, self.padding) if needs[0] else None
        gw = conv_weight_grad(go, g, self.stride, self.padding, w.shape[2:]) if needs[1] else None
        return gg, gw


def conv_transpose(g: Any, w: Any, stride: Pair, padding: Pair, size: Pair) -> Any:
    """Return the input gradient of conv2d for gradient rules (plain values or Tensors)."""
    op = ConvTranspose2d(stride, padding, (int(size[0]), int(size[1])))
    return op.forward(g, w) if is_plain(g) and is_plain(w) else record(op, g, w)


class ConvWeightGrad2d(Op):
    r"""The weight gradient of conv2d: o[k, c, u, v] = Σ_{n,i,j} ḡ[n, k, i, j] x_p[n, c, s·i + u,
    s·j + v], a kernel of size ``kernel``; linear in each input, with adjoints for ō of the
    kernel's shape ∂E/∂x = ConvTranspose2d(ḡ, ō),  ∂E/∂g = conv2d(x, ō)  (g: the input ḡ).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("kernel", "padding", "stride")
    keeps = (0, 1)
    keeps_out = False
    crossed = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "ConvWeightGrad2d",
                lambda r: (
                    lambda x, g: apply(ConvWeightGrad2d((1, 2), (1, 1), (2, 3)), x, g),
                    [normal(r, 2, 2, 4, 5), normal(r, 2, 3, 5, 3)],
                ),
            ),
        ),
    )

    def __init__(self, stride: Pair, padding: Pair, kernel: Pair) -> None:
        self.stride, self.padding, self.kernel = stride, padding, kernel

    def forward(self, x: np.ndarray, g: np.ndarray) -> Any:
        r"""Return o for the inputs' values (see the class docstring)."""
        cols = columns(x, self.kernel, self.stride, self.padding)  # (N, C·kh·kw, L)
        n, k = g.shape[:2]
        gw = np.matmul(g.reshape(n, k, -1), cols.transpose(0, 2, 1)).sum(axis=0)  # (K, C·kh·kw)
        return gw.reshape(k, x.shape[1], *self.kernel)

    def backward(self, go: Any, out: Any, x: Any, g: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        needs = self.needs
        gx = conv_transpose(g, go, self.stride, self.padding, x.shape[2:]) if needs[0] else None
        gg = convolve(x, go, self.stride, self.padding) if needs[1] else None
        return gx, gg


def conv_weight_grad(x: Any, g: Any, stride: Pair, padding: Pair, kernel: Pair) -> Any:
    """Return the weight gradient of conv2d for gradient rules (plain values or Tensors)."""
    op = ConvWeightGrad2d(stride, padding, (int(kernel[0]), int(kernel[1])))
    return op.forward(x, g) if is_plain(x) and is_plain(g) else record(op, x, g)


# -- windows and pooling -------------------------------------------------------------------------


class Unfold2d(Op):
    r"""o = every kernel-sized window of x: o[n, c, i, j, u, v] = x[n, c, s·i + u, s·j + v];
    ∂E/∂x = Fold2d(ḡ) (each window's gradient added back where the window came from).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("kernel", "stride")
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Unfold2d",
                lambda r: (lambda x: apply(Unfold2d((2, 2), (1, 2)), x), [normal(r, 1, 2, 3, 5)]),
            ),
        ),
    )

    def __init__(self, kernel: Pair, stride: Pair) -> None:
        self.kernel, self.stride = kernel, stride

    def forward(self, x: np.ndarray) -> np.ndarray:
        r"""Return o for the inputs' values (see the class docstring)."""
        return windows(x, self.kernel, self.stride).copy()

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        return (fold(g, x.shape[2:], self.stride),)


class Fold2d(Op):
    r"""The adjoint of Unfold2d: windows (N, C, H_out, W_out, kh, kw) scatter-added into an image
    of ``size``, o[n, c, s·i + u, s·j + v] += x[n, c, i, j, u, v];  ∂E/∂x = Unfold2d(ḡ).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("size", "stride")
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(  # overlapping rows: contributions add up
            Example(
                "Fold2d",
                lambda r: (
                    lambda c: apply(Fold2d((3, 4), (1, 2)), c),
                    [normal(r, 1, 2, 2, 2, 2, 2)],
                ),
            ),
        ),
    )

    def __init__(self, size: Pair, stride: Pair) -> None:
        self.size, self.stride = size, stride

    def forward(self, cols: np.ndarray) -> np.ndarray:
        r"""Return o for the inputs' values (see the class docstring)."""
        return fold_array(cols, self.size, self.stride)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = Unfold2d(ḡ)."""
        return (unfold(g, x.shape[4:], self.stride),)


def fold(cols: Any, size: Pair, stride: Pair) -> Any:
    """Fold2d for gradient rules (plain values or Tensors)."""
    op = Fold2d((int(size[0]), int(size[1])), stride)
    return op.forward(cols) if is_plain(cols) else record(op, cols)


def unfold(x: Any, kernel: Pair, stride: Pair) -> Any:
    """Unfold2d for gradient rules (plain values or Tensors)."""
    op = Unfold2d((int(kernel[0]), int(kernel[1])), stride)
    return op.forward(x) if is_plain(x) else record(op, x)


class MaxPool2d(Op):
    r"""o[n, c, i, j] = max over the window x[n, c, s·i : s·i + kh, s·j : s·j + kw];
    ∂E/∂x = Fold2d(ḡ · [window = o] / #{window = o}): each window's gradient goes to its
    maximum, split evenly on ties (as ``max``), and overlapping windows add up.
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("kernel", "stride")
    keeps = (0,)
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "MaxPool2d (overlapping)",
                lambda r: (lambda x: max_pool2d(x, 2, stride=1), [distinct(r, 2, 1, 4, 3)]),
            ),
            Example(
                "MaxPool2d (tie)",
                lambda r: (lambda x: max_pool2d(x, 2), [tensor([[[[1.0, 3.0], [3.0, 0.5]]]])]),
                kink=True,
            ),
        ),
        forms=(
            Form(
                "max_pool2d({0}, kernel_size, stride)",
                lambda x, kernel_size, stride: max_pool2d(x, kernel_size, stride),
                (Values(distinct=True),),
                inputs="pool",
                graph=Call(
                    {"kernel_size": Window(), "stride": OneOf((None, *STRIDES.choices))},
                    ndim=(0, 4),
                    lift=4,
                    fits=lambda xs, kw: clear_extreme(
                        windows(xs[0], kw["kernel_size"], kw["stride"] or kw["kernel_size"]),
                        (-2, -1),
                    ),
                ),
            ),
        ),
        kink_mask=lambda op, xs, out: op.winners(np.asarray(xs[0]), np.asarray(out)) > 0,
    )

    def __init__(self, kernel: Pair, stride: Pair) -> None:
        self.kernel, self.stride = kernel, stride

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o for the inputs' values (see the class docstring)."""
        return windows(x, self.kernel, self.stride).max(axis=(4, 5))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        share = self.winners(data(x), data(out))
        return (fold(g.reshape(g.shape + (1, 1)) * share, x.shape[2:], self.stride),)

    def winners(self, x: np.ndarray, out: np.ndarray) -> Any:
        """[window = o] / #{window = o}, of the windows' shape."""
        hit = windows(x, self.kernel, self.stride) == out[..., None, None]
        return (hit / hit.sum(axis=(4, 5), keepdims=True)).astype(x.dtype)


class AvgPool2d(Op):
    r"""o[n, c, i, j] = mean of the window x[n, c, s·i : s·i + kh, s·j : s·j + kw];
    ∂E/∂x = Fold2d(ḡ / (kh·kw) spread over each window).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("kernel", "stride")
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "AvgPool2d",
                lambda r: (lambda x: avg_pool2d(x, (2, 3), stride=(1, 2)), [normal(r, 2, 2, 4, 5)]),
            ),
        ),
        forms=(
            Form(
                "avg_pool2d({0}, kernel_size, stride)",
                lambda x, kernel_size, stride: avg_pool2d(x, kernel_size, stride),
                inputs="pool",
                graph=Call(
                    {"kernel_size": Window(), "stride": OneOf((None, *STRIDES.choices))},
                    ndim=(0, 4),
                    lift=4,
                ),
            ),
        ),
    )

    def __init__(self, kernel: Pair, stride: Pair) -> None:
        self.kernel, self.stride = kernel, stride

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o[n, c, i, j] = mean of the window x[n, c, s·i : s·i + kh, s·j : s·j + kw]."""
        return windows(x, self.kernel, self.stride).mean(axis=(4, 5))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = Fold2d(ḡ / (kh·kw) spread over each window)."""
        kh, kw = self.kernel
        share = np.full((kh, kw), 1.0 / (kh * kw), dtype=data(g).dtype)
        spread = g.reshape(g.shape + (1, 1)) * share
        return (fold(spread, x.shape[2:], self.stride),)


def _pool_args(op: str, x: Any, kernel_size: Any, stride: Any) -> tuple[Pair, Pair]:
    k = pair(kernel_size, op, "kernel_size", 1)
    s = k if stride is None else pair(stride, op, "stride", 1)
    check_image(op, x, k)
    return k, s


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    r"""Return the maximum of each kernel-sized window of ``x`` (N, C, H, W).

    ``stride`` defaults to ``kernel_size``; ties in a window share the gradient evenly.
    """
    return apply(MaxPool2d(*_pool_args("max_pool2d", x, kernel_size, stride)), x)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None) -> Tensor:
    r"""Return the mean of each kernel-sized window of ``x`` (N, C, H, W).

    ``stride`` defaults to ``kernel_size``.
    """
    return apply(AvgPool2d(*_pool_args("avg_pool2d", x, kernel_size, stride)), x)
