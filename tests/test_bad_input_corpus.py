"""A corpus of malformed calls across the whole public API.

Every case names a call, the exception it must raise and a pattern the message must contain (the
message must name what was wrong). Each case runs against a fresh :class:`World`: a small trained
model with SGD (momentum) and Adam optimizers that have taken a step, the tutorial's network, and
a folder of files. Before and after the call the whole world is snapshotted (every parameter
array, every ``.grad``, every optimizer's state, the network's weights and learning rate, the
bytes of every file), and the two snapshots must be equal: bad input is refused before anything
changes.
"""

from __future__ import annotations

import gzip
import io
import math
import pickle
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import data, layers, optim, tutorial, viz
from autograd_lite.__main__ import main as cli_main
from autograd_lite.testing import eps_sweep, gradcheck, gradgradcheck
from autograd_lite.testing import strategies as strat

T = al.Tensor
AxisError = np.exceptions.AxisError


class World:
    """Everything a bad call could damage, in a known state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.model = layers.Sequential(
            layers.Linear(3, 4, rng=0), layers.Sigmoid(), layers.Linear(4, 2, rng=1)
        )
        self.sgd = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.adam = optim.Adam(self.model.parameters(), lr=0.01)
        self.x = T(np.linspace(-1.0, 1.0, 15).reshape(5, 3))
        self.labels = np.array([0, 1, 1, 0, 1])
        for opt in (self.sgd, self.adam):
            loss = al.cross_entropy(self.model(self.x), self.labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.spent = al.cross_entropy(self.model(self.x), self.labels)
        self.spent.backward()  # grads are set; this graph is released
        self.net = tutorial.NeuralNetwork(3, 2, 4, 0.5, rng=0)
        self.net.train(np.array([0.1, 0.5, 0.9]), np.array([0.99, 0.01]))
        self.good = folder / "good.npz"
        al.save(self.model.state_dict(), self.good)
        _make_bad_files(self)

    def file(self, name: str, content: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(content)
        return path

    def snapshot(self) -> dict[str, Any]:
        """Deep copies of all state, to compare before and after a call."""
        state: dict[str, Any] = {}
        for name, p in self.model.named_parameters():
            state[f"param {name}"] = p.data.copy()
            state[f"grad {name}"] = None if p.grad is None else p.grad.data.copy()
        for label, opt in (("sgd", self.sgd), ("adam", self.adam)):
            for key, value in vars(opt).items():
                if key in ("params", "_scratch"):  # the parameters (above), scratch space
                    continue
                state[f"{label}.{key}"] = _copy(value)
        state["net.wih"], state["net.who"] = self.net.wih.copy(), self.net.who.copy()
        state["net.lr"] = self.net.learning_rate
        state["training"] = [m.training for m in self.model.modules()]
        state["files"] = {p.name: p.read_bytes() for p in sorted(self.folder.iterdir())}
        return state


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _assert_same(before: Any, after: Any, where: str = "") -> None:
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), where
        assert before.dtype == after.dtype and before.shape == after.shape, where
        assert np.array_equal(before, after, equal_nan=True), f"{where} changed"
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), f"{where}: keys changed"
        for k in before:
            _assert_same(before[k], after[k], f"{where}[{k!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), f"{where}: length changed"
        for i, (b, a) in enumerate(zip(before, after)):
            _assert_same(b, a, f"{where}[{i}]")
    else:
        assert before == after, f"{where} changed: {before!r} -> {after!r}"


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[World], Any]
    exc: type[BaseException]
    match: str


def _grad_x() -> T:
    return T(np.array([1.0, 2.0, 3.0]), requires_grad=True)


def _twice(w: World) -> None:
    w.spent.backward()


def _write_between_forward_and_backward(w: World) -> None:
    loss = al.cross_entropy(w.model(w.x), w.labels)
    w.model[2].weight.data[0, 0] = 5.0  # the matmul's rule needs this array
    loss.backward()


def _subtract_between_forward_and_backward(w: World) -> None:
    loss = al.cross_entropy(w.model(w.x), w.labels)
    w.model[2].weight.data -= 1.0  # needed for the gradient flowing into the first layer
    loss.backward()


def _rebind_before_second_order(w: World) -> None:
    x = _grad_x()
    y = (x * x * x).sum()
    x.data = np.zeros(3)
    y.backward(create_graph=True)


def _backward_with_hook(w: World, hook: Callable[[Any], Any], on_leaf: bool) -> None:
    if on_leaf:
        x = _grad_x()
        x.register_hook(hook)
        (x * 2).sum().backward()
    else:  # on the model's output: the parameters' .grad must stay as they were
        out = w.model(w.x)
        out.register_hook(hook)
        al.cross_entropy(out, w.labels).backward()


def _state(w: World, **changes: Any) -> dict[str, Any]:
    state = w.model.state_dict()
    state.update(changes)
    return {k: v for k, v in state.items() if v is not None}


def _partial(w: World) -> None:
    state = w.model.state_dict()
    del state["2.bias"]
    w.model.load_state_dict(state)


def _make_bad_files(w: World) -> None:
    """The malformed files the load cases read (made before the snapshot)."""
    raw = w.good.read_bytes()
    w.file("truncated.npz", raw[: len(raw) // 2])
    w.file("tail.npz", raw[:-20])
    w.file("state.pkl", pickle.dumps(w.model.state_dict()))
    np.savez(w.folder / "objects.npz", weight=np.array([{"payload": 1}], dtype=object))
    with zipfile.ZipFile(w.folder / "foreign.npz", "w") as zf:
        zf.writestr("readme.txt", "not arrays")
    np.save(w.folder / "plain.npy", np.ones(3))
    other = layers.Sequential(layers.Linear(3, 5, rng=0), layers.Sigmoid(), layers.Linear(5, 2))
    al.save(other.state_dict(), w.folder / "other.npz")
    for name, rows in (
        ("columns.csv.gz", np.zeros((3, 10))),
        ("pixels.csv.gz", np.full((3, 65), 17)),
    ):
        text = "\n".join(",".join(str(int(v)) for v in row) for row in rows)
        w.file(name, gzip.compress(text.encode()))


def _failing_load(name: str) -> Callable[[World], Any]:
    def call(w: World) -> Any:
        w.model.load_state_dict(al.load(w.folder / name))

    return call


class _TooManyGrads(al.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class _WrongShapeGrad(al.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return np.ones(7)


class _TextForward(al.Function):
    @staticmethod
    def forward(ctx, x):
        return "text"

    @staticmethod
    def backward(ctx, grad):
        return grad


def _model_params(w: World) -> list[layers.Parameter]:
    return w.model.parameters()


NAN, INF = math.nan, math.inf

CASES = [
    # -- Tensor construction ------------------------------------------------------------------
    Case("tensor-of-text", lambda w: T("abc"), TypeError, r"numeric.*<U3"),
    Case("tensor-of-objects", lambda w: T([object()]), TypeError, r"numeric.*object"),
    Case("tensor-ragged", lambda w: T([[1.0, 2.0], [3.0]]), TypeError, r"numeric array"),
    Case("tensor-none", lambda w: T(None), TypeError, r"numeric.*object"),
    Case("tensor-unknown-dtype", lambda w: T([1.0], dtype="nope"), TypeError, r"not understood"),
    Case(
        "int-tensor-requires-grad",
        lambda w: T([1, 2], requires_grad=True),
        TypeError,
        r"floating-point.*int64",
    ),
    Case(
        "bool-tensor-requires-grad",
        lambda w: T([True], requires_grad=True),
        TypeError,
        r"floating-point.*bool",
    ),
    Case(
        "requires-grad-on-int-leaf",
        lambda w: setattr(T([1, 2]), "requires_grad", True),
        TypeError,
        r"floating-point.*int64",
    ),
    Case(
        "requires-grad-on-non-leaf",
        lambda w: setattr(w.model(w.x), "requires_grad", False),
        RuntimeError,
        r"leaf",
    ),
    # -- operators and shapes -----------------------------------------------------------------
    Case(
        "add-shapes",
        lambda w: T(np.ones(3)) + T(np.ones(4)),
        ValueError,
        r"add: shapes \(3,\) and \(4,\)",
    ),
    Case(
        "matmul-not-aligned",
        lambda w: T(np.ones((3, 4))) @ T(np.ones((5, 2))),
        ValueError,
        r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned",
    ),
    Case(
        "linear-wrong-features",
        lambda w: w.model(T(np.ones((5, 4)))),
        ValueError,
        r"Linear: input of shape \(5, 4\) does not end in in_features=3 \(weight shape \(4, 3\)\)",
    ),
    Case(
        "linear-wrong-sample",
        lambda w: w.model(np.ones(4)),
        ValueError,
        r"Linear: input of shape \(4,\) does not end in in_features=3",
    ),
    Case(
        "sequential-index-out-of-range",
        lambda w: w.model[3],
        IndexError,
        r"Sequential: index 3 is out of range for 3 modules",
    ),
    Case(
        "item-of-many",
        lambda w: w.model(w.x).item(),
        ValueError,
        r"item: a tensor of shape \(5, 2\) has 10 elements",
    ),
    Case("add-text", lambda w: T(np.ones(3)) + "a", TypeError, r"unsupported operand.*str"),
    Case("mul-none", lambda w: T(np.ones(3)) * None, TypeError, r"unsupported operand.*NoneType"),
    Case(
        "maximum-text",
        lambda w: al.maximum("a", T(np.ones(3))),
        TypeError,
        r"maximum: first argument must be numeric",
    ),
    Case(
        "where-float-cond",
        lambda w: al.where(np.ones(3), T(np.ones(3)), T(np.ones(3))),
        TypeError,
        r"where: cond must be boolean",
    ),
    Case(
        "where-shapes",
        lambda w: al.where(np.ones(3, bool), T(np.ones(3)), T(np.ones(4))),
        ValueError,
        r"where: shapes .*cannot be broadcast",
    ),
    Case("concatenate-empty", lambda w: al.concatenate([]), ValueError, r"at least one tensor"),
    Case(
        "concatenate-shapes",
        lambda w: al.concatenate([T(np.ones((2, 3))), T(np.ones((2, 4)))]),
        ValueError,
        r"concatenate: shapes \(2, 3\), \(2, 4\) do not fit together along axis 0",
    ),
    Case(
        "stack-shapes",
        lambda w: al.stack([T(np.ones((2, 3))), T(np.ones((2, 4)))]),
        ValueError,
        r"stack: shapes .* must all be equal",
    ),
    Case(
        "stack-one-tensor",
        lambda w: al.stack(T(np.ones((2, 3)))),
        TypeError,
        r"sequence of tensors",
    ),
    Case("clip-bounds", lambda w: T(np.ones(3)).clip(2, 1), ValueError, r"low \(2\) .*high \(1\)"),
    Case(
        "reshape-size",
        lambda w: T(np.ones((2, 3))).reshape(4, 2),
        ValueError,
        r"reshape: cannot reshape shape \(2, 3\) into \(4, 2\)",
    ),
    Case(
        "transpose-axes",
        lambda w: T(np.ones((2, 3))).transpose(0, 0),
        ValueError,
        r"transpose: axes \(0, 0\)",
    ),
    Case("index-out-of-range", lambda w: T(np.ones((2, 3)))[5], IndexError, r"out of bounds"),
    # -- reductions and axes ------------------------------------------------------------------
    Case(
        "sum-axis-out-of-range",
        lambda w: T(np.ones((2, 3))).sum(axis=2),
        AxisError,
        r"sum: axis 2 is out of bounds",
    ),
    Case(
        "mean-repeated-axis",
        lambda w: T(np.ones((2, 3))).mean(axis=(0, -2)),
        ValueError,
        r"mean: repeated axis",
    ),
    Case(
        "max-axis-text",
        lambda w: T(np.ones((2, 3))).max(axis=("a",)),
        TypeError,
        r"max: axis must be an int",
    ),
    Case(
        "mean-of-zero-elements",
        lambda w: T(np.zeros((0, 3))).mean(axis=0),
        ValueError,
        r"mean: cannot reduce over zero elements \(input shape \(0, 3\), reducing axis \(0,\)\)",
    ),
    Case(
        "max-of-an-empty-array",
        lambda w: T(np.zeros(0)).max(),
        ValueError,
        r"max: cannot reduce over zero elements \(input shape \(0,\), reducing all axes\)",
    ),
    Case(
        "softmax-axis-out-of-range",
        lambda w: T(np.ones((2, 3))).softmax(axis=5),
        AxisError,
        r"softmax: axis 5",
    ),
    Case(
        "log-softmax-two-axes",
        lambda w: T(np.ones((2, 3))).log_softmax(axis=(0, 1)),
        TypeError,
        r"log_softmax: axis must be a single int",
    ),
    # -- losses ---------------------------------------------------------------------------------
    Case(
        "cross-entropy-label-too-large",
        lambda w: al.cross_entropy(w.model(w.x), np.array([0, 1, 2, 0, 1])),
        ValueError,
        r"cross_entropy: labels must lie in \[0, 2\); got values from 0 to 2",
    ),
    Case(
        "cross-entropy-negative-label",
        lambda w: al.cross_entropy(w.model(w.x), np.array([0, -1, 1, 0, 1])),
        ValueError,
        r"labels must lie in \[0, 2\); got values from -1",
    ),
    Case(
        "cross-entropy-float-labels",
        lambda w: al.cross_entropy(w.model(w.x), np.array([0.0, 1.0, 1.0, 0.0, 1.0])),
        TypeError,
        r"labels must be integer class indices, got dtype float64",
    ),
    Case(
        "cross-entropy-labels-shape",
        lambda w: al.cross_entropy(w.model(w.x), np.array([0, 1])),
        ValueError,
        r"labels shape \(2,\) does not fit logits shape \(5, 2\)",
    ),
    Case(
        "cross-entropy-3d-logits",
        lambda w: al.cross_entropy(T(np.ones((2, 3, 4))), np.zeros((2, 3), int)),
        ValueError,
        r"logits must be \(N, C\) or \(C,\)",
    ),
    Case(
        "cross-entropy-reduction",
        lambda w: al.cross_entropy(w.model(w.x), w.labels, reduction="avg"),
        ValueError,
        r"reduction must be one of .*'avg'",
    ),
    Case(
        "bce-probability-above-one",
        lambda w: al.binary_cross_entropy(T(np.array([0.5, 1.5]), requires_grad=True), [0, 1.0]),
        ValueError,
        r"probabilities must lie in \[0, 1\]; got values from 0.5 to 1.5",
    ),
    Case(
        "bce-probability-negative",
        lambda w: al.binary_cross_entropy(w.model(w.x) - 1.0, np.ones((5, 2))),
        ValueError,
        r"probabilities must lie in \[0, 1\]",
    ),
    Case(
        "bce-probability-nan",
        lambda w: al.binary_cross_entropy(T(np.array([NAN, 0.5])), np.array([0.0, 1.0])),
        ValueError,
        r"probabilities must lie in \[0, 1\].*NaN",
    ),
    Case(
        "bce-target-outside",
        lambda w: al.binary_cross_entropy(T(np.array([0.2, 0.5])), np.array([2.0, 1.0])),
        ValueError,
        r"target must lie in \[0, 1\]",
    ),
    Case(
        "bce-shapes",
        lambda w: al.binary_cross_entropy(T(np.array([0.2, 0.5])), np.array([1.0])),
        ValueError,
        r"binary_cross_entropy: prediction shape \(2,\) and target shape \(1,\)",
    ),
    Case(
        "mse-shapes",
        lambda w: al.mse_loss(w.model(w.x), np.ones((5, 3))),
        ValueError,
        r"mse_loss: prediction shape \(5, 2\) and target shape \(5, 3\)",
    ),
    Case(
        "squared-error-no-broadcast",
        lambda w: al.squared_error(T(np.ones(3)), np.ones((3, 1))),
        ValueError,
        r"squared_error: prediction shape \(3,\) and target shape \(3, 1\)",
    ),
    Case(
        "squared-error-reduction",
        lambda w: al.squared_error(T(np.ones(3)), np.ones(3), reduction="max"),
        ValueError,
        r"reduction must be one of",
    ),
    Case(
        "mse-mean-of-an-empty-batch",
        lambda w: al.mse_loss(w.model(w.x[:0]), np.zeros((0, 2))),
        ValueError,
        r"mse_loss: reduction='mean' over zero terms",
    ),
    Case(
        "cross-entropy-mean-of-an-empty-batch",
        lambda w: al.cross_entropy(w.model(w.x[:0]), w.labels[:0]),
        ValueError,
        r"cross_entropy: reduction='mean' over zero terms",
    ),
    Case(
        "binary-cross-entropy-mean-of-an-empty-batch",
        lambda w: al.binary_cross_entropy(w.model(w.x[:0]).sigmoid(), np.zeros((0, 2))),
        ValueError,
        r"binary_cross_entropy: reduction='mean' over zero terms",
    ),
    Case(
        "squared-error-text-target",
        lambda w: al.squared_error(T(np.ones(3)), "abc"),
        TypeError,
        r"numeric",
    ),
    # -- backward -------------------------------------------------------------------------------
    Case(
        "backward-non-scalar",
        lambda w: w.model(w.x).backward(),
        RuntimeError,
        r"gradient is needed for a tensor of shape \(5, 2\)",
    ),
    Case(
        "backward-gradient-shape",
        lambda w: w.model(w.x).backward(np.ones((5, 3))),
        ValueError,
        r"gradient shape \(5, 3\) does not match tensor shape \(5, 2\)",
    ),
    Case(
        "backward-gradient-text",
        lambda w: w.model(w.x).backward(np.full((5, 2), "a")),
        TypeError,
        r"gradient must be numeric",
    ),
    Case(
        "backward-without-grad",
        lambda w: T(np.ones(3)).sum().backward(),
        RuntimeError,
        r"does not require grad",
    ),
    Case("backward-twice", _twice, RuntimeError, r"retain_graph"),
    Case(
        "hook-returns-another-shape",
        lambda w: _backward_with_hook(w, lambda g: np.ones((2, 3)), on_leaf=False),
        ValueError,
        r"register_hook: the hook <lambda> returned a gradient of shape \(2, 3\) for a "
        r"gradient of shape \(5, 2\)",
    ),
    Case(
        "leaf-hook-returns-another-shape",
        lambda w: _backward_with_hook(w, lambda g: np.ones(7), on_leaf=True),
        ValueError,
        r"returned a gradient of shape \(7,\) for a gradient of shape \(3,\)",
    ),
    Case(
        "hook-returns-text",
        lambda w: _backward_with_hook(w, lambda g: np.array(["a", "b", "c"]), on_leaf=True),
        TypeError,
        r"register_hook: the hook <lambda> returned a <U1 gradient",
    ),
    Case(
        "hook-on-tensor-without-grad",
        lambda w: T(np.ones(3)).register_hook(print),
        RuntimeError,
        r"register_hook: this tensor does not require grad",
    ),
    Case("write-into-saved-array", _write_between_forward_and_backward, ValueError, r"read-only"),
    Case(
        "subtract-from-saved-array",
        _subtract_between_forward_and_backward,
        ValueError,
        r"read-only",
    ),
    Case(
        "rebind-data-before-create-graph",
        _rebind_before_second_order,
        RuntimeError,
        r"\.data replaced",
    ),
    Case(
        "anomaly-log-of-zero",
        lambda w: _anomaly(w),
        al.AnomalyError,
        r"Log\(\) produced -?inf.*test_bad_input_corpus\.py",
    ),
    # -- layers ---------------------------------------------------------------------------------
    Case("linear-zero-inputs", lambda w: layers.Linear(0, 3), ValueError, r"in_features.*got 0"),
    Case(
        "linear-float-outputs",
        lambda w: layers.Linear(2, 2.5),
        ValueError,
        r"out_features must be a positive integer, got 2.5",
    ),
    Case("linear-unknown-init", lambda w: layers.Linear(2, 3, init="nope"), ValueError, r"'nope'"),
    Case(
        "linear-init-wrong-shape",
        lambda w: layers.Linear(2, 3, init=lambda shape, rng: np.ones(3)),
        ValueError,
        r"init returned shape \(3,\), expected \(3, 2\)",
    ),
    Case("dropout-p-one", lambda w: layers.Dropout(1.0), ValueError, r"p .*\[0, 1\), got 1.0"),
    Case("dropout-p-negative", lambda w: layers.Dropout(-0.1), ValueError, r"\[0, 1\), got -0.1"),
    Case("dropout-p-nan", lambda w: layers.Dropout(NAN), ValueError, r"\[0, 1\), got nan"),
    Case("dropout-p-text", lambda w: layers.Dropout("0.5"), ValueError, r"got '0.5'"),
    Case(
        "sequential-non-module",
        lambda w: layers.Sequential(layers.Linear(2, 3), lambda x: x),
        TypeError,
        r"Sequential: item 1 is a function, not a Module",
    ),
    Case(
        "replace-parameter-by-array",
        lambda w: setattr(w.model[0], "weight", np.zeros((4, 3))),
        TypeError,
        r"Linear.weight is a Parameter",
    ),
    Case(
        "parameter-of-text",
        lambda w: layers.Parameter("abc"),
        TypeError,
        r"Parameter: data must be real numbers",
    ),
    Case("load-state-partial", _partial, KeyError, r"missing \['2\.bias'\]"),
    Case(
        "load-state-unexpected",
        lambda w: w.model.load_state_dict(_state(w, extra=np.zeros(2))),
        KeyError,
        r"unexpected \['extra'\]",
    ),
    Case(
        "load-state-last-shape-wrong",  # every earlier entry is fine: none may be written
        lambda w: w.model.load_state_dict(_state(w, **{"2.bias": np.zeros(3)})),
        ValueError,
        r"'2\.bias' has shape \(3,\), the parameter \(2,\)",
    ),
    Case(
        "load-state-text",
        lambda w: w.model.load_state_dict(_state(w, **{"2.bias": np.array(["a", "b"])})),
        TypeError,
        r"'2\.bias' holds non-numeric dtype",
    ),
    Case(
        "load-state-nan",
        lambda w: w.model.load_state_dict(_state(w, **{"2.weight": np.full((2, 4), NAN)})),
        ValueError,
        r"'2\.weight' holds NaN or inf",
    ),
    Case(
        "load-state-not-a-mapping",
        lambda w: w.model.load_state_dict([np.zeros(2)]),
        TypeError,
        r"expected a mapping, got list",
    ),
    Case(
        "load-state-other-architecture",
        _failing_load("other.npz"),
        ValueError,
        r"'0\.weight' has shape",
    ),
    # -- optimizers -----------------------------------------------------------------------------
    Case("sgd-lr-nan", lambda w: optim.SGD(_model_params(w), lr=NAN), ValueError, r"lr: nan"),
    Case("sgd-lr-negative", lambda w: optim.SGD(_model_params(w), lr=-0.1), ValueError, r"-0.1"),
    Case("adam-lr-inf", lambda w: optim.Adam(_model_params(w), lr=INF), ValueError, r"lr: inf"),
    Case("adam-lr-nan", lambda w: optim.Adam(_model_params(w), lr=NAN), ValueError, r"lr: nan"),
    Case(
        "sgd-lr-text",
        lambda w: optim.SGD(_model_params(w), lr="0.1"),
        TypeError,
        r"lr must be a real number",
    ),
    Case("assign-lr-nan", lambda w: setattr(w.sgd, "lr", NAN), ValueError, r"invalid lr: nan"),
    Case("assign-lr-negative", lambda w: setattr(w.adam, "lr", -1), ValueError, r"lr: -1"),
    Case(
        "sgd-momentum-negative",
        lambda w: optim.SGD(_model_params(w), lr=0.1, momentum=-0.5),
        ValueError,
        r"invalid momentum: -0.5",
    ),
    Case(
        "sgd-nesterov-without-momentum",
        lambda w: optim.SGD(_model_params(w), lr=0.1, nesterov=True),
        ValueError,
        r"nesterov=True needs momentum > 0",
    ),
    Case(
        "sgd-weight-decay-nan",
        lambda w: optim.SGD(_model_params(w), lr=0.1, weight_decay=NAN),
        ValueError,
        r"invalid weight_decay: nan",
    ),
    Case("sgd-no-params", lambda w: optim.SGD([], lr=0.1), ValueError, r"empty parameter list"),
    Case(
        "sgd-one-tensor",
        lambda w: optim.SGD(w.model[0].weight, lr=0.1),
        TypeError,
        r"not one Tensor",
    ),
    Case(
        "sgd-repeated-param",
        lambda w: optim.SGD([w.model[0].weight] * 2, lr=0.1),
        ValueError,
        r"parameter 1 appears more than once",
    ),
    Case(
        "sgd-param-without-grad",
        lambda w: optim.SGD([T(np.ones(2))], lr=0.1),
        ValueError,
        r"requires_grad=True",
    ),
    Case(
        "sgd-array-param",
        lambda w: optim.SGD([np.ones(2)], lr=0.1),
        TypeError,
        r"parameter 0 is a ndarray, not a Tensor",
    ),
    Case(
        "adam-beta-one",
        lambda w: optim.Adam(_model_params(w), betas=(0.9, 1.0)),
        ValueError,
        r"betas\[1\]: 1.0",
    ),
    Case(
        "adam-three-betas",
        lambda w: optim.Adam(_model_params(w), betas=(0.9, 0.9, 0.9)),
        ValueError,
        r"betas must be a pair",
    ),
    Case(
        "adam-eps-negative",
        lambda w: optim.Adam(_model_params(w), eps=-1e-8),
        ValueError,
        r"invalid eps",
    ),
    # -- save and load ------------------------------------------------------------------------
    Case("load-truncated", _failing_load("truncated.npz"), ValueError, r"truncated"),
    Case("load-truncated-tail", _failing_load("tail.npz"), ValueError, r"truncated"),
    Case("load-pickle", _failing_load("state.pkl"), ValueError, r"not an \.npz archive.*pickle"),
    Case(
        "load-object-array",
        _failing_load("objects.npz"),
        ValueError,
        r"object array under 'weight'; refused.*pickle",
    ),
    Case("load-npy", _failing_load("plain.npy"), ValueError, r"plain\.npy is not an \.npz archive"),
    Case("load-foreign-zip", _failing_load("foreign.npz"), ValueError, r"\['readme\.txt'\]"),
    Case(
        "load-missing",
        lambda w: al.load(w.folder / "missing.npz"),
        FileNotFoundError,
        r"no such file.*missing\.npz",
    ),
    Case("load-folder", lambda w: al.load(w.folder), IsADirectoryError, r"is a folder"),
    Case(
        "save-not-a-mapping",
        lambda w: al.save([np.ones(2)], w.good),
        TypeError,
        r"expected a mapping",
    ),
    Case(
        "save-object-array",
        lambda w: al.save({"a": np.ones(2), "b": np.array([object()])}, w.good),
        TypeError,
        r"'b' holds dtype object",
    ),
    Case(
        "save-bad-key",
        lambda w: al.save({"": np.ones(2)}, w.good),
        TypeError,
        r"keys must be non-empty strings",
    ),
    Case(
        "save-missing-folder",
        lambda w: al.save(w.model.state_dict(), w.folder / "nowhere" / "m.npz"),
        FileNotFoundError,
        r"folder .*nowhere does not exist",
    ),
    # -- data -----------------------------------------------------------------------------------
    Case(
        "digits-test-size-zero",
        lambda w: data.load_digits(test_size=0),
        ValueError,
        r"test_size must lie strictly between 0 and 1797, got 0",
    ),
    Case(
        "digits-test-size-too-big",
        lambda w: data.load_digits(test_size=5000),
        ValueError,
        r"got 5000",
    ),
    Case(
        "one-hot-float-labels",
        lambda w: data.one_hot(np.array([0.5])),
        TypeError,
        r"1-D integer array",
    ),
    Case(
        "one-hot-label-out-of-range",
        lambda w: data.one_hot(np.array([3, 10])),
        ValueError,
        r"labels must lie in \[0, 10\)",
    ),
    Case(
        "digits-file-columns",
        lambda w: data.read_digits(w.folder / "columns.csv.gz"),
        ValueError,
        r"expected 65 columns .*got 10",
    ),
    Case(
        "digits-file-pixels",
        lambda w: data.read_digits(w.folder / "pixels.csv.gz"),
        ValueError,
        r"pixel counts must lie in 0\.\.16",
    ),
    # -- the tutorial's network -----------------------------------------------------------------
    Case(
        "network-zero-inputs",
        lambda w: tutorial.NeuralNetwork(0, 2, 4, 0.1),
        ValueError,
        r"no_of_in_nodes must be a positive integer",
    ),
    Case(
        "network-lr-nan",
        lambda w: tutorial.NeuralNetwork(3, 2, 4, NAN),
        ValueError,
        r"invalid lr: nan",
    ),
    Case(
        "network-bias-inf",
        lambda w: tutorial.NeuralNetwork(3, 2, 4, 0.1, bias=INF),
        ValueError,
        r"bias must be None or a finite number",
    ),
    Case(
        "network-update",
        lambda w: tutorial.NeuralNetwork(3, 2, 4, 0.1, update="magic"),
        ValueError,
        r"update must be one of .*'magic'",
    ),
    Case(
        "network-set-lr-negative",
        lambda w: setattr(w.net, "learning_rate", -1.0),
        ValueError,
        r"invalid lr: -1",
    ),
    Case(
        "network-train-input-size",
        lambda w: w.net.train(np.ones(5), np.ones(2)),
        ValueError,
        r"Linear: input of shape \(5,\) does not end in in_features=3 \(weight shape \(4, 3\)\)",
    ),
    Case(
        "network-train-target-size",
        lambda w: w.net.train(np.ones(3), np.ones(4)),
        ValueError,
        r"prediction shape \(2,\) and target shape \(4,\)",
    ),
    Case(
        "network-evaluate-label-count",
        lambda w: w.net.evaluate(np.ones((4, 3)), np.zeros(3, int)),
        ValueError,
        r"4 samples but 3 labels",
    ),
    Case(
        "network-confusion-label-range",
        lambda w: w.net.confusion_matrix(np.ones((2, 3)), np.array([0, 7])),
        ValueError,
        r"labels must lie in \[0, 2\)",
    ),
    Case(
        "network-load-partial",
        lambda w: w.net.load_state_dict({"wih": np.zeros((4, 3))}),
        KeyError,
        r"expected keys wih, who; got \['wih'\]",
    ),
    Case(
        "network-load-text",  # wih is fine and comes first: it must not be written
        lambda w: w.net.load_state_dict({"wih": np.zeros((4, 3)), "who": np.full((2, 4), "a")}),
        TypeError,
        r"who holds non-numeric dtype",
    ),
    Case(
        "network-set-wih-shape",
        lambda w: setattr(w.net, "wih", np.zeros((3, 4))),
        ValueError,
        r"wih must have shape \(4, 3\), got \(3, 4\)",
    ),
    # -- custom Functions, functional transforms, viz -------------------------------------------
    Case(
        "function-too-many-gradients",
        lambda w: _TooManyGrads.apply(_grad_x()).sum().backward(),
        ValueError,
        r"_TooManyGrads\.backward returned 2 gradient\(s\) for 1 input",
    ),
    Case(
        "function-gradient-shape",
        lambda w: _WrongShapeGrad.apply(_grad_x()).sum().backward(),
        ValueError,
        r"gradient for input 0 has shape \(7,\)",
    ),
    Case(
        "function-forward-text",
        lambda w: _TextForward.apply(_grad_x()),
        TypeError,
        r"_TextForward\.forward must return a numeric",
    ),
    Case(
        "grad-argnums",
        lambda w: al.grad(lambda a: (a * a).sum(), argnums=3)(np.ones(2)),
        IndexError,
        r"argnums 3 is out of range",
    ),
    Case(
        "grad-non-scalar",
        lambda w: al.grad(lambda a: a * a)(np.ones(2)),
        ValueError,
        r"single element, got shape \(2,\)",
    ),
    Case(
        "hvp-shapes",
        lambda w: al.hvp(lambda a: (a * a).sum(), np.ones(2), np.ones(3)),
        ValueError,
        r"v has shape \(3,\), x has shape \(2,\)",
    ),
    Case("to-dot-array", lambda w: viz.to_dot(np.ones(2)), TypeError, r"expected a Tensor"),
    Case(
        "explain-non-scalar",
        lambda w: viz.explain_backward(w.model(w.x)),
        RuntimeError,
        r"gradient is needed",
    ),
    # -- the testing toolkit --------------------------------------------------------------------
    Case(
        "gradcheck-eps-zero",
        lambda w: gradcheck(lambda a: a * 2, [_grad_x()], eps=0),
        ValueError,
        r"eps must be positive",
    ),
    Case(
        "gradcheck-atol-nan",
        lambda w: gradcheck(lambda a: a * 2, [_grad_x()], atol=NAN),
        ValueError,
        r"atol must be a finite non-negative number",
    ),
    Case(
        "gradcheck-nothing-to-check",
        lambda w: gradcheck(lambda a: a * 2, [T(np.ones(2))]),
        ValueError,
        r"no input requires grad",
    ),
    Case(
        "gradcheck-not-callable",
        lambda w: gradcheck(42, [_grad_x()]),
        TypeError,
        r"fn must be callable",
    ),
    Case(
        "gradcheck-returns-array",
        lambda w: gradcheck(lambda a: np.ones(2), [_grad_x()]),
        TypeError,
        r"must return a Tensor",
    ),
    Case(
        "gradcheck-non-finite",
        lambda w: gradcheck(lambda a: a * INF, [_grad_x()]),
        ValueError,
        r"non-finite values",
    ),
    Case(
        "gradgradcheck-eps-negative",
        lambda w: gradgradcheck(lambda a: a**3, [_grad_x()], eps=-1e-6),
        ValueError,
        r"gradgradcheck: eps must be",
    ),
    Case(
        "eps-sweep-negative",
        lambda w: eps_sweep(lambda a: a * 2, [_grad_x()], eps=[-1.0]),
        ValueError,
        r"eps must be a finite non-negative number",
    ),
    Case(
        "strategy-graphs-no-ops",
        lambda w: strat.graphs(max_ops=0),
        ValueError,
        r"max_ops must be an int >= 1, got 0",
    ),
    Case(
        "strategy-tensors-range",
        lambda w: strat.tensors(min_value=3, max_value=1),
        ValueError,
        r"min_value 3 is greater than max_value 1",
    ),
    # -- in-place rule, serialization, state dicts, dtypes and edges (trust) -------------------
    Case(
        "save-key-nul",
        lambda w: al.save({"w\x00": np.ones(2)}, w.folder / "new.npz"),
        ValueError,
        r"key 'w\\x00' contains a NUL",
    ),
    Case(
        "save-key-surrogate",
        lambda w: al.save({"\ud800": np.ones(2)}, w.folder / "new.npz"),
        ValueError,
        r"not valid Unicode",
    ),
    Case(
        "load-forged-shape",
        lambda w: al.load(_stray("forged.npz", {"w.npy": _npy_member((2**40,), b"\0" * 8)})),
        ValueError,
        r"forged\.npz: member 'w' declares shape \(1099511627776,\) of float64",
    ),
    Case(
        "load-duplicate-member",
        lambda w: al.load(_stray("twice.npz", {"w.npy": _npy_member((1,), b"\0" * 8)}, twice=True)),
        ValueError,
        r"twice\.npz holds the member 'w\.npy' twice",
    ),
    Case(
        "load-over-max-bytes",
        lambda w: al.load(w.good, max_bytes=8),
        ValueError,
        r"good\.npz would expand to [\d,]+ bytes of arrays, more than max_bytes=8",
    ),
    Case("load-max-bytes-bool", lambda w: al.load(w.good, max_bytes=True), TypeError, r"max_bytes"),
    Case(
        "load-state-overflows-float32",
        lambda w: _float32_model().load_state_dict({"weight": np.full((1, 2), 1e300)}),
        ValueError,
        r"'weight' holds values too large for float32",
    ),
    Case("dropout-p-bool", lambda w: layers.Dropout(True), ValueError, r"real number.*got True"),
    Case(
        "dropout-p-numpy-bool",
        lambda w: layers.Dropout(np.bool_(False)),
        ValueError,
        r"real number in \[0, 1\), got np\.False_",
    ),
    Case(
        "grad-set-to-array",
        lambda w: setattr(w.model[0].weight, "grad", np.ones((4, 3))),
        TypeError,
        r"\.grad must be a Tensor or None, got ndarray",
    ),
    Case(
        "grad-set-wrong-shape",
        lambda w: setattr(w.model[0].weight, "grad", T(np.ones(3))),
        ValueError,
        r"\.grad must have the tensor's shape \(4, 3\), got \(3,\)",
    ),
    Case(
        "view-written-before-backward",
        lambda w: _write_through_an_earlier_view(w),
        RuntimeError,
        r"input 1 of Mul\(\) \(an array of shape \(5, 3\)\) changed after the op was recorded",
    ),
    # -- PyTorch and NumPy habits: in-place updates, NumPy protocols, optimizer state ----------
    Case(
        "numpy-sin-on-a-parameter",
        lambda w: np.sin(w.model[0].weight),
        TypeError,
        r"numpy\.sin has no differentiable counterpart",
    ),
    Case(
        "numpy-cumsum-on-a-graph",
        lambda w: np.cumsum(w.model(w.x)),
        TypeError,
        r"numpy\.cumsum has no differentiable counterpart",
    ),
    Case(
        "numpy-out-is-a-tensor",
        lambda w: np.add(1.0, w.x, out=w.model[0].weight),
        TypeError,
        r"out= must be a plain ndarray",
    ),
    Case(
        "inplace-on-a-leaf-with-grad-on",
        lambda w: w.model[0].weight.__isub__(0.1),
        RuntimeError,
        r"leaf Tensor that requires grad .*cannot be changed in place",
    ),
    Case(
        "inplace-that-does-not-broadcast",
        lambda w: _inplace_no_grad(w, np.ones((5, 4, 3))),
        ValueError,
        r"-=: a value of shape \(5, 4, 3\) does not broadcast.*\(2, 4\)",
    ),
    Case(
        "inplace-while-a-graph-reads-it",
        lambda w: _inplace_under_a_live_graph(w),
        ValueError,
        r"read-only",
    ),
    Case(
        "optimizer-state-of-another-optimizer",
        lambda w: w.sgd.load_state_dict(w.adam.state_dict()),
        KeyError,
        r"keys differ",
    ),
    Case(
        "optimizer-state-wrong-shape",
        lambda w: w.adam.load_state_dict(_adam_state(w, "state.0.exp_avg", np.zeros(3))),
        ValueError,
        r"'state\.0\.exp_avg' has shape \(3,\)",
    ),
    Case(
        "optimizer-state-bad-betas",
        lambda w: w.adam.load_state_dict(_adam_state(w, "betas", np.array([0.9, 1.0]))),
        ValueError,
        r"betas\[1\]",
    ),
    Case(
        "optimizer-state-bad-step-count",
        lambda w: w.adam.load_state_dict(_adam_state(w, "state.2.step", np.array(-3))),
        ValueError,
        r"'state\.2\.step' must be a count",
    ),
    Case(
        "module-attribute-plain-dict-of-modules",
        lambda w: setattr(w.model, "extra", {"head": layers.Linear(2, 2)}),
        TypeError,
        r"Sequential\.extra is a plain dict .*ModuleDict",
    ),
    Case(
        "clip-grad-norm-negative",
        lambda w: layers.clip_grad_norm(w.model.parameters(), -1.0),
        ValueError,
        r"max_norm must be finite and >= 0",
    ),
    Case(
        "batches-misaligned",
        lambda w: data.batches(np.ones((3, 2)), np.ones(4), batch_size=2),
        ValueError,
        r"first dimensions differ; shapes \[\(3, 2\), \(4,\)\]",
    ),
    Case(
        "steplr-step-size-zero",
        lambda w: optim.StepLR(w.sgd, step_size=0),
        ValueError,
        r"step_size must be a positive integer",
    ),
    Case(
        "jvp-tangent-shape",
        lambda w: al.jvp(lambda x: x * 2, np.ones(2), np.ones(3)),
        ValueError,
        r"jvp: v has shape \(3,\), x has shape \(2,\)",
    ),
    Case(
        "jacobian-returns-a-number",
        lambda w: al.jacobian(lambda x: 1.0)(np.ones(2)),
        TypeError,
        r"jacobian: the function must return a Tensor, got float",
    ),
    # -- convolution, pooling, embedding and normalisation layers, nll_loss --------------------
    Case(
        "conv2d-layer-wrong-channels",
        lambda w: layers.Conv2d(3, 4, 3, rng=0)(np.zeros((2, 1, 5, 5))),
        ValueError,
        r"Conv2d\(3, 4.*input of shape \(2, 1, 5, 5\) has 1 channels.*weight shape \(4, 3, 3, 3\)",
    ),
    Case(
        "conv2d-kernel-larger-than-padded-input",
        lambda w: layers.Conv2d(1, 2, 5, padding=1, rng=0)(np.zeros((1, 1, 2, 2))),
        ValueError,
        r"Conv2d\(1, 2.*kernel \(5, 5\) is larger than the padded input \(4, 4\).*"
        r"input shape \(1, 1, 2, 2\).*weight shape \(2, 1, 5, 5\)",
    ),
    Case(
        "nll-loss-label-out-of-range",
        lambda w: al.nll_loss(w.model(w.x).log_softmax(), np.array([0, 1, 2, 0, 1])),
        ValueError,
        r"nll_loss: labels must lie in \[0, 2\).*labels shape \(5,\), log_probabilities "
        r"shape \(5, 2\)",
    ),
    Case(
        "embedding-index-out-of-range",
        lambda w: layers.Embedding(10, 3, rng=0)(np.array([4, 12])),
        IndexError,
        r"Embedding\(10, 3\): index 12 is out of range \[0, 10\) \(indices shape \(2,\), "
        r"weight shape \(10, 3\)\)",
    ),
    Case(
        "batchnorm-wrong-channels",
        lambda w: layers.BatchNorm2d(3)(np.zeros((2, 4, 2, 2))),
        ValueError,
        r"BatchNorm2d\(3.*input of shape \(2, 4, 2, 2\).*num_features=3.*weight shape \(3,\)",
    ),
    # negative and repeated axes
    Case(
        "transpose-negative-repeat",
        lambda w: T(np.ones((2, 3))).transpose(-1, 1),
        ValueError,
        r"transpose: axes \(-1, 1\) are not a permutation",
    ),
    Case(
        "transpose-axis-text",
        lambda w: T(np.ones((2, 3))).transpose(0.0, 1),
        TypeError,
        r"transpose: axis must be an int",
    ),
    Case(
        "sum-negative-repeat",
        lambda w: T(np.ones((2, 3))).sum(axis=(1, -1)),
        ValueError,
        r"sum: repeated axis",
    ),
    Case(
        "stack-axis-out-of-range",
        lambda w: al.stack([T(np.ones(2)), T(np.ones(2))], axis=-3),
        AxisError,
        r"stack: axis -3 is out of bounds",
    ),
    Case(
        "concatenate-axis-out-of-range",
        lambda w: al.concatenate([T(np.ones(2)), T(np.ones(2))], axis=1),
        AxisError,
        r"concatenate: axis 1 is out of bounds",
    ),
    # autograd_lite.sklearn: refused at fit, and a Module given to a wrapper is never trained
    Case(
        "sklearn-mlp-solver",
        lambda w: _sk().MLPClassifier(solver="lbfgs").fit(w.x.data, w.labels),
        ValueError,
        r"solver must be one of \('sgd', 'adam'\)",
    ),
    Case(
        "sklearn-mlp-hidden-zero",
        lambda w: _sk().MLPRegressor(hidden_layer_sizes=(4, 0)).fit(w.x.data, w.labels),
        ValueError,
        r"hidden_layer_sizes must lie in \[1, inf\], got 0",
    ),
    Case(
        "sklearn-net-wrong-width",
        lambda w: _sk().NeuralNetClassifier(w.model).fit(np.zeros((5, 7)), w.labels),
        ValueError,
        r"Linear: input of shape \(5, 7\) does not end in in_features=3",
    ),
    Case(
        "sklearn-net-wrong-outputs",
        lambda w: _sk().NeuralNetClassifier(w.model).fit(w.x.data, np.arange(5)),
        ValueError,
        r"Tensor of shape \(5, 5\).*got \(5, 2\)",
    ),
    Case(
        "sklearn-net-unknown-param",
        lambda w: _sk().NeuralNetClassifier(w.model, hiden=3).fit(w.x.data, w.labels),
        TypeError,
        r"unknown parameter 'hiden'",
    ),
    Case(
        "sklearn-net-lr-negative",
        lambda w: _sk().NeuralNetRegressor(w.model, lr=-1.0).fit(w.x.data, w.x.data[:, :2]),
        ValueError,
        r"lr must lie in \[0, inf\], got -1.0",
    ),
]


def _stray(name: str, members: dict[str, bytes], twice: bool = False) -> Path:
    """A hand-made zip archive in a folder of its own (outside the world's folder)."""
    path = Path(tempfile.mkdtemp()) / name
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name
        for member, content in members.items():
            for _ in range(2 if twice else 1):
                zf.writestr(member, content)
    return path


def _npy_member(shape: tuple[int, ...], payload: bytes) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return out.getvalue() + payload


def _float32_model() -> layers.Linear:
    net = layers.Linear(2, 1, bias=False, rng=0)
    net.weight.data = net.weight.data.astype(np.float32)
    return net


def _write_through_an_earlier_view(w: World) -> None:
    data = np.linspace(0.0, 1.0, 15).reshape(5, 3)
    view = data[:]
    loss = (w.model[0].weight.sum() * T(data)).sum()  # the weight's gradient reads data
    view[0, 0] = 9.0
    loss.backward()


def _inplace_no_grad(w: World, value: Any) -> None:
    with al.no_grad():
        w.model[2].weight.__isub__(value)


def _inplace_under_a_live_graph(w: World) -> None:
    out = w.model(w.x).sum()  # the graph reads the second layer's weight (for the hidden grad)
    with al.no_grad():
        w.model[2].weight.__isub__(0.1)
    out.backward()


def _adam_state(w: World, key: str, value: np.ndarray) -> dict[str, np.ndarray]:
    state = w.adam.state_dict()
    state[key] = value
    return state


def _sk() -> Any:
    import autograd_lite.sklearn

    return autograd_lite.sklearn


def _anomaly(w: World) -> None:
    with al.detect_anomaly():
        h = w.model[0](w.x).sigmoid()
        (h - h).log()  # log of zeros: -inf


@dataclass(frozen=True)
class CliCase:
    id: str
    argv: list[str]
    match: str


CLI_CASES = [
    CliCase("cli-lr-nan", ["train", "--lr", "nan"], r"--lr must be a positive, finite number"),
    CliCase("cli-lr-negative", ["train", "--lr", "-0.5"], r"--lr must be a positive"),
    CliCase("cli-lr-text", ["train", "--lr", "fast"], r"argument --lr: invalid float value"),
    CliCase("cli-epochs-zero", ["train", "--epochs", "0"], r"--epochs must be a positive"),
    CliCase("cli-hidden-text", ["train", "--hidden", "abc"], r"invalid int value: 'abc'"),
    CliCase("cli-batch-size-zero", ["train", "--batch-size", "0"], r"--batch-size must be"),
    CliCase("cli-bias-inf", ["train", "--bias", "inf"], r"--bias must be a finite number"),
    CliCase("cli-update-choice", ["train", "--update", "magic"], r"invalid choice: 'magic'"),
    CliCase("cli-unknown-command", ["frobnicate"], r"invalid choice: 'frobnicate'"),
    CliCase("cli-unknown-option", ["train", "--turbo"], r"unrecognized arguments: --turbo"),
    CliCase(
        "cli-save-missing-folder",
        ["train", "--save", "/no/such/folder/w.npz"],
        r"--save: folder /no/such/folder does not exist",
    ),
    CliCase("cli-gradcheck-unknown-option", ["gradcheck", "--bogus"], r"unrecognized.*--bogus"),
    # -- seeds and sizes (trust) ---------------------------------------------------------------
    CliCase("cli-seed-negative", ["train", "--seed", "-1"], r"--seed must be a non-negative"),
    CliCase(
        "cli-split-seed-negative", ["train", "--split-seed", "-1"], r"--split-seed must be a non"
    ),
    CliCase(
        "cli-hidden-too-large",
        ["train", "--hidden", "100000000000"],
        r"--hidden 100000000000 would need about [\d,.]+ GB .*use fewer hidden nodes",
    ),
]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_the_corpus_is_large_and_its_names_are_unique():
    ids = [c.id for c in CASES] + [c.id for c in CLI_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 25
    kinds = {c.exc for c in CASES}
    assert {TypeError, ValueError, KeyError, RuntimeError, FileNotFoundError} <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly_and_changes_nothing(case: Case, world: World):
    before = world.snapshot()
    with pytest.raises(case.exc) as info:
        case.call(world)
    assert type(info.value) is case.exc, f"{type(info.value).__name__}, not {case.exc.__name__}"
    message = str(info.value)
    assert re.search(case.match, message), f"message does not name the problem: {message!r}"
    _assert_same(before, world.snapshot(), case.id)


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_command_line_exits_2_with_a_message(case: CliCase, world: World, capsys, monkeypatch):
    monkeypatch.chdir(world.folder)
    before = world.snapshot()
    try:
        status = cli_main(case.argv)
    except SystemExit as exc:  # argparse inside a delegated command exits instead of returning
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2
    assert re.search(case.match, err), f"stderr does not name the problem: {err!r}"
    assert "accuracy" not in out  # nothing was trained
    _assert_same(before, world.snapshot(), case.id)
