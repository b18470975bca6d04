"""conv2d forward and backward beside PyTorch's CPU convolution (when torch is installed).

Two workloads: a batch of 64 8×8 images, 1 → 16 channels, 3×3 kernel, padding 1 (the digits
CNN's first layer), and a batch of 32 28×28 images, 1 → 8 channels, 5×5 kernel (an MNIST-sized
first layer). Each step is forward, then backward of Σ ō · o with gradients for the input, the
weight and the bias. BLAS and PyTorch both run on one thread. Writes
``benchmarks/results/conv.md``; ``--quick`` runs a few repetitions and writes nothing.

Run: ``python benchmarks/conv.py``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd_lite as al

WORKLOADS = [
    ("64 × 1×8×8, 16 filters 3×3, padding 1", (64, 1, 8, 8), (16, 1, 3, 3), 1),
    ("32 × 1×28×28, 8 filters 5×5, no padding", (32, 1, 28, 28), (8, 1, 5, 5), 0),
]


def ours(x: np.ndarray, w: np.ndarray, b: np.ndarray, padding: int) -> Callable[[], None]:
    xt, wt, bt = (al.Tensor(a, requires_grad=True) for a in (x, w, b))
    g = np.random.default_rng(1).standard_normal(al.conv2d(x, w, b, padding=padding).shape)

    def step() -> None:
        for t in (xt, wt, bt):
            t.grad = None
        al.conv2d(xt, wt, bt, padding=padding).backward(g)

    return step


def pytorch(x: np.ndarray, w: np.ndarray, b: np.ndarray, padding: int) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    g = torch.tensor(np.random.default_rng(1).standard_normal(
        torch.nn.functional.conv2d(xt, wt, bt, padding=padding).shape))  # fmt: skip

    def step() -> None:
        for t in (xt, wt, bt):
            t.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, padding=padding).backward(g)

    return step


def median_time(step: Callable[[], None], repeats: int) -> float:
    step()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(quick: bool = False) -> list[tuple[str, float, float | None]]:
    rng = np.random.default_rng(0)
    rows = []
    for name, xs, ws, padding in WORKLOADS:
        x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
        repeats = 5 if quick else 200
        mine = median_time(ours(x, w, b, padding), repeats)
        theirs = pytorch(x, w, b, padding)
        ref = None if theirs is None else median_time(theirs, repeats)
        rows.append((name, mine, ref))
    lines = [
        "| workload (float64, forward + backward) | autograd_lite | PyTorch CPU | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for name, mine, ref in rows:
        torch_cell = "not installed" if ref is None else f"{ref * 1e6:,.0f} µs"
        ratio = "—" if ref is None else f"{mine / ref:.2f}"
        lines.append(f"| {name} | {mine * 1e6:,.0f} µs | {torch_cell} | {ratio} |")
    lines.append("")
    lines.append(
        f"Median of 200 steps. Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, one BLAS and one PyTorch thread. "
        "Produced by `python benchmarks/conv.py`."
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if not quick:
        out = Path(__file__).resolve().parent / "results" / "conv.md"
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
