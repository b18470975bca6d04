"""Fast mode against the full gradient check, on a 10,000-element input.

Run from the repository root::

    python benchmarks/gradcheck_fast.py

The function is ``softplus(x) @ B`` for x of shape (100, 100) and a constant B of shape
(100, 8), with softplus a user's ``Function`` in three versions: the right rule σ(x)·ḡ, the
rule 1 % too large everywhere (a uniform scale error), and the rule 1 % too large in element
(0, 0) only. Each is checked by the element-by-element comparison (``full_limit`` above the
input's size), by the default check (which, above ``full_limit`` = 1024 elements, compares
along random directions first), and by ``fast_mode=True`` with the default tolerances and with
tight ones. The table gives the verdict, the calls of the function (every forward the checker
runs, the failing ones including the full report that names the worst element) and the time.
Writes a markdown table to ``--out`` (default ``benchmarks/results/gradcheck_fast.md``).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite.testing import check_gradients

HERE = Path(__file__).resolve().parent
TIGHT = {"atol": 1e-7, "rtol": 1e-5}


def softplus(scale: Callable[[tuple[int, ...]], np.ndarray]) -> type[al.Function]:
    """Softplus o = log(1 + eˣ) whose rule σ(x)·ḡ is multiplied elementwise by ``scale``."""

    class Softplus(al.Function):
        @staticmethod
        def forward(ctx: Any, x: al.Tensor) -> al.Tensor:
            ctx.save_for_backward(x)
            return al.Tensor(np.logaddexp(0.0, x.data))

        @staticmethod
        def backward(ctx: Any, grad: al.Tensor) -> al.Tensor:
            (x,) = ctx.saved_tensors
            return grad * x.sigmoid() * al.Tensor(scale(x.shape))

    return Softplus


def one_element(shape: tuple[int, ...]) -> np.ndarray:
    factor = np.ones(shape)
    factor.flat[0] = 1.01
    return factor


RULES = {
    "right": softplus(np.ones),
    "1 % uniform scale": softplus(lambda shape: np.full(shape, 1.01)),
    "1 % in one element": softplus(one_element),
}
CHECKS = {
    "full (element by element)": {"full_limit": 10**9},
    "default (directions, then full)": {},
    "fast mode": {"fast_mode": True},
    "fast mode, tight": {"fast_mode": True, **TIGHT},
}


def measure(rule: type[al.Function], options: dict[str, Any]) -> tuple[str, int, float]:
    """The verdict, the number of calls of the function, and the seconds of one check."""
    B = al.Tensor(np.random.default_rng(1).standard_normal((100, 8)))
    x = al.Tensor(np.random.default_rng(0).standard_normal((100, 100)), requires_grad=True)
    calls = 0

    def fn(x: al.Tensor) -> al.Tensor:
        nonlocal calls
        calls += 1
        return rule.apply(x) @ B

    start = time.perf_counter()
    report = check_gradients(fn, (x,), **options)
    seconds = time.perf_counter() - start
    if report.passed:
        verdict = "pass"
    else:
        entry = report.inputs[0]
        verdict = f"FAIL ({entry.n_failed} elements; worst {entry.worst[0].index})"
    return verdict, calls, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results" / "gradcheck_fast.md"))
    args = parser.parse_args()
    lines = [
        "| rule | check | verdict | calls of fn | time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule_name, rule in RULES.items():
        for check_name, options in CHECKS.items():
            verdict, calls, seconds = measure(rule, options)
            row = f"| {rule_name} | {check_name} | {verdict} | {calls:,} | {seconds:.2f} s |"
            print(row, flush=True)
            lines.append(row)
    lines += [
        "",
        "A fast check reaches its verdict after 10 calls (the start, the backward pass, two "
        "per direction v) whether it passes or fails; on a failure the rest is the full check "
        "that names the worst element and blames the op (it re-runs fn at the stencil points "
        "of failing elements to look for kinks, hence about 40,000 calls when every element "
        "fails).",
        "",
        f"x: (100, 100) float64, fn(x) = softplus(x) @ B with B (100, 8). Default tolerances "
        f"atol=1e-5, rtol=1e-3; tight: atol={TIGHT['atol']:g}, rtol={TIGHT['rtol']:g}. "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}. Produced by "
        "`python benchmarks/gradcheck_fast.py`.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
