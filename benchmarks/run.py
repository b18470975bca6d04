"""Benchmarks: autograd_lite against a hand-written NumPy version of the same computation.

Run from the repository root::

    python benchmarks/run.py            # all workloads
    python benchmarks/run.py --quick    # fewer repetitions, chain up to 100k
    python benchmarks/run.py --baseline DIR   # this checkout's steps beside DIR's, in turns

Each workload's steps run interleaved in one process (same arrays, same BLAS), so the ratios
are fair even on a noisy machine; the table reports median times per step and the ratio to the
hand-written step. PyTorch's column appears when PyTorch is installed (never a dependency).
All three run their BLAS on one thread (set before NumPy loads; override with the usual
``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` variables), so a busy 2-core machine does not make
multi-threaded GEMMs stall at random. With ``--baseline DIR`` it imports a second copy of
autograd_lite (and of this directory's ``workloads.py``) from the checkout in ``DIR`` and times
each workload's autograd_lite step of both checkouts in turns, in the same process.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import cProfile
import gc
import importlib
import platform
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import workloads

Modules = dict[str, ModuleType]  # a checkout's autograd_lite and workloads modules, by name


def interleaved_medians(
    steps: dict[str, Callable[[], object]],
    reps: int,
    block: int = 25,
    modules: dict[str, Modules] | None = None,
) -> dict[str, float]:
    """Median seconds per call of each step; the steps take turns in blocks of ``block`` calls
    (at least ten turns each), so slow drifts of a busy machine hit all of them alike while
    each runs in steady state. ``modules[name]``, if given, is put in ``sys.modules`` before
    each block of step ``name`` (see :func:`load_checkout`)."""
    block = max(1, min(block, reps // 10))
    modules = modules or {}
    for name, step in steps.items():  # warm up
        sys.modules.update(modules.get(name, {}))
        for _ in range(5):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    clock = time.perf_counter
    for _ in range(max(reps // block, 1)):
        for name, step in steps.items():
            sys.modules.update(modules.get(name, {}))
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


def freeze_heap() -> None:
    """Move every object alive now (the modules of NumPy, PyTorch, both checkouts) out of the
    cycle collector's sight (``gc.freeze``), as long-running programs do after start-up: else
    each full collection during a timed step would walk PyTorch's 150,000 objects too."""
    gc.collect()
    gc.freeze()


def chain_medians(
    steps: dict[str, Callable[[], object]], rounds: int, modules: dict[str, Modules] | None = None
) -> dict[str, float]:
    """Median seconds of one call of each step over ``rounds`` rounds in which the steps take
    turns (for steps too long to repeat in blocks, such as a chain of 100,000 ops). Each call
    starts after a full collection, so each finds the cycle collector in the same state."""
    modules = modules or {}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            sys.modules.update(modules.get(name, {}))
            gc.collect()
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(ts)) for name, ts in times.items()}


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


#: Chain lengths of workload 4 and rounds of each (alternating steps, medians reported).
CHAINS = {10_000: 7, 100_000: 3, 1_000_000: 1}


def _chain_rows(quick: bool) -> list[str]:
    """Workload 4's rows: per-op cost at each chain length, beside PyTorch's."""
    rows, totals = [], {}
    for n_ops, rounds in CHAINS.items():
        if quick and n_ops > 100_000:
            break
        steps = workloads.chain(n_ops)
        medians = chain_medians(steps, max(rounds // 2, 1) if quick else rounds)
        totals[n_ops] = medians["autograd_lite"]
        note = f"{medians['autograd_lite'] / n_ops * 1e6:.2f} µs per op"
        if "pytorch" in medians:
            note += f" (PyTorch {medians['pytorch'] / n_ops * 1e6:.2f})"
        if n_ops == 100_000:
            note += f"; per op ÷ 10k's {totals[n_ops] / totals[10_000] / 10:.2f}"
            hand = peak_bytes(steps["hand-written"])
            ours = peak_bytes(steps["autograd_lite"])
            note += f"; peak memory {ours / 1e6:.0f} MB vs {hand / 1e6:.0f} MB"
        if n_ops == 1_000_000:
            note += f"; 1M / 100k time = {totals[n_ops] / totals[100_000]:.1f}×"
        rows.append(row(f"4. chain of {n_ops:,} tanh ops", medians, note))
    return rows


def table(chosen: set[int], reps: int, quick: bool) -> list[str]:
    """The benchmark's table, one workload row at a time (printed as it is measured)."""
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}",
        "",
        "| workload | hand-written | autograd_lite | ratio | PyTorch (ratio) | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)

    def add(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    for key in (1, 2, 3):
        if key in chosen:
            add(_net_row(key, reps))
    if 4 in chosen:
        for text in _chain_rows(quick):
            add(text)
    if 5 in chosen:
        for batch in (1, 64):
            steps = workloads.recording_overhead(batch)
            medians = interleaved_medians(steps, reps if batch == 1 else max(reps // 4, 50))
            note = (
                f"no_grad forward {_us(medians['no_grad'])}; recording costs "
                f"{medians['autograd_lite'] / medians['no_grad']:.2f}× the no_grad forward"
            )
            add(row(f"5. forward only, batch {batch}", medians, note))
    if 6 in chosen:
        add(_net_row(6, reps))
    return lines


def _owned(name: str) -> bool:
    return name.split(".")[0] in ("autograd_lite", "workloads")


def load_checkout(root: Path) -> Modules:
    """Import autograd_lite and ``benchmarks/workloads.py`` afresh from the checkout at ``root``
    and return their modules, taken out of ``sys.modules`` again (the ones imported before are
    put back). Each copy's functions keep their own globals, so both copies run side by side as
    long as the copy whose step runs is in ``sys.modules`` for its imports on first use."""
    current = {name: m for name, m in sys.modules.items() if _owned(name)}
    for name in current:
        del sys.modules[name]
    sys.path[:0] = [str(root / "benchmarks"), str(root)]
    try:
        importlib.import_module("workloads")
        return {name: m for name, m in sys.modules.items() if _owned(name)}
    finally:
        del sys.path[:2]
        for name in [name for name in sys.modules if _owned(name)]:
            del sys.modules[name]
        sys.modules.update(current)


def _built(
    copies: dict[str, Modules], make: Callable[[ModuleType], dict[str, Callable[[], object]]]
):
    """``make(workloads)``'s autograd_lite step in each copy, built with that copy in place."""
    steps = {}
    for name, mods in copies.items():
        sys.modules.update(mods)
        steps[name] = make(mods["workloads"])["autograd_lite"]
    return steps


def compare(baseline: Path, chosen: set[int], reps: int, quick: bool) -> list[str]:
    """Before/after rows: each workload's autograd_lite step in ``baseline`` and here, in turns."""
    here = {name: m for name, m in sys.modules.items() if _owned(name)}
    copies = {"before": load_checkout(baseline), "after": here}
    freeze_heap()
    lines = [
        f"Before: `{baseline}`; after: this checkout. Median time per step, in turns, one process.",
        "",
        "| workload | before | after | after / before |",
        "| --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)
    jobs: list[tuple[str, Callable[[ModuleType], dict[str, Callable[[], object]]], int]] = []
    for key in (1, 2, 3, 6):
        if key in chosen:
            shape = NETS[key][1]
            jobs.append((NETS[key][0], lambda w, s=shape: w.sigmoid_net(*s), _steps(key, reps)))
    if 4 in chosen:
        for n_ops in (10_000, 100_000):
            jobs.append((f"4. chain of {n_ops:,} tanh ops", lambda w, n=n_ops: w.chain(n), -n_ops))
    if 5 in chosen:
        for batch in (1, 64):
            n = reps if batch == 1 else max(reps // 4, 50)
            jobs.append(
                (f"5. forward only, batch {batch}", lambda w, b=batch: w.recording_overhead(b), n)
            )
    for label, make, n in jobs:
        steps = _built(copies, make)
        if n < 0:  # a chain: alternating single runs
            medians = chain_medians(
                steps, (3 if quick else 7) if n > -50_000 else (2 if quick else 5), copies
            )
        else:
            medians = interleaved_medians(steps, n, modules=copies)
        before, after = medians["before"], medians["after"]
        text = f"| {label} | {_us(before)} | {_us(after)} | {after / before:.3f} |"
        print(text, flush=True)
        lines.append(text)
    sys.modules.update(here)
    return lines


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
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of autograd_lite (its root directory) whose steps to time beside this "
        "one's, printing a before/after table instead",
    )
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    np.seterr(over="ignore")  # the hand-written sigmoid overflows harmlessly for very negative z
    if args.profile:
        return profile(args.profile, args.reps or 2000)
    chosen = set(args.only or range(1, 7))
    reps = args.reps or (300 if args.quick else 2000)
    freeze_heap()
    if args.baseline:
        lines = compare(args.baseline.resolve(), chosen, reps, args.quick)
    else:
        lines = table(chosen, reps, args.quick)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
