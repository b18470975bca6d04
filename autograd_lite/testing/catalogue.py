r"""An explicit list of every built-in op, each with a way to build valid inputs for it.

Used by ``python -m autograd_lite gradcheck`` and by the tests; there is no import-time
registry: a new op must be added here by hand (a test checks that every class in
``autograd_lite.ops.__all__`` appears). Inputs keep each op inside its domain (positive values
for ``log`` and ``sqrt``, distinct values for ``max``) and away from kinks, except in the cases
marked ``kink=True``, which sit on a kink on purpose to show the checker's kink notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import ops as fx
from ..ops import (
    BroadcastTo,
    Cast,
    ScatterAdd,
    conv,
)
from ..ops import activations as act
from ..ops import losses as lo
from ..ops import reductions as red
from ..tensor import Tensor

__all__ = ["CASES", "OpCase"]

Builder = Callable[[np.random.Generator], tuple[Callable[..., Tensor], list[Any]]]


@dataclass(frozen=True)
class OpCase:
    """One op to check: ``build(rng)`` returns ``(fn, inputs)`` for :func:`gradcheck`.

    ``op`` is the class name in :mod:`autograd_lite.ops` that ``fn`` records; ``options`` are
    extra keyword arguments for the check (a larger ``eps`` for float32 casts).
    """

    name: str
    op: str
    build: Builder
    kink: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _t(arr: Any, grad: bool = True) -> Tensor:
    return Tensor(np.asarray(arr, dtype=np.float64), requires_grad=grad)


def _normal(rng: np.random.Generator, *shape: int) -> Tensor:
    return _t(rng.standard_normal(shape))


def _positive(rng: np.random.Generator, *shape: int) -> Tensor:
    return _t(rng.uniform(0.5, 2.0, shape))


def _away(rng: np.random.Generator, *shape: int, at: float = 0.0) -> Tensor:
    """Values at least 0.2 away from ``at``."""
    sign = rng.choice([-1.0, 1.0], shape)
    return _t(at + sign * rng.uniform(0.2, 2.0, shape))


def _distinct(rng: np.random.Generator, *shape: int) -> Tensor:
    """Values at least 0.1 apart from each other (no ties for max and min)."""
    n = int(np.prod(shape))
    return _t((rng.permutation(n) * 0.3 + rng.uniform(-0.1, 0.1, n) - n * 0.15).reshape(shape))


def _case(name: str, op: str, build: Builder, **kw: Any) -> OpCase:
    return OpCase(name, op, build, **kw)


def _bce(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    p = _t(rng.uniform(0.1, 0.9, (3, 2)))
    t = _t(rng.uniform(0.0, 1.0, (3, 2)))
    return fx.binary_cross_entropy, [p, t]


def _cross_entropy(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    logits = _normal(rng, 4, 3)
    labels = np.array([0, 2, 1, 2])
    return (lambda x: fx.cross_entropy(x, labels)), [logits]


def _scatter(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    index = np.array([0, 2, 0, 3])
    return (lambda a: Tensor._apply(ScatterAdd(index, (5,)), a)), [_normal(rng, 4)]


def _where(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    cond = np.array([[True, False, True], [False, False, True]])
    return (lambda a, b: fx.where(cond, a, b)), [_normal(rng, 2, 3), _normal(rng, 3)]


def _kink_max(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    return (lambda a: a.max(axis=1)), [_t([[1.0, 3.0, 3.0], [0.5, -1.0, 2.0]])]


CASES: list[OpCase] = [
    _case("Abs", "Abs", lambda r: (lambda a: a.abs(), [_away(r, 3, 2)])),
    _case(
        "Add (broadcast)", "Add", lambda r: (lambda a, b: a + b, [_normal(r, 3, 4), _normal(r, 4)])
    ),
    _case("BinaryCrossEntropy", "BinaryCrossEntropy", _bce),
    _case(
        "BroadcastTo",
        "BroadcastTo",
        lambda r: (lambda a: Tensor._apply(BroadcastTo((2, 3, 4)), a), [_normal(r, 3, 1)]),
    ),
    _case(
        "Cast (float32)",
        "Cast",
        lambda r: (lambda a: Tensor._apply(Cast(np.float32), a), [_normal(r, 2, 3)]),
        options={"eps": 1e-3, "atol": 1e-3, "rtol": 1e-2},
    ),
    _case(
        "Clip", "Clip", lambda r: (lambda a: a.clip(-1.0, 1.0), [_t([-1.8, -0.5, 0.3, 1.6, 0.8])])
    ),
    _case(
        "Concatenate",
        "Concatenate",
        lambda r: (
            lambda a, b: fx.concatenate([a, b], axis=1),
            [_normal(r, 2, 3), _normal(r, 2, 2)],
        ),
    ),
    _case("CrossEntropy", "CrossEntropy", _cross_entropy),
    _case(
        "Div (broadcast)", "Div", lambda r: (lambda a, b: a / b, [_normal(r, 2, 3), _away(r, 2, 1)])
    ),
    _case("Exp", "Exp", lambda r: (lambda a: a.exp(), [_normal(r, 2, 3)])),
    _case("GetItem (slice)", "GetItem", lambda r: (lambda a: a[1:, ::2], [_normal(r, 3, 4)])),
    _case(
        "GetItem (repeated indices)",
        "GetItem",
        lambda r: (lambda a: a[np.array([0, 2, 0, 0])], [_normal(r, 3, 2)]),
    ),
    _case(
        "GetItem (mask)",
        "GetItem",
        lambda r: (lambda a: a[np.array([True, False, True, True])], [_normal(r, 4)]),
    ),
    _case(
        "GetItem (tuple inside the index, repeated)",
        "GetItem",
        lambda r: (lambda a: a[(0, 0, -1), :, (1, 1, 0)], [_normal(r, 3, 2, 2)]),
    ),
    _case("Log", "Log", lambda r: (lambda a: a.log(), [_positive(r, 2, 3)])),
    _case(
        "LogSoftmax", "LogSoftmax", lambda r: (lambda a: a.log_softmax(axis=0), [_normal(r, 3, 2)])
    ),
    _case("MatMul", "MatMul", lambda r: (lambda a, b: a @ b, [_normal(r, 3, 4), _normal(r, 4, 2)])),
    _case(
        "MatMul (batched)",
        "MatMul",
        lambda r: (lambda a, b: a @ b, [_normal(r, 2, 2, 3), _normal(r, 3, 2)]),
    ),
    _case(
        "MatMul (vector)",
        "MatMul",
        lambda r: (lambda a, b: a @ b, [_normal(r, 3), _normal(r, 3, 2)]),
    ),
    _case("MatMul (dot)", "MatMul", lambda r: (lambda a, b: a @ b, [_normal(r, 4), _normal(r, 4)])),
    _case(
        "MatMul (b transposed, as in Linear)",
        "MatMul",
        lambda r: (fx.linalg.matmul_transposed, [_normal(r, 3, 4), _normal(r, 5, 4)]),
    ),
    _case(
        "MatMul (batched a, b transposed)",
        "MatMul",
        lambda r: (fx.linalg.matmul_transposed, [_normal(r, 2, 3, 4), _normal(r, 5, 4)]),
    ),
    _case("Max", "Max", lambda r: (lambda a: a.max(axis=1), [_distinct(r, 3, 4)])),
    _case(
        "Maximum",
        "Maximum",
        lambda r: (lambda a, b: fx.maximum(a, b), [_t([1.0, -2.0, 0.5]), _t([0.0, 1.0, 2.0])]),
    ),
    _case("Mean", "Mean", lambda r: (lambda a: a.mean(axis=0, keepdims=True), [_normal(r, 3, 2)])),
    _case("Min", "Min", lambda r: (lambda a: a.min(), [_distinct(r, 2, 3)])),
    _case(
        "Minimum",
        "Minimum",
        lambda r: (lambda a, b: fx.minimum(a, b), [_t([1.0, -2.0, 0.5]), _t([0.0, 1.0, 2.0])]),
    ),
    _case(
        "Mul (broadcast)",
        "Mul",
        lambda r: (lambda a, b: a * b, [_normal(r, 2, 3), _normal(r, 2, 1)]),
    ),
    _case("Neg", "Neg", lambda r: (lambda a: -a, [_normal(r, 3)])),
    _case("Pow (x ** 3)", "Pow", lambda r: (lambda a: a**3, [_normal(r, 3)])),
    _case("Pow (x ** 2)", "Pow", lambda r: (lambda a: a**2, [_normal(r, 3)])),
    _case("Pow (x ** 3 at 0)", "Pow", lambda r: (lambda a: a**3, [_t([0.0, -1.5, 0.7])])),
    _case(
        "Pow (a ** b at b = 0, 1)",
        "Pow",
        lambda r: (lambda a, b: a**b, [_positive(r, 3), _t([0.0, 1.0, -0.5])]),
    ),
    _case("Pow (a ** b)", "Pow", lambda r: (lambda a, b: a**b, [_positive(r, 3), _normal(r, 3)])),
    _case("ReLU", "ReLU", lambda r: (lambda a: a.relu(), [_away(r, 2, 3)])),
    _case("Reshape", "Reshape", lambda r: (lambda a: a.reshape(3, 2), [_normal(r, 2, 3)])),
    _case("ScatterAdd", "ScatterAdd", _scatter),
    _case("Sigmoid", "Sigmoid", lambda r: (lambda a: a.sigmoid(), [_normal(r, 2, 3)])),
    _case("Softmax", "Softmax", lambda r: (lambda a: a.softmax(axis=-1), [_normal(r, 2, 3)])),
    _case("Sqrt", "Sqrt", lambda r: (lambda a: a.sqrt(), [_positive(r, 3)])),
    _case(
        "SquaredError",
        "SquaredError",
        lambda r: (lambda o, t: fx.squared_error(o, t), [_normal(r, 2, 2), _normal(r, 2, 2)]),
    ),
    _case(
        "SquaredError (mse_loss)",
        "SquaredError",
        lambda r: (lambda o, t: fx.mse_loss(o, t), [_normal(r, 3), _normal(r, 3)]),
    ),
    _case(
        "Stack",
        "Stack",
        lambda r: (lambda a, b: fx.stack([a, b], axis=1), [_normal(r, 2, 2), _normal(r, 2, 2)]),
    ),
    _case(
        "Sub (broadcast)", "Sub", lambda r: (lambda a, b: a - b, [_normal(r, 3), _normal(r, 2, 3)])
    ),
    _case("Sum", "Sum", lambda r: (lambda a: a.sum(axis=(0, 2)), [_normal(r, 2, 3, 2)])),
    _case(
        "Sum (mixed-sign axes)",
        "Sum",
        lambda r: (lambda a: a.sum(axis=(-1, 0)), [_normal(r, 2, 3, 2)]),
    ),
    _case("Max (negative axis)", "Max", lambda r: (lambda a: a.max(axis=-2), [_distinct(r, 3, 4)])),
    _case("Tanh", "Tanh", lambda r: (lambda a: a.tanh(), [_normal(r, 2, 3)])),
    _case(
        "Transpose",
        "Transpose",
        lambda r: (lambda a: a.transpose(2, 0, 1), [_normal(r, 2, 3, 2)]),
    ),
    _case(
        "Transpose (negative axes)",
        "Transpose",
        lambda r: (lambda a: a.transpose(-1, 0, -2), [_normal(r, 2, 3, 4)]),
    ),
    _case(
        "Softmax (negative axis)",
        "Softmax",
        lambda r: (lambda a: a.softmax(axis=-2), [_normal(r, 3, 2)]),
    ),
    _case(
        "Stack (negative axis)",
        "Stack",
        lambda r: (lambda a, b: fx.stack([a, b], axis=-1), [_normal(r, 2, 3), _normal(r, 2, 3)]),
    ),
    _case("Where", "Where", _where),
    # on purpose at a kink: reported as "not differentiable at ...", not as failures
    _case("ReLU at 0", "ReLU", lambda r: (lambda a: a.relu(), [_t([-1.0, 0.0, 2.0])]), kink=True),
    _case("Abs at 0", "Abs", lambda r: (lambda a: a.abs(), [_t([-1.0, 0.0, 2.0])]), kink=True),
    _case("Max (tie)", "Max", _kink_max, kink=True),
    _case(
        "Maximum (tie)",
        "Maximum",
        lambda r: (lambda a, b: fx.maximum(a, b), [_t([1.0, 2.0]), _t([1.0, 0.0])]),
        kink=True,
    ),
    _case(
        "Clip (at a bound)",
        "Clip",
        lambda r: (lambda a: a.clip(-1.0, 1.0), [_t([-1.0, 0.0, 1.0])]),
        kink=True,
    ),
]


# -- convolution, pooling, and the newer activations, reductions and losses -----------------------


def _conv2d(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    x, w, b = _normal(rng, 2, 2, 5, 4), _normal(rng, 3, 2, 3, 2), _normal(rng, 3)
    return (lambda x, w, b: conv.conv2d(x, w, b, stride=(2, 1), padding=1)), [x, w, b]


def _conv_transpose(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    op = conv.ConvTranspose2d((2, 1), (1, 0), (5, 4))  # the input gradient of a (5, 4) image
    g, w = _normal(rng, 2, 3, 3, 3), _normal(rng, 3, 2, 2, 2)
    return (lambda g, w: Tensor._apply(op, g, w)), [g, w]


def _conv_weight_grad(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    op = conv.ConvWeightGrad2d((1, 2), (1, 1), (2, 3))
    x, g = _normal(rng, 2, 2, 4, 5), _normal(rng, 2, 3, 5, 3)
    return (lambda x, g: Tensor._apply(op, x, g)), [x, g]


def _unfold(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    op = conv.Unfold2d((2, 2), (1, 2))
    return (lambda x: Tensor._apply(op, x)), [_normal(rng, 1, 2, 3, 5)]


def _fold(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    op = conv.Fold2d((3, 4), (1, 2))  # overlapping rows: contributions add up
    return (lambda c: Tensor._apply(op, c)), [_normal(rng, 1, 2, 2, 2, 2, 2)]


def _max_pool(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    return (lambda x: conv.max_pool2d(x, 2, stride=1)), [_distinct(rng, 2, 1, 4, 3)]


def _max_pool_tie(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
    x = _t([[[[1.0, 3.0], [3.0, 0.5]]]])
    return (lambda x: conv.max_pool2d(x, 2)), [x]


def _labelled(loss: Callable[..., Tensor]) -> Builder:
    def build(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
        labels = np.array([0, 2, 1, 2])
        return (lambda x: loss(x, labels)), [_normal(rng, 4, 3)]

    return build


def _pair_loss(loss: Callable[..., Tensor], d: Any, **kw: Any) -> Builder:
    """``loss(prediction, target)`` with prediction − target = ``d`` (kept off the kinks)."""

    def build(rng: np.random.Generator) -> tuple[Callable[..., Tensor], list[Any]]:
        t = _normal(rng, 2, 3)
        o = _t(t.data + np.asarray(d).reshape(2, 3))
        return (lambda o, t: loss(o, t, **kw)), [o, t]

    return build


CASES += [
    _case(
        "AvgPool2d",
        "AvgPool2d",
        lambda r: (lambda x: conv.avg_pool2d(x, (2, 3), stride=(1, 2)), [_normal(r, 2, 2, 4, 5)]),
    ),
    _case("Conv2d (stride, padding, bias)", "Conv2d", _conv2d),
    _case(
        "Conv2d (no bias)",
        "Conv2d",
        lambda r: (conv.conv2d, [_normal(r, 1, 3, 4, 4), _normal(r, 2, 3, 3, 3)]),
    ),
    _case("ConvTranspose2d", "ConvTranspose2d", _conv_transpose),
    _case("ConvWeightGrad2d", "ConvWeightGrad2d", _conv_weight_grad),
    _case("ELU", "ELU", lambda r: (lambda a: act.elu(a, alpha=0.7), [_away(r, 2, 3)])),
    _case("Fold2d", "Fold2d", _fold),
    _case(
        "HuberLoss",
        "HuberLoss",
        _pair_loss(lo.huber_loss, [0.3, -0.5, 1.6, -2.0, 0.1, 0.8], delta=1.0),
    ),
    _case(
        "HuberLoss (sum, delta 0.5)",
        "HuberLoss",
        _pair_loss(lo.huber_loss, [0.3, -0.2, 1.6, -2.0, 0.1, 0.8], delta=0.5, reduction="sum"),
    ),
    _case("L1Loss", "L1Loss", _pair_loss(lo.l1_loss, [0.3, -0.5, 1.6, -2.0, 0.1, 0.8])),
    _case(
        "L1Loss (none)",
        "L1Loss",
        _pair_loss(lo.l1_loss, [0.3, -0.5, 1.6, -2.0, 0.1, 0.8], reduction="none"),
    ),
    _case("LeakyReLU", "LeakyReLU", lambda r: (lambda a: act.leaky_relu(a, 0.1), [_away(r, 2, 3)])),
    _case(
        "LogSumExp", "LogSumExp", lambda r: (lambda a: red.logsumexp(a, axis=1), [_normal(r, 3, 4)])
    ),
    _case(
        "LogSumExp (all axes, keepdims)",
        "LogSumExp",
        lambda r: (lambda a: red.logsumexp(a, axis=None, keepdims=True), [_normal(r, 2, 3)]),
    ),
    _case("MaxPool2d (overlapping)", "MaxPool2d", _max_pool),
    _case("NLLLoss", "NLLLoss", _labelled(lo.nll_loss)),
    _case(
        "NLLLoss (of log_softmax, none)",
        "NLLLoss",
        _labelled(lambda x, y: lo.nll_loss(x.log_softmax(), y, reduction="none")),
    ),
    _case("Softplus", "Softplus", lambda r: (act.softplus, [_normal(r, 2, 3)])),
    _case("Unfold2d", "Unfold2d", _unfold),
    # on purpose at a kink
    _case(
        "LeakyReLU at 0",
        "LeakyReLU",
        lambda r: (lambda a: act.leaky_relu(a, 0.1), [_t([-1.0, 0.0, 2.0])]),
        kink=True,
    ),
    _case(
        "ELU at 0 (alpha 0.5)",
        "ELU",
        lambda r: (lambda a: act.elu(a, 0.5), [_t([-1.0, 0.0, 2.0])]),
        kink=True,
    ),
    _case(
        "L1Loss at 0",
        "L1Loss",
        lambda r: (lo.l1_loss, [_t([1.0, 0.5]), _t([1.0, -1.0])]),
        kink=True,
    ),
    _case(
        "HuberLoss at |d| = delta",
        "HuberLoss",
        lambda r: (lo.huber_loss, [_t([1.0, 0.5]), _t([0.0, 0.0])]),
        kink=True,
    ),
    _case("MaxPool2d (tie)", "MaxPool2d", _max_pool_tie, kink=True),
]
