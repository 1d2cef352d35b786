"""``cnet predict``: a saved model's labels for inputs in a file."""
import sys
from pathlib import Path

import numpy as np

from .._fileio import open_regular
from .._threads import resolve_n_threads
from ._options import CommandError, add_threads_option, load_model, writable_target


def add(sub):
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
    add_threads_option(p)
    p.set_defaults(run=run, parser=p)


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


def run(args):
    n_threads = resolve_n_threads(args.threads)
    if args.output is not None:
        writable_target("--output", args.output)
    net, _ = load_model(args.model)
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

