"""``cnet evaluate``: a saved model's accuracy and cost on a data set."""
from .._threads import resolve_n_threads
from ._options import (
    CommandError,
    add_data_options,
    add_threads_option,
    dataset_name,
    describe_net,
    load_data,
    load_model,
)


def add(sub):
    p = sub.add_parser(
        "evaluate", help="score a saved model on a test set",
        description="Load a model saved by 'cnet train --save' (or net.save, or Nielsen's "
                    "network2.py save) and print its accuracy and cost on the test set of "
                    "the data set given as for 'cnet train' (default: the MNIST sample). "
                    "The cost includes the L2 term of the lmbda the model was trained with, "
                    "as in train's table.")
    p.add_argument("model", metavar="MODEL", help="model file (.npz, or network2.py JSON)")
    add_data_options(p, with_dtype=False)
    add_threads_option(p)
    p.set_defaults(run=run, parser=p)


def run(args):
    n_threads = resolve_n_threads(args.threads)
    dataset_name(args)  # usage errors first
    net, meta = load_model(args.model)
    _, (X_test, y_test), source = load_data(args, net.dtype, need_train=False)
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
    print(f"model: {args.model}{written}: {describe_net(net)}")
    print(f"data: {source}: test on {n_test:,}")
    l2 = f" (with the L2 term, lmbda {lmbda:g})" if lmbda else ""
    print(f"test accuracy {accuracy:.2%} ({round(accuracy * n_test)} / {n_test}), "
          f"test cost {cost:.4f}{l2}", flush=True)
    return 0

