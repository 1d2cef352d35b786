"""The ``cnet`` command line: ``train``, ``evaluate``, ``predict``, ``info``, ``bench``.

    $ cnet train                              # the book's 784-30-10 job on the shipped sample
    $ cnet train --data-dir ~/mnist --save model.npz --plot curves.png
    $ cnet train --dataset cifar10 --sizes 3072,100,10 --eta 0.1
    $ cnet evaluate model.npz --data-dir ~/mnist
    $ cnet predict model.npz digits.npy --output labels.npy
    $ python -m cnet info                     # version, OpenMP, SIMD variant, threads
    $ cnet bench --quick                      # the benchmark suite (cnet.benchmark)

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares
its options and ``_run_<name>(args) -> int`` does the work; ``_COMMANDS``
lists them.  Option groups that several commands need (data, threads) have
their own ``_add_*_options`` helpers.  ``bench`` hands all its arguments to
the benchmark suite, so ``main`` routes it before argparse sees them.

Exit status follows the usual conventions: 0 on success; 2 for a usage error
(argparse reports bad flags and unparsable values itself, with the usage; a
value cnet rejects, such as ``--eta -1``, is reported as ``cnet: error:
<message>``); 1 when the command could not run (data or model file missing,
unreadable or corrupt, training diverged); 130 on Ctrl-C.  None of these
prints a Python traceback.
"""
import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from . import __version__, activations, costs, datasets
from ._config import show_config
from ._fileio import open_regular
from ._progress import EpochProgress
from ._threads import resolve_n_threads
from ._validation import check_float, check_int
from .network import INITS, Network
from .saving import ModelFileError, load_with_metadata, save
from .training import DivergenceError, History

PROG = "cnet"
N_CLASSES = 10
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# --dataset name -> (inputs per example, loader in cnet.datasets, what it is)
DATASETS = {
    "sample": (784, "load_sample", "the MNIST sample shipped with cnet"),
    "mnist": (784, "load_mnist", "MNIST"),
    "fashion-mnist": (784, "load_fashion_mnist", "Fashion-MNIST"),
    "cifar10": (3072, "load_cifar10", "CIFAR-10"),
}
NPZ_KEYS = ("X_train", "y_train", "X_test", "y_test")
# What reading a damaged or foreign .npy/.npz file raises (BadZipFile is neither
# an OSError nor a ValueError).


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
    for add in _COMMANDS:
        add(sub)
    return parser


# -- option types and shared option groups ------------------------------------

def _sizes(text):
    """argparse type of --sizes: '784,30,10' -> [784, 30, 10].  The input and
    output layers are checked against the data set once it is known."""
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


def _add_data_options(parser, with_dtype=True):
    parser.add_argument(
        "--dataset", choices=tuple(DATASETS), metavar="{" + ",".join(DATASETS) + "}",
        help="data set: 'sample' (default without --data-dir: the 10,000 / 2,000 MNIST "
             "digits shipped with cnet, offline), 'mnist' (default with --data-dir; the "
             "book's split: train on the first 50,000 training images, test on the 10,000 "
             "test images), 'fashion-mnist' (the same split) or 'cifar10' (train on 50,000, "
             "test on 10,000); these three are read from --data-dir, else CNET_DATA_DIR, "
             "else cnet's download cache (downloaded there when missing)")
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="folder holding the data set's files; for MNIST the four IDX files "
             f"({', '.join(MNIST_FILES)}; raw or .gz)")
    parser.add_argument(
        "--data", metavar="FILE.npz",
        help="use your own data: an .npz file with arrays " + ", ".join(NPZ_KEYS) +
             " (X: one example per row; y: integer labels)")
    if with_dtype:
        parser.add_argument(
            "--dtype", choices=("float32", "float64"), default="float32",
            help="floating type of the data and weights (default: %(default)s)")


def _add_threads_option(parser):
    parser.add_argument(
        "--threads", type=_positive_int, metavar="N",
        help="OpenMP threads (default: the cores available, capped by OMP_NUM_THREADS)")


def _dataset_name(args):
    """The --dataset the flags mean (None for --data FILE.npz); usage errors exit 2."""
    if args.data is not None:
        if args.dataset is not None or args.data_dir is not None:
            args.parser.error("argument --data: not allowed with --dataset or --data-dir "
                              "(the .npz file holds the whole data set)")
        return None
    if args.dataset is None:
        return "mnist" if args.data_dir is not None else "sample"
    if args.dataset == "sample" and args.data_dir is not None:
        args.parser.error("argument --data-dir: not allowed with --dataset sample "
                          "(the sample ships with cnet)")
    return args.dataset


def _load_data(args, dtype, need_train=True):
    """((X_train, y_train) or None, (X_test, y_test), description) from the data flags."""
    name = _dataset_name(args)
    if name is None:
        return _load_npz_data(args.data, dtype, need_train)
    if name == "sample":
        train, test = datasets.load_sample(dtype=dtype)
        return train, test, "MNIST sample shipped with cnet"
    if name == "mnist" and args.data_dir is not None:
        return _load_mnist_dir(args.data_dir, dtype)
    _, loader_name, what = DATASETS[name]
    loader = getattr(datasets, loader_name, None)
    if loader is None:
        raise CommandError(f"--dataset {name}: this cnet has no {what} loader "
                           f"(cnet.datasets.{loader_name}); upgrade cnet, or pass the data "
                           f"as --data FILE.npz")
    directory = None if args.data_dir is None else Path(args.data_dir).expanduser()
    if directory is not None and not directory.is_dir():
        raise CommandError(f"{what} data directory {directory} does not exist or is not a "
                           f"directory")
    try:
        if name in ("mnist", "fashion-mnist"):  # the book's split, as --data-dir does
            parts = loader(directory, split="book", dtype=dtype)
        else:
            parts = loader(directory, dtype=dtype)
    except FileNotFoundError as exc:
        raise CommandError(f"{exc}. Pass --data-dir DIR (a folder holding the {what} files) "
                           f"or set CNET_DATA_DIR; run without --dataset to use the MNIST "
                           f"sample shipped with cnet") from None
    except (ValueError, OSError) as exc:  # truncated or corrupt files, download failure
        raise CommandError(f"could not load {what}: {exc}") from None
    train, test = parts[0], parts[-1]  # (train, test) or the book's (train, val, test)
    where = f" from {directory}" if directory is not None else ""
    return train, test, f"{what}{where}"


def _short_name(args):
    """The data set in a few words, for a picture's title (no machine paths)."""
    name = _dataset_name(args)
    if name is None:
        return Path(args.data).name
    return "the MNIST sample" if name == "sample" else DATASETS[name][2]


def _load_mnist_dir(data_dir, dtype):
    directory = Path(data_dir).expanduser()
    how = (f"--data-dir needs a folder holding the four MNIST IDX files "
           f"({', '.join(MNIST_FILES)}; raw or .gz). Pass that folder, e.g. "
           f"--data-dir \"$CNET_DATA_DIR\" if CNET_DATA_DIR points to it, or run "
           f"without --data-dir to train on the MNIST sample shipped with cnet")
    if not directory.is_dir():
        raise CommandError(f"MNIST data directory {directory} does not exist or is not a "
                           f"directory. {how}")
    try:
        train, _validation, test = datasets.load_mnist(directory, split="book", dtype=dtype)
    except FileNotFoundError as exc:
        raise CommandError(f"{exc}. {how}") from None
    except (ValueError, OSError) as exc:  # a truncated or corrupt file
        raise CommandError(f"could not read MNIST from {directory}: {exc}") from None
    return train, test, f"MNIST from {directory}"


def _load_npz_data(path, dtype, need_train):
    """--data FILE.npz: X_train, y_train, X_test, y_test (only the test pair for evaluate)."""
    path = Path(path).expanduser()
    keys = NPZ_KEYS if need_train else NPZ_KEYS[2:]
    try:
        with open_regular(path, "data file") as f, np.load(f, allow_pickle=False) as archive:
            missing = [k for k in keys if k not in archive.files]
            if missing:
                raise CommandError(f"{path} lacks the arrays {', '.join(missing)}: --data needs "
                                   f"an .npz file with {', '.join(keys)} (e.g. written by "
                                   f"np.savez(path, X_train=..., y_train=..., ...))")
            arrays = {k: archive[k] for k in keys}
    except FileNotFoundError:
        raise CommandError(f"data file {path} does not exist") from None
    except CommandError:
        raise
    except Exception as exc:  # not an .npz, truncated, corrupt (any zipfile error), pickled objects
        raise CommandError(f"could not read {path} as an .npz file: {type(exc).__name__}: "
                           f"{str(exc)[:200]}") from None
    pairs = []
    for split in (("train", "test") if need_train else ("test",)):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim < 2 or X.dtype.kind not in "biuf":
            raise CommandError(f"{path}: X_{split} must be a numeric array with one example "
                               f"per row; got shape {X.shape} of {X.dtype}")
        if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(X):
            raise CommandError(f"{path}: y_{split} must hold one integer label per row of "
                               f"X_{split} ({len(X)}); got shape {y.shape} of {y.dtype}")
        with np.errstate(over="ignore", invalid="ignore"):
            X = np.ascontiguousarray(X.reshape(len(X), -1), dtype=dtype)
        if not np.isfinite(X).all():
            raise CommandError(f"{path}: X_{split} contains NaN or infinity (or values too "
                               f"large for {np.dtype(dtype).name})")
        pairs.append((X, y.astype(np.int64)))
    if need_train and pairs[0][0].shape[1] != pairs[1][0].shape[1]:
        raise CommandError(f"{path}: X_train has {pairs[0][0].shape[1]} values per example "
                           f"but X_test {pairs[1][0].shape[1]}")
    train = pairs[0] if need_train else None
    return train, pairs[-1], f"{path}"


def _checked(flag, check, *args, **kwargs):
    """Run one of cnet's checks on a flag's value; a rejection names the flag."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"argument {flag}: {exc}", status=2) from None


def _writable_target(flag, path):
    """Fail before training if an output file cannot be written where asked."""
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise CommandError(f"argument {flag}: directory {parent} does not exist", status=1)
    if Path(path).expanduser().is_dir():
        raise CommandError(f"argument {flag}: {path} is a directory; give a file name",
                           status=1)


def _need_matplotlib(flag):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(f"{flag} needs matplotlib, an optional dependency: "
                           f"pip install cnet-nn[plot]  (or: pip install matplotlib)") from None


def _describe(net):
    acts = f"{net.activation} neurons" if net.output_activation == net.activation else \
        f"{net.activation} hidden, {net.output_activation} output"
    return (f"{'-'.join(map(str, net.sizes))} network, {acts}, {net.cost.name} cost, "
            f"init {net.init}, {net.dtype.name}")


# -- cnet train ----------------------------------------------------------------

def _add_train(sub):
    p = sub.add_parser(
        "train", help="train a network and print its progress",
        description=textwrap.fill(
            "Train a fully-connected network by mini-batch SGD and print one row per "
            "epoch: training cost, test cost, test accuracy and seconds (with a progress "
            "bar and the time left on a terminal). The defaults are the book's first "
            "network (network.py, chapter 1): 784-30-10, sigmoid neurons, quadratic cost, "
            "N(0, 1) weights and biases, mini-batches of 10, eta 3.0, 30 epochs. Without "
            "data options it trains on the MNIST sample shipped with cnet, offline.",
            width=78),
        epilog=f"examples:\n"
               f"  {PROG} train\n"
               f"  {PROG} train --sizes 784,100,10 --cost cross_entropy --init scaled_normal "
               f"--eta 0.5 --lmbda 5\n"
               f"  {PROG} train --data-dir \"$CNET_DATA_DIR\" --save model.npz "
               f"--plot curves.png\n"
               f"  {PROG} train --dataset cifar10 --sizes 3072,100,10 --eta 0.1\n"
               f"  {PROG} train --data mydata.npz --sizes 64,30,10",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_argument_group("network")
    net.add_argument("--sizes", type=_sizes, metavar="IN,...,OUT",
                     help="neurons per layer, input first; the input layer must match the "
                          "data (784 for the MNISTs, 3072 for CIFAR-10) and the output the "
                          "classes (default: IN,30,10)")
    net.add_argument("--activation", choices=activations.HIDDEN, default="sigmoid",
                     help="hidden-layer activation (default: %(default)s)")
    net.add_argument("--output-activation", choices=activations.OUTPUT,
                     help="output-layer activation (default: same as --activation)")
    net.add_argument("--cost", choices=tuple(costs.COSTS), default="quadratic",
                     help="cost function; cross_entropy needs a sigmoid output, "
                          "log_likelihood a softmax one (default: %(default)s)")
    net.add_argument("--init", choices=INITS, default="normal",
                     help="weight initialisation: normal = N(0, 1) as network.py, "
                          "scaled_normal = N(0, 1/n_in) as network2.py, xavier, he "
                          "(default: %(default)s)")
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
    data = p.add_argument_group("data")
    _add_data_options(data)
    out = p.add_argument_group("output")
    out.add_argument("--save", metavar="MODEL.npz",
                     help="save the trained network to this file (cnet's .npz model "
                          "format; load it with 'cnet evaluate' or cnet.load)")
    out.add_argument("--plot", metavar="CURVES.png",
                     help="save the learning curves (cost and accuracy per epoch) as a "
                          "picture; the suffix picks the format (.png, .pdf, .svg). "
                          "Needs matplotlib")
    out.add_argument("--plot-weights", metavar="WEIGHTS.png",
                     help="save the first layer's weights, one image per hidden neuron "
                          "(what each looks for). Needs matplotlib")
    out.add_argument("--quiet", "-q", action="store_true",
                     help="print only the final summary line")
    p.set_defaults(run=_run_train, parser=p)


# Column title and width; every cell is right-aligned under its title.
_COLUMNS = (("epoch", 5), ("train cost", 10), ("test cost", 10), ("accuracy", 8),
            ("seconds", 7))


def _row(*cells):
    return "  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS))


def _check_layers(args, sizes, n_in, n_classes, what):
    """--sizes against the data: a mismatch is a usage error (exit 2)."""
    if sizes[0] != n_in:
        args.parser.error(f"argument --sizes: the input layer must have {n_in} neurons, one "
                          f"per input value of {what}; got {','.join(map(str, sizes))}")
    if sizes[-1] != n_classes:
        args.parser.error(f"argument --sizes: the output layer must have {n_classes} neurons, "
                          f"one per class of {what}; got {','.join(map(str, sizes))}")


def _run_train(args):
    t_start = time.perf_counter()
    out = sys.stdout
    say = (lambda *a: None) if args.quiet else (lambda line="": print(line, file=out, flush=True))

    # Check every value before the (possibly slow) data loading and training.
    epochs = _checked("--epochs", check_int, args.epochs, "epochs", 0)
    batch_size = _checked("--batch-size", check_int, args.batch_size, "batch_size", 1)
    eta = _checked("--eta", check_float, args.eta, "eta", positive=True)
    lmbda = _checked("--lmbda", check_float, args.lmbda, "lmbda")
    n_threads = resolve_n_threads(args.threads)
    name = _dataset_name(args)
    if name is not None and args.sizes is not None:
        _check_layers(args, args.sizes, DATASETS[name][0], N_CLASSES, name)
    for flag, path in (("--save", args.save), ("--plot", args.plot),
                       ("--plot-weights", args.plot_weights)):
        if path is not None:
            _writable_target(flag, path)
    for flag, path in (("--plot", args.plot), ("--plot-weights", args.plot_weights)):
        if path is not None:
            _need_matplotlib(flag)
    if args.plot is not None and epochs == 0:
        raise CommandError("argument --plot: learning curves need at least one epoch "
                           "(--epochs >= 1)", status=2)

    (X, y), (X_test, y_test), source = _load_data(args, args.dtype)
    n_test = len(X_test)
    n_classes = N_CLASSES if name is not None else int(max(y.max(), y_test.max())) + 1
    sizes = args.sizes or [X.shape[1], 30, max(n_classes, 2)]
    if name is None:  # --data: the layers can only be checked now
        _check_layers(args, sizes, X.shape[1], sizes[-1], source)
        if min(y.min(), y_test.min()) < 0 or n_classes > sizes[-1]:
            raise CommandError(f"{source}: labels must be integers in [0, {sizes[-1]}), one "
                               f"per output neuron; found {min(y.min(), y_test.min())} to "
                               f"{n_classes - 1}")
    try:
        net = Network(sizes, activation=args.activation,
                      output_activation=args.output_activation, cost=args.cost,
                      init=args.init, dtype=args.dtype, seed=args.seed)
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc), status=2) from None

    say(f"{PROG} {__version__}: {_describe(net)}")
    say(f"data: {source}: train on {len(X):,}, test on {n_test:,}")
    say(f"SGD: {epochs} epochs, batch size {batch_size}, eta {eta:g}, lmbda {lmbda:g}, "
        f"seed {args.seed}, {n_threads} thread{'s' if n_threads != 1 else ''}")
    if epochs:
        say()
        say(_row(*(title for title, _ in _COLUMNS)))

    # One fit() call per epoch so each row prints as its epoch ends.  This trains
    # exactly as fit(epochs=N) would: the network's own generator draws each
    # epoch's shuffle, and nothing else is drawn from it between epochs.
    history = History()
    interrupted = False
    progress = EpochProgress(epochs, enabled=False if args.quiet else None)
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            try:
                h = net.fit(X, y, epochs=1, batch_size=batch_size, eta=eta, lmbda=lmbda,
                            validation_data=(X_test, y_test), n_threads=n_threads)
            except ValueError as exc:  # e.g. eta * lmbda / n >= 1
                raise CommandError(str(exc), status=2) from None
            seconds = time.perf_counter() - t0
            history.append(**{**{k: v[0] for k, v in h.items()}, "epoch": epoch,
                              "seconds": seconds})
            accuracy = h["val_accuracy"][0]
            if not args.quiet:
                progress.write(_row(epoch, f"{h['train_cost'][0]:.4f}", f"{h['val_cost'][0]:.4f}",
                                    f"{accuracy:.2%}", f"{seconds:.2f}"), file=out)
            progress.update(f"test accuracy {accuracy:.2%}")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()

    total = time.perf_counter() - t_start
    accuracies = history.get("val_accuracy", [])
    if accuracies:
        best = max(range(len(accuracies)), key=accuracies.__getitem__)  # first best
        done = f"of {epochs}" if not interrupted else f"of {len(accuracies)} done"
        summary = (f"best test accuracy {accuracies[best]:.2%} "
                   f"({round(accuracies[best] * n_test)} / {n_test}) at epoch {best + 1} "
                   f"{done}; total {total:.2f} s")
    else:
        if interrupted:  # fit rolled the unfinished first epoch back
            summary = (f"interrupted during epoch 1 of {epochs} (rolled back): no epochs "
                       f"trained; total {total:.2f} s")
        else:
            acc = net.score(X_test, y_test, n_threads=n_threads)
            summary = (f"no epochs trained; test accuracy of the initial network {acc:.2%} "
                       f"({round(acc * n_test)} / {n_test}); total {total:.2f} s")
    say()
    print(summary, file=out, flush=True)
    if interrupted:
        if args.save or args.plot or args.plot_weights:
            print(f"{PROG}: interrupted: nothing saved", file=sys.stderr)
        raise KeyboardInterrupt
    _write_outputs(args, net, history, source, dict(
        dataset=source, epochs=len(accuracies), batch_size=batch_size, eta=eta, lmbda=lmbda,
        seed=args.seed, test_accuracy=accuracies[-1] if accuracies else None,
        test_cost=history["val_cost"][-1] if accuracies else None), say)
    return 0


def _write_outputs(args, net, history, source, info, say):
    """--save, --plot, --plot-weights after training."""
    if args.save:
        try:
            save(net, args.save, info={"command": "cnet train", **info})
        except OSError as exc:
            raise CommandError(f"could not save the model to {args.save}: {exc}") from None
        say(f"saved the model to {args.save}")
    if args.plot or args.plot_weights:
        from . import plot
        pictures = []
        if args.plot:
            pictures.append((args.plot, lambda: plot.learning_curves(
                history, val_label="test",
                title=f"{'-'.join(map(str, net.sizes))} network on {_short_name(args)}")))
        if args.plot_weights:
            pictures.append((args.plot_weights, lambda: plot.first_layer_weights(net)))
        for path, make in pictures:
            try:
                make().savefig(path, dpi=120)
            except ValueError as exc:  # unknown format suffix, inputs not images...
                raise CommandError(f"could not draw {path}: {exc}") from None
            except OSError as exc:
                raise CommandError(f"could not write {path}: {exc}") from None
            say(f"saved a picture to {path}")


# -- cnet evaluate ---------------------------------------------------------------

def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate", help="score a saved model on a test set",
        description="Load a model saved by 'cnet train --save' (or net.save, or Nielsen's "
                    "network2.py save) and print its accuracy and cost on the test set of "
                    "the data set given as for 'cnet train' (default: the MNIST sample). "
                    "The cost includes the L2 term of the lmbda the model was trained with, "
                    "as in train's table.")
    p.add_argument("model", metavar="MODEL", help="model file (.npz, or network2.py JSON)")
    _add_data_options(p, with_dtype=False)
    _add_threads_option(p)
    p.set_defaults(run=_run_evaluate, parser=p)


def _load_model(path):
    try:
        return load_with_metadata(path)
    except FileNotFoundError:
        raise CommandError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise CommandError(f"model file {path} is a directory") from None
    except ModelFileError as exc:
        raise CommandError(f"could not load the model: {exc}") from None
    except OSError as exc:
        raise CommandError(f"could not read the model file {path}: {exc}") from None


def _run_evaluate(args):
    n_threads = resolve_n_threads(args.threads)
    _dataset_name(args)  # usage errors first
    net, meta = _load_model(args.model)
    _, (X_test, y_test), source = _load_data(args, net.dtype, need_train=False)
    if X_test.shape[1] != net.sizes[0]:
        raise CommandError(f"the model takes {net.sizes[0]} inputs but {source} has "
                           f"{X_test.shape[1]} values per example: evaluate it on the data "
                           f"it was trained for")
    if y_test.size and (y_test.min() < 0 or y_test.max() >= max(net.sizes[-1], 2)):
        raise CommandError(f"{source} has labels up to {y_test.max()}, but the model has "
                           f"only {net.sizes[-1]} outputs")
    info = meta.get("info") if isinstance(meta.get("info"), dict) else {}
    lmbda = info.get("lmbda", 0.0)
    lmbda = float(lmbda) if isinstance(lmbda, (int, float)) and lmbda >= 0 else 0.0
    accuracy = net.score(X_test, y_test, n_threads=n_threads)
    cost = net.cost(X_test, y_test, lmbda=lmbda, n_threads=n_threads)
    n_test = len(X_test)
    written = f" (cnet {meta['cnet_version']})" if meta.get("cnet_version") else \
        f" ({meta.get('format')})"
    print(f"model: {args.model}{written}: {_describe(net)}")
    print(f"data: {source}: test on {n_test:,}")
    l2 = f" (with the L2 term, lmbda {lmbda:g})" if lmbda else ""
    print(f"test accuracy {accuracy:.2%} ({round(accuracy * n_test)} / {n_test}), "
          f"test cost {cost:.4f}{l2}", flush=True)
    return 0


# -- cnet predict ----------------------------------------------------------------

def _add_predict(sub):
    p = sub.add_parser(
        "predict", help="predict the class of each example in a file",
        description="Load a model and print the predicted class of each example in INPUT, "
                    "one per line, or save them with --output. INPUT is an .npy file (one "
                    "example per row, or a single example), or an .npz file whose array X "
                    "(else X_test, else its only array) holds them. uint8 arrays are taken "
                    "as raw pixels and scaled to [0, 1] by /255, as cnet's loaders do; other "
                    "arrays are used as they are.")
    p.add_argument("model", metavar="MODEL", help="model file (.npz, or network2.py JSON)")
    p.add_argument("input", metavar="INPUT", help="examples: .npy or .npz")
    p.add_argument("--output", "-o", metavar="LABELS.npy",
                   help="save the labels as an int64 .npy array instead of printing them")
    _add_threads_option(p)
    p.set_defaults(run=_run_predict, parser=p)


def _read_inputs(path, n_in):
    path = Path(path).expanduser()
    try:
        with open_regular(path, "input file") as f:  # a FIFO would block
            is_zip = f.read(4) == b"PK\x03\x04"
        if is_zip:
            with np.load(path, allow_pickle=False) as archive:
                names = archive.files
                key = next((k for k in ("X", "X_test") if k in names),
                           names[0] if len(names) == 1 else None)
                if key is None:
                    raise CommandError(f"{path} holds arrays {', '.join(names) or '(none)'}; "
                                       f"put the examples under X (or X_test)")
                X = archive[key]
        else:
            X = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise CommandError(f"input file {path} does not exist") from None
    except CommandError:
        raise
    # Not .npy/.npz, truncated, object arrays (pickle refused), a damaged zip
    # (RuntimeError, NotImplementedError...), a header claiming too much memory.
    except Exception as exc:
        raise CommandError(f"could not read {path} as .npy or .npz: {type(exc).__name__}: "
                           f"{str(exc)[:200]}") from None
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf":
        raise CommandError(f"{path} must hold a numeric array")
    if X.size == n_in:
        X = X.reshape(1, n_in)
    elif X.ndim >= 2 and X[0].size == n_in:
        X = X.reshape(len(X), n_in)
    else:
        raise CommandError(f"{path} holds an array of shape {X.shape}; the model takes "
                           f"{n_in} values per example: give (n_examples, {n_in}) or "
                           f"(n_examples, ...) with {n_in} values per example")
    if X.dtype == np.uint8:
        X = X / 255.0
    return X


def _run_predict(args):
    n_threads = resolve_n_threads(args.threads)
    if args.output is not None:
        _writable_target("--output", args.output)
    net, _ = _load_model(args.model)
    X = _read_inputs(args.input, net.sizes[0])
    try:
        labels = net.predict(X, n_threads=n_threads).astype(np.int64)
    except ValueError as exc:  # NaN or infinity in the inputs
        raise CommandError(f"{args.input}: {exc}") from None
    if args.output is None:
        sys.stdout.write("".join(f"{label}\n" for label in labels.tolist()))
        sys.stdout.flush()
        return 0
    try:
        with open(args.output, "wb") as f:
            np.save(f, labels)
    except OSError as exc:
        raise CommandError(f"could not write {args.output}: {exc}") from None
    print(f"wrote {len(labels):,} labels to {args.output}")
    return 0


# -- cnet bench ----------------------------------------------------------------

def _add_bench(sub):
    p = sub.add_parser(
        "bench", help="run the benchmark suite (cnet against NumPy and installed peers)",
        add_help=False,
        description="Run cnet's benchmark suite (cnet.benchmark), passing it every "
                    "argument (try: cnet bench --help).")
    p.set_defaults(run=_run_bench, parser=p, suite_args=[])


def _run_bench(args):
    from . import benchmark

    saved_argv = sys.argv
    sys.argv = [f"{PROG} bench"] + list(args.suite_args)  # the suite's usage says "cnet bench"
    try:
        status = benchmark.main(list(args.suite_args))
    finally:
        sys.argv = saved_argv
    return status if isinstance(status, int) else 0


# -- cnet info -----------------------------------------------------------------

def _add_info(sub):
    p = sub.add_parser("info", help="show the build: version, OpenMP, SIMD kernels, threads",
                       description="Show cnet's version, whether it was built with OpenMP, "
                                   "the SIMD kernel variant in use, the default thread count "
                                   "and the optional extras installed.")
    p.set_defaults(run=_run_info, parser=p)


def _run_info(args):
    show_config(file=sys.stdout)
    extras = []
    for module, use in (("matplotlib", "plots"), ("tqdm", "progress bars")):
        try:
            version = getattr(__import__(module), "__version__", "installed")
            extras.append(f"{module} {version} ({use})")
        except ImportError:
            extras.append(f"{module} not installed ({use}: pip install {module})")
    print(f"  extras:          {'; '.join(extras)}")
    return 0


# Each adds its subparser and sets run=_run_<name>; `cnet --help` lists them in this order.
_COMMANDS = (_add_train, _add_evaluate, _add_predict, _add_info, _add_bench)
