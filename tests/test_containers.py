"""``parameters()`` as an iterator, ``ModuleList``/``ModuleDict``, refused plain containers, and
``clip_grad_norm``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim
from autograd_lite.layers import (
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    ReLU,
    Sequential,
    clip_grad_norm,
)


class Tower(Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = ModuleList([Linear(2, 3, rng=0), Linear(3, 3, rng=1)])
        self.heads = ModuleDict({"a": Linear(3, 1, rng=2), "b": Linear(3, 2, bias=False, rng=3)})

    def forward(self, x):
        for block in self.blocks:
            x = block(x).tanh()
        return self.heads["a"](x), self.heads["b"](x)


def test_parameters_is_an_iterator():
    lin = Linear(2, 3)
    it = lin.parameters()
    assert iter(it) is it
    assert next(it) is lin.weight
    assert next(it) is lin.bias
    with pytest.raises(StopIteration):
        next(it)
    assert next(lin.named_parameters())[0] == "weight"


def test_an_optimizer_given_parameters_gets_all_of_them():
    net = Tower()
    opt = optim.SGD(net.parameters(), lr=0.1)
    assert len(opt.params) == 7
    assert [id(p) for p in opt.params] == [id(p) for p in net.parameters()]


def test_container_parameters_are_named_by_position_and_key():
    names = [n for n, _ in Tower().named_parameters()]
    assert names == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight",
    ]  # fmt: skip


def test_gradients_reach_every_parameter_in_the_containers():
    net = Tower()
    a, b = net(np.ones((4, 2)))
    (a.sum() + b.sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    assert not any(m.training for m in net.modules())
    assert len(list(net.modules())) == 7


def test_state_dict_round_trip_through_containers():
    a, b = Tower(), Tower()
    for p in b.parameters():
        p.data[...] = 0.0
    b.load_state_dict(a.state_dict())
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)


def test_module_list_behaves_as_a_list():
    first, second, third = Linear(1, 1), ReLU(), Linear(1, 2)
    mods = ModuleList([first])
    assert mods.append(second) is mods
    mods.extend([third])
    assert len(mods) == 3 and list(mods) == [first, second, third]
    assert mods[-1] is third
    part = mods[1:]
    assert isinstance(part, ModuleList) and list(part) == [second, third]
    mods[1] = Linear(1, 1)
    assert mods[1] is not second
    with pytest.raises(IndexError, match="index 5 is out of range for 3 modules"):
        mods[5]
    with pytest.raises(TypeError, match="item 3 is a int, not a Module"):
        mods.append(3)
    with pytest.raises(TypeError, match="item 1 is a Parameter, not a Module"):
        ModuleList([Linear(1, 1), Parameter([1.0])])
    assert len(mods) == 3


def test_module_dict_behaves_as_a_dict():
    enc, dec = Linear(2, 2), Linear(2, 2)
    mods = ModuleDict({"enc": enc})
    mods["dec"] = dec
    assert "dec" in mods and len(mods) == 2
    assert list(mods) == ["enc", "dec"] == list(mods.keys())
    assert list(mods.values()) == [enc, dec]
    assert dict(mods.items()) == {"enc": enc, "dec": dec}
    with pytest.raises(KeyError, match="no module 'x'"):
        mods["x"]
    with pytest.raises(KeyError, match=r"without '\.'"):
        mods["a.b"] = Linear(1, 1)
    with pytest.raises(TypeError, match="'z' is a list, not a Module"):
        mods["z"] = []
    with pytest.raises(TypeError, match="expected a mapping"):
        ModuleDict([enc])


def test_sequential_is_a_module_list_with_a_forward():
    net = Sequential(Linear(2, 3, rng=0), ReLU())
    net.append(Linear(3, 1, rng=1))
    assert isinstance(net, ModuleList) and isinstance(net[:2], Sequential)
    assert net(np.ones((5, 2))).shape == (5, 1)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize(
    ("value", "container"),
    [
        ([Linear(1, 1)], "ModuleList"),
        ((Linear(1, 1), ReLU()), "ModuleList"),
        ({"a": Linear(1, 1)}, "ModuleDict"),
        ([Parameter([1.0]), Parameter([2.0])], "own attribute"),
    ],
)
def test_a_plain_container_of_modules_or_parameters_is_refused_at_assignment(value, container):
    class Net(Module):
        pass

    net = Net()
    with pytest.raises(TypeError, match=rf"Net\.layers is a plain .*{container}"):
        net.layers = value
    assert not hasattr(net, "layers")
    net.sizes = [1, 2, 3]  # other lists are fine
    net.names = {"a": "b"}


def test_a_plain_list_filled_after_assignment_is_caught_by_parameters():
    class Net(Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = []
            self.layers.append(Linear(1, 1))

    with pytest.raises(TypeError, match=r"Net\.layers .*ModuleList"):
        list(Net().parameters())


# -- clip_grad_norm ------------------------------------------------------------------------------


def _with_grads(*grads):
    params = []
    for g in grads:
        p = Parameter(np.zeros_like(g))
        p.grad = al.Tensor(np.array(g, dtype=float))
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    params = _with_grads(np.array([3.0, 0.0]), np.array([[0.0], [4.0]]))
    params.append(Parameter([1.0]))  # no gradient: skipped
    norm = clip_grad_norm(iter(params), max_norm=1.0)
    assert norm == pytest.approx(5.0)
    joint = math.sqrt(sum(float(np.sum(p.grad.data**2)) for p in params[:2]))
    assert joint == pytest.approx(1.0, rel=1e-5) and joint <= 1.0
    np.testing.assert_allclose(params[0].grad.data, [0.6, 0.0], rtol=1e-5)
    assert params[2].grad is None


def test_clip_grad_norm_leaves_small_gradients_alone_and_takes_one_tensor():
    (p,) = _with_grads(np.array([0.3, 0.4]))
    assert clip_grad_norm(p, 10.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad.data, [0.3, 0.4])


def test_clip_grad_norm_refuses_bad_input_unchanged():
    params = _with_grads(np.array([3.0, 4.0]), np.array([math.nan]))
    with pytest.raises(ValueError, match="norm is nan"):
        clip_grad_norm(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.data, [3.0, 4.0])
    with pytest.raises(ValueError, match="max_norm must be finite and >= 0"):
        clip_grad_norm(params[:1], -1.0)
    with pytest.raises(TypeError, match="max_norm must be a real number"):
        clip_grad_norm(params[:1], "1")
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        clip_grad_norm([np.ones(2)], 1.0)
