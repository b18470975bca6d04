"""ops.ALL_OPS is the one list of built-in ops: every Op subclass is on it, and each declares
what its tests need (gradcheck examples, and forms for the property tests)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from autograd_lite import ops
from autograd_lite.engine import Op
from autograd_lite.ops.checks import checks_of


def _defined_ops():
    """Every concrete Op subclass defined in a module of autograd_lite.ops."""
    found = set()
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"{ops.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Op) and cls.__module__ == module.__name__:
                if cls.forward is not Op.forward and cls.backward is not Op.backward:
                    found.add(cls)
    return found


def test_every_op_class_is_in_all_ops():
    missing = {c.__name__ for c in _defined_ops()} - {c.__name__ for c in ops.ALL_OPS}
    assert not missing, f"op classes missing from ops.ALL_OPS: {sorted(missing)}"


def test_all_ops_lists_each_op_once():
    assert len(ops.ALL_OPS) == len(set(ops.ALL_OPS))
    assert all(issubclass(c, Op) for c in ops.ALL_OPS)


def test_every_op_has_a_gradcheck_example():
    bare = [c.__name__ for c in ops.ALL_OPS if not checks_of(c).examples]
    assert not bare, f"ops without a gradcheck example: {bare}"


def test_a_subclass_declares_its_own_checks():
    """Checks are not inherited silently: Min's examples are Min's, not Max's."""
    for cls in ops.ALL_OPS:
        assert "checks" in vars(cls), f"{cls.__name__} inherits its checks"
