"""Write the docs' graph figures: Graphviz DOT text and, where Graphviz is installed, SVG.

Usage: ``python docs/figures/make_graph_figures.py [output folder]`` (default: this folder).

Figures:

- ``tutorial_network.dot/.svg``: the tutorial's network h = σ(wih x), o = σ(who h),
  E = ½ Σ (t − o)², with values and gradients after one backward pass.
- ``diamond.dot/.svg``: y = Σ (x · x + eˣ), a value used three times, whose gradient is the sum
  over three paths.

The backward trace of the tutorial network is printed to stdout. SVG needs either the
``graphviz`` Python package or Graphviz's ``dot`` program on the PATH; without them only the
DOT files are written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import viz


def render_svg(dot: str, path: Path) -> bool:
    """Write ``dot`` rendered as SVG to ``path``; False if no Graphviz is available."""
    try:
        import graphviz
    except ImportError:
        exe = shutil.which("dot")
        if exe is None:
            return False
        svg = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
        path.write_text(svg.stdout, encoding="utf-8")
        return True
    path.write_bytes(graphviz.Source(dot).pipe(format="svg"))
    return True


def tutorial_network() -> tuple[str, str]:
    """DOT text and backward trace of one step of the tutorial network (3 inputs, 4 hidden,
    2 outputs)."""
    rng = np.random.default_rng(1)
    x = np.array([[0.9], [0.1], [0.5]])
    t = np.array([[0.01], [0.99]])
    wih = al.Tensor(rng.normal(0, 3**-0.5, size=(4, 3)), requires_grad=True)
    who = al.Tensor(rng.normal(0, 4**-0.5, size=(2, 4)), requires_grad=True)
    h = al.sigmoid(wih @ x)
    o = al.sigmoid(who @ h)
    E = al.squared_error(o, t, reduction="sum")
    names = {"wih": wih, "who": who, "h": h, "o": o, "E": E}
    trace = viz.explain_backward(E, names=names)
    E.backward(retain_graph=True)
    return narrow(viz.to_dot(E, values=True, names=names)), str(trace)


def narrow(dot: str, width: int = 34) -> str:
    """``dot`` with each label line longer than ``width`` characters cut into a matrix's rows,
    and rows still too long wrapped after a comma, so that the figure stays narrow enough to
    read at the page's width."""

    def rows(line: str) -> list[str]:
        if len(line) <= width:
            return [line]
        return line.replace("], [", "],\n [").split("\n")

    def wrap(line: str) -> list[str]:
        lines = [""]
        for part in line.split(", "):
            if lines[-1] and len(lines[-1]) + len(part) + 2 > width:
                lines[-1] += ","
                lines.append(" " + part)
            else:
                lines[-1] += (", " if lines[-1] else "") + part
        return lines

    def fold(m: re.Match[str]) -> str:
        lines = [w for line in m.group(1).split("\\n") for r in rows(line) for w in wrap(r)]
        return 'label="' + "\\n".join(lines) + '"'

    return re.sub(r'label="((?:[^"\\]|\\.)*)"', fold, dot)


def diamond() -> str:
    """DOT text of y = Σ (x · x + eˣ)."""
    x = al.Tensor([0.5, -1.0], requires_grad=True)
    y = (x * x + x.exp()).sum()
    return viz.to_dot(y, names={"x": x, "y": y})


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    net_dot, net_trace = tutorial_network()
    for name, dot in (("tutorial_network", net_dot), ("diamond", diamond())):
        (out / f"{name}.dot").write_text(dot, encoding="utf-8")
        rendered = render_svg(dot, out / f"{name}.svg")
        print(f"wrote {out / name}.dot" + (" and .svg" if rendered else " (no Graphviz: no SVG)"))
    print()
    print(net_trace)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
