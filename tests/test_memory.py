"""Memory: graphs die by reference counting alone, and long training keeps memory flat.

The cycle collector is switched off in these tests, so anything that relied on it would pile up:
``gc.collect()`` afterwards must find nothing (it returns the number of unreachable objects it
freed), and weak references to tensors of a dead graph must be dead before any collection.
Memory is measured in objects, not time: ``sys.getallocatedblocks()`` counts every block held by
Python's small-object allocator (each Tensor, graph node, list, ndarray header), and
``gc.get_objects()`` every tracked container.
"""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from custom_ops import Cube

import autograd_lite as al
from autograd_lite import _guard, layers, optim, viz
from autograd_lite.tutorial import NeuralNetwork


@contextmanager
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _every_op_family(x: al.Tensor, w: al.Tensor) -> al.Tensor:
    h = (x @ w).tanh() + x.sum(axis=1, keepdims=True).sigmoid() * 2 - 1
    h = al.maximum(h, -h).sqrt() / (h.abs() + 1) + h**2 + h.exp().log() - h.clip(-0.5, 0.5)
    h = al.concatenate([h, al.stack([h[0], h[1]])[0][None]], axis=0)
    h = al.where(h.data > 0, h, h.relu()) + h.max(axis=0) + h.min() + h.mean()
    h = h.T.reshape(-1, 2).flatten()[[0, 1, 1]] + Cube.apply(h.reshape(-1)[:3])
    loss = al.cross_entropy(h.reshape(1, 3), np.array([1])) + al.mse_loss(h, np.zeros(3))
    loss = (
        loss
        + al.binary_cross_entropy(h.sigmoid(), np.full(3, 0.5))
        + al.squared_error(h, np.zeros(3))
    )
    return loss + h.softmax().sum() + h.log_softmax().sum()


def _inputs() -> tuple[al.Tensor, al.Tensor]:
    rng = np.random.default_rng(0)
    x = al.Tensor(rng.uniform(0.1, 1.0, (3, 4)), requires_grad=True)
    w = al.Tensor(rng.uniform(-1.0, 1.0, (4, 3)), requires_grad=True)
    return x, w


def _backward(loss: al.Tensor) -> None:
    loss.backward()


def _backward_twice(loss: al.Tensor) -> None:
    loss.backward(retain_graph=True)
    loss.backward()


def _never_backward(loss: al.Tensor) -> None:
    pass


def _retained_then_dropped(loss: al.Tensor) -> None:
    loss.backward(retain_graph=True)


def _with_hooks(loss: al.Tensor) -> None:
    node_output = loss * 1.0
    node_output.register_hook(lambda g: g * 1.0)
    node_output.backward()


def _explained(loss: al.Tensor) -> None:
    viz.to_dot(loss)
    str(viz.explain_backward(loss))


USES: dict[str, Callable[[al.Tensor], None]] = {
    "backward": _backward,
    "backward-retain-twice": _backward_twice,
    "never-backward": _never_backward,
    "retained-then-dropped": _retained_then_dropped,
    "hooks": _with_hooks,
    "explain": _explained,
}


@pytest.mark.parametrize("anomaly", [False, True], ids=["plain", "detect_anomaly"])
@pytest.mark.parametrize("use", list(USES))
def test_graphs_die_by_reference_counting(use, anomaly):
    with collector_off():
        locked_before = len(_guard._locked)
        x, w = _inputs()
        probes = []
        if anomaly:
            with al.detect_anomaly():
                loss = _every_op_family(x, w)
        else:
            loss = _every_op_family(x, w)
        node = loss._node
        probes.append(weakref.ref(loss))
        USES[use](loss)
        del loss, node
        probes += [weakref.ref(t.grad) for t in (x, w) if t.grad is not None]
        probes += [weakref.ref(x), weakref.ref(w)]
        del x, w
        assert all(p() is None for p in probes), "a tensor outlived its last reference"
        assert len(_guard._locked) == locked_before, "a dead graph left arrays read-only"
        assert gc.collect() == 0, "the cycle collector found garbage: a reference cycle"


def test_functional_transforms_make_no_cycles():
    with collector_off():
        f = lambda a: (a * a * a).sum() + a.sigmoid().sum()  # noqa: E731
        x, v = np.linspace(-1, 1, 4), np.ones(4)
        al.grad(f)(x)
        al.value_and_grad(f)(x)
        al.hvp(f, x, v)
        assert gc.collect() == 0


def test_training_step_with_layers_and_optimizers_makes_no_cycles():
    with collector_off():
        net = layers.Sequential(
            layers.Linear(4, 8, rng=0), layers.ReLU(), layers.Dropout(0.2, rng=1),
            layers.Linear(8, 3, rng=2),
        )  # fmt: skip
        probe = weakref.ref(net[0].weight)
        for opt in (
            optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
            optim.Adam(net.parameters()),
        ):
            for _ in range(3):
                loss = al.cross_entropy(net(np.ones((5, 4))), np.array([0, 1, 2, 0, 1]))
                opt.zero_grad()
                loss.backward()
                opt.step()
        del net, opt, loss
        assert probe() is None
        assert gc.collect() == 0


def test_create_graph_backward_cycle_is_broken_by_clearing_grad():
    """``x.backward(create_graph=True)`` stores in ``x.grad`` a graph that refers back to ``x``,
    as in PyTorch; clearing ``.grad`` (``zero_grad``) breaks that cycle, and ``al.grad`` never
    makes it."""
    with collector_off():
        x = al.Tensor(np.array([1.0, 2.0]), requires_grad=True)
        (x * x * x).sum().backward(create_graph=True)
        probe = weakref.ref(x)
        x.grad = None
        del x
        assert probe() is None
        assert gc.collect() == 0


def _train_and_measure(step: Callable[[int], None], steps: int, warmup: int) -> dict[str, int]:
    """Run ``step(i)`` for i < steps with the cycle collector off; counts after warmup and end."""
    counts: dict[str, int] = {}
    with collector_off():
        for i in range(steps):
            step(i)
            if i + 1 == warmup:
                counts["blocks_warm"] = sys.getallocatedblocks()
                counts["objects_warm"] = len(gc.get_objects())
        counts["blocks_end"] = sys.getallocatedblocks()
        counts["objects_end"] = len(gc.get_objects())
        counts["locked"] = len(_guard._locked)
        counts["cycles"] = gc.collect()
    return counts


def test_tutorial_network_trains_20000_steps_in_flat_memory():
    rng = np.random.default_rng(0)
    inputs, targets = rng.uniform(0.01, 0.99, (16, 4)), rng.uniform(0.01, 0.99, (16, 2))
    net = NeuralNetwork(4, 2, 5, 0.3, bias=1.0, rng=0)
    before = net.run(inputs)

    def step(i: int) -> None:
        net.train(inputs[i % 16], targets[i % 16])

    c = _train_and_measure(step, 20_000, 2_000)
    assert c["cycles"] == 0 and c["locked"] == 0
    # a leak of one small object per step would add 18,000 blocks; allow interpreter noise
    assert c["blocks_end"] - c["blocks_warm"] < 200, c
    assert c["objects_end"] - c["objects_warm"] < 50, c
    after = net.run(inputs)
    assert np.mean((after - targets) ** 2) < np.mean((before - targets) ** 2)  # it did train


def test_adam_with_retained_graphs_and_anomaly_mode_keeps_memory_flat():
    rng = np.random.default_rng(1)
    x, labels = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    net = layers.Sequential(layers.Linear(3, 4, rng=0), layers.Tanh(), layers.Linear(4, 2, rng=1))
    opt = optim.Adam(net.parameters(), lr=0.01)

    def step(i: int) -> None:
        loss = al.cross_entropy(net(x), labels)
        opt.zero_grad()
        loss.backward(retain_graph=i % 2 == 0)  # every other graph retained, then dropped
        opt.step()

    c = _train_and_measure(step, 3_000, 500)
    assert c["cycles"] == 0 and c["locked"] == 0
    assert c["blocks_end"] - c["blocks_warm"] < 200, c
    assert c["objects_end"] - c["objects_warm"] < 50, c
    with collector_off(), al.detect_anomaly():
        c = _train_and_measure(step, 1_000, 200)
    assert c["cycles"] == 0 and c["locked"] == 0
    assert c["blocks_end"] - c["blocks_warm"] < 200, c
