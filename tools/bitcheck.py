"""Fingerprints of trained weights, to show that a change leaves plain SGD's
results bit for bit as they were.

    python tools/bitcheck.py [--json out.json]

Trains the book's job (784-30-10, sigmoid, quadratic cost, mini-batch 10,
eta 3.0, 2 epochs) and the big job (784-512-512-10, ReLU, softmax,
log-likelihood, mini-batch 128, eta 0.05, 1 epoch; with and without L2) on
the shipped MNIST sample, float32 and float64, 1 and 2 threads, through the
public API only, and prints the SHA-256 of each run's weights and biases.
Run it on two builds (say, before and after a change, CNET_SIMD set alike)
and compare the lines: equal lines are equal bits.
"""
import argparse
import hashlib
import json

import numpy as np

import cnet
from cnet import datasets

JOBS = {
    "book": (dict(sizes=[784, 30, 10]), dict(epochs=2, batch_size=10, eta=3.0)),
    "big": (dict(sizes=[784, 512, 512, 10], activation="relu", output_activation="softmax",
                 cost="log_likelihood", init="he"), dict(epochs=1, batch_size=128, eta=0.05)),
    "big, L2": (dict(sizes=[784, 512, 512, 10], activation="relu", output_activation="softmax",
                     cost="log_likelihood", init="he"),
                dict(epochs=1, batch_size=128, eta=0.05, lmbda=5.0)),
}


def fingerprint(net):
    h = hashlib.sha256()
    for p in net.weights + net.biases:
        h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()[:16]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    (X, y), _ = datasets.load_sample()
    out = {"simd": cnet.config()["simd"], "runs": {}}
    for name, (net_kw, fit_kw) in JOBS.items():
        for dtype in ("float32", "float64"):
            for threads in (1, 2):
                kw = dict(net_kw)
                net = cnet.Network(kw.pop("sizes"), dtype=dtype, seed=3, **kw)
                net.fit(X, y, n_threads=threads, **fit_kw)
                key = f"{name} {dtype} {threads} thread(s)"
                out["runs"][key] = fingerprint(net)
                print(f"{key:32s} {out['runs'][key]}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
