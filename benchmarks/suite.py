"""cnet's benchmark suite (cnet/benchmark.py, installed with cnet as
``cnet bench``), run from a checkout:

    python benchmarks/suite.py [--epochs 7] [--quick] [--json results.json]
"""
import sys

from cnet.benchmark import BIG, BIG_KW, BOOK, main  # noqa: F401  (native.py, contention.py)

if __name__ == "__main__":
    sys.exit(main())
