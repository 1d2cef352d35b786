"""Flush-to-zero inside the kernels (src/cnet_fpu.h): subnormal numbers are
treated as zero there -- the speed of normal numbers, the same results for
any thread count -- and the caller's floating-point mode is left as it was."""
import numpy as np
import pytest

import cnet
from cnet import _threads
from cnet._dispatch import kernels

pytestmark = pytest.mark.skipif(not kernels.FLUSHES_SUBNORMALS,
                                reason="no flush-to-zero mode known for this CPU")


def identity_net(dtype):
    net = cnet.Network([64, 32, 8], activation="identity", dtype=dtype, seed=0)
    net.biases = [np.zeros_like(b) for b in net.biases]
    return net


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_subnormal_inputs_count_as_zero(dtype, n_threads, monkeypatch):
    monkeypatch.setattr(_threads, "MIN_FLOPS_PER_THREAD", 0)
    tiny = np.finfo(dtype).tiny
    X = np.random.default_rng(0).random((300, 64)).astype(dtype) * (tiny / 4)
    assert np.all(X[X != 0] < tiny)  # really subnormal
    out = identity_net(dtype).forward(X, n_threads=n_threads)
    # Without flush-to-zero, W x would be subnormal, not 0.
    assert np.all(out == 0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_subnormal_results_flushed_identically_on_1_and_2_threads(dtype, monkeypatch):
    monkeypatch.setattr(_threads, "MIN_FLOPS_PER_THREAD", 0)
    rng = np.random.default_rng(1)
    tiny = np.finfo(dtype).tiny
    # Inputs around tiny: products fall below it (subnormal), sums may not.
    X = (rng.random((300, 64)) * 8 * tiny).astype(dtype)
    y = rng.integers(0, 8, 300)
    nets = [identity_net(dtype) for _ in range(2)]
    outs = [net.forward(X, n_threads=t) for net, t in zip(nets, (1, 2))]
    assert np.array_equal(outs[0], outs[1])
    for net, t in zip(nets, (1, 2)):
        net.fit(X, y, epochs=1, batch_size=10, eta=1e-3, n_threads=t)
    assert all(np.array_equal(a, b) for a, b in zip(nets[0].weights, nets[1].weights))


def test_the_callers_mode_is_restored():
    sub = np.float64(1e-310)
    identity_net("float64").forward(np.ones((4, 64)), n_threads=1)
    # numpy in this thread still produces subnormals (no flush leaked out).
    assert sub * np.float64(1.0) != 0
    assert np.float64(1e-300) * np.float64(1e-10) != 0
