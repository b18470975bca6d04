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
along v); only if that fails is the full comparison run, to build the report.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._anomaly import creation_site
from .._grad_mode import enable_grad, no_grad, recording_sites
from ..engine import Op, topological_order, walk_backward
from ..function import _FunctionOp
from ..tensor import Tensor
from . import kinks
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


class _Problem:
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
        """fn at ``values`` (no recording), all outputs flattened into one float64 vector."""
        with no_grad():
            outs = self.outputs(self.fn(*self.args(values, leaves=False)))
        return np.concatenate([o.data.astype(np.float64).ravel() for o in outs])

    def perturbed(self, delta: np.ndarray) -> list[Any]:
        """The inputs with the flat vector ``delta`` added to the checked ones."""
        values = list(self.values)
        for k, p in enumerate(self.checked):
            d = delta[self.offsets[k] : self.offsets[k + 1]].reshape(self.values[p].shape)
            values[p] = self.values[p] + d
        return values

    def shifted(self, i: int, step: float) -> list[Any]:
        """The inputs with flat element ``i`` of the checked inputs moved by ``step``."""
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
        with enable_grad():
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
        """The first kinky op whose branch changes across the stencil of flat element ``i``."""
        masks = []
        for step in (eps, -eps):
            with enable_grad(), recording_sites():
                args = self.args(self.shifted(i, step), leaves=True)
                result = kink_fn(*args)
                outs = list(result) if isinstance(result, (tuple, list)) else [result]
                masks.append(kinks.graph_masks([o for o in outs if isinstance(o, Tensor)]))
        return kinks.first_difference(masks[0], masks[1])


def _projections(m: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    if m <= FULL_OUTPUT:
        return np.eye(m), "every row of the Jacobian (index = output element)"
    return rng.standard_normal((1, m)), (
        f"a random projection w of all {m} output elements (entries are ∂⟨w, fn⟩/∂x)"
    )


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
    _order: int = 1,
    _kink_fn: Callable[..., Any] | None = None,
    _blame_fn: Callable[..., Any] | None = None,
    _what: str = "gradcheck",
) -> GradcheckReport:
    r"""Compare backward with central differences and return the :class:`GradcheckReport`.

    This is :func:`gradcheck` without the raising: the report says whether the check passed
    (``report.passed``) and what the worst errors were, even when everything agrees.
    """
    _check_tolerances(_what, eps, atol, rtol)
    problem = _Problem(fn, inputs, _what)
    rng = np.random.default_rng(seed)
    with no_grad(), np.errstate(all="ignore"):  # a non-finite start is reported just below
        outs = problem.outputs(fn(*problem.args(problem.values, leaves=False)))
    shapes = [o.shape for o in outs]
    center = np.concatenate([o.data.astype(np.float64).ravel() for o in outs])
    if not np.all(np.isfinite(center)):
        raise ValueError(f"{_what}: fn returned non-finite values at the given inputs")
    m = center.size
    W, projection = _projections(m, rng)
    if _order == 2:
        projection += "; fn here is g = ∂⟨w, f⟩/∂x for a random w, so outputs index g"
    A = problem.analytic(W, shapes)
    report = GradcheckReport(
        order=_order,
        eps=eps,
        atol=atol,
        rtol=rtol,
        projection=projection,
        strict_kinks=strict_kinks,
    )

    if problem.n > full_limit:  # directional check first; full comparison only if it fails
        worst = 0.0
        ok = True
        for _ in range(directions):
            v = rng.standard_normal(problem.n)
            v /= np.linalg.norm(v)
            fp = problem.evaluate(problem.perturbed(eps * v))
            fm = problem.evaluate(problem.perturbed(-eps * v))
            num = W @ ((fp - fm) / (2 * eps))
            ana = A @ v
            err = np.abs(ana - num)
            worst = max(worst, float(err.max(initial=0.0)))
            ok = ok and bool(np.all(err <= atol + rtol * np.abs(num)))
        if ok:
            for p in problem.checked:
                arr = problem.values[p]
                report.inputs.append(
                    InputReport(
                        p,
                        arr.shape,
                        str(inputs_dtype(inputs, p)),
                        "directional",
                        directions,
                        0,
                        0,
                        worst,
                        0.0,
                    )
                )
            return report

    N = np.empty_like(A)
    for i in range(problem.n):
        fp = problem.evaluate(problem.shifted(i, eps))
        fm = problem.evaluate(problem.shifted(i, -eps))
        N[:, i] = W @ ((fp - fm) / (2 * eps))
    abs_err = np.abs(A - N)
    rel = rel_error(A, N)
    bad = abs_err > atol + rtol * np.abs(N)
    labels = _out_labels(shapes, m)
    kink_fn = fn if _kink_fn is None else _kink_fn
    kink_of: dict[int, tuple[str, Any] | None] = {}
    # elements that disagree are examined for kinks; with strict_kinks every element is, and
    # one whose stencil crosses a kink fails even where the two sides happen to agree
    examine = range(problem.n) if strict_kinks else np.flatnonzero(bad.any(axis=0))
    for i in examine:
        kink_of[int(i)] = problem.kink_at(kink_fn, int(i), eps)
    if strict_kinks:
        crossing = np.array([kink_of[i] is not None for i in range(problem.n)], dtype=bool)
        bad = bad | crossing[None, :]
    seen_kinks: set[int] = set()
    for k, p in enumerate(problem.checked):
        lo, hi = problem.offsets[k], problem.offsets[k + 1]
        entries = []
        n_failed = n_kinks = 0
        ok_abs = [0.0]
        ok_rel = [0.0]
        for i in range(lo, hi):
            kink = kink_of.get(i)
            if kink is not None and i not in seen_kinks:
                seen_kinks.add(i)
                n_kinks += 1
                report.kinks.append(KinkNote(p, problem.locate(i)[1], kink[0], kink[1]))
            for r in range(len(W)):
                failed = bool(bad[r, i])
                is_kink = failed and kink is not None
                if is_kink and not strict_kinks:
                    failed = False
                else:
                    ok_abs.append(float(abs_err[r, i]))
                    ok_rel.append(float(rel[r, i]))
                n_failed += failed
                if failed or is_kink:
                    entries.append((i, r, failed, kink[0] if is_kink else None))
        # the worst: failures first, then by how far past the tolerance
        tol = atol + rtol * np.abs(N)
        entries.sort(key=lambda e: (not e[2], -abs_err[e[1], e[0]] / tol[e[1], e[0]]))
        worst = [
            ElementError(
                p,
                problem.locate(i)[1],
                labels[r],
                float(A[r, i]),
                float(N[r, i]),
                float(abs_err[r, i]),
                float(rel[r, i]),
                failed,
                kink,
            )
            for i, r, failed, kink in entries[:WORST_SHOWN]
        ]
        report.inputs.append(
            InputReport(
                p,
                problem.values[p].shape,
                str(inputs_dtype(inputs, p)),
                "full",
                (hi - lo) * len(W),
                n_failed,
                n_kinks,
                max(ok_abs),
                max(ok_rel),
                worst,
            )
        )

    real_failures = any(e.failed and e.kink is None for r in report.inputs for e in r.worst)
    if real_failures and blame:
        from .blame import find_blame

        report.blame_detail = find_blame(
            _blame_fn if _blame_fn is not None else fn,
            problem,
            order=_order,
            eps=eps,
            atol=atol,
            rtol=rtol,
        )
    return report


def inputs_dtype(inputs: Any, p: int) -> np.dtype[Any]:
    x = inputs if isinstance(inputs, Tensor) else inputs[p]
    return x.dtype


def _check_tolerances(what: str, eps: float, atol: float, rtol: float) -> None:
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
        An entry fails when |analytic − numeric| > atol + rtol·|numeric|.
    raise_exception
        Raise :class:`GradcheckError` on failure (else return ``False``).
    strict_kinks
        Fail every element whose stencil crosses a kink of a built-in op (relu/abs at 0, ties
        in max/min/maximum/minimum, clip bounds), even where both sides happen to agree. By
        default an element that disagrees at a kink is reported as "not differentiable at …"
        and does not fail the check.
    blame
        On failure, re-check every recorded op's own rule on the values it saw and name the
        first that disagrees (``report.blame``), with where it was created.
    seed
        Seed of the random output projection and directions.
    full_limit
        Inputs with more elements than this (in all) are first checked along random
        directions; the element-by-element comparison runs only if that fails.

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
    )
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(report)
    return False


def _first_gradients(
    fn: Callable[..., Any], problem: _Problem, weights: list[np.ndarray]
) -> Callable[..., tuple[Tensor, ...]]:
    r"""g(*inputs) = ∂⟨w, fn(*inputs)⟩/∂(checked inputs), recorded so it can be differentiated."""
    checked = problem.checked

    def g(*args: Any) -> tuple[Tensor, ...]:
        with enable_grad():
            args = list(args)
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
) -> bool:
    r"""Check second derivatives: :func:`gradcheck` of the first-order gradients.

    With a fixed random output weight w, g(x) = ∂⟨w, fn(x)⟩/∂x is computed by
    ``backward(create_graph=True)``; the check compares backward through that recorded
    backward pass (the Hessian-vector products of ⟨w, fn⟩) with central differences of g.
    Blame re-checks each op's rule to second order (a rule that reaches into ``.data`` has
    no derivative of its own). Parameters as for :func:`gradcheck`.
    """
    report = _gradgrad_report(fn, inputs, eps, atol, rtol, strict_kinks, blame, seed, full_limit)
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(report)
    return False


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
) -> GradcheckReport:
    """:func:`gradgradcheck` without the raising: the :class:`GradcheckReport` of the check."""
    return _gradgrad_report(fn, inputs, eps, atol, rtol, strict_kinks, blame, seed, full_limit)


def _gradgrad_report(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float,
    atol: float,
    rtol: float,
    strict_kinks: bool,
    blame: bool,
    seed: int,
    full_limit: int,
) -> GradcheckReport:
    _check_tolerances("gradgradcheck", eps, atol, rtol)
    problem = _Problem(fn, inputs, "gradgradcheck")
    with no_grad():
        outs = problem.outputs(fn(*problem.args(problem.values, leaves=False)))
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(o.shape) for o in outs]
    g = _first_gradients(fn, problem, weights)
    leaves = [
        Tensor(v, requires_grad=p in problem.checked) if problem.is_tensor[p] else v
        for p, v in enumerate(problem.values)
    ]
    return check_gradients(
        g,
        leaves,
        eps=eps,
        atol=atol,
        rtol=rtol,
        strict_kinks=strict_kinks,
        blame=blame,
        seed=seed,
        full_limit=full_limit,
        _order=2,
        _kink_fn=fn,
        _blame_fn=fn,
        _what="gradgradcheck",
    )


# -- local checks of one recorded node, used by blame --------------------------------------------


def fresh_op(node: Op) -> Op:
    """A new op like ``node`` (same class and parameters), safe to run forward again."""
    if isinstance(node, _FunctionOp):
        return _FunctionOp(node.fn)
    return copy.copy(node)


def local_check(
    node: Op, *, order: int, eps: float, atol: float, rtol: float
) -> GradcheckReport | None:
    """Check ``node``'s own rule on the values its forward saw; ``None`` if nothing to check."""
    assert node.inputs is not None and node.xs is not None
    local_inputs: list[Any] = []
    any_checked = False
    for x, need, xv in zip(node.inputs, node.needs, node.xs):
        if isinstance(x, Tensor):
            arr = np.asarray(xv)
            if need and arr.dtype.kind == "f":
                local_inputs.append(Tensor(arr.astype(np.float64), requires_grad=True))
                any_checked = True
            else:
                local_inputs.append(Tensor._wrap(arr))
        else:
            local_inputs.append(xv)
    if not any_checked:
        return None

    def local_fn(*args: Any) -> Tensor:
        return Tensor._apply(fresh_op(node), *args)

    check = check_gradients if order == 1 else check_second_gradients
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        return check(local_fn, local_inputs, eps=eps, atol=atol, rtol=rtol, blame=False)


def forward_nodes(outputs: Sequence[Any]) -> list[Op]:
    """Every recorded node behind ``outputs``, each after the nodes it depends on."""
    seen: set[int] = set()
    order = []
    for out in outputs:
        node = getattr(out, "_node", None)
        if node is None:
            continue
        for n in topological_order(node):
            if id(n) not in seen:
                seen.add(id(n))
                order.append(n)
    return order


def blame_node(node: Op, report: GradcheckReport) -> BlameResult:
    worst = max(
        (e for r in report.inputs for e in r.worst if e.failed),
        key=lambda e: e.abs_error,
    )
    text = "a custom Function" if isinstance(node, _FunctionOp) else repr(node)
    return BlameResult(
        node.name,
        text,
        creation_site(node),
        worst.input,
        worst.index,
        worst.analytic,
        worst.numeric,
        worst.abs_error,
    )
