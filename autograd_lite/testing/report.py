r"""What a gradient check found, as data and as a table a person can read in a terminal.

Every compared quantity is one entry of a vector-Jacobian product: for an output projection
``w`` (a one-hot row of the Jacobian for small outputs, a random vector for large ones) and an
input element ``x_i``,

.. math:: a_i = \Big(w^\top \frac{\partial f}{\partial x}\Big)_i \quad\text{(backward)},\qquad
          n_i = \frac{\langle w, f(x + \epsilon e_i)\rangle - \langle w, f(x - \epsilon e_i)\rangle}
                     {2\epsilon}\quad\text{(central difference)},

and the entry fails when :math:`|a_i - n_i| > \mathrm{atol} + \mathrm{rtol}\,|n_i|`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BlameResult",
    "ElementError",
    "GradcheckError",
    "GradcheckReport",
    "GradcheckWarning",
    "InputReport",
    "KinkNote",
]


class GradcheckWarning(UserWarning):
    """A gradient check runs, but under conditions that make it weak (e.g. float32 inputs)."""


@dataclass(frozen=True)
class ElementError:
    """One compared entry: input element ``index`` of input ``input``, seen through ``output``."""

    input: int
    index: tuple[int, ...]
    output: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    failed: bool
    kink: str | None = None

    @property
    def rule_failure(self) -> bool:
        """Tell whether an op's rule may be to blame for this failure.

        It is not excused as a kink, and has finite differences that are finite (a nan there means
        fn left its domain).
        """
        return self.failed and self.kink is None and bool(np.isfinite(self.numeric))

    @property
    def nonfinite(self) -> str | None:
        """The text "analytic gradient is nan" (or numeric, or both) if a side is not finite."""
        sides = [
            f"{name} gradient is {value}"
            for name, value in (("analytic", self.analytic), ("numeric", self.numeric))
            if not np.isfinite(value)
        ]
        return " and ".join(sides) or None


@dataclass(frozen=True)
class KinkNote:
    """An element whose finite-difference stencil crosses a point where ``op`` has a kink."""

    input: int
    index: tuple[int, ...]
    op: str
    site: str | None

    def __str__(self) -> str:
        """Return the note as one line of a report."""
        where = f" (created at {self.site})" if self.site else ""
        return f"input {self.input} {_index(self.index)}: not differentiable at {self.op}{where}"


@dataclass(frozen=True)
class BlameResult:
    """The first recorded op (in forward order) whose own rule disagrees with its forward."""

    name: str
    op: str
    site: str | None
    input: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    order: int = 1
    first_order_ok: bool | None = None  # for order 2: does the op's first-order rule agree?

    def __str__(self) -> str:
        """Return the blame as the sentence a failing check prints."""
        where = f", created at {self.site}" if self.site else ""
        at = f"at its input {self.input} {_index(self.index)}"
        if self.order == 1:
            return (
                f"blame: the gradient rule of {self.name} ({self.op}{where}) disagrees with "
                f"central differences of its own forward on the values it saw: {at} it gives "
                f"{self.analytic:.6g}, finite differences give {self.numeric:.6g} "
                f"(abs err {self.abs_error:.2e})"
            )
        text = (
            f"blame: the derivative of the gradient rule of {self.name} ({self.op}{where}) "
            f"disagrees with central differences of the rule itself on the values it saw (a "
            f"second-order error): {at} differentiating the rule gives {self.analytic:.6g}, "
            f"finite differences of the rule give {self.numeric:.6g} "
            f"(abs err {self.abs_error:.2e}). "
        )
        if self.first_order_ok is False:
            return text + (
                f"Its first-order rule is wrong too: gradcheck of {self.name} names the element."
            )
        return text + (
            "Its first-order values agree with its forward (gradcheck of it passes), so it is "
            "the rule's own derivative that is wrong: backward must be written in recorded "
            "Tensor operations on what forward saved, each differentiable itself, so that "
            "create_graph=True can differentiate it (e.g. recompute a sigmoid from the saved "
            "input inside backward instead of saving its value as a constant or reading .data)."
        )


@dataclass
class InputReport:
    """The comparison for one input that requires grad."""

    position: int
    shape: tuple[int, ...]
    dtype: str
    mode: str  # "full" (every element); "directional" or "fast" (random directions, all agreed)
    n_checked: int
    n_failed: int
    n_kinks: int
    max_abs_error: float
    max_rel_error: float
    worst: list[ElementError] = field(default_factory=list)
    n_nonfinite: int = 0  # failed entries where a side is nan or inf

    @property
    def passed(self) -> bool:
        """Tell whether no element failed."""
        return self.n_failed == 0


@dataclass
class GradcheckReport:
    r"""Everything a gradient check found.

    Attributes
    ----------
    order
        1 for :func:`gradcheck`, 2 for :func:`gradgradcheck`.
    inputs
        One :class:`InputReport` per input that requires grad: its worst elements with index,
        analytic and numeric value, absolute and relative error.
    kinks
        Elements whose stencil crosses a kink of a built-in op (not counted as failures unless
        ``strict_kinks``).
    blame
        The name of the first op whose own rule disagrees with finite differences of its
        forward (a user's ``Function`` by its class name), or ``None``.
    blame_detail
        The :class:`BlameResult` behind ``blame``: the op's parameters, where it was created and
        its worst local error.
    """

    order: int
    eps: float
    atol: float
    rtol: float
    projection: str
    inputs: list[InputReport] = field(default_factory=list)
    kinks: list[KinkNote] = field(default_factory=list)
    strict_kinks: bool = False
    blame_detail: BlameResult | None = None

    @property
    def blame(self) -> str | None:
        """Return the name of the op whose own rule disagrees, or ``None``."""
        return None if self.blame_detail is None else self.blame_detail.name

    @property
    def passed(self) -> bool:
        """Tell whether every input passed."""
        return all(r.passed for r in self.inputs)

    @property
    def max_abs_error(self) -> float:
        """Return the largest absolute error over all inputs."""
        return _max(r.max_abs_error for r in self.inputs)

    @property
    def max_rel_error(self) -> float:
        """Return the largest relative error over all inputs."""
        return _max(r.max_rel_error for r in self.inputs)

    def __str__(self) -> str:
        """Return the report as the text of a failing check's message."""
        what = "gradcheck" if self.order == 1 else "gradgradcheck"
        n_failed = sum(r.n_failed for r in self.inputs)
        n_checked = sum(r.n_checked for r in self.inputs)
        verdict = (
            f"failed: {n_failed} of {n_checked} compared entries disagree" if n_failed else "passed"
        )
        lines = [
            f"{what} {verdict} (eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}; "
            f"an entry fails when |analytic - numeric| > atol + rtol*|numeric|)",
            f"outputs seen through {self.projection}",
        ]
        for r in self.inputs:
            head = f"input {r.position}: shape {r.shape} {r.dtype}, "
            if r.mode == "directional":
                lines.append(
                    head + f"agrees along {r.n_checked} random directions "
                    f"(worst abs err {r.max_abs_error:.2e})"
                )
                continue
            if r.mode == "fast":
                lines.append(
                    head + f"all {r.n_checked} products uᵀJv for random unit u, v agree "
                    f"(worst abs err {r.max_abs_error:.2e})"
                )
                continue
            if r.n_failed:
                head += f"{r.n_failed} of {r.n_checked} entries fail"
                if r.n_nonfinite:
                    head += f" ({r.n_nonfinite} not finite)"
            else:
                head += f"all {r.n_checked} entries agree (worst abs err {r.max_abs_error:.2e})"
            if r.n_kinks:
                head += f", {r.n_kinks} at kinks"
            lines.append(head)
            if r.n_failed or (r.n_kinks and self.strict_kinks):
                lines.extend(_table(r.worst))
            lines.extend(_nonfinite_lines(r))
        if self.kinks:
            label = "failures, as strict_kinks=True" if self.strict_kinks else "not failures"
            lines.append(f"elements whose stencil crosses a kink of a built-in op ({label}):")
            for note in self.kinks[:8]:
                lines.append(f"  {note}")
            if len(self.kinks) > 8:
                lines.append(f"  ... and {len(self.kinks) - 8} more")
        if self.blame_detail is not None:
            lines.append(str(self.blame_detail))
        elif any(e.rule_failure for r in self.inputs for e in r.worst):
            lines.append(
                "blame: every recorded op's own rule agrees with finite differences; look at "
                "what fn does outside the recorded ops (e.g. values taken through .data)"
            )
        return "\n".join(lines)


def _max(values: Iterable[float]) -> float:
    """Return the largest value, nan if any is nan (Python's max would drop it), 0 if none."""
    return float(np.max(np.fromiter(values, dtype=np.float64), initial=0.0))


def _nonfinite_lines(r: InputReport) -> list[str]:
    lines = []
    for e in r.worst:
        text = e.nonfinite
        if text is None or not e.failed:
            continue
        line = f"  input {r.position}: {text} at index {_index(e.index)} (output {e.output})"
        if np.isfinite(e.analytic):
            line += (
                f"; analytic gives {e.analytic:.6g}: fn is not finite within eps of the input "
                "(move the input away from the edge of fn's domain, or lower eps)"
            )
        elif np.isfinite(e.numeric):
            line += f"; finite differences give {e.numeric:.6g}"
        lines.append(line)
    return lines


def _index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ("," if len(index) == 1 else "") + ")"


def _table(rows: list[ElementError]) -> list[str]:
    header = (
        f"  {'index':<12} {'output':<10} {'analytic':>13} {'numeric':>13} "
        f"{'abs err':>9} {'rel err':>9}"
    )
    out = [header]
    for e in rows:
        status = "FAIL" if e.failed else ("kink" if e.kink else "ok")
        if e.failed and e.nonfinite:
            status += ": not finite"
        if e.kink:
            status += f": not differentiable at {e.kink}"
        out.append(
            f"  {_index(e.index):<12} {e.output:<10} {e.analytic:>13.6g} {e.numeric:>13.6g} "
            f"{e.abs_error:>9.2e} {e.rel_error:>9.2e}  {status}"
        )
    return out


class GradcheckError(AssertionError):
    """A gradient check failed; ``report`` holds the structured result behind the message."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def rel_error(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Return |a − n| / max(|a|, |n|), 0 where both are 0, and nan where either is not finite."""
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(a), np.abs(n))
        diff = np.abs(a - n)
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale != 0)
    rel[~(np.isfinite(a) & np.isfinite(n))] = np.nan
    return np.asarray(rel)
