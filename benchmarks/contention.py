"""Thread counts on a calm and on a busy machine.

    python benchmarks/contention.py [--epochs 3] [--rows 10000] [--json out.json]

Times one epoch of the big job (784-512-512-10, ReLU/softmax, mini-batch 128,
float32) and of the book's job (784-30-10, mini-batch 10) on 1 thread, 2
threads and the default thread count (n_threads=None), with 0, 1 and 2 other
processes spinning on the cores (a busy machine: another user's job).  Each
cell is the median seconds per epoch; ratios are against 1 thread under the
same load, measured in the same run.  Speed-up on the calm machine and
slow-down under load are what cnet promises to keep (issue 11: under load
the default never more than 1.5x slower than 1 thread; calm, 2 threads at
least 1.8x faster on the big job).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import cnet
from cnet import datasets

sys.path.insert(0, os.path.dirname(__file__))
from suite import BIG, BIG_KW, BOOK  # noqa: E402

BUSY = "while True:\n    pass\n"


def cpu_name():
    """The CPU's model name with its family/model and widest vector extension
    (a cloud host's model name alone, "AMD EPYC", does not tell Zen 3 from
    Zen 4), and the kernel variant cnet picked."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        return f"{platform.processor() or platform.machine()}; cnet kernels: " \
               f"{cnet.config()['simd']}"
    flags = info.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} "
            f"model {info.get('model', '?')}, {isa}); cnet kernels: {cnet.config()['simd']}")


def data(rows):
    (X, y), _ = datasets.load_sample()
    reps = -(-rows // len(X))
    return np.tile(X, (reps, 1))[:rows].astype(np.float32), np.tile(y, reps)[:rows]


def epoch_seconds(job, kw, X, y, n_threads, epochs):
    net = cnet.Network(job["sizes"], **kw, dtype="float32", seed=0)
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        net.fit(X, y, epochs=1, batch_size=job["batch"], eta=job["eta"], n_threads=n_threads)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--loads", default="0,1,2", help="numbers of busy processes")
    ap.add_argument("--json")
    args = ap.parse_args()
    X, y = data(args.rows)
    print(f"CPU: {cpu_name()}; {os.cpu_count()} logical CPUs; cnet {cnet.__version__}, "
          f"SIMD {cnet.config()['simd']}")
    print(f"{args.rows} rows, median of {args.epochs} epochs, seconds per epoch")
    jobs = [("big 784-512-512-10", BIG, BIG_KW), ("book 784-30-10", BOOK, {})]
    results = []
    for load in [int(v) for v in args.loads.split(",")]:
        procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(load)]
        try:
            time.sleep(0.3)
            for name, job, kw in jobs:
                row = {"job": name, "busy": load}
                for label, n in (("1 thread", 1), ("2 threads", 2), ("default", None)):
                    row[label] = epoch_seconds(job, kw, X, y, n, args.epochs)
                one = row["1 thread"]
                print(f"busy={load}  {name:20s}  1 thread {one:7.3f}  "
                      f"2 threads {row['2 threads']:7.3f} ({one / row['2 threads']:.2f}x)  "
                      f"default {row['default']:7.3f} ({one / row['default']:.2f}x)", flush=True)
                results.append(row)
        finally:
            for p in procs:
                p.kill()
                p.wait()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_name(), "rows": args.rows, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
