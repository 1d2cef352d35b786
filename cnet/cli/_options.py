"""What the commands share: option types and groups, the data sets they
load, the checks they make before any slow work, and CommandError."""
import argparse
from pathlib import Path

import numpy as np

from .. import datasets
from .._fileio import open_regular
from ..saving import ModelFileError, load_with_metadata

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



# -- option types and shared option groups ------------------------------------

def sizes_arg(text):
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


def positive_int(text):
    """argparse type of counts that must be >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def add_data_options(parser, with_dtype=True):
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


def add_threads_option(parser):
    parser.add_argument(
        "--threads", type=positive_int, metavar="N",
        help="OpenMP threads (default: the cores available, capped by OMP_NUM_THREADS)")


def dataset_name(args):
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


def load_data(args, dtype, need_train=True):
    """((X_train, y_train) or None, (X_test, y_test), description) from the data flags."""
    name = dataset_name(args)
    if name is None:
        return load_npz_data(args.data, dtype, need_train)
    if name == "sample":
        train, test = datasets.load_sample(dtype=dtype)
        return train, test, "MNIST sample shipped with cnet"
    if name == "mnist" and args.data_dir is not None:
        return load_mnist_dir(args.data_dir, dtype)
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


def short_name(args):
    """The data set in a few words, for a picture's title (no machine paths)."""
    name = dataset_name(args)
    if name is None:
        return Path(args.data).name
    return "the MNIST sample" if name == "sample" else DATASETS[name][2]


def load_mnist_dir(data_dir, dtype):
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


def load_npz_data(path, dtype, need_train):
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


def checked(flag, check, *args, **kwargs):
    """Run one of cnet's checks on a flag's value; a rejection names the flag."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"argument {flag}: {exc}", status=2) from None


def writable_target(flag, path):
    """Fail before training if an output file cannot be written where asked."""
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise CommandError(f"argument {flag}: directory {parent} does not exist", status=1)
    if Path(path).expanduser().is_dir():
        raise CommandError(f"argument {flag}: {path} is a directory; give a file name",
                           status=1)


def need_matplotlib(flag):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(f"{flag} needs matplotlib, an optional dependency: "
                           f"pip install cnet-nn[plot]  (or: pip install matplotlib)") from None


def describe_net(net):
    hidden = net.activation if isinstance(net.activation, str) else "/".join(net.activation)
    acts = f"{hidden} neurons" if net.output_activation == net.activation else \
        f"{hidden} hidden, {net.output_activation} output"
    return (f"{'-'.join(map(str, net.sizes))} network, {acts}, {net.cost.name} cost, "
            f"init {net.init}, {net.dtype.name}")


def load_model(path):
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
