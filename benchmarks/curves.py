"""Scaling curves: the arithmetic rate of cnet and its peers as the hidden
width, the mini-batch size and the number of stacked networks grow, each
panel with the machine's GEMM rate (NumPy's BLAS, measured in the same run)
drawn as the limit.

    python benchmarks/curves.py [--n 10000] [--quick] [--out docs/figures/curves.png]
                                [--json curves.json] [--replot curves.json]

* width:  784-w-10 (ReLU, softmax), mini-batch 128, w = 30 ... 4096;
* batch:  784-512-512-10 (ReLU, softmax), mini-batch m = 1 ... 1024;
* stack:  K of the book's networks (784-30-10, sigmoid, mini-batch 10):
  cnet.NetworkStack, the same K trained one after another, and JAX's vmap.

Everything on one thread (JAX pinned to one core, BLAS pools limited),
float32, n examples of real MNIST (CNET_DATA_DIR) or the shipped sample.
Each point is the best of --epochs timed epochs after a warm-up epoch (which
also compiles JAX's and torch's code).  Peers are skipped when not installed.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from contention import cpu_name  # noqa: E402

from cnet import benchmark as B  # noqa: E402

WIDTHS = (30, 64, 128, 256, 512, 1024, 2048, 4096)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
STACKS = (1, 2, 4, 8, 16, 32, 64)


def best_time(run, epochs):
    with B.limit_threads(1):
        run()  # warm-up (and compilation)
        return min(B._timed(run) for _ in range(epochs))


def curve(name, xs, make, flops_of, impls, epochs, log):
    """{impl: [GFLOP/s per x]} for the implementations available."""
    out = {impl: [] for impl in impls}
    for x in xs:
        flops = flops_of(x)
        for impl in impls:
            t = best_time(make(impl, x), epochs)
            out[impl].append(flops / t / 1e9)
            log(f"  {name} {x:5d}  {impl:28s} {t:8.4f} s  {flops / t / 1e9:6.1f} GFLOP/s")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000, help="examples per epoch")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per point (best)")
    p.add_argument("--quick", action="store_true", help="a few points per curve")
    p.add_argument("--out", default=os.path.join(HERE, "..", "docs", "figures", "curves.png"))
    p.add_argument("--json")
    p.add_argument("--replot", metavar="JSON", help="only draw the figure of an earlier --json")
    args = p.parse_args(argv)
    if args.replot:
        with open(args.replot) as f:
            plot(json.load(f), args.out)
        return
    X, y, source = B.load_data()
    X, y = np.ascontiguousarray(X[:args.n], dtype=np.float32), y[:args.n]
    n = X.shape[0]
    peers = [name for name, mod in (("JAX jit + scan", "jax"), ("PyTorch eager", "torch"))
             if B.available(mod)]
    widths, batches, stacks = (WIDTHS, BATCHES, STACKS) if not args.quick else (
        (30, 512, 4096), (1, 16, 256), (1, 16))
    gemm = B.gemm_rate("float32", 1)
    print(f"{cpu_name()}; data: {source}, {n} examples; GEMM float32 1 thread: "
          f"{gemm:.1f} GFLOP/s", flush=True)

    def big(sizes, m):
        return dict(sizes=list(sizes), batch=m, eta=0.05)

    def make_net(impl, job):
        if impl == "cnet":
            return B.cnet_job(job, X, y, "float32", 1, **B.BIG_KW)
        if impl == "JAX jit + scan":
            return B.jax_job(job, X, y, "big")
        return B.torch_job(job, X, y, "big")

    results = {"cpu": cpu_name(), "source": source, "n": n}
    results["width"] = curve(
        "width", widths, lambda impl, w: make_net(impl, big([784, w, 10], 128)),
        lambda w: B.epoch_flops([784, w, 10], n), ["cnet"] + peers, args.epochs, print)
    results["batch"] = curve(
        "batch", batches, lambda impl, m: make_net(impl, big(B.BIG["sizes"], m)),
        lambda m: B.epoch_flops(B.BIG["sizes"], n), ["cnet"] + peers, args.epochs, print)

    def make_stack(impl, k):
        if impl == "cnet NetworkStack":
            return B.stack_job(B.BOOK, X, y, k, 1)
        if impl == "cnet one after another":
            return B.sequential_job(B.BOOK, X, y, k)
        return B.jax_job(B.BOOK, X, y, "book", stack=k)

    stack_impls = ["cnet NetworkStack", "cnet one after another"] + (
        ["JAX vmap"] if "JAX jit + scan" in peers else [])
    results["stack"] = curve(
        "stack", stacks, make_stack, lambda k: k * B.epoch_flops(B.BOOK["sizes"], n),
        stack_impls, args.epochs, print)
    results["gemm_after"] = B.gemm_rate("float32", 1)
    results["gemm"] = [gemm, results["gemm_after"]]
    results["x"] = {"width": list(widths), "batch": list(batches), "stack": list(stacks)}
    print(f"GEMM float32 1 thread after the curves: {results['gemm_after']:.1f} GFLOP/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    plot(results, args.out)
    print(f"figure: {args.out}")


def plot(results, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    titles = {"width": "784-w-10, mini-batch 128: hidden width w",
              "batch": "784-512-512-10: mini-batch size m",
              "stack": "K book networks (784-30-10, m = 10): K"}
    limit = max(results["gemm"])
    for ax, key in zip(axes, ("width", "batch", "stack")):
        for impl, rates in results[key].items():
            ax.plot(results["x"][key], rates, marker="o", label=impl)
        ax.axhline(limit, color="k", linestyle="--", linewidth=1,
                   label=f"GEMM limit ({limit:.0f} GFLOP/s)")
        ax.set_xscale("log", base=2)
        ax.set_title(titles[key], fontsize=10)
        ax.set_ylabel("GFLOP/s (1 thread, float32)")
        top = max([limit] + [r for rates in results[key].values() for r in rates])
        ax.set_ylim(0, top * 1.1)
        ax.legend(fontsize=8)
    fig.suptitle(f"cnet and its peers, one thread: {results['cpu']}; rates count the dense "
                 f"arithmetic of each job (cnet skips MNIST's zero inputs, so it can pass "
                 f"the GEMM line)", fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
