r"""Gradient checks against central finite differences in float64, with reports that explain.

For ``f = fn(*inputs)`` with outputs of m elements in all, the checker picks projections of
the output: the m rows of the Jacobian (one-hot ``w``) when m ≤ ``FULL_OUTPUT``, else one random
Gaussian ``w``. For each projection it compares the vector-Jacobian product from ``backward``,

.. math:: a = w^\top J,

with central differences of ⟨w, f⟩, whose truncation error is O(ε²) and rounding error
O(u·|f|/ε) (u the float64 unit roundoff):

.. math:: n_i = \frac{\langle w, f(x + \epsilon e_i)\rangle
                      - \langle w, f(x - \epsilon e_i)\rangle}{2\epsilon}.

Small inputs (≤ ``full_limit`` elements in all) are compared element by element. Large ones
are first compared along a few random unit directions v (⟨a, v⟩ against the central difference
along v); only if that fails is the full comparison run, to build the report. Fast mode
compares only uᵀJv = v·(Jᵀu) for a few random unit u (output space) and v (input space), then
falls back in the same way.

An entry fails when |a − n| > atol + rtol·|n|, and whenever a or n is nan or ±inf: every
comparison here is written so that nan cannot pass (``not err <= tol``, never ``err > tol``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._grad_mode import enable_grad, no_grad, recording_sites
from ..engine import walk_backward
from ..tensor import Tensor
from . import kinks
from .blame import find_blame
from .report import (
    BlameResult,
    ElementError,
    GradcheckError,
    GradcheckReport,
    GradcheckWarning,
    InputReport,
    KinkNote,
    rel_error,
)

__all__ = ["check_gradients", "check_second_gradients", "gradcheck", "gradgradcheck"]

FULL_OUTPUT = 16  # outputs up to this many elements are checked row by row of the Jacobian
WORST_SHOWN = 5  # elements listed per input in a report


class Problem:
    """The inputs of a check in float64, and ways to run ``fn`` on (perturbed) copies of them."""

    def __init__(self, fn: Callable[..., Any], inputs: Any, what: str) -> None:
        if not callable(fn):
            raise TypeError(f"{what}: fn must be callable, got {type(fn).__name__}")
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        if not isinstance(inputs, (tuple, list)):
            raise TypeError(
                f"{what}: inputs must be a Tensor or a tuple/list of inputs, got "
                f"{type(inputs).__name__}"
            )
        self.fn = fn
        self.what = what
        self.values: list[Any] = []
        self.is_tensor: list[bool] = []
        self.checked: list[int] = []
        for p, x in enumerate(inputs):
            if isinstance(x, Tensor):
                arr = x.data
                if arr.dtype.kind == "f":
                    if arr.dtype != np.float64:
                        if x.requires_grad:
                            warnings.warn(
                                f"{what}: input {p} is {arr.dtype}; central differences need "
                                "float64 to resolve small eps, so the check runs on a float64 "
                                "copy of it",
                                GradcheckWarning,
                                stacklevel=3,
                            )
                        arr = arr.astype(np.float64)
                    else:
                        arr = arr.copy()
                    if x.requires_grad:
                        self.checked.append(p)
                self.values.append(arr)
                self.is_tensor.append(True)
            else:
                self.values.append(x)
                self.is_tensor.append(False)
        if not self.checked:
            raise ValueError(f"{what}: no input requires grad, so there is nothing to check")
        self.sizes = [self.values[p].size for p in self.checked]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.n = int(self.offsets[-1])

    # -- running fn ---------------------------------------------------------------------------

    def args(self, values: list[Any], leaves: bool) -> list[Any]:
        out = []
        for p, v in enumerate(values):
            if not self.is_tensor[p]:
                out.append(v)
            elif leaves and p in self.checked:
                out.append(Tensor(v.copy(), requires_grad=True))
            else:
                out.append(Tensor._wrap(v))
        return out

    def outputs(self, result: Any) -> list[Tensor]:
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        if not outs or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(
                f"{self.what}: fn must return a Tensor or a tuple of Tensors, got "
                f"{type(result).__name__}"
            )
        for o in outs:
            if o.dtype.kind != "f":
                raise TypeError(f"{self.what}: fn returned a tensor of dtype {o.dtype}")
        return outs

    def evaluate(self, values: list[Any]) -> np.ndarray:
        """Evaluate fn at ``values`` (no recording): all outputs as one flat float64 vector."""
        with no_grad(), np.errstate(all="ignore"):  # nan or inf is reported, not warned about
            outs = self.outputs(self.fn(*self.args(values, leaves=False)))
        return np.concatenate([o.data.astype(np.float64).ravel() for o in outs])

    def perturbed(self, delta: np.ndarray) -> list[Any]:
        """Return the inputs with the flat vector ``delta`` added to the checked ones."""
        values = list(self.values)
        for k, p in enumerate(self.checked):
            d = delta[self.offsets[k] : self.offsets[k + 1]].reshape(self.values[p].shape)
            values[p] = self.values[p] + d
        return values

    def along(self, P: np.ndarray, v: np.ndarray, eps: float) -> np.ndarray:
        """Return P (f(x + εv) − f(x − εv)) / 2ε.

        These are central differences of the projections ``P`` of fn along the flat direction ``v``.
        """
        fp = self.evaluate(self.perturbed(eps * v))
        fm = self.evaluate(self.perturbed(-eps * v))
        return np.asarray(P @ ((fp - fm) / (2 * eps)))

    def shifted(self, i: int, step: float) -> list[Any]:
        """Return the inputs with flat element ``i`` of the checked inputs moved by ``step``."""
        values = list(self.values)
        k = int(np.searchsorted(self.offsets, i, side="right")) - 1
        p = self.checked[k]
        arr = self.values[p].copy()
        arr.flat[i - self.offsets[k]] += step
        values[p] = arr
        return values

    def locate(self, i: int) -> tuple[int, tuple[int, ...]]:
        k = int(np.searchsorted(self.offsets, i, side="right")) - 1
        p = self.checked[k]
        index = np.unravel_index(i - self.offsets[k], self.values[p].shape)
        return p, tuple(int(j) for j in index)

    def analytic(self, projections: np.ndarray, out_shapes: list[tuple[int, ...]]) -> np.ndarray:
        """Rows wᵀJ from backward, one per row of ``projections`` (r × m), as an r × n array."""
        rows = np.zeros((len(projections), self.n))
        with enable_grad(), np.errstate(all="ignore"):  # nan or inf is reported, not warned
            args = self.args(self.values, leaves=True)
            outs = self.outputs(self.fn(*args))
            position = {id(args[p]): k for k, p in enumerate(self.checked)}
            for r, w in enumerate(projections):
                start = 0
                for o, shape in zip(outs, out_shapes):
                    size = int(np.prod(shape))
                    wo = w[start : start + size].reshape(shape).astype(o.dtype)
                    start += size
                    if not o.requires_grad or not wo.any():
                        continue
                    for leaf, g in walk_backward(o, wo, retain_graph=True, create_graph=False):
                        k = position.get(id(leaf))
                        if k is not None:
                            g = np.asarray(g.data if isinstance(g, Tensor) else g, np.float64)
                            rows[r, self.offsets[k] : self.offsets[k + 1]] += np.broadcast_to(
                                g, self.values[self.checked[k]].shape
                            ).ravel()
        return rows

    def kink_at(self, kink_fn: Callable[..., Any], i: int, eps: float) -> tuple[str, Any] | None:
        """Return the first kinky op whose branch changes across flat element ``i``'s stencil."""
        masks = []
        for step in (eps, -eps):
            with enable_grad(), recording_sites(), np.errstate(all="ignore"):
                args = self.args(self.shifted(i, step), leaves=True)
                result = kink_fn(*args)
                outs = list(result) if isinstance(result, (tuple, list)) else [result]
                masks.append(kinks.graph_masks([o for o in outs if isinstance(o, Tensor)]))
        return kinks.first_difference(masks[0], masks[1])


def projections(m: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    if m <= FULL_OUTPUT:
        return np.eye(m), "every row of the Jacobian (index = output element)"
    return rng.standard_normal((1, m)), (
        f"a random projection w of all {m} output elements (entries are ∂⟨w, fn⟩/∂x)"
    )


def _unit_rows(rng: np.random.Generator, k: int, size: int) -> np.ndarray:
    """``k`` random unit vectors of length ``size``, as rows."""
    rows = rng.standard_normal((k, size))
    return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True))


def _out_labels(shapes: list[tuple[int, ...]], m: int) -> list[str]:
    if m > FULL_OUTPUT:
        return ["w·out"]
    labels = []
    for j, shape in enumerate(shapes):
        for idx in np.ndindex(*shape):
            text = "(" + ",".join(str(i) for i in idx) + ("," if len(idx) == 1 else "") + ")"
            labels.append(text if len(shapes) == 1 else f"{j}:{text}")
    return labels


def check_gradients(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    strict_kinks: bool = False,
    blame: bool = True,
    seed: int = 0,
    full_limit: int = 1024,
    directions: int = 4,
    fast_mode: bool = False,
    _order: int = 1,
    _kink_fn: Callable[..., Any] | None = None,
    _blame_fn: Callable[..., Any] | None = None,
    _what: str = "gradcheck",
) -> GradcheckReport:
    r"""Compare backward with central differences and return the :class:`GradcheckReport`.

    This is :func:`gradcheck` without the raising: the report says whether the check passed
    (``report.passed``) and what the worst errors were, even when everything agrees.
    ``directions`` is the number of random unit vectors of the directional and fast checks.
    """
    check_tolerances(_what, eps, atol, rtol)
    problem = Problem(fn, inputs, _what)
    rng = np.random.default_rng(seed)
    shapes, m = output_shapes(problem)
    W, projection = projections(m, rng)
    if _order == 2:
        projection += "; fn here is g = ∂⟨w, f⟩/∂x for a random w, so outputs index g"
    report = GradcheckReport(
        order=_order,
        eps=eps,
        atol=atol,
        rtol=rtol,
        projection=projection,
        strict_kinks=strict_kinks,
    )
    if fast_mode and _fast_check(report, problem, inputs, shapes, rng, directions):
        return report
    A = problem.analytic(W, shapes)
    if problem.n > full_limit and not fast_mode:  # directional first; full only if it fails
        V = _unit_rows(rng, directions, problem.n)
        ok, worst = _agree_along(problem, W, A, V, eps, atol, rtol)
        if ok:
            _add_directional_reports(report, problem, inputs, "directional", directions, worst)
            return report
    comparison = _Comparison(A, _numeric_rows(problem, W, eps), atol, rtol)
    kink_of = _kinks_of(problem, comparison, _kink_fn or fn, eps, strict_kinks)
    _add_full_reports(report, problem, inputs, comparison, kink_of, _out_labels(shapes, m))
    if blame and any(e.rule_failure for r in report.inputs for e in r.worst):
        report.blame_detail = _blame(_blame_fn or fn, problem, report)
    return report


def _blame(fn: Callable[..., Any], problem: Problem, report: GradcheckReport) -> BlameResult | None:
    """Return the op behind ``fn`` whose own rule fails the check that ``report`` failed."""
    return find_blame(
        fn,
        problem.args(problem.values, leaves=True),
        order=report.order,
        eps=report.eps,
        atol=report.atol,
        rtol=report.rtol,
        checks=(check_gradients, check_second_gradients),
    )


def _fast_check(
    report: GradcheckReport,
    problem: Problem,
    inputs: Any,
    shapes: list[tuple[int, ...]],
    rng: np.random.Generator,
    directions: int,
) -> bool:
    r"""Tell whether uᵀJv agrees for random unit vectors u and v.

    u is in the output space (one backward each), v in the input space (two evaluations
    each); if so, the report says so.
    """
    m = sum(int(np.prod(shape)) for shape in shapes)
    U = _unit_rows(rng, min(directions, m), m)
    V = _unit_rows(rng, directions, problem.n)
    tolerances = (report.eps, report.atol, report.rtol)
    ok, worst = _agree_along(problem, U, problem.analytic(U, shapes), V, *tolerances)
    if ok:
        report.projection = f"{len(U)} random unit vectors u of the output space"
        _add_directional_reports(report, problem, inputs, "fast", len(U) * len(V), worst)
    return ok


def output_shapes(problem: Problem) -> tuple[list[tuple[int, ...]], int]:
    """Return the shapes of fn's outputs at the inputs, and their number of elements in all."""
    with no_grad(), np.errstate(all="ignore"):  # a non-finite start is reported just below
        outs = problem.outputs(problem.fn(*problem.args(problem.values, leaves=False)))
    center = np.concatenate([o.data.astype(np.float64).ravel() for o in outs])
    if not np.all(np.isfinite(center)):
        raise ValueError(f"{problem.what}: fn returned non-finite values at the given inputs")
    return [o.shape for o in outs], center.size


def _agree_along(
    problem: Problem,
    P: np.ndarray,
    A: np.ndarray,
    V: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
) -> tuple[bool, float]:
    r"""Tell whether (P J) v from backward (``A @ v``) matches finite differences.

    That is P times the central difference of fn along v, for every row v of ``V``: two evaluations
    per v. Anything non-finite disagrees.
    Returns the verdict and the worst absolute error.
    """
    worst = 0.0
    for v in V:
        num = problem.along(P, v, eps)
        ana = A @ v
        with np.errstate(invalid="ignore"):
            err = np.abs(ana - num)
            agree = np.isfinite(ana) & np.isfinite(num) & (err <= atol + rtol * np.abs(num))
        if not np.all(agree):
            return False, float("nan")
        worst = max(worst, float(err.max(initial=0.0)))
    return True, worst


def _add_directional_reports(
    report: GradcheckReport,
    problem: Problem,
    inputs: Any,
    mode: str,
    n_checked: int,
    worst: float,
) -> None:
    for p in problem.checked:
        shape, dtype = problem.values[p].shape, str(inputs_dtype(inputs, p))
        report.inputs.append(InputReport(p, shape, dtype, mode, n_checked, 0, 0, worst, 0.0))


def _numeric_rows(problem: Problem, W: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of ⟨w, fn⟩ for every row w of ``W`` and every input element."""
    N = np.empty((len(W), problem.n))
    for i in range(problem.n):
        fp = problem.evaluate(problem.shifted(i, eps))
        fm = problem.evaluate(problem.shifted(i, -eps))
        N[:, i] = W @ ((fp - fm) / (2 * eps))
    return N


class _Comparison:
    """Analytic ``A`` against numeric ``N`` (r × n): errors, and which entries fail.

    An entry fails when |a − n| > atol + rtol·|n|, and whenever a or n is nan or inf (a
    comparison with nan is false, so a plain ``>`` would let it pass).
    """

    def __init__(self, A: np.ndarray, N: np.ndarray, atol: float, rtol: float) -> None:
        self.A, self.N = A, N
        self.nonfinite = ~(np.isfinite(A) & np.isfinite(N))
        with np.errstate(invalid="ignore"):
            self.abs_err = np.abs(A - N)
            self.tol = atol + rtol * np.abs(N)
            self.bad = self.nonfinite | ~(self.abs_err <= self.tol)
        self.rel = rel_error(A, N)

    def badness(self, r: int, i: int) -> float:
        """How far entry (r, i) is past its tolerance (inf if not finite)."""
        if self.nonfinite[r, i]:
            return np.inf
        return float(self.abs_err[r, i] / self.tol[r, i]) if self.tol[r, i] else np.inf


def _kinks_of(
    problem: Problem,
    comparison: _Comparison,
    kink_fn: Callable[..., Any],
    eps: float,
    strict_kinks: bool,
) -> dict[int, tuple[str, Any] | None]:
    """Return the kink crossed by the stencil of each examined element (``None`` if none).

    Elements that disagree are examined; with ``strict_kinks`` every element is, and one whose
    stencil crosses a kink fails even where the two sides happen to agree.
    """
    examine = range(problem.n) if strict_kinks else np.flatnonzero(comparison.bad.any(axis=0))
    kink_of = {int(i): problem.kink_at(kink_fn, int(i), eps) for i in examine}
    if strict_kinks:
        crossing = np.array([kink_of[i] is not None for i in range(problem.n)], dtype=bool)
        comparison.bad = comparison.bad | crossing[None, :]
    return kink_of


def _add_full_reports(
    report: GradcheckReport,
    problem: Problem,
    inputs: Any,
    c: _Comparison,
    kink_of: dict[int, tuple[str, Any] | None],
    labels: list[str],
) -> None:
    """One :class:`InputReport` per checked input, and the kink notes, from the comparison."""
    for k, p in enumerate(problem.checked):
        entries: list[tuple[int, int, bool, str | None]] = []
        counted = np.zeros(c.A.shape, dtype=bool)  # errors that count (not excused kinks)
        n_failed = n_kinks = n_nonfinite = 0
        for i in range(problem.offsets[k], problem.offsets[k + 1]):
            kink = kink_of.get(i)
            kink_name = None if kink is None else kink[0]
            if kink is not None:
                n_kinks += 1
                report.kinks.append(KinkNote(p, problem.locate(i)[1], kink[0], kink[1]))
            for r in range(len(c.A)):
                failed = bool(c.bad[r, i])
                nonfinite = bool(c.nonfinite[r, i])
                # a kink excuses a disagreement, unless strict_kinks or a side is not finite
                at_kink = failed and kink_name is not None and not nonfinite
                excused = at_kink and not report.strict_kinks
                if failed:
                    entries.append((i, r, not excused, kink_name if at_kink else None))
                counted[r, i] = not excused
                n_failed += not excused and failed
                n_nonfinite += failed and nonfinite
        worst = _worst_elements(problem, p, c, entries, labels)
        max_abs = float(np.max(c.abs_err[counted], initial=0.0))
        max_rel = float(np.max(c.rel[counted], initial=0.0))
        size = int(problem.offsets[k + 1] - problem.offsets[k])
        report.inputs.append(
            InputReport(
                p,
                problem.values[p].shape,
                str(inputs_dtype(inputs, p)),
                "full",
                size * len(c.A),
                n_failed,
                n_kinks,
                max_abs,
                max_rel,
                worst,
                n_nonfinite,
            )
        )


def _worst_elements(
    problem: Problem,
    p: int,
    c: _Comparison,
    entries: list[tuple[int, int, bool, str | None]],
    labels: list[str],
) -> list[ElementError]:
    """Return the ``WORST_SHOWN`` worst of input ``p``'s ``entries``.

    Entries are (element, row, failed, kink): failures first, non-finite ones first among them, then
    by how far past the tolerance.
    """
    entries = sorted(entries, key=lambda e: (not e[2], -c.badness(e[1], e[0])))
    return [
        ElementError(
            p,
            problem.locate(i)[1],
            labels[r],
            float(c.A[r, i]),
            float(c.N[r, i]),
            float(c.abs_err[r, i]),
            float(c.rel[r, i]),
            failed,
            kink,
        )
        for i, r, failed, kink in entries[:WORST_SHOWN]
    ]


def inputs_dtype(inputs: Any, p: int) -> np.dtype[Any]:
    x = inputs if isinstance(inputs, Tensor) else inputs[p]
    return x.dtype


def check_tolerances(what: str, eps: float, atol: float, rtol: float) -> None:
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not isinstance(v, (int, float, np.floating)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"{what}: {name} must be a finite non-negative number, got {v!r}")
    if eps == 0:
        raise ValueError(f"{what}: eps must be positive, got {eps!r}")


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    strict_kinks: bool = False,
    blame: bool = True,
    seed: int = 0,
    full_limit: int = 1024,
    fast_mode: bool = False,
) -> bool:
    r"""Check the gradients backward computes for ``fn(*inputs)`` against central differences.

    Parameters
    ----------
    fn
        Called as ``fn(*inputs)``; returns a Tensor of any shape, or a tuple of Tensors.
    inputs
        A Tensor or a tuple/list of Tensors and constants; every Tensor with
        ``requires_grad=True`` is checked. The user's tensors are not touched: the check runs on
        float64 copies (float32 inputs get a :class:`GradcheckWarning`).
    eps
        The finite-difference step: n = (f(x + ε) − f(x − ε)) / 2ε, elementwise.
    atol, rtol
        An entry fails when |analytic − numeric| > atol + rtol·|numeric|, and whenever either
        side is nan or inf.
    raise_exception
        Raise :class:`GradcheckError` on failure (else return ``False``).
    strict_kinks
        Fail every element whose stencil crosses a kink of a built-in op (relu/abs at 0, ties
        in max/min/maximum/minimum, clip bounds), even where both sides happen to agree. By
        default an element that disagrees at a kink is reported as "not differentiable at …"
        and does not fail the check (unless a side is not finite).
    blame
        On failure, re-check every recorded op's own rule on the values it saw and name the
        first that disagrees (``report.blame``), with where it was created.
    seed
        Seed of the random output projection and directions.
    full_limit
        Inputs with more elements than this (in all) are first checked along random
        directions; the element-by-element comparison runs only if that fails.
    fast_mode
        Compare only the scalars uᵀJv for 4 random unit vectors v of the input space and up to
        4 random unit u of the output space: one backward per u, two evaluations of ``fn``
        per v, whatever the size of the input. The tolerance applies to each scalar, where an
        error in a single element of an n-element input is diluted by about 1/√n: to catch
        relative errors r in single elements, use rtol well below r/√n. On a disagreement
        the full check runs, to name the worst element. Kinks are looked for only by the
        full check, so ``strict_kinks`` acts only when it runs (as above ``full_limit``).

    Returns
    -------
    bool
        ``True`` if every entry agrees.
    """
    report = check_gradients(
        fn,
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        strict_kinks=strict_kinks,
        blame=blame,
        seed=seed,
        full_limit=full_limit,
        fast_mode=fast_mode,
    )
    return _verdict(report, raise_exception)


def _verdict(report: GradcheckReport, raise_exception: bool) -> bool:
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(report)
    return False


def _first_gradients(
    fn: Callable[..., Any], problem: Problem, weights: list[np.ndarray]
) -> Callable[..., tuple[Tensor, ...]]:
    r"""g(*inputs) = ∂⟨w, fn(*inputs)⟩/∂(checked inputs), recorded so it can be differentiated."""
    checked = problem.checked

    def g(*given: Any) -> tuple[Tensor, ...]:
        with enable_grad():
            args = list(given)
            for p in checked:
                if not args[p].requires_grad:
                    args[p] = Tensor(args[p].data, requires_grad=True)
            outs = problem.outputs(fn(*args))
            acc: dict[int, Any] = {}
            for o, w in zip(outs, weights):
                if not o.requires_grad:
                    continue
                seed = Tensor._wrap(w.astype(o.dtype))
                for leaf, gr in walk_backward(o, seed, retain_graph=True, create_graph=True):
                    acc[id(leaf)] = gr if id(leaf) not in acc else acc[id(leaf)] + gr
            return tuple(
                acc[id(args[p])] if id(args[p]) in acc else Tensor._wrap(np.zeros(args[p].shape))
                for p in checked
            )

    return g


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    strict_kinks: bool = False,
    blame: bool = True,
    seed: int = 0,
    full_limit: int = 1024,
    fast_mode: bool = False,
) -> bool:
    r"""Check second derivatives: :func:`gradcheck` of the first-order gradients.

    With a fixed random output weight w, g(x) = ∂⟨w, fn(x)⟩/∂x is computed by
    ``backward(create_graph=True)``; the check compares backward through that recorded
    backward pass (the Hessian-vector products of ⟨w, fn⟩) with central differences of g.
    If g itself is nan or inf at the inputs, the check fails with the first-order report of
    ⟨w, fn⟩, which names the element. Blame re-checks each op's rule to second order (a rule
    that reaches into ``.data`` has no derivative of its own). Parameters as for
    :func:`gradcheck`.
    """
    report = check_second_gradients(
        fn,
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        strict_kinks=strict_kinks,
        blame=blame,
        seed=seed,
        full_limit=full_limit,
        fast_mode=fast_mode,
    )
    return _verdict(report, raise_exception)


def check_second_gradients(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    strict_kinks: bool = False,
    blame: bool = True,
    seed: int = 0,
    full_limit: int = 1024,
    fast_mode: bool = False,
) -> GradcheckReport:
    """:func:`gradgradcheck` without the raising: the :class:`GradcheckReport` of the check."""
    check_tolerances("gradgradcheck", eps, atol, rtol)
    problem = Problem(fn, inputs, "gradgradcheck")
    with no_grad():
        outs = problem.outputs(fn(*problem.args(problem.values, leaves=False)))
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(o.shape) for o in outs]
    g = _first_gradients(fn, problem, weights)
    leaves = [
        Tensor(v, requires_grad=p in problem.checked) if problem.is_tensor[p] else v
        for p, v in enumerate(problem.values)
    ]
    options: dict[str, Any] = {"eps": eps, "atol": atol, "rtol": rtol}
    options.update(strict_kinks=strict_kinks)
    options.update(blame=blame, seed=seed, full_limit=full_limit, fast_mode=fast_mode)
    if not _finite_at(g, leaves):  # second derivatives of a non-finite g mean nothing
        return _first_order_failure(fn, weights, leaves, options)
    return check_gradients(
        g, leaves, _order=2, _kink_fn=fn, _blame_fn=fn, _what="gradgradcheck", **options
    )


def _finite_at(g: Callable[..., tuple[Tensor, ...]], leaves: list[Any]) -> bool:
    with np.errstate(all="ignore"):
        return all(bool(np.all(np.isfinite(t.data))) for t in g(*leaves))


def _first_order_failure(
    fn: Callable[..., Any], weights: list[np.ndarray], leaves: list[Any], options: Any
) -> GradcheckReport:
    """Return the failing first-order report of ⟨w, fn⟩, labelled as part of an order-2 check."""

    def weighted(*args: Any) -> Tensor:
        result = fn(*args)
        outs = list(result) if isinstance(result, (tuple, list)) else [result]
        total: Tensor | None = None
        for o, w in zip(outs, weights):
            term = (o * Tensor._wrap(w.astype(o.dtype))).sum()
            total = term if total is None else total + term
        assert total is not None
        return total

    report = check_gradients(weighted, leaves, _blame_fn=fn, _what="gradgradcheck", **options)
    report.order = 2
    report.projection = (
        "⟨w, fn⟩ for a random w: its first-order gradient g is not finite at the inputs, so "
        "second derivatives were not checked"
    )
    return report
