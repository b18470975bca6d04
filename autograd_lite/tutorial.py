r"""The python-course.eu tutorial's ``NeuralNetwork``, rebuilt from ``layers`` and ``optim``.

The network is n_in → n_hidden → n_out with sigmoids on both layers, weights drawn as in the
tutorial (N(0, 1) truncated to ±1/√n_in), and the error E = ½ Σ (t − o)². For one sample
(row vectors here, where the tutorial writes columns):

.. math::
    h = σ(W_{ih} x), \quad o = σ(W_{ho} h), \qquad
    δ_o = (o − t) ⊙ o ⊙ (1 − o), \quad δ_h = (W_{ho}^T δ_o) ⊙ h ⊙ (1 − h),

    ∂E/∂W_{ho} = δ_o h^T, \quad ∂E/∂W_{ih} = δ_h x^T.

:meth:`NeuralNetwork.train` takes one SGD step along exactly this gradient, which the engine
computes by ``backward()``; a batch (2-D array of rows) takes one step on the *sum* of the
per-sample errors, so its step is the sum of the per-sample gradients at the current weights.

The tutorial's own update (its seed chapter) is kept as :func:`tutorial_update` for comparison.
It is **not** the gradient: it updates W_ho first and then forms the hidden error from the
*updated* W_ho and the *raw* output error t − o, skipping the output sigmoid's derivative
o (1 − o). It still trains, but it descends a different direction.

Bias nodes (the tutorial's later chapter): with ``bias=b`` a constant input node of value b is
appended to the input and to the hidden layer's output, so ``wih`` is (hidden × in+1) and ``who``
is (out × hidden+1), exactly as in the tutorial; the last column of each matrix holds the bias
node's weights. Internally: ``Linear(in + 1, hidden, bias=False)`` fed with the extended vector.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._grad_mode import no_grad
from .layers import Linear, Module, Sequential, Sigmoid, tutorial_normal
from .ops import concatenate, squared_error
from .optim import SGD, writable_data
from .tensor import Tensor

__all__ = ["AppendBiasNode", "NeuralNetwork", "tutorial_update"]

UPDATES = ("gradient", "tutorial")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z), overflow-free


def _outer_sum(d: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Return Σ over rows of the outer products d_r a_rᵀ, that is dᵀ a.

    ``np.dot``, not ``@``: for a single row (an outer product) NumPy's matmul takes a slow loop,
    several times slower than ``np.dot``'s BLAS call or even a broadcast multiply.
    """
    out: np.ndarray = np.dot(d.T, a)
    return out


def _with_bias(a: np.ndarray, bias: float | None) -> np.ndarray:
    if not bias:
        return a
    return np.concatenate((a, np.full(a.shape[:-1] + (1,), float(bias))), axis=-1)


class AppendBiasNode(Module):
    """Appends a constant node of value ``value`` to the last axis: x ↦ (x, value).

    The constant needs no gradient; the gradient of the other entries passes through unchanged.
    """

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = float(value)

    def forward(self, x: Any) -> Any:
        """Return (x, value), the constant appended along the last axis."""
        if isinstance(x, Tensor):
            const = np.full(x.shape[:-1] + (1,), self.value, dtype=x.dtype)
            return concatenate([x, Tensor(const)], axis=-1)
        return _with_bias(np.asarray(x, dtype=np.float64), self.value)

    def extra_repr(self) -> str:
        """Return the constant's value."""
        return f"value={self.value:g}"


def _positive_int(name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"NeuralNetwork: {name} must be a positive integer, got {n!r}")
    return int(n)


def _bias_value(bias: Any) -> float | None:
    if bias is None or bias is False:
        return None
    if isinstance(bias, bool):  # True: the usual bias node of value 1
        return 1.0
    if not isinstance(bias, (int, float, np.integer, np.floating)) or not math.isfinite(bias):
        raise ValueError(f"NeuralNetwork: bias must be None or a finite number, got {bias!r}")
    return float(bias) if bias else None  # the tutorial: a bias of 0 means no bias node


class NeuralNetwork:
    r"""The tutorial's three-layer sigmoid network, trained by SGD on E = ½ Σ (t − o)².

    Parameters
    ----------
    no_of_in_nodes, no_of_out_nodes, no_of_hidden_nodes
        Layer sizes.
    learning_rate
        SGD step size η (finite, ≥ 0); assignable later as ``net.learning_rate``.
    bias
        ``None`` (no bias node, the default) or the value of the bias node appended to the
        input and hidden layers (the tutorial uses 1; ``True`` means 1, 0 means none).
    update
        ``"gradient"`` (default): the true gradient, by ``backward()``. ``"tutorial"``: the
        tutorial's original rule, :func:`tutorial_update`, which is not the gradient.
    rng
        A NumPy ``Generator`` or a seed for the initial weights.
    compiled
        Train through :func:`autograd_lite.compile`: the step is traced on the first call and
        replayed as straight-line NumPy afterwards (same results, faster).

    Attributes
    ----------
    model
        The :class:`~autograd_lite.layers.Sequential` that computes the output.
    optimizer
        The :class:`~autograd_lite.optim.SGD` that applies the steps.
    """

    def __init__(
        self,
        no_of_in_nodes: int,
        no_of_out_nodes: int,
        no_of_hidden_nodes: int,
        learning_rate: float,
        bias: float | None = None,
        *,
        update: str = "gradient",
        rng: np.random.Generator | int | None = None,
        compiled: bool = False,
    ) -> None:
        self.no_of_in_nodes = _positive_int("no_of_in_nodes", no_of_in_nodes)
        self.no_of_out_nodes = _positive_int("no_of_out_nodes", no_of_out_nodes)
        self.no_of_hidden_nodes = _positive_int("no_of_hidden_nodes", no_of_hidden_nodes)
        if update not in UPDATES:
            raise ValueError(f"NeuralNetwork: update must be one of {UPDATES}, got {update!r}")
        self.update = update
        if compiled and update != "gradient":
            raise ValueError(
                "NeuralNetwork: compiled=True trains by the gradient (update='gradient')"
            )
        self.compiled = bool(compiled)
        self._step: Any = None  # the compiled gradient step, made on the first train()
        self.bias = _bias_value(bias)
        extra = 0 if self.bias is None else 1
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._hidden = Linear(
            self.no_of_in_nodes + extra,
            self.no_of_hidden_nodes,
            bias=False,
            init=tutorial_normal,
            rng=gen,
        )
        self._output = Linear(
            self.no_of_hidden_nodes + extra,
            self.no_of_out_nodes,
            bias=False,
            init=tutorial_normal,
            rng=gen,
        )
        if self.bias is None:
            layers: list[Module] = [self._hidden, Sigmoid(), self._output, Sigmoid()]
        else:
            b = self.bias
            layers = [
                AppendBiasNode(b),
                self._hidden,
                Sigmoid(),
                AppendBiasNode(b),
                self._output,
                Sigmoid(),
            ]
        self.model = Sequential(*layers)
        self.optimizer = SGD([self._hidden.weight, self._output.weight], lr=learning_rate)

    # -- the weights, shaped as in the tutorial -----------------------------------------------

    @property
    def wih(self) -> np.ndarray:
        """Input → hidden weights, (hidden × in) or (hidden × in+1) with a bias node; live array."""
        return self._hidden.weight.data

    @wih.setter
    def wih(self, value: Any) -> None:
        self._assign(self._hidden.weight, value, "wih")

    @property
    def who(self) -> np.ndarray:
        """Hidden → output weights, (out × hidden) or (out × hidden+1) with a bias node."""
        return self._output.weight.data

    @who.setter
    def who(self, value: Any) -> None:
        self._assign(self._output.weight, value, "who")

    @staticmethod
    def _assign(p: Tensor, value: Any, name: str) -> None:
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != p.shape:
            raise ValueError(f"NeuralNetwork.{name} must have shape {p.shape}, got {arr.shape}")
        writable_data(p)[...] = arr

    @property
    def learning_rate(self) -> float:
        """The learning rate η of the optimizer; assigning sets it there."""
        return self.optimizer.lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.lr = value

    def parameters(self) -> list[Tensor]:
        """``[wih, who]`` as trainable Tensors."""
        return [self._hidden.weight, self._output.weight]

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"wih": ..., "who": ...}`` (copies), for :func:`autograd_lite.save`."""
        return {"wih": self.wih.copy(), "who": self.who.copy()}

    def load_state_dict(self, state: Any) -> None:
        """Load ``{"wih": ..., "who": ...}`` into the two weight matrices.

        Names, dtypes and shapes are checked before any change, so on an error both matrices
        keep their values.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"NeuralNetwork.load_state_dict: expected a mapping, got {type(state).__name__}"
            )
        if set(state) != {"wih", "who"}:
            raise KeyError(
                f"NeuralNetwork.load_state_dict: expected keys wih, who; got {sorted(state)}"
            )
        pairs = []
        for p, name in ((self._hidden.weight, "wih"), (self._output.weight, "who")):
            value = state[name]
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if arr.dtype.kind not in "biuf":
                raise TypeError(
                    f"NeuralNetwork.load_state_dict: {name} holds non-numeric dtype {arr.dtype}"
                )
            if arr.shape != p.shape:
                raise ValueError(
                    f"NeuralNetwork.load_state_dict: {name} has shape {arr.shape}, "
                    f"expected {p.shape}"
                )
            pairs.append((p, arr, name))
        for p, arr, name in pairs:
            self._assign(p, arr, name)

    # -- the tutorial's methods ----------------------------------------------------------------

    def train(self, input_vector: Any, target_vector: Any) -> float:
        r"""One SGD step on E = ½ Σ (t − o)²; returns E before the step.

        A 1-D ``input_vector`` is one sample; a 2-D array is a batch of rows, and the step is
        taken on the sum of their errors.
        """
        x = np.asarray(input_vector, dtype=np.float64)
        t = np.asarray(target_vector, dtype=np.float64)
        if self.update == "tutorial":
            return self._tutorial_step(x, t)
        if self.compiled:
            if self._step is None:
                from .compiler import compile as compile_step

                self._step = compile_step(self._gradient_step)
            return float(self._step(x, t).data)
        return float(self._gradient_step(x, t).data)

    def _gradient_step(self, x: np.ndarray, t: np.ndarray) -> Tensor:
        """Forward, backward and one SGD step; returns E (the step :func:`al.compile` traces).

        The gradients are dropped after the update, as the tutorial's ``train()`` keeps none:
        the network holds only its weights between steps.
        """
        loss = squared_error(self.model(x), t)
        opt = self.optimizer
        opt.zero_grad()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    def _tutorial_step(self, x: np.ndarray, t: np.ndarray) -> float:
        r"""Apply the tutorial's rule (:func:`tutorial_update`) to the network's own layers.

        One forward pass through ``self.model``'s layers gives the hidden output h (with its
        bias node, if any) and the output o; then, in place, W_ho += η (e ⊙ o ⊙ (1 − o)) h^T
        and W_ih += η ((W_ho^T e) ⊙ h ⊙ (1 − h)) x^T with the *updated* W_ho and e = t − o.
        """
        xs, ts = np.atleast_2d(x), np.atleast_2d(t)
        if (
            x.ndim > 2
            or t.ndim != x.ndim
            or xs.shape[1] != self.no_of_in_nodes
            or ts.shape != (xs.shape[0], self.no_of_out_nodes)
        ):
            raise ValueError(
                f"NeuralNetwork.train: input shape {x.shape} and target shape {t.shape} do not "
                f"fit a {self.no_of_in_nodes}-{self.no_of_hidden_nodes}-{self.no_of_out_nodes} "
                "network"
            )
        # the layer outputs: [x(+bias)], W_ih x, h, [h(+bias)], W_ho h, o
        outputs: list[np.ndarray] = []
        value: Any = xs
        with no_grad():
            for layer in self.model:
                value = layer(value)
                outputs.append(value.data if isinstance(value, Tensor) else value)
        if self.bias is None:
            x_in, h, h_in, o = xs, outputs[1], outputs[1], outputs[3]
        else:
            x_in, h, h_in, o = outputs[0], outputs[2], outputs[3], outputs[5]
        lr = self.learning_rate
        e = ts - o
        self._add(self._output.weight, _outer_sum(lr * (e * o * (1.0 - o)), h_in))
        hidden_errors = e @ self.who  # the updated W_ho, as in the tutorial
        if self.bias is not None:
            hidden_errors = hidden_errors[:, :-1]
        self._add(self._hidden.weight, _outer_sum(lr * (hidden_errors * h * (1.0 - h)), x_in))
        return 0.5 * float(np.sum(e * e))

    @staticmethod
    def _add(p: Tensor, step: np.ndarray) -> None:
        """Update p ← p + step in place (on a copy if a retained graph still reads p's array)."""
        data = writable_data(p)
        data += step

    def run(self, input_vector: Any) -> np.ndarray:
        """Return the network's output: ``(out,)`` for one sample, ``(n, out)`` for rows."""
        with no_grad():
            out: Tensor = self.model(np.asarray(input_vector, dtype=np.float64))
        return out.data

    def predict(self, data: Any) -> np.ndarray:
        """Return the winning output node (the predicted class) for each row of ``data``."""
        out = self.run(np.atleast_2d(np.asarray(data, dtype=np.float64)))
        winners: np.ndarray = np.argmax(out, axis=-1)
        return winners

    def _labels(self, data: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
        predicted = self.predict(data)
        y = np.asarray(labels).reshape(-1).astype(np.int64)
        if y.shape != predicted.shape:
            raise ValueError(f"NeuralNetwork: {predicted.size} samples but {y.size} labels")
        return predicted, y

    def evaluate(self, data: Any, labels: Any) -> tuple[int, int]:
        """``(corrects, wrongs)``: how many rows of ``data`` are classified as their label."""
        predicted, y = self._labels(data, labels)
        corrects = int(np.sum(predicted == y))
        return corrects, int(y.size - corrects)

    def confusion_matrix(self, data: Any, labels: Any) -> np.ndarray:
        """Count ``cm[true label, predicted label]``, shape (out × out), as the tutorial does."""
        predicted, y = self._labels(data, labels)
        n = self.no_of_out_nodes
        if y.size and (y.min() < 0 or y.max() >= n):
            raise ValueError(f"NeuralNetwork.confusion_matrix: labels must lie in [0, {n})")
        cm = np.zeros((n, n), dtype=np.int64)
        np.add.at(cm, (y, predicted), 1)
        return cm

    def __repr__(self) -> str:
        """Return the constructor call that builds a network of this shape and settings."""
        return (
            f"NeuralNetwork({self.no_of_in_nodes}, {self.no_of_out_nodes}, "
            f"{self.no_of_hidden_nodes}, learning_rate={self.learning_rate:g}, bias={self.bias}, "
            f"update={self.update!r})"
        )


def tutorial_update(
    wih: np.ndarray,
    who: np.ndarray,
    input_vector: Any,
    target_vector: Any,
    learning_rate: float,
    bias: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Apply the tutorial's original hand-written update: new ``(wih, who)``. NOT the gradient.

    For rows x (with the bias node appended when ``bias`` is set):

    .. math::
        h = σ(W_{ih} x), \quad o = σ(W_{ho} h), \quad e = t − o, \\
        W_{ho}' = W_{ho} + η \, (e ⊙ o ⊙ (1 − o)) h^T, \\
        e_h = W_{ho}'^T e \quad \text{(updated } W_{ho}' \text{, raw } e\text{)}, \quad
        W_{ih}' = W_{ih} + η \, (e_h ⊙ h ⊙ (1 − h)) x^T.

    The gradient of ½ Σ (t − o)² would use the old W_ho and e ⊙ o ⊙ (1 − o) in e_h. A batch of
    rows sums the per-row terms. Inputs are not modified.
    """
    x = np.atleast_2d(np.asarray(input_vector, dtype=np.float64))
    t = np.atleast_2d(np.asarray(target_vector, dtype=np.float64))
    x = _with_bias(x, bias)
    h = _sigmoid(x @ wih.T)
    hb = _with_bias(h, bias)
    o = _sigmoid(hb @ who.T)
    e = t - o
    new_who = who + learning_rate * ((e * o * (1.0 - o)).T @ hb)
    hidden_errors = e @ new_who
    if bias:
        hidden_errors = hidden_errors[:, :-1]
    new_wih = wih + learning_rate * ((hidden_errors * h * (1.0 - h)).T @ x)
    return new_wih, new_who
