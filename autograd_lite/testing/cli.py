r"""``python -m autograd_lite gradcheck``: check every built-in op to first and second order.

Prints one row per case of :data:`autograd_lite.testing.catalogue.CASES`: the worst absolute
and relative error of the first-order check (backward against central differences) and of the
second-order check (backward through ``create_graph=True``), and a status: ``PASS``, ``kink``
(passed, with elements whose stencil crosses a kink reported as not differentiable there) or
``FAIL``. Exits with status 1 if any case fails.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from .catalogue import CASES, OpCase
from .gradcheck import check_gradients, check_second_gradients
from .report import GradcheckReport, GradcheckWarning

__all__ = ["main", "run_case"]


def run_case(case: OpCase, seed: int = 0) -> tuple[GradcheckReport, GradcheckReport]:
    """Return the first- and second-order reports of one catalogue case."""
    fn, inputs = case.build(np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        first = check_gradients(fn, inputs, seed=seed, **case.options)
        second = check_second_gradients(fn, inputs, seed=seed, **case.options)
    return first, second


def _status(first: GradcheckReport, second: GradcheckReport) -> str:
    if not (first.passed and second.passed):
        return "FAIL"
    return "kink" if first.kinks or second.kinks else "PASS"


def _parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lite gradcheck",
        description="Check every built-in op's gradient rule against central finite "
        "differences in float64, to first and second order.",
    )
    parser.add_argument(
        "--op",
        action="append",
        default=None,
        metavar="NAME",
        help="only cases of this op class (repeatable), e.g. --op MatMul",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the inputs (default 0)")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print the full report of every failing or kinked case",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the checks and print the table; return 0 if every case passes, else 1."""
    parser = _parser()
    args = parser.parse_args(argv)  # fmt: skip

    cases = CASES
    if args.op:
        known = {c.op for c in CASES}
        unknown = sorted(set(args.op) - known)
        if unknown:
            parser.error(f"unknown op {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
        cases = [c for c in CASES if c.op in args.op]

    width = max(len(c.name) for c in cases)
    header = (
        f"{'op':<{width}}  {'1st abs err':>11} {'1st rel err':>11}  "
        f"{'2nd abs err':>11} {'2nd rel err':>11}  status"
    )
    print(header)
    print("-" * len(header))
    failed = []
    start = time.perf_counter()
    for case in cases:
        first, second = run_case(case, args.seed)
        status = _status(first, second)
        print(
            f"{case.name:<{width}}  {first.max_abs_error:>11.2e} {first.max_rel_error:>11.2e}  "
            f"{second.max_abs_error:>11.2e} {second.max_rel_error:>11.2e}  {status}"
        )
        if status == "FAIL":
            failed.append(case.name)
        if args.verbose and status != "PASS":
            for report in (first, second):
                if not report.passed or report.kinks:
                    print("    " + str(report).replace("\n", "\n    "))
    elapsed = time.perf_counter() - start
    print("-" * len(header))
    print(
        f"{len(cases)} cases, {len(cases) - len(failed)} passed, {len(failed)} failed "
        f"({elapsed:.1f} s); errors exclude elements at kinks"
    )
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
