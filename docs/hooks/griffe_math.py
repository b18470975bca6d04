"""Docstrings' reST math becomes ``$$ ... $$`` and ``$ ... $`` for the API pages.

The package's docstrings follow the NumPy convention, whose formulas are reST: the
``.. math::`` directive (the TeX on the directive's line and/or in the indented lines below it;
a blank line starts a new equation) and the inline ``:math:`...``` role. mkdocstrings renders
docstrings as Markdown, where both would show as raw TeX; this Griffe extension rewrites them as
``$$`` blocks (one equation a row, as Sphinx sets them) and ``$`` spans, which
``pymdownx.arithmatex`` and ``docs/hooks/mathml.py`` turn into MathML like the math of the other
pages.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
ROLE = re.compile(r":math:`([^`]+)`")


def math_blocks(text: str) -> str:
    """``text`` with each ``.. math::`` directive written as a ``$$`` block and each
    ``:math:`...``` role as ``$...$``."""
    lines = text.splitlines()
    out: list[str] = []
    k = 0
    while k < len(lines):
        m = DIRECTIVE.match(lines[k])
        if m is None:
            out.append(lines[k])
            k += 1
            continue
        indent = m.group("indent")
        equations = [[m.group("first").strip()] if m.group("first").strip() else []]
        k += 1
        while k < len(lines) and (
            not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > len(indent)
        ):
            if lines[k].strip():
                equations[-1].append(lines[k].strip())
            elif equations[-1]:
                equations.append([])  # a blank line: the next equation
            k += 1
        rows = [" ".join(eq) for eq in equations if eq]
        ends = [" \\\\"] * (len(rows) - 1) + [""]
        out += [indent + "$$", *(indent + r + e for r, e in zip(rows, ends)), indent + "$$", ""]
    return ROLE.sub(r"$\1$", "\n".join(out))


class MathDirectives(griffe.Extension):
    """Rewrite the reST math of every docstring once the object tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None and "math:" in obj.docstring.value:
            obj.docstring.value = math_blocks(obj.docstring.value)
