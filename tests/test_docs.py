"""The docs are tested: every ```python block of every page runs, and shown output is real.

For each page under ``docs/`` (API pages included), the ```python blocks run in order in one
namespace per page (later blocks use names from earlier ones), in a temporary working folder;
any exception fails the page. A ```text block right after the marker ``<!-- output -->`` must
equal what the python block before it printed (trailing spaces ignored), so no printed table in
the docs can drift from what the code prints; after ``<!-- output: approximate -->`` the text
must match and each number be close (for output of long floating-point runs, such as SGD over
thousands of steps, whose last digits may differ on another CPU), and timings (a number of
seconds or of samples per second) are not compared. A ```bash block followed by an output block
runs too, in order with the page's python blocks: each of its lines is a ``python ...`` command,
run with this interpreter, and the output block shows what the commands print. There is no way
to skip a block.

To refresh the output blocks after changing a page:
``python tests/test_docs.py docs/engine.md`` (rewrites that page's output blocks in place).

Also checked: the nav of ``mkdocs.yml`` lists exactly the pages that exist, every image a page
shows exists and is written by a script in ``docs/figures/``, and every ``::: module.name`` of
the API pages imports (what mkdocstrings will need).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
OUTPUT_MARK = "<!-- output -->"
APPROX_MARK = "<!-- output: approximate -->"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<path>[^)\s]+)")
TIMING = re.compile(r"\d[\d,.]*(?= ?(?:s|ms|µs|samples/s)\b)")
SHELL = ("bash", "sh", "console")


@dataclass
class Block:
    lang: str
    body: str
    line: int  # 1-based line of the opening fence
    start: int  # offsets of the body in the page text
    end: int
    is_output: bool  # a ```text block right after an output marker
    approximate: bool = False  # numbers may differ a little (see numbers_close)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a page, in order."""
    found = []
    for m in FENCE.finditer(text):
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        lang = (m.group("info").split() or [""])[0].lower()
        before = text[: m.start()].rstrip()
        found.append(
            Block(
                lang=lang,
                body=body + "\n",
                line=text.count("\n", 0, m.start()) + 1,
                start=m.start("body"),
                end=m.end("body"),
                is_output=lang == "text" and before.endswith((OUTPUT_MARK, APPROX_MARK)),
                approximate=before.endswith(APPROX_MARK),
            )
        )
    return found


def _normalize(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def numbers_close(printed: str, shown: str) -> bool:
    """Same text around the numbers, and each number close: integers within 2 + 5 %, others
    within 0.03 + 5 %; timings (seconds, samples per second) are not compared. For output that
    follows a long floating-point computation (SGD over thousands of steps, rounding noise),
    where another CPU's rounding may move the last digits or flip a prediction; the claims
    themselves are the blocks' assertions."""
    printed, shown = TIMING.sub("#", printed), TIMING.sub("#", shown)
    if NUMBER.sub("#", printed) != NUMBER.sub("#", shown):
        return False
    for a, b in zip(NUMBER.findall(printed), NUMBER.findall(shown), strict=True):
        integer = not any(c in b for c in ".eE")
        slack = (2.0 if integer else 0.03) + 0.05 * abs(float(b))
        if abs(float(a) - float(b)) > slack:
            return False
    return True


def run_commands(body: str, where: str) -> str:
    """Run each line of a shell block (``python ...`` commands only) with this interpreter, in
    the current folder; what they print to stdout."""
    printed = []
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    for line in body.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        assert argv[0] == "python", f"{where}: a shell block that runs may only call python: {line}"
        done = subprocess.run(
            [sys.executable, *argv[1:]], capture_output=True, text=True, env=env, timeout=600
        )
        assert done.returncode == 0, f"{where}: {line!r} exited {done.returncode}\n{done.stderr}"
        printed.append(done.stdout)
    return "".join(printed)


def run_page(path: Path) -> list[tuple[Block, str, Block | None]]:
    """Run the page's python blocks in one namespace, and its shell blocks that show output;
    ``(block, stdout, its output block)``."""
    text = path.read_text(encoding="utf-8")
    all_blocks = blocks(text)
    namespace: dict[str, object] = {"__name__": f"docs.{path.stem}"}
    results = []
    for k, block in enumerate(all_blocks):
        shown = all_blocks[k + 1] if k + 1 < len(all_blocks) else None
        shown = shown if shown is not None and shown.is_output else None
        where = f"{path.relative_to(ROOT)}:{block.line}"
        if block.lang in SHELL and shown is not None:
            results.append((block, run_commands(block.body, where), shown))
            continue
        if block.lang not in ("python", "py"):
            continue
        code = compile(block.body, where, "exec")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        results.append((block, out.getvalue(), shown))
    return results


PAGES = [p for p in pages() if any(b.lang in ("python", "py") for b in blocks(p.read_text()))]


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_code_runs_and_output_matches(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    results = run_page(path)
    assert results, f"{path.name}: no python block ran"
    for block, printed, shown in results:
        if shown is not None:
            got, want = _normalize(printed), _normalize(shown.body)
            same = numbers_close(got, want) if shown.approximate else got == want
            assert same, (
                f"{path.name}:{shown.line}: the shown output differs from what the block at line "
                f"{block.line} prints (refresh with: python tests/test_docs.py {path})\n"
                f"--- printed ---\n{printed}"
            )


def test_numbers_close() -> None:
    assert numbers_close("acc 0.909 (409/450)", "acc 0.905 (408/450)")
    assert not numbers_close("acc 0.809 (364/450)", "acc 0.905 (408/450)")
    assert not numbers_close("acc 0.909", "accuracy 0.909")
    assert numbers_close("err 8.1e-05", "err 2.0e-05")  # rounding noise
    assert numbers_close("in 0.4 s (3,691 samples/s)", "in 2.5 s (612 samples/s)")  # timings
    assert not numbers_close("in 0.4 s, 3 epochs", "in 0.4 s, 30 epochs")
    assert not numbers_close("[[45  0]]", "[[40  0]]")


def test_every_output_block_follows_a_python_or_shell_block() -> None:
    for path in pages():
        bs = blocks(path.read_text(encoding="utf-8"))
        for k, b in enumerate(bs):
            if b.is_output:
                assert k > 0 and bs[k - 1].lang in ("python", "py", *SHELL), (
                    f"{path.name}:{b.line}: an output block must follow a python or shell block"
                )


def test_every_teaching_page_has_code() -> None:
    """Each page outside the API reference proves what it says with at least one python block."""
    teaching = [p for p in pages() if p.parent == DOCS]
    assert len(teaching) >= 8
    without = [p.name for p in teaching if p not in PAGES]
    assert not without, f"pages without a python block: {without}"


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r":\s*([\w./-]+\.md)\s*$", nav, flags=re.MULTILINE)


def test_nav_lists_exactly_the_pages() -> None:
    listed = _nav_pages()
    existing = sorted(str(p.relative_to(DOCS)).replace(os.sep, "/") for p in pages())
    assert sorted(listed) == existing
    assert len(set(listed)) == len(listed)


def test_images_exist_and_are_generated_by_a_script() -> None:
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in FIGURES.glob("*.py"))
    shown = 0
    for path in pages():
        for m in IMAGE.finditer(path.read_text(encoding="utf-8")):
            target = (path.parent / m.group("path")).resolve()
            assert target.is_file(), f"{path.name}: image {m.group('path')} does not exist"
            assert target.parent == FIGURES.resolve(), f"{target} is not under docs/figures"
            assert target.stem in scripts, f"no script in docs/figures writes {target.name}"
            shown += 1
    assert shown >= 6


def test_api_pages_name_importable_objects() -> None:
    names = []
    for path in (DOCS / "api").glob("*.md"):
        names += re.findall(r"^:::\s*([\w.]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(names) >= 7
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            assert obj is not None
            break
        else:
            pytest.fail(f"{name} does not import")


def update(path: Path) -> None:
    """Rewrite the output blocks of ``path`` with what its python blocks print now."""
    text = path.read_text(encoding="utf-8")
    cwd = os.getcwd()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            results = run_page(path)
        finally:
            os.chdir(cwd)
    for _block, printed, shown in sorted(results, key=lambda r: -(r[2].start if r[2] else -1)):
        if shown is None:
            continue
        fence = text[: shown.start].rstrip("\n").rsplit("\n", 1)[-1]
        indent = fence[: len(fence) - len(fence.lstrip())]
        body = "".join(indent + line.rstrip() + "\n" for line in printed.strip("\n").splitlines())
        text = text[: shown.start] + body + text[shown.end :]
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # the checkout's package, as under pytest
    for arg in sys.argv[1:]:
        update(Path(arg).resolve())
        print(f"updated {arg}")
