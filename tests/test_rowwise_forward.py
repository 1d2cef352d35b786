"""The forward pass of a small batch walked along W's rows (_forward_rowwise
in src/kernels_phases.pxi, chosen by cnet._workspace.ROWWISE_MIN_BYTES):
each output's sum takes the same products in the same order as the column
tiles' sum, so training and inference give the same bits either way -- for
batches up to CNET_AXPY_MAX_ROWS (16) rows and past it, partial row and
column blocks, every activation, dtype, thread count, optimizer, with the
first layer's lists of nonzero inputs on and off, and with dropout (which
keeps the column tiles)."""
import numpy as np
import pytest

import cnet
from cnet import _workspace, reference

pytestmark = pytest.mark.kernels


@pytest.fixture
def both_walks(monkeypatch):
    """Call f() with the row-wise walk for every W (1 byte on), then never."""
    def run(f):
        out = []
        for threshold in (1, 0):
            monkeypatch.setattr(_workspace, "ROWWISE_MIN_BYTES", threshold)
            out.append(f())
        return out
    return run


def data(n, n_in, seed, density=0.3, n_out=4):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in)) * (rng.random((n, n_in)) < density)
    X[::9] = 0.0                 # whole examples zero
    return X, rng.integers(0, n_out, n)


def params(net):
    return net.weights + net.biases


def assert_same_bits(a, b):
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and np.array_equal(u, v)


def trained(X, y, sizes, dtype, batch, threads, activation="relu", epochs=2, **kw):
    def run():
        net = cnet.Network(sizes, activation=activation, output_activation="softmax",
                           cost="log_likelihood", init="he", dtype=dtype, seed=5)
        net.fit(X, y, epochs, batch, 0.02, n_threads=threads, **kw)
        return net
    return run


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 5, 10, 16, 17])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("sparse", [True, False])
def test_training_gives_the_same_bits_either_way(both_walks, monkeypatch, dtype, batch,
                                                  threads, sparse):
    monkeypatch.setattr(_workspace, "SPARSE_MIN_OUTPUTS", 1)
    monkeypatch.setattr(_workspace, "SPARSE_MIN_ZEROS", 0.0 if sparse else 2.0)
    # 100 inputs: 17 row blocks, the last of 4 rows; 70 and 35 outputs: a
    # partial last column panel
    X, y = data(240, 100, seed=batch)
    rows, cols = both_walks(trained(X, y, [100, 70, 35, 4], dtype, batch, threads,
                                    optimizer="nesterov"))
    assert_same_bits(params(rows), params(cols))
    assert rows.history["train_cost"] == cols.history["train_cost"]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "identity"])
def test_every_activation(both_walks, activation):
    X, y = data(120, 30, seed=1, density=0.8)
    rows, cols = both_walks(trained(X, y, [30, 20, 4], "float64", 6, 2, activation=activation,
                                    epochs=1))
    assert_same_bits(params(rows), params(cols))


@pytest.mark.parametrize("optimizer", [None, "adam", "rmsprop"])
def test_every_optimizer_and_regularizer(both_walks, optimizer):
    X, y = data(120, 50, seed=2)
    rows, cols = both_walks(trained(X, y, [50, 40, 4], "float32", 8, 2, optimizer=optimizer,
                                    lmbda=0.5, l1=0.1))
    assert_same_bits(params(rows), params(cols))


def test_dropout_keeps_the_column_tiles(both_walks):
    X, y = data(120, 50, seed=3)
    rows, cols = both_walks(trained(X, y, [50, 40, 30, 4], "float32", 10, 1,
                                    dropout=[0.0, 0.3, 0.2]))
    assert_same_bits(params(rows), params(cols))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 7, 16])
def test_inference_matches_the_reference(both_walks, dtype, n):
    X, _ = data(n, 90, seed=n)
    net = cnet.Network([90, 50, 33, 5], activation="tanh", dtype=dtype, seed=4)
    rows, cols = both_walks(lambda: net.forward(X.astype(dtype), n_threads=2))
    assert np.array_equal(rows, cols)
    a = X.astype(dtype)
    for W, b, act in zip(net.weights, net.biases, net.activations):
        a = reference.forward_layer(a, W, b.ravel(), act)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(rows, a, rtol=tol, atol=tol)

