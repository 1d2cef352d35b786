"""Bit-identical results for 1 and 2 threads on a busy machine.

A calm machine hides races: the threads run in lock step and rarely
interleave at the wrong moment.  Here another process keeps the cores busy
(one spinning process per core), so the kernel's threads are preempted at
arbitrary points, and thousands of small calls give any shared-variable
mistake its chance.  The old `_forward_all` race showed up in about 1 of 500
such calls.
"""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import cnet
from cnet import datasets

needs_openmp = pytest.mark.skipif(not cnet.openmp_enabled(),
                                  reason="a serial build has one thread only")

N_FORWARD_CALLS = int(os.environ.get("CNET_STRESS_CALLS", "20000"))

BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


@pytest.fixture
def busy_machine():
    """One spinning process per core, for the duration of the test."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY])
             for _ in range(max(1, os.cpu_count() or 1))]
    time.sleep(0.2)
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def sample():
    (X, y), _ = datasets.load_sample()
    return X[:600], y[:600]


@needs_openmp
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_many_small_forward_calls_under_load(busy_machine, sample, dtype):
    X, _ = sample
    net = cnet.Network([784, 30, 10], seed=3, dtype=dtype)
    X = X.astype(dtype)
    rng = np.random.default_rng(0)
    calls = N_FORWARD_CALLS // 2
    starts = rng.integers(0, len(X) - 50, size=16)
    expected = {s: net.forward(X[s:s + 50], n_threads=1) for s in starts}
    bad = 0
    for i in range(calls):
        s = starts[i % len(starts)]
        if not np.array_equal(net.forward(X[s:s + 50], n_threads=2), expected[s]):
            bad += 1
    assert bad == 0, f"{bad} of {calls} two-thread forward calls differ from one thread"


@needs_openmp
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,batch_size", [([784, 30, 10], 10), ([784, 64, 32, 10], 7)])
def test_two_thread_fits_under_load(busy_machine, sample, dtype, sizes, batch_size):
    X, y = sample
    reference = None
    for n_threads in (1, 2, 2, 2):
        net = cnet.Network(sizes, seed=11, dtype=dtype)
        net.fit(X, y, epochs=2, batch_size=batch_size, eta=0.5, n_threads=n_threads)
        params = net.weights + net.biases
        if reference is None:
            reference = params
        else:
            for a, b in zip(reference, params):
                np.testing.assert_array_equal(a, b)
