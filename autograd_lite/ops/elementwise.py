r"""Elementwise arithmetic and functions, each with its vector-Jacobian product.

Notation: ``o`` is the op's result, ``ḡ = ∂E/∂o`` the gradient flowing in. Binary ops broadcast
like NumPy; the engine sums each input's gradient back to that input's shape.

The lower-case functions at the end (``exp``, ``log``, ``clip``, ``where``, ``cast``...) accept
either plain arrays (they call NumPy) or Tensors (they record the op), so gradient rules written
with them also work when ``create_graph=True``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..engine import Op
from ._record import data, is_plain, record, shape_of


class Binary(Op):
    """Shared forward of the broadcasting binary ops: a clear error when shapes don't fit."""

    __slots__ = ()
    ufunc: ClassVar[np.ufunc]
    label: ClassVar[str]

    def forward(self, a: Any, b: Any) -> np.ndarray:
        try:
            return self.ufunc(a, b)
        except ValueError:
            raise ValueError(
                f"{self.label}: shapes {shape_of(a)} and {shape_of(b)} cannot be broadcast together"
            ) from None


class Add(Binary):
    r"""o = a + b;  ∂E/∂a = ḡ,  ∂E/∂b = ḡ."""

    __slots__ = ()
    keeps = ()
    keeps_out = False
    ufunc, label = np.add, "add"

    def backward(self, g, out, a, b):
        return g, g


class Sub(Binary):
    r"""o = a − b;  ∂E/∂a = ḡ,  ∂E/∂b = −ḡ."""

    __slots__ = ()
    keeps = ()
    keeps_out = False
    ufunc, label = np.subtract, "sub"

    def backward(self, g, out, a, b):
        return g, (-g if self.needs[1] else None)


class Mul(Binary):
    r"""o = a · b;  ∂E/∂a = ḡ · b,  ∂E/∂b = ḡ · a."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = False
    crossed = True
    ufunc, label = np.multiply, "mul"

    def backward(self, g, out, a, b):
        needs = self.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Binary):
    r"""o = a / b;  ∂E/∂a = ḡ / b,  ∂E/∂b = −ḡ · a / b² = −ḡ · o / b."""

    __slots__ = ()
    keeps = (1,)
    keeps_out = True
    ufunc, label = np.divide, "div"

    def backward(self, g, out, a, b):
        ga = g / b
        return ga, (-ga * out if self.needs[1] else None)


class Pow(Binary):
    r"""o = aᵇ;  ∂E/∂a = ḡ · b · aᵇ⁻¹,  ∂E/∂b = ḡ · o · log a."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.power, "pow"

    def backward(self, g, out, a, b):
        needs = self.needs
        ga = None
        if needs[0]:
            ga = g * 2 * a if (isinstance(b, (int, float)) and b == 2) else g * b * a ** (b - 1)
        gb = g * out * log(a) if needs[1] else None
        return ga, gb


class Maximum(Binary):
    r"""o = max(a, b);  ∂E/∂a = ḡ · [a > b] + ½ ḡ · [a = b], and the mirror image for b."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.maximum, "maximum"

    def backward(self, g, out, a, b):
        ad, bd = data(a), data(b)
        share = ((ad > bd) + 0.5 * (ad == bd)).astype(data(out).dtype)
        return g * share, g * (1 - share)


class Minimum(Binary):
    r"""o = min(a, b);  ∂E/∂a = ḡ · [a < b] + ½ ḡ · [a = b], and the mirror image for b."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.minimum, "minimum"

    def backward(self, g, out, a, b):
        ad, bd = data(a), data(b)
        share = ((ad < bd) + 0.5 * (ad == bd)).astype(data(out).dtype)
        return g * share, g * (1 - share)


class Where(Op):
    r"""o = a where cond else b;  ∂E/∂a = ḡ · [cond],  ∂E/∂b = ḡ · [¬cond]."""

    __slots__ = ("cond",)
    keeps = ()
    keeps_out = False
    array_fields = ("cond",)

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a, b):
        try:
            return np.where(self.cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: shapes {self.cond.shape}, {shape_of(a)} and {shape_of(b)} "
                "cannot be broadcast together"
            ) from None

    def backward(self, g, out, a, b):
        return g * self.cond, g * ~self.cond


class Neg(Op):
    r"""o = −a;  ∂E/∂a = −ḡ."""

    __slots__ = ()
    keeps = ()
    keeps_out = False

    def forward(self, a):
        return np.negative(a)

    def backward(self, g, out, a):
        return (-g,)


class Exp(Op):
    r"""o = eᵃ;  ∂E/∂a = ḡ · o."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    def forward(self, a):
        return np.exp(a)

    def backward(self, g, out, a):
        return (g * out,)


class Log(Op):
    r"""o = log a;  ∂E/∂a = ḡ / a."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    def forward(self, a):
        return np.log(a)

    def backward(self, g, out, a):
        return (g / a,)


class Sqrt(Op):
    r"""o = √a;  ∂E/∂a = ḡ / (2 o)."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    def forward(self, a):
        return np.sqrt(a)

    def backward(self, g, out, a):
        return (g / (2 * out),)


class Abs(Op):
    r"""o = |a|;  ∂E/∂a = ḡ · sign(a) (0 at a = 0, where |a| has a kink)."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    def forward(self, a):
        return np.abs(a)

    def backward(self, g, out, a):
        return (g * np.sign(data(a)),)


class Clip(Op):
    r"""o = min(max(a, low), high);  ∂E/∂a = ḡ · [low ≤ a ≤ high]."""

    __slots__ = ("high", "low")
    keeps = (0,)
    keeps_out = False
    array_fields = ("high", "low")

    def __init__(self, low: float | None, high: float | None) -> None:
        if low is None and high is None:
            raise ValueError("clip: give at least one of low and high")
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip: low ({low}) is greater than high ({high})")
        self.low, self.high = low, high

    def forward(self, a):
        return np.clip(a, self.low, self.high)

    def backward(self, g, out, a):
        ad = data(a)
        inside = np.ones(ad.shape, dtype=bool)
        if self.low is not None:
            inside &= ad >= self.low
        if self.high is not None:
            inside &= ad <= self.high
        return (g * inside,)


class Cast(Op):
    r"""o = a converted to ``dtype``;  ∂E/∂a = ḡ converted back to a's dtype."""

    __slots__ = ("dtype",)
    keeps = ()
    keeps_out = False

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, a):
        return np.asarray(a).astype(self.dtype)

    def backward(self, g, out, a):
        return (cast(g, data(a).dtype),)


# -- functions for rules: NumPy on plain values, a recorded op on Tensors -----------------------


def exp(v: Any) -> Any:
    return np.exp(v) if is_plain(v) else record(Exp(), v)


def log(v: Any) -> Any:
    if isinstance(v, (int, float)):
        return math.log(v)
    return np.log(v) if is_plain(v) else record(Log(), v)


def clip(v: Any, low: float | None, high: float | None) -> Any:
    return np.clip(v, low, high) if is_plain(v) else record(Clip(low, high), v)


def cast(v: Any, dtype: Any) -> Any:
    if is_plain(v):
        return np.asarray(v).astype(dtype, copy=False)
    return v if v.dtype == dtype else record(Cast(dtype), v)
