r"""Elementwise arithmetic and functions, each with its vector-Jacobian product.

Notation: ``o`` is the op's result, ``ḡ = ∂E/∂o`` the gradient flowing in. Binary ops broadcast
like NumPy; the engine sums each input's gradient back to that input's shape.

The lower-case functions at the end (``exp``, ``log``, ``clip``, ``where``, ``cast``...) accept
either plain arrays (they call NumPy) or Tensors (they record the op), so gradient rules written
with them also work when ``create_graph=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op
from .checks import ANY, Checks, Example, Form, Values, away, normal, positive, tensor
from .recording import (
    Sizes,
    apply,
    as_tensor,
    binary_args,
    data,
    is_plain,
    is_tensor,
    record,
    shape_of,
)

if TYPE_CHECKING:
    from ..tensor import Tensor


class Binary(Op):
    """Shared forward of the broadcasting binary ops: a clear error when shapes don't fit."""

    __slots__ = ()
    ufunc: ClassVar[np.ufunc]
    label: ClassVar[str]

    def forward(self, a: np.ndarray, b: np.ndarray) -> Any:
        r"""Return o for the inputs' values (see the class docstring)."""
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

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Add (broadcast)", lambda r: (lambda a, b: a + b, [normal(r, 3, 4), normal(r, 4)])
            ),
        ),
        forms=(Form("{0} + {1}", lambda x, y: x + y, (ANY, ANY)),),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ, ∂E/∂b = ḡ."""
        return g, g


class Sub(Binary):
    r"""o = a − b;  ∂E/∂a = ḡ,  ∂E/∂b = −ḡ."""

    __slots__ = ()
    keeps = ()
    keeps_out = False
    ufunc, label = np.subtract, "sub"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Sub (broadcast)", lambda r: (lambda a, b: a - b, [normal(r, 3), normal(r, 2, 3)])
            ),
        ),
        forms=(Form("{0} - {1}", lambda x, y: x - y, (ANY, ANY)),),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ, ∂E/∂b = −ḡ."""
        return g, (-g if self.needs[1] else None)


class Mul(Binary):
    r"""o = a · b;  ∂E/∂a = ḡ · b,  ∂E/∂b = ḡ · a."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = False
    crossed = True
    ufunc, label = np.multiply, "mul"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Mul (broadcast)",
                lambda r: (lambda a, b: a * b, [normal(r, 2, 3), normal(r, 2, 1)]),
            ),
        ),
        forms=(Form("{0} * {1}", lambda x, y: x * y, (ANY, ANY)),),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · b, ∂E/∂b = ḡ · a."""
        needs = self.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Binary):
    r"""o = a / b;  ∂E/∂a = ḡ / b,  ∂E/∂b = −ḡ · a / b² = −ḡ · o / b."""

    __slots__ = ()
    keeps = (1,)
    keeps_out = True
    ufunc, label = np.divide, "div"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Div (broadcast)", lambda r: (lambda a, b: a / b, [normal(r, 2, 3), away(r, 2, 1)])
            ),
        ),
        forms=(
            Form("{0} / {1}", lambda x, y: x / y, (ANY, Values(avoid=(0.0,), margin=0.5))),
            Form("{0} / ({1} * {1} + 1)", lambda x, y: x / (y * y + 1), (ANY, ANY)),
            Form("1 / ({0} * {0} + 1)", lambda x: 1.0 / (x * x + 1)),
            Form(
                "(3 - {0}) * 0.5 / ({0} * {0} + 1) + 1",
                lambda x: (3.0 - x) * 0.5 / (x * x + 1.0) + 1.0,
                graph=None,
            ),
        ),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ / b, ∂E/∂b = −ḡ · a / b² = −ḡ · o / b."""
        ga = g / b
        return ga, (-ga * out if self.needs[1] else None)


class Pow(Binary):
    r"""o = aᵇ;  ∂E/∂a = ḡ · b · aᵇ⁻¹,  ∂E/∂b = ḡ · o · log a.

    At base 0 the formulas meet 0 · ∞ and log 0; the values there are PyTorch's, first and
    second order: ∂E/∂a = 0 where a = b = 0 (and for a Python scalar exponent 0 everywhere: a⁰
    is constant), and ∂E/∂b = 0 where a = 0 and b ≥ 0 (0ᵇ is 0 or 1 there). The rule is
    written in recorded operations, so second derivatives follow the same convention: the
    second derivative of x¹ at 0 is 0, of x² is 2, of x³ is 0. One deliberate difference:
    for a = 0 nowhere, ∂²E/∂a∂b at b = 0 is the true 1/a (PyTorch masks the whole b = 0 case
    and gives 0). A negative base has no real logarithm: ∂E/∂b is NaN there (with NumPy's
    warning), as in PyTorch. Python scalars work on either side (``0.0 ** x`` included).
    """

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.power, "pow"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Pow (x ** 3)", lambda r: (lambda a: a**3, [normal(r, 3)])),
            Example("Pow (x ** 2)", lambda r: (lambda a: a**2, [normal(r, 3)])),
            Example("Pow (x ** 3 at 0)", lambda r: (lambda a: a**3, [tensor([0.0, -1.5, 0.7])])),
            Example(
                "Pow (a ** b at b = 0, 1)",
                lambda r: (lambda a, b: a**b, [positive(r, 3), tensor([0.0, 1.0, -0.5])]),
            ),
            Example("Pow (a ** b)", lambda r: (lambda a, b: a**b, [positive(r, 3), normal(r, 3)])),
        ),
        forms=(
            Form("{0} ** {1}", lambda x, y: x**y, (Values(low=0.5), Values(-2.0, 2.0))),
            Form("{0} ** 2", lambda x: x**2),
            Form("{0} ** 3", lambda x: x**3, (Values(-3.0, 3.0),)),
            Form("{0} ** 1.5", lambda x: x**1.5, (Values(low=0.1),)),
            Form("2 ** {0}", lambda x: 2.0**x, graph=None),
        ),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · b · aᵇ⁻¹, ∂E/∂b = ḡ · o · log a."""
        needs = self.needs
        ga = gb = None
        if needs[0]:
            if isinstance(b, (int, float)):  # a Python scalar exponent
                if b == 0:
                    ga = zero_where(True, g)
                elif b == 2:
                    ga = g * 2 * a
                else:
                    ga = g * b * a ** (b - 1)
            else:
                ga = zero_where((data(a) == 0) & (data(b) == 0), lambda: g * b * a ** (b - 1))
        if needs[1]:
            gb = g * zero_where((data(a) == 0) & (data(b) >= 0), lambda: out * log_of(a))
        return ga, gb

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s, (a, b) = Sizes(self), getattr(self, "inputs", None) or (None, None)
        if isinstance(b, (int, float, np.number)):  # a constant exponent, as in x ** 3
            return (
                f"o = a^{b:g}; ∂E/∂a{s(0)} = ḡ{s(2)} · {b:g} · a^{b - 1:g}, "
                f"∂E/∂b{s(1)} = none (b = {b:g} is a constant)."
            )
        if isinstance(a, (int, float, np.number)):  # a constant base, as in 2 ** x
            return (
                f"o = {a:g}ᵇ; ∂E/∂a{s(0)} = none (a = {a:g} is a constant), "
                f"∂E/∂b{s(1)} = ḡ{s(2)} · o · log {a:g}."
            )
        return super().rule()


class Maximum(Binary):
    r"""o = max(a, b);  ∂E/∂a = ḡ · ([a > b] + ½ [a = b]),  ∂E/∂b = ḡ · ([b > a] + ½ [a = b]).

    A tie gives each side half, as in PyTorch (so ``maximum(x, x)`` has gradient ḡ).
    """

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.maximum, "maximum"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Maximum", lambda r: (maximum, [tensor([1.0, -2.0, 0.5]), tensor([0.0, 1.0, 2.0])])
            ),
            Example(
                "Maximum (tie)",
                lambda r: (maximum, [tensor([1.0, 2.0]), tensor([1.0, 0.0])]),
                kink=True,
            ),
        ),
        forms=(Form("maximum({0}, {1})", lambda x, y: maximum(x, y), (ANY, ANY), apart=(0.0,)),),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0]) - np.asarray(xs[1])),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · ([a > b] + ½ [a = b]), ∂E/∂b = ḡ · ([b > a] + ½ [a = b])."""
        ad, bd = data(a), data(b)
        share = ((ad > bd) + 0.5 * (ad == bd)).astype(data(out).dtype)
        return g * share, g * (1 - share)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum with broadcasting; ties share the gradient evenly."""
    return apply(Maximum(), *binary_args("maximum", a, b))


class Minimum(Binary):
    r"""o = min(a, b);  ∂E/∂a = ḡ · ([a < b] + ½ [a = b]),  ∂E/∂b = ḡ · ([b < a] + ½ [a = b])."""

    __slots__ = ()
    keeps = (0, 1)
    keeps_out = True
    ufunc, label = np.minimum, "minimum"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Minimum", lambda r: (minimum, [tensor([1.0, -2.0, 0.5]), tensor([0.0, 1.0, 2.0])])
            ),
        ),
        forms=(Form("minimum({0}, {1})", lambda x, y: minimum(x, y), (ANY, ANY), apart=(0.0,)),),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0]) - np.asarray(xs[1])),
    )

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · ([a < b] + ½ [a = b]), ∂E/∂b = ḡ · ([b < a] + ½ [a = b])."""
        ad, bd = data(a), data(b)
        share = ((ad < bd) + 0.5 * (ad == bd)).astype(data(out).dtype)
        return g * share, g * (1 - share)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum with broadcasting; ties share the gradient evenly."""
    return apply(Minimum(), *binary_args("minimum", a, b))


class Where(Op):
    r"""o = a where cond else b;  ∂E/∂a = ḡ · [cond],  ∂E/∂b = ḡ · [¬cond]."""

    __slots__ = ("cond",)
    keeps = ()
    keeps_out = False
    array_fields = ("cond",)

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Where", lambda r: (_where_example, [normal(r, 2, 3), normal(r, 3)])),),
        forms=(
            Form(
                "where({0} > 0, {0}, {1})",
                lambda x, y: where(x.data > 0, x, y),
                (Values(avoid=(0.0,)), ANY),
            ),
        ),
    )

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r"""Return o = a where cond else b."""
        try:
            return np.where(self.cond, a, b)
        except ValueError:
            raise ValueError(
                f"where: shapes {self.cond.shape}, {shape_of(a)} and {shape_of(b)} "
                "cannot be broadcast together"
            ) from None

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · [cond], ∂E/∂b = ḡ · [¬cond]."""
        return g * self.cond, g * ~self.cond


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Return ``a`` where ``cond`` is true, else ``b`` (broadcasting); ``cond`` has no gradient."""
    c = np.asarray(data(cond) if is_tensor(cond) else cond)
    if c.dtype != bool:
        raise TypeError(f"where: cond must be boolean, got dtype {c.dtype}")
    return apply(Where(c), *binary_args("where", a, b))


def _where_example(a: Tensor, b: Tensor) -> Tensor:
    return where(np.array([[True, False, True], [False, False, True]]), a, b)


class Neg(Op):
    r"""o = −a;  ∂E/∂a = −ḡ."""

    __slots__ = ()
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Neg", lambda r: (lambda a: -a, [normal(r, 3)])),),
        forms=(Form("-{0}", lambda x: -x),),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = −a."""
        return np.negative(a)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = −ḡ."""
        return (-g,)


class Exp(Op):
    r"""o = eᵃ;  ∂E/∂a = ḡ · o."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Exp", lambda r: (lambda a: a.exp(), [normal(r, 2, 3)])),),
        forms=(Form("exp({0})", lambda x: x.exp(), (Values(high=3.0),)),),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = eᵃ."""
        return np.exp(a)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · o."""
        return (g * out,)


def exp(x: Any) -> Tensor:
    """Return eˣ, elementwise."""
    return as_tensor(x).exp()


class Log(Op):
    r"""o = log a;  ∂E/∂a = ḡ / a."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Log", lambda r: (lambda a: a.log(), [positive(r, 2, 3)])),),
        forms=(
            Form("log({0})", lambda x: x.log(), (Values(low=0.1),)),
            Form("log({0} * {0} + 1)", lambda x: (x * x + 1).log()),
        ),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = log a."""
        return np.log(a)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ / a."""
        return (g / a,)


def log(x: Any) -> Tensor:
    """Return the natural logarithm, elementwise."""
    return as_tensor(x).log()


class Sqrt(Op):
    r"""o = √a;  ∂E/∂a = ḡ / (2 o)."""

    __slots__ = ()
    keeps = ()
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Sqrt", lambda r: (lambda a: a.sqrt(), [positive(r, 3)])),),
        forms=(Form("sqrt({0})", lambda x: x.sqrt(), (Values(low=0.1),)),),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = √a."""
        return np.sqrt(a)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ / (2 o)."""
        return (g / (2 * out),)


class Abs(Op):
    r"""o = |a|;  ∂E/∂a = ḡ · sign(a) (0 at a = 0, where |a| has a kink)."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Abs", lambda r: (lambda a: a.abs(), [away(r, 3, 2)])),
            Example(
                "Abs at 0", lambda r: (lambda a: a.abs(), [tensor([-1.0, 0.0, 2.0])]), kink=True
            ),
        ),
        forms=(Form("abs({0})", lambda x: x.abs(), (Values(avoid=(0.0,)),)),),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0])),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = |a|."""
        return np.abs(a)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · sign(a) (0 at a = 0, where |a| has a kink)."""
        return (g * np.sign(data(a)),)


class Clip(Op):
    r"""o = min(max(a, low), high);  ∂E/∂a = ḡ · [low ≤ a ≤ high].

    At exactly ``low`` or ``high`` the gradient passes (the bounds count as inside), as in
    PyTorch's ``clamp``.
    """

    __slots__ = ("high", "low")
    keeps = (0,)
    keeps_out = False
    array_fields = ("high", "low")

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Clip",
                lambda r: (lambda a: a.clip(-1.0, 1.0), [tensor([-1.8, -0.5, 0.3, 1.6, 0.8])]),
            ),
            Example(
                "Clip (at a bound)",
                lambda r: (lambda a: a.clip(-1.0, 1.0), [tensor([-1.0, 0.0, 1.0])]),
                kink=True,
            ),
        ),
        forms=(
            Form("clip({0}, -1, 1)", lambda x: x.clip(-1.0, 1.0), (Values(avoid=(-1.0, 1.0)),)),
            Form("clip({0}, -0.5, 0.5)", lambda x: x.clip(-0.5, 0.5), (Values(avoid=(-0.5, 0.5)),)),
        ),
        kink_mask=lambda op, xs, out: op.branches(np.asarray(xs[0])),
    )

    def __init__(self, low: float | None, high: float | None) -> None:
        if low is None and high is None:
            raise ValueError("clip: give at least one of low and high")
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip: low ({low}) is greater than high ({high})")
        self.low, self.high = low, high

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = min(max(a, low), high)."""
        return np.clip(a, self.low, self.high)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · [low ≤ a ≤ high]."""
        ad = data(a)
        inside = np.ones(ad.shape, dtype=bool)
        if self.low is not None:
            inside &= ad >= self.low
        if self.high is not None:
            inside &= ad <= self.high
        return (g * inside,)

    def branches(self, a: np.ndarray) -> np.ndarray:
        """Return sign(a − low) + sign(a − high): which side of each bound every element is on."""
        mask = np.zeros(a.shape)
        if self.low is not None:
            mask += np.sign(a - self.low)
        if self.high is not None:
            mask += np.sign(a - self.high)
        return mask

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s, low, high = Sizes(self), self.low, self.high
        forward = "a" if low is None else f"max(a, {low:g})"
        forward = forward if high is None else f"min({forward}, {high:g})"
        bounds = [f"{v:g}" if v is not None else None for v in (low, high)]
        inside = " ≤ ".join(b for b in (bounds[0], "a", bounds[1]) if b is not None)
        return f"o = {forward}; ∂E/∂a{s(0)} = ḡ{s(1)} · [{inside}]."


class Cast(Op):
    r"""o = a converted to ``dtype``;  ∂E/∂a = ḡ converted back to a's dtype."""

    __slots__ = ("dtype",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "Cast (float32)",
                lambda r: (lambda a: apply(Cast(np.float32), a), [normal(r, 2, 3)]),
                options={"eps": 1e-3, "atol": 1e-3, "rtol": 1e-2},
            ),
        ),
    )

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, a: np.ndarray) -> np.ndarray:
        r"""Return o = a converted to ``dtype``."""
        return np.asarray(a).astype(self.dtype)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ converted back to a's dtype."""
        return (cast(g, data(a).dtype),)


# -- functions for rules: NumPy on plain values, a recorded op on Tensors -----------------------


def exp_of(v: Any) -> Any:
    """Return eᵛ: NumPy on plain values, a recorded op on Tensors."""
    return np.exp(v) if is_plain(v) else record(Exp(), v)


def log_of(v: Any) -> Any:
    """Return log v: NumPy on plain values, a recorded op on Tensors."""
    if isinstance(v, (int, float)):  # a Python scalar stays one (log 0 = −inf, log −1 = nan)
        return float(np.log(float(v)))
    return np.log(v) if is_plain(v) else record(Log(), v)


def clip_of(v: Any, low: float | None, high: float | None) -> Any:
    """Return ``v`` clipped to [low, high]: NumPy on plain values, recorded on Tensors."""
    return np.clip(v, low, high) if is_plain(v) else record(Clip(low, high), v)


def zero_where(mask: Any, value: Any) -> Any:
    """Return ``value`` with 0 where ``mask`` holds (a plain bool array or bool).

    For rules whose formula breaks down on part of the domain. ``value`` may be a callable that
    computes it: then it
    is only computed if some element is not masked, and without NumPy's warnings about the
    inf and nan it holds at the masked elements (they are replaced, not used). On Tensors
    the gradient of the masked elements is 0 (a recorded :class:`Where`).
    """
    mask = np.asarray(mask)
    if not callable(value):
        if not mask.any():
            return value
    elif not mask.any():
        return value()
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value = value()
    if is_plain(value):
        return np.where(mask, 0, value)
    return record(Where(np.broadcast_to(mask, value.shape)), 0.0, value)


def cast(v: Any, dtype: Any) -> Any:
    """Return ``v`` as ``dtype``: NumPy on plain values, a recorded op on Tensors."""
    if is_plain(v):
        return np.asarray(v).astype(dtype, copy=False)
    return v if v.dtype == dtype else record(Cast(dtype), v)
