"""Does the portable build lose speed against -march=native on this CPU?

    python benchmarks/native.py [--rounds 8] [--n 20000] [--jobs book,big] [--simd avx2]

The wheels are built without -march=native (they must run on every CPU of
their platform) and pick an instruction-set variant at run time.  This script
builds the source tree twice with the same compiler, as a wheel is built and
as a user tuning for this machine would build it (CFLAGS="-march=native"),
into two temporary folders, then times the same training job with each build
in alternating child processes (the machine's load drifts: alternating makes
the drift hit both alike).  It prints the median seconds per epoch of each
build and their ratio (native / portable time: below 1 means native is
faster).  With --simd, the portable build is also timed forced onto other
kernel variants (CNET_SIMD), which shows whether the variant it picks for
this CPU is the fastest.

Jobs, float32, 1 thread, on the first --n rows of MNIST (CNET_DATA_DIR) or of
the shipped sample: book (784-30-10, sigmoid, quadratic, mini-batch 10) and
big (784-512-512-10, ReLU, softmax, mini-batch 128).  Each child runs a
warm-up epoch, then --epochs timed epochs, and reports its median.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def build(target, native):
    """pip-install the source tree into target, with or without -march=native."""
    env = dict(os.environ)
    env.pop("CNET_BUILD_TEST_VARIANTS", None)
    flags = "-march=native" if native else ""
    env["CFLAGS"] = (env.get("CFLAGS", "") + " " + flags).strip()
    print(f"building {'native' if native else 'portable'} (CFLAGS={env['CFLAGS']!r}) "
          f"into {target}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-cache-dir", "--target", target, ROOT],
                   env=env, check=True)


def child(job, n, epochs):
    """Runs in the child: train, print the median epoch time as JSON."""
    import numpy as np

    import cnet
    from cnet import datasets

    if os.environ.get("CNET_DATA_DIR"):
        (X, y), _, _ = datasets.load_mnist(split="book", dtype="float32")
    else:
        (X, y), _ = datasets.load_sample(dtype="float32")
        reps = -(-n // X.shape[0])
        X, y = np.tile(X, (reps, 1)), np.tile(y, reps)
    X, y = np.ascontiguousarray(X[:n]), y[:n]
    from suite import BIG, BIG_KW, BOOK  # benchmarks/suite.py: the same jobs
    spec, kw = (BOOK, {}) if job == "book" else (BIG, BIG_KW)
    net = cnet.Network(spec["sizes"], dtype="float32", seed=0, **kw)
    hist = net.fit(X, y, epochs=epochs + 1, batch_size=spec["batch"], eta=spec["eta"],
                   n_threads=1)
    print(json.dumps(dict(median=statistics.median(hist["seconds"][1:]),
                          simd=cnet.config()["simd"], file=cnet.__file__)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=8, help="alternating runs of each build")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per run")
    p.add_argument("--n", type=int, default=20000, help="training examples")
    p.add_argument("--jobs", default="book,big")
    p.add_argument("--simd", default="",
                   help="also time the portable build forced onto these variants "
                        "(CNET_SIMD values, comma-separated, e.g. avx2,baseline)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.n, args.epochs)

    with tempfile.TemporaryDirectory(prefix="cnet-native-") as tmp:
        dirs = {"portable": os.path.join(tmp, "portable"), "native": os.path.join(tmp, "native")}
        for name, target in dirs.items():
            build(target, native=name == "native")
        # (label, build, CNET_SIMD): the portable build picks its own variant;
        # --simd adds runs of it forced onto other variants.
        runs = [("portable", "portable", None), ("native", "native", None)]
        runs += [(f"portable, CNET_SIMD={v}", "portable", v) for v in args.simd.split(",") if v]
        for job in args.jobs.split(","):
            times = {label: [] for label, _, _ in runs}
            simd = {}
            for r in range(args.rounds):
                for label, build_name, forced in (runs if r % 2 == 0 else runs[::-1]):
                    env = dict(os.environ, PYTHONPATH=dirs[build_name], OMP_NUM_THREADS="1")
                    env.pop("CNET_SIMD", None)
                    if forced:
                        env["CNET_SIMD"] = forced
                    if env.get("CNET_DATA_DIR"):  # the child runs elsewhere
                        env["CNET_DATA_DIR"] = os.path.abspath(env["CNET_DATA_DIR"])
                    # cwd=tmp: the child must import the build, not the source tree.
                    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                                           job, "--n", str(args.n), "--epochs",
                                           str(args.epochs)],
                                          env=env, cwd=tmp, capture_output=True, text=True)
                    if proc.returncode:
                        sys.exit(f"the run '{label}' failed:\n{proc.stderr}")
                    res = json.loads(proc.stdout.strip().splitlines()[-1])
                    assert res["file"].startswith(dirs[build_name]), res["file"]
                    times[label].append(res["median"])
                    simd[label] = res["simd"]
            med = {label: statistics.median(t) for label, t in times.items()}
            print(f"{job}: {args.n} examples, float32, 1 thread, "
                  f"{args.rounds} alternating runs of {args.epochs} epochs")
            for label, t in times.items():
                print(f"  {label:26s} {simd[label]:8s} median {med[label]:.4f} s/epoch  "
                      f"(min {min(t):.4f}, max {max(t):.4f})  "
                      f"{med[label] / med['portable']:.3f} x portable", flush=True)


if __name__ == "__main__":
    sys.exit(main())
