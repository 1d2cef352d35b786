"""cnet.sklearn against scikit-learn's own MLP, side by side, on one thread.

    CNET_DATA_DIR=../shared/data/mnist python benchmarks/sklearn_mlp.py \\
        [--epochs 10] [--speed-rounds 1] [--json out.json]

Both estimators get the same data, network (784-512-512-10, ReLU, softmax)
and parameters -- scikit-learn's defaults but for the ones named -- and one
thread each (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS=1 before NumPy loads,
cnet's n_threads=1); only the seed's draws differ.

* speed: one epoch (max_iter=1) of real MNIST's 60,000 training images,
  for sgd and adam at batch_size 10, 200 (scikit-learn's "auto") and 128;
  scikit-learn's fit and cnet's fit alternate, so a change in the shared
  host's load hits both.  The time of each fit, the ratio, and each one's
  test accuracy after that epoch.
* accuracy: --epochs epochs (max_iter, with tol=0 so neither stops early)
  at batch_size "auto", sgd and adam, on MNIST and Fashion-MNIST (found as
  cnet.datasets.load_fashion_mnist finds it: CNET_DATA_DIR/fashion-mnist,
  Debian's /usr/share/datasets/fashion-mnist, the cache): test accuracy of
  each, the difference, and the fit times.

The CPU is printed with the results (and stored in --json).
"""
import os

os.environ["OMP_NUM_THREADS"] = "1"        # before NumPy / scikit-learn load
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLP  # noqa: E402

import cnet  # noqa: E402
from cnet.sklearn import MLPClassifier  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contention import cpu_name  # noqa: E402

HIDDEN = (512, 512)


def fit_both(X, y, Xt, yt, **params):
    """Fit scikit-learn's MLP, then cnet's, with the same parameters."""
    out = {}
    for name, cls, extra in (("sklearn", SkMLP, {}), ("cnet", MLPClassifier,
                                                       {"n_threads": 1, "dtype": X.dtype.name})):
        est = cls(HIDDEN, random_state=0, **params, **extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - t
        out[name] = {"seconds": seconds, "accuracy": float(est.score(Xt, yt))}
    out["ratio"] = out["sklearn"]["seconds"] / out["cnet"]["seconds"]
    return out


def speed(X, y, Xt, yt, rounds):
    rows = []
    for solver in ("sgd", "adam"):
        for batch in (10, 200, 128):
            runs = [fit_both(X, y, Xt, yt, solver=solver, batch_size=batch, max_iter=1)
                    for _ in range(rounds)]
            best = {k: min(r[k]["seconds"] for r in runs) for k in ("sklearn", "cnet")}
            row = {"solver": solver, "batch_size": batch, "runs": runs,
                   "sklearn_s": best["sklearn"], "cnet_s": best["cnet"],
                   "ratio": best["sklearn"] / best["cnet"],
                   # each round's two fits ran back to back: their ratio drifts
                   # less with the shared host's load than either time
                   "median_round_ratio": statistics.median(r["ratio"] for r in runs),
                   "sklearn_acc": runs[0]["sklearn"]["accuracy"],
                   "cnet_acc": runs[0]["cnet"]["accuracy"]}
            print(f"  {solver:4s} batch {batch:3d}: scikit-learn {row['sklearn_s']:7.2f} s, "
                  f"cnet {row['cnet_s']:6.2f} s: {row['ratio']:5.2f}x "
                  f"(rounds' median {row['median_round_ratio']:.2f}x)   "
                  f"(test accuracy after 1 epoch {100 * row['sklearn_acc']:.2f}% / "
                  f"{100 * row['cnet_acc']:.2f}%)", flush=True)
            rows.append(row)
    return rows


def accuracy(name, X, y, Xt, yt, epochs):
    rows = []
    for solver in ("sgd", "adam"):
        r = fit_both(X, y, Xt, yt, solver=solver, max_iter=epochs, tol=0.0)
        row = {"data": name, "solver": solver, "epochs": epochs,
               "sklearn_acc": r["sklearn"]["accuracy"], "cnet_acc": r["cnet"]["accuracy"],
               "sklearn_s": r["sklearn"]["seconds"], "cnet_s": r["cnet"]["seconds"],
               "ratio": r["ratio"]}
        print(f"  {name:13s} {solver:4s} {epochs} epochs: test accuracy scikit-learn "
              f"{100 * row['sklearn_acc']:.2f}%, cnet {100 * row['cnet_acc']:.2f}% "
              f"({100 * (row['cnet_acc'] - row['sklearn_acc']):+.2f} points); "
              f"fit {row['sklearn_s']:.1f} s / {row['cnet_s']:.1f} s ({row['ratio']:.2f}x)",
              flush=True)
        rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the accuracy runs")
    ap.add_argument("--speed-rounds", type=int, default=1,
                    help="one-epoch fits of each per speed row (the best of each is "
                         "kept; the median of the rounds' ratios is printed too)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if not os.environ.get("CNET_DATA_DIR"):
        ap.error("set CNET_DATA_DIR to the folder of real MNIST's IDX files")
    from sklearn import __version__ as skv
    print(f"CPU: {cpu_name()}, {os.cpu_count()} CPUs\nscikit-learn {skv}, "
          f"NumPy {np.__version__}, 1 thread, "
          f"784-{'-'.join(map(str, HIDDEN))}-10 ReLU/softmax, float32", flush=True)
    (X, y), (Xt, yt), *_ = cnet.datasets.load_mnist(dtype="float32", download=False)
    out = {"cpu": cpu_name(), "sklearn": skv, "date": time.strftime("%Y-%m-%d")}
    if not args.skip_speed:
        print("speed: one epoch of MNIST (60,000 images)")
        out["speed"] = speed(X, y, Xt, yt, args.speed_rounds)
    if not args.skip_accuracy:
        print("accuracy: batch_size 'auto' (200)")
        out["accuracy"] = accuracy("MNIST", X, y, Xt, yt, args.epochs)
        (Xf, yf), (Xft, yft), *_ = cnet.datasets.load_fashion_mnist(dtype="float32",
                                                                     download=False)
        out["accuracy"] += accuracy("Fashion-MNIST", Xf, yf, Xft, yft, args.epochs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
