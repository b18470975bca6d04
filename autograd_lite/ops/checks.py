r"""What an op tells its tests: where its inputs may lie, where it bends, and how to call it.

Each op class carries a :class:`Checks` as its ``checks`` field, beside its forward and its
rule:

- ``examples``: gradcheck cases (:class:`Example`), each building ``(fn, inputs)`` from a
  random generator; the ``python -m autograd_lite gradcheck`` catalogue lists them all. Cases
  marked ``kink=True`` sit on a kink on purpose, to show the checker's kink notes.
- ``forms``: calls for property tests and the ``graphs()`` strategy (:class:`Form`), with the
  :class:`Values` each input may take: inside the domain (positive for ``log``), away from kinks
  and poles (0 for ``relu``), with no ties where ties matter (``max``).
- ``kink_mask``: for an op with kinks, on which side of its kink every input element lies
  (its *branch mask*); a finite-difference stencil whose two points give different masks
  crosses the kink.

Nothing here imports Hypothesis: :mod:`autograd_lite.testing` turns these declarations into
strategies and checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import Op
from .recording import tensor_class

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "MARGIN",
    "Build",
    "Checks",
    "Example",
    "Form",
    "Values",
    "away",
    "checks_of",
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


@dataclass(frozen=True)
class Form:
    r"""One way to call an op, for property tests and random programs.

    ``text`` is the call as program text, ``{0}``, ``{1}`` standing for the inputs
    (``"tanh({0})"``); ``fn`` computes it on Tensors (and on the keyword arguments that
    ``inputs`` draws). ``values`` holds one :class:`Values` per input; ``apart`` holds the
    differences x₀ − x₁ that the two inputs keep ``MARGIN`` away from in magnitude (0 for
    ``maximum``: no ties). ``inputs`` names how property tests draw the inputs:
    ``"elementwise"`` (mutually broadcastable shapes) or a structure the tests know (``"axis"``,
    ``"matmul"``, ``"loss"``...); only elementwise forms with ``graph=True`` are drawn by
    ``graphs()``.
    """

    text: str
    fn: Callable[..., Any]
    values: tuple[Values, ...] = (ANY,)
    apart: tuple[float, ...] = ()
    inputs: str = "elementwise"
    graph: bool = True

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
