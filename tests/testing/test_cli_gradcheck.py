"""The op catalogue covers every built-in op, and the gradcheck command reports on all of them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.testing import catalogue, cli, gradcheck, gradgradcheck
from autograd_lite.testing.blame import forward_nodes


def test_catalogue_covers_every_builtin_op():
    assert {c.__name__ for c in ops.ALL_OPS} <= {case.op for case in catalogue.CASES}


@pytest.mark.parametrize("case", catalogue.CASES, ids=lambda c: c.name)
def test_each_case_records_its_op_and_passes(case):
    fn, inputs = case.build(np.random.default_rng(0))
    with al.enable_grad():
        out = fn(*inputs)
    assert any(type(n) is getattr(ops, case.op) for n in forward_nodes([out]))
    with np.errstate(all="ignore"):
        assert gradcheck(fn, inputs, **case.options)
        assert gradgradcheck(fn, inputs, **case.options)


def test_cli_prints_a_row_per_case_and_exits_zero(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for case in catalogue.CASES:
        assert case.name in out
    assert "FAIL" not in out
    assert f"{len(catalogue.CASES)} cases, {len(catalogue.CASES)} passed, 0 failed" in out
    assert out.count("kink\n") == sum(c.kink for c in catalogue.CASES)


def test_cli_exits_nonzero_when_a_rule_is_wrong(monkeypatch, capsys):
    def wrong(self, g, out, x):
        return (g * (1 - out * out) * 1.01,)

    monkeypatch.setattr(ops.Tanh, "backward", wrong)
    assert cli.main(["--op", "Tanh"]) == 1
    out = capsys.readouterr().out
    assert "Tanh" in out and "FAIL" in out


def test_cli_fails_a_rule_that_returns_nan(monkeypatch, capsys):
    def nan_rule(self, g, out, x):
        return (g * np.nan,)

    monkeypatch.setattr(ops.Tanh, "backward", nan_rule)
    assert cli.main(["--op", "Tanh"]) == 1
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Tanh")]
    assert rows and all(row.endswith("FAIL") and "nan" in row for row in rows)


def test_cli_rejects_an_unknown_op(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--op", "Nope"])
    assert info.value.code == 2
    assert "unknown op Nope" in capsys.readouterr().err


def test_module_runs_as_a_script():
    done = subprocess.run(
        [sys.executable, "-m", "autograd_lite.testing.cli", "--op", "MatMul"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "MatMul (batched)" in done.stdout
