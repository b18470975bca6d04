"""Threads: two models trained at once in two threads end with exactly the weights they get when
trained one after the other; gradient mode and anomaly mode are per thread; arrays shared by the
graphs of several threads are locked and unlocked correctly."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import _guard, layers, optim
from autograd_lite.tutorial import NeuralNetwork

RNG = np.random.default_rng(3)
X = RNG.standard_normal((12, 4))  # shared by every model and thread
LABELS = RNG.integers(0, 3, 12)
TARGETS = RNG.uniform(0.01, 0.99, (12, 3))
STEPS = 300


@pytest.fixture(autouse=True)
def _switch_threads_often():
    """Make the interpreter switch threads every few microseconds, so the threads interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def make_classifier(seed: int, adam: bool) -> tuple[layers.Module, optim.Optimizer]:
    net = layers.Sequential(
        layers.Linear(4, 6, rng=seed), layers.Tanh(), layers.Dropout(0.2, rng=seed + 1),
        layers.Linear(6, 3, rng=seed + 2),
    )  # fmt: skip
    params = net.parameters()
    opt = optim.Adam(params, lr=0.01) if adam else optim.SGD(params, lr=0.05, momentum=0.9)
    return net, opt


def train_classifier(net: layers.Module, opt: optim.Optimizer, steps: int) -> None:
    x = al.Tensor(X)
    for i in range(steps):
        loss = al.cross_entropy(net(x), LABELS)
        opt.zero_grad()
        loss.backward(retain_graph=i % 3 == 0)
        opt.step()


def train_tutorial(net: NeuralNetwork, steps: int) -> None:
    for i in range(steps):
        net.train(X[i % 12], TARGETS[i % 12])


def run_in_threads(jobs: list[Callable[[], Any]]) -> None:
    """Run ``jobs`` at once, one thread each, started together; re-raise their errors."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def wrap(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def weights(net: Any) -> list[np.ndarray]:
    if isinstance(net, NeuralNetwork):
        return [net.wih.copy(), net.who.copy()]
    return [p.data.copy() for p in net.parameters()]


def test_two_models_in_two_threads_match_training_one_after_the_other():
    sequential = [make_classifier(0, adam=False), make_classifier(10, adam=True)]
    for net, opt in sequential:
        train_classifier(net, opt, STEPS)
    concurrent = [make_classifier(0, adam=False), make_classifier(10, adam=True)]
    run_in_threads([lambda n=n, o=o: train_classifier(n, o, STEPS) for n, o in concurrent])
    for (a, _), (b, _) in zip(sequential, concurrent):
        for wa, wb in zip(weights(a), weights(b)):
            np.testing.assert_array_equal(wa, wb)  # bit for bit
    assert not np.array_equal(
        weights(sequential[0][0])[0], weights(make_classifier(0, False)[0])[0]
    )
    assert X.flags.writeable and not _guard._locked  # the shared input was unlocked by both


def test_four_tutorial_networks_in_four_threads():
    seeds = [1, 2, 3, 4]
    expected = []
    for s in seeds:
        net = NeuralNetwork(4, 3, 5, 0.2, bias=1.0, rng=s)
        train_tutorial(net, STEPS)
        expected.append(weights(net))
    nets = [NeuralNetwork(4, 3, 5, 0.2, bias=1.0, rng=s) for s in seeds]
    run_in_threads([lambda n=n: train_tutorial(n, STEPS) for n in nets])
    for net, exp in zip(nets, expected):
        for got, want in zip(weights(net), exp):
            np.testing.assert_array_equal(got, want)


def test_no_grad_and_anomaly_mode_in_one_thread_leave_a_training_thread_alone():
    reference, ref_opt = make_classifier(20, adam=False)
    train_classifier(reference, ref_opt, STEPS)
    net, opt = make_classifier(20, adam=False)
    seen: dict[str, Any] = {"recorded": 0, "anomalies": 0}
    observer = layers.Linear(4, 3, rng=5)

    def inference() -> None:
        x = al.Tensor(X)
        for _ in range(STEPS):
            with al.no_grad():
                assert not al.is_grad_enabled()
                seen["recorded"] += observer(x).requires_grad
            with al.detect_anomaly():
                try:
                    (observer(x) - observer(x)).log()  # log 0 = -inf: raises in this thread
                except al.AnomalyError:
                    seen["anomalies"] += 1

    def training() -> None:
        for _ in range(STEPS // 10):
            assert al.is_grad_enabled() and not al._grad_mode._state.anomaly
            train_classifier(net, opt, 10)

    run_in_threads([inference, training])
    assert seen == {"recorded": 0, "anomalies": STEPS}
    for a, b in zip(weights(reference), weights(net)):
        np.testing.assert_array_equal(a, b)


def in_lockstep(*jobs: list[Callable[[], Any]]) -> None:
    """Run the steps of each job in its own thread, in turns: step 1 of every job (in the order
    given), then step 2 of every job, and so on, with a barrier between turns."""
    turn = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(k: int, steps: list[Callable[[], Any]]) -> None:
        for step in steps:
            for j in range(len(jobs)):
                if j == k:
                    try:
                        step()
                    except BaseException as exc:  # pragma: no cover - reported below
                        errors.append(exc)
                turn.wait()

    threads = [threading.Thread(target=run, args=(k, job)) for k, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _state() -> tuple[bool, bool, bool]:
    s = al._grad_mode._state
    return s.enabled, s.anomaly, s.sites


@pytest.mark.parametrize(
    "make, before_a, before_b, inside",
    [
        (al.no_grad, al.no_grad, al.enable_grad, lambda s: not s[0]),
        (al.enable_grad, al.no_grad, al.enable_grad, lambda s: s[0]),
        (al.detect_anomaly, al.enable_grad, al._grad_mode.recording_sites, lambda s: s[1] and s[2]),
    ],
)
def test_one_context_manager_entered_by_two_threads_restores_each_threads_state(
    make, before_a, before_b, inside
):
    # Thread A enters the shared manager, then B; A leaves first, then B. Each thread must get
    # back its own state (B's differs from A's before they enter).
    shared = make()
    seen: dict[str, Any] = {}

    def job(name: str, before: Any) -> list[Callable[[], Any]]:
        outer = before()

        def enter() -> None:
            outer.__enter__()
            seen[name + " before"] = _state()
            shared.__enter__()
            seen[name + " inside"] = _state()

        def leave() -> None:
            shared.__exit__(None, None, None)
            seen[name + " after"] = _state()
            outer.__exit__(None, None, None)

        return [enter, leave]

    in_lockstep(job("a", before_a), job("b", before_b))
    assert seen["a before"] != seen["b before"]
    for name in ("a", "b"):
        assert inside(seen[name + " inside"])
        assert seen[name + " after"] == seen[name + " before"]
    assert _state() == (True, False, False)


def test_one_no_grad_object_shared_by_four_threads():
    shared = al.no_grad()
    w = al.Tensor(np.ones(3), requires_grad=True)
    recorded: list[bool] = []

    def job() -> None:
        for _ in range(200):
            with shared:
                recorded.append((w * 2).requires_grad)
            recorded.append(not (w * 2).requires_grad)  # recording is back on outside

    run_in_threads([job] * 4)
    assert len(recorded) == 1600 and not any(recorded)
