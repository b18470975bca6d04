"""Every example runs (quick settings) and ends with its own assertion."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ["tutorial_network", "custom_network", "custom_op", "hessian_vector_product", "cnn_digits"]


def test_the_examples_are_all_here():
    assert set(NAMES) <= {p.stem for p in EXAMPLES.glob("*.py")}


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_quickly(name, capsys):
    module = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")
    result = module["main"](quick=True)
    assert result is not None
    assert capsys.readouterr().out.strip()  # it tells the reader what it found


@pytest.mark.parametrize("name", NAMES)
def test_example_main_ends_with_an_assertion(name):
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    body = [s for s in main.body if not isinstance(s, ast.Return)]
    last = body[-1]
    is_assert = isinstance(last, ast.Assert) or (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and "assert" in ast.unparse(last.value.func)
    )
    assert is_assert, f"{name}.main() should end with an assertion"
