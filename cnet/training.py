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


class History(dict):
    """Per-epoch record of training, usable as a dict of lists.

    Keys: ``epoch`` (1-based), ``train_cost`` (mean cost of the examples as
    each was used during the epoch, plus the L2 term), ``val_cost`` and
    ``val_accuracy`` (after the epoch, when validation data are given, else
    absent), ``eta``, ``seconds`` (wall time of the epoch's compiled call) and
    ``threads`` (how many threads it used: fewer than asked for when the
    mini-batches are too small for more to pay).
    Attribute access works too: ``history.train_cost``.
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
    if labels is None:
        labels = np.zeros(1, dtype=np.intp)
    for epoch in range(epochs):
        order = net._rng.permutation(n) if shuffle else np.arange(n)
        order = order.astype(np.intp, copy=False)
        saved = net._snapshot()
        t0 = time.perf_counter()
        kernels.sgd_epoch(X, T, labels, order, ws.spec, net._cost.code, batch_size,
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
