"""The training loop: epochs of mini-batch SGD, each one compiled call.

Python decides the policy of an epoch (the sample order, the weight-decay
factor, the thread count, what to do when training diverges); the kernel runs
every mini-batch of the epoch, forward and backward through all layers,
without the GIL.
"""
import time

import numpy as np

from ._dispatch import kernels
from ._threads import network_flops, resolve_n_threads, threads_for_work
from ._validation import check_decay
from ._workspace import Workspace


class DivergenceError(FloatingPointError):
    """Training produced a non-finite cost or weight; the weights are restored."""


class StopTraining(Exception):
    """Raise from a training callback to stop training after the current epoch.

    The epoch's row is already in the history; the callbacks after the one
    that raised still run for this epoch.  Returning True from a callback does
    the same.
    """


class History(dict):
    """Per-epoch record of training: a dict of equally long lists, one entry per
    epoch, returned by :meth:`Network.fit`.

    It is a plain ``dict`` (``history["val_accuracy"]``, ``list(history)``,
    ``json.dump(history, f)``, ``pandas.DataFrame(history)`` all work), with
    attribute access as a shortcut (``history.val_accuracy``).

    Keys
    ----
    epoch : list of int
        1, 2, ... (the epoch each entry is about).
    train_cost : list of float
        Mean cost of the training examples as each was used during the epoch
        (so with the weights of the moment, not those at the end), plus the
        L2 term (lmbda / 2n) sum ||W||^2 at the end of the epoch.
    val_cost, val_accuracy : list of float
        Cost (with the same L2 term, n being the validation size) and
        accuracy (fraction in [0, 1]) on ``validation_data`` after the
        epoch; absent when no validation data is given.
    eta : list of float
        Learning rate of the epoch.
    seconds : list of float
        Wall time of the epoch's compiled SGD call (the training alone, not
        the validation).
    threads : list of int
        Threads the epoch used: fewer than asked for when the mini-batches
        are too small for more to pay.

    If training stops early (a callback returned True or raised
    :class:`StopTraining`), the lists end at the last epoch trained.

    Methods
    -------
    append(**row)
        Add one epoch: each keyword's value to the list of that key.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def append(self, **row):
        for key, value in row.items():
            self.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History({dict.__repr__(self)})"


def sgd_epochs(net, X, T, labels, *, epochs, batch_size, eta, lmbda, shuffle, n_threads):
    """Run the epochs; yield (epoch index, mean training cost, seconds, threads
    used) after each.

    X (n, n_in), and T (n, n_out) targets or None with labels (n,) intp, all
    already validated and in the network's dtype.  If an epoch diverges, the
    parameters are put back as they were before it and DivergenceError raised.
    """
    n = X.shape[0]
    batch_size = min(batch_size, n)
    decay = check_decay(eta, lmbda, n)
    n_threads = threads_for_work(resolve_n_threads(n_threads),
                                 network_flops(net.sizes, batch_size))
    ws = Workspace(net._kernel_params(), batch_size)
    loss = np.empty(n, dtype=net.dtype)
    # The kernels read labels in epoch order (a sequential stream, where
    # labels[order[k]] would be a cache miss per example).
    labels_in_order = None if labels is None else np.empty(n, dtype=np.intp)
    for epoch in range(epochs):
        order = net._rng.permutation(n) if shuffle else np.arange(n)
        order = order.astype(np.intp, copy=False)
        if labels is not None:
            np.take(labels, order, out=labels_in_order)
        saved = net._snapshot()
        t0 = time.perf_counter()
        kernels.sgd_epoch(X, T, labels_in_order, order, ws.spec, net._cost.code, batch_size,
                          eta, decay, loss, n_threads)
        seconds = time.perf_counter() - t0
        cost = float(loss.mean(dtype=np.float64)) + net._l2_term(lmbda, n)
        if not (np.isfinite(cost) and net._params_finite()):
            net._restore(saved)
            raise DivergenceError(
                f"Training diverged in epoch {epoch + 1}: the cost or a weight became NaN or "
                f"infinite. The weights were restored to their values before that epoch. "
                f"Try a smaller eta (now {eta:g}) or scale the inputs (e.g. to [0, 1]).")
        yield epoch, cost, seconds, n_threads


# -- callbacks ------------------------------------------------------------------------
#
# A callback is any callable(net, epoch, row) called after each epoch, epoch
# being 1-based and row the dict of that epoch's history entries; it returns
# True (or raises StopTraining) to stop.  An object may also have
# on_train_begin(net) and on_train_end(net, history) methods, called once per
# fit/SGD call (EarlyStopping uses them to reset and to restore the best weights).

def check_callbacks(callbacks):
    """callbacks: None, one callable or a list of them -> list."""
    if callbacks is None:
        return []
    if callable(callbacks):
        return [callbacks]
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"callbacks must be a list of callables; got {callbacks!r}") from None
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(net, epoch, row); got {cb!r}")
    return callbacks


def callbacks_begin(callbacks, net):
    for cb in callbacks:
        hook = getattr(cb, "on_train_begin", None)
        if callable(hook):
            hook(net)


def callbacks_epoch(callbacks, net, epoch, row):
    """Run every callback for this epoch; True if any asks to stop."""
    stop = False
    for cb in callbacks:
        try:
            stop = bool(cb(net, epoch, dict(row))) or stop
        except StopTraining:
            stop = True
    return stop


def callbacks_end(callbacks, net, history):
    for cb in callbacks:
        hook = getattr(cb, "on_train_end", None)
        if callable(hook):
            hook(net, history)
