"""The notebooks here run (``pytest --nbmake``) against this checkout's package, as the tests do:
its root goes on the kernel's ``PYTHONPATH`` (an installed copy works the same)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
