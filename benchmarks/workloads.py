"""The benchmark workloads: each an autograd_lite step and a hand-written NumPy step on the same
arrays (and a PyTorch step when PyTorch happens to be installed; it is never a dependency)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autograd_lite as al
from autograd_lite._guard import COPY_LIMIT
from autograd_lite.layers import Linear, Sequential, Sigmoid
from autograd_lite.ops.activations import stable_sigmoid
from autograd_lite.optim import SGD, _descend

Step = Callable[[], object]
Weights = tuple[np.ndarray, np.ndarray]  # what a training step returns: its weights after it


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def tutorial_arrays(n_in: int, n_hidden: int, n_out: int, batch: int, seed: int = 0):
    """``(wih, who, x, t)``: the workloads' initial weights, rows of inputs and one-hot targets."""
    rng = np.random.default_rng(seed)
    wih = rng.uniform(-1, 1, (n_hidden, n_in)) / np.sqrt(n_in)
    who = rng.uniform(-1, 1, (n_out, n_hidden)) / np.sqrt(n_hidden)
    x = rng.uniform(0.01, 0.99, (batch, n_in))
    t = np.full((batch, n_out), 0.01)
    t[np.arange(batch), rng.integers(0, n_out, batch)] = 0.99
    return wih, who, x, t


def sigmoid_net(n_in: int, n_hidden: int, n_out: int, batch: int, lr: float = 0.1, seed: int = 0):
    """The tutorial's network (sigmoid, squared error ½ Σ (t − o)², SGD) trained three ways —
    hand-written, autograd_lite, and autograd_lite's kernels alone — and a fourth with PyTorch
    when it is installed, all from :func:`tutorial_arrays`. Each step returns its weights after
    the step."""
    wih, who, x, t = tutorial_arrays(n_in, n_hidden, n_out, batch, seed)
    w1, w2 = wih.copy(), who.copy()

    def hand() -> Weights:
        h = _sigmoid(x @ w1.T)
        o = _sigmoid(h @ w2.T)
        delta_o = (o - t) * o * (1 - o)
        delta_h = (delta_o @ w2) * h * (1 - h)
        w2[...] -= lr * (delta_o.T @ h)
        w1[...] -= lr * (delta_h.T @ x)
        return w1, w2

    model = Sequential(
        Linear(n_in, n_hidden, bias=False),
        Sigmoid(),
        Linear(n_hidden, n_out, bias=False),
        Sigmoid(),
    )
    model[0].weight.data[...] = wih
    model[2].weight.data[...] = who
    opt = SGD(model.parameters(), lr=lr)

    def ours() -> Weights:
        loss = al.squared_error(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return model[0].weight.data, model[2].weight.data

    k1, k2 = wih.copy(), who.copy()
    p1, p2 = al.Tensor(k1), al.Tensor(k2)  # the optimizer's update reads .data: shares k1, k2
    one = np.array(1.0)  # backward's seed ∂E/∂E
    small = x.size <= COPY_LIMIT  # the engine copies a small constant input into its node

    def kernels() -> Weights:
        # The NumPy calls that autograd_lite's ops make in this step (forward, the rules that
        # backward runs, the optimizer's chunked update), written out with no framework: the
        # floor for any engine that uses these kernels. tests/test_benchmarks.py checks that
        # it takes bit for bit the steps that ours() takes.
        xk = x.copy() if small else x
        tk = t.copy()
        h = stable_sigmoid(np.dot(xk, k1.T))
        o = stable_sigmoid(np.dot(h, k2.T))
        d = (o - tk).reshape(-1)
        np.dot(d, d) * 0.5  # the loss (its value, unused here as in ours())
        g_o = (o - tk) * (one * 1.0)
        g_b = g_o * (o * (1 - o))
        g_w2 = np.dot(g_b.T, h)
        g_a = np.dot(g_b, k2) * (h * (1 - h))
        g_w1 = np.dot(g_a.T, xk)
        _descend(p1, lr, g_w1)
        _descend(p2, lr, g_w2)
        return k1, k2

    steps: dict[str, Step] = {"hand-written": hand, "autograd_lite": ours, "kernels only": kernels}
    torch_step = _torch_sigmoid_net(wih, who, x, t, lr)
    if torch_step is not None:
        steps["pytorch"] = torch_step
    return steps


def tutorial_train_kernels(wih: np.ndarray, who: np.ndarray, lr: float) -> Callable[..., Weights]:
    """``NeuralNetwork.train(x, t)`` for one sample (1-D ``x`` and ``t``, update="gradient") as
    the NumPy calls autograd_lite makes for it, with no framework; updates ``wih`` and ``who``
    in place. tests/test_benchmarks.py checks that it takes bit for bit the network's steps."""
    one = np.array(1.0)  # backward's seed ∂E/∂E
    n_hidden, n_out = wih.shape[0], who.shape[0]
    p_ih, p_ho = al.Tensor(wih), al.Tensor(who)  # the optimizer's update reads .data: shares them

    def train(x: np.ndarray, t: np.ndarray) -> Weights:
        x, t = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)
        xk = x.copy() if x.size <= COPY_LIMIT else x  # what the engine keeps in the nodes
        tk = t.copy()
        h = stable_sigmoid(np.dot(wih, xk))
        o = stable_sigmoid(np.dot(who, h))
        d = (o - tk).reshape(-1)
        loss = np.asarray(0.5 * np.dot(d, d))
        g_b = ((o - tk) * (one * 1.0)) * (o * (1 - o))
        g_who = np.dot(g_b.reshape((n_out, 1)), h.reshape((1, n_hidden)))
        g_a = np.dot(g_b, who) * (h * (1 - h))
        g_wih = np.dot(g_a.reshape((n_hidden, 1)), xk.reshape((1, xk.shape[0])))
        _descend(p_ih, lr, g_wih)
        _descend(p_ho, lr, g_who)
        float(loss)
        return wih, who

    return train


def _torch_sigmoid_net(wih, who, x, t, lr) -> Step | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    net = torch.nn.Sequential(
        torch.nn.Linear(wih.shape[1], wih.shape[0], bias=False, dtype=torch.float64),
        torch.nn.Sigmoid(),
        torch.nn.Linear(who.shape[1], who.shape[0], bias=False, dtype=torch.float64),
        torch.nn.Sigmoid(),
    )
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(wih))
        net[2].weight.copy_(torch.from_numpy(who))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    tx, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step() -> Weights:
        loss = 0.5 * ((tt - net(tx)) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return net[0].weight.detach().numpy(), net[2].weight.detach().numpy()

    return step


def recording_overhead(batch: int = 64, seed: int = 0) -> dict[str, Step]:
    """The tutorial network's forward with recording on, versus inside ``no_grad``."""
    rng = np.random.default_rng(seed)
    model = Sequential(
        Linear(784, 100, bias=False), Sigmoid(), Linear(100, 10, bias=False), Sigmoid()
    )
    x = rng.uniform(0.01, 0.99, (batch, 784))
    w1, w2 = model[0].weight.data, model[2].weight.data

    def hand() -> None:
        _sigmoid(_sigmoid(x @ w1.T) @ w2.T)

    def recorded() -> None:
        model(x)

    def unrecorded() -> None:
        with al.no_grad():
            model(x)

    return {"hand-written": hand, "autograd_lite": recorded, "no_grad": unrecorded}


def chain(n_ops: int, size: int = 4, seed: int = 0) -> dict[str, Step]:
    """``n_ops`` tanh ops in a chain on a small vector, forward and backward."""
    x0 = np.random.default_rng(seed).uniform(-1, 1, size)

    def hand() -> None:
        outs = []
        y = x0
        for _ in range(n_ops):
            y = np.tanh(y)
            outs.append(y)
        g = np.ones(size)
        for o in reversed(outs):
            g = g * (1 - o * o)

    def ours() -> None:
        x = al.Tensor(x0, requires_grad=True)
        y = x
        for _ in range(n_ops):
            y = y.tanh()
        y.backward(np.ones(size))

    steps: dict[str, Step] = {"hand-written": hand, "autograd_lite": ours}
    try:
        import torch
    except ImportError:
        return steps
    torch.set_num_threads(1)

    def torch_step() -> None:
        x = torch.tensor(x0, requires_grad=True)
        y = x
        for _ in range(n_ops):
            y = y.tanh()
        y.backward(torch.ones(size, dtype=torch.float64))

    steps["pytorch"] = torch_step
    return steps
