"""Open every page of the built docs site in headless Chromium, offline, and fail on what a reader
would see go wrong.

Usage (after ``mkdocs build``)::

    python .ci/browser_check.py SITE_DIR [--screenshots DIR] [--width 1280]

Each page is opened from disk (``file://``, as in a classroom with no network: the site is built
with mkdocs-material's ``offline`` plugin) with the browser's network switched off and every host
name unresolvable. A page fails on:

- raw TeX left in its text outside code (``\\(``, ``\\[``, ``$$``, ``\\frac`` or any other
  ``\\command``), including the table of contents and the page title;
- any console error or uncaught exception, and any request for something not on disk;
- an image that does not load, or an SVG figure drawn at less than 70 % of its size (its labels
  would be too small to read);
- a table or formula wider than the page's text column, a code block that runs past it or
  hides lines that it cannot scroll to, or a page that scrolls sideways.

The site's search is tried too: typing a word into it must find pages.

Full-page screenshots of the pages of the main nav go to ``--screenshots`` (default
``SITE_DIR/screenshots``). The browser is Debian's ``chromium``, driven over the Chrome DevTools
Protocol (``--remote-debugging-port``) with ``websocket-client``. Exit status 1 if any page
failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SVG_MIN_SCALE = 0.7
MAX_SHOT_HEIGHT = 12000
SEARCH_WORD = "gradcheck"

#: Run in each page once it has loaded; returns the problems it sees, as strings.
PAGE_PROBLEMS_JS = r"""
(() => {
  const problems = [];
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, kbd").forEach((e) => e.remove());
  const text = clone.textContent + "\n" + document.title;
  const tex = /\\[()\[\]]|\$\$|\\[A-Za-z]{2,}/g;
  for (const m of text.matchAll(tex)) {
    const start = Math.max(0, m.index - 40);
    const around = text.slice(start, m.index + 40).replace(/\s+/g, " ");
    problems.push(`raw TeX ${JSON.stringify(m[0])} in the text: ...${around}...`);
  }
  if (document.querySelector("merror")) problems.push("a formula failed to convert (merror)");
  for (const img of document.images) {
    const src = img.getAttribute("src");
    if (!img.complete || img.naturalWidth === 0) {
      problems.push(`image does not load: ${src}`);
    } else if (/\.svg(\?|#|$)/.test(src)) {
      const scale = img.getBoundingClientRect().width / img.naturalWidth;
      if (scale < SVG_MIN_SCALE) {
        problems.push(`SVG ${src} drawn at ${Math.round(100 * scale)} % of its size`);
      }
    }
  }
  const column = document.querySelector(".md-content__inner") || document.body;
  const right = column.getBoundingClientRect().right + 1;
  const scrolls = (el) => el.scrollWidth > el.clientWidth + 1;
  const wide = (el) => scrolls(el) || el.getBoundingClientRect().right > right;
  document.querySelectorAll(".md-typeset table").forEach((t, k) => {
    const wrap = t.closest(".md-typeset__scrollwrap");
    if (wide(t) || (wrap && scrolls(wrap))) {
      const head = (t.rows[0] ? t.rows[0].textContent : "").trim().replace(/\s+/g, " ");
      problems.push(`table ${k + 1} (${head.slice(0, 60)}) is wider than the page: ` +
                    `${t.scrollWidth} px in ${column.clientWidth} px`);
    }
  });
  document.querySelectorAll(".md-typeset pre > code").forEach((c) => {
    const scrollable = ["auto", "scroll"].includes(getComputedStyle(c).overflowX);
    if (c.getBoundingClientRect().right > right || (scrolls(c) && !scrollable)) {
      problems.push(`code block cut off: ${c.textContent.slice(0, 60)}`);
    }
  });
  document.querySelectorAll(".md-typeset div.arithmatex").forEach((d) => {
    if (wide(d)) problems.push(`formula wider than the page: ${d.textContent.slice(0, 40)}`);
  });
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} px in ${root.clientWidth} px`);
  }
  return problems;
})()
""".replace("SVG_MIN_SCALE", str(SVG_MIN_SCALE))


#: Waits up to 10 s for the search to answer; its result line ("5 matching documents").
SEARCH_RESULT_JS = r"""
new Promise((done) => {
  const start = Date.now();
  const poll = () => {
    const meta = document.querySelector(".md-search-result__meta");
    const text = meta ? meta.textContent.trim() : "no search box";
    if (/matching|No matching/i.test(text) || Date.now() - start > 10000) done(text);
    else setTimeout(poll, 100);
  };
  poll();
})
"""


class Browser:
    """A headless Chromium with its network off, and one tab driven over the DevTools Protocol."""

    def __init__(self, width: int) -> None:
        exe = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
        if exe is None:
            sys.exit("browser_check: no Chromium found (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="browser-check-")
        args = [
            exe,
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",  # the offline search index is read from disk
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=127.0.0.1:9",  # nothing listens there: no request gets out
            f"--window-size={width},900",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                sys.exit("browser_check: Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            tabs = json.load(reply)
        url = next(t["webSocketDebuggerUrl"] for t in tabs if t["type"] == "page")
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        self.width = width
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
        self.ws.settimeout(60)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> list[str]:
        """Load ``url``; the console errors, exceptions and network requests it caused."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise((r) => setTimeout(r, 300))")  # let the theme's scripts run
        self.call("Runtime.evaluate", expression="1")  # collect what arrived meanwhile
        found = []
        for e in self.events:
            p = e["params"]
            if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                found.append(f"console error: {args}")
            elif e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                found.append(f"uncaught: {d.get('exception', {}).get('description', d['text'])}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                entry = p["entry"]
                found.append(f"console error: {entry['text']} {entry.get('url', '')}".strip())
            elif e["method"] == "Network.requestWillBeSent":
                target = p["request"]["url"]
                if not target.startswith(("file:", "data:", "blob:", "about:")):
                    found.append(f"network request: {target}")
        return found

    def search(self, query: str) -> str:
        """Type ``query`` into the site's search box as a reader would; the result line."""
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)
        box = self.evaluate(
            "(() => { const r = document.querySelector('.md-search__input')"
            ".getBoundingClientRect(); return [r.x + 20, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )
        self.call("Input.insertText", text=query)
        return self.evaluate(SEARCH_RESULT_JS)

    def screenshot(self, path: Path) -> None:
        height = self.evaluate("document.documentElement.scrollHeight")
        height = min(int(height), MAX_SHOT_HEIGHT)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def site_pages(site: Path) -> list[Path]:
    """Every page of the site but the 404 page and the screenshots."""
    return sorted(
        p
        for p in site.rglob("*.html")
        if p.name != "404.html" and "screenshots" not in p.relative_to(site).parts
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the folder mkdocs built")
    parser.add_argument("--screenshots", type=Path, help="default: SITE/screenshots")
    parser.add_argument("--width", type=int, default=1280, help="window width in CSS px")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"{site} has no index.html: build the site first")
    shots = (args.screenshots or site / "screenshots").resolve()
    shots.mkdir(parents=True, exist_ok=True)
    pages = site_pages(site)
    browser = Browser(args.width)
    failed = 0
    try:
        for page in pages:
            name = page.relative_to(site).as_posix()
            problems = browser.open(page.as_uri())
            problems += browser.evaluate(PAGE_PROBLEMS_JS)
            if "/" not in name:  # the main nav's pages
                browser.screenshot(shots / f"{page.stem}.png")
            print(f"{'FAIL' if problems else 'ok  '} {name}")
            for problem in problems:
                print(f"       {problem}")
            failed += bool(problems)
        browser.open((site / "index.html").as_uri())
        found = browser.search(SEARCH_WORD)
        ok = re.fullmatch(r"[1-9]\d* matching documents?", found) is not None
        print(f"{'ok  ' if ok else 'FAIL'} search for {SEARCH_WORD!r}, offline: {found}")
        failed += not ok
    finally:
        browser.close()
    print(
        f"browser check: {len(pages)} pages at {args.width} px, offline, {failed} failed; "
        f"screenshots in {shots}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
