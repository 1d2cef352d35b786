"""The ``cnet`` command line: ``cnet train``, ``cnet info``.

    $ cnet train                      # the book's 784-30-10 job on the shipped sample
    $ cnet train --data-dir ~/mnist   # on full MNIST: train on 50,000, test on 10,000
    $ python -m cnet info             # version, OpenMP, SIMD variant, threads

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares
its options and ``_run_<name>(args) -> int`` does the work, so a new one
(``evaluate``, ``predict``, ``bench``) is one more pair and one more entry in
``_COMMANDS``.  Option groups that several commands need (data, threads) have
their own ``_add_*_options`` helpers.

Exit status follows the usual conventions: 0 on success; 2 for a usage error
(argparse reports bad flags and unparsable values itself; a value cnet rejects,
such as ``--eta -1``, is reported as ``cnet: error: <message>``); 1 when the
command could not run (data missing or unreadable, training diverged); 130 on
Ctrl-C.  None of these prints a Python traceback.
"""
import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

from . import __version__, activations, costs
from ._config import show_config
from ._threads import resolve_n_threads
from ._validation import check_float, check_int
from .datasets import load_mnist, load_sample
from .network import INITS, Network
from .training import DivergenceError

PROG = "cnet"
N_PIXELS, N_CLASSES = 784, 10
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class CommandError(Exception):
    """A failure to report as one line, ``cnet: error: <message>``, and exit with ``status``."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


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
    args = build_parser().parse_args(argv)
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
    for add in _COMMANDS:
        add(sub)
    return parser


# -- option types and shared option groups ------------------------------------

def _sizes(text):
    """argparse type of --sizes: '784,30,10' -> [784, 30, 10], MNIST-shaped."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated layer sizes like 784,30,10; got {text!r}") from None
    if len(sizes) < 2:
        raise argparse.ArgumentTypeError(
            f"must list at least the input and output layers, like 784,10; got {text!r}")
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive; got {text!r}")
    if sizes[0] != N_PIXELS:
        raise argparse.ArgumentTypeError(
            f"the input layer must have {N_PIXELS} neurons, one per MNIST pixel; got {text!r}")
    if sizes[-1] != N_CLASSES:
        raise argparse.ArgumentTypeError(
            f"the output layer must have {N_CLASSES} neurons, one per digit; got {text!r}")
    return sizes


def _positive_int(text):
    """argparse type of counts that must be >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _add_data_options(parser):
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="train on full MNIST read from the four IDX files in DIR "
             f"({', '.join(MNIST_FILES)}; raw or .gz), with the book's split: train on the "
             "first 50,000 training images, report on the 10,000 test images. "
             "Default: the MNIST sample shipped with cnet (train on its 10,000, "
             "test on its 2,000; no download)")
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32",
        help="floating type of the data and weights (default: %(default)s)")


def _add_threads_option(parser):
    parser.add_argument(
        "--threads", type=_positive_int, metavar="N",
        help="OpenMP threads (default: the cores available, capped by OMP_NUM_THREADS)")


def _load_data(data_dir, dtype):
    """((X_train, y_train), (X_test, y_test), description) from --data-dir or the sample."""
    if data_dir is None:
        train, test = load_sample(dtype=dtype)
        return train, test, "MNIST sample shipped with cnet"
    directory = Path(data_dir).expanduser()
    how = (f"--data-dir needs a folder holding the four MNIST IDX files "
           f"({', '.join(MNIST_FILES)}; raw or .gz). Pass that folder, e.g. "
           f"--data-dir \"$CNET_DATA_DIR\" if CNET_DATA_DIR points to it, or run "
           f"without --data-dir to train on the MNIST sample shipped with cnet")
    if not directory.is_dir():
        raise CommandError(f"MNIST data directory {directory} does not exist or is not a "
                           f"directory. {how}")
    try:
        train, _validation, test = load_mnist(directory, split="book", dtype=dtype)
    except FileNotFoundError as exc:
        raise CommandError(f"{exc}. {how}") from None
    except (ValueError, OSError) as exc:  # a truncated or corrupt file
        raise CommandError(f"could not read MNIST from {directory}: {exc}") from None
    return train, test, f"MNIST from {directory}"


# -- cnet train ----------------------------------------------------------------

def _add_train(sub):
    p = sub.add_parser(
        "train", help="train a network on MNIST and print its progress",
        description=textwrap.fill(
            "Train a fully-connected network on MNIST by mini-batch SGD and print one row "
            "per epoch: training cost, test cost, test accuracy and seconds. The defaults "
            "are the book's first network (network.py, chapter 1): 784-30-10, sigmoid "
            "neurons, quadratic cost, N(0, 1) weights and biases, mini-batches of 10, "
            "eta 3.0, 30 epochs. Without --data-dir it "
            "trains on the MNIST sample shipped with cnet, offline.", width=78),
        epilog=f"examples:\n"
               f"  {PROG} train\n"
               f"  {PROG} train --sizes 784,100,10 --cost cross_entropy --init scaled_normal "
               f"--eta 0.5 --lmbda 5\n"
               f"  {PROG} train --data-dir \"$CNET_DATA_DIR\"",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_argument_group("network")
    net.add_argument("--sizes", type=_sizes, default=[N_PIXELS, 30, N_CLASSES],
                     metavar="784,...,10",
                     help="neurons per layer, input first; any hidden layers between "
                          "784 and 10 (default: 784,30,10)")
    net.add_argument("--activation", choices=activations.HIDDEN, default="sigmoid",
                     help="hidden-layer activation (default: %(default)s)")
    net.add_argument("--output-activation", choices=activations.OUTPUT,
                     help="output-layer activation (default: same as --activation)")
    net.add_argument("--cost", choices=tuple(costs.COSTS), default="quadratic",
                     help="cost function; cross_entropy needs a sigmoid output, "
                          "log_likelihood a softmax one (default: %(default)s)")
    net.add_argument("--init", choices=INITS, default="normal",
                     help="weight initialisation: normal = N(0, 1) as network.py, "
                          "scaled_normal = N(0, 1/n_in) as network2.py (default: %(default)s)")
    sgd = p.add_argument_group("training")
    sgd.add_argument("--epochs", type=int, default=30, metavar="N",
                     help="passes over the training data (default: %(default)s)")
    sgd.add_argument("--batch-size", type=int, default=10, metavar="M",
                     help="mini-batch size (default: %(default)s)")
    sgd.add_argument("--eta", type=float, default=3.0,
                     help="learning rate, > 0 (default: %(default)s)")
    sgd.add_argument("--lmbda", type=float, default=0.0,
                     help="L2 regularisation strength, >= 0 (default: %(default)s)")
    sgd.add_argument("--seed", type=int, default=0,
                     help="seed of the initial weights and the shuffling (default: %(default)s)")
    _add_threads_option(sgd)
    run = p.add_argument_group("data and output")
    _add_data_options(run)
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print only the final summary line")
    p.set_defaults(run=_run_train)


def _checked(flag, check, *args, **kwargs):
    """Run one of cnet's checks on a flag's value; a rejection names the flag."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"argument {flag}: {exc}", status=2) from None


# Column title and width; every cell is right-aligned under its title.
_COLUMNS = (("epoch", 5), ("train cost", 10), ("test cost", 10), ("accuracy", 8),
            ("seconds", 7))


def _row(*cells):
    return "  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS))


def _run_train(args):
    t_start = time.perf_counter()
    out = sys.stdout
    say = (lambda *a: None) if args.quiet else (lambda line="": print(line, file=out, flush=True))

    # Check every value before the (possibly slow) data loading.
    epochs = _checked("--epochs", check_int, args.epochs, "epochs", 0)
    batch_size = _checked("--batch-size", check_int, args.batch_size, "batch_size", 1)
    eta = _checked("--eta", check_float, args.eta, "eta", positive=True)
    lmbda = _checked("--lmbda", check_float, args.lmbda, "lmbda")
    n_threads = resolve_n_threads(args.threads)
    try:
        net = Network(args.sizes, activation=args.activation,
                      output_activation=args.output_activation, cost=args.cost,
                      init=args.init, dtype=args.dtype, seed=args.seed)
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc), status=2) from None

    (X, y), (X_test, y_test), source = _load_data(args.data_dir, args.dtype)
    n_test = len(X_test)

    acts = f"{net.activation} neurons" if net.output_activation == net.activation else \
        f"{net.activation} hidden, {net.output_activation} output"
    say(f"{PROG} {__version__}: {'-'.join(map(str, net.sizes))} network, {acts}, "
        f"{net._cost.name} cost, init {net.init}, {net.dtype.name}")
    say(f"data: {source}: train on {len(X):,}, test on {n_test:,}")
    say(f"SGD: {epochs} epochs, batch size {batch_size}, eta {eta:g}, lmbda {lmbda:g}, "
        f"seed {args.seed}, {n_threads} thread{'s' if n_threads != 1 else ''}")
    if epochs:
        say()
        say(_row(*(title for title, _ in _COLUMNS)))

    # One fit() call per epoch so each row prints as its epoch ends.  This trains
    # exactly as fit(epochs=N) would: the network's own generator draws each
    # epoch's shuffle, and nothing else is drawn from it between epochs.
    accuracies = []
    interrupted = False
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            try:
                h = net.fit(X, y, epochs=1, batch_size=batch_size, eta=eta, lmbda=lmbda,
                            validation_data=(X_test, y_test), n_threads=n_threads)
            except ValueError as exc:  # e.g. eta * lmbda / n >= 1
                raise CommandError(str(exc), status=2) from None
            seconds = time.perf_counter() - t0
            accuracies.append(h["val_accuracy"][0])
            say(_row(epoch, f"{h['train_cost'][0]:.4f}", f"{h['val_cost'][0]:.4f}",
                     f"{accuracies[-1]:.2%}", f"{seconds:.2f}"))
    except KeyboardInterrupt:
        interrupted = True

    total = time.perf_counter() - t_start
    if accuracies:
        best = max(range(len(accuracies)), key=accuracies.__getitem__)  # first best
        done = f"of {epochs}" if not interrupted else f"of {len(accuracies)} done"
        summary = (f"best test accuracy {accuracies[best]:.2%} "
                   f"({round(accuracies[best] * n_test)} / {n_test}) at epoch {best + 1} "
                   f"{done}; total {total:.2f} s")
    else:
        acc = net.score(X_test, y_test, n_threads=n_threads)
        summary = (f"no epochs trained; test accuracy of the initial network {acc:.2%} "
                   f"({round(acc * n_test)} / {n_test}); total {total:.2f} s")
    say()
    print(summary, file=out, flush=True)
    if interrupted:
        raise KeyboardInterrupt
    return 0


# -- cnet info -----------------------------------------------------------------

def _add_info(sub):
    p = sub.add_parser("info", help="show the build: version, OpenMP, SIMD kernels, threads",
                       description="Show cnet's version, whether it was built with OpenMP, "
                                   "the SIMD kernel variant in use and the default thread count.")
    p.set_defaults(run=_run_info)


def _run_info(args):
    show_config(file=sys.stdout)
    return 0


# Each adds its subparser and sets run=_run_<name>; `cnet --help` lists them in this order.
_COMMANDS = (_add_train, _add_info)
