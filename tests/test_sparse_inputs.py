"""Inputs with many zeros (MNIST's pixels are 81% zeros): the first layer's
tiles take only the steps where some input is not 0 (cnet._workspace.
sparse_input).  A skipped step would have added exact zeros (the weights
being finite), so training and inference give the same bits with the lists
as without them -- for every
batch size (unpacked, packed, k-blocked tiles), dtype, thread count,
optimizer, regularizer and input width, and for rows or columns all zero."""
import numpy as np
import pytest

import cnet
from cnet import _workspace

pytestmark = pytest.mark.kernels


@pytest.fixture
def lists(monkeypatch):
    """Call f() with the first layer's lists forced on, then off."""
    def both(f):
        out = []
        monkeypatch.setattr(_workspace, "SPARSE_MIN_OUTPUTS", 1)  # any width (a CPU's setting)
        for threshold in (0.0, 2.0):  # every input counts as sparse / none does
            monkeypatch.setattr(_workspace, "SPARSE_MIN_ZEROS", threshold)
            out.append(f())
        return out
    return both


def sparse_data(n, n_in, density, seed, n_out=4):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)) * (rng.random((n, n_in)) < density)
    X[::7] = 0.0                 # whole examples zero
    X[:, 1::5] = 0.0             # and whole features
    return X, rng.integers(0, n_out, n)


def assert_same_bits(a, b):
    for u, v in zip(a.weights + a.biases, b.weights + b.biases):
        assert u.dtype == v.dtype and np.array_equal(u, v)


def trained(X, y, sizes, dtype, batch, threads, epochs=2, **kw):
    def run():
        net = cnet.Network(sizes, activation="relu", output_activation="softmax",
                           cost="log_likelihood", init="he", dtype=dtype, seed=3)
        net.fit(X, y, epochs, batch, 0.05, n_threads=threads, **kw)
        return net
    return run


def test_the_lists_are_used_when_the_input_is_sparse_enough():
    dense = np.ones((10, 20))
    assert not _workspace.sparse_input(dense)
    dense[:, :10] = 0
    assert _workspace.sparse_input(dense)  # half zeros
    assert not _workspace.sparse_input(np.empty((0, 20)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 10, 32, 200])
@pytest.mark.parametrize("threads", [1, 2])
def test_training_gives_the_same_bits_with_the_lists(lists, dtype, batch, threads):
    X, y = sparse_data(600, 100, 0.2, seed=batch)
    on, off = lists(trained(X, y, [100, 70, 40, 4], dtype, batch, threads))
    assert_same_bits(on, off)
    assert on.history["train_cost"] == off.history["train_cost"]


@pytest.mark.parametrize("n_in", [1, 5, 6, 13, 97])
@pytest.mark.parametrize("batch", [7, 40])
def test_any_input_width(lists, n_in, batch):
    X, y = sparse_data(300, n_in, 0.3, seed=n_in)
    on, off = lists(trained(X, y, [n_in, 50, 4], "float64", batch, 2))
    assert_same_bits(on, off)


@pytest.mark.parametrize("density", [0.0, 0.01, 0.5, 1.0])
def test_any_density(lists, density):
    X, y = sparse_data(400, 60, density, seed=1)
    on, off = lists(trained(X, y, [60, 33, 4], "float32", 10, 2))
    assert_same_bits(on, off)


@pytest.mark.parametrize("optimizer", [None, "momentum", "nesterov", "adam", "rmsprop",
                                       "adamw"])
@pytest.mark.parametrize("batch", [10, 64])
def test_every_optimizer(lists, optimizer, batch):
    X, y = sparse_data(500, 90, 0.15, seed=2)
    on, off = lists(trained(X, y, [90, 40, 4], "float32", batch, 2, optimizer=optimizer))
    assert_same_bits(on, off)


@pytest.mark.parametrize("kw", [dict(lmbda=5.0), dict(l1=1.0), dict(alpha=1e-3),
                                dict(dropout=[0.3, 0.2, 0.0]),
                                dict(sample_weight=np.linspace(0.1, 2, 500))])
def test_regularizers_and_weights(lists, kw):
    X, y = sparse_data(500, 90, 0.15, seed=4)
    on, off = lists(trained(X, y, [90, 40, 30, 4], "float64", 25, 2, **kw))
    assert_same_bits(on, off)


def test_inference_and_the_books_steps(lists):
    X, y = sparse_data(700, 100, 0.2, seed=5)  # 700 rows: several chunks of 256
    net = cnet.Network([100, 30, 10], seed=2)
    on, off = lists(lambda: net.forward(X, n_threads=2))
    assert np.array_equal(on, off)

    def book():
        b = cnet.Network([100, 30, 10], seed=2)
        data = [(x.reshape(-1, 1), np.eye(10)[t].reshape(-1, 1)) for x, t in zip(X, y)]
        for k in range(0, 100, 10):
            b.update_mini_batch(data[k:k + 10], 3.0)
        return b
    on, off = lists(book)
    assert_same_bits(on, off)


def test_the_lists_change_nothing_on_the_real_sample(lists):
    (X, y), _ = cnet.datasets.load_sample()
    X, y = X[:2000], y[:2000]
    on, off = lists(lambda: cnet.Network([784, 30, 10], seed=1).fit(
        X, y, 1, 10, 3.0, n_threads=2))
    assert on["train_cost"] == off["train_cost"]


@pytest.mark.parametrize("m, n_in", [(1, 50), (10, 50), (31, 50), (64, 50), (10, 8),
                                      (7, 1541), (13, 3100), (40, 3845)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_the_lists_name_the_nonzero_inputs(m, n_in, dtype, threads):
    # What the kernels skip by: per block of MR examples, the features some
    # of them has nonzero (forward); per block of MR features, the examples
    # with some of them nonzero (update).  Checked on layer 0 after a forward.
    # The lists are read off bit masks in chunks of 3840 inputs (cnet_lists.h):
    # widths past one and two chunks, and -0.0 (is 0) and NaN (is not).
    from cnet._dispatch import kernels
    X, _ = sparse_data(m + 9, n_in, 0.1, seed=m)
    rng = np.random.default_rng(n_in)
    X[rng.random(X.shape) < 0.05] = -0.0
    X[rng.random(X.shape) < 0.002] = np.nan
    X = X.astype(dtype)
    order = rng.permutation(m + 9)[:m].astype(np.intp)
    net = cnet.Network([n_in, 20, 3], seed=1, dtype=dtype)
    ws = _workspace.Workspace(net._kernel_params()[:1], m, sparse=True)
    kernels.layer_forward(X, order, ws.spec, threads)
    MR, Xb = _workspace.MR, X[order]
    NZF, NZU = ws.spec[0].NZF, ws.spec[0].NZU
    for rb in range(-(-m // MR)):
        want = np.flatnonzero((Xb[rb * MR:(rb + 1) * MR] != 0).any(axis=0))
        assert NZF[rb, 0] == len(want) and np.array_equal(NZF[rb, 1:1 + len(want)], want)
    for ib in range(-(-n_in // MR)):
        want = np.flatnonzero((Xb[:, ib * MR:(ib + 1) * MR] != 0).any(axis=1))
        assert NZU[ib, 0] == len(want) and np.array_equal(NZU[ib, 1:1 + len(want)], want)


def test_the_forward_pass_really_skips_the_zero_inputs(lists):
    # The one place the lists show: a NaN weight on an input that is 0 in
    # every example.  Taking the step gives 0 * NaN = NaN, skipping it does
    # not.  (Weights are finite in any network cnet trains or loads.)
    X, _ = sparse_data(300, 20, 0.5, seed=6)
    net = cnet.Network([20, 7, 2], seed=1)
    net.weights[0][:, 1] = np.nan  # feature 1 is 0 everywhere (sparse_data)
    on, off = lists(lambda: net.forward(X))
    assert np.isfinite(on).all() and np.isnan(off).all()
