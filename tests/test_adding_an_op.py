"""Adding an op the way docs/adding-an-op.md says: a class with its checks, its function, and
an entry in ops.ALL_OPS. The catalogue, the property cases, graphs() and the kink detector all
pick it up from the list, and gradcheck passes on what they build."""

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
from autograd_lite.ops.checks import Checks, Example, Form, Values, checks_of, normal
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


DERIVED = (catalogue, strategies, op_cases)


@pytest.fixture
def listed(monkeypatch):
    """ops.ALL_OPS with the toy ops added, and the modules that read it built again."""
    monkeypatch.setattr(ops, "ALL_OPS", (*ops.ALL_OPS, Square, Bent))
    fresh = [importlib.reload(m) for m in DERIVED]
    yield fresh
    monkeypatch.undo()
    for m in DERIVED:
        importlib.reload(m)


def test_the_catalogue_checks_the_new_op(listed):
    fresh_catalogue = listed[0]
    cases = [c for c in fresh_catalogue.CASES if c.op in ("Square", "Bent")]
    assert [c.name for c in cases] == ["Square", "Bent"]
    rng = np.random.default_rng(0)
    for case in cases:
        fn, inputs = case.build(rng)
        assert gradcheck(fn, inputs)


def test_the_property_cases_include_its_form(listed):
    fresh_cases = listed[2]
    names = [c.name for c in fresh_cases.CASES]
    assert names.count("Square: square({0})") == 1
    assert not any(name.startswith("Bent") for name in names)  # it declares no forms


def test_graphs_draw_it_and_gradcheck_holds(listed):
    fresh_strategies = listed[1]
    assert any(form.text == "square({0})" for form in fresh_strategies._UNARY)
    fn, inputs = find(
        fresh_strategies.graphs(min_ops=1, max_ops=3),
        lambda graph: "square(" in repr(graph[0]),
        settings=settings(max_examples=2000, database=None),
    )
    assert check_gradients(fn, inputs).passed


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
