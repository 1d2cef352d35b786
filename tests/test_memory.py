"""fit and forward use float32 data in place: no hidden copy of X."""
import tracemalloc

import numpy as np
import pytest

import cnet


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((20000, 784), dtype=np.float32)  # 62.7 MB
    y = rng.integers(10, size=20000)
    return X, y


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("batch_size", [10, 128])
def test_fit_peak_memory_within_ten_percent_of_the_data(data, batch_size):
    X, y = data
    net = cnet.Network([784, 64, 10], dtype="float32", seed=0)
    peak = _peak(lambda: net.fit(X, y, epochs=2, batch_size=batch_size, eta=0.1))
    assert peak < 0.10 * X.nbytes, \
        f"fit allocated {peak / 1e6:.1f} MB for {X.nbytes / 1e6:.1f} MB of X"


def test_forward_does_not_copy_float32_data(data):
    X, _ = data
    net = cnet.Network([784, 64, 10], dtype="float32", seed=0)
    out_bytes = X.shape[0] * 10 * 4
    peak = _peak(lambda: net.forward(X))
    assert peak < 0.10 * X.nbytes + out_bytes


def test_float32_data_into_a_float64_network_is_converted_once(data):
    """The documented exception: the data must be converted to the network's
    dtype, once per call (not per batch)."""
    X, y = data
    X = X[:5000]
    net = cnet.Network([784, 16, 10], dtype="float64", seed=0)
    peak = _peak(lambda: net.fit(X, y[:5000], epochs=3, batch_size=10, eta=0.1))
    assert peak < 2 * X.nbytes + 0.10 * X.nbytes  # one float64 copy, not one per epoch or batch
