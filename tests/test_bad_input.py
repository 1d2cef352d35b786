"""Bad input: every one is a ValueError or TypeError that names the argument
and says what it must be, raised before anything is trained (the parameters
are left as they were).  Good input in any reasonable form (lists, Fortran
order, strided or read-only views, other numeric dtypes) gives exactly the
result of the clean float C-contiguous array.  Training that diverges raises
cnet.DivergenceError and puts the parameters back.

Small networks and data only: every test runs in milliseconds.
"""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import cnet

N_IN, N_HID, N_OUT = 784, 8, 10
N = 24  # samples


# ----------------------------------------------------------------- helpers


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    X = rng.random((N, N_IN))
    y = rng.integers(0, N_OUT, N)
    return X, y


@pytest.fixture
def net():
    return cnet.Network([N_IN, N_HID, N_OUT], seed=3)


def params(net):
    """Copies of all parameters, to check later that nothing changed."""
    return [p.copy() for p in net.weights + net.biases]


def assert_params(net, saved):
    now = net.weights + net.biases
    assert len(now) == len(saved)
    for p, s in zip(now, saved):
        assert_array_equal(p, s)


def column_pairs(X, y):
    """Nielsen's format: [(x (n_in, 1), int label)]."""
    return [(x.reshape(-1, 1), int(k)) for x, k in zip(X, y)]


def onehot_pairs(X, y, n_out=N_OUT):
    return [(x.reshape(-1, 1), np.eye(n_out)[k].reshape(-1, 1)) for x, k in zip(X, y)]


# Every array-surface method that takes X, called with (net, X, y).
X_METHODS = {
    "forward": lambda net, X, y: net.forward(X),
    "predict": lambda net, X, y: net.predict(X),
    "score": lambda net, X, y: net.score(X, y),
    "cost": lambda net, X, y: net.cost(X, y),
    "gradient": lambda net, X, y: net.gradient(X, y),
    "fit": lambda net, X, y: net.fit(X, y, epochs=1, batch_size=4, eta=0.5),
}
# ... and those that take y too.
Y_METHODS = {k: X_METHODS[k] for k in ("score", "cost", "gradient", "fit")}


# ------------------------------------------------------- Network(...) itself


@pytest.mark.parametrize("sizes", [[], [784], [[784, 10]]])
def test_sizes_fewer_than_two_layers(sizes):
    with pytest.raises(ValueError, match=r"sizes must list at least 2 layers"):
        cnet.Network(sizes)


@pytest.mark.parametrize("sizes", [784, None])
def test_sizes_not_a_list(sizes):
    with pytest.raises(TypeError, match=r"sizes must be a list of layer sizes"):
        cnet.Network(sizes)


@pytest.mark.parametrize("sizes", [[784, 0, 10], [784, 30, 0], [784, -3, 10], [0, 10]])
def test_sizes_zero_or_negative(sizes):
    with pytest.raises(ValueError, match=r"sizes must hold positive integers"):
        cnet.Network(sizes)


@pytest.mark.parametrize("bad", [3.5, "3", True, 3.0, None])
def test_sizes_not_int(bad):
    with pytest.raises(TypeError, match=r"sizes must hold positive integers; got"):
        cnet.Network([784, bad, 10])


def test_sizes_numpy_integers_accepted():
    net = cnet.Network(np.array([5, 4, 3]))
    assert net.sizes == [5, 4, 3] and all(type(s) is int for s in net.sizes)


@pytest.mark.parametrize("dtype", [int, "int32", np.int64, "complex128", np.float16, "bogus",
                                   object])
def test_dtype_not_float32_or_float64(dtype):
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64"):
        cnet.Network([5, 3], dtype=dtype)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(activation="softplus"), "activation"),
    (dict(activation="softmax"), "activation"),  # softmax is for the output layer only
    (dict(activation=None), "activation"),
    (dict(output_activation="bogus"), "output_activation"),
    (dict(init="glorot"), "init"),
    (dict(cost="hinge"), "cost"),
    (dict(cost=dict), "cost"),
])
def test_unknown_names(kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be one of"):
        cnet.Network([5, 4, 3], **kwargs)


@pytest.mark.parametrize("cost, out", [
    ("cross_entropy", "relu"), ("cross_entropy", "softmax"), ("cross_entropy", "identity"),
    ("log_likelihood", "sigmoid"), ("log_likelihood", "relu"),
    ("quadratic", "softmax"), (cnet.CrossEntropyCost, "tanh"),
])
def test_cost_does_not_fit_output_activation(cost, out):
    with pytest.raises(ValueError, match=r"cost='\w+' does not fit output_activation="
                                         rf"'{out}': it needs an output activation in"):
        cnet.Network([5, 4, 3], output_activation=out, cost=cost)


def test_cost_fits_output_activation():
    cnet.Network([5, 4, 3], output_activation="softmax", cost="log_likelihood")
    cnet.Network([5, 4, 3], cost=cnet.CrossEntropyCost)
    cnet.Network([5, 4, 3], activation="relu", output_activation="identity")


# ------------------------------------------------------------ X, all methods


@pytest.mark.parametrize("method", list(X_METHODS))
def test_X_wrong_feature_count(method, net, data):
    X, y = data
    saved = params(net)
    with pytest.raises(ValueError, match=r"X has 783 features per sample, but the network's "
                                         r"input layer has 784 \(sizes\[0\]\)"):
        X_METHODS[method](net, X[:, :783], y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(X_METHODS))
@pytest.mark.parametrize("shape", [(N_IN,), (N, N_IN, 1), (2, N // 2, N_IN)])
def test_X_not_2d(method, shape, net, data):
    X, y = data
    saved = params(net)
    bad = X.reshape(shape) if shape != (N_IN,) else X[0]
    with pytest.raises(ValueError, match=r"X must be 2-D of shape \(n_samples, 784\); got shape"):
        X_METHODS[method](net, bad, y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(X_METHODS))
def test_X_empty(method, net, data):
    X, y = data
    with pytest.raises(ValueError, match=r"X is empty: it needs at least one sample"):
        X_METHODS[method](net, X[:0], y[:0])


@pytest.mark.parametrize("method", list(X_METHODS))
@pytest.mark.parametrize("kind", ["str", "object", "complex", "ragged"])
def test_X_not_real_numbers(method, kind, net, data):
    X, y = data
    saved = params(net)
    bad = {"str": X.astype(str), "object": X.astype(object),
           "complex": X.astype(complex),
           "ragged": [list(X[0]), list(X[1][:5])] + [list(x) for x in X[2:]]}[kind]
    with pytest.raises(TypeError, match=r"^X must (hold real numbers|be a numeric array)"):
        X_METHODS[method](net, bad, y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(X_METHODS))
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_X_not_finite(method, value, net, data):
    X, y = data
    X = X.copy()
    X[5, 300] = value
    saved = params(net)
    with pytest.raises(ValueError, match=r"X contains NaN or infinity"):
        X_METHODS[method](net, X, y)
    assert_params(net, saved)


def test_X_too_large_for_float32(data):
    """1e300 is finite in float64 but inf in a float32 network: say so."""
    X, y = data
    net = cnet.Network([N_IN, N_HID, N_OUT], dtype="float32", seed=3)
    X = X.copy()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"X has values too large for float32"):
        net.forward(X)


# ------------------------------------------------------------ y, all methods


@pytest.mark.parametrize("method", list(Y_METHODS))
def test_y_length_mismatch(method, net, data):
    X, y = data
    saved = params(net)
    with pytest.raises(ValueError, match=rf"y has {N - 1} entries but X has {N} samples"):
        Y_METHODS[method](net, X, y[:-1])
    with pytest.raises(ValueError, match=rf"y has {N + 1} entries but X has {N} samples"):
        Y_METHODS[method](net, X, np.eye(N_OUT)[np.r_[y, 0]])
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(Y_METHODS))
@pytest.mark.parametrize("n_cols", [2, N_OUT - 1, N_OUT + 1])
def test_targets_wrong_column_count(method, n_cols, net, data):
    X, y = data
    saved = params(net)
    with pytest.raises(ValueError, match=rf"y targets have {n_cols} columns, but the network's "
                                         rf"output layer has {N_OUT} \(sizes\[-1\]\)"):
        Y_METHODS[method](net, X, np.zeros((N, n_cols)))
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(Y_METHODS))
def test_y_3d(method, net, data):
    X, y = data
    with pytest.raises(ValueError, match=r"y must be labels \(n_samples,\) or targets "
                                         r"\(n_samples, 10\)"):
        Y_METHODS[method](net, X, np.zeros((N, N_OUT, 1)))


@pytest.mark.parametrize("method", list(Y_METHODS))
@pytest.mark.parametrize("label", [-1, N_OUT, 255])
def test_labels_out_of_range(method, label, net, data):
    X, y = data
    y = y.copy()
    y[4] = label
    saved = params(net)
    with pytest.raises(ValueError, match=r"y labels must be integers in \[0, 10\).*index 4"):
        Y_METHODS[method](net, X, y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(Y_METHODS))
def test_labels_not_whole_numbers(method, net, data):
    X, y = data
    y = y.astype(float)
    y[3] = 2.5
    saved = params(net)
    with pytest.raises(ValueError, match=r"y labels must be whole numbers in \[0, 10\)"):
        Y_METHODS[method](net, X, y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(Y_METHODS))
@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("form", ["labels", "targets"])
def test_y_not_finite(method, value, form, net, data):
    X, y = data
    y = y.astype(float) if form == "labels" else np.eye(N_OUT)[y]
    y[(2,) if form == "labels" else (2, 3)] = value
    saved = params(net)
    with pytest.raises(ValueError, match=r"y contains NaN or infinity"):
        Y_METHODS[method](net, X, y)
    assert_params(net, saved)


@pytest.mark.parametrize("method", list(Y_METHODS))
def test_y_not_numbers(method, net, data):
    X, y = data
    with pytest.raises(TypeError, match=r"y must hold real numbers"):
        Y_METHODS[method](net, X, y.astype(str))
    with pytest.raises(TypeError, match=r"y must hold real numbers"):
        Y_METHODS[method](net, X, [1, None] + [0] * (N - 2))


# --------------------------------------------------------- hyper-parameters


def fit(net, X, y, **kw):
    args = dict(epochs=1, batch_size=4, eta=0.5)
    args.update(kw)
    return net.fit(X, y, **args)


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(eta=0), ValueError, r"eta must be a finite number > 0; got 0"),
    (dict(eta=-0.5), ValueError, r"eta must be a finite number > 0"),
    (dict(eta=np.nan), ValueError, r"eta must be a finite number > 0; got nan"),
    (dict(eta=np.inf), ValueError, r"eta must be a finite number > 0; got inf"),
    (dict(eta=10 ** 400), ValueError, r"eta must be a finite number > 0; got inf"),
    (dict(eta="0.5"), TypeError, r"eta must be a real number"),
    (dict(eta=None), TypeError, r"eta must be a real number"),
    (dict(lmbda=-0.1), ValueError, r"lmbda must be a finite number >= 0"),
    (dict(lmbda=np.nan), ValueError, r"lmbda must be a finite number >= 0"),
    (dict(lmbda=np.inf), ValueError, r"lmbda must be a finite number >= 0"),
    (dict(batch_size=0), ValueError, r"batch_size must be an integer >= 1; got 0"),
    (dict(batch_size=-3), ValueError, r"batch_size must be an integer >= 1; got -3"),
    (dict(batch_size=2.5), TypeError, r"batch_size must be an integer >= 1; got 2.5"),
    (dict(batch_size=4.0), TypeError, r"batch_size must be an integer >= 1"),
    (dict(epochs=-1), ValueError, r"epochs must be an integer >= 0; got -1"),
    (dict(epochs=1.5), TypeError, r"epochs must be an integer >= 0; got 1.5"),
    (dict(epochs=True), TypeError, r"epochs must be an integer >= 0"),
    (dict(n_threads=0), ValueError, r"n_threads must be None or a positive integer; got 0"),
    (dict(n_threads=-1), ValueError, r"n_threads must be None or a positive integer; got -1"),
    (dict(n_threads=1.5), TypeError, r"n_threads must be None or a positive integer"),
    # eta * lmbda / n >= 1 would make the weight-decay factor <= 0
    (dict(eta=0.5, lmbda=2 * N), ValueError, r"eta \* lmbda / n_samples must be < 1"),
    (dict(eta=3.0, lmbda=100.0), ValueError, r"eta \* lmbda / n_samples must be < 1"),
])
def test_fit_bad_hyper_parameters(kw, exc, msg, net, data):
    X, y = data
    saved = params(net)
    with pytest.raises(exc, match=msg):
        fit(net, X, y, **kw)
    assert_params(net, saved)


def test_fit_lmbda_just_below_limit_trains(net, data):
    X, y = data
    fit(net, X, y, eta=0.5, lmbda=2 * N * 0.99)
    assert all(np.isfinite(w).all() for w in net.weights)


@pytest.mark.parametrize("method", ["forward", "predict", "score", "cost", "gradient"])
@pytest.mark.parametrize("n_threads, exc", [(0, ValueError), (-1, ValueError),
                                            (1.5, TypeError), ("2", TypeError)])
def test_n_threads(method, n_threads, exc, net, data):
    X, y = data
    call = getattr(net, method)
    args = (X,) if method in ("forward", "predict") else (X, y)
    with pytest.raises(exc, match=r"n_threads must be None or a positive integer"):
        call(*args, n_threads=n_threads)


def test_cost_negative_lmbda(net, data):
    X, y = data
    with pytest.raises(ValueError, match=r"lmbda must be a finite number >= 0"):
        net.cost(X, y, lmbda=-1.0)


@pytest.mark.parametrize("val, exc, msg", [
    ("X", TypeError, r"validation_data must be a pair \(X_val, y_val\)"),
    ("X,", TypeError, r"validation_data must be a pair \(X_val, y_val\)"),
    ("X,y,y", TypeError, r"validation_data must be a pair \(X_val, y_val\)"),
    ("783", ValueError, r"validation_data\[0\] has 783 features per sample"),
    ("1d", ValueError, r"validation_data\[0\] must be 2-D"),
    ("nan", ValueError, r"validation_data\[0\] contains NaN or infinity"),
    ("short y", ValueError, rf"validation_data\[1\] has {N - 1} entries but X has {N} samples"),
    ("label 10", ValueError, r"validation_data\[1\] labels must be integers in \[0, 10\)"),
])
def test_fit_bad_validation_data(val, exc, msg, net, data):
    X, y = data
    Xn = X.copy()
    Xn[0, 0] = np.nan
    y10 = y.copy()
    y10[0] = 10
    validation_data = {
        "X": X, "X,": (X,), "X,y,y": (X, y, y), "783": (X[:, :783], y),
        "1d": (X[0], y[:1]), "nan": (Xn, y), "short y": (X, y[:-1]), "label 10": (X, y10),
    }[val]
    saved = params(net)
    with pytest.raises(exc, match=msg):
        fit(net, X, y, validation_data=validation_data)
    assert_params(net, saved)


def test_fit_epochs_zero_leaves_weights(net, data):
    X, y = data
    saved = params(net)
    history = fit(net, X, y, epochs=0)
    assert history.get("train_cost", []) == []
    assert_params(net, saved)


# ------------------------------------------------- Nielsen's surface, bad input


def test_feedforward_wrong_size(net):
    with pytest.raises(ValueError, match=r"a must be an input column of shape \(784, 1\); "
                                         r"got shape \(783, 1\)"):
        net.feedforward(np.zeros((783, 1)))


def test_feedforward_nan(net):
    a = np.zeros((N_IN, 1))
    a[3] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN or infinity"):
        net.feedforward(a)


def test_feedforward_error_names_a(net):
    a = np.zeros((N_IN, 1))
    a[3] = np.nan
    with pytest.raises(ValueError, match=r"^a contains NaN or infinity"):
        net.feedforward(a)


def test_feedforward_rejects_non_column(net):
    with pytest.raises(ValueError, match=r"a must be an input column of shape \(784, 1\)"):
        net.feedforward(np.zeros((392, 2)))


def test_feedforward_accepts_flat_and_row(net, data):
    X, _ = data
    col = net.feedforward(X[0].reshape(-1, 1))
    assert col.shape == (N_OUT, 1)
    assert_array_equal(net.feedforward(X[0]), col)
    assert_array_equal(net.feedforward(X[0].reshape(1, -1)), col)


@pytest.mark.parametrize("x, y, exc, msg", [
    (np.zeros((783, 1)), 3, ValueError, r"backprop's \(x, y\) has 783 features per sample"),
    (np.full((784, 1), np.nan), 3, ValueError, r"backprop's \(x, y\) contains NaN"),
    (np.zeros((784, 1)), 10, ValueError, r"backprop's \(x, y\) labels must be integers in "
                                         r"\[0, 10\)"),
    (np.zeros((784, 1)), -1, ValueError, r"backprop's \(x, y\) labels must be integers"),
    (np.zeros((784, 1)), 2.5, ValueError, r"backprop's \(x, y\) labels must be whole numbers"),
    (np.zeros((784, 1)), np.zeros((9, 1)), ValueError,
     r"backprop's \(x, y\) targets have 9 columns, but the network's output layer has 10"),
    (np.zeros((784, 1)), np.full((10, 1), np.inf), ValueError,
     r"backprop's \(x, y\) contains NaN or infinity"),
    (np.array(["a"] * 784), 3, TypeError, r"backprop's \(x, y\) must hold real numbers"),
    (np.zeros((784, 1)), "3", TypeError, r"backprop's \(x, y\) must hold real numbers"),
])
def test_backprop_bad(x, y, exc, msg, net):
    saved = params(net)
    with pytest.raises(exc, match=msg):
        net.backprop(x, y)
    assert_params(net, saved)


def test_update_mini_batch_bad(net, data):
    X, y = data
    batch = onehot_pairs(X[:4], y[:4])
    saved = params(net)
    cases = [
        (lambda: net.update_mini_batch(batch, 0.0), ValueError, r"eta must be a finite number > 0"),
        (lambda: net.update_mini_batch(batch, np.nan), ValueError, r"eta must be a finite"),
        (lambda: net.update_mini_batch(batch, "3"), TypeError, r"eta must be a real number"),
        (lambda: net.update_mini_batch(batch, 1.0, -0.5, 10), ValueError,
         r"lmbda must be a finite number >= 0"),
        (lambda: net.update_mini_batch(batch, 1.0, 0.5, 0), ValueError,
         r"n must be an integer >= 1; got 0"),
        (lambda: net.update_mini_batch(batch, 1.0, 0.5, 2.5), TypeError,
         r"n must be an integer >= 1"),
        (lambda: net.update_mini_batch([], 1.0), ValueError, r"mini_batch is empty"),
        (lambda: net.update_mini_batch(None, 1.0), TypeError,
         r"mini_batch must be a list of \(x, y\) pairs"),
        (lambda: net.update_mini_batch([X[0], X[1]], 1.0), TypeError,
         r"mini_batch must be a list of \(x, y\) pairs"),
        (lambda: net.update_mini_batch(onehot_pairs(X[:4, :783], y[:4]), 1.0), ValueError,
         r"mini_batch has 783 features per sample"),
        (lambda: net.update_mini_batch(batch[:2] + column_pairs(X[2:4], y[2:4]), 1.0),
         ValueError, r"the y of every pair in mini_batch must have the same shape"),
        (lambda: net.update_mini_batch(column_pairs(X[:4], [0, 1, 2, 10]), 1.0), ValueError,
         r"mini_batch labels must be integers in \[0, 10\)"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            call()
        assert_params(net, saved)


def test_update_mini_batch_decay_not_positive(net, data):
    X, y = data
    saved = params(net)
    with pytest.raises(ValueError, match=r"eta \* lmbda / n"):
        net.update_mini_batch(onehot_pairs(X[:4], y[:4]), 3.0, 100.0, 50)
    assert_params(net, saved)


@pytest.mark.parametrize("test_data, exc, msg", [
    (None, TypeError, r"test_data must be a list of \(x, y\) pairs"),
    ([], ValueError, r"test_data is empty"),
    (5, TypeError, r"test_data must be a list of \(x, y\) pairs"),
    ("783", ValueError, r"test_data has 783 features per sample"),
    ("label 10", ValueError, r"test_data labels must be integers in \[0, 10\)"),
    ("label 1.5", ValueError, r"test_data labels must be whole numbers"),
])
def test_evaluate_bad(test_data, exc, msg, net, data):
    X, y = data
    if test_data == "783":
        test_data = column_pairs(X[:, :783], y)
    elif test_data == "label 10":
        test_data = column_pairs(X, y)[:-1] + [(X[-1].reshape(-1, 1), 10)]
    elif test_data == "label 1.5":
        test_data = column_pairs(X, y)[:-1] + [(X[-1].reshape(-1, 1), 1.5)]
    with pytest.raises(exc, match=msg):
        net.evaluate(test_data)


def test_evaluate_on_one_hot_targets(net, data):
    X, y = data
    expected = sum(int(np.argmax(net.feedforward(x)) == k) for x, k in column_pairs(X, y))
    assert expected > 0  # otherwise the test could not tell
    assert net.evaluate(onehot_pairs(X, y)) == expected
    assert net.accuracy(onehot_pairs(X, y), convert=True) == expected


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(training_data=[]), ValueError, r"training_data is empty"),
    (dict(training_data=None), TypeError, r"training_data must be a list of \(x, y\) pairs"),
    (dict(epochs=-1), ValueError, r"epochs must be an integer >= 0"),
    (dict(epochs=2.0), TypeError, r"epochs must be an integer >= 0"),
    (dict(eta=0.0), ValueError, r"eta must be a finite number > 0"),
    (dict(eta=np.inf), ValueError, r"eta must be a finite number > 0"),
    (dict(lmbda=-1.0), ValueError, r"lmbda must be a finite number >= 0"),
    (dict(lmbda=1e6), ValueError, r"eta \* lmbda / n_samples must be < 1"),
    (dict(n_threads=0), ValueError, r"n_threads must be None or a positive integer"),
    (dict(test_data="783"), ValueError, r"test_data has 783 features per sample"),
    (dict(evaluation_data="label 10"), ValueError,
     r"evaluation_data labels must be integers in \[0, 10\)"),
    (dict(training_data="783"), ValueError, r"training_data has 783 features per sample"),
    (dict(training_data="nan y"), ValueError, r"training_data contains NaN or infinity"),
])
def test_SGD_bad(kw, exc, msg, net, data):
    X, y = data
    bad = {"783": column_pairs(X[:, :783], y),
           "label 10": column_pairs(X, np.r_[y[:-1], 10]),
           "nan y": onehot_pairs(X, y)[:-1] + [(X[-1].reshape(-1, 1), np.full((10, 1), np.nan))]}
    kw = {k: bad.get(v, v) if isinstance(v, str) else v for k, v in kw.items()}
    args = dict(training_data=onehot_pairs(X, y), epochs=1, mini_batch_size=4, eta=0.5)
    args.update(kw)
    saved = params(net)
    with pytest.raises(exc, match=msg):
        net.SGD(**args)
    assert_params(net, saved)


@pytest.mark.parametrize("size, exc", [(0, ValueError), (-3, ValueError), (2.5, TypeError)])
def test_SGD_bad_mini_batch_size(size, exc, net, data):
    X, y = data
    with pytest.raises(exc, match=r"batch_size must be an integer >= 1"):
        net.SGD(onehot_pairs(X, y), 1, size, 0.5)


def test_SGD_bad_mini_batch_size_names_it(net, data):
    X, y = data
    with pytest.raises(ValueError, match=r"^mini_batch_size must be an integer >= 1"):
        net.SGD(onehot_pairs(X, y), 1, 0, 0.5)


# ------------------------------------------------ weights the user replaced


def test_assigned_weight_of_wrong_shape_surfaces_at_next_call(net, data):
    X, y = data
    saved = params(net)
    net.weights[0] = np.zeros((N_HID, N_IN - 1))  # list item: no setter runs here
    calls = [lambda: net.forward(X), lambda: net.predict(X), lambda: net.score(X, y),
             lambda: net.cost(X, y), lambda: net.gradient(X, y), lambda: fit(net, X, y),
             lambda: net.feedforward(X[0].reshape(-1, 1)),
             lambda: net.backprop(X[0].reshape(-1, 1), 1),
             lambda: net.update_mini_batch(onehot_pairs(X[:2], y[:2]), 0.5),
             lambda: net.evaluate(column_pairs(X, y)),
             lambda: net.SGD(onehot_pairs(X, y), 1, 4, 0.5, verbose=False)]
    for call in calls:
        with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(8, 784\); "
                                             r"got \(8, 783\)"):
            call()
    net.weights[0] = saved[0]  # fixed: the network works again, untouched
    assert_params(net, saved)
    net.forward(X)


def test_assigned_weight_transposed(net, data):
    X, _ = data
    net.weights[1] = net.weights[1].T.copy()
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(10, 8\); got \(8, 10\)"):
        net.forward(X)


def test_assigned_bias_of_wrong_shape(net, data):
    X, _ = data
    net.biases[1] = np.zeros((N_OUT + 1, 1))
    with pytest.raises(ValueError, match=r"biases\[1\] must have shape \(10, 1\); got \(11, 1\)"):
        net.forward(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_assigned_weight_not_finite(bad, net, data):
    X, _ = data
    w = net.weights[0].copy()
    w[1, 2] = bad
    net.weights[0] = w
    with pytest.raises(ValueError, match=r"weights\[0\] must hold finite real numbers"):
        net.forward(X)


def test_assigned_weight_list_of_wrong_length(net):
    with pytest.raises(ValueError, match=r"weights must hold 2 arrays, one per layer; got 1"):
        net.weights = net.weights[:1]


def test_assigned_bias_list_of_wrong_length(net):
    with pytest.raises(ValueError, match=r"biases must hold 2 arrays, one per layer; got 3"):
        net.biases = net.biases + net.biases[:1]


def test_rejected_assignment_leaves_network_usable(net, data):
    X, _ = data
    saved = params(net)
    with pytest.raises(ValueError, match=r"weights must hold 2 arrays"):
        net.weights = net.weights[:1]
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(8, 1\)"):
        net.biases = [np.zeros((3, 1)), net.biases[1]]
    assert_params(net, saved)
    net.forward(X)


# ------------------------------------------------------- accepted input forms


def reference_forward_and_fit(X, y, dtype="float64", **fit_kw):
    """forward output and post-fit parameters for clean arrays."""
    net = cnet.Network([N_IN, N_HID, N_OUT], dtype=dtype, seed=5)
    out = net.forward(X)
    fit(net, X, y, shuffle=False, **fit_kw)
    return out, params(net)


def check_same(X_in, y_in, X_ref, y_ref, dtype="float64"):
    out_ref, p_ref = reference_forward_and_fit(X_ref, y_ref, dtype)
    net = cnet.Network([N_IN, N_HID, N_OUT], dtype=dtype, seed=5)
    out = net.forward(X_in)
    assert out.dtype == np.dtype(dtype) and out.flags.c_contiguous
    assert_array_equal(out, out_ref)
    fit(net, X_in, y_in, shuffle=False)
    for p, q in zip(params(net), p_ref):
        assert_array_equal(p, q)
    # and training changed something, so the comparison means something
    initial = params(cnet.Network([N_IN, N_HID, N_OUT], dtype=dtype, seed=5))
    assert not all(np.array_equal(p, q) for p, q in zip(params(net), initial))


def test_accepts_list_of_lists(data):
    X, y = data
    check_same(X.tolist(), y.tolist(), X, y)


def test_accepts_fortran_order(data):
    X, y = data
    check_same(np.asfortranarray(X), y, X, y)


def test_accepts_column_slice_of_bigger_array(data):
    X, y = data
    big = np.random.default_rng(1).random((N, N_IN + 16))
    big[:, 3:3 + N_IN] = X
    view = big[:, 3:3 + N_IN]
    assert not view.flags.c_contiguous
    check_same(view, y, X, y)


def test_accepts_row_strided_slice(data):
    X, y = data
    doubled = np.repeat(X, 2, axis=0)
    doubled[1::2] = -1.0  # rows the view must skip
    view = doubled[::2]
    assert not view.flags.c_contiguous
    check_same(view, y, X, y)
    ydoubled = np.repeat(y, 2)
    check_same(view, ydoubled[::2], X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accepts_read_only(dtype, data):
    X, y = data
    Xr = X.astype(dtype)
    Xr.setflags(write=False)
    yr = y.astype(np.intp)
    yr.setflags(write=False)
    check_same(Xr, yr, X.astype(dtype), y, dtype)
    T = np.eye(N_OUT, dtype=dtype)[y]
    T.setflags(write=False)
    check_same(Xr, T, X.astype(dtype), y, dtype)


def test_accepts_float32_into_float64(data):
    X, y = data
    X32 = X.astype(np.float32)
    check_same(X32, y, X32.astype(np.float64), y, "float64")


def test_accepts_float64_into_float32(data):
    X, y = data
    check_same(X, y, X.astype(np.float32), y, "float32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accepts_uint8(dtype, data):
    _, y = data
    Xu = np.random.default_rng(2).integers(0, 256, (N, N_IN), dtype=np.uint8)
    check_same(Xu, y, Xu.astype(dtype), y, dtype)


@pytest.mark.parametrize("form", ["int32", "uint8", "float64", "float32", "column", "list"])
def test_accepts_label_forms(form, data):
    X, y = data
    y_in = {"int32": y.astype(np.int32), "uint8": y.astype(np.uint8),
            "float64": y.astype(np.float64), "float32": y.astype(np.float32),
            "column": y.reshape(-1, 1), "list": [int(k) for k in y]}[form]
    check_same(X, y_in, X, y)
    net = cnet.Network([N_IN, N_HID, N_OUT], seed=5)
    assert net.score(X, y_in) == net.score(X, y)
    assert net.cost(X, y_in) == net.cost(X, y)


def test_labels_equal_one_hot_targets(data):
    X, y = data
    check_same(X, np.eye(N_OUT)[y], X, y)


# ------------------------------------------------------------- divergence


def unscaled(n=60, seed=4):
    rng = np.random.default_rng(seed)
    return rng.random((n, 6)) * 255, rng.integers(0, 3, n)


def identity_net(seed=2):
    return cnet.Network([6, 5, 3], activation="identity", output_activation="identity",
                        seed=seed)


def test_divergence_in_first_epoch_restores_initial_weights():
    X, y = unscaled()
    net = identity_net()
    saved = params(net)
    with pytest.raises(cnet.DivergenceError, match=r"diverged in epoch 1.*smaller eta") as info:
        net.fit(X, y, epochs=3, batch_size=5, eta=1e6)
    assert isinstance(info.value, FloatingPointError)
    assert_params(net, saved)


@pytest.mark.parametrize("surface", ["fit", "SGD"])
def test_divergence_after_a_good_epoch_restores_that_epoch(surface):
    X, y = unscaled()
    Xs = X / 255
    net = identity_net()
    initial = params(net)
    net.fit(Xs, y, epochs=1, batch_size=5, eta=0.01)
    after_good = params(net)
    assert not all(np.array_equal(p, q) for p, q in zip(after_good, initial))
    with pytest.raises(cnet.DivergenceError, match=r"smaller eta \(now 1e\+06\)"):
        if surface == "fit":
            net.fit(X, y, epochs=1, batch_size=5, eta=1e6)
        else:
            net.SGD(column_pairs(X, y), 1, 5, 1e6, verbose=False)
    assert_params(net, after_good)
    # The views the user holds still show the parameters, and the net still trains.
    assert all(np.isfinite(p).all() for p in net.weights + net.biases)
    history = net.fit(Xs, y, epochs=2, batch_size=5, eta=0.01)
    assert np.isfinite(history.train_cost).all()
    out = net.forward(Xs)
    manual = Xs
    for w, b in zip(net.weights, net.biases):
        manual = manual @ w.T + b.ravel()
    np.testing.assert_allclose(out, manual, rtol=1e-12, atol=1e-12)


def test_divergence_error_is_floating_point_error():
    assert issubclass(cnet.DivergenceError, FloatingPointError)
