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


def test_jax_vmap_trains_every_network_of_the_stack():
    pytest.importorskip("jax")
    (X, y), _ = cnet.datasets.load_sample(dtype="float32")
    X, y = X[:1000], y[:1000]
    run = benchmark.jax_job(benchmark.BOOK, X, y, "book", stack=3)
    for _ in range(5):
        params = run()
    assert [np.asarray(W).shape for W, _ in params] == [(3, 784, 30), (3, 30, 10)]
    members = [[(np.asarray(W)[k], np.asarray(b)[k]) for W, b in params] for k in range(3)]
    assert not np.array_equal(members[0][0][0], members[1][0][0])  # own initial weights
    for p in members:
        assert _accuracy(p, X, y, "book") > 0.6


@pytest.mark.parametrize("compiled", [False, True])
def test_pytorch_peer_trains(compiled):
    torch = pytest.importorskip("torch")
    (X, y), _ = cnet.datasets.load_sample(dtype="float32")
    X, y = X[:1000], y[:1000]
    job = dict(sizes=[784, 32, 10], batch=50, eta=0.1)
    run = benchmark.torch_job(job, X, y, "big", compiled=compiled)
    for _ in range(5):
        model = run()
    with torch.no_grad():
        out = model(torch.from_numpy(X)).numpy()
    assert float(np.mean(out.argmax(axis=1) == y)) > 0.6


def test_the_stack_job_and_its_baseline_train():
    (X, y), _ = cnet.datasets.load_sample(dtype="float64")
    X, y = X[:1000], y[:1000]
    job = dict(benchmark.BOOK, sizes=[784, 16, 10])
    run = benchmark.stack_job(job, X, y, 3, 1)
    seq = benchmark.sequential_job(job, X, y, 3)
    before = cnet.NetworkStack(job["sizes"], range(3), dtype="float32").score(X, y)
    for _ in range(3):
        stack = run()
        seq()
    after = stack.score(X, y)
    assert (after > before + 0.2).all(), (before, after)
