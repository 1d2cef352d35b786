"""``cnet bench``: the benchmark suite (cnet.benchmark), with all its arguments."""
import sys

from ._options import PROG


def add(sub):
    p = sub.add_parser(
        "bench", help="run the benchmark suite (cnet against NumPy and installed peers)",
        add_help=False,
        description="Run cnet's benchmark suite (cnet.benchmark), passing it every "
                    "argument (try: cnet bench --help).")
    p.set_defaults(run=run, parser=p, suite_args=[])


def run(args):
    from .. import benchmark

    saved_argv = sys.argv
    sys.argv = [f"{PROG} bench"] + list(args.suite_args)  # the suite's usage says "cnet bench"
    try:
        status = benchmark.main(list(args.suite_args))
    finally:
        sys.argv = saved_argv
    return status if isinstance(status, int) else 0

