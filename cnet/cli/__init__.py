"""The ``cnet`` command line: ``train``, ``evaluate``, ``predict``, ``info``, ``bench``,
``experiment``.

    $ cnet train                              # the book's 784-30-10 job on the shipped sample
    $ cnet train --data-dir ~/mnist --save model.npz --plot curves.png
    $ cnet train --dataset cifar10 --sizes 3072,100,10 --eta 0.1
    $ cnet evaluate model.npz --data-dir ~/mnist
    $ cnet predict model.npz digits.npy --output labels.npy
    $ python -m cnet info                     # version, OpenMP, SIMD variant, threads
    $ cnet bench --quick                      # the benchmark suite (cnet.benchmark)
    $ cnet experiment zhang --quick           # a paper's experiment (cnet.experiments)

Each subcommand is a module of this package with a pair of functions:
``add(subparsers)`` declares its options and ``run(args) -> int`` does the
work; ``COMMANDS`` lists them.  Option groups and data loading that several
commands share are in ``_options``.  ``bench`` hands all its arguments to
the benchmark suite, so ``main`` routes it before argparse sees them.

Exit status follows the usual conventions: 0 on success; 2 for a usage error
(argparse reports bad flags and unparsable values itself, with the usage; a
value cnet rejects, such as ``--eta -1``, is reported as ``cnet: error:
<message>``); 1 when the command could not run (data or model file missing,
unreadable or corrupt, training diverged); 3 when an experiment ran but a
claim it checks did not hold; 130 on Ctrl-C.  None of these
prints a Python traceback.
"""
import argparse
import os
import sys

from .. import __version__
from ..training import DivergenceError
from . import bench, evaluate, experiment, info, predict, train
from ._options import MNIST_FILES, PROG, CommandError  # noqa: F401  (MNIST_FILES: tests)

__all__ = ["main", "build_parser"]

# `cnet --help` lists the commands in this order.
COMMANDS = (train, evaluate, predict, info, bench, experiment)


def _error(message):
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def main(argv=None):
    """Run the ``cnet`` command line; return the exit status.

    Parameters
    ----------
    argv : list of str or None
        Arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 if the command could not run, 2 for a rejected value,
        130 if interrupted.  argparse's own usage errors raise ``SystemExit(2)``
        (and ``--help`` / ``--version`` ``SystemExit(0)``), as usual.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv[:1] == ["bench"]:
        # Everything after "bench" belongs to the suite, --help included.
        args = parser.parse_args(["bench"])
        args.suite_args = argv[1:]
    else:
        args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CommandError as exc:
        _error(exc)
        return exc.status
    except DivergenceError as exc:
        _error(exc)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the reader went away: stop quietly.
        # Point stdout at devnull so the interpreter's final flush cannot fail too.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1



def build_parser():
    """The top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fully-connected neural networks trained by back-propagation and "
                    "mini-batch SGD (Nielsen's Neural Networks and Deep Learning), "
                    "with compiled Cython + OpenMP kernels.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                required=True)
    for command in COMMANDS:
        command.add(sub)
    return parser

