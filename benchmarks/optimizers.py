"""The cost of optimizers and dropout inside the compiled epoch, and cnet's
Adam against PyTorch's, side by side in one run.

    python benchmarks/optimizers.py [--epochs 5] [--json out.json]

On the big job (784-512-512-10, ReLU, softmax, mini-batch 128, float32) and
the book's job (784-30-10, sigmoid, quadratic cost, mini-batch 10), one
thread, real MNIST from CNET_DATA_DIR (else the shipped sample, tiled), each
implementation one epoch per round, round after round, so that changes in
the machine's load hit all alike; each row is the median of its epochs.
Prints each row's seconds per epoch (median) and its ratio to plain SGD's:
the median over rounds of the two epochs' ratio in each round (cnet's
rows), or cnet's Adam against PyTorch's the same way.
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


from cnet.benchmark import BIG, BIG_KW, BOOK, cnet_job, load_data, torch_job  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from contention import cpu_name  # noqa: E402

ADAM_ETA = 0.001


def rounds(impls, epochs):
    """Time one epoch of each, round after round (after one warm-up epoch
    each).  Returns each one's median time, and the median over rounds of its
    time over the first one's in the same round: the machine's speed drifts
    by 10-20% within minutes here (a shared host), and a ratio of two epochs
    run back to back drifts much less than either."""
    times = {name: [] for name, _ in impls}
    for _, run in impls:
        run()
    for _ in range(epochs):
        for name, run in impls:
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    first = impls[0][0]
    return ({name: statistics.median(t) for name, t in times.items()},
            {name: statistics.median(a / b for a, b in zip(t, times[first]))
             for name, t in times.items()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    X, y, source = load_data()
    try:
        import torch
        torch.set_num_threads(1)
        have_torch = not args.no_torch
    except ImportError:
        have_torch = False
    results = {"cpu": cpu_name(), "data": source, "epochs": args.epochs}
    print(f"CPU: {results['cpu']}; data: {source}; 1 thread, float32, median of "
          f"{args.epochs} epochs", flush=True)

    big = [(name, cnet_job(BIG, X, y, "float32", 1, optimizer=opt, dropout=drop,
                           eta=ADAM_ETA if opt in ("adam", "adamw", "rmsprop") else None,
                           **BIG_KW))
           for name, opt, drop in [("plain SGD", None, None), ("momentum", "momentum", None),
                                   ("nesterov", "nesterov", None), ("adam", "adam", None),
                                   ("adamw", "adamw", None), ("rmsprop", "rmsprop", None),
                                   ("dropout 0.2 (plain SGD)", None, 0.2),
                                   ("adam + dropout 0.2", "adam", 0.2)]]
    if have_torch:
        big.append(("PyTorch Adam", torch_job(BIG, X, y, "big", "adam", eta=ADAM_ETA)))
    med, ratios = rounds(big, args.epochs)
    print("\nbig job: 784-512-512-10, ReLU, softmax, mini-batch 128 (ratios: median over "
          "rounds of the round's ratio)")
    for name, t in med.items():
        ratio = (f"{ratios[name]:.3f}x plain SGD's time" if not name.startswith("Py")
                 else f"cnet's Adam is {ratios[name] / ratios['adam']:.2f}x faster")
        print(f"  {name:26s} {t:8.3f} s/epoch   {ratio}", flush=True)
    results["big"] = {"seconds": med, "ratio to plain SGD": ratios}

    book = [("plain SGD", cnet_job(BOOK, X, y, "float32", 1)),
            ("adam", cnet_job(BOOK, X, y, "float32", 1, optimizer="adam", eta=ADAM_ETA))]
    if have_torch:
        book.append(("PyTorch Adam", torch_job(BOOK, X, y, "book", "adam", eta=ADAM_ETA)))
    med, ratios = rounds(book, max(2, args.epochs // 2))
    print("\nbook's job: 784-30-10, sigmoid, quadratic cost, mini-batch 10")
    for name, t in med.items():
        ratio = (f"{ratios[name]:.3f}x plain SGD's time" if not name.startswith("Py")
                 else f"cnet's Adam is {ratios[name] / ratios['adam']:.1f}x faster")
        print(f"  {name:26s} {t:8.3f} s/epoch   {ratio}", flush=True)
    results["book"] = {"seconds": med, "ratio to plain SGD": ratios}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
