"""The namespace: ``al.tensor``; ``__all__`` and ``dir(al)`` hold the public names only."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al


def test_tensor_is_the_tensor_constructor():
    t = al.tensor([1.0, 2.0], requires_grad=True)
    assert type(t) is al.Tensor and t.requires_grad
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert al.tensor([1, 2], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        al.tensor([1, 2], requires_grad=True)


def test_all_lists_save_and_load_and_the_transforms():
    wanted = {"save", "load", "tensor", "jvp", "jacobian", "hessian", "grad", "hvp", "layers"}
    assert wanted <= set(al.__all__)
    assert len(al.__all__) == len(set(al.__all__))


def test_every_name_in_all_resolves():
    for name in al.__all__:
        assert getattr(al, name) is not None, name


def test_dir_shows_the_public_names_and_nothing_else():
    public = {n for n in dir(al) if not n.startswith("_")}
    assert public == set(al.__all__)
    for leak in ("Any", "annotations", "importlib", "engine", "ops", "functional", "np"):
        assert leak not in dir(al)


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from autograd_lite import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(al.__all__)
    assert namespace["save"] is al.save and namespace["tensor"] is al.tensor
