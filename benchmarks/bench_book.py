"""Time one epoch of the book's job side by side: cnet against the plain-NumPy
per-example algorithm of Nielsen's network.py, same data and order.

    python benchmarks/bench_book.py [--n-samples 50000] [--repeats 5] [--threads 1]

784-30-10, sigmoid, quadratic cost, mini-batch 10, eta 3.0, float64 for
both.  Data: real MNIST from CNET_DATA_DIR when set, else the sample shipped
with cnet.  Prints seconds per epoch (median, min, max) and the speed-up.
"""
import argparse
import os
import statistics
import time

import numpy as np

import cnet
from cnet import datasets, reference


def load(n_samples):
    if os.environ.get("CNET_DATA_DIR"):
        (X, y), _, _ = datasets.load_mnist(split="book", dtype="float64")
        source = "MNIST (CNET_DATA_DIR)"
    else:
        (X, y), _ = datasets.load_sample(dtype="float64")
        source = "shipped sample"
    n = min(n_samples, X.shape[0])
    return X[:n], y[:n], source


def time_epochs(run_epoch, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=50000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--numpy-repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    X, y, source = load(args.n_samples)
    n = X.shape[0]
    Y = np.eye(10)[y]
    rng = np.random.default_rng(0)
    net = cnet.Network([784, 30, 10], seed=0)
    W = [w.copy() for w in net.weights]
    B = [b.copy() for b in net.biases]

    def cnet_epoch():
        net.fit(X, y, epochs=1, batch_size=10, eta=3.0, n_threads=args.threads)

    def numpy_epoch():
        reference.sgd_epoch_per_example(W, B, X, Y, rng.permutation(n), 10, 3.0)

    cnet_epoch()  # warm-up: page in the data, start the OpenMP threads
    t_cnet = time_epochs(cnet_epoch, args.repeats)
    t_numpy = time_epochs(numpy_epoch, args.numpy_repeats)
    med_c, med_n = statistics.median(t_cnet), statistics.median(t_numpy)
    print(f"book's job: 784-30-10 sigmoid/quadratic, mini-batch 10, eta 3.0, float64, "
          f"{n} examples of {source}, {args.threads} thread(s)")
    print(f"{'implementation':40s} {'s/epoch':>9s} {'min':>9s} {'max':>9s}")
    for name, t in (("cnet", t_cnet), ("NumPy per-example (network.py)", t_numpy)):
        print(f"{name:40s} {statistics.median(t):9.4f} {min(t):9.4f} {max(t):9.4f}")
    print(f"speed-up of cnet over per-example NumPy: {med_n / med_c:.1f}x")


if __name__ == "__main__":
    main()
