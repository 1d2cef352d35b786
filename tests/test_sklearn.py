"""cnet's scikit-learn estimators (cnet/sklearn.py): scikit-learn's own
estimator checks, and the behaviour its users rely on."""
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import cnet  # noqa: E402
import cnet.sklearn  # noqa: E402
from cnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


# Expected failures of scikit-learn's checks, each with its reason.
def expected_failures(estimator):
    params = estimator.get_params()
    if params.get("dropout"):
        return {"check_sample_weight_equivalence_on_dense_data":
                "with dropout each example draws its own masks (keyed by the example), so a "
                "repeated example is not the same as one of weight 2"}
    if params.get("solver") == "sgd" and params.get("tol") == 1e-2:
        reason = ("these settings (scikit-learn's own for its sample-weight check) stop sgd "
                  "after a few epochs, before it fits: scikit-learn's MLPRegressor fails this "
                  "check with them too (tested below)")
        return {"check_regressors_train": reason,
                "check_regressors_train(readonly_memmap=True)": reason,
                "check_regressors_train(readonly_memmap=True,X_dtype=float32)": reason}
    return {}


ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPClassifier(hidden_layer_sizes=(20, 10), activation=["tanh", "leaky_relu"],
                  solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                  max_iter=100, random_state=1),
    MLPClassifier(solver="rmsprop", dropout=0.05, class_weight="balanced", dtype="float32",
                  learning_rate_init=0.01, max_iter=100, random_state=2),
    MLPRegressor(max_iter=100, random_state=0),
    MLPRegressor(solver="sgd", tol=1e-2, random_state=42),
    MLPRegressor(hidden_layer_sizes=(20,), solver="rmsprop", learning_rate_init=0.01,
                 max_iter=80, random_state=3),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_scikit_learn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ----------------------------------------------------------------- behaviour

@pytest.fixture(scope="module")
def digits():
    (X, y), (Xt, yt) = cnet.datasets.load_sample()
    return X[:3000], y[:3000], Xt[:1000], yt[:1000]


def test_attributes_as_scikit_learn(digits):
    X, y, Xt, yt = digits
    clf = MLPClassifier(hidden_layer_sizes=(30,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\) reached"):
        clf.fit(X, y)
    assert_array_equal(clf.classes_, np.arange(10))
    assert [c.shape for c in clf.coefs_] == [(784, 30), (30, 10)]
    assert [b.shape for b in clf.intercepts_] == [(30,), (10,)]
    assert clf.n_iter_ == 5 and clf.t_ == 5 * len(X) and len(clf.loss_curve_) == 5
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.n_layers_ == 3 and clf.n_outputs_ == 10 and clf.out_activation_ == "softmax"
    assert clf.n_features_in_ == 784 and clf.validation_scores_ is None
    assert isinstance(clf.network_, cnet.Network) and len(clf.history_["epoch"]) == 5
    assert clf.score(Xt, yt) > 0.75
    P = clf.predict_proba(Xt)
    assert P.shape == (1000, 10)
    assert_allclose(P.sum(axis=1), 1, rtol=1e-6)  # float32: the sample's dtype
    assert_allclose(clf.predict_log_proba(Xt), np.log(P))
    assert_array_equal(clf.predict(Xt), clf.classes_[P.argmax(axis=1)])
    # coefs_ are views: editing them edits the network
    clf.coefs_[1][:] = 0
    clf.intercepts_[1][:] = 0
    assert_allclose(clf.predict_proba(Xt), 0.1)


def test_binary_multilabel_and_string_classes():
    rng = np.random.default_rng(0)
    X = rng.random((200, 5))
    y = np.where(X[:, 0] + X[:, 1] > 1, "yes", "no")
    clf = MLPClassifier((10,), max_iter=300, random_state=0, learning_rate_init=0.01).fit(X, y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert set(clf.predict(X)) <= {"yes", "no"} and clf.score(X, y) > 0.9
    assert clf.predict_proba(X).shape == (200, 2)
    Y = np.stack([X[:, 0] > 0.5, X[:, 1] > 0.5, X[:, 2] > 0.3], axis=1).astype(int)
    ml = MLPClassifier((20,), max_iter=300, random_state=0, learning_rate_init=0.01).fit(X, Y)
    assert ml.out_activation_ == "logistic" and ml.predict(X).shape == (200, 3)
    assert (ml.predict(X) == Y).mean() > 0.9


def test_multi_output_regression():
    rng = np.random.default_rng(1)
    X = rng.random((300, 4))
    Y = np.stack([X @ [1, 2, 0, 0], X @ [0, 0, -1, 1]], axis=1)
    reg = MLPRegressor((16,), max_iter=400, random_state=0, learning_rate_init=0.01).fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.score(X, Y) > 0.95
    assert reg.out_activation_ == "identity"
    one = MLPRegressor((16,), max_iter=50, random_state=0).fit(X, Y[:, 0])
    assert one.predict(X).shape == (300,)


def test_early_stopping_restores_the_best_weights(digits):
    X, y, Xt, yt = digits
    seen = {}

    class Watched(MLPClassifier):
        def _update_no_improvement_count(self, validation):
            seen["validation"] = validation
            super()._update_no_improvement_count(validation)

    clf = Watched((30,), early_stopping=True, n_iter_no_change=3, max_iter=100,
                  learning_rate_init=0.05, random_state=0).fit(X, y)
    scores = clf.validation_scores_
    assert clf.n_iter_ == len(scores) < 100 and clf.best_validation_score_ == max(scores)
    assert clf.best_loss_ is None
    assert len(scores) - 1 - int(np.argmax(scores)) == 4  # n_iter_no_change + 1 after it
    X_val, y_val, _ = seen["validation"]
    assert len(X_val) == 300  # validation_fraction 0.1 of 3,000
    assert clf.score(X_val, y_val) == clf.best_validation_score_  # the best epoch's weights


def test_partial_fit_and_warm_start(digits):
    X, y, Xt, yt = digits
    a = MLPClassifier((20,), random_state=0, shuffle=False, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        a.partial_fit(X[:100], y[:100])
    for k in range(0, 3000, 1000):
        a.partial_fit(X[k:k + 1000], y[k:k + 1000], classes=np.arange(10))
    assert a.n_iter_ == 3 and a.t_ == 3000 and a.score(Xt, yt) > 0.6
    b = MLPClassifier((20,), max_iter=2, warm_start=True, random_state=0)
    with pytest.warns(ConvergenceWarning):
        b.fit(X, y)
    first = [c.copy() for c in b.coefs_]
    with pytest.warns(ConvergenceWarning):
        b.fit(X, y)
    assert b.n_iter_ == 4 and not np.allclose(b.coefs_[0], first[0])
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        b.fit(X[y < 5], y[y < 5])


def test_pipeline_search_and_clone(digits):
    X, y, Xt, yt = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier((20,), max_iter=20, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X[:1500], y[:1500], cv=3)
        assert scores.shape == (3,) and scores.min() > 0.7
        search = GridSearchCV(MLPClassifier(max_iter=10, random_state=0),
                              {"hidden_layer_sizes": [(10,), (30,)], "alpha": [1e-4, 1e-2]},
                              cv=2).fit(X[:1000], y[:1000])
    assert search.best_params_["hidden_layer_sizes"] in [(10,), (30,)]
    c = clone(MLPClassifier(dropout=0.2, activation=["relu"])).set_params(alpha=0.5)
    assert c.get_params()["alpha"] == 0.5 and c.get_params()["dropout"] == 0.2


def test_pandas_input_with_feature_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.random((100, 3)), columns=["a", "b", "c"])
    y = (df["a"] > 0.5).astype(int)
    clf = MLPClassifier((5,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[["b", "a", "c"]])


def test_same_settings_same_results_and_float32(digits):
    X, y, Xt, yt = digits
    kw = dict(hidden_layer_sizes=(20,), max_iter=3, random_state=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X = X.astype(np.float64)
        a = MLPClassifier(**kw).fit(X, y)
        b = MLPClassifier(**kw).fit(X, y)
        c = MLPClassifier(**kw, n_threads=2).fit(X, y)
        f = MLPClassifier(**kw).fit(X.astype(np.float32), y)
        g = MLPClassifier(**kw, dtype="float32").fit(X, y)
        h = MLPClassifier(**kw, dtype=np.dtype("float32")).fit(X, y)  # a dtype object too
    for p, q, r in zip(a.coefs_, b.coefs_, c.coefs_):
        assert_array_equal(p, q)
        assert_array_equal(p, r)
    assert f.network_.dtype == np.float32 and f.coefs_[0].dtype == np.float32
    assert a.network_.dtype == np.float64 and g.network_.dtype == np.float32
    assert h.network_.dtype == np.float32
    assert_array_equal(h.coefs_[0], g.coefs_[0])


def test_network_in_and_out(digits, tmp_path):
    X, y, Xt, yt = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((20,), max_iter=3, random_state=0).fit(X, y[:len(X)] + 10)
    clf.save(tmp_path / "clf.npz")
    back = MLPClassifier.load(tmp_path / "clf.npz")
    assert_array_equal(back.classes_, np.arange(10, 20))
    assert_array_equal(back.predict_proba(Xt), clf.predict_proba(Xt))
    assert back.get_params()["hidden_layer_sizes"] == (20,)
    again = pickle.loads(pickle.dumps(clf))
    assert_array_equal(again.predict(Xt), clf.predict(Xt))
    net = cnet.Network([784, 30, 10], activation="relu", output_activation="softmax",
                       cost="log_likelihood", init="he", seed=0)
    net.fit(X, y, 2, 32, 0.1)
    wrapped = MLPClassifier.from_network(net)
    assert_array_equal(wrapped.predict(Xt), net.predict(Xt))
    assert wrapped.score(Xt, yt) == pytest.approx(net.score(Xt, yt))
    with pytest.raises(ValueError, match="holds no MLPRegressor"):
        MLPRegressor.load(tmp_path / "clf.npz")


def test_unknown_parameter_values_fail_in_fit():
    X, y = np.random.rand(20, 3), np.arange(20) % 2
    for kw, match in [(dict(solver="newton"), "'solver' parameter of MLPClassifier must be"),
                      (dict(activation="softplus"), "'activation' parameter"),
                      (dict(alpha=-1.0), "'alpha' parameter"),
                      (dict(dropout=1.0), "'dropout' parameter"),
                      (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
                      (dict(activation=["relu", "tanh"]), "one per hidden layer"),
                      (dict(solver="lbfgs"), "solver='lbfgs' is not available")]:
        clf = MLPClassifier(**kw)  # accepted here, as scikit-learn's
        with pytest.raises(ValueError, match=match):
            clf.fit(X, y)
    for dtype in (np.float16, np.dtype("int32")):  # a type or dtype, but not these
        with pytest.raises(TypeError, match="dtype must be float32 or float64"):
            MLPClassifier(dtype=dtype).fit(X, y)


@pytest.mark.parametrize("kw", [
    dict(solver="sgd", momentum=0), dict(solver="sgd"),
    dict(solver="sgd", nesterovs_momentum=False, batch_size=64, alpha=0.1),
    dict(solver="sgd", learning_rate="invscaling", momentum=0.5),
    dict(solver="sgd", learning_rate="adaptive", tol=10, n_iter_no_change=1, max_iter=4),
    dict(solver="adam"), dict(solver="adam", activation="logistic", epsilon=1e-6)])
@pytest.mark.parametrize("est", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.kernels  # l2_batch and eps_hat in each kernel variant
def test_the_steps_are_scikit_learns(digits, kw, est):
    """With scikit-learn's random_state and no shuffling, the weights after
    some epochs are scikit-learn's MLP's to rounding: its Glorot draws, its
    alpha per mini-batch, its velocity across rate changes, its Adam's eps."""
    from sklearn import neural_network
    X, y, _, _ = digits
    X, y = X[:300].astype(np.float64), y[:300]
    if est == "MLPRegressor":
        y = y.astype(np.float64)
    kw = {**dict(hidden_layer_sizes=(16,), alpha=1e-3, batch_size=50, shuffle=False,
                 max_iter=3, random_state=0, learning_rate_init=0.01), **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = getattr(cnet.sklearn, est)(**kw).fit(X, y)
        theirs = getattr(neural_network, est)(**kw).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())
    # loss_: the same mean cost over the epoch's mini-batches, plus the L2
    # term at the epoch's last weights (scikit-learn's at each mini-batch's):
    # they differ by less than that term
    n_batches = -(-len(X) // kw["batch_size"])
    l2 = 0.5 * kw["alpha"] * n_batches / len(X) * sum(np.sum(W ** 2) for W in theirs.coefs_)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12, atol=l2)
    if kw["alpha"] == 1e-3:  # and without it, the same to rounding
        kw["alpha"] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = getattr(cnet.sklearn, est)(**kw).fit(X, y)
            theirs = getattr(neural_network, est)(**kw).fit(X, y)
        assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)


def test_accuracy_close_to_scikit_learns(digits):
    """The same settings, seed aside: cnet's estimator reaches scikit-learn's
    MLP's accuracy (the README's table has MNIST and Fashion-MNIST)."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    X, y, Xt, yt = digits
    for solver, kw in [("adam", {}), ("sgd", dict(learning_rate_init=0.1))]:
        ours = MLPClassifier((64,), solver=solver, max_iter=15, random_state=0, **kw)
        theirs = SkMLP((64,), solver=solver, max_iter=15, random_state=0, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = ours.fit(X, y).score(Xt, yt)
            b = theirs.fit(X, y).score(Xt, yt)
        assert a > b - 0.02, (solver, a, b)


def test_scikit_learns_own_mlp_fails_check_regressors_train_with_those_settings():
    """The reason given for the expected failure above, checked."""
    from sklearn.neural_network import MLPRegressor as SkMLP
    from sklearn.utils.estimator_checks import check_regressors_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(AssertionError):
            check_regressors_train("MLPRegressor", SkMLP(solver="sgd", tol=1e-2,
                                                         random_state=42))
