"""Inference keeps its workspaces between calls (cnet._workspace.SPARES):
a kept one must never give a stale answer -- after new weights, in-place
edits, other settings, other sizes, from several threads -- and the memory
kept stays bounded, however many networks run."""
import pickle
import threading

import numpy as np
import pytest

import cnet
from cnet import _tuning, _workspace
from cnet.reference import feedforward


def _net(seed=0, **kw):
    return cnet.Network([30, 20, 5], activation="relu", output_activation="softmax",
                        cost="log_likelihood", init="he", seed=seed, **kw)


def _kept(net, m, sparse=True):
    """The workspace kept for net's inference on batches of m rows, or None."""
    return _workspace.SPARES._free.get((id(net._kernel_params()[0][0]), m, sparse))


def _expected(net, X):
    W = [w.copy() for w in net.weights]
    b = [v.ravel().copy() for v in net.biases]
    return feedforward(W, b, ["relu", "softmax"], X)[-1]


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.random((700, 30))
    X[X < 0.6] = 0  # sparse enough for the lists
    return X


def test_a_kept_workspace_is_reused_and_gives_the_same_bits(X):
    net = _net()
    first = net.forward(X)
    kept = _kept(net, 256)
    assert kept is not None
    again = net.forward(X)
    assert _kept(net, 256) is kept  # the same one, given back
    assert np.array_equal(first, again)
    fresh = _net().forward(X)  # a network of its own: a new workspace
    assert np.array_equal(first, fresh)


def test_new_weights_in_place_or_assigned_are_seen(X):
    net = _net()
    net.forward(X)
    net.weights[0][:] *= 0.5  # in place
    assert np.allclose(net.forward(X), _expected(net, X), rtol=1e-12)
    other = _net(seed=7)
    net.weights = [w.copy() for w in other.weights]  # assigned
    net.biases = [b.copy() for b in other.biases]
    assert np.array_equal(net.forward(X), other.forward(X))


def test_training_between_calls_is_seen(X):
    net = _net()
    y = np.arange(len(X)) % 5
    before = net.forward(X)
    net.fit(X, y, 1, 10, 0.1, n_threads=1)
    after = net.forward(X)
    assert not np.array_equal(before, after)
    assert np.allclose(after, _expected(net, X), rtol=1e-12)


def test_changed_settings_build_a_new_workspace(X, monkeypatch):
    net = _net()
    ref = net.forward(X)
    kept = _kept(net, 256)
    base = dict(_tuning.STATE["settings"])
    try:
        _tuning.apply(dict(base, forward_kc=7, pack_min_rows=1))
        got = net.forward(X)
        now = _kept(net, 256)
        assert now is not kept and now.spec[0].kc == 7
    finally:
        _tuning.apply(base)
    assert np.array_equal(got, ref)
    monkeypatch.setattr(_workspace, "SPARSE_MIN_ZEROS", 2.0)  # no lists: another key
    assert np.array_equal(net.forward(X), ref)
    assert _kept(net, 256, sparse=False).spec[0].NZF is None


def test_inference_builds_no_update_lists(X):
    net = _net()
    net.forward(X)
    ws = _kept(net, 256)
    assert ws.spec[0].NZF is not None and ws.spec[0].NZU is None


def test_what_is_kept_is_bounded_over_sizes_and_networks(X):
    nets = [_net(seed=k) for k in range(3)]
    for n in range(1, 3 * _workspace.SpareWorkspaces.KEEP):
        for net in nets:
            assert np.allclose(net.forward(X[:n]), _expected(net, X[:n]), rtol=1e-12)
            assert len(_workspace.SPARES._free) <= _workspace.SpareWorkspaces.KEEP
    assert _kept(nets[-1], n) is not None  # the last used is kept


def test_threads_calling_forward_at_once(X):
    net = _net()
    want = _expected(net, X)
    errors = []

    def work(k):
        try:
            for i in range(30):
                n = 100 + (37 * (k + i)) % 600
                got = net.forward(X[:n], n_threads=1)
                if not np.allclose(got, want[:n], rtol=1e-12):
                    errors.append((k, i, n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_pickles_and_copies_carry_no_workspace(X):
    import copy
    net = _net()
    net.forward(X)
    data = pickle.dumps(net)
    assert len(data) < 20_000  # weights only
    back = pickle.loads(data)
    assert np.array_equal(back.forward(X), net.forward(X))
    twin = copy.deepcopy(net)
    assert np.array_equal(twin.forward(X), net.forward(X))
    assert _kept(twin, 256) is not _kept(net, 256)


def test_sparse_input_judges_rows_spread_over_x(monkeypatch):
    monkeypatch.setattr(_workspace, "SPARSE_SAMPLE_ROWS", 4)
    monkeypatch.setattr(_workspace, "SPARSE_MIN_ZEROS", 0.6)
    X = np.ones((8, 10))
    X[::2] = 0  # the rows judged (every 2nd) are all zeros; X is half zeros
    assert _workspace.sparse_input(X)
    assert not _workspace.sparse_input(X[1::2])
    monkeypatch.setattr(_workspace, "SPARSE_SAMPLE_ROWS", 100)
    assert not _workspace.sparse_input(X)  # all 8 rows: 50% < 60%
