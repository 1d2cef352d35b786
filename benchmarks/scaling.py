"""Hyper-parameter searches on joblib's backends: do cnet's estimators use
the cores they are given, and only those?

    python benchmarks/scaling.py [--n 12000] [--json out.json]

One GridSearchCV (cnet.sklearn.MLPClassifier, 784-256-10, Adam, 4
candidates x 3 folds, 5 epochs each) on real MNIST (CNET_DATA_DIR, else the
shipped sample), run:

* serially (n_jobs=1: each fit gets every core), and serially with one
  thread per fit (what each worker below has);
* on loky with n_jobs=2 (joblib limits each worker to cores / n_jobs
  threads: OMP_NUM_THREADS in the worker, which cnet follows);
* on a dask.distributed LocalCluster of 2 single-threaded workers
  (distributed sets OMP_NUM_THREADS=1 in the workers it spawns; the data
  scattered to them once, ``parallel_config(scatter=[X, y])``);
* on the threading backend with n_jobs=2 (both fits in one process);
* and, for contrast, oversubscribed on purpose: loky n_jobs=2 with
  inner_max_num_threads=cores, so each of the 2 workers runs cores threads.

Prints each one's wall time (the best of --repeat runs: the host is
shared), its speed-up over the serial run, and the thread count cnet used
in each fit (from the estimators' history_).  All
runs must give the same cv_results_ scores (checked: results do not depend
on thread counts).
"""
import argparse
import json
import os
import sys
import time
import warnings

import joblib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from contention import cpu_name  # noqa: E402

from cnet._threads import cpu_count  # noqa: E402
from cnet.benchmark import load_data  # noqa: E402

GRID = {"hidden_layer_sizes": [(256,)], "learning_rate_init": [3e-4, 1e-3, 3e-3, 1e-2]}


class Recording:
    """A scorer that also reports the threads the fit used (from history_)."""

    def __call__(self, est, X, y):
        return {"accuracy": est.score(X, y),
                "threads": float(max(est.history_["threads"]))}


def search(X, y, n_jobs, backend=None, repeat=1, n_threads=None, **config):
    """The best time of repeat runs, and the search's cv_results_."""
    runs = [_search(X, y, n_jobs, backend, n_threads, **config) for _ in range(repeat)]
    return min(t for t, _ in runs), runs[0][1]


def _search(X, y, n_jobs, backend, n_threads, **config):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV

    from cnet.sklearn import MLPClassifier
    est = MLPClassifier(max_iter=5, random_state=0, n_threads=n_threads)
    gs = GridSearchCV(est, GRID, cv=3, n_jobs=n_jobs, scoring=Recording(), refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if backend is None:
            t0 = time.perf_counter()
            gs.fit(X, y)
            return time.perf_counter() - t0, gs.cv_results_
        with joblib.parallel_config(backend=backend, **config):
            t0 = time.perf_counter()
            gs.fit(X, y)
            return time.perf_counter() - t0, gs.cv_results_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12000, help="training examples")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    X, y, source = load_data()
    X, y = X[:args.n].astype(np.float32), y[:args.n]
    cores = cpu_count()
    print(f"CPU: {cpu_name()}; {cores} cores; load average {os.getloadavg()[0]:.2f}; "
          f"{len(X)} examples, {len(GRID['learning_rate_init'])} candidates x 3 folds; {source}")
    r = args.repeat
    runs = {}
    runs["serial (n_jobs=1)"] = search(X, y, 1, repeat=r)
    runs["serial, 1 thread per fit"] = search(X, y, 1, repeat=r, n_threads=1)
    runs["loky n_jobs=2"] = search(X, y, 2, "loky", repeat=r)
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        runs["dask 2 workers x 1 thread"] = search(X, y, -1, "dask", repeat=r,
                                                   scatter=[X, y])
    runs["threading n_jobs=2"] = search(X, y, 2, "threading", repeat=r)
    runs[f"loky n_jobs=2, {cores} threads each (oversubscribed)"] = search(
        X, y, 2, "loky", repeat=r, inner_max_num_threads=cores)
    base_time, base = runs["serial (n_jobs=1)"]
    rows = []
    print(f"{'run':48s} {'seconds':>8s} {'speed-up':>9s} {'threads/fit':>12s}  same scores")
    for name, (seconds, res) in runs.items():
        same = all(np.array_equal(res[k], base[k]) for k in base
                   if k.startswith("split") and "accuracy" in k)
        threads = sorted(set(res["mean_test_threads"].astype(int).tolist()))
        rows.append(dict(run=name, seconds=seconds, speedup=base_time / seconds,
                         threads=threads, same_scores=same))
        print(f"{name:48s} {seconds:8.2f} {base_time / seconds:8.2f}x {str(threads):>12s}  "
              f"{same}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_name(), "cores": cores, "n": len(X), "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
