"""Per-example records and time to fit: callbacks.ExampleTracker and
callbacks.StopAtTrainAccuracy (the memorization experiments' instruments)."""
import math

import numpy as np
import pytest

import cnet
from cnet import callbacks, datasets, randomize


@pytest.fixture(scope="module")
def small():
    (X, y), _ = datasets.load_sample()
    return X[:300].astype(np.float64), y[:300]


def _net(seed=0, sizes=(784, 30, 10)):
    return cnet.Network(list(sizes), activation="relu", output_activation="softmax",
                        cost="log_likelihood", init="he", seed=seed)


class SlowReference:
    """The same records, one example at a time in Python."""

    def __init__(self, X, y):
        self.X, self.y, self.correct, self.costs = X, y, [], []

    def __call__(self, net, epoch, row):
        c, k = [], []
        for x, label in zip(self.X, self.y):
            a = net.forward(x[None, :])[0]
            c.append(int(np.argmax(a)) == int(label))
            k.append(-math.log(a[label]))
        self.correct.append(c)
        self.costs.append(k)


def test_tracker_agrees_with_a_slow_python_reference(small):
    X, y = small
    y = randomize.corrupt_labels(y, 0.3, seed=1)[0]  # some examples learned late or never
    tracker, ref = callbacks.ExampleTracker(), SlowReference(X, y)
    _net().fit(X, y, 8, 10, 0.05, callbacks=[tracker, ref], n_threads=1)
    correct = np.array(ref.correct)
    np.testing.assert_array_equal(tracker.correct, correct)
    np.testing.assert_allclose(tracker.costs, np.array(ref.costs), rtol=1e-10, atol=1e-12)
    assert correct.any(axis=0).mean() > 0.5 and not correct.all()
    # first learned and forgetting events, counted by hand
    for i in range(X.shape[0]):
        col = correct[:, i]
        first = next((e + 1 for e, c in enumerate(col) if c), 0)
        events = sum(1 for e in range(len(col) - 1) if col[e] and not col[e + 1])
        assert tracker.first_learned[i] == first
        assert tracker.forgetting_events[i] == events
        assert tracker.never_forgotten[i] == (first > 0 and events == 0)
    assert tracker.forgetting_events.sum() > 0
    table = tracker.table()
    assert set(table) == {"example", "first_learned", "forgetting_events", "correct_at_end",
                          "cost_at_end"}
    np.testing.assert_array_equal(table["correct_at_end"], correct[-1])


def test_tracker_is_reset_per_call_and_can_drop_costs(small):
    X, y = small
    tracker = callbacks.ExampleTracker(keep_costs=False)
    net = _net()
    net.fit(X, y, 3, 10, 0.05, callbacks=[tracker])
    net.fit(X, y, 2, 10, 0.05, callbacks=[tracker])
    assert tracker.correct.shape == (2, 300) and tracker.costs is None
    assert "cost_at_end" not in tracker.table()
    empty = callbacks.ExampleTracker()
    assert empty.correct.shape == (0, 0) and empty.first_learned.shape == (0,)


def test_records_are_the_same_on_one_and_two_threads(small):
    X, y = small
    runs = []
    for threads in (1, 2):
        tracker = callbacks.ExampleTracker()
        h = _net(sizes=(784, 64, 10)).fit(X, y, 3, 32, 0.05, callbacks=[tracker],
                                           n_threads=threads)
        runs.append((tracker.costs, h["train_accuracy"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_stop_at_train_accuracy_records_the_time_to_fit(small):
    X, y = small
    stop = callbacks.StopAtTrainAccuracy(0.9)
    net = _net()
    h = net.fit(X, y, 100, 16, 0.1, callbacks=[stop])
    e = len(h["epoch"])
    assert e < 100  # it stopped
    assert h["train_accuracy"][-1] >= 0.9 > max(h["train_accuracy"][:-1])
    assert h["train_accuracy"][-1] == net.score(X, y)
    assert stop.time_to_fit == {"epochs": e, "steps": e * math.ceil(300 / 16),
                                "seconds": sum(h["seconds"]), "threshold": 0.9}
    assert h.time_to_fit == stop.time_to_fit
    assert "after epoch" in stop.message


def test_stop_false_trains_on_and_keeps_the_first_time(small):
    X, y = small
    stop = callbacks.StopAtTrainAccuracy(0.5, stop=False)
    h = _net().fit(X, y, 12, 16, 0.1, callbacks=[stop])
    assert len(h["epoch"]) == 12
    first = next(i for i, a in enumerate(h["train_accuracy"]) if a >= 0.5) + 1
    assert stop.time_to_fit["epochs"] == first


def test_never_reached(small):
    X, y = small
    stop = callbacks.StopAtTrainAccuracy(1.0)
    h = _net().fit(X, randomize.random_labels(y, seed=0), 2, 16, 0.01, callbacks=[stop])
    assert stop.time_to_fit is None and h.time_to_fit is None
    assert "never reached" in stop.message


def test_one_hot_targets_and_the_book_sgd(small):
    X, y = small
    T = np.eye(10)[y]
    stop = callbacks.StopAtTrainAccuracy(0.5, stop=False)
    h = _net().fit(X, T, 3, 16, 0.1, callbacks=[stop])
    assert len(h["train_accuracy"]) == 3
    tracker = callbacks.ExampleTracker()
    net = _net()
    net.SGD(list(zip(X.reshape(-1, 784, 1), T.reshape(-1, 10, 1))), 2, 10, 0.1,
            callbacks=[tracker])
    assert tracker.correct.shape == (2, 300)


def test_random_labels_are_fitted(small):
    """Zhang et al.'s first observation, at the size of a test: a network
    with more parameters than examples fits random labels."""
    X, y = small
    y_rand = randomize.random_labels(y, seed=0)
    stop = callbacks.StopAtTrainAccuracy(1.0)
    h = _net(sizes=(784, 256, 10)).fit(X, y_rand, 300, 10, 0.01, optimizer="momentum",
                                        callbacks=[stop], n_threads=1)
    assert stop.time_to_fit is not None, h["train_accuracy"][-1]


@pytest.mark.parametrize("kw, match", [
    (dict(threshold=0), r"threshold must be a training accuracy in \(0, 1\]"),
    (dict(threshold=1.5), "threshold must be"),
    (dict(threshold=float("nan")), "threshold must be"),
    (dict(threshold="all"), "threshold must be"),
])
def test_bad_thresholds(kw, match):
    with pytest.raises(ValueError, match=match):
        callbacks.StopAtTrainAccuracy(**kw)


def test_regression_targets_are_refused_before_training():
    X = np.random.default_rng(0).random((40, 3))
    T = np.random.default_rng(1).random((40, 2))
    net = cnet.Network([3, 4, 2], activation="tanh", output_activation="identity", seed=0)
    before = [w.copy() for w in net.weights]
    for cb in (callbacks.StopAtTrainAccuracy(), callbacks.ExampleTracker()):
        with pytest.raises(ValueError, match="needs class labels"):
            net.fit(X, T, 1, 10, 0.1, callbacks=[cb])
        for w, w0 in zip(net.weights, before):
            np.testing.assert_array_equal(w, w0)  # no epoch trained


def test_single_output_network_records_per_example_costs():
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 4)), (np.arange(20) % 2)
    net = cnet.Network([4, 3, 1], cost="cross_entropy", seed=0)
    tracker = callbacks.ExampleTracker()
    net.fit(X, y, 3, 5, 0.5, callbacks=[tracker])
    assert tracker.costs.shape == (3, 20) and tracker.correct.shape == (3, 20)
    a = net.forward(X)[:, 0]
    np.testing.assert_allclose(tracker.costs[-1], -(y * np.log(a) + (1 - y) * np.log(1 - a)))
    np.testing.assert_array_equal(tracker.correct[-1], (a > 0.5) == y)


class _Interrupt:
    def on_epoch_outputs(self, net, epoch, outputs):
        if epoch == 2:
            raise KeyboardInterrupt

    def __call__(self, net, epoch, row):
        return False


def test_an_interrupt_in_the_extra_pass_undoes_the_epoch(small):
    X, y = small
    net, ref = _net(), _net()
    tracker = callbacks.ExampleTracker()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, 3, 10, 0.05, callbacks=[tracker, _Interrupt()], shuffle=False)
    ref.fit(X, y, 1, 10, 0.05, shuffle=False)  # where the first epoch left it
    for w, r in zip(net.weights, ref.weights):
        np.testing.assert_array_equal(w, r)
