"""The benchmark suite's peers do the work they are timed for: a peer that
trained nothing would make cnet look fast.  Each runs where it is installed."""
import os

import numpy as np
import pytest

import cnet
from cnet import benchmark


def _accuracy(params, X, y, kind):
    a = X
    for l, (W, b) in enumerate(params):
        z = a @ np.asarray(W) + np.asarray(b)
        # the output's arg-max is z's: sigmoid and softmax are monotone
        a = z if l == len(params) - 1 else 1 / (1 + np.exp(-z)) if kind == "book" \
            else np.maximum(z, 0)
    return float(np.mean(np.argmax(a, axis=1) == y))


@pytest.mark.parametrize("job, kind", [(benchmark.BOOK, "book"), (benchmark.BIG, "big")])
def test_jax_compiled_epoch_trains(job, kind):
    pytest.importorskip("jax")
    (X, y), _ = cnet.datasets.load_sample(dtype="float32")
    X, y = X[:1000], y[:1000]
    run = benchmark.jax_job(job, X, y, kind)
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    for _ in range(5):
        params = run()
    if before is not None:  # one_core gives every thread its mask back
        for tid in os.listdir("/proc/self/task"):
            assert os.sched_getaffinity(int(tid)) == before
    assert [np.asarray(W).shape for W, _ in params] == list(zip(job["sizes"][:-1],
                                                                job["sizes"][1:]))
    assert _accuracy(params, X, y, kind) > 0.6
