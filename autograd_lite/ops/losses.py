r"""Losses, each fused into one op with a closed-form gradient.

``reduction`` is ``"sum"``, ``"mean"`` (divide by the number of terms) or ``"none"``
(elementwise, or per sample for cross-entropy). ``n`` below is the number of terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op
from .checks import (
    ANY,
    LABELLED_LOSS,
    PAIR_LOSS,
    Build,
    Checks,
    Example,
    Form,
    Values,
    normal,
    tensor,
)
from .recording import Sizes, apply, as_tensor, data, is_tensor, shape_of
from .recording import target as target_of

if TYPE_CHECKING:
    from ..tensor import Tensor
from .activations import log_softmax_array, softmax_of
from .elementwise import clip_of, log_of

# -- gradcheck examples -------------------------------------------------------------------------


def _bce_example(rng: np.random.Generator) -> tuple[Any, list[Any]]:
    return binary_cross_entropy, [
        tensor(rng.uniform(0.1, 0.9, (3, 2))),
        tensor(rng.uniform(0, 1, (3, 2))),
    ]


def _labelled(loss: Any) -> Build:
    """``loss(logits, labels)`` on four samples of three classes."""

    def build(rng: np.random.Generator) -> tuple[Any, list[Any]]:
        labels = np.array([0, 2, 1, 2])
        return (lambda x: loss(x, labels)), [normal(rng, 4, 3)]

    return build


def _pair_loss(loss: Any, d: Any, **kw: Any) -> Build:
    """``loss(prediction, target)`` with prediction − target = ``d`` (kept off the kinks)."""

    def build(rng: np.random.Generator) -> tuple[Any, list[Any]]:
        t = normal(rng, 2, 3)
        o = tensor(t.data + np.asarray(d).reshape(2, 3))
        return (lambda o, t: loss(o, t, **kw)), [o, t]

    return build


REDUCTIONS = ("sum", "mean", "none")


def check_reduction(reduction: str, op: str) -> str:
    """Return ``reduction`` if it is one of ``REDUCTIONS``, else raise naming ``op``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_mean_terms(n: int, op: str) -> None:
    """Refuse a mean of zero terms, which has no value: say so instead of returning NaN."""
    if n == 0:
        raise ValueError(
            f"{op}: reduction='mean' over zero terms (an empty batch) has no value; "
            "use reduction='sum' (which gives 0) or skip the empty batch"
        )


def _reduce(terms: np.ndarray, reduction: str, op: str) -> np.ndarray:
    if reduction == "sum":
        return np.asarray(terms.sum())
    if reduction == "mean":
        _check_mean_terms(terms.size, op)
        return np.asarray(terms.mean())
    return terms


def _rule_terms(op: Op, reduction: str, samples: bool = False) -> tuple[str, str, str, Sizes]:
    """Return the pieces of a loss's rule text.

    They are how the terms are combined (``Σ``, ``(1/n) Σ`` or nothing
    for ``"none"``), a note naming the reduction (and n, while the node holds its input), the
    factor that goes with ḡ, and the node's shapes. ``samples``: a term per row, not per element.
    """
    s = Sizes(op)
    shape = s.shape(0)
    note = f" (reduction={reduction!r})"
    if reduction == "mean" and shape is not None:
        note = f", n = {int(np.prod(shape[:-1] if samples else shape))}{note}"
    combine = {"sum": "Σ ", "mean": "(1/n) Σ ", "none": ""}[reduction]
    return combine, note, " / n" if reduction == "mean" else "", s


def _check_same_shape(op: str, prediction: Any, target: Any) -> None:
    if np.shape(prediction) != np.shape(target):
        raise ValueError(
            f"{op}: prediction shape {shape_of(prediction)} and target shape "
            f"{shape_of(target)} differ (losses do not broadcast)"
        )


class SquaredError(Op):
    r"""E = c · Σ (t − o)²;  ∂E/∂o = 2c · ḡ · (o − t),  ∂E/∂t = −∂E/∂o.

    ``c = ½`` is the tutorial's E = ½ Σ (t − o)², whose gradient is o − t; ``c = 1`` is the
    mean-squared error. With ``reduction="mean"`` the sum becomes a mean (divide by n).
    """

    __slots__ = ("label", "reduction", "scale")
    keeps = (0, 1)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("SquaredError", lambda r: (squared_error, [normal(r, 2, 2), normal(r, 2, 2)])),
            Example("SquaredError (mse_loss)", lambda r: (mse_loss, [normal(r, 3), normal(r, 3)])),
        ),
        forms=(
            Form(
                "squared_error({0}, {1}, reduction)",
                lambda o, t, reduction: squared_error(o, t, reduction),
                (ANY, ANY),
                inputs="loss",
                graph=PAIR_LOSS,
            ),
            Form(
                "mse_loss({0}, {1}, reduction)",
                lambda o, t, reduction: mse_loss(o, t, reduction),
                (ANY, ANY),
                inputs="loss",
                graph=PAIR_LOSS,
            ),
        ),
    )

    def __init__(self, reduction: str = "sum", scale: float = 0.5, label: str = "squared_error"):
        self.reduction = check_reduction(reduction, label)
        self.scale, self.label = scale, label

    def forward(self, o: np.ndarray, t: np.ndarray) -> Any:
        r"""Return E = c · Σ (t − o)²."""
        if o.shape != t.shape:  # both plain arrays here (a loss's target is made an array)
            _check_same_shape(self.label, o, t)
        d = o - t
        if self.reduction == "none":
            return self.scale * (d * d)
        d = d.reshape(-1)
        total = self.scale * np.dot(d, d)  # Σ d² in one BLAS call
        if self.reduction == "mean":
            _check_mean_terms(d.size, self.label)
            return np.asarray(total / d.size)
        return np.asarray(total)

    def backward(self, g: Any, out: Any, o: Any, t: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂o = 2c · ḡ · (o − t), ∂E/∂t = −∂E/∂o."""
        k = 2 * self.scale
        if self.reduction == "mean":
            k = k / int(np.size(data(o)))
        go = (o - t) * (g * k)
        return go, (-go if self.needs[1] else None)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        terms, note, per, s = _rule_terms(self, self.reduction)
        k = "" if self.scale == 0.5 else f"{2 * self.scale:g} · "
        return (
            f"E = {self.scale:g} · {terms}(t − o)²{note}; ∂E/∂o{s(0)} = {k}ḡ{s(2)}{per} · "
            f"(o − t), ∂E/∂t{s(1)} = −∂E/∂o."
        )


def squared_error(prediction: Any, target: Any, reduction: str = "sum") -> Tensor:
    r"""Return the tutorial's E = ½ Σ (t − o)²; its gradient in the prediction is o − t."""
    op = SquaredError(reduction, 0.5, "squared_error")
    return apply(op, as_tensor(prediction), target_of(target))


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> Tensor:
    r"""Return PyTorch's mean squared error: mean (o − t)²."""
    op = SquaredError(reduction, 1.0, "mse_loss")
    return apply(op, as_tensor(prediction), target_of(target))


class BinaryCrossEntropy(Op):
    r"""E = −[t log p + (1 − t) log(1 − p)].

    ∂E/∂p = ḡ · (p − t) / (p (1 − p)),  ∂E/∂t = ḡ · (log(1 − p) − log p).

    Stable at p = 0 and 1: each log is clamped at −100 and p (1 − p) at 1e-12, as PyTorch does,
    so the loss and its gradient stay finite.
    """

    __slots__ = ("reduction",)
    keeps = (0, 1)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("BinaryCrossEntropy", _bce_example),),
        forms=(
            Form(
                "binary_cross_entropy({0}, {1}, reduction)",
                lambda p, t, reduction: binary_cross_entropy(p, t, reduction),
                (Values(0.05, 0.95), Values(0.05, 0.95)),
                inputs="loss",
                graph=PAIR_LOSS,
            ),
        ),
    )

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction(reduction, "binary_cross_entropy")

    def forward(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        r"""Return E = −[t log p + (1 − t) log(1 − p)]."""
        _check_same_shape("binary_cross_entropy", p, t)
        for name, v in (("probabilities", p), ("target", t)):
            v = np.asarray(v)
            if v.size and not (np.all(v >= 0) and np.all(v <= 1)):
                raise ValueError(
                    f"binary_cross_entropy: {name} must lie in [0, 1]; got values from "
                    f"{np.nanmin(v):g} to {np.nanmax(v):g}"
                    + (" (and NaN)" if np.isnan(v).any() else "")
                )
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), -100)
            log1mp = np.maximum(np.log1p(-p), -100)
        return _reduce(-(t * logp + (1 - t) * log1mp), self.reduction, "binary_cross_entropy")

    def backward(self, g: Any, out: Any, p: Any, t: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂p = ḡ · (p − t) / (p (1 − p)), ∂E/∂t = ḡ · (log(1 − p) − log p)."""
        if self.reduction == "mean":
            g = g / int(np.size(data(p)))
        gp = g * (p - t) / clip_of(p * (1 - p), 1e-12, None)
        gt = None
        if self.needs[1]:
            with np.errstate(divide="ignore"):
                gt = g * (clip_of(log_of(1 - p), -100, None) - clip_of(log_of(p), -100, None))
        return gp, gt

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        terms, note, per, s = _rule_terms(self, self.reduction)
        return (
            f"E = −{terms}[t log p + (1 − t) log(1 − p)]{note}; ∂E/∂p{s(0)} = ḡ{s(2)}{per} · "
            f"(p − t) / (p (1 − p)), ∂E/∂t{s(1)} = ḡ{per} · (log(1 − p) − log p)."
        )


def binary_cross_entropy(probabilities: Any, target: Any, reduction: str = "mean") -> Tensor:
    r"""Return −[t log p + (1 − t) log(1 − p)], finite at p = 0 and p = 1."""
    op = BinaryCrossEntropy(reduction)
    return apply(op, as_tensor(probabilities), target_of(target))


def _check_labels(op: str, what: str, x: np.ndarray, labels: np.ndarray) -> None:
    """Scores of shape (N, C) or (C,) and integer labels of shape (N,) or () in [0, C)."""
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: {what} must be (N, C) or (C,), got shape {x.shape}")
    if labels.shape != x.shape[:-1]:
        raise ValueError(
            f"{op}: labels shape {labels.shape} does not fit {what} shape "
            f"{x.shape} (expected {x.shape[:-1]})"
        )
    n_classes = x.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{op}: labels must lie in [0, {n_classes}); got values from {labels.min()} to "
            f"{labels.max()} (labels shape {labels.shape}, {what} shape {x.shape})"
        )


def _onehot(labels: np.ndarray, like: np.ndarray) -> np.ndarray:
    onehot = np.zeros(like.shape, dtype=like.dtype)
    np.put_along_axis(onehot, labels[..., None], 1, axis=-1)
    return onehot


def _scale_for(g: Any, reduction: str, n: int) -> Any:
    """ḡ for each sample's term: divided by n for a mean, given a class axis for 'none'."""
    if reduction == "mean":
        return g / n
    if reduction == "none":
        return g.reshape(g.shape + (1,))
    return g


class CrossEntropy(Op):
    r"""E = −log softmax(x)[y] per sample;  ∂E/∂x = ḡ · (softmax(x) − onehot(y)).

    ``x`` holds logits of shape (N, C) (or (C,) for one sample) and ``labels`` integer classes
    in [0, C). Computed through log-softmax, so no exponent of a large number is ever formed.
    """

    __slots__ = ("labels", "reduction")
    keeps = (0,)
    keeps_out = False
    array_fields = ("labels",)

    checks: ClassVar[Checks] = Checks(
        examples=(Example("CrossEntropy", _labelled(lambda x, y: cross_entropy(x, y))),),
        forms=(
            Form(
                "cross_entropy({0}, labels, reduction)",
                lambda x, labels, reduction: cross_entropy(x, labels, reduction),
                (Values(-5.0, 5.0),),
                inputs="labels",
                graph=LABELLED_LOSS,
            ),
        ),
    )

    def __init__(self, labels: np.ndarray, reduction: str = "mean") -> None:
        self.labels, self.reduction = labels, check_reduction(reduction, "cross_entropy")

    def forward(self, x: np.ndarray) -> np.ndarray:
        r"""Return E = −log softmax(x)[y] per sample."""
        x = np.asarray(x)
        labels = self.labels
        _check_labels("cross_entropy", "logits", x, labels)
        picked = np.take_along_axis(log_softmax_array(x, -1), labels[..., None], axis=-1)
        return _reduce(-picked[..., 0], self.reduction, "cross_entropy")

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂x = ḡ · (softmax(x) − onehot(y))."""
        g = _scale_for(g, self.reduction, self.labels.size)
        return ((softmax_of(x, -1) - _onehot(self.labels, data(x))) * g,)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        terms, note, per, s = _rule_terms(self, self.reduction, samples=True)
        labels = f"labels y {self.labels.shape}"
        per = per or (" as a column" if self.reduction == "none" and self.labels.ndim else "")
        return (
            f"E = −{terms}log softmax(x)[y] over samples{note}, {labels}; ∂E/∂x{s(0)} = "
            f"ḡ{s(1)}{per} · (softmax(x) − onehot(y)), one-hot along the last axis."
        )


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Tensor:
    r"""Return log-softmax followed by the negative log-likelihood of the integer ``labels``."""
    y = np.asarray(data(labels) if is_tensor(labels) else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices, got dtype {y.dtype}")
    return apply(CrossEntropy(y, reduction), as_tensor(logits))


def _labels(op: str, labels: Any) -> np.ndarray:
    y = np.asarray(labels.data if hasattr(labels, "_node") else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: labels must be integer class indices, got dtype {y.dtype}")
    return y


class NLLLoss(Op):
    r"""E = −x[y] per sample (x: log-probabilities of shape (N, C) or (C,), y: integer labels);
    ∂E/∂x = −ḡ · onehot(y). With ``reduction="mean"`` the sum is divided by N.
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("labels", "reduction")
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("NLLLoss", _labelled(lambda x, y: nll_loss(x, y))),
            Example(
                "NLLLoss (of log_softmax, none)",
                _labelled(lambda x, y: nll_loss(x.log_softmax(), y, reduction="none")),
            ),
        ),
        forms=(
            Form(
                "nll_loss({0}, labels, reduction)",
                lambda x, labels, reduction: nll_loss(x, labels, reduction),
                (Values(-5.0, 5.0),),
                inputs="labels",
                graph=LABELLED_LOSS,
            ),
        ),
    )

    def __init__(self, labels: np.ndarray, reduction: str = "mean") -> None:
        self.labels, self.reduction = labels, check_reduction(reduction, "nll_loss")

    def forward(self, x: np.ndarray) -> np.ndarray:
        r"""Return o for the inputs' values (see the class docstring)."""
        x = np.asarray(x)
        _check_labels("nll_loss", "log_probabilities", x, self.labels)
        picked = np.take_along_axis(x, self.labels[..., None], axis=-1)
        return _reduce(-picked[..., 0], self.reduction, "nll_loss")

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        g = _scale_for(g, self.reduction, self.labels.size)
        return (-_onehot(self.labels, data(x)) * g,)


def nll_loss(log_probabilities: Any, labels: Any, reduction: str = "mean") -> Tensor:
    r"""Return the negative log-likelihood −log p[label] of log-probabilities.

    PyTorch's ``nll_loss``: ``nll_loss(log_softmax(x), y)`` equals ``cross_entropy(x, y)``.
    """
    return apply(NLLLoss(_labels("nll_loss", labels), reduction), log_probabilities)


def _sign(v: Any) -> Any:
    """sign(v) as a constant of v's dtype (its derivative is 0 wherever it is defined)."""
    d = data(v)
    return np.sign(d).astype(d.dtype, copy=False)


class L1Loss(Op):
    r"""E = |o − t|;  ∂E/∂o = ḡ · sign(o − t),  ∂E/∂t = −∂E/∂o (0 at the kink o = t, as
    PyTorch). With ``reduction="mean"`` the sum is divided by n.
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("reduction",)
    keeps = (0, 1)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "L1Loss",
                _pair_loss(
                    lambda o, t, **kw: l1_loss(o, t, **kw), [0.3, -0.5, 1.6, -2.0, 0.1, 0.8]
                ),
            ),
            Example(
                "L1Loss (none)",
                _pair_loss(
                    lambda o, t, **kw: l1_loss(o, t, **kw),
                    [0.3, -0.5, 1.6, -2.0, 0.1, 0.8],
                    reduction="none",
                ),
            ),
            Example(
                "L1Loss at 0",
                lambda r: (l1_loss, [tensor([1.0, 0.5]), tensor([1.0, -1.0])]),
                kink=True,
            ),
        ),
        forms=(
            Form(
                "l1_loss({0}, {1}, reduction)",
                lambda o, t, reduction: l1_loss(o, t, reduction),
                (ANY, ANY),
                apart=(0.0,),
                inputs="loss",
                graph=PAIR_LOSS,
            ),
        ),
        kink_mask=lambda op, xs, out: np.sign(np.asarray(xs[0]) - np.asarray(xs[1])),
    )

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction(reduction, "l1_loss")

    def forward(self, o: np.ndarray, t: np.ndarray) -> np.ndarray:
        r"""Return E = |o − t|."""
        _check_same_shape("l1_loss", o, t)
        return _reduce(np.abs(o - t), self.reduction, "l1_loss")

    def backward(self, g: Any, out: Any, o: Any, t: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        if self.reduction == "mean":
            g = g / int(np.size(data(o)))
        go = g * _sign(data(o) - data(t))
        return go, (-go if self.needs[1] else None)


def l1_loss(prediction: Any, target: Any, reduction: str = "mean") -> Tensor:
    r"""Return the absolute error |prediction − target|, PyTorch's ``l1_loss``."""
    return apply(L1Loss(reduction), prediction, target)


class HuberLoss(Op):
    r"""With d = o − t: E = ½ d² where |d| ≤ δ, δ (|d| − ½ δ) elsewhere;
    ∂E/∂o = ḡ · clip(d, −δ, δ),  ∂E/∂t = −∂E/∂o. With ``reduction="mean"`` divided by n.

    The gradient is continuous; the second derivative jumps from 1 to 0 at |d| = δ.
    """  # noqa: D205 - the first paragraph is the rule the explainer prints

    __slots__ = ("delta", "reduction")
    keeps = (0, 1)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example(
                "HuberLoss",
                _pair_loss(
                    lambda o, t, **kw: huber_loss(o, t, **kw),
                    [0.3, -0.5, 1.6, -2.0, 0.1, 0.8],
                    delta=1.0,
                ),
            ),
            Example(
                "HuberLoss (sum, delta 0.5)",
                _pair_loss(
                    lambda o, t, **kw: huber_loss(o, t, **kw),
                    [0.3, -0.2, 1.6, -2.0, 0.1, 0.8],
                    delta=0.5,
                    reduction="sum",
                ),
            ),
            Example(
                "HuberLoss at |d| = delta",
                lambda r: (huber_loss, [tensor([1.0, 0.5]), tensor([0.0, 0.0])]),
                kink=True,
            ),
        ),
        forms=(
            Form(
                "huber_loss({0}, {1}, 0.9, reduction)",
                lambda o, t, reduction: huber_loss(o, t, 0.9, reduction),
                (ANY, ANY),
                apart=(0.9,),
                inputs="loss",
                graph=PAIR_LOSS,
            ),
        ),
        kink_mask=lambda op, xs, out: np.sign(
            np.abs(np.asarray(xs[0]) - np.asarray(xs[1])) - op.delta
        ),
    )

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        if (
            isinstance(delta, bool)
            or not isinstance(delta, (int, float, np.number))
            or not (np.isfinite(delta) and delta > 0)
        ):
            raise ValueError(f"huber_loss: delta must be a positive number, got {delta!r}")
        self.delta, self.reduction = float(delta), check_reduction(reduction, "huber_loss")

    def forward(self, o: np.ndarray, t: np.ndarray) -> np.ndarray:
        r"""Return With d = o − t: E = ½ d² where |d| ≤ δ, δ (|d| − ½ δ) elsewhere."""
        _check_same_shape("huber_loss", o, t)
        d = np.abs(o - t)
        delta = self.delta
        terms = np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta))
        return _reduce(terms, self.reduction, "huber_loss")

    def backward(self, g: Any, out: Any, o: Any, t: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂ of each input from ḡ = ∂E/∂o (see the class docstring)."""
        if self.reduction == "mean":
            g = g / int(np.size(data(o)))
        go = g * clip_of(o - t, -self.delta, self.delta)
        return go, (-go if self.needs[1] else None)


def huber_loss(prediction: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""PyTorch's ``huber_loss``: quadratic for |prediction − target| ≤ δ, linear beyond."""
    return apply(HuberLoss(delta, reduction), prediction, target)
