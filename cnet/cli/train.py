"""``cnet train``: train a network on a data set, print a row per epoch."""
import argparse
import sys
import textwrap
import time

from .. import __version__, activations, costs, optimizers
from .._progress import EpochProgress
from .._threads import resolve_n_threads
from .._validation import check_float, check_int
from ..initializers import INITS
from ..network import Network
from ..saving import save
from ..training import History
from ._options import (
    DATASETS,
    N_CLASSES,
    PROG,
    CommandError,
    add_data_options,
    add_threads_option,
    checked,
    dataset_name,
    describe_net,
    load_data,
    need_matplotlib,
    short_name,
    sizes_arg,
    writable_target,
)


def add(sub):
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
    net.add_argument("--sizes", type=sizes_arg, metavar="IN,...,OUT",
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
    sgd.add_argument("--optimizer", choices=tuple(optimizers.NAMES), default="sgd",
                     help="the update rule (cnet.optimizers; momentum and nesterov: 0.9) "
                          "(default: %(default)s)")
    sgd.add_argument("--dropout", type=float, default=0.0, metavar="P",
                     help="dropout rate of every hidden layer while training, in [0, 1) "
                          "(default: %(default)s)")
    sgd.add_argument("--l1", type=float, default=0.0,
                     help="L1 regularisation strength, >= 0 (default: %(default)s)")
    sgd.add_argument("--seed", type=int, default=0,
                     help="seed of the initial weights and the shuffling (default: %(default)s)")
    add_threads_option(sgd)
    data = p.add_argument_group("data")
    add_data_options(data)
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
    p.set_defaults(run=run, parser=p)


# Column title and width; every cell is right-aligned under its title.
_COLUMNS = (("epoch", 5), ("train cost", 10), ("test cost", 10), ("accuracy", 8),
            ("seconds", 7))


def _row(*cells):
    return "  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS))


class _Table:
    """The training callback that prints train's table, a row per epoch
    (its time: the epoch and its evaluation, wall clock), advances the
    progress bar, and keeps the history with those times."""

    def __init__(self, epochs, quiet, out):
        self.quiet, self.out = quiet, out
        self.progress = EpochProgress(epochs, enabled=False if quiet else None)
        self.history = History()

    def on_train_begin(self, net):
        self.t0 = time.perf_counter()

    def __call__(self, net, epoch, row):
        now = time.perf_counter()
        seconds, self.t0 = now - self.t0, now
        self.history.append(**{**row, "seconds": seconds})
        if not self.quiet:
            self.progress.write(_row(epoch, f"{row['train_cost']:.4f}", f"{row['val_cost']:.4f}",
                                     f"{row['val_accuracy']:.2%}", f"{seconds:.2f}"),
                                file=self.out)
        self.progress.update(f"test accuracy {row['val_accuracy']:.2%}")


def _check_layers(args, sizes, n_in, n_classes, what):
    """--sizes against the data: a mismatch is a usage error (exit 2)."""
    if sizes[0] != n_in:
        args.parser.error(f"argument --sizes: the input layer must have {n_in} neurons, one "
                          f"per input value of {what}; got {','.join(map(str, sizes))}")
    if sizes[-1] != n_classes:
        args.parser.error(f"argument --sizes: the output layer must have {n_classes} neurons, "
                          f"one per class of {what}; got {','.join(map(str, sizes))}")


def run(args):
    t_start = time.perf_counter()
    out = sys.stdout
    say = (lambda *a: None) if args.quiet else (lambda line="": print(line, file=out, flush=True))

    # Check every value before the (possibly slow) data loading and training.
    epochs = checked("--epochs", check_int, args.epochs, "epochs", 0)
    batch_size = checked("--batch-size", check_int, args.batch_size, "batch_size", 1)
    eta = checked("--eta", check_float, args.eta, "eta", positive=True)
    lmbda = checked("--lmbda", check_float, args.lmbda, "lmbda")
    n_threads = resolve_n_threads(args.threads)
    name = dataset_name(args)
    if name is not None and args.sizes is not None:
        _check_layers(args, args.sizes, DATASETS[name][0], N_CLASSES, name)
    for flag, path in (("--save", args.save), ("--plot", args.plot),
                       ("--plot-weights", args.plot_weights)):
        if path is not None:
            writable_target(flag, path)
    for flag, path in (("--plot", args.plot), ("--plot-weights", args.plot_weights)):
        if path is not None:
            need_matplotlib(flag)
    if args.plot is not None and epochs == 0:
        raise CommandError("argument --plot: learning curves need at least one epoch "
                           "(--epochs >= 1)", status=2)

    (X, y), (X_test, y_test), source = load_data(args, args.dtype)
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

    say(f"{PROG} {__version__}: {describe_net(net)}")
    say(f"data: {source}: train on {len(X):,}, test on {n_test:,}")
    extras = "".join(f", {name} {value:g}" for name, value in (("l1", args.l1),
                                                               ("dropout", args.dropout))
                     if value)
    say(f"{args.optimizer}: {epochs} epochs, batch size {batch_size}, eta {eta:g}, "
        f"lmbda {lmbda:g}{extras}, seed {args.seed}, "
        f"{n_threads} thread{'s' if n_threads != 1 else ''}")
    if epochs:
        say()
        say(_row(*(title for title, _ in _COLUMNS)))

    # One fit() call; a callback prints each row as its epoch ends, with the
    # wall time of the epoch and its evaluation on the test set.
    table = _Table(epochs, args.quiet, out)
    interrupted = False
    try:
        net.fit(X, y, epochs=epochs, batch_size=batch_size, eta=eta, lmbda=lmbda,
                validation_data=(X_test, y_test), n_threads=n_threads, callbacks=[table],
                optimizer=args.optimizer, l1=args.l1, dropout=args.dropout or None)
    except ValueError as exc:  # e.g. eta * lmbda / n >= 1
        raise CommandError(str(exc), status=2) from None
    except KeyboardInterrupt:  # fit rolled the unfinished epoch back
        interrupted = True
    finally:
        table.progress.close()
    history = table.history

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
        optimizer=args.optimizer, l1=args.l1, dropout=args.dropout,
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
        from .. import plot
        pictures = []
        if args.plot:
            pictures.append((args.plot, lambda: plot.learning_curves(
                history, val_label="test",
                title=f"{'-'.join(map(str, net.sizes))} network on {short_name(args)}")))
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

