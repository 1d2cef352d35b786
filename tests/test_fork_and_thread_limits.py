"""Forked children and thread counts: a child forked after the parent used
several threads must not hang, and no n_threads may end the process."""
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import cnet
from cnet import _threads

fork_only = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                               reason="needs the fork start method")


def _child(queue, X, y):
    net = cnet.Network([20, 16, 3], seed=0)
    net.fit(X, y, epochs=2, batch_size=5, eta=0.5)  # default threads
    queue.put((net.forward(X), net.predict(X, n_threads=2)))


@fork_only
def test_forked_child_after_parent_used_two_threads_trains_and_predicts(monkeypatch):
    monkeypatch.setattr(_threads, "MIN_FLOPS_PER_THREAD", 0)
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 20)), rng.integers(0, 3, 300)
    parent = cnet.Network([20, 16, 3], seed=0)
    parent.forward(X, n_threads=2)  # the parent's OpenMP team now exists
    parent.fit(X, y, epochs=2, batch_size=5, eta=0.5, n_threads=2)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue, X, y))
    child.start()
    try:
        out, labels = queue.get(timeout=60)
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    np.testing.assert_array_equal(out, parent.forward(X, n_threads=1))
    np.testing.assert_array_equal(labels, parent.predict(X, n_threads=1))


def test_huge_n_threads_is_capped_not_fatal(monkeypatch):
    monkeypatch.setattr(_threads, "MIN_FLOPS_PER_THREAD", 0)
    assert _threads.resolve_n_threads(1000) <= _threads.cpu_count()
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 8)), rng.integers(0, 2, 50)
    net = cnet.Network([8, 4, 2], seed=0)
    h = net.fit(X, y, epochs=1, batch_size=5, eta=0.1, n_threads=1000)
    assert 1 <= h["threads"][0] <= _threads.cpu_count()
    np.testing.assert_array_equal(net.forward(X, n_threads=1000), net.forward(X, n_threads=1))


def test_huge_n_threads_in_a_subprocess_exits_cleanly(tmp_path):
    # libgomp calls exit(1) when it cannot create threads: run where that
    # would show as a non-zero status instead of killing the test run.
    code = ("import numpy as np, cnet; from cnet import _threads; "
            "_threads.MIN_FLOPS_PER_THREAD = 0; "
            "net = cnet.Network([8, 4, 2], seed=0); "
            "print(net.forward(np.ones((64, 8)), n_threads=100000).shape)")
    # The cnet this test imported (an installed one in CI), not the unbuilt
    # source tree that the repository root as working directory would give.
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(cnet.__file__)))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": package_root})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "(64, 2)"


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_bad_n_threads_is_refused(bad):
    with pytest.raises((TypeError, ValueError), match="n_threads"):
        _threads.resolve_n_threads(bad)
