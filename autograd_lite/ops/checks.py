r"""What an op tells its tests: where its inputs may lie, where it bends, and how to call it.

Each op class carries a :class:`Checks` as its ``checks`` field, beside its forward and its
rule:

- ``examples``: gradcheck cases (:class:`Example`), each building ``(fn, inputs)`` from a
  random generator; the ``python -m autograd_lite gradcheck`` catalogue lists them all. Cases
  marked ``kink=True`` sit on a kink on purpose, to show the checker's kink notes.
- ``forms``: calls for property tests and the ``graphs()`` strategy (:class:`Form`), with the
  :class:`Values` each input may take: inside the domain (positive for ``log``), away from kinks
  and poles (0 for ``relu``), with no ties where ties matter (``max``). A form's ``graph`` field
  (:class:`Call`) says how ``graphs()`` calls it: the arguments it draws (:class:`Axes`,
  :class:`Permutation`, :class:`Index`, :class:`OneOf`, :class:`Labels`, :class:`Window`), where
  its second operand comes from, the shapes it takes and where its values must lie.
- ``kink_mask``: for an op with kinks, on which side of its kink every input element lies
  (its *branch mask*); a finite-difference stencil whose two points give different masks
  crosses the kink.

Nothing here imports Hypothesis: :mod:`autograd_lite.testing` turns these declarations into
strategies and checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..engine import Op
from .recording import tensor_class

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "FLAG",
    "LABELLED_LOSS",
    "MARGIN",
    "PAIR_LOSS",
    "REDUCTIONS",
    "STRIDES",
    "Arg",
    "Axes",
    "Build",
    "Call",
    "Checks",
    "Example",
    "Form",
    "Index",
    "Labels",
    "OneOf",
    "Permutation",
    "Values",
    "Window",
    "away",
    "checks_of",
    "clear_extreme",
    "distinct",
    "normal",
    "positive",
    "tensor",
]  # fmt: skip

#: How far every kink and domain edge stays from the values that ``graphs()`` draws.
MARGIN = 1e-2

Build = Callable[[np.random.Generator], tuple[Callable[..., Any], list[Any]]]


@dataclass(frozen=True)
class Example:
    """One gradcheck case: ``build(rng)`` returns ``(fn, inputs)`` for ``gradcheck``.

    ``options`` are extra keyword arguments for the check (a larger ``eps`` for float32 casts).
    """

    name: str
    build: Build
    kink: bool = False
    options: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Values:
    """Where one input's elements may lie: in ``[low, high]``, ``margin`` away from ``avoid``.

    ``avoid`` holds kinks and poles (0 for ``relu`` and for a divisor); ``distinct`` asks for
    elements that differ from each other (no ties for ``max``).
    """

    low: float = -np.inf
    high: float = np.inf
    avoid: tuple[float, ...] = ()
    margin: float = MARGIN
    distinct: bool = False

    def admits(self, a: np.ndarray) -> bool:
        """Tell whether every element of ``a`` lies where this input may."""
        if a.size == 0:
            return True
        if float(a.min()) < self.low or float(a.max()) > self.high:
            return False
        return all(float(np.abs(a - p).min()) >= self.margin for p in self.avoid)


ANY = Values()


# -- how graphs() calls a form --------------------------------------------------------------------


@dataclass(frozen=True)
class Axes:
    """A drawn axis argument: ``None``, an int or a tuple of distinct axes, each of either sign.

    ``single``: an int only. ``extra``: axes beyond the first input's (1 for ``stack``'s new one).
    """

    single: bool = False
    extra: int = 0


@dataclass(frozen=True)
class Permutation:
    """A drawn permutation of the first input's axes, each of either sign (for ``transpose``)."""


@dataclass(frozen=True)
class Index:
    """A drawn index of the first input, of every form NumPy accepts, selecting something."""


@dataclass(frozen=True)
class OneOf:
    """An argument drawn from ``choices``."""

    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Labels:
    """Drawn class labels for scores of shape (N, C) or (C,): ints in [0, C), shape (N,) or ()."""


@dataclass(frozen=True)
class Window:
    """A drawn (kh, kw) window, at most ``upto`` a side, within the first input's last two axes."""

    upto: tuple[int, int] = (2, 3)


Arg = Axes | Permutation | Index | OneOf | Labels | Window
Shape = tuple[int, ...]
#: ``pick(low, high)`` draws an int in [low, high]; :attr:`Call.new` uses it for a new shape.
Pick = Callable[[int, int], int]
Fits = Callable[[tuple[np.ndarray, ...], Mapping[str, Any]], bool]

FLAG = OneOf((False, True))
REDUCTIONS = OneOf(("sum", "mean", "none"))


@dataclass(frozen=True)
class Call:
    r"""How ``graphs()`` calls a form inside a random program.

    ``args`` names the keyword arguments it draws (:data:`Arg`). ``tensors`` is how many Tensors
    the form takes (its arity unless given; 2 for ``concatenate(xs, axis)``). The first is a
    value of the program; the second is a new input of shape ``new(first_shape, pick)`` when
    ``new`` is given (a matmul weight), else an earlier value: one that broadcasts with the first
    (``operand="broadcast"``) or one of its shape (``"same"``). The first input must have
    ``ndim[0]``–``ndim[1]`` axes and at most ``max_size`` elements (with the second, broadcast);
    with ``lift`` it is viewed with leading sides of 1 to ``lift`` axes (an image for conv2d).
    ``fits(arrays, args)`` tells where the call is smooth beyond what :class:`Values` say (no
    ties within a reduced group).
    """

    args: Mapping[str, Arg] = field(default_factory=dict)
    tensors: int | None = None
    operand: Literal["broadcast", "same"] = "broadcast"
    new: Callable[[Shape, Pick], Shape] | None = None
    ndim: tuple[int, int] = (0, 8)
    lift: int = 0
    max_size: int = 36
    fits: Fits | None = None


#: A loss of a prediction and a target of its shape, with a drawn reduction.
PAIR_LOSS = Call({"reduction": REDUCTIONS}, operand="same")
#: A loss of scores of shape (N, C) or (C,) and drawn labels, with a drawn reduction.
LABELLED_LOSS = Call({"labels": Labels(), "reduction": REDUCTIONS}, ndim=(1, 2))
#: Strides for a 2-D window.
STRIDES = OneOf(((1, 1), (1, 2), (2, 1), (2, 2)))


def clear_extreme(a: np.ndarray, axis: Any) -> bool:
    """Tell whether the largest element of each group over ``axis`` leads by at least MARGIN.

    ``axis`` is None, an int or a tuple, of either sign; a group of one always leads.
    """
    if a.ndim == 0:
        return True
    axis = tuple(range(a.ndim)) if axis is None else axis
    group = tuple(ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
    rest = [i for i in range(a.ndim) if i not in group]
    flat = np.transpose(a, rest + list(group)).reshape([a.shape[i] for i in rest] + [-1])
    if flat.shape[-1] < 2:
        return True
    top = np.sort(flat, axis=-1)
    return bool(np.all(top[..., -1] - top[..., -2] >= MARGIN))


@dataclass(frozen=True)
class Form:
    r"""One way to call an op, for property tests and random programs.

    ``text`` is the call as program text, ``{0}``, ``{1}`` standing for the inputs
    (``"tanh({0})"``); ``fn`` computes it on Tensors (and on the keyword arguments that
    ``inputs`` draws). ``values`` holds one :class:`Values` per input; ``apart`` holds the
    differences x₀ − x₁ that the two inputs keep ``MARGIN`` away from in magnitude (0 for
    ``maximum``: no ties). ``inputs`` names how property tests draw the inputs:
    ``"elementwise"`` (mutually broadcastable shapes) or a structure the tests know (``"axis"``,
    ``"matmul"``, ``"loss"``...). ``graph`` says how ``graphs()`` calls the form (:class:`Call`;
    the default suits an elementwise form), or ``None`` where it does not.
    """

    text: str
    fn: Callable[..., Any]
    values: tuple[Values, ...] = (ANY,)
    apart: tuple[float, ...] = ()
    inputs: str = "elementwise"
    graph: Call | None = Call()

    @property
    def arity(self) -> int:
        """Return the number of Tensor inputs."""
        return len(self.values)

    def admits(self, *arrays: np.ndarray) -> bool:
        """Tell whether ``fn`` is well defined and smooth at ``arrays`` (with ``MARGIN``)."""
        if not all(v.admits(a) for v, a in zip(self.values, arrays)):
            return False
        if self.apart:
            d = np.abs(arrays[0] - arrays[1])
            return all(float(np.abs(d - gap).min()) >= MARGIN for gap in self.apart)
        return True


KinkMask = Callable[[Any, tuple[Any, ...], Any], np.ndarray]


@dataclass(frozen=True)
class Checks:
    """An op's test metadata (see the module docstring)."""

    examples: tuple[Example, ...] = ()
    forms: tuple[Form, ...] = ()
    kink_mask: KinkMask | None = None


NO_CHECKS = Checks()


def checks_of(op: type[Op] | Op) -> Checks:
    """Return the :class:`Checks` of an op class or node (none for ops that declare none)."""
    found = getattr(op, "checks", NO_CHECKS)
    return found if isinstance(found, Checks) else NO_CHECKS


# -- inputs for examples --------------------------------------------------------------------------


def tensor(arr: Any, grad: bool = True) -> Tensor:
    """Return a float64 Tensor holding ``arr`` (requiring grad unless ``grad=False``)."""
    return tensor_class()(np.asarray(arr, dtype=np.float64), requires_grad=grad)


def normal(rng: np.random.Generator, *shape: int) -> Tensor:
    """Return standard normal values."""
    return tensor(rng.standard_normal(shape))


def positive(rng: np.random.Generator, *shape: int) -> Tensor:
    """Return values in [0.5, 2]."""
    return tensor(rng.uniform(0.5, 2.0, shape))


def away(rng: np.random.Generator, *shape: int, at: float = 0.0) -> Tensor:
    """Return values at least 0.2 away from ``at``."""
    sign = rng.choice([-1.0, 1.0], shape)
    return tensor(at + sign * rng.uniform(0.2, 2.0, shape))


def distinct(rng: np.random.Generator, *shape: int) -> Tensor:
    """Return values at least 0.1 apart from each other (no ties for max and min)."""
    n = int(np.prod(shape))
    return tensor((rng.permutation(n) * 0.3 + rng.uniform(-0.1, 0.1, n) - n * 0.15).reshape(shape))
