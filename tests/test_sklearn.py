"""autograd_lite.sklearn: scikit-learn's estimator checks, and agreement with scikit-learn's MLP.

scikit-learn's own ``MLPClassifier``/``MLPRegressor`` are the oracle: with the same seed and the
"sgd" solver ours draw the same initial weights, visit the same batches and take the same
steps, so losses and weights agree to rounding. The wrappers are checked against a hand-written
training loop over the same module and optimizer.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import autograd_lite as al
from autograd_lite.layers import Linear, Module, ReLU, Sequential, Tanh
from autograd_lite.sklearn import (
    MLPClassifier,
    MLPRegressor,
    NeuralNetClassifier,
    NeuralNetRegressor,
)


def two_layer(n_features_in: int, n_outputs: int, hidden: int = 16, rng=None) -> Module:
    """A builder: the estimator passes the data's widths and a seeded Generator."""
    first, last = Linear(n_features_in, hidden, rng=rng), Linear(hidden, n_outputs, rng=rng)
    return Sequential(first, Tanh(), last)


CHECKED = [
    MLPClassifier(max_iter=50),
    MLPRegressor(max_iter=50),
    NeuralNetClassifier(two_layer, max_epochs=40, batch_size=32),
    NeuralNetRegressor(two_layer, max_epochs=40, batch_size=32),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check, monkeypatch: pytest.MonkeyPatch) -> None:
    # scikit-learn runs its array-API input check (on NumPy arrays) only with this set
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_import_autograd_lite_does_not_import_sklearn() -> None:
    code = "import sys, autograd_lite as al; al.layers; al.optim; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- MLPs against scikit-learn's -------------------------------------------------------------------


def _targets(kind: str, y: np.ndarray) -> np.ndarray:
    if kind == "multiclass":
        return y
    if kind == "binary":
        return (y > 4).astype(int)
    if kind == "multilabel":
        return np.stack([y > 4, y % 2 == 0, y == 3], axis=1).astype(int)
    return np.stack([np.sin(y), 0.1 * y], axis=1) if kind == "2 outputs" else 0.1 * y


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("multiclass", dict(activation="relu", momentum=0.0)),
        ("multiclass", dict(activation="logistic", hidden_layer_sizes=(12, 7), alpha=0.01)),
        ("binary", dict(activation="tanh", nesterovs_momentum=False, batch_size=50)),
        ("multilabel", dict(activation="identity", shuffle=False)),
        ("1 output", dict(activation="tanh", learning_rate="invscaling", momentum=0.0)),
        ("2 outputs", dict(activation="relu", alpha=0.1)),
    ],
)
def test_sgd_takes_the_same_steps_as_sklearn(digits, kind: str, params: dict) -> None:
    X_train, X_test, y_train, _ = digits
    y = _targets(kind, y_train[:300])
    regression = kind.endswith(("output", "outputs"))
    ours_cls = MLPRegressor if regression else MLPClassifier
    theirs_cls = neural_network.MLPRegressor if regression else neural_network.MLPClassifier
    settings = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.01,
                    max_iter=15, random_state=3) | params  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = ours_cls(**settings).fit(X_train[:300], y)
        theirs = theirs_cls(**settings).fit(X_train[:300], y)
    assert ours.n_iter_ == theirs.n_iter_ == 15
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    if kind != "2 outputs":  # scikit-learn reports the mean over outputs there, not the sum
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert ours.out_activation_ == theirs.out_activation_
    assert (ours.n_layers_, ours.n_outputs_, ours.t_) == (theirs.n_layers_, theirs.n_outputs_, 4500)
    if regression:
        np.testing.assert_allclose(ours.predict(X_test), theirs.predict(X_test), rtol=1e-9)
    else:
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test),
                                   rtol=1e-8, atol=1e-12)  # fmt: skip
        np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


def test_digits_accuracy_matches_sklearn(digits) -> None:
    X_train, X_test, y_train, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X_train, y_train)
        theirs = neural_network.MLPClassifier(hidden_layer_sizes=(64,), random_state=0)
        theirs.fit(X_train, y_train)
    accuracy, reference = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert accuracy >= 0.95
    assert abs(accuracy - reference) <= 0.02, (accuracy, reference)


def test_regressor_fits_a_noisy_sine() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (600, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(600)
    model = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", learning_rate_init=0.01,
                         max_iter=300, random_state=0).fit(X[:400], y[:400])  # fmt: skip
    assert r2_score(y[400:], model.predict(X[400:])) >= 0.9


def test_stopping_rule_and_convergence_warning(digits) -> None:
    X_train, _, y_train, _ = digits
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X_train, y_train)
    model = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, tol=1e-2,
                          n_iter_no_change=3, max_iter=200, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X_train, y_train)
    curve = model.loss_curve_
    assert model.n_iter_ == len(curve) < 200
    # the rule, recomputed: stop after n_iter_no_change + 1 epochs not below the best - tol
    best, count, stop = np.inf, 0, None
    for i, loss in enumerate(curve):
        count = count + 1 if loss > best - 1e-2 else 0
        best = min(best, loss)
        if count > 3:
            stop = i + 1
            break
    assert stop == model.n_iter_
    assert model.best_loss_ == min(curve)


def test_early_stopping_keeps_the_best_epoch(digits) -> None:
    X_train, _, y_train, _ = digits
    model = MLPClassifier(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=4,
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    )
    model.fit(X_train, y_train)  # fmt: skip
    scores = model.validation_scores_
    assert model.best_loss_ is None and len(scores) == model.n_iter_ < 100
    assert model.best_validation_score_ == max(scores) > 0.9
    assert np.argmax(scores) < len(scores) - 4  # the last epochs did not improve


def test_partial_fit_is_fit_one_epoch_at_a_time(digits) -> None:
    X_train, _, y_train, _ = digits
    settings = dict(hidden_layer_sizes=(10,), solver="sgd", shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(max_iter=4, **settings).fit(X_train, y_train)
    parts = MLPClassifier(**settings)
    with pytest.raises(ValueError, match="classes must be given"):
        parts.partial_fit(X_train, y_train)
    assert not hasattr(parts, "classes_")
    for _ in range(4):
        parts.partial_fit(X_train, y_train, classes=np.arange(10))
    assert parts.t_ == 4 * len(X_train)
    for a, b in zip(parts.coefs_, whole.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match="not in classes_"):
        parts.partial_fit(X_train[:5], np.full(5, 11))


def test_random_state_reproducibility_and_warm_start(digits) -> None:
    X_train, _, y_train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=7).fit(X_train, y_train)
        b = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=7).fit(X_train, y_train)
        c = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=8).fit(X_train, y_train)
        np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
        assert not np.allclose(a.coefs_[0], c.coefs_[0])
        a.set_params(warm_start=True).fit(X_train, y_train)
    assert a.loss_curve_[5] < a.loss_curve_[4]  # it went on from the fitted weights
    assert len(a.loss_curve_) == 10 and a.n_iter_ == 5


def test_coefs_are_views_of_the_model(digits) -> None:
    X_train, X_test, y_train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
        model.fit(X_train, y_train)
    model.coefs_[1][...] = 0.0
    model.intercepts_[1][...] = np.arange(10.0)
    assert (model.predict(X_test) == 9).all()


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        (dict(hidden_layer_sizes=(10, 0)), ValueError, "hidden_layer_sizes"),
        (dict(hidden_layer_sizes="wide"), TypeError, "hidden_layer_sizes"),
        (dict(activation="softmax"), ValueError, "activation"),
        (dict(solver="lbfgs"), ValueError, "solver"),
        (dict(alpha=-1.0), ValueError, "alpha"),
        (dict(learning_rate_init=0.0), ValueError, "learning_rate_init"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size="big"), TypeError, "batch_size"),
        (dict(max_iter=2.5), TypeError, "max_iter"),
        (dict(momentum=1.5), ValueError, "momentum"),
        (dict(beta_2=1.0), ValueError, "beta_2"),
        (dict(validation_fraction=1.0), ValueError, "validation_fraction"),
        (dict(tol=float("nan")), ValueError, "tol"),
        (dict(shuffle="yes"), TypeError, "shuffle"),
    ],
)
def test_bad_hyperparameters_are_named_before_anything_changes(params, error, match) -> None:
    model = MLPClassifier(**params)
    with pytest.raises(error, match=match):
        model.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    assert not hasattr(model, "n_iter_")


def test_unfitted_coefs_raise() -> None:
    with pytest.raises(AttributeError, match="not fitted"):
        MLPClassifier().coefs_


# -- wrapping any Module -----------------------------------------------------------------------


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 3.0], [3.0, 0.0], [-3.0, -3.0]])
    y = rng.integers(0, 3, 150)
    return centres[y] + rng.standard_normal((150, 2)), y


def test_wrapper_trains_as_a_hand_written_loop() -> None:
    X, y = _blobs()
    net = Sequential(Linear(2, 8, rng=0), ReLU(), Linear(8, 3, rng=1))
    before = net.state_dict()
    clf = NeuralNetClassifier(net, optimizer=al.optim.SGD, optimizer__momentum=0.9, lr=0.05,
                              max_epochs=3, batch_size=50, shuffle=False).fit(X, y)  # fmt: skip
    for name, value in net.state_dict().items():  # the instance given is left alone
        np.testing.assert_array_equal(value, before[name])
    mine = copy.deepcopy(net)
    opt = al.optim.SGD(mine.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):
        for start in range(0, 150, 50):
            loss = al.cross_entropy(mine(X[start : start + 50]), y[start : start + 50])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for name, value in mine.state_dict().items():
        np.testing.assert_allclose(clf.module_.state_dict()[name], value, rtol=1e-12)
    assert isinstance(clf.optimizer_, al.optim.SGD) and clf.optimizer_.momentum == 0.9
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_module_params_route_through_grid_search_and_clone() -> None:
    X, y = _blobs()
    clf = NeuralNetClassifier(two_layer, module__hidden=3, max_epochs=20, random_state=0)
    copied = clone(clf)
    assert copied.get_params()["module__hidden"] == 3
    search = GridSearchCV(clf, {"module__hidden": [2, 12], "lr": [0.03]}, cv=3).fit(X, y)
    assert search.best_params_["module__hidden"] in (2, 12)
    assert search.best_estimator_.module_[0].out_features == search.best_params_["module__hidden"]
    assert search.best_score_ > 0.9
    a, b = clone(clf).fit(X, y), clone(clf).fit(X, y)  # random_state seeds the builder's rng
    np.testing.assert_array_equal(a.module_[0].weight.data, b.module_[0].weight.data)
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict_proba(X), a.predict_proba(X))


def test_wrapper_errors_name_the_problem() -> None:
    X, y = _blobs()
    with pytest.raises(TypeError, match="unknown parameter 'hiden'"):
        NeuralNetClassifier(two_layer, hiden=3).fit(X, y)
    with pytest.raises(ValueError, match=r"shape \(128, 3\)"):
        NeuralNetClassifier(Sequential(Linear(2, 4))).fit(X, y)
    with pytest.raises(ValueError, match="needs a module class or builder"):
        NeuralNetClassifier(Sequential(Linear(2, 3)), module__hidden=3).fit(X, y)
    with pytest.raises(ValueError, match="scalar Tensor"):
        crit = lambda out, t: al.cross_entropy(out, t, reduction="none")  # noqa: E731
        NeuralNetClassifier(two_layer, criterion=crit).fit(X, y)
    with pytest.raises(TypeError, match="module must be a Module"):
        NeuralNetRegressor(3).fit(X, y)


def test_neural_net_regressor_fits_a_sine_and_partial_fit_goes_on() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (600, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(600)
    reg = NeuralNetRegressor(two_layer, module__hidden=32, max_epochs=60, batch_size=32,
                             random_state=0).fit(X[:400], y[:400])  # fmt: skip
    assert reg.predict(X[400:]).shape == (200,)
    assert r2_score(y[400:], reg.predict(X[400:])) >= 0.9
    reg.partial_fit(X[:400], y[:400])
    assert reg.n_iter_ == 61 and len(reg.loss_curve_) == 61
