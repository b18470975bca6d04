"""Every example runs (quick settings) and ends with its own assertion."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = [
    "tutorial_network", "custom_network", "custom_op", "hessian_vector_product", "micrograd_demo",
]  # fmt: skip


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


def test_custom_network_prints_the_epochs_mean_loss(capsys, monkeypatch):
    """The printed loss is the mean over all the epoch's samples, not the last mini-batch's
    (whose 3 samples made it jump around): recorded here from every cross_entropy call."""
    calls: list[tuple[float, int]] = []
    real = al.cross_entropy

    def recording(logits, labels, **kwargs):
        loss = real(logits, labels, **kwargs)
        calls.append((loss.item(), len(labels)))
        return loss

    monkeypatch.setattr(al, "cross_entropy", recording)
    module = runpy.run_path(str(EXAMPLES / "custom_network.py"), run_name="example_losses")
    module["main"](quick=True)
    printed = [line for line in capsys.readouterr().out.splitlines() if "mean loss" in line]
    assert len(printed) == 1 and printed[0].startswith("epoch  3: mean loss ")
    n = 1347  # training samples: one epoch is the last calls that add up to n samples
    epoch, seen = [], 0
    for value, size in reversed(calls):
        if seen == n:
            break
        epoch.append((value, size))
        seen += size
    assert seen == n and epoch[0][1] == n % 32  # the last batch is the small one
    expected = sum(v * s for v, s in epoch) / n
    shown = float(printed[0].split("mean loss ")[1].split(",")[0])
    assert shown == pytest.approx(expected, abs=6e-5)
    assert not np.isclose(expected, epoch[0][0], rtol=0.05)  # the last batch alone differs


NOTEBOOKS = EXAMPLES / "notebooks"


def test_the_notebooks_are_run_by_the_test_command_and_stored_without_outputs():
    """``python -m pytest`` executes them (nbmake); stored cleared, their diffs stay readable."""
    import json
    import tomllib

    config = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text())
    pytest_config = config["tool"]["pytest"]["ini_options"]
    assert "examples/notebooks" in pytest_config["testpaths"]
    assert "--nbmake" in pytest_config["addopts"].split()
    assert any(d.startswith("nbmake") for d in config["project"]["optional-dependencies"]["test"])
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [b.name for b in books] == ["from_formulas_to_autodiff.ipynb"]
    for book in books:
        cells = json.loads(book.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
        assert any("explain_backward" in "".join(c["source"]) for c in code)
