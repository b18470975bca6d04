r"""Every gradcheck example of every built-in op, read from :data:`autograd_lite.ops.ALL_OPS`.

Used by ``python -m autograd_lite gradcheck`` and by the tests. Each op declares its examples
beside its rule (``checks.examples``); their inputs keep the op inside its domain (positive
values for ``log`` and ``sqrt``, distinct values for ``max``) and away from kinks, except in
the cases marked ``kink=True``, which sit on a kink on purpose to show the checker's kink notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ops import ALL_OPS
from ..ops.checks import Build, checks_of

__all__ = ["CASES", "OpCase"]


@dataclass(frozen=True)
class OpCase:
    """One op to check: ``build(rng)`` returns ``(fn, inputs)`` for :func:`gradcheck`.

    ``op`` is the class name in :mod:`autograd_lite.ops` that ``fn`` records; ``options`` are
    extra keyword arguments for the check (a larger ``eps`` for float32 casts).
    """

    name: str
    op: str
    build: Build
    kink: bool = False
    options: dict[str, Any] = field(default_factory=dict)


CASES: list[OpCase] = [
    OpCase(e.name, cls.__name__, e.build, e.kink, dict(e.options))
    for cls in ALL_OPS
    for e in checks_of(cls).examples
]
