r"""scikit-learn estimators built on :mod:`autograd_lite.layers` and :mod:`autograd_lite.optim`.

Needs the optional extra ``sklearn`` (``pip install ".[sklearn]"``); ``import autograd_lite``
alone never imports scikit-learn.

- :class:`MLPClassifier` and :class:`MLPRegressor`: scikit-learn's multi-layer perceptrons, with
  its parameter names, initialisation, loss, stopping rule and fitted attributes, trained by
  autograd_lite's engine (solvers ``"sgd"`` and ``"adam"``).
- :class:`NeuralNetClassifier` and :class:`NeuralNetRegressor`: any autograd_lite
  :class:`~autograd_lite.layers.Module` (or a function that builds one) trained with a chosen
  loss and optimizer, for ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``.

The MLPs minimise, over mini-batches B of m samples, the mean data loss plus scikit-learn's
L2 penalty on the weights (not the biases):

.. math::
    E_B = \frac{1}{m} \sum_{i \in B} \ell(f(x_i), y_i)
        + \frac{\alpha}{2m} \sum_k \lVert W_k \rVert^2,

with ℓ the cross-entropy of softmax outputs (multiclass), the binary cross-entropy of a logistic
output per label (binary and multilabel, summed over the labels), or ½ Σ (y − ŷ)² (regression,
summed over the outputs).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from . import optim
from ._grad_mode import no_grad
from .layers import Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh
from .ops import concatenate, cross_entropy, mse_loss, squared_error
from .tensor import Tensor

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]

_SMALL_PRODUCT = 1 << 25  # multiply-adds of one layer's batch product (see _blas_threads)

_ACTIVATIONS: dict[str, type[Module] | None] = {
    "identity": None,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
}


# -- checking hyper-parameters -------------------------------------------------------------------


def _number(
    owner: str,
    name: str,
    value: Any,
    low: float,
    high: float = math.inf,
    *,
    integer: bool = False,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    """Raise unless ``value`` is a real (or integer) number in the stated interval."""
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{owner}: {name} must be {what}, got {value!r}")
    x = float(value)
    bad = (
        not math.isfinite(x)
        or x < low
        or (open_low and x == low)
        or x > high
        or (open_high and x == high)
    )
    if bad:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"{owner}: {name} must lie in {interval}, got {value!r}")


def _choice(owner: str, name: str, value: Any, options: tuple[Any, ...]) -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{owner}: {name} must be one of {options}, got {value!r}")


def _flag(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")


def _batch_size(owner: str, value: Any, n_samples: int) -> int:
    """``"auto"`` is min(200, n); an integer above n is clipped with a warning."""
    if isinstance(value, str) and value == "auto":
        return min(200, n_samples)
    _number(owner, "batch_size", value, 1, integer=True)
    if value > n_samples:
        warnings.warn(
            f"{owner}: batch_size={value} is larger than the {n_samples} samples; using "
            f"batches of {n_samples}",
            UserWarning,
            stacklevel=3,
        )
    return int(min(value, n_samples))


def _blas_threads(batch: int, widths: list[int]) -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while every layer's batch product is small.

    Small is at most 2²⁵ multiply-adds: there, starting and joining threads costs more than it
    saves, and far more on a busy machine. Larger layers keep BLAS's own threading.
    """
    work = max(batch * a * b for a, b in itertools.pairwise(widths))
    if work <= _SMALL_PRODUCT:
        limits: contextlib.AbstractContextManager[Any] = threadpool_limits(
            limits=1, user_api="blas"
        )
        return limits
    return contextlib.nullcontext()


def _shuffled(order: np.ndarray, rs: np.random.RandomState) -> np.ndarray:
    """Permute ``order`` by the draw ``sklearn.utils.shuffle`` makes (``rs.shuffle`` of 0..n−1).

    So the batches are scikit-learn's, without its per-call input checks.
    """
    perm = np.arange(len(order))
    rs.shuffle(perm)
    return order[perm]


def _batches(n: int, size: int, order: np.ndarray) -> Iterator[np.ndarray]:
    """Index arrays of consecutive batches of ``order`` (indexing copies, never views)."""
    for start in range(0, n, size):
        yield order[start : start + size]


def _given(w: np.ndarray) -> Callable[[tuple[int, int], Any], np.ndarray]:
    """Return an initialiser for :class:`~autograd_lite.layers.Linear` that gives ``w``."""
    return lambda shape, rng: np.ascontiguousarray(w)


# -- the multi-layer perceptrons -----------------------------------------------------------------


class _BaseMLP(BaseEstimator):
    """What :class:`MLPClassifier` and :class:`MLPRegressor` share.

    Their docstrings list the parameters.
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # -- subclass hooks ----------------------------------------------------------------------

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return validated ``X`` (float64) and the training targets (one row per sample)."""
        raise NotImplementedError

    def _data_loss(self, out: Tensor, target: np.ndarray) -> Tensor:
        """Return the mean data loss of one batch."""
        raise NotImplementedError

    def _score(self, X: np.ndarray, target: np.ndarray) -> float:
        """Accuracy or R² of the current model on validated data and training targets."""
        raise NotImplementedError

    # -- checks ------------------------------------------------------------------------------

    def _hidden_sizes(self) -> list[int]:
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(
                f"{owner}: hidden_layer_sizes must be an integer or a sequence of integers, "
                f"got {self.hidden_layer_sizes!r}"
            ) from None
        for s in sizes:
            _number(owner, "hidden_layer_sizes", s, 1, integer=True)
        return [int(s) for s in sizes]

    def _check_params(self) -> None:
        owner = type(self).__name__
        self._hidden_sizes()
        _choice(owner, "activation", self.activation, tuple(_ACTIVATIONS))
        _choice(owner, "solver", self.solver, ("sgd", "adam"))
        _choice(owner, "learning_rate", self.learning_rate, ("constant", "invscaling", "adaptive"))
        _number(owner, "alpha", self.alpha, 0.0)
        _number(owner, "learning_rate_init", self.learning_rate_init, 0.0, open_low=True)
        _number(owner, "power_t", self.power_t, 0.0)
        _number(owner, "max_iter", self.max_iter, 1, integer=True)
        _number(owner, "tol", self.tol, 0.0)
        _number(owner, "momentum", self.momentum, 0.0, 1.0)
        _number(owner, "validation_fraction", self.validation_fraction, 0.0, 1.0, open_low=True,
                open_high=True)  # fmt: skip
        _number(owner, "beta_1", self.beta_1, 0.0, 1.0, open_high=True)
        _number(owner, "beta_2", self.beta_2, 0.0, 1.0, open_high=True)
        _number(owner, "epsilon", self.epsilon, 0.0, open_low=True)
        _number(owner, "n_iter_no_change", self.n_iter_no_change, 1, integer=True)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            _flag(owner, name, getattr(self, name))
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _number(owner, "batch_size", self.batch_size, 1, integer=True)

    # -- the network ---------------------------------------------------------------------------

    def _initialise(self, n_in: int, n_out: int) -> None:
        """Build the network with Glorot-uniform weights and biases as scikit-learn draws them.

        Each layer's weights, then its biases, from U(±√(k / (n_in + n_out))) with k = 2 for
        the logistic activation and 6 otherwise, layer by layer, from ``random_state``.
        """
        rs = self._random_state
        sizes = [n_in, *self._hidden_sizes(), n_out]
        k = 2.0 if self.activation == "logistic" else 6.0
        act = _ACTIVATIONS[self.activation]
        layers: list[Module] = []
        for i in range(len(sizes) - 1):
            fan_in, fan_out = sizes[i], sizes[i + 1]
            bound = math.sqrt(k / (fan_in + fan_out))
            coef = rs.uniform(-bound, bound, (fan_in, fan_out))
            intercept = rs.uniform(-bound, bound, fan_out)
            layer = Linear(fan_in, fan_out, init=_given(coef.T))
            assert layer.bias is not None
            layer.bias.data[...] = intercept
            layers.append(layer)
            if act is not None and i < len(sizes) - 2:
                layers.append(act())
        self._net = Sequential(*layers)
        self.n_layers_ = len(sizes)
        self.n_outputs_ = n_out
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        self.best_loss_: float | None = None if self.early_stopping else math.inf
        self.validation_scores_: list[float] | None = [] if self.early_stopping else None
        self.best_validation_score_: float | None = -math.inf if self.early_stopping else None

    def _linears(self) -> list[Linear]:
        check_is_fitted(self)
        return [m for m in self._net if isinstance(m, Linear)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape (units in layer i, units in layer i + 1).

        They are views of the layers' weights (transposed), so writing into them changes the
        model.
        """
        return [layer.weight.data.T for layer in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape (units in layer i + 1,) (views)."""
        return [layer.bias.data for layer in self._linears() if layer.bias is not None]

    def _make_optimizer(self) -> optim.Optimizer:
        params = self._net.parameters()
        if self.solver == "sgd":
            mu = float(self.momentum)
            nesterov = bool(self.nesterovs_momentum) and mu > 0
            return optim.SGD(params, lr=self.learning_rate_init, momentum=mu, nesterov=nesterov)
        return optim.Adam(
            params,
            lr=self.learning_rate_init,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )

    def _output(self, X: np.ndarray) -> np.ndarray:
        """Return the last layer's values (before the output activation) for validated ``X``."""
        with no_grad():
            return np.asarray(self._net(X).data)

    # -- training ------------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, incremental: bool) -> _BaseMLP:
        self._check_params()
        if self.early_stopping and incremental:
            raise ValueError(f"{type(self).__name__}: partial_fit does not support early_stopping")
        fresh = not hasattr(self, "_net") or not (self.warm_start or incremental)
        X, target = self._targets(X, y, reset=fresh)
        if fresh:
            self._random_state = check_random_state(self.random_state)
            self._initialise(X.shape[1], target.shape[1])
        elif target.shape[1] != self.n_outputs_:
            raise ValueError(
                f"{type(self).__name__}: y has {target.shape[1]} outputs; the model was fitted "
                f"with {self.n_outputs_}"
            )
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        self._run_epochs(X, target, incremental)
        return self

    def _stratify(self, target: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the validation split by (None: a random split)."""
        return None

    def _split(
        self, X: np.ndarray, target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Training data, and the held-out part when ``early_stopping``."""
        if not self.early_stopping:
            return X, target, None, None
        X_train, X_val, t_train, t_val = train_test_split(
            X,
            target,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=self._stratify(target),
        )
        if X_val.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__}: the validation set is too small; increase "
                "validation_fraction or give more samples"
            )
        return X_train, t_train, X_val, t_val

    def _run_epochs(self, X: np.ndarray, target: np.ndarray, incremental: bool) -> None:
        X_train, t_train, X_val, t_val = self._split(X, target)
        size = _batch_size(type(self).__name__, self.batch_size, X_train.shape[0])
        net = self._net
        linears = [m for m in net if isinstance(m, Linear)]
        weights = [m.weight for m in linears] if self.alpha else []
        if self.early_stopping:
            self._best_state = net.state_dict()
        self.n_iter_ = 0
        widths = [m.in_features for m in linears] + [linears[-1].out_features]
        with _blas_threads(size, widths):
            self._epochs(X_train, t_train, X_val, t_val, size, weights, incremental)
        if self.early_stopping:
            net.load_state_dict(self._best_state)
            del self._best_state

    def _epochs(
        self,
        X_train: np.ndarray,
        t_train: np.ndarray,
        X_val: np.ndarray | None,
        t_val: np.ndarray | None,
        size: int,
        weights: list[Parameter],
        incremental: bool,
    ) -> None:
        """Run up to ``max_iter`` epochs of mini-batches (one for ``partial_fit``)."""
        n = X_train.shape[0]
        order = np.arange(n)
        for _ in range(1 if incremental else self.max_iter):
            if self.shuffle:
                order = _shuffled(order, self._random_state)
            # one gather per epoch; the batches are then slices of this private copy
            X_epoch, t_epoch = X_train[order], t_train[order]
            total = 0.0
            for start in range(0, n, size):
                xb, tb = X_epoch[start : start + size], t_epoch[start : start + size]
                total += self._step(xb, tb, weights) * len(xb)
            if self._end_epoch(total / n, n, X_val, t_val) or incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"{type(self).__name__}: reached max_iter={self.max_iter} epochs and the "
                    "optimisation has not converged yet",
                    ConvergenceWarning,
                    stacklevel=5,
                )

    def _step(self, xb: np.ndarray, tb: np.ndarray, weights: list[Parameter]) -> float:
        r"""Take one optimizer step on a batch of m samples; return its loss E_B.

        E_B is the mean data loss plus the L2 term α/(2m) Σ‖W‖², whose gradient (α/m) W is
        added to each weight's by hand.
        """
        opt, m = self._optimizer, len(xb)
        loss = self._data_loss(self._net(xb), tb)
        opt.zero_grad()
        loss.backward()
        value = float(loss.data)
        if weights:
            c = self.alpha / m
            for w in weights:
                flat = w.data.reshape(-1)
                value += 0.5 * c * float(np.dot(flat, flat))
                assert w.grad is not None
                w.grad = Tensor(w.grad.data + c * w.data)
        opt.step()
        return value

    def _end_epoch(
        self, loss: float, n: int, X_val: np.ndarray | None, t_val: np.ndarray | None
    ) -> bool:
        """Record an epoch of ``n`` samples and mean loss ``loss``; return whether to stop."""
        self.n_iter_ += 1
        self.t_ += n
        self.loss_ = loss
        self.loss_curve_.append(loss)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
        self._update_no_improvement_count(X_val, t_val)
        if self.solver == "sgd" and self.learning_rate == "invscaling":
            self._optimizer.lr = self.learning_rate_init / (self.t_ + 1) ** self.power_t
        return self._no_improvement_count > self.n_iter_no_change and self._stop()

    def _update_no_improvement_count(
        self, X_val: np.ndarray | None, t_val: np.ndarray | None
    ) -> None:
        """Count the epochs without improvement, by scikit-learn's rule.

        An epoch improves if the training loss falls below the best by more than ``tol`` (or,
        with early stopping, the validation score rises above the best by ``tol``, and the best
        weights are kept).
        """
        if X_val is not None:
            assert self.validation_scores_ is not None and self.best_validation_score_ is not None
            assert t_val is not None
            score = self._score(X_val, t_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = self._net.state_dict()
            return
        assert self.best_loss_ is not None
        if self.loss_ > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_)

    def _stop(self) -> bool:
        """Decide, after ``n_iter_no_change`` epochs without improvement, whether to stop.

        With ``learning_rate="adaptive"`` (sgd) the learning rate is divided by 5 instead, until
        it is below 1e-6.
        """
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        opt = self._optimizer
        if self.solver == "sgd" and self.learning_rate == "adaptive" and opt.lr > 1e-6:
            opt.lr = opt.lr / 5.0
            self._no_improvement_count = 0
            if self.verbose:
                print(f"{msg} Setting learning rate to {opt.lr:f}")
            return False
        if self.verbose:
            print(f"{msg} Stopping.")
        return True

    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Train on ``X`` (n_samples, n_features) and ``y`` for up to ``max_iter`` epochs."""
        return self._fit(X, y, incremental=False)

    def __sklearn_tags__(self) -> Any:
        """Return scikit-learn's tags: no sparse input."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


_MLP_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units in each hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    solver : {'sgd', 'adam'}, default='adam'
        :class:`autograd_lite.optim.SGD` or :class:`autograd_lite.optim.Adam`.
    alpha : float, default=1e-4
        Strength of the L2 penalty α/(2m) Σ‖W‖² (weights only, m the batch size).
    batch_size : int or 'auto', default='auto'
        Samples per mini-batch; 'auto' is min(200, n_samples).
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule for 'sgd': constant; η_t = learning_rate_init / (t + 1)^power_t with t the
        samples seen; or divided by 5 whenever ``n_iter_no_change`` epochs do not improve.
    learning_rate_init : float, default=1e-3
        The (initial) learning rate.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Most epochs (passes over the data); a ``ConvergenceWarning`` when reached.
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    tol : float, default=1e-4
        Least improvement of the loss (or validation score) that counts.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        ``fit`` goes on from the current weights instead of starting anew.
    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for 'sgd' (when momentum > 0).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score stops improving;
        the weights of the best epoch are kept.
    validation_fraction : float, default=0.1
        Share held out for early stopping, in (0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's ε.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        Weights (n_in, n_out) and biases (n_out,) of each layer, as scikit-learn's.
    loss_, loss_curve_, best_loss_ : float, list of float, float or None
        Last epoch's loss, each epoch's, the least (None with early stopping).
    validation_scores_, best_validation_score_ : list of float or None, float or None
        With early stopping: each epoch's validation score and the best.
    n_iter_, t_ : int
        Epochs run by the last fit; samples seen in all.
    n_features_in_, n_layers_, n_outputs_, out_activation_ : int, int, int, str
        Input width, layers (input and output included), output units, output activation.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's parameters and attributes.

    Multiclass targets get a softmax output and the cross-entropy; binary and multilabel
    (indicator matrix) targets get one logistic output per label and the binary cross-entropy,
    summed over labels. Predicted classes and probabilities follow scikit-learn's
    ``MLPClassifier``; ``decision_function`` gives the output layer before its activation.
    """

    __doc__ = (__doc__ or "") + _MLP_PARAMETERS + "    classes_ : ndarray\n        The labels.\n"

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, multi_output=True, dtype=np.float64, reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if reset or not hasattr(self, "classes_"):
            self._binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._binarizer.classes_
        else:
            self._check_known_classes(y)
        return X, self._binarizer.transform(y).astype(np.int64)

    def _check_known_classes(self, y: Any) -> None:
        classes = unique_labels(y)
        if self.warm_start and set(classes) != set(self.classes_):
            raise ValueError(
                f"{type(self).__name__}: warm_start needs y with the classes of the previous fit "
                f"{self.classes_}; y has {classes}"
            )
        unknown = np.setdiff1d(classes, self.classes_)
        if len(unknown):
            raise ValueError(
                f"{type(self).__name__}: y has classes {unknown} not in classes_ {self.classes_}"
            )

    def _initialise(self, n_in: int, n_out: int) -> None:
        super()._initialise(n_in, n_out)
        multiclass = self._binarizer.y_type_ == "multiclass"
        self.out_activation_ = "softmax" if multiclass else "logistic"

    def _data_loss(self, out: Tensor, target: np.ndarray) -> Tensor:
        m = target.shape[0]
        if self.out_activation_ == "softmax":
            loss: Tensor = cross_entropy(out, target.argmax(axis=1))
            return loss
        # a logistic unit is a softmax over the logits (0, z): stable and exact
        z = out.reshape(-1, 1)
        pairs = concatenate([np.zeros((z.shape[0], 1)), z], axis=1)
        loss = cross_entropy(pairs, target.reshape(-1), reduction="sum") * (1.0 / m)
        return loss

    def _score(self, X: np.ndarray, target: np.ndarray) -> float:
        y = self._binarizer.inverse_transform(target)
        return float(accuracy_score(y, self._predict_validated(X)))

    def _stratify(self, target: np.ndarray) -> np.ndarray | None:
        single = self._binarizer.y_type_ != "multilabel-indicator"
        labels: np.ndarray | None = self._binarizer.inverse_transform(target) if single else None
        return labels

    def _probabilities(self, X: np.ndarray) -> np.ndarray:
        z = self._output(X)
        if self.out_activation_ == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p: np.ndarray = e / e.sum(axis=1, keepdims=True)
            return p
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ(z) without overflow

    def _predict_validated(self, X: np.ndarray) -> np.ndarray:
        p = self._probabilities(X)
        labels: np.ndarray = self._binarizer.inverse_transform(
            p.ravel() if self.n_outputs_ == 1 else p
        )
        return labels

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """Train one epoch over ``X``, ``y``.

        The first call needs ``classes`` (all the labels) unless ``y`` is a multilabel
        indicator matrix.
        """
        if not hasattr(self, "classes_"):
            if classes is None and not _is_indicator(y):
                raise ValueError(
                    f"{type(self).__name__}: classes must be given on the first partial_fit call"
                )
            self._check_params()
            Xv, yv = validate_data(self, X, y, multi_output=True, dtype=np.float64)
            check_classification_targets(yv)
            self._binarizer = LabelBinarizer().fit(yv if classes is None else classes)
            self.classes_ = self._binarizer.classes_
            self._random_state = check_random_state(self.random_state)
            binary = self._binarizer.y_type_ == "binary"
            self._initialise(Xv.shape[1], 1 if binary else len(self.classes_))
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(
                f"{type(self).__name__}: classes {classes!r} differ from classes_ {self.classes_}"
            )
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Return the most probable class of each row (an indicator row for multilabel)."""
        check_is_fitted(self)
        return self._predict_validated(validate_data(self, X, dtype=np.float64, reset=False))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities, (n_samples, n_classes); (n_samples, n_labels) multilabel."""
        check_is_fitted(self)
        p = self._probabilities(validate_data(self, X, dtype=np.float64, reset=False))
        if self.n_outputs_ == 1 and self._binarizer.y_type_ == "binary":
            return np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            logs: np.ndarray = np.log(self.predict_proba(X))
        return logs

    def decision_function(self, X: Any) -> np.ndarray:
        """Return the output layer before its activation: (n_samples,) for binary targets."""
        check_is_fitted(self)
        z = self._output(validate_data(self, X, dtype=np.float64, reset=False))
        return z.ravel() if self.n_outputs_ == 1 else z

    def __sklearn_tags__(self) -> Any:
        """Return scikit-learn's tags: multilabel targets are supported."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _is_indicator(y: Any) -> bool:
    return np.ndim(y) == 2 and np.shape(y)[1] > 1


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's parameters and attributes.

    An identity output and the loss ½ Σ (y − ŷ)² / m (summed over the outputs), whose gradient
    is scikit-learn's; for one output the loss equals scikit-learn's ``loss_``.
    """

    __doc__ = (__doc__ or "") + _MLP_PARAMETERS

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64, reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def _initialise(self, n_in: int, n_out: int) -> None:
        super()._initialise(n_in, n_out)
        self.out_activation_ = "identity"

    def _data_loss(self, out: Tensor, target: np.ndarray) -> Tensor:
        loss: Tensor = squared_error(out, target, reduction="sum") * (1.0 / target.shape[0])
        return loss

    def _score(self, X: np.ndarray, target: np.ndarray) -> float:
        return float(r2_score(target, self._output(X)))

    def _predict_validated(self, X: np.ndarray) -> np.ndarray:
        out = self._output(X)
        return out.ravel() if self.n_outputs_ == 1 else out

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train one epoch over ``X``, ``y`` (starting from fresh weights on the first call)."""
        self._fit(X, y, incremental=True)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Return the predicted targets, (n_samples,) or (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict_validated(validate_data(self, X, dtype=np.float64, reset=False))

    def __sklearn_tags__(self) -> Any:
        """Return scikit-learn's tags: several outputs are supported."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# -- any Module ----------------------------------------------------------------------------------

_ROUTED = ("module__", "optimizer__")


class _NeuralNet(BaseEstimator):
    """What :class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` share."""

    _default_criterion: Callable[..., Tensor]

    def __init__(
        self,
        module: Any,
        *,
        criterion: Callable[..., Tensor] | None = None,
        optimizer: Callable[..., optim.Optimizer] = optim.Adam,
        lr: float = 0.01,
        max_epochs: int = 10,
        batch_size: int = 128,
        shuffle: bool = True,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self._kwargs = dict(kwargs)  # module__<name>, optimizer__<name>; checked at fit

    def _routed(self, prefix: str) -> dict[str, Any]:
        return {k[len(prefix) :]: v for k, v in self._kwargs.items() if k.startswith(prefix)}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's parameters, ``module__*`` and ``optimizer__*`` included."""
        params: dict[str, Any] = super().get_params(deep=deep)
        params.update(self._kwargs)
        return params

    def set_params(self, **params: Any) -> _NeuralNet:
        """Set parameters, and keep the routed ones for the module builder and the optimizer.

        Names other than the constructor's (``module__<name>``, ``optimizer__<name>``) are
        kept, and checked at fit.
        """
        known = set(super().get_params(deep=False))
        for key in [k for k in params if k not in known]:
            self._kwargs[key] = params.pop(key)
        super().set_params(**params)
        return self

    # -- hooks ---------------------------------------------------------------------------------

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray, int]:
        """Return validated X, the criterion's targets, and the outputs the module needs."""
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------

    def _check_params(self) -> None:
        owner = type(self).__name__
        unknown = [k for k in self._kwargs if not k.startswith(_ROUTED)]
        if unknown:
            raise TypeError(
                f"{owner}: unknown parameter {unknown[0]!r} (only module__<name> and "
                "optimizer__<name> are passed on)"
            )
        if not (isinstance(self.module, Module) or callable(self.module)):
            raise TypeError(
                f"{owner}: module must be a Module or a function that returns one, got "
                f"{type(self.module).__name__}"
            )
        if self.criterion is not None and not callable(self.criterion):
            raise TypeError(f"{owner}: criterion must be a loss function, got {self.criterion!r}")
        if not callable(self.optimizer):
            raise TypeError(
                f"{owner}: optimizer must be an optimizer class, got {self.optimizer!r}"
            )
        _number(owner, "lr", self.lr, 0.0)
        _number(owner, "max_epochs", self.max_epochs, 1, integer=True)
        _number(owner, "batch_size", self.batch_size, 1, integer=True)
        for name in ("shuffle", "warm_start"):
            _flag(owner, name, getattr(self, name))

    def _build(self, n_in: int, n_out: int) -> Module:
        """Return the module to train: a deep copy of a Module, or what the builder returns.

        A copy makes every fit start from the given weights. A builder is called with the
        ``module__*`` parameters and, where its signature takes them, ``n_features_in``,
        ``n_outputs`` and ``rng`` (a NumPy Generator drawn from ``random_state``).
        """
        owner = type(self).__name__
        kwargs = self._routed("module__")
        if isinstance(self.module, Module):
            if kwargs:
                raise ValueError(
                    f"{owner}: module__{next(iter(kwargs))} needs a module class or builder "
                    "function, not a Module instance"
                )
            return copy.deepcopy(self.module)
        try:
            accepted = inspect.signature(self.module).parameters
        except (TypeError, ValueError):
            accepted = {}  # type: ignore[assignment]
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        given = {"n_features_in": n_in, "n_outputs": n_out, "rng": np.random.default_rng(seed)}
        for name, value in given.items():
            if name in accepted and name not in kwargs:
                kwargs[name] = value
        built = self.module(**kwargs)
        if not isinstance(built, Module):
            raise TypeError(f"{owner}: module returned a {type(built).__name__}, not a Module")
        return built

    def _start(self, n_in: int, n_out: int) -> None:
        self._random_state = check_random_state(self.random_state)
        self.module_ = self._build(n_in, n_out)
        params = self.module_.parameters()
        if not params:
            raise ValueError(f"{type(self).__name__}: the module has no parameters to train")
        self.optimizer_ = self.optimizer(params, lr=self.lr, **self._routed("optimizer__"))
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0
        self._n_outputs = n_out

    def _criterion(self) -> Callable[..., Tensor]:
        return type(self)._default_criterion if self.criterion is None else self.criterion

    def _epoch(self, X: np.ndarray, target: np.ndarray) -> None:
        n = X.shape[0]
        size = min(int(self.batch_size), n)
        order = np.arange(n)
        if self.shuffle:
            order = _shuffled(order, self._random_state)
        loss_fn, module, opt = self._criterion(), self.module_, self.optimizer_
        module.train()
        total = 0.0
        for idx in _batches(n, size, order):
            out = module(X[idx])
            self._check_output(out, len(idx))
            loss = loss_fn(out, target[idx])
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ValueError(
                    f"{type(self).__name__}: criterion must return a scalar Tensor, got "
                    f"{type(loss).__name__} of shape {np.shape(loss)}"
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.data) * len(idx)
        module.eval()
        self.n_iter_ += 1
        self.loss_curve_.append(total / n)
        if self.verbose:
            print(f"epoch {self.n_iter_}, loss = {self.loss_curve_[-1]:.8f}")

    def _check_output(self, out: Any, n: int) -> None:
        want = (n, self._n_outputs)
        if not isinstance(out, Tensor) or out.shape != want:
            shape = out.shape if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(
                f"{type(self).__name__}: the module must return a Tensor of shape {want} "
                f"(samples, outputs), got {shape}"
            )

    def fit(self, X: Any, y: Any) -> _NeuralNet:
        """Build the module (unless ``warm_start``) and train it for ``max_epochs`` epochs."""
        self._check_params()
        fresh = not (self.warm_start and hasattr(self, "module_"))
        X, target, n_out = self._targets(X, y, reset=fresh)
        if fresh:
            self._start(X.shape[1], n_out)
        self.n_iter_ = 0
        for _ in range(self.max_epochs):
            self._epoch(X, target)
        return self

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self.module_.eval()
        with no_grad():
            out = self.module_(X)
        self._check_output(out, X.shape[0])
        return np.asarray(out.data)


_NET_PARAMETERS = """
    Parameters
    ----------
    module : Module, or a class or function that returns one
        A Module instance is deep-copied at each fit, so every fit starts from its weights. A
        class or function is called at each fit with the ``module__<name>`` parameters and,
        where its signature has them, ``n_features_in``, ``n_outputs`` (columns the output
        must have) and ``rng`` (a NumPy Generator seeded from ``random_state``).
    criterion : callable, default=None
        ``criterion(output, target) -> scalar Tensor``; None: {criterion}.
    optimizer : class, default=autograd_lite.optim.Adam
        Called as ``optimizer(parameters, lr=lr, **optimizer__params)``.
    lr : float, default=0.01
        Learning rate.
    max_epochs : int, default=10
        Epochs (passes over the data) per ``fit``.
    batch_size : int, default=128
        Samples per mini-batch (at most n_samples).
    shuffle : bool, default=True
        Shuffle the samples before each epoch.
    warm_start : bool, default=False
        ``fit`` goes on training the fitted module instead of building a new one.
    random_state : int, RandomState or None, default=None
        Seeds the shuffling and the ``rng`` given to the builder.
    verbose : bool, default=False
        Print the loss after each epoch.
    **kwargs
        ``module__<name>`` (passed to the builder) and ``optimizer__<name>`` (to the optimizer),
        settable by ``set_params`` and searchable by ``GridSearchCV``.

    Attributes
    ----------
    module_ : Module
        The trained module.
    optimizer_ : Optimizer
        Its optimizer.
    loss_curve_ : list of float
        The mean training loss of each epoch.
    n_iter_ : int
        Epochs run by the last ``fit``.
    n_features_in_ : int
        Input width.
"""


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """Train any autograd_lite Module as a scikit-learn classifier.

    The module maps a batch (n, n_features) to class scores (n, n_classes): logits (or
    log-probabilities). The criterion receives them and the integer class indices
    (``classes_[i]`` is class i); ``predict_proba`` is their softmax, ``predict`` their argmax.
    """

    __doc__ = (
        (__doc__ or "")
        + _NET_PARAMETERS.format(criterion="autograd_lite.cross_entropy")
        + "    classes_ : ndarray\n        The labels.\n"
    )
    _default_criterion = staticmethod(cross_entropy)

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray, int]:
        X, y = validate_data(self, X, y, dtype=np.float64, reset=reset)
        check_classification_targets(y)
        if reset or not hasattr(self, "classes_"):
            self.classes_ = np.unique(y)
        elif len(np.setdiff1d(y, self.classes_)):
            raise ValueError(
                f"{type(self).__name__}: y has classes {np.setdiff1d(y, self.classes_)} not in "
                f"classes_ {self.classes_}"
            )
        return X, np.searchsorted(self.classes_, y).astype(np.int64), len(self.classes_)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> NeuralNetClassifier:
        """Train one epoch over ``X``, ``y``; the first call needs ``classes`` (all the labels)."""
        self._check_params()
        if not hasattr(self, "module_"):
            if classes is None:
                raise ValueError(
                    f"{type(self).__name__}: classes must be given on the first partial_fit call"
                )
            X, y = validate_data(self, X, y, dtype=np.float64)
            self.classes_ = np.unique(classes)
            self._start(X.shape[1], len(self.classes_))
        X, target, _ = self._targets(X, y, reset=False)
        self._epoch(X, target)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return the softmax of the module's output, (n_samples, n_classes)."""
        z = self._forward(X)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return p

    def predict(self, X: Any) -> np.ndarray:
        """Return the class with the largest score."""
        scores = self._forward(X)
        labels: np.ndarray = self.classes_[scores.argmax(axis=1)]
        return labels


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """Train any autograd_lite Module as a scikit-learn regressor.

    The module maps a batch (n, n_features) to (n, n_outputs); a 1-D ``y`` is one output (a
    column for the criterion, raveled by ``predict``).
    """

    __doc__ = (__doc__ or "") + _NET_PARAMETERS.format(criterion="autograd_lite.mse_loss")
    _default_criterion = staticmethod(mse_loss)

    def _targets(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray, int]:
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64, reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset or not hasattr(self, "_y_ndim"):
            self._y_ndim = y.ndim
        target = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if not reset and target.shape[1] != self._n_outputs:
            raise ValueError(
                f"{type(self).__name__}: y has {target.shape[1]} outputs; the module was "
                f"fitted with {self._n_outputs}"
            )
        return X, target, target.shape[1]

    def partial_fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """Train one epoch over ``X``, ``y`` (building the module on the first call)."""
        self._check_params()
        fresh = not hasattr(self, "module_")
        X, target, n_out = self._targets(X, y, reset=fresh)
        if fresh:
            self._start(X.shape[1], n_out)
        self._epoch(X, target)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Return the module's output, (n_samples,) when fitted on a 1-D ``y``."""
        out = self._forward(X)
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        """Return scikit-learn's tags: several outputs are supported."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
