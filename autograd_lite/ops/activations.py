r"""Activation functions: sigmoid, tanh, relu, softmax, log-softmax, softplus, leaky relu, elu.

Each rule reuses the forward's result where the math does, so nothing is computed twice:
σ′ = o (1 − o), tanh′ = 1 − o², elu′ = o + α below 0, and the softmax rules use o itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op
from .axes import single_axis
from .checks import Axes, Call, Checks, Example, Form, Values, away, normal, tensor
from .elementwise import exp_of
from .recording import apply, as_tensor, data, is_plain, record

if TYPE_CHECKING:
    from ..tensor import Tensor


def stable_sigmoid(x: np.ndarray) -> Any:
    """Return σ(x) = 1 / (1 + e⁻ˣ), exact at the extremes.

    For x ≪ 0, e⁻ˣ overflows to inf and σ is 0
    (the overflow is expected and silenced); for x ≫ 0, e⁻ˣ is 0 and σ is 1. Elsewhere the
    division of 1 by an accurate 1 + e⁻ˣ keeps full relative precision.
    """
    if x.ndim == 0 or x.dtype.kind != "f":  # NumPy hands back scalars; integers become floats
        with np.errstate(over="ignore"):
            return np.asarray(1 / (1 + np.exp(-x)))
    e = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(e, out=e)  # one new array for the whole computation
    e += 1
    return np.divide(1.0, e, out=e)  # SIMD division: faster than np.reciprocal on large arrays


class Sigmoid(Op):
    r"""o = σ(x) = 1 / (1 + e⁻ˣ);  ∂E/∂x = ∂E/∂o · o · (1 − o)."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Sigmoid", lambda r: (lambda a: a.sigmoid(), [normal(r, 2, 3)])),),
        forms=(Form("sigmoid({0})", lambda x: x.sigmoid(), (Values(-6.0, 6.0),)),),
    )

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o = σ(x) = 1 / (1 + e⁻ˣ)."""
        return stable_sigmoid(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · o · (1 − o)."""
        return (g * (out * (1 - out)),)  # NumPy reuses the temporaries of large arrays


def sigmoid(x: Any) -> Tensor:
    r"""Return σ(x) = 1 / (1 + e⁻ˣ), elementwise and overflow-free."""
    return as_tensor(x).sigmoid()


class Tanh(Op):
    r"""o = tanh x;  ∂E/∂x = ∂E/∂o · (1 − o²)."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Tanh", lambda r: (lambda a: a.tanh(), [normal(r, 2, 3)])),),
        forms=(Form("tanh({0})", lambda x: x.tanh()),),
    )

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o = tanh x."""
        return np.tanh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · (1 − o²)."""
        return (g * (1 - out * out),)


def tanh(x: Any) -> Tensor:
    """Return tanh x, elementwise."""
    return as_tensor(x).tanh()


class ReLU(Op):
    r"""o = max(x, 0);  ∂E/∂x = ∂E/∂o · [x > 0] (0 at the kink x = 0)."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("ReLU", lambda r: (lambda a: a.relu(), [away(r, 2, 3)])),
            Example(
                "ReLU at 0", lambda r: (lambda a: a.relu(), [tensor([-1.0, 0.0, 2.0])]), kink=True
            ),
        ),
        forms=(Form("relu({0})", lambda x: x.relu(), (Values(avoid=(0.0,)),)),),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0])),
    )

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o = max(x, 0)."""
        return np.maximum(x, 0)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · [x > 0] (0 at the kink x = 0)."""
        return (g * (data(x) > 0),)


def relu(x: Any) -> Tensor:
    """Return max(x, 0), elementwise."""
    return as_tensor(x).relu()


class Softmax(Op):
    r"""oᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis``;  ∂E/∂x = o · (ḡ − Σⱼ ḡⱼ oⱼ)."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Softmax", lambda r: (lambda a: a.softmax(axis=-1), [normal(r, 2, 3)])),
            Example(
                "Softmax (negative axis)",
                lambda r: (lambda a: a.softmax(axis=-2), [normal(r, 3, 2)]),
            ),
        ),
        forms=(
            Form("softmax({0})", lambda x: softmax(x, -1), graph=None),
            Form("{0}.softmax(axis=0)", lambda x: x.softmax(0), graph=None),
            Form(
                "{0}.softmax(axis)",
                lambda x, axis: x.softmax(axis),
                inputs="single_axis",
                graph=Call({"axis": Axes(single=True)}),
            ),
        ),
    )

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> Any:
        r"""Return oᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis``."""
        self.axis = single_axis(self.axis, np.ndim(x), "softmax")
        if x.size == 0:  # nothing to normalise (and NumPy's max has no identity to start from)
            return np.exp(x)
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = o · (ḡ − Σⱼ ḡⱼ oⱼ)."""
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)


def softmax(x: Any, axis: int = -1) -> Tensor:
    r"""Return e^{xᵢ} / Σⱼ e^{xⱼ} along ``axis``."""
    return as_tensor(x).softmax(axis)


class LogSoftmax(Op):
    r"""oᵢ = xᵢ − log Σⱼ e^{xⱼ} along ``axis``;  ∂E/∂x = ḡ − e^{o} · Σⱼ ḡⱼ."""

    __slots__ = ("axis",)
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("LogSoftmax", lambda r: (lambda a: a.log_softmax(axis=0), [normal(r, 3, 2)])),
        ),
        forms=(
            Form("log_softmax({0})", lambda x: log_softmax(x, -1), graph=None),
            Form(
                "{0}.log_softmax(axis)",
                lambda x, axis: x.log_softmax(axis),
                inputs="single_axis",
                graph=Call({"axis": Axes(single=True)}),
            ),
        ),
    )

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> Any:
        r"""Return oᵢ = xᵢ − log Σⱼ e^{xⱼ} along ``axis``."""
        self.axis = single_axis(self.axis, np.ndim(x), "log_softmax")
        return log_softmax_array(x, self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ḡ − e^{o} · Σⱼ ḡⱼ."""
        return (g - exp_of(out) * g.sum(axis=self.axis, keepdims=True),)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    r"""Return xᵢ − log Σⱼ e^{xⱼ} along ``axis``."""
    return as_tensor(x).log_softmax(axis)


def log_softmax_array(x: np.ndarray, axis: int) -> Any:
    """Return x − logsumexp(x): the shift by the maximum keeps every exponent ≤ 0."""
    if x.size == 0:  # nothing to normalise (and NumPy's max has no identity to start from)
        return np.exp(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_of(v: Any, axis: int = -1) -> Any:
    """Return the softmax of ``v`` along ``axis``: NumPy on plain values, recorded on Tensors."""
    op = Softmax(axis)
    return op.forward(v) if is_plain(v) else record(op, v)


def sigmoid_of(v: Any) -> Any:
    """σ(v) for gradient rules: NumPy on plain values, a recorded op on Tensors."""
    return stable_sigmoid(np.asarray(v)) if is_plain(v) else record(Sigmoid(), v)


class Softplus(Op):
    r"""o = log(1 + eˣ);  ∂E/∂x = ∂E/∂o · σ(x).

    Computed as ``logaddexp(0, x)``, so no exponent overflows: o = x to rounding for x ≫ 0
    and o = eˣ for x ≪ 0.
    """

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Softplus", lambda r: (softplus, [normal(r, 2, 3)])),),
        forms=(Form("softplus({0})", lambda x: softplus(x), (Values(-6.0, 6.0),)),),
    )

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o = log(1 + eˣ)."""
        return np.logaddexp(0, x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · σ(x)."""
        return (g * sigmoid_of(x),)


def softplus(x: Any) -> Tensor:
    r"""log(1 + eˣ), elementwise and overflow-free (PyTorch's ``softplus`` with β = 1)."""
    return apply(Softplus(), x)


class LeakyReLU(Op):
    r"""o = x for x > 0, s · x otherwise (s = ``negative_slope``);
    ∂E/∂x = ∂E/∂o · (1 if x > 0 else s) (s at the kink x = 0, as PyTorch).
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("negative_slope",)
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("LeakyReLU", lambda r: (lambda a: leaky_relu(a, 0.1), [away(r, 2, 3)])),
            Example(
                "LeakyReLU at 0",
                lambda r: (lambda a: leaky_relu(a, 0.1), [tensor([-1.0, 0.0, 2.0])]),
                kink=True,
            ),
        ),
        forms=(
            Form("leaky_relu({0}, 0.2)", lambda x: leaky_relu(x, 0.2), (Values(avoid=(0.0,)),)),
        ),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0])),
    )

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray) -> Any:
        r"""Return o = x for x > 0, s · x otherwise (s = ``negative_slope``)."""
        return np.where(x > 0, x, x * self.negative_slope)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · (1 if x > 0 else s) (s at the kink x = 0, as PyTorch)."""
        xd = data(x)
        return (g * np.where(xd > 0, 1.0, self.negative_slope).astype(xd.dtype),)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    r"""Return x for x > 0, ``negative_slope`` · x otherwise, elementwise."""
    return apply(LeakyReLU(_number(negative_slope, "leaky_relu", "negative_slope")), x)


class ELU(Op):
    r"""o = x for x > 0, α (eˣ − 1) otherwise;  ∂E/∂x = ∂E/∂o · (1 if x > 0 else o + α).

    Below zero the slope α eˣ is o + α, so the rule reuses the result (α at x = 0, as PyTorch).
    """

    __slots__ = ("alpha",)
    keeps = (0,)
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("ELU", lambda r: (lambda a: elu(a, alpha=0.7), [away(r, 2, 3)])),
            Example(
                "ELU at 0 (alpha 0.5)",
                lambda r: (lambda a: elu(a, 0.5), [tensor([-1.0, 0.0, 2.0])]),
                kink=True,
            ),
        ),
        forms=(Form("elu({0}, 0.7)", lambda x: elu(x, 0.7), (Values(avoid=(0.0,)),)),),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0])),
    )

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def forward(self, x: np.ndarray) -> np.ndarray:
        r"""Return o = x for x > 0, α (eˣ − 1) otherwise."""
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ∂E/∂o · (1 if x > 0 else o + α)."""
        xd = data(x)
        above = (xd > 0).astype(xd.dtype)
        return (g * (above + (1 - above) * (out + self.alpha)),)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    r"""Return x for x > 0, α (eˣ − 1) otherwise, elementwise."""
    return apply(ELU(_number(alpha, "elu", "alpha")), x)


def _number(value: Any, op: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value!r}")
    return float(value)
