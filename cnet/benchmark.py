"""cnet's benchmark suite: every job side by side in one run, on the same data.

    cnet bench [--epochs 7] [--quick] [--json results.json]
    python -m cnet.benchmark ...      (the same; benchmarks/suite.py in a checkout too)

Jobs (MNIST-sized: 50,000 examples of 784 inputs; real MNIST from
CNET_DATA_DIR, else the shipped sample tiled to 50,000 rows):

* book: 784-30-10, sigmoid, quadratic cost, mini-batch 10, eta 3.0 (the
  book's first network);
* big:  784-512-512-10, ReLU, softmax + log-likelihood, mini-batch 128,
  eta 0.05, float32;
* inference: forward of 10,000 x 784 through 784-512-512-10, float32;
* stack: 16 of the book's networks at once (cnet.NetworkStack, one compiled
  call per epoch) against the same 16 trained one after another and JAX's
  vmap of its compiled epoch (``--jobs stack``; not in the default set).

Implementations: cnet float32 / float64, the per-example NumPy algorithm of
network.py and plain vectorized NumPy (cnet/reference.py), and PyTorch
(eager, and through torch.compile), scikit-learn and JAX (its whole epoch
compiled: jit of a lax.scan) when installed (optional; never cnet dependencies).  Everything
runs on 1 thread (threadpoolctl limits the BLAS of NumPy, PyTorch and
scikit-learn), then cnet again on 2 threads.  Each row gives seconds per epoch
as the median over the timed epochs with min and max, and the arithmetic rate
as a fraction of the machine's GEMM rate measured in the same run (large
square matrix products through NumPy's BLAS, 1 and 2 threads).  The rate
drifts by 20-30% within minutes on a shared machine, so the probe runs again
before every round of epochs, and each row is set against the median of the
probes taken between its own epochs.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import cnet

from . import datasets, reference

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # the suite still runs; BLAS thread counts are then not pinned
    threadpool_limits = None

N_SAMPLES = 50000
SETTLE_SECONDS = 0.3  # idle time before a timed run next to a multi-threaded one
BOOK = dict(sizes=[784, 30, 10], batch=10, eta=3.0)
BIG = dict(sizes=[784, 512, 512, 10], batch=128, eta=0.05)
STACK_K = 16  # networks in the stack job
BIG_KW = dict(activation="relu", output_activation="softmax", cost="log_likelihood", init="he")


def limit_threads(n):
    """Context manager pinning every BLAS/OpenMP pool (NumPy, PyTorch) to n."""
    if threadpool_limits is None:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


def epoch_flops(sizes, n):
    """Multiply-adds x 2 of an epoch: forward and weight gradient for every
    layer, delta propagation for all but the first."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    return 2.0 * n * sum((2 if l == 0 else 3) * a * b for l, (a, b) in enumerate(pairs))


def gemm_rate(dtype, n_threads, size=2048, repeats=5):
    """GFLOP/s of NumPy's BLAS on a size^3 product: the machine's limit."""
    a = np.random.default_rng(0).random((size, size)).astype(dtype)
    b = a.T.copy()
    with limit_threads(n_threads):
        a @ b
        best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2.0 * size ** 3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_epochs(run_epoch, epochs, warmup=1):
    for _ in range(warmup):
        run_epoch()
    return [_timed(run_epoch) for _ in range(epochs)]


def load_data():
    if os.environ.get("CNET_DATA_DIR"):
        (X, y), _, _ = datasets.load_mnist(split="book", dtype="float64")
        source = "real MNIST (first 50,000 training images)"
    else:
        (X, y), _ = datasets.load_sample(dtype="float64")
        reps = -(-N_SAMPLES // X.shape[0])
        X, y = np.tile(X, (reps, 1))[:N_SAMPLES], np.tile(y, reps)[:N_SAMPLES]
        source = "the shipped MNIST sample, tiled to 50,000 rows"
    return X[:N_SAMPLES], y[:N_SAMPLES], source


# -- implementations: each returns a function that runs one epoch ---------

def cnet_job(job, X, y, dtype, n_threads, optimizer=None, dropout=None, eta=None, **net_kw):
    """One epoch per call, through the same generator fit() drives: X is
    validated once (as by one fit call of many epochs), and each call pays
    everything an epoch costs (shuffle, snapshot, compiled call, checks).
    optimizer, dropout: as fit takes them; eta: instead of the job's."""
    from cnet import optimizers, regularizers
    from cnet._validation import check_X, check_y
    from cnet.training import sgd_epochs
    net = cnet.Network(job["sizes"], dtype=dtype, seed=0, **net_kw)
    Xd = check_X(X, job["sizes"][0], net.dtype)
    _, labels = check_y(y, Xd.shape[0], job["sizes"][-1], net.dtype)
    epochs = sgd_epochs(net, Xd, None, labels, epochs=10 ** 6, batch_size=job["batch"],
                        eta=job["eta"] if eta is None else eta, lmbda=0.0, shuffle=True,
                        n_threads=n_threads, optimizer=optimizers.resolve(optimizer),
                        dropout=regularizers.dropout_rates(dropout, job["sizes"]))

    def run():
        next(epochs)
    return run


def numpy_vectorized_job(job, X, y, dtype, acts, cost, init_std):
    """Plain NumPy written for speed, one matrix product per layer per
    mini-batch: the baseline an engineer would write by hand (same algorithm
    as cnet/reference.py, without its generality)."""
    rng = np.random.default_rng(0)
    sizes = job["sizes"]
    W = [(rng.standard_normal((o, i)) * init_std(i)).astype(dtype)
         for i, o in zip(sizes[:-1], sizes[1:])]
    b = [np.zeros(o, dtype=dtype) for o in sizes[1:]]
    Xd = np.ascontiguousarray(X, dtype=dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[y]
    n, m, eta = Xd.shape[0], job["batch"], dtype(job["eta"])
    L = len(W)

    def act(name, z):
        if name == "sigmoid":
            np.negative(z, out=z)
            with np.errstate(over="ignore"):  # exp(-z) = inf gives 1 / inf = 0: right
                np.exp(z, out=z)
            z += 1
            return np.reciprocal(z, out=z)
        if name == "relu":
            return np.maximum(z, 0, out=z)
        e = np.exp(z - z.max(axis=1, keepdims=True))  # softmax
        return e / e.sum(axis=1, keepdims=True)

    def deriv(name, a):
        return a * (1 - a) if name == "sigmoid" else (a > 0)

    def run():
        order = rng.permutation(n)
        for start in range(0, n, m):
            idx = order[start:start + m]
            As = [Xd[idx]]
            for l in range(L):
                As.append(act(acts[l], As[-1] @ W[l].T + b[l]))
            delta = As[-1] - Y[idx]
            if cost == "quadratic":
                delta *= deriv(acts[-1], As[-1])
            step = eta / len(idx)
            for l in range(L - 1, -1, -1):
                below = (delta @ W[l]) * deriv(acts[l - 1], As[l]) if l else None
                W[l] -= step * (delta.T @ As[l])
                b[l] -= step * delta.sum(axis=0)
                delta = below
    return run


def numpy_per_example_job(job, X, y):
    rng = np.random.default_rng(0)
    sizes = job["sizes"]
    W = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    B = [rng.standard_normal((o, 1)) for o in sizes[1:]]
    Y = np.eye(sizes[-1])[y]
    n = X.shape[0]

    def run():
        reference.sgd_epoch_per_example(W, B, X, Y, rng.permutation(n), job["batch"], job["eta"])
    return run


def torch_job(job, X, y, kind, optimizer="sgd", eta=None, compiled=False):
    """PyTorch's per-mini-batch loop; optimizer "sgd" or "adam" (torch.optim).
    compiled: the model and the optimizer's step through ``torch.compile``
    (Inductor's generated C++ for the forward and backward graphs; the first
    epoch, the untimed warm-up, compiles them)."""
    import torch
    torch.manual_seed(0)
    sizes = job["sizes"]
    layers = []
    for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(i, o))
        last = l == len(sizes) - 2
        if kind == "book":
            layers.append(torch.nn.Sigmoid())
        elif not last:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    lr = job["eta"] if eta is None else eta
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=lr))
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    Yt = torch.nn.functional.one_hot(yt, sizes[-1]).float()
    n, m = Xt.shape[0], job["batch"]
    gen = torch.Generator().manual_seed(0)
    forward, step = model, opt.step
    if compiled:
        forward = torch.compile(model)
        step = torch.compile(opt.step)

    def run():
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, m):
            idx = perm[start:start + m]
            out = forward(Xt[idx])
            if kind == "book":
                loss = 0.5 * ((out - Yt[idx]) ** 2).sum(dim=1).mean()
            else:
                loss = torch.nn.functional.cross_entropy(out, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            step()
        return model
    return run


def jax_job(job, X, y, kind, stack=None):
    """JAX's strongest form: the whole epoch one compiled function (``jit``
    of a ``lax.scan`` over the mini-batches, the batches gathered inside),
    plain SGD, float32.  The last partial mini-batch is left out (a scan
    takes equal steps): 50,000 / 128 drops 80 examples of the big job's
    epoch, 0.2% of its work.  Each epoch runs on one core (one_core).

    stack=K: K networks at once, JAX's way (``vmap`` of the step over the
    parameters, each network its own initial weights; one sample order)."""
    import jax
    import jax.numpy as jnp
    sizes, m = job["sizes"], job["batch"]
    eta = np.float32(job["eta"])
    key = jax.random.PRNGKey(0)
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        key, k = jax.random.split(key)
        std = 1.0 / np.sqrt(i) if kind == "book" else np.sqrt(2.0 / i)
        shape = (i, o) if stack is None else (stack, i, o)
        params.append((jax.random.normal(k, shape, jnp.float32) * std,
                       jnp.zeros(shape[:-2] + (o,), jnp.float32)))
    Xj = jnp.asarray(np.ascontiguousarray(X, dtype=np.float32))
    Yj = jax.nn.one_hot(jnp.asarray(y), sizes[-1], dtype=jnp.float32)
    n = X.shape[0]
    steps = n // m

    def loss(ps, xb, yb):
        a = xb
        for l, (W, b) in enumerate(ps):
            z = a @ W + b
            last = l == len(ps) - 1
            a = jax.nn.sigmoid(z) if kind == "book" else (z if last else jax.nn.relu(z))
        if kind == "book":
            return 0.5 * jnp.sum((a - yb) ** 2) / xb.shape[0]
        return -jnp.sum(yb * jax.nn.log_softmax(a)) / xb.shape[0]

    def sgd(ps, xb, yb):
        g = jax.grad(loss)(ps, xb, yb)
        return jax.tree_util.tree_map(lambda p, d: p - eta * d, ps, g)

    update = sgd if stack is None else jax.vmap(sgd, in_axes=(0, None, None))

    @jax.jit
    def epoch(ps, order):
        def step(ps, idx):
            return update(ps, Xj[idx], Yj[idx]), None
        ps, _ = jax.lax.scan(step, ps, order[:steps * m].reshape(steps, m))
        return ps

    rng = np.random.default_rng(0)
    state = {"params": params}

    def run():
        order = jnp.asarray(rng.permutation(n).astype(np.int32))
        with one_core():
            state["params"] = jax.block_until_ready(epoch(state["params"], order))
        return state["params"]
    return run


def stack_job(job, X, y, K, n_threads):
    """An epoch of a cnet.NetworkStack of K networks (seeds 0 .. K-1): one
    fit call of one epoch (X converted to float32 once, as a user would)."""
    stack = cnet.NetworkStack(job["sizes"], range(K), dtype="float32")
    Xf = np.ascontiguousarray(X, dtype=np.float32)

    def run():
        stack.fit(Xf, y, 1, job["batch"], job["eta"], n_threads=n_threads)
        return stack
    return run


def sequential_job(job, X, y, K):
    """An epoch of each of K networks trained one after another (cnet_job's)."""
    runs = [cnet_job(job, X, y, "float32", 1) for _ in range(K)]

    def run():
        for r in runs:
            r()
    return run


@contextlib.contextmanager
def one_core():
    """Every thread of this process on one core for the duration (Linux).

    XLA's CPU runtime ignores XLA_FLAGS' thread settings in recent JAX
    (measured, JAX 0.10: 3.2 s of CPU in a 1.7 s epoch); its maintainers'
    advice is the affinity mask (jax-ml/jax#1539).  Each thread's mask, XLA's
    pool included, is set and then given back (threads born inside get the
    process's), so the rows of cnet on 2 threads in the same run keep both
    cores."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    saved = os.sched_getaffinity(0)

    def tasks():
        return [int(t) for t in os.listdir("/proc/self/task")]

    masks = {}
    for tid in tasks():
        try:
            masks[tid] = os.sched_getaffinity(tid)
            os.sched_setaffinity(tid, {min(saved)})
        except OSError:  # a thread that has ended
            pass
    try:
        yield
    finally:
        for tid in tasks():
            try:
                os.sched_setaffinity(tid, masks.get(tid, saved))
            except OSError:
                pass


def sklearn_job(job, X, y, dtype, kind):
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=tuple(job["sizes"][1:-1]),
                        activation="logistic" if kind == "book" else "relu",
                        solver="sgd", batch_size=job["batch"], learning_rate_init=job["eta"],
                        momentum=0.0, alpha=0.0, random_state=0)
    Xd = np.ascontiguousarray(X, dtype=dtype)
    classes = np.arange(10)

    def run():
        clf.partial_fit(Xd, y, classes=classes)
    return run


# -- the run ------------------------------------------------------------------

def available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=7, help="timed epochs per row (median, min, max)")
    p.add_argument("--quick", action="store_true",
                   help="3 timed epochs, 1 for the slow baselines")
    p.add_argument("--jobs", default="book,big,inference")
    p.add_argument("--no-peers", action="store_true", help="skip PyTorch, scikit-learn and JAX")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    epochs = 3 if args.quick else args.epochs
    slow_epochs = 1 if args.quick else 3
    jobs = args.jobs.split(",")

    X, y, source = load_data()
    rows = []
    probe = {}

    def gemm(dtype, threads):
        key = (np.dtype(dtype).name, threads)
        probe[key] = gemm_rate(dtype, threads)
        return probe[key]

    def measure(job, flops, impls, rounds):
        """Time the implementations one epoch each, round after round, so that
        a change in the machine's state hits all of them alike; a GEMM probe
        for each (dtype, threads) opens every round.  impls: list of (name,
        run, threads, dtype, max_rounds)."""
        times = {name: [] for name, *_ in impls}
        probes = {}
        for name, run, threads, *_ in impls:  # warm-up epoch
            with limit_threads(threads):
                run()
        prev_threads = 1
        for r in range(rounds):
            for key in sorted({(np.dtype(d).name, th) for _, _, th, d, _ in impls}):
                if prev_threads > 1:
                    time.sleep(SETTLE_SECONDS)
                prev_threads = key[1]
                probes.setdefault(key, []).append(gemm_rate(key[0], key[1], repeats=3))
            for name, run, threads, dtype, max_rounds in impls:
                if r < max_rounds:
                    if prev_threads > 1:
                        # A pool's threads spin for a while after a call (OpenBLAS's,
                        # OpenMP's): on a 2-core machine they would take the next
                        # implementation's second core.  Measured: cnet's 2-thread
                        # forward 0.19 s right after NumPy's, 0.12 s after a pause.
                        time.sleep(SETTLE_SECONDS)
                    prev_threads = threads
                    with limit_threads(threads):
                        times[name].append(_timed(run))
        for name, run, threads, dtype, _ in impls:
            t = times[name]
            med = statistics.median(t)
            rate = flops / med / 1e9
            round_probes = probes[(np.dtype(dtype).name, threads)]
            gemm_now = statistics.median(round_probes)
            rows.append(dict(job=job, impl=name, threads=threads, median=med, min=min(t),
                             max=max(t), epochs=len(t), gflops=rate, gemm_now=gemm_now,
                             gemm_fraction=rate / gemm_now))
            print(f"  {name:40s} {threads}  {med:8.4f} s/epoch  (min {min(t):.4f}, "
                  f"max {max(t):.4f}, {len(t)} epochs)  {rate:6.1f} GFLOP/s"
                  + f"  {rate / gemm_now:5.1%} of GEMM", flush=True)
        for (dtype, threads), rates in sorted(probes.items()):
            print(f"  GEMM probe between rounds, {dtype}, {threads} thread(s): median "
                  f"{statistics.median(rates):.1f} GFLOP/s (min {min(rates):.1f}, "
                  f"max {max(rates):.1f})", flush=True)
            probe[(dtype, threads, job)] = statistics.median(rates)
        return {name: statistics.median(t) for name, t in times.items()}

    openmp = "on" if cnet.openmp_enabled() else "off"
    print(f"cnet {cnet.__version__} ({cnet.config()['simd']}, OpenMP {openmp}); "
          f"{platform.processor() or platform.machine()}; data: {source}")
    print(f"GEMM probe, 1 thread: float32 {gemm('float32', 1):.1f} GFLOP/s, "
          f"float64 {gemm('float64', 1):.1f} GFLOP/s; 2 threads: float32 "
          f"{gemm('float32', 2):.1f} GFLOP/s", flush=True)
    peers = not args.no_peers
    have_torch = peers and available("torch")
    have_sklearn = peers and available("sklearn")
    have_jax = peers and available("jax")

    ratios = {}
    if "book" in jobs:
        flops = epoch_flops(BOOK["sizes"], X.shape[0])
        print(f"\nbook's job: 784-30-10 sigmoid/quadratic, mini-batch 10, eta 3.0 "
              f"({flops / 1e9:.2f} GFLOP/epoch)")
        sig = ["sigmoid", "sigmoid"]
        one = lambda i: 1.0
        impls = [
            ("cnet float32", cnet_job(BOOK, X, y, "float32", 1), 1, "float32", epochs),
            ("cnet float64", cnet_job(BOOK, X, y, "float64", 1), 1, "float64", epochs),
            ("cnet float32, 2 threads", cnet_job(BOOK, X, y, "float32", 2), 2, "float32", epochs),
            ("NumPy vectorized float32",
             numpy_vectorized_job(BOOK, X, y, np.float32, sig, "quadratic", one), 1, "float32",
             epochs),
            ("NumPy vectorized float64",
             numpy_vectorized_job(BOOK, X, y, np.float64, sig, "quadratic", one), 1, "float64",
             epochs),
            ("NumPy per-example (network.py) float64", numpy_per_example_job(BOOK, X, y), 1,
             "float64", slow_epochs),
        ]
        if have_torch:
            impls.append(("PyTorch float32", torch_job(BOOK, X, y, "book"), 1, "float32",
                          slow_epochs))
            impls.append(("PyTorch torch.compile float32",
                          torch_job(BOOK, X, y, "book", compiled=True), 1, "float32",
                          slow_epochs))
        if have_sklearn:
            impls.append(("scikit-learn MLP sgd float32",
                          sklearn_job(BOOK, X, y, np.float32, "book"), 1, "float32", slow_epochs))
        if have_jax:
            impls.append(("JAX jit + scan epoch float32", jax_job(BOOK, X, y, "book"), 1,
                          "float32", epochs))
        med = measure("book", flops, impls, epochs)
        c32, c64 = med["cnet float32"], med["cnet float64"]
        ratios["book"] = {
            "cnet64 vs per-example NumPy": med["NumPy per-example (network.py) float64"] / c64,
            "cnet64 vs NumPy vectorized 64": med["NumPy vectorized float64"] / c64,
            "cnet32 vs NumPy vectorized 32": med["NumPy vectorized float32"] / c32,
            "cnet32 1 thread vs 2 threads": med["cnet float32, 2 threads"] / c32,
        }
        if have_torch:
            ratios["book"]["cnet32 vs PyTorch"] = med["PyTorch float32"] / c32
            ratios["book"]["cnet32 vs torch.compile"] = (med["PyTorch torch.compile float32"]
                                                         / c32)
        if have_sklearn:
            ratios["book"]["cnet32 vs scikit-learn"] = med["scikit-learn MLP sgd float32"] / c32
        if have_jax:
            ratios["book"]["cnet32 vs JAX"] = med["JAX jit + scan epoch float32"] / c32

    if "big" in jobs:
        flops = epoch_flops(BIG["sizes"], X.shape[0])
        print(f"\nbig job: 784-512-512-10 ReLU/softmax/log-likelihood, mini-batch 128, "
              f"float32 ({flops / 1e9:.1f} GFLOP/epoch)")
        acts = ["relu", "relu", "softmax"]
        kw = BIG_KW
        big_epochs = max(3, epochs)
        impls = [
            ("cnet float32", cnet_job(BIG, X, y, "float32", 1, **kw), 1, "float32", big_epochs),
            ("NumPy vectorized float32",
             numpy_vectorized_job(BIG, X, y, np.float32, acts, "log_likelihood",
                                  lambda i: np.sqrt(2.0 / i)), 1, "float32", big_epochs),
        ]
        if have_torch:
            impls.append(("PyTorch float32", torch_job(BIG, X, y, "big"), 1, "float32",
                          min(big_epochs, slow_epochs)))
            impls.append(("PyTorch torch.compile float32",
                          torch_job(BIG, X, y, "big", compiled=True), 1, "float32",
                          min(big_epochs, slow_epochs)))
        if have_sklearn:
            impls.append(("scikit-learn MLP sgd float32",
                          sklearn_job(BIG, X, y, np.float32, "big"), 1, "float32",
                          min(big_epochs, slow_epochs)))
        if have_jax:
            impls.append(("JAX jit + scan epoch float32", jax_job(BIG, X, y, "big"), 1,
                          "float32", big_epochs))
        med = measure("big", flops, impls, big_epochs)
        ratios["big"] = {"cnet vs NumPy vectorized": med["NumPy vectorized float32"]
                         / med["cnet float32"]}
        if have_torch:
            ratios["big"]["cnet vs PyTorch"] = med["PyTorch float32"] / med["cnet float32"]
            ratios["big"]["cnet vs torch.compile"] = (med["PyTorch torch.compile float32"]
                                                      / med["cnet float32"])
        if have_jax:
            ratios["big"]["cnet vs JAX"] = med["JAX jit + scan epoch float32"] / med["cnet float32"]
        print("  cnet on 1 and 2 threads (a calm machine: 2-thread GEMM probe >= 180 GFLOP/s)")
        med2 = measure("big", flops, [
            ("cnet float32, 1 thread", cnet_job(BIG, X, y, "float32", 1, **kw), 1, "float32",
             big_epochs),
            ("cnet float32, 2 threads", cnet_job(BIG, X, y, "float32", 2, **kw), 2, "float32",
             big_epochs)], big_epochs)
        ratios["big"]["2 threads vs 1"] = (med2["cnet float32, 1 thread"]
                                           / med2["cnet float32, 2 threads"])
        ratios["big"]["2-thread GEMM probe GFLOP/s"] = probe[("float32", 2, "big")]

    if "stack" in jobs:
        K = STACK_K
        flops = K * epoch_flops(BOOK["sizes"], X.shape[0])
        print(f"\nstack: {K} of the book's networks (784-30-10, mini-batch 10), float32, the "
              f"same sample order ({flops / 1e9:.1f} GFLOP/epoch of all {K})")
        impls = [
            (f"cnet NetworkStack of {K}", stack_job(BOOK, X, y, K, 1), 1, "float32", epochs),
            (f"cnet, {K} networks one after another", sequential_job(BOOK, X, y, K), 1,
             "float32", min(epochs, 3)),
        ]
        if have_jax:
            impls.append((f"JAX vmap over {K}, jit + scan epoch",
                          jax_job(BOOK, X, y, "book", stack=K), 1, "float32", min(epochs, 3)))
        med = measure("stack", flops, impls, epochs)
        s1 = med[f"cnet NetworkStack of {K}"]
        ratios["stack"] = {
            "ms per network-epoch": 1000 * s1 / K,
            "stack vs one after another": med[f"cnet, {K} networks one after another"] / s1}
        if have_jax:
            ratios["stack"]["stack vs JAX vmap"] = med[f"JAX vmap over {K}, jit + scan epoch"] / s1
        print("  the stack on 1 and 2 threads (a calm machine: 2-thread GEMM probe >= 180 "
              "GFLOP/s)")
        med2 = measure("stack", flops, [
            ("cnet stack, 1 thread", stack_job(BOOK, X, y, K, 1), 1, "float32", epochs),
            ("cnet stack, 2 threads", stack_job(BOOK, X, y, K, 2), 2, "float32", epochs)],
            epochs)
        ratios["stack"]["2 threads vs 1"] = (med2["cnet stack, 1 thread"]
                                             / med2["cnet stack, 2 threads"])

    if "inference" in jobs:
        Xi = np.ascontiguousarray(X[:10000], dtype=np.float32)
        net = cnet.Network(BIG["sizes"], activation="relu", output_activation="softmax",
                           cost="log_likelihood", init="he", dtype="float32", seed=0)
        Ws = [w.copy(order="C") for w in net.weights]
        bs = [b.ravel().copy() for b in net.biases]
        flops = 2.0 * 10000 * sum(a * b for a, b in zip(BIG["sizes"][:-1], BIG["sizes"][1:]))
        print("\ninference: forward of 10,000 x 784 through 784-512-512-10, float32")

        def numpy_forward():
            reference.feedforward(Ws, bs, ["relu", "relu", "softmax"], Xi)

        ratios["inference"] = {}
        for threads in (1, 2):
            med = measure("inference", flops, [
                ("cnet forward", lambda: net.forward(Xi, n_threads=threads), threads,
                 "float32", epochs * 2),
                ("NumPy matmul + activations", numpy_forward, threads, "float32", epochs * 2),
            ], epochs * 2)
            ratios["inference"][f"cnet vs NumPy, {threads} thread(s)"] = (
                med["NumPy matmul + activations"] / med["cnet forward"])

    print("\nratios (how many times faster cnet is; medians):")
    for job, rs in ratios.items():
        for k, v in rs.items():
            print(f"  {job:10s} {k:36s} {v:7.2f}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, ratios=ratios,
                           gemm={"-".join(map(str, k)): v for k, v in probe.items()},
                           source=source, config=cnet.config()), f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
