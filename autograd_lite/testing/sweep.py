r"""How the finite-difference error depends on the step ε.

The central difference of a smooth f has truncation error about ε²·|f‴|/6, which shrinks with
ε, and rounding error about u·|f|/ε (u ≈ 1.1e-16 for float64), which grows as ε shrinks. The
total is smallest near ε ≈ (3u·|f|/|f‴|)^{1/3}, typically 1e-6 to 1e-4 in float64. This module
measures that V-shaped curve for a given function.

Non-finite values: if the gradient from backward is nan or inf anywhere, no step can agree
with it, and :func:`eps_sweep` raises ``ValueError`` naming the element (run :func:`gradcheck`
for the full report). A step whose central differences are not finite (the stencil leaves fn's
domain, or overflows) has error ``inf``: it is never the best step. If every step is like that,
``ValueError`` again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .gradcheck import Problem, check_tolerances, output_shapes, projections
from .report import GradcheckWarning

__all__ = ["EpsSweep", "eps_sweep"]


@dataclass
class EpsSweep:
    r"""The measured gradient error for each step.

    Attributes
    ----------
    eps
        The steps, increasing.
    errors
        The worst absolute error max |analytic − numeric| over all compared entries, per step;
        ``inf`` where the central differences at that step are not finite.
    rel_errors
        The same divided by the largest |analytic| entry (or 1 if all are 0).
    best_eps
        The step with the smallest error: the recommended ``eps`` for :func:`gradcheck`.
    """

    eps: np.ndarray
    errors: np.ndarray
    rel_errors: np.ndarray
    best_eps: float

    def __str__(self) -> str:
        """Return the sweep as a table of eps and worst error."""
        lines = [f"{'eps':>10} {'worst abs err':>14} {'rel err':>10}"]
        for e, a, r in zip(self.eps, self.errors, self.rel_errors):
            mark = "  <- best" if e == self.best_eps else ""
            if not np.isfinite(a):
                mark = "  (central differences not finite)"
            lines.append(f"{e:>10.1e} {a:>14.3e} {r:>10.3e}{mark}")
        lines.append(
            f"recommended eps: {self.best_eps:.1e} (smaller steps lose to rounding, larger ones "
            "to truncation)"
        )
        return "\n".join(lines)

    def plot(self, path: str) -> str:
        """Save a log-log plot of error against eps.

        The ε² truncation and u/ε rounding slopes are drawn through the best point; needs matplotlib
        (the ``plot`` extra).
        """
        try:
            import matplotlib
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "EpsSweep.plot needs matplotlib: pip install 'autograd_lite[plot]'"
            ) from None
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        floor = np.finfo(np.float64).tiny
        finite = np.isfinite(self.errors)
        errors = np.maximum(self.errors[finite], floor)
        steps = self.eps[finite]
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            ax.loglog(steps, errors, "o-", label="measured worst error")
            k = int(np.argmin(errors))
            e0, err0 = steps[k], errors[k]
            ax.loglog(steps, err0 * (steps / e0) ** 2, "--", label="truncation ∝ ε²")
            ax.loglog(steps, err0 * (e0 / steps), ":", label="rounding ∝ u/ε")
            ax.axvline(self.best_eps, color="grey", lw=0.8)
            ax.set_ylim(errors.min() / 10, errors.max() * 10)
            ax.set_xlabel("finite-difference step ε")
            ax.set_ylabel("max |analytic − numeric|")
            ax.set_title(f"gradient error against ε (best ε = {self.best_eps:.0e})")
            ax.legend()
            fig.tight_layout()
            fig.savefig(path)
        finally:
            plt.close(fig)
        return path


def eps_sweep(
    fn: Callable[..., Any], inputs: Any, eps: Any = None, *, seed: int = 0, full_limit: int = 256
) -> EpsSweep:
    r"""Measure the worst gradient error of ``fn(*inputs)`` for each finite-difference step.

    Parameters
    ----------
    fn, inputs
        As for :func:`gradcheck`.
    eps
        The steps to try (positive); by default 23 steps from 1e-12 to 1e-1, evenly spaced in
        log scale.
    seed
        Seed of the random output projection (and of the directions for large inputs).
    full_limit
        Inputs with more elements than this (in all) are compared along 4 random unit
        directions instead of element by element.

    Returns
    -------
    EpsSweep
        ``.eps``, ``.errors``, ``.best_eps``, a table as ``str()``, and ``.plot(path)``.

    Raises
    ------
    ValueError
        If the gradient from backward is nan or inf anywhere, or the central differences are
        not finite at any step.
    """
    grid = np.logspace(-12, -1, 23) if eps is None else np.asarray(eps, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"eps_sweep: eps must be a non-empty 1-D sequence, got shape {grid.shape}")
    for e in grid:
        check_tolerances("eps_sweep", float(e), 0.0, 0.0)
    grid = np.sort(grid)
    with warnings.catch_warnings():
        warnings.simplefilter("always", GradcheckWarning)
        problem = Problem(fn, inputs, "eps_sweep")
    rng = np.random.default_rng(seed)
    shapes, m = output_shapes(problem)
    W, _ = projections(m, rng)
    A = problem.analytic(W, shapes)
    _require_finite(problem, A)
    if problem.n <= full_limit:
        V = np.eye(problem.n)
    else:
        V = rng.standard_normal((4, problem.n))
        V /= np.linalg.norm(V, axis=1, keepdims=True)
    ana = A @ V.T
    scale = float(np.abs(ana).max(initial=0.0)) or 1.0
    errors = np.array([_worst_error(problem, W, V, ana, float(e)) for e in grid])
    if not np.any(np.isfinite(errors)):
        raise ValueError(
            "eps_sweep: the central differences are not finite at any step: fn is not finite "
            "near the inputs (move them away from the edge of its domain)"
        )
    best = float(grid[int(np.argmin(errors))])
    return EpsSweep(grid, errors, errors / scale, best)


def _require_finite(problem: Problem, A: np.ndarray) -> None:
    bad = np.argwhere(~np.isfinite(A))
    if bad.size:
        r, i = (int(j) for j in bad[0])
        p, index = problem.locate(i)
        raise ValueError(
            f"eps_sweep: the analytic gradient is {A[r, i]} at input {p} index {index}, so no "
            "step can agree with it (gradcheck gives the full report)"
        )


def _worst_error(
    problem: Problem, W: np.ndarray, V: np.ndarray, ana: np.ndarray, e: float
) -> float:
    """Return max |analytic − numeric| along the rows of ``V`` at step ``e``; inf if not finite."""
    num = np.stack([problem.along(W, v, e) for v in V], axis=1)
    if not np.all(np.isfinite(num)):
        return np.inf
    return float(np.abs(ana - num).max(initial=0.0))
