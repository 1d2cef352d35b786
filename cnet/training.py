"""The training loop: epochs of mini-batch SGD, each one compiled call.

Python decides the policy of an epoch (the sample order, the weight-decay
factor, the thread count, what to do when training diverges); the kernel runs
every mini-batch of the epoch, forward and backward through all layers,
without the GIL.
"""
import time
from collections import namedtuple

import numpy as np

from ._dispatch import kernels
from ._interrupts import deliver, watching
from ._threads import network_flops, resolve_n_threads, threads_for_work
from ._validation import check_decay, check_eta, describe, labels_of, one_hot_classes
from ._workspace import Workspace, sparse_input
from .optimizers import SGD


class DivergenceError(FloatingPointError):
    """Training diverged: the cost or a weight became non-finite or exploded
    (see cnet.training.WEIGHT_GROWTH, COST_GROWTH).  The weights and the random
    generator are restored to their state before the epoch (or step)."""


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


# Divergence is more than NaN: with saturating outputs the cost stays finite
# while the steps run away (eta = 1e6 takes a sigmoid net's weights from ~4 to
# ~1e5 in one epoch, dead at chance accuracy; ReLU/softmax to 1e23).  SGD on
# sensibly scaled inputs grows the largest parameter by a small factor over a
# whole training run, so a factor of WEIGHT_GROWTH within one call (over
# max(1, its value at the start)) means diverged.  Both are module constants
# a user with unusual data may raise.
WEIGHT_GROWTH = 1e3
# An epoch's mean cost this many times the first epoch's: diverging.
COST_GROWTH = 1e6


def weight_limit(net, growth=WEIGHT_GROWTH):
    """The largest |parameter| training may reach from here (None: no limit,
    for growth None); refuses parameters edited in place to NaN/inf (they
    cannot train)."""
    big = net.parameters.max_abs()
    if big is None:
        raise ValueError("the network's weights or biases hold NaN or infinity (edited in "
                         "place?): assign finite values before training")
    return None if growth is None else growth * max(1.0, big)


def divergence(net, cost, first_cost, limit):
    """What went wrong, or None if the step looks sane."""
    if not np.isfinite(cost):
        return "the cost became NaN or infinite"
    big = net.parameters.max_abs()
    if big is None:
        return "a weight became NaN or infinite"
    if limit is not None and big > limit:
        return (f"a weight reached {big:.3g}, over {limit:.3g}: more than the allowed growth "
                f"over the largest at the start (or 1)")
    if first_cost is not None and first_cost > 0 and cost > COST_GROWTH * first_cost:
        return f"the cost grew from {first_cost:.4g} to {cost:.4g}"
    return None


class _Start:
    """The parameters, random generator and optimizer state as they were at
    a step's start."""

    def __init__(self, net, optimizer=None):
        self.net, self.optimizer = net, optimizer
        self.random_state = net._random_state()
        self.params = net.parameters.snapshot()
        self.opt_state = optimizer.snapshot() if optimizer is not None else None

    def restore(self):
        self.net.parameters.restore(self.params)
        self.net._set_random_state(self.random_state)
        if self.optimizer is not None:
            self.optimizer.restore(self.opt_state)


# What sgd_epochs yields after each epoch.
Epoch = namedtuple("Epoch", "index cost seconds threads eta undo")


def sgd_epochs(net, X, T, labels, *, epochs, batch_size, eta, lmbda, shuffle, n_threads,
               optimizer=None, schedule=None, l1=0.0, dropout=None, sample_weight=None,
               alpha=0.0, weight_growth=WEIGHT_GROWTH):
    """Run the epochs; yield an :data:`Epoch` after each: its index, the mean
    training cost, seconds, threads used, the eta it used, and undo(), which
    puts the parameters, the random generator and the optimizer's state back
    as they were before that epoch (for a caller interrupted before it
    recorded the epoch).

    X (n, n_in), and T (n, n_out) targets or None with labels (n,) intp, all
    already validated and in the network's dtype; optimizer a
    cnet.optimizers.Optimizer (None: plain SGD), schedule a
    cnet.schedules.Schedule (None: eta every epoch; its update() is the
    caller's, after it records the epoch); dropout, the rate of each layer's
    input (cnet.regularizers.dropout_rates) or None; sample_weight, float64
    (n,) or None; alpha, scikit-learn's L2 (alpha / the batch's weight per
    example); weight_growth, how many times its largest |value| at the start
    (or 1) a parameter may reach before the run counts as diverged (None: no
    limit, only NaN, infinity or the cost's growth).  If an epoch diverges, everything
    is put back as it was before it and DivergenceError raised.  Ctrl-C stops
    the epoch at the next mini-batch, and the epoch is rolled back the same
    way before KeyboardInterrupt is raised.
    """
    n = X.shape[0]
    batch_size = min(batch_size, n)
    n_batches = -(-n // batch_size)
    limit = weight_limit(net, weight_growth)
    n_threads = threads_for_work(resolve_n_threads(n_threads),
                                 network_flops(net.sizes, batch_size))
    if alpha and optimizer is None:
        optimizer = SGD()
    step = optimizer.kernel_step(lmbda / n, l1 / n, alpha) if optimizer is not None else None
    state = optimizer.bind(net.parameters) if step is not None else None
    dropout = dropout if dropout is not None and any(dropout) else None
    ws = Workspace(net._kernel_params(), batch_size, state=state, dropout=dropout,
                   sparse=sparse_input(X, net.sizes[1]))
    loss = np.empty(n, dtype=net.dtype)
    # The kernels read labels (and weights) in epoch order (a sequential
    # stream, where labels[order[k]] would be a cache miss per example).
    labels_in_order = None if labels is None else np.empty(n, dtype=np.intp)
    weights_in_order = None if sample_weight is None else np.empty(n, dtype=np.float64)
    first_cost = None
    for epoch in range(epochs):
        rate = eta if schedule is None else schedule.next_rate(eta, n)
        check_eta(rate, net.dtype)
        decay = check_decay(rate, lmbda, n)
        if step is not None:
            step = optimizer.kernel_step(lmbda / n, l1 / n, alpha)  # this epoch's step count
        while True:
            start = _Start(net, optimizer if step is not None else None)
            order = net._draw_order(n) if shuffle else np.arange(n)
            order = order.astype(np.intp, copy=False)
            if labels is not None:
                np.take(labels, order, out=labels_in_order)
            if sample_weight is not None:
                np.take(sample_weight, order, out=weights_in_order)
            key = net._dropout_key() if dropout is not None else 0
            t0 = time.perf_counter()
            with watching() as flag:
                done = kernels.sgd_epoch(X, T, labels_in_order, order, ws.spec, net._cost.code,
                                         batch_size, rate, decay, loss, n_threads, flag,
                                         step=step, drop_key=key,
                                         sample_weight=weights_in_order)
            seconds = time.perf_counter() - t0
            if done == n:
                break
            # Ctrl-C: the epoch stopped at a mini-batch boundary.  Roll it back,
            # then let Python's handler raise; if it does not, run the epoch again.
            start.restore()
            deliver()
        if optimizer is not None:
            optimizer.t += n_batches
        cost = epoch_cost(net, loss, sample_weight, weights_in_order, lmbda, l1, alpha,
                          n_batches)
        what = divergence(net, cost, first_cost, limit)
        if what is not None:
            start.restore()
            raise DivergenceError(
                f"Training diverged in epoch {epoch + 1}: {what}. The weights and the random "
                f"generator were restored to their state before that epoch. Try a smaller "
                f"eta (now {rate:g}) or scale the inputs (e.g. to [0, 1]).")
        if first_cost is None:
            first_cost = cost
        yield Epoch(epoch, cost, seconds, n_threads, rate, start.restore)


def epoch_cost(net, loss, sample_weight, weights_in_order, lmbda, l1, alpha, n_batches):
    """An epoch's training cost: the (weighted) mean of the examples' costs
    as they were used (loss, in epoch order, as are weights_in_order), plus
    the regularisers' terms at the epoch's end."""
    n = loss.shape[0]
    mean = (float(loss.mean(dtype=np.float64)) if sample_weight is None else
            float(np.dot(loss.astype(np.float64), weights_in_order) / sample_weight.sum()))
    cost = mean + net._l2_term(lmbda, n) + net._l1_term(l1, n)
    if alpha:  # scikit-learn's: (alpha / 2m) sum ||W||^2 in each batch's mean
        cost += net._l2_term(alpha * n_batches, n)
    return cost


def train(net, X, T, labels, *, epochs, batch_size, eta, lmbda, shuffle, n_threads,
          history, measure=None, callbacks=(), optimizer=None, schedule=None, l1=0.0,
          dropout=None, sample_weight=None, alpha=0.0, weight_growth=WEIGHT_GROWTH):
    """The training loop that ``fit``, the book's ``SGD`` and the command
    line all run: epochs of :func:`sgd_epochs`, one history row each, and
    the callbacks after every epoch.

    ``measure(epoch)`` (0-based), if given, returns the row's entries
    measured after the epoch (validation cost and accuracy, the book's
    monitors); a Ctrl-C while it runs rolls the epoch back, as one in the
    epoch itself does.  Printing is a callback too (it goes first), as is
    early stopping.  The network is held for training throughout (another
    thread can neither train nor assign it).
    """
    watchers = [cb for cb in callbacks if callable(getattr(cb, "on_epoch_outputs", None))]
    if watchers:  # they see the network's outputs on the training data after each epoch
        targets, classes = _training_targets(net, T, labels)
        n_batches = -(-X.shape[0] // min(batch_size, X.shape[0]))
        for cb in watchers:  # refused before any training, not after the first epoch
            if classes is None and getattr(cb, "needs_labels", False):
                raise ValueError(f"{type(cb).__name__} needs class labels (or one-hot "
                                 f"targets) to measure the training accuracy; these targets "
                                 f"are not classes")
    with net.parameters.in_use("training"):
        callbacks_begin(callbacks, net)
        for ep in sgd_epochs(net, X, T, labels, epochs=epochs, batch_size=batch_size, eta=eta,
                             lmbda=lmbda, shuffle=shuffle, n_threads=n_threads,
                             optimizer=optimizer, schedule=schedule, l1=l1, dropout=dropout,
                             sample_weight=sample_weight, alpha=alpha,
                             weight_growth=weight_growth):
            row = dict(epoch=ep.index + 1, train_cost=ep.cost, eta=ep.eta, seconds=ep.seconds,
                       threads=ep.threads)
            if measure is not None:
                try:
                    row.update(measure(ep.index))
                except KeyboardInterrupt:  # the epoch is not in the history: undo it
                    ep.undo()
                    raise
            if watchers:
                try:
                    A = net.forward(X, n_threads)
                    if classes is not None:
                        row["train_accuracy"] = float(np.mean(labels_of(A) == classes))
                    outputs = EpochOutputs(A, targets, classes, (ep.index + 1) * n_batches)
                    for cb in watchers:
                        cb.on_epoch_outputs(net, ep.index + 1, outputs)
                except BaseException:  # Ctrl-C or a watcher's error: the epoch is undone
                    ep.undo()
                    raise
            history.append(**row)
            if schedule is not None:
                schedule.update(row)
            if callbacks and callbacks_epoch(callbacks, net, ep.index + 1, row):
                break
        callbacks_end(callbacks, net, history)
    return history


# What a callback's on_epoch_outputs(net, epoch, outputs) is given after each
# epoch: the network's outputs on the training data (n, n_out), the targets
# (n, n_out), the class of each example (None for targets that are not
# one-hot), and the mini-batch steps taken so far in this training call.
EpochOutputs = namedtuple("EpochOutputs", "outputs targets labels steps")


def _training_targets(net, T, labels):
    """The training targets as (n, n_out), and the classes (or None)."""
    if T is None:
        if net.sizes[-1] == 1:
            return labels.astype(net.dtype)[:, None], labels
        return np.eye(net.sizes[-1], dtype=net.dtype)[labels], labels
    if T.shape[1] == 1:  # one 0/1 column: the class is the column
        return T, labels_of(T) if ((T == 0) | (T == 1)).all() else None
    return T, one_hot_classes(T)


def sgd_step(net, X, T, labels, eta, decay):
    """One gradient-descent step on the whole of X (Nielsen's
    update_mini_batch), with the same checks as an epoch."""
    m = X.shape[0]
    check_eta(eta, net.dtype)
    limit = weight_limit(net)
    ws = Workspace(net._kernel_params(), m, sparse=sparse_input(X, net.sizes[1]))
    loss = np.empty(m, dtype=net.dtype)
    n_threads = threads_for_work(resolve_n_threads(None), network_flops(net.sizes, m))
    while True:
        start = _Start(net)
        with watching() as flag:
            done = kernels.sgd_epoch(X, T, labels, np.arange(m, dtype=np.intp), ws.spec,
                                     net._cost.code, m, eta, decay, loss, n_threads, flag)
        if done == m:
            break
        start.restore()
        deliver()
    what = divergence(net, float(loss.mean(dtype=np.float64)), None, limit)
    if what is not None:
        start.restore()
        raise DivergenceError(
            f"The mini-batch step diverged: {what}. The weights were restored to their "
            f"values before it. Try a smaller eta (now {eta:g}) or scale the inputs.")


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
        raise TypeError(f"callbacks must be a list of callables; got "
                        f"{describe(callbacks)}") from None
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(net, epoch, row); got {describe(cb)}")
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
