"""Same seed, same weights: for any thread count, both API surfaces, and
every kernel variant the CPU can run."""
import os
import subprocess
import sys

import numpy as np
import pytest

import cnet
from cnet import datasets

CONFIGS = [
    dict(sizes=[784, 30, 10]),
    dict(sizes=[784, 100, 10], cost="cross_entropy", init="scaled_normal"),
    dict(sizes=[784, 37, 21, 10], activation="relu", output_activation="softmax",
         cost="log_likelihood", init="he"),
    dict(sizes=[784, 64, 10], activation="tanh", output_activation="identity", init="xavier",
         eta=0.01),
]


@pytest.fixture(scope="module")
def sample():
    (X, y), _ = datasets.load_sample()
    return X[:1500], y[:1500]


def _net(cfg, dtype):
    kw = {k: v for k, v in cfg.items() if k not in ("sizes", "eta")}
    return cnet.Network(cfg["sizes"], **kw, dtype=dtype, seed=42)


def _train(cfg, X, y, dtype, n_threads, batch_size, lmbda=0.0):
    net = _net(cfg, dtype)
    history = net.fit(X, y, epochs=2, batch_size=batch_size, eta=cfg.get("eta", 0.1),
                      lmbda=lmbda, n_threads=n_threads)
    if n_threads is not None and cnet.openmp_enabled():
        assert history["threads"] == [n_threads, n_threads]
    return net


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c["sizes"])))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [1, 10, 37, 128])
@pytest.mark.parametrize("lmbda", [0.0, 1.0])  # the update has a path without decay
def test_bit_identical_for_1_and_2_threads(sample, cfg, dtype, batch_size, lmbda):
    X, y = sample
    one = _train(cfg, X, y, dtype, 1, batch_size, lmbda=lmbda)
    two = _train(cfg, X, y, dtype, 2, batch_size, lmbda=lmbda)
    for a, b in zip(one.weights + one.biases, two.weights + two.biases):
        np.testing.assert_array_equal(a, b)
    # and training did something
    fresh = _net(cfg, dtype)
    assert not np.array_equal(fresh.weights[0], one.weights[0])
    np.testing.assert_array_equal(one.forward(X[:50], n_threads=1),
                                  two.forward(X[:50], n_threads=2))


def test_same_seed_same_result_and_different_seed_differs(sample):
    X, y = sample
    a = _train(CONFIGS[0], X, y, "float64", None, 10)
    b = _train(CONFIGS[0], X, y, "float64", None, 10)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    c = cnet.Network([784, 30, 10], seed=43)
    assert not np.array_equal(c.weights[0], cnet.Network([784, 30, 10], seed=42).weights[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_and_fit_bit_identical(sample, dtype):
    """Nielsen's list-of-tuples SGD and the array fit take the same path."""
    X, y = sample
    X, y = X[:600], y[:600]
    training_data = datasets.to_tuples(X, y, one_hot=True)
    a = cnet.Network([784, 30, 10], seed=5, dtype=dtype)
    a.SGD(training_data, 2, 10, 3.0, lmbda=0.5, verbose=False)
    b = cnet.Network([784, 30, 10], seed=5, dtype=dtype)
    b.fit(X, y, 2, 10, 3.0, lmbda=0.5)
    for u, v in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(u, v)


_VARIANT_SCRIPT = """
import numpy as np, cnet
from cnet import datasets
(X, y), _ = datasets.load_sample()
net = cnet.Network([784, 30, 10], seed=1)
net.fit(X[:500], y[:500], 1, 10, 3.0, n_threads=2)
np.save({out!r}, np.concatenate([w.ravel() for w in net.weights]))
print(cnet.config()["simd"])
"""


def test_every_simd_variant_gives_the_same_training(tmp_path):
    """Every kernel variant this machine can run (CNET_SIMD) agrees with the
    default one to float tolerance (FMA rounds once where the baseline rounds
    twice, so bits may differ); the AVX-512 layouts run on AVX2 (the test
    build "wide") sum exactly as AVX2 does, so they agree bit for bit."""
    from cnet import _dispatch
    results = {}
    for variant in [""] + list(_dispatch.runnable()):
        out = str(tmp_path / f"w_{variant or 'default'}.npy")
        env = dict(os.environ, CNET_SIMD=variant)
        proc = subprocess.run([sys.executable, "-c", _VARIANT_SCRIPT.format(out=out)],
                              env=env, capture_output=True, text=True, check=True,
                              cwd=tmp_path)  # keep the unbuilt source tree off sys.path
        results[variant] = (proc.stdout.strip(), np.load(out))
    for variant, module in _dispatch.runnable().items():
        assert results[variant][0] == module.ISA
        np.testing.assert_allclose(results[variant][1], results[""][1], rtol=1e-7, atol=1e-9)
    if "wide" in results:
        np.testing.assert_array_equal(results["wide"][1], results["avx2"][1])


def test_the_widest_runnable_variant_is_the_default():
    from cnet import _dispatch
    found = _dispatch.runnable()
    if os.environ.get("CNET_SIMD"):
        pytest.skip("CNET_SIMD forces a variant")
    widest = next(name for name in ("avx512", "avx2", "baseline") if name in found)
    assert _dispatch.kernels is found[widest]


def test_an_unrunnable_or_unknown_variant_is_refused(tmp_path):
    from cnet import _dispatch
    missing = [v for v in _dispatch.VARIANTS if v not in _dispatch.runnable()]
    for variant in missing + ["sse9"]:
        env = dict(os.environ, CNET_SIMD=variant)
        proc = subprocess.run([sys.executable, "-c", "import cnet"], env=env,
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode != 0
        assert "CNET_SIMD" in proc.stderr


@pytest.mark.thread_policy
def test_small_jobs_use_one_thread(sample):
    """The book's mini-batches are too small for a second thread to pay."""
    X, y = sample
    history = cnet.Network([784, 30, 10], seed=0).fit(X, y, 1, 10, 3.0, n_threads=2)
    assert history["threads"] == [1]


def test_default_threads_honour_omp_num_threads(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c",
                           "import cnet; print(cnet.config()['threads_default'])"],
                          env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert proc.stdout.strip() == "1"


def test_default_threads_honour_threadpoolctl():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from cnet._threads import resolve_n_threads
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert resolve_n_threads(None) == 1


def test_the_kernel_variant_is_the_one_asked_for():
    """CI runs the kernels' tests again with CNET_SIMD=baseline (and others):
    make sure those runs really used the kernels asked for."""
    want = os.environ.get("CNET_SIMD")
    if want:
        from cnet import _dispatch
        assert cnet.config()["simd"] == getattr(_dispatch, f"_kernels_{want}").ISA


def test_config_tells_the_truth_about_openmp(capsys):
    """show_config() and openmp_enabled() agree with the build; CI builds
    both ways and says which it expects through CNET_EXPECT_OPENMP."""
    expected = os.environ.get("CNET_EXPECT_OPENMP")
    if expected is not None:
        assert cnet.openmp_enabled() == (expected == "1")
    cnet.show_config()
    out = capsys.readouterr().out
    assert ("OpenMP:          enabled" in out) == cnet.openmp_enabled()
    if not cnet.openmp_enabled():
        assert "disabled (serial build)" in out
        assert cnet.config()["threads_default"] == 1
