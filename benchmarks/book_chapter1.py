"""Chapter 1 of Nielsen's book, 30 epochs, with network.py and with cnet.

    python benchmarks/book_chapter1.py [--epochs 30] [--only nielsen|cnet] [--json out.json]

The run typed at the Python prompt in chapter 1 (784-30-10, sigmoid,
quadratic cost, mini-batch 10, eta 3.0, test accuracy printed after each
epoch), on real MNIST from CNET_DATA_DIR (the book's 50,000 / 10,000 /
10,000 split), once with network.py (the Python 3 port, vendored unchanged
in benchmarks/nielsen/network.py) and once with cnet.book.network, each
after random.seed(SEED) and np.random.seed(SEED), on one thread (NumPy's
BLAS limited as well).  Prints each epoch's accuracy from both and the time
of the whole SGD call (training and the per-epoch evaluation both do).
"""
import argparse
import contextlib
import io
import json
import os
import random
import re
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

SEED = 12345
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from contention import cpu_name  # noqa: E402


def run(module, data, epochs):
    training_data, validation_data, test_data = data
    random.seed(SEED)
    np.random.seed(SEED)
    net = module.Network([784, 30, 10])
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        net.SGD(list(training_data), epochs, 10, 3.0, test_data=list(test_data))
    seconds = time.perf_counter() - t0
    accuracies = [int(m.group(1)) for m in re.finditer(r"Epoch \d+ ?: (\d+) / ", out.getvalue())]
    return seconds, accuracies


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", choices=["nielsen", "cnet"])
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    from cnet.book import mnist_loader
    data = mnist_loader.load_data_wrapper()
    results = {"cpu": cpu_name(), "epochs": args.epochs, "seed": SEED}
    if args.only != "cnet":
        sys.path.insert(0, os.path.join(HERE, "nielsen"))
        import network as nielsen
        results["network.py"] = run(nielsen, data, args.epochs)
    if args.only != "nielsen":
        from cnet.book import network
        results["cnet.book.network"] = run(network, data, args.epochs)
    print(f"CPU: {results['cpu']}; chapter 1, {args.epochs} epochs, seeds {SEED}, 1 thread")
    for name in ("network.py", "cnet.book.network"):
        if name in results:
            seconds, acc = results[name]
            print(f"{name:18s} {seconds:8.2f} s  best {max(acc)} / 10000, last {acc[-1]}; "
                  f"per epoch: {' '.join(map(str, acc))}")
    if "network.py" in results and "cnet.book.network" in results:
        print(f"cnet is {results['network.py'][0] / results['cnet.book.network'][0]:.0f}x faster")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
