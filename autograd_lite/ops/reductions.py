r"""Reductions over axes: sum, mean, max, min, logsumexp.

``R`` is the set of reduced axes and ``n`` the number of elements each output summarises. The
gradient of a reduction is the incoming ``ḡ`` put back to the input's shape (``expand``) and,
for max and min, routed to the elements that attained the extreme (split evenly on ties).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op
from .axes import normalize_axis
from .checks import (
    FLAG,
    Axes,
    Call,
    Checks,
    Example,
    Form,
    Values,
    clear_extreme,
    distinct,
    normal,
    tensor,
)
from .elementwise import exp_of
from .recording import Sizes, apply, as_tensor, data
from .shape import broadcast_to

if TYPE_CHECKING:
    from ..tensor import Tensor

Axis = int | tuple[int, ...] | None


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes set to 1 (what ``keepdims=True`` gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Reduction(Op):
    """A reduction over ``axis``: as the caller gave it, then normalised.

    ``axis`` is an int, a tuple of ints with either sign, or ``None``; the forward normalises it
    (:func:`normalize_axis`) to a sorted tuple of non-negative axes,
    which is what the rules use.
    """

    __slots__ = ("axis", "keepdims")
    axis: Any  # as given, then (by forward) a sorted tuple of axes or None

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def normalize(self, a: Any) -> None:
        """Replace ``axis`` by its normalised form for ``a``'s number of axes."""
        self.axis = normalize_axis(self.axis, np.ndim(a), type(self).__name__.lower())

    def check_not_empty(self, shape: tuple[int, ...]) -> None:
        """Raise if a reduced axis of an (empty) input has length 0.

        Mean, max and min have no value over zero elements (NumPy gives NaN or raises without naming
        the op).
        """
        axes = range(len(shape)) if self.axis is None else self.axis
        if any(shape[i] == 0 for i in axes):
            over = "all axes" if self.axis is None else f"axis {self.axis}"
            raise ValueError(
                f"{type(self).__name__.lower()}: cannot reduce over zero elements (input shape "
                f"{shape}, reducing {over})"
            )

    #: The rule's text: the forward's symbol and how ḡ reaches the elements (see ``rule``).
    rule_forward: ClassVar[str] = "Σ"
    rule_route: ClassVar[str] = ""

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s = Sizes(self)
        axes: Any = (self.axis,) if isinstance(self.axis, (int, np.integer)) else self.axis
        over = (
            f"axes {axes}" if axes and len(axes) > 1 else f"axis {axes[0]}" if axes else "all axes"
        )
        route = self.rule_route
        if s.shapes is None:
            back = "ḡ with the reduced axes restored as size 1, broadcast back"
        else:
            shape = s.shapes[0]
            n = int(np.prod([shape[i] for i in (axes if axes is not None else range(len(shape)))]))
            route = route.replace("n", f"n, n = {n}") if route.endswith("/ n") else route
            kept = "" if self.keepdims else f" reshaped to {kept_shape(shape, axes)},"
            back = f"ḡ{s(1)}{kept} broadcast back to {shape}"
        return f"o = {self.rule_forward} over {over} of a; ∂E/∂a{s(0)} = {back}{route}."

    def expand(self, g: Any, shape: tuple[int, ...]) -> Any:
        """Return the incoming gradient with the reduced axes restored as size 1."""
        return g if self.keepdims else g.reshape(kept_shape(shape, self.axis))


class Sum(Reduction):
    r"""o = Σ_R a;  ∂E/∂a = ḡ broadcast back over R."""

    __slots__ = ()
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Sum", lambda r: (lambda a: a.sum(axis=(0, 2)), [normal(r, 2, 3, 2)])),
            Example(
                "Sum (mixed-sign axes)",
                lambda r: (lambda a: a.sum(axis=(-1, 0)), [normal(r, 2, 3, 2)]),
            ),
        ),
        forms=(
            Form(
                "{0}.sum(axis, keepdims)",
                lambda x, axis, keepdims: x.sum(axis, keepdims),
                inputs="axis",
                graph=Call({"axis": Axes(), "keepdims": FLAG}),
            ),
        ),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = Σ_R a."""
        self.normalize(a)
        return a.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ broadcast back over R."""
        return (broadcast_to(self.expand(g, a.shape), a.shape),)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    r"""Return Σ over ``axis`` (all axes by default)."""
    return as_tensor(x).sum(axis, keepdims)


class Mean(Reduction):
    r"""o = (1/n) Σ_R a;  ∂E/∂a = ḡ / n broadcast back over R."""

    __slots__ = ()
    keeps = ()
    keeps_out = False
    rule_forward, rule_route = "(1/n) Σ", " / n"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Mean", lambda r: (lambda a: a.mean(axis=0, keepdims=True), [normal(r, 3, 2)])),
        ),
        forms=(
            Form(
                "{0}.mean(axis, keepdims)",
                lambda x, axis, keepdims: x.mean(axis, keepdims),
                inputs="axis",
                graph=Call({"axis": Axes(), "keepdims": FLAG}),
            ),
        ),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = (1/n) Σ_R a."""
        self.normalize(a)
        if a.size == 0:
            self.check_not_empty(a.shape)
        return a.mean(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ / n broadcast back over R."""
        shape = a.shape
        n = (
            int(np.prod(shape))
            if self.axis is None
            else int(np.prod([shape[i] for i in self.axis]))
        )
        return (broadcast_to(self.expand(g, shape), shape) / n,)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    r"""Return (1/n) Σ over ``axis`` (all axes by default)."""
    return as_tensor(x).mean(axis, keepdims)


class Max(Reduction):
    r"""o = max_R a;  ∂E/∂a = ḡ · [a = o] / #{a = o} (ties share the gradient evenly).

    Even sharing is PyTorch's rule for ``max()`` and ``amax``; ``torch.max(x, dim)``, which also
    returns indices, gives a tie's whole gradient to one element instead.
    """

    __slots__ = ()
    keeps = (0,)
    keeps_out = True
    reducer = "max"
    rule_forward = "max"
    rule_route = " · [a = o] / #{a = o} (ties share the gradient evenly)"

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("Max", lambda r: (lambda a: a.max(axis=1), [distinct(r, 3, 4)])),
            Example(
                "Max (negative axis)", lambda r: (lambda a: a.max(axis=-2), [distinct(r, 3, 4)])
            ),
            Example(
                "Max (tie)",
                lambda r: (lambda a: a.max(axis=1), [tensor([[1.0, 3.0, 3.0], [0.5, -1.0, 2.0]])]),
                kink=True,
            ),
        ),
        forms=(
            Form(
                "{0}.max(axis, keepdims)",
                lambda x, axis, keepdims: x.max(axis, keepdims),
                (Values(distinct=True),),
                inputs="axis",
                graph=Call(
                    {"axis": Axes(), "keepdims": FLAG},
                    fits=lambda xs, kw: clear_extreme(xs[0], kw["axis"]),
                ),
            ),
        ),
        kink_mask=lambda op, xs, out: op.attains(np.asarray(xs[0]), np.asarray(out)),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = max_R a."""
        self.normalize(a)
        if a.size == 0:
            self.check_not_empty(a.shape)
        return getattr(a, self.reducer)(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · [a = o] / #{a = o} (ties share the gradient evenly)."""
        ad = data(a)
        hit = ad == self.expand(data(out), ad.shape)
        share = (hit / hit.sum(axis=self.axis, keepdims=True)).astype(ad.dtype)
        return (self.expand(g, ad.shape) * share,)

    def attains(self, a: np.ndarray, out: np.ndarray) -> Any:
        """Return [a = o]: which elements attain the extreme of their reduction (int8)."""
        return (a == self.expand(out, a.shape)).astype(np.int8)


class Min(Max):
    r"""o = min_R a;  ∂E/∂a = ḡ · [a = o] / #{a = o} (ties share the gradient evenly)."""

    __slots__ = ()
    reducer = "min"
    rule_forward = "min"

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Min", lambda r: (lambda a: a.min(), [distinct(r, 2, 3)])),),
        forms=(
            Form(
                "{0}.min(axis, keepdims)",
                lambda x, axis, keepdims: x.min(axis, keepdims),
                (Values(distinct=True),),
                inputs="axis",
                graph=Call(
                    {"axis": Axes(), "keepdims": FLAG},
                    fits=lambda xs, kw: clear_extreme(-xs[0], kw["axis"]),
                ),
            ),
        ),
        kink_mask=lambda op, xs, out: op.attains(np.asarray(xs[0]), np.asarray(out)),
    )


class LogSumExp(Reduction):
    r"""o = log Σ_R eᵃ = m + log Σ_R e^{a − m} (m = max_R a);  ∂E/∂a = ḡ · e^{a − o}.

    The shift by the maximum keeps every exponent ≤ 0, so no value overflows; e^{a − o} is the
    softmax over R, computed from the result.
    """

    __slots__ = ()
    keeps = (0,)
    keeps_out = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("LogSumExp", lambda r: (lambda a: logsumexp(a, axis=1), [normal(r, 3, 4)])),
            Example(
                "LogSumExp (all axes, keepdims)",
                lambda r: (lambda a: logsumexp(a, axis=None, keepdims=True), [normal(r, 2, 3)]),
            ),
        ),
        forms=(
            Form(
                "logsumexp({0}, axis, keepdims)",
                lambda x, axis, keepdims: logsumexp(x, axis, keepdims),
                inputs="axis",
                graph=Call({"axis": Axes(), "keepdims": FLAG}, ndim=(1, 8)),
            ),
        ),
    )

    def forward(self, a: np.ndarray) -> Any:
        r"""Return o = log Σ_R eᵃ = m + log Σ_R e^{a − m} (m = max_R a)."""
        self.normalize(a)
        if a.size == 0:
            self.check_not_empty(a.shape)
        m = np.max(a, axis=self.axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all −inf (or an inf) along R: no shift needed
        with np.errstate(divide="ignore"):
            o = np.log(np.exp(a - m).sum(axis=self.axis, keepdims=True)) + m
        return o if self.keepdims else np.squeeze(o, axis=self.axis)

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ · e^{a − o}."""
        shape = a.shape
        return (self.expand(g, shape) * exp_of(a - self.expand(out, shape)),)


def logsumexp(x: Any, axis: Any = -1, keepdims: bool = False) -> Tensor:
    r"""Return log Σ eˣ over ``axis`` (an int, a tuple of ints, or ``None``: all), overflow-free."""
    return apply(LogSumExp(axis, bool(keepdims)), x)
