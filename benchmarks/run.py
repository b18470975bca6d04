"""Benchmarks: autograd_lite against a hand-written NumPy version of the same computation.

Run from the repository root::

    python benchmarks/run.py            # all workloads
    python benchmarks/run.py --quick    # fewer repetitions, chain up to 100k

Each workload's steps run interleaved in one process (same arrays, same BLAS), so the ratios
are fair even on a noisy machine; the table reports median times per step and the ratio to the
hand-written step. PyTorch's column appears when PyTorch is installed (never a dependency).
All three run their BLAS on one thread (set before NumPy loads; override with the usual
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` variables), so a busy 2-core machine does not make
multi-threaded GEMMs stall at random.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import cProfile
import gc
import platform
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads


def interleaved_medians(
    steps: dict[str, Callable[[], object]], reps: int, block: int = 25
) -> dict[str, float]:
    """Median seconds per call of each step; the steps take turns in blocks of ``block`` calls
    (at least ten turns each), so slow drifts of a busy machine hit all of them alike while
    each runs in steady state."""
    block = max(1, min(block, reps // 10))
    for step in steps.values():  # warm up
        for _ in range(5):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    clock = time.perf_counter
    for _ in range(max(reps // block, 1)):
        for name, step in steps.items():
            record = times[name].append
            for _ in range(block):
                t0 = clock()
                step()
                record(clock() - t0)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def peak_bytes(step: Callable[[], object]) -> int:
    """Peak memory traced while running ``step`` once (after a warm-up call)."""
    step()
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def row(label: str, medians: dict[str, float], extra: str = "") -> str:
    base = medians["hand-written"]
    cells = [
        label,
        _us(base),
        _us(medians["autograd_lite"]),
        f"{medians['autograd_lite'] / base:.2f}",
    ]
    torch = medians.get("pytorch")
    cells.append(f"{_us(torch)} ({torch / base:.2f})" if torch else "—")
    cells.append(extra)
    return "| " + " | ".join(cells) + " |"


#: The training-step workloads: label, (n_in, n_hidden, n_out, batch), and how their number of
#: timed steps follows from --reps: max(reps // divisor, floor).
NETS = {
    1: ("1. tutorial step 784-100-10, batch 1", (784, 100, 10, 1), 1, 1),
    2: ("2. tutorial step 784-100-10, batch 64", (784, 100, 10, 64), 4, 50),
    3: ("3. 784-1024-10, batch 256", (784, 1024, 10, 256), 40, 20),
    # the same step at toy size, where NumPy's calls cost almost nothing
    6: ("6. the same step at toy size 4-3-2, batch 1", (4, 3, 2, 1), 1, 1),
}


def _steps(key: int, reps: int) -> int:
    _, _, divisor, floor = NETS[key]
    return max(reps // divisor, floor)


def _net_row(key: int, reps: int) -> str:
    """The table row of a training-step workload (1, 2, 3 or 6)."""
    label, shape, _, _ = NETS[key]
    steps = workloads.sigmoid_net(*shape)
    medians = interleaved_medians(steps, _steps(key, reps))
    kernels = medians["kernels only"]
    notes = [
        f"its NumPy calls alone {_us(kernels)} ({kernels / medians['hand-written']:.2f}), "
        f"so bookkeeping ≈ {_us(medians['autograd_lite'] - kernels)}"
    ]
    if key == 2:
        hand = peak_bytes(steps["hand-written"])
        ours = peak_bytes(steps["autograd_lite"])
        notes.append(f"peak memory {ours / 1e6:.2f} MB vs {hand / 1e6:.2f} MB ({ours / hand:.2f}×)")
    return row(label, medians, "; ".join(notes))


def profile(key: int, reps: int) -> int:
    """Run workload ``key``'s autograd_lite step under cProfile; print the top functions."""
    step = workloads.sigmoid_net(*NETS[key][1])["autograd_lite"]
    n = _steps(key, reps)
    for _ in range(5):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        step()
    profiler.disable()
    print(f"{NETS[key][0]}: {n} steps under cProfile (which inflates every call's cost)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; chain to 100k")
    parser.add_argument("--reps", type=int, default=None, help="timed calls per step")
    parser.add_argument(
        "--only", type=int, nargs="*", choices=range(1, 7), help="run only these workloads"
    )
    parser.add_argument(
        "--profile",
        type=int,
        choices=(1, 2, 3, 6),
        help="instead of timing, run this workload's autograd_lite step under cProfile and print "
        "where the time goes",
    )
    args = parser.parse_args(argv)
    np.seterr(over="ignore")  # the hand-written sigmoid overflows harmlessly for very negative z
    if args.profile:
        return profile(args.profile, args.reps or 2000)
    chosen = set(args.only or range(1, 7))
    reps = args.reps or (300 if args.quick else 2000)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {np.__version__}, BLAS threads "
          f"{os.environ['OPENBLAS_NUM_THREADS']}")  # fmt: skip
    print()
    print("| workload | hand-written | autograd_lite | ratio | PyTorch (ratio) | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in (1, 2, 3):
        if key in chosen:
            print(_net_row(key, reps), flush=True)
    if 4 in chosen:
        per_op = {}
        sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
        for n_ops in sizes:
            steps = workloads.chain(n_ops)
            medians = {}
            for name, step in steps.items():
                t0 = time.perf_counter()
                step()
                medians[name] = time.perf_counter() - t0
            per_op[n_ops] = medians["autograd_lite"]
            note = f"{medians['autograd_lite'] / n_ops * 1e6:.2f} µs per op"
            if n_ops == 1_000_000:
                note += f"; 1M / 100k time = {per_op[n_ops] / per_op[100_000]:.1f}×"
            if n_ops == 100_000:
                hand = peak_bytes(steps["hand-written"])
                ours = peak_bytes(steps["autograd_lite"])
                note += f"; peak memory {ours / 1e6:.0f} MB vs {hand / 1e6:.0f} MB"
            print(row(f"4. chain of {n_ops:,} tanh ops", medians, note), flush=True)
    if 5 in chosen:
        for batch in (1, 64):
            steps = workloads.recording_overhead(batch)
            medians = interleaved_medians(steps, reps if batch == 1 else max(reps // 4, 50))
            note = (
                f"no_grad forward {_us(medians['no_grad'])}; recording costs "
                f"{medians['autograd_lite'] / medians['no_grad']:.2f}× the no_grad forward"
            )
            print(row(f"5. forward only, batch {batch}", medians, note), flush=True)
    if 6 in chosen:
        print(_net_row(6, reps), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
