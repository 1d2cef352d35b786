"""The smaller promises of issue 11: short messages, hyper-parameters that
mean what they say, one trainer at a time."""
import threading
import time

import numpy as np
import pytest

import cnet

HUGE = [(np.zeros((4, 1)), 1)] * 100_000  # a data set where a number belongs


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((60, 4)), rng.integers(0, 3, 60)


def test_test_data_in_the_lmbda_slot_gets_a_short_pointed_message():
    net = cnet.Network([4, 5, 3], seed=0)
    train = [(np.zeros((4, 1)), np.eye(3)[:, [0]])] * 20
    with pytest.raises(TypeError) as info:
        net.SGD(train, 1, 10, 3.0, HUGE)
    msg = str(info.value)
    assert len(msg) < 400 and "test_data=" in msg and "100000 items" in msg


@pytest.mark.parametrize("arg", ["epochs", "batch_size", "eta", "lmbda", "shuffle", "n_threads",
                                 "callbacks", "verbose", "validation_data"])
def test_every_fit_argument_error_is_summarised(arg, data):
    X, y = data
    kwargs = dict(epochs=1, batch_size=10, eta=0.1)
    kwargs[arg] = HUGE if arg != "validation_data" else (HUGE, HUGE)
    with pytest.raises((TypeError, ValueError)) as info:
        cnet.Network([4, 5, 3], seed=0).fit(X, y, **kwargs)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("kwargs", [dict(sizes=HUGE), dict(activation=HUGE), dict(cost=HUGE),
                                    dict(dtype=HUGE), dict(seed=HUGE), dict(init=HUGE),
                                    dict(output_activation=HUGE)])
def test_every_constructor_error_is_summarised(kwargs):
    kwargs = {"sizes": [4, 5, 3], **kwargs}
    with pytest.raises((TypeError, ValueError)) as info:
        cnet.Network(**kwargs)
    assert len(str(info.value)) < 400


def test_softmax_with_one_output_is_refused():
    with pytest.raises(ValueError, match="softmax.*at least 2"):
        cnet.Network([4, 1], output_activation="softmax", cost="log_likelihood")


@pytest.mark.parametrize("cost, act, bad", [("cross_entropy", "sigmoid", 2.0),
                                            ("cross_entropy", "sigmoid", -0.5),
                                            ("log_likelihood", "softmax", 1.5)])
def test_probability_costs_refuse_targets_outside_0_1(cost, act, bad, data):
    X, _ = data
    T = np.full((60, 3), 0.25)
    T[7, 1] = bad
    net = cnet.Network([4, 5, 3], output_activation=act, cost=cost, seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.fit(X, T, epochs=1, batch_size=10, eta=0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.cost(X, T)


def test_quadratic_cost_takes_any_targets(data):
    X, _ = data
    net = cnet.Network([4, 5, 3], activation="identity", seed=0)
    net.fit(X, np.full((60, 3), 7.0), epochs=1, batch_size=10, eta=0.001)


@pytest.mark.parametrize("flag", ["no", 0, 1, None, "False"])
def test_shuffle_must_be_a_bool(flag, data):
    X, y = data
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        cnet.Network([4, 5, 3], seed=0).fit(X, y, 1, 10, 0.1, shuffle=flag)


def test_numpy_bools_are_bools(data):
    X, y = data
    a = cnet.Network([4, 5, 3], seed=0)
    b = cnet.Network([4, 5, 3], seed=0)
    a.fit(X, y, 1, 10, 0.1, shuffle=np.bool_(False))
    b.fit(X, y, 1, 10, 0.1, shuffle=False)
    assert all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights))


@pytest.mark.parametrize("seed", [True, False, 1.5, "3", np.random.RandomState(0),
                                  np.random.default_rng(0)])
def test_seed_must_be_an_integer(seed):
    with pytest.raises(TypeError, match="seed must be None or a non-negative integer"):
        cnet.Network([4, 5, 3], seed=seed)


def test_negative_seed_is_refused_and_numpy_ints_are_kept(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        cnet.Network([4, 5, 3], seed=-1)
    net = cnet.Network([4, 5, 3], seed=np.int64(7))
    assert net.seed == 7 and type(net.seed) is int
    net.save(tmp_path / "m.npz")
    assert cnet.load(tmp_path / "m.npz").seed == 7


def test_zero_epochs_returns_a_history_with_its_keys(data):
    X, y = data
    h = cnet.Network([4, 5, 3], seed=0).fit(X, y, 0, 10, 0.1, validation_data=(X, y))
    assert set(h) == {"epoch", "train_cost", "eta", "seconds", "threads", "val_cost",
                      "val_accuracy"}
    assert all(v == [] for v in h.values())


class NullableColumn:
    """What pandas' nullable dtypes look like to numpy: objects, and a
    to_numpy(dtype, na_value) that converts them."""

    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=object)

    def to_numpy(self, dtype=None, na_value=None):
        return np.array([na_value if v is None else v for v in self.values], dtype=dtype)


def test_nullable_columns_are_read_as_numbers(data):
    X, y = data
    net = cnet.Network([4, 5, 3], seed=0)
    ref = cnet.Network([4, 5, 3], seed=0)
    net.fit(NullableColumn(X.tolist()), NullableColumn(y.tolist()), 1, 10, 0.1)
    ref.fit(X, y, 1, 10, 0.1)
    assert all(np.array_equal(u, v) for u, v in zip(net.weights, ref.weights))
    with pytest.raises(ValueError, match="NaN"):
        rows = X.tolist()
        rows[3][1] = None
        net.fit(NullableColumn(rows), y, 1, 10, 0.1)


def test_pandas_nullable_dtypes(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X).astype("Float64")
    labels = pd.Series(y).astype("Int64")
    net = cnet.Network([4, 5, 3], seed=0)
    ref = cnet.Network([4, 5, 3], seed=0)
    net.fit(df, labels, 1, 10, 0.1)
    ref.fit(X, y, 1, 10, 0.1)
    assert all(np.array_equal(u, v) for u, v in zip(net.weights, ref.weights))
    labels[2] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        net.fit(df, labels, 1, 10, 0.1)


def test_a_second_thread_cannot_train_the_same_network():
    rng = np.random.default_rng(0)
    X, y = rng.random((20_000, 100)), rng.integers(0, 10, 20_000)
    net = cnet.Network([100, 200, 10], seed=0)
    started = threading.Event()

    def slow_callback(net, epoch, row):
        started.set()
        time.sleep(0.5)

    t = threading.Thread(target=net.fit, args=(X, y, 2, 10, 0.1),
                         kwargs=dict(callbacks=[slow_callback]))
    t.start()
    try:
        assert started.wait(60)
        with pytest.raises(RuntimeError, match="another thread"):
            net.fit(X[:100], y[:100], 1, 10, 0.1)
        with pytest.raises(RuntimeError, match="another thread"):
            net.weights = [w.copy() for w in net.weights]
        with pytest.raises(RuntimeError, match="another thread"):
            net.update_mini_batch([(X[0].reshape(-1, 1), 1)], 0.1)
    finally:
        t.join()
    net.fit(X[:100], y[:100], 1, 10, 0.1)  # free again


def test_float32_setter_checks_after_the_cast():
    net = cnet.Network([4, 5, 3], dtype="float32", seed=0)
    w = net.weights[0].astype(np.float64)
    w[0, 0] = 1e300
    with pytest.raises(ValueError, match="float32"):
        net.weights = [w, net.weights[1]]
    assert np.isfinite(net.weights[0]).all()
