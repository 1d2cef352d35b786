"""What the experiments share: their data (with each paper's
preprocessing), the result files (CSV, PNG) and the claims they check."""
import csv
import os
from pathlib import Path

import numpy as np

from .. import datasets

DATASETS = ("mnist", "fashion-mnist", "cifar10", "sample")


class DataMissing(Exception):
    """The experiment's data set is not where cnet looks; the message says how to get it."""


def load(name, data_dir=None, dtype="float32"):
    """(X, y), (X_test, y_test) of a data set, inputs in [0, 1]: the standard
    split (60,000 / 10,000 for MNIST and Fashion-MNIST, 50,000 / 10,000 for
    CIFAR-10), or the 10,000 / 2,000 MNIST sample shipped with cnet."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "sample":
        return datasets.load_sample(dtype=dtype)
    loader = {"mnist": datasets.load_mnist, "fashion-mnist": datasets.load_fashion_mnist,
              "cifar10": datasets.load_cifar10}[name]
    try:
        return loader(None if data_dir is None else Path(data_dir), dtype=dtype,
                      download=False)
    except FileNotFoundError as exc:
        raise DataMissing(
            f"{exc}. Put the files in a folder and pass --data-dir DIR or set CNET_DATA_DIR, "
            f"or fetch them into cnet's cache first: python -c \"import cnet; "
            f"cnet.datasets.{loader.__name__}()\" (needs the network); "
            f"Fashion-MNIST also comes as Debian's dataset-fashion-mnist") from None


def zhang_cifar(X):
    """Zhang et al.'s CIFAR-10 preprocessing: the central 28x28 crop of each
    image, then per-image whitening (x - mean) / max(std, 1 / sqrt(n))."""
    X = np.asarray(X)
    crop = X.reshape(-1, 3, 32, 32)[:, :, 2:30, 2:30].reshape(X.shape[0], -1)
    mean = crop.mean(axis=1, keepdims=True)
    std = np.maximum(crop.std(axis=1, keepdims=True), 1 / np.sqrt(crop.shape[1]))
    return ((crop - mean) / std).astype(X.dtype)


def subset(X, y, n, seed=0):
    """The first n examples of a fixed shuffle (all if n is None)."""
    if n is None or n >= X.shape[0]:
        return X, y
    order = np.random.default_rng(seed).permutation(X.shape[0])[:n]
    order.sort()
    return X[order], y[order]


def write_csv(path, rows):
    """rows: list of dicts; the columns are the union of their keys, in order."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k, "")) for k in keys})
    os.replace(tmp, path)


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return v


def pyplot():
    """matplotlib's pyplot on a file-only backend, or None if it is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(fig)


class Claims:
    """The qualitative claims an experiment checks, each with what was measured."""

    def __init__(self):
        self.items = []

    def check(self, claim, holds, measured):
        self.items.append({"claim": claim, "holds": bool(holds), "measured": measured})

    @property
    def all_hold(self):
        return all(c["holds"] for c in self.items)

    def report(self):
        return "\n".join(f"  [{'ok' if c['holds'] else 'FAILS'}] {c['claim']}: {c['measured']}"
                         for c in self.items)
