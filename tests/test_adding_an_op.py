"""Adding an op the way docs/adding-an-op.md says: a class with its checks, its function, and
an entry in ops.ALL_OPS. The catalogue, the property cases, graphs() and the kink detector all
pick it up from the list, and gradcheck passes on what they build; graphs() calls it as its
checks' ``graph`` says (here with a drawn argument and a second operand of the same shape)."""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import numpy as np
import op_cases
import pytest
from hypothesis import find, settings

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.engine import Op
from autograd_lite.ops.checks import Call, Checks, Example, Form, OneOf, Values, checks_of, normal
from autograd_lite.ops.recording import apply
from autograd_lite.testing import catalogue, check_gradients, gradcheck, kinks, strategies


class Square(Op):
    r"""o = x²;  ∂E/∂x = ∂E/∂o · 2x."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Square", lambda r: (square, [normal(r, 2, 3)])),),
        forms=(Form("square({0})", lambda x: square(x), (Values(-3.0, 3.0),)),),
    )

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * (2 * x),)


def square(x: Any) -> al.Tensor:
    return apply(Square(), x)


class Bent(Op):
    r"""o = max(x, 0) (a toy op with a kink at 0);  ∂E/∂x = ∂E/∂o · [x > 0]."""

    __slots__ = ()
    keeps = (0,)
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Bent", lambda r: (bent, [normal(r, 3)])),),
        kink_mask=lambda op, xs, out: np.sign(xs[0]),
    )

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * (x > 0),)


def bent(x: Any) -> al.Tensor:
    return apply(Bent(), x)


class Blend(Op):
    r"""o = w x + (1 − w) y;  ∂E/∂x = ∂E/∂o · w,  ∂E/∂y = ∂E/∂o · (1 − w)."""

    __slots__ = ("w",)
    keeps = ()
    keeps_out = False

    checks: ClassVar[Checks] = Checks(
        examples=(Example("Blend", lambda r: (blend, [normal(r, 2, 3), normal(r, 2, 3)])),),
        forms=(
            Form(
                "blend({0}, {1}, w)",
                lambda x, y, w=0.25: blend(x, y, w),
                (Values(-3.0, 3.0), Values(-3.0, 3.0)),
                graph=Call({"w": OneOf((0.25, 0.75))}, operand="same"),
            ),
        ),
    )

    def __init__(self, w: float) -> None:
        self.w = w

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.w * x + (1 - self.w) * y

    def backward(self, g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        return g * self.w, g * (1 - self.w)


def blend(x: Any, y: Any, w: float = 0.5) -> al.Tensor:
    return apply(Blend(w), x, y)


TOYS = (Square, Bent, Blend)
DERIVED = (catalogue, strategies, op_cases)


@pytest.fixture
def listed(monkeypatch):
    """ops.ALL_OPS with the toy ops added, and the modules that read it built again."""
    monkeypatch.setattr(ops, "ALL_OPS", (*ops.ALL_OPS, *TOYS))
    fresh = [importlib.reload(m) for m in DERIVED]
    yield fresh
    monkeypatch.undo()
    for m in DERIVED:
        importlib.reload(m)


def test_the_catalogue_checks_the_new_op(listed):
    fresh_catalogue = listed[0]
    cases = [c for c in fresh_catalogue.CASES if c.op in ("Square", "Bent", "Blend")]
    assert [c.name for c in cases] == ["Square", "Bent", "Blend"]
    rng = np.random.default_rng(0)
    for case in cases:
        fn, inputs = case.build(rng)
        assert gradcheck(fn, inputs)


def test_the_property_cases_include_its_form(listed):
    fresh_cases = listed[2]
    names = [c.name for c in fresh_cases.CASES]
    assert names.count("Square: square({0})") == 1
    assert not any(name.startswith("Bent") for name in names)  # it declares no forms
    assert names.count("Blend: blend({0}, {1}, w)") == 1


@pytest.mark.parametrize("toy", ["Square", "Blend"])
def test_graphs_draw_it_and_gradcheck_holds(listed, toy):
    fresh_strategies = listed[1]
    fn, inputs = find(
        fresh_strategies.graphs(min_ops=1, max_ops=3),
        lambda graph: toy in graph[0].ops,
        settings=settings(max_examples=3000, database=None),
    )
    assert f"{toy.lower()}(" in repr(fn)
    assert check_gradients(fn, inputs).passed


def test_graphs_call_it_as_its_checks_say(listed):
    """Blend's call: ``w`` drawn from its choices, the second operand of the first's shape."""
    fresh_strategies = listed[1]
    fn, inputs = find(
        fresh_strategies.graphs(min_ops=2, max_ops=2, ops=["Blend"]),
        lambda graph: " with w=0.75" in repr(graph[0]),
        settings=settings(max_examples=500, database=None),
    )
    assert fn.ops == ("Blend", "Blend")
    assert check_gradients(fn, inputs).passed
    with pytest.raises(ValueError, match="Bent declares no form"):
        fresh_strategies.graphs(ops=[Bent])


def test_the_kink_detector_asks_the_class_for_its_mask():
    x = al.tensor([-1.0, 2.0], requires_grad=True)
    node = bent(x)._node
    np.testing.assert_array_equal(kinks.branch_mask(node), [-1.0, 1.0])
    report = check_gradients(bent, [al.tensor([0.0, 1.0], requires_grad=True)])
    assert report.passed and report.kinks
    assert "not differentiable at Bent" in str(report)


def test_without_the_list_nothing_sees_it():
    assert Square not in ops.ALL_OPS
    assert all(c.op != "Square" for c in catalogue.CASES)
    assert all(not c.name.startswith("Square:") for c in op_cases.CASES)
    assert checks_of(Square).examples  # the class still carries its checks
