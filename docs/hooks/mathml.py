"""Math rendered when the site is built: TeX becomes MathML, so no page needs a script or a network.

``pymdownx.arithmatex`` (generic mode) finds the math in the Markdown (``$...$``, ``$$...$$``)
and leaves it as ``<span class="arithmatex">\\(...\\)</span>`` or
``<div class="arithmatex">\\[...\\]</div>``. This hook replaces the TeX inside each with the
MathML that ``latex2mathml`` writes, which browsers draw natively (Chromium and Edge from
version 109, Firefox, Safari) and screen readers read. Headings get the same treatment in the
table of contents.

A display formula is cut at its top-level ``\\\\`` into rows and at its top-level ``\\qquad``
into pieces, each its own MathML, so that a row of several equations wraps on a narrow page
instead of running past it (MathML has no line breaking of its own). ``aligned`` is written as
``align*`` (the same layout), the form ``latex2mathml`` knows. A formula that cannot be converted
fails the build, naming the formula and the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

INLINE = re.compile(r'(<span class="arithmatex">)\\\((.*?)\\\)(</span>)', re.DOTALL)
BLOCK = re.compile(r'(<div class="arithmatex">)\\\[(.*?)\\\](</div>)', re.DOTALL)
TOC_MATH = re.compile(r"\\\((.*?)\\\)", re.DOTALL)
TOKEN = re.compile(r"\\begin\{|\\end\{|\\\\|\\qquad(?![A-Za-z])|\\.|[{}]", re.DOTALL)


def split_top_level(tex: str, separator: str) -> list[str]:
    """``tex`` cut at each ``separator`` (``\\\\`` or ``\\qquad``) outside braces and
    environments; empty pieces dropped."""
    pieces, depth, start = [], 0, 0
    for m in TOKEN.finditer(tex):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == "\\begin{":
            depth += 2  # the environment and its name's brace
        elif token == "\\end{":
            pass  # closes the environment, opens its name's brace
        elif token == separator and depth == 0:
            pieces.append(tex[start : m.start()])
            start = m.end()
    pieces.append(tex[start:])
    return [p.strip() for p in pieces if p.strip()]


def _convert(tex: str, display: str, where: str) -> str:
    source = tex.replace(r"\begin{aligned}", r"\begin{align*}")
    source = source.replace(r"\end{aligned}", r"\end{align*}")
    try:
        mathml = convert(source, display=display)
    except Exception as exc:  # latex2mathml raises several types for bad or unknown TeX
        raise PluginError(f"{where}: cannot convert the formula {tex!r} to MathML: {exc}") from exc
    if "<merror" in mathml:
        raise PluginError(f"{where}: latex2mathml could not convert the formula {tex!r}")
    return mathml


def to_mathml(escaped_tex: str, display: str, where: str) -> str:
    """MathML for the HTML-escaped TeX ``escaped_tex``; ``display`` is "inline" or "block"."""
    tex = html.unescape(escaped_tex).strip()
    if display == "inline" or r"\begin{" in tex:
        return _convert(tex, display, where)
    rows = [
        "".join(_convert(piece, "block", where) for piece in split_top_level(row, r"\qquad"))
        for row in split_top_level(tex, "\\\\")
    ]
    if len(rows) == 1:
        return rows[0]
    return "".join(f'<div class="math-row">{row}</div>' for row in rows)


def _convert_toc(items: Any, where: str) -> None:
    for item in items:
        item.title = TOC_MATH.sub(lambda m: to_mathml(m.group(1), "inline", where), item.title)
        _convert_toc(item.children, where)


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    where = page.file.src_uri
    html_text = BLOCK.sub(
        lambda m: m.group(1) + to_mathml(m.group(2), "block", where) + m.group(3), html_text
    )
    html_text = INLINE.sub(
        lambda m: m.group(1) + to_mathml(m.group(2), "inline", where) + m.group(3), html_text
    )
    _convert_toc(page.toc, where)
    return html_text
