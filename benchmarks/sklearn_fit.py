"""Fit time of ``autograd_lite.sklearn``'s MLPs beside scikit-learn's own, on the same problems.

Run from the repository root (needs the ``sklearn`` extra)::

    python benchmarks/sklearn_fit.py            # --repeats N, --out PATH

Each workload is fitted by ``autograd_lite.sklearn`` and by ``sklearn.neural_network`` with the
same parameters and seed, in alternating turns in one process; the table gives the median
wall time of a whole ``fit`` over the turns, the epochs it ran, the time per epoch and the
test score. Both run twice: with BLAS's default threads (as a user runs them; autograd_lite's
MLPs then use one BLAS thread while every layer's batch product is small, see
``autograd_lite/sklearn.py``) and with every BLAS limited to one thread. Writes a markdown
table to ``--out`` (default ``benchmarks/results/sklearn_fit.md``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from autograd_lite import sklearn as al_sklearn

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def digits() -> Data:
    """scikit-learn's digits, test split 0.25 with random_state=0, standardised."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def noisy_sine() -> Data:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (1500, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(1500)
    return X[:1000], X[1000:], y[:1000], y[1000:]


WORKLOADS: list[tuple[str, str, Callable[[], Data], dict[str, Any]]] = [
    ("digits, 64-64-10, adam", "MLPClassifier", digits, dict(hidden_layer_sizes=(64,))),
    ("digits, 64-64-10, sgd, 50 epochs", "MLPClassifier", digits,
     dict(hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=0.01, max_iter=50)),
    ("digits, 64-256-128-10, adam, 30 epochs", "MLPClassifier", digits,
     dict(hidden_layer_sizes=(256, 128), max_iter=30)),
    ("noisy sine, 1-32-1 tanh, adam", "MLPRegressor", noisy_sine,
     dict(hidden_layer_sizes=(32,), activation="tanh", learning_rate_init=0.01, max_iter=300)),
]  # fmt: skip


def fit_once(cls: type, params: dict[str, Any], data: Data) -> tuple[float, int, float]:
    X_train, X_test, y_train, y_test = data
    model = cls(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
    return seconds, model.n_iter_, model.score(X_test, y_test)


def measure(repeats: int, one_thread: bool) -> list[list[str]]:
    rows = []
    for label, name, make, params in WORKLOADS:
        data = make()
        pair = {
            "autograd_lite": getattr(al_sklearn, name),
            "scikit-learn": getattr(neural_network, name),
        }
        times: dict[str, list[float]] = {k: [] for k in pair}
        facts: dict[str, tuple[int, float]] = {}
        with threadpool_limits(limits=1, user_api="blas") if one_thread else nullcontext():
            for turn in range(repeats):
                order = list(pair) if turn % 2 == 0 else list(reversed(pair))
                for who in order:
                    seconds, epochs, score = fit_once(pair[who], params, data)
                    times[who].append(seconds)
                    facts[who] = (epochs, score)
        ours, theirs = (statistics.median(times[k]) for k in pair)
        for who, t in (("autograd_lite", ours), ("scikit-learn", theirs)):
            epochs, score = facts[who]
            rows.append([label if who == "autograd_lite" else "", f"{name} ({who})", f"{t:.3f}",
                         str(epochs), f"{1e3 * t / epochs:.2f}", f"{score:.3f}",
                         f"{t / theirs:.2f}"])  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sklearn_fit.md")
    args = parser.parse_args(argv)
    head = ["workload", "estimator", "fit (s)", "epochs", "ms per epoch", "test score",
            "ratio to scikit-learn"]  # fmt: skip
    lines = [
        "### autograd_lite.sklearn against scikit-learn's MLP: fit time",
        "",
        f"Median over {args.repeats} alternating turns of a whole `fit` (same parameters, "
        "`random_state=0`); the test score is accuracy (classifier) or R² (regressor). "
        "Produced by `python benchmarks/sklearn_fit.py`.",
    ]
    blas = ", ".join(sorted({f"{i['internal_api']} {i['num_threads']} threads"
                             for i in threadpool_info() if i["user_api"] == "blas"}))  # fmt: skip
    for one_thread, title in ((False, f"BLAS default threads ({blas})"), (True, "BLAS 1 thread")):
        rows = measure(args.repeats, one_thread)
        lines += ["", f"#### {title}", "", "| " + " | ".join(head) + " |",
                  "| " + " | ".join("---" for _ in head) + " |"]  # fmt: skip
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        print("\n".join(lines[-len(rows) - 2 :]), flush=True)
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Load average when it finished: {load:.1f} (other processes share the CPUs, so the "
        "ratios move by ±0.2 from run to run; alternating turns keep the comparison fair).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn {sklearn.__version__}.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
