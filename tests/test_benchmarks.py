"""The benchmarks' steps compute what they claim: the hand-written step, autograd_lite's step and
the transcription of autograd_lite's NumPy calls ("kernels only", the floor the benchmark reports)
take the same SGD steps from the same weights."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import minimal_engine
import workloads

from autograd_lite.tutorial import NeuralNetwork


@pytest.mark.parametrize(
    "shape",
    [
        (4, 3, 2, 1),  # workload 6's toy step
        (7, 5, 3, 4),  # a batch
        (300, 60, 10, 2),  # W_ih has 18,000 elements: the optimizer updates it in chunks
        (1000, 8, 4, 70),  # the input has 70,000 elements: locked, not copied, by the engine
    ],
)
def test_benchmark_steps_agree(shape):
    steps = workloads.sigmoid_net(*shape)
    results = {}
    for name in ("hand-written", "autograd_lite", "kernels only"):
        first = [w.copy() for w in steps[name]()]
        for _ in range(2):
            weights = steps[name]()
        results[name] = [w.copy() for w in weights]
        assert all(np.any(w != w1) for w, w1 in zip(weights, first))  # the steps move
    for ours, kernels in zip(results["autograd_lite"], results["kernels only"]):
        np.testing.assert_array_equal(ours, kernels)  # the very same NumPy calls
    for ours, hand in zip(results["autograd_lite"], results["hand-written"]):
        np.testing.assert_allclose(ours, hand, rtol=1e-12, atol=1e-15)


def test_tutorial_train_kernels_take_the_networks_steps():
    rng = np.random.default_rng(1)
    net = NeuralNetwork(300, 10, 60, 0.1, rng=0)  # W_ih has 18,000 elements: chunked update
    train = workloads.tutorial_train_kernels(net.wih.copy(), net.who.copy(), 0.1)
    start = net.wih.copy()
    for _ in range(3):
        x, t = rng.uniform(0.01, 0.99, 300), np.full(10, 0.01)
        t[rng.integers(10)] = 0.99
        net.train(x, t)
        wih, who = train(x, t)
    np.testing.assert_array_equal(wih, net.wih)
    np.testing.assert_array_equal(who, net.who)
    assert np.any(wih != start)


@pytest.mark.parametrize("shape", [(4, 3, 2, 1), (300, 60, 10, 2), (70, 80, 4, 60)])
def test_bare_engine_takes_the_hand_written_steps(shape):
    steps = minimal_engine.steps(shape)  # a batch of 1 runs as the tutorial's 1-D sample
    results = {}
    for name in ("hand-written", "bare, w -= lr·g", "bare, chunked update"):
        first = [w.copy() for w in steps[name]()]
        for _ in range(2):
            weights = steps[name]()
        assert all(np.any(w != w1) for w, w1 in zip(weights, first))  # the steps move
        results[name] = [w.copy() for w in weights]
    for name in ("bare, w -= lr·g", "bare, chunked update"):
        for bare, hand in zip(results[name], results["hand-written"]):
            np.testing.assert_allclose(bare, hand, rtol=1e-12, atol=1e-15)


def test_compile_benchmark_reads_mnist_as_the_chapter_scales_it(tmp_path):
    from test_mnist import digits_like, mnist_folder

    compile_benchmark = importlib.import_module("compile")  # benchmarks/compile.py
    folder = mnist_folder(tmp_path / "m", n_train=30)
    x, t, source = compile_benchmark.mnist_images(str(folder), 12)
    images, labels = digits_like(30, 1)  # what mnist_folder wrote as the training set
    np.testing.assert_allclose(x, images[:12].reshape(12, -1) * 0.99 / 255 + 0.01)
    assert t.shape == (12, 10) and set(np.unique(t)) == {0.01, 0.99}
    np.testing.assert_array_equal(t.argmax(axis=1), labels[:12])
    assert source == "the MNIST training images"
