"""Optimizer checkpoints (``state_dict``/``load_state_dict``) and learning-rate schedules."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim
from autograd_lite.layers import Linear, Sequential, Tanh

ROOT = Path(__file__).resolve().parent.parent
X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
LABELS = np.array([0, 1, 1, 0, 1, 0, 0, 1])

FACTORIES: dict[str, Callable[..., optim.Optimizer]] = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd-nesterov-decay": lambda ps: optim.SGD(
        ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01
    ),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam-decay": lambda ps: optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), weight_decay=0.1),
}
# every optimizer class in the module, with its defaults (and lr=0.01): new ones are covered too
for _cls in vars(optim).values():
    if isinstance(_cls, type) and issubclass(_cls, optim.Optimizer) and _cls is not optim.Optimizer:
        FACTORIES.setdefault(f"{_cls.__name__}-defaults", lambda ps, c=_cls: c(ps, lr=0.01))


def model(seed: int) -> Sequential:
    return Sequential(Linear(3, 5, rng=seed), Tanh(), Linear(5, 2, rng=seed + 1))


def train(net: Sequential, opt: optim.Optimizer, steps: int, start: int = 0) -> None:
    for k in range(start, start + steps):
        rows = [(k + j) % len(X) for j in range(4)]  # a different batch each step
        loss = al.cross_entropy(net(X[rows]), LABELS[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", FACTORIES)
def test_resuming_from_a_checkpoint_in_fresh_objects_is_bit_identical(name, tmp_path):
    make = FACTORIES[name]
    straight = model(0)
    straight_opt = make(straight.parameters())
    train(straight, straight_opt, 10)

    first = model(0)
    first_opt = make(first.parameters())
    train(first, first_opt, 4)
    al.save(first.state_dict(), tmp_path / "model.npz")
    al.save(first_opt.state_dict(), tmp_path / "optim.npz")

    resumed = model(7)  # other initial weights, fresh optimizer state
    resumed_opt = make(resumed.parameters())
    resumed.load_state_dict(al.load(tmp_path / "model.npz"))
    resumed_opt.load_state_dict(al.load(tmp_path / "optim.npz"))
    train(resumed, resumed_opt, 6, start=4)
    for (n, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters(), strict=True):
        assert np.array_equal(a.data, b.data), f"{name}: {n} differs"
    assert straight_opt.state_dict().keys() == resumed_opt.state_dict().keys()


def test_resuming_adam_in_a_new_process_is_bit_identical(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import numpy as np
        import autograd_lite as al
        from test_optim_state import model, train
        from autograd_lite import optim
        net = model(3)
        opt = optim.Adam(net.parameters(), lr=0.01)
        net.load_state_dict(al.load(sys.argv[1] + "/model.npz"))
        opt.load_state_dict(al.load(sys.argv[1] + "/optim.npz"))
        train(net, opt, 5, start=5)
        al.save(net.state_dict(), sys.argv[1] + "/after.npz")
        """
    )
    straight = model(0)
    straight_opt = optim.Adam(straight.parameters(), lr=0.01)
    train(straight, straight_opt, 10)
    first = model(0)
    first_opt = optim.Adam(first.parameters(), lr=0.01)
    train(first, first_opt, 5)
    al.save(first.state_dict(), tmp_path / "model.npz")
    al.save(first_opt.state_dict(), tmp_path / "optim.npz")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=120)
    after = al.load(tmp_path / "after.npz")
    for name, p in straight.named_parameters():
        assert np.array_equal(after[name], p.data), name


def test_the_state_dict_names_its_buffers_as_pytorch_does_and_holds_copies():
    net = model(0)
    opt = optim.Adam(net.parameters(), lr=0.01)
    assert set(opt.state_dict()) == {"lr", "betas", "eps", "weight_decay"} | {
        f"state.{i}.step" for i in range(4)
    }
    train(net, opt, 2)
    state = opt.state_dict()
    assert state["state.0.exp_avg"].shape == net[0].weight.shape
    assert state["state.3.exp_avg_sq"].shape == net[2].bias.shape
    assert int(state["state.1.step"]) == 2
    np.testing.assert_array_equal(state["betas"], [0.9, 0.999])
    state["state.0.exp_avg"][...] = 123.0  # a copy: the optimizer is unaffected
    assert not np.any(opt.state_dict()["state.0.exp_avg"] == 123.0)
    sgd = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    assert set(sgd.state_dict()) == {"lr", "momentum", "weight_decay", "nesterov"}
    train(net, sgd, 1)
    assert {f"state.{i}.momentum_buffer" for i in range(4)} <= set(sgd.state_dict())


def test_loading_copies_the_arrays_and_restores_hyperparameters():
    net = model(0)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train(net, opt, 1)
    state = opt.state_dict()
    state["lr"] = np.array(0.05)
    other = optim.SGD(model(1).parameters(), lr=0.3)
    other.load_state_dict(state)
    assert other.lr == 0.05 and other.momentum == 0.9 and other.nesterov is False
    state["state.0.momentum_buffer"][...] = 0.0
    assert np.any(other.state_dict()["state.0.momentum_buffer"] != 0.0)


def _bad(opt: optim.Optimizer, change: Callable[[dict], None]) -> dict:
    state = opt.state_dict()
    change(state)
    return state


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (lambda s: s.pop("betas"), KeyError, r"missing \['betas'\]"),
        (lambda s: s.update(extra=np.zeros(1)), KeyError, r"unexpected \['extra'\]"),
        (lambda s: s.update({"state.9.exp_avg": np.zeros(1)}), KeyError, "state.9.exp_avg"),
        (lambda s: s.update({"state.0.exp_avg": np.zeros(3)}), ValueError, r"shape \(3,\)"),
        (lambda s: s.update({"state.1.step": np.array(1.5)}), ValueError, "must be a count"),
        (lambda s: s.update({"state.1.step": np.array(-1)}), ValueError, "must be a count"),
        (lambda s: s.update(lr=np.array(-1.0)), ValueError, "invalid lr"),
        (lambda s: s.update(betas=np.array([0.9, 1.5])), ValueError, r"betas\[1\]"),
        (lambda s: s.update(eps=np.array("x")), TypeError, "eps must be a real number"),
    ],
)
def test_a_mismatched_state_is_refused_and_changes_nothing(change, exc, match):
    net = model(0)
    opt = optim.Adam(net.parameters(), lr=0.01)
    train(net, opt, 2)
    bad = _bad(opt, change)
    before = opt.state_dict()
    with pytest.raises(exc, match=match):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_the_state_of_another_optimizer_is_refused():
    net = model(0)
    sgd, adam = optim.SGD(net.parameters(), lr=0.1), optim.Adam(net.parameters())
    with pytest.raises(KeyError, match="keys differ"):
        sgd.load_state_dict(adam.state_dict())
    with pytest.raises(TypeError, match="expected a mapping"):
        sgd.load_state_dict([1, 2])


# -- schedules -----------------------------------------------------------------------------------


def test_steplr_follows_the_closed_form():
    opt = optim.SGD([al.Tensor([1.0], requires_grad=True)], lr=0.5)
    sched = optim.StepLR(opt, step_size=3, gamma=0.2)
    assert sched.get_last_lr() == [0.5]
    for epoch in range(1, 13):
        sched.step()
        expected = 0.5 * 0.2 ** (epoch // 3)
        assert sched.get_last_lr() == [pytest.approx(expected, rel=1e-13)]
        assert opt.lr == sched.get_last_lr()[0]


def test_cosine_annealing_follows_the_closed_form_and_rises_again_after_t_max():
    opt = optim.Adam([al.Tensor([1.0], requires_grad=True)], lr=0.1)
    sched = optim.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(15):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    expected = [0.01 + 0.5 * (0.1 - 0.01) * (1 + math.cos(math.pi * e / 5)) for e in range(16)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=1e-15)
    assert lrs[5] == pytest.approx(0.01) and lrs[10] == pytest.approx(0.1)


def test_a_schedule_resumes_from_its_state_dict():
    def run(split: int | None) -> list[float]:
        opt = optim.SGD([al.Tensor([1.0], requires_grad=True)], lr=1.0)
        sched = optim.CosineAnnealingLR(opt, T_max=4)
        out = []
        for e in range(8):
            if e == split:
                state, opt_state = sched.state_dict(), opt.state_dict()
                opt = optim.SGD([al.Tensor([1.0], requires_grad=True)], lr=1.0)
                opt.load_state_dict(opt_state)
                sched = optim.CosineAnnealingLR(opt, T_max=4)
                sched.load_state_dict(state)
            sched.step()
            out.append(opt.lr)
        return out

    assert run(None) == run(3)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda o: optim.StepLR(o, step_size=0), "step_size must be a positive integer"),
        (lambda o: optim.StepLR(o, step_size=2, gamma=-1.0), "invalid gamma"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max must be a positive integer"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=3, eta_min=math.nan), "invalid eta_min"),
    ],
)
def test_schedules_check_their_arguments(make, match):
    opt = optim.SGD([al.Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=match):
        make(opt)
    with pytest.raises(TypeError, match="expected an optimizer"):
        optim.StepLR("sgd", step_size=1)
