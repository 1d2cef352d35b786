"""Nielsen's surface of a network: the methods of the book's network.py and
network2.py on lists of ``(x, y)`` column vectors.

``feedforward``, ``backprop``, ``update_mini_batch``, ``evaluate``,
``accuracy``, ``total_cost``, ``cost_derivative``, the initialisers, and
``SGD`` with its printing and monitoring.  :class:`cnet.Network` has them
(so ``import cnet as network`` runs the book's code), and so do the drop-in
modules ``cnet.book.network`` and ``cnet.book.network2``, which add the
book's exact signatures and random draws.  Every one of them converts the
book's lists to arrays and calls the array surface and the one training
loop (cnet/training.py); nothing here trains by itself.
"""
import sys

import numpy as np

from .._threads import resolve_n_threads
from .._validation import (
    check_bool,
    check_decay,
    check_eta,
    check_float,
    check_int,
    check_X,
    describe,
    labels_of,
)
from ..regularizers import dropout_rates
from ..training import History, check_callbacks, sgd_step, train

# Monitor flags of network2.py's SGD, in its order.
MONITORS = ("monitor_evaluation_cost", "monitor_evaluation_accuracy",
            "monitor_training_cost", "monitor_training_accuracy")


class BookMethods:
    """The book's methods, for a class with cnet.Network's array surface."""

    def default_weight_initializer(self):
        """network2.py: weights N(0, 1/n_in), biases N(0, 1)."""
        self._initialize("scaled_normal")

    def large_weight_initializer(self):
        """network2.py: weights and biases N(0, 1) (network.py's scheme)."""
        self._initialize("normal")

    def feedforward(self, a):
        """Output (n_out, 1) for an input column a (n_in, 1)."""
        n_in = self.sizes[0]
        a = np.asarray(a)
        if a.shape not in ((n_in,), (n_in, 1), (1, n_in)):
            raise ValueError(f"a must be an input column of shape ({n_in}, 1); got shape {a.shape}")
        X = check_X(a.reshape(1, n_in), n_in, self.dtype, "a")
        return self._forward(X, resolve_n_threads(None)).reshape(-1, 1)

    def backprop(self, x, y):
        """Gradient of the cost of one example (x, y): (nabla_b, nabla_w),
        lists shaped like ``biases`` and ``weights``.  y is a target column
        (n_out, 1) or an int label."""
        X, T, labels = self._examples([(x, y)], "backprop's (x, y)")
        return self._gradient(X, T, labels, 1)

    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=None):
        """One gradient-descent step on a list of (x, y) (network.py / network2.py)."""
        X, T, labels = self._examples(mini_batch, "mini_batch")
        eta = check_eta(check_float(eta, "eta", positive=True), self.dtype)
        lmbda = check_float(lmbda, "lmbda")
        n = X.shape[0] if n is None else check_int(n, "n", 1)
        with self._params.in_use("training"):
            sgd_step(self, X, T, labels, eta, check_decay(eta, lmbda, n))

    def evaluate(self, test_data):
        """Number of (x, label) pairs whose predicted class is the label."""
        X, T, labels = self._examples(test_data, "test_data")
        if labels is None:
            labels = labels_of(T)
        return int(np.sum(labels_of(self._forward(X, resolve_n_threads(None))) == labels))

    def accuracy(self, data, convert=False):
        """network2.py: number of correct predictions; labels or target vectors."""
        return self.evaluate(data)

    def total_cost(self, data, lmbda, convert=False):
        """network2.py: mean cost over data plus (lmbda / 2n) sum ||W||^2."""
        X, T, labels = self._examples(data, "data")
        lmbda = check_float(lmbda, "lmbda")
        return self._mean_cost(X, T, labels, lmbda, resolve_n_threads(None))

    @staticmethod
    def cost_derivative(output_activations, y):
        """network.py: dC/da of the quadratic cost."""
        return output_activations - y

    def _examples(self, data, name):
        """Nielsen's list of (x, y) -> (X, targets or None, labels or None)."""
        try:
            data = list(data)
            xs = [np.ravel(x) for x, _ in data]
            ys = [y for _, y in data]
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a list of (x, y) pairs") from None
        if not data:
            raise ValueError(f"{name} is empty: it needs at least one (x, y) pair")
        X = check_X(np.stack(xs), self.sizes[0], self.dtype, name)
        if all(np.ndim(y) == 0 for y in ys):
            T, labels = self._check_y(np.array(ys), X.shape[0], self.sizes[-1], self.dtype, name)
        else:
            try:
                Y = np.stack([np.ravel(y) for y in ys])
            except ValueError:
                raise ValueError(f"the y of every pair in {name} must have the same "
                                 f"shape") from None
            T, labels = self._check_y(Y, X.shape[0], self.sizes[-1], self.dtype, name)
        return X, T, (labels if T is None else None)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, test_data=None,
            shuffle=True, evaluation_data=None, monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False, monitor_training_cost=False,
            monitor_training_accuracy=False, n_threads=None, verbose=True, callbacks=None,
            early_stopping_n=0, *, optimizer=None, schedule=None, l1=0.0, dropout=None):
        """Mini-batch stochastic gradient descent, as in the book.

        ``training_data``: list of (x (n_in, 1), y (n_out, 1)); ``test_data``
        (network.py) and ``evaluation_data`` (network2.py): lists of
        (x, int label).  Prints per-epoch progress like the book's code and
        returns network2.py's four lists (evaluation cost, evaluation
        accuracy, training cost, training accuracy), filled where monitored.
        ``early_stopping_n`` (the Python 3 port's network2.py): stop when the
        monitored accuracy (evaluation, else training) has not improved for
        that many epochs; 0 never stops.

        ``callbacks`` work as in :meth:`fit`: ``callback(net, epoch, row)``
        after each epoch (``epoch`` 1-based, while the book's lines count
        from 0), True or :class:`cnet.StopTraining` stops.  ``row`` has
        ``epoch``, ``train_cost`` (mean cost during the epoch), ``eta``,
        ``seconds``, ``threads``, and what is measured this epoch:
        ``test_accuracy`` (fraction of ``test_data``), ``val_cost`` /
        ``val_accuracy`` (of ``evaluation_data``, when monitored),
        ``training_cost`` / ``train_accuracy`` (when monitored).
        ``optimizer``, ``schedule``, ``l1``, ``dropout``: as for :meth:`fit`.
        """
        if isinstance(lmbda, (list, tuple)) and test_data is None:
            raise TypeError(
                f"lmbda (SGD's 5th argument) must be a number; got {describe(lmbda)}. "
                f"network.py's SGD takes test_data there; cnet follows network2.py, where the "
                f"5th argument is lmbda: pass test_data=... by keyword, as the book does "
                f"(or use cnet.book.network, whose SGD has network.py's signature)")
        return self._book_sgd(
            training_data, epochs, mini_batch_size, eta, lmbda, test_data=test_data,
            shuffle=shuffle, evaluation_data=evaluation_data,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy, n_threads=n_threads,
            verbose=verbose, callbacks=callbacks, early_stopping_n=early_stopping_n,
            optimizer=optimizer, schedule=schedule, l1=l1, dropout=dropout)

    def _book_sgd(self, training_data, epochs, mini_batch_size, eta, lmbda, *, test_data,
                  shuffle, evaluation_data, n_threads, verbose, callbacks, early_stopping_n,
                  optimizer=None, schedule=None, l1=0.0, dropout=None, **monitor):
        """SGD of network.py and network2.py (both signatures end here)."""
        X, T, labels = self._examples(training_data, "training_data")
        epochs, mini_batch_size, eta, lmbda = self._check_hyper(epochs, mini_batch_size, eta, lmbda,
                                                                "mini_batch_size")
        shuffle = check_bool(shuffle, "shuffle")
        verbose = check_bool(verbose, "verbose")
        for flag in MONITORS:
            check_bool(monitor[flag], flag)
        early_stopping_n = check_int(early_stopping_n, "early_stopping_n", 0)
        optimizer, schedule, l1 = self._check_training(optimizer, schedule, l1)
        dropout = dropout_rates(dropout, self.sizes)
        if early_stopping_n and not (monitor["monitor_evaluation_accuracy"] and evaluation_data
                                     or monitor["monitor_training_accuracy"]):
            raise ValueError("early_stopping_n watches an accuracy: set "
                             "monitor_evaluation_accuracy=True (with evaluation_data) or "
                             "monitor_training_accuracy=True")
        callbacks = check_callbacks(callbacks)
        run = _BookRun(self, (X, T, labels), test_data, evaluation_data, lmbda,
                       resolve_n_threads(n_threads), verbose, bool(callbacks), monitor)
        history = self.history = History({k: [] for k in self._EPOCH_KEYS + run.keys()})
        # The book prints as it measures: its lines come first, then the
        # user's callbacks; the port's early stopping looks last.
        callbacks = ([run.print_epoch] if verbose else []) + callbacks
        if early_stopping_n:
            callbacks.append(_PortEarlyStopping(run, early_stopping_n))
        train(self, X, T, labels, epochs=epochs, batch_size=mini_batch_size, eta=eta,
              lmbda=lmbda, shuffle=shuffle, n_threads=run.n_threads, optimizer=optimizer,
              schedule=schedule, l1=l1, dropout=dropout, measure=run.measure,
              callbacks=callbacks, history=history)
        return run.lists


class _BookRun:
    """What the book's SGD measures and prints after each epoch, and the four
    lists it returns (evaluation cost, evaluation accuracy, training cost,
    training accuracy)."""

    def __init__(self, net, train, test_data, evaluation_data, lmbda, n_threads, verbose,
                 has_callbacks, monitor):
        self.net, self.train, self.lmbda = net, train, lmbda
        self.n_threads, self.monitor = n_threads, monitor
        self.test = net._examples(test_data, "test_data") if test_data else None
        self.evald = (net._examples(evaluation_data, "evaluation_data")
                      if evaluation_data else None)
        # network.py evaluates test_data after every epoch to print it.
        self.measure_test = self.test is not None and (verbose or has_callbacks)
        self.lists = ([], [], [], [])
        self.test_correct = None

    def keys(self):
        """The history's keys beyond the ones every epoch has."""
        m = self.monitor
        return ((("test_accuracy",) if self.measure_test else ())
                + (("training_cost",) if m["monitor_training_cost"] else ())
                + (("train_accuracy",) if m["monitor_training_accuracy"] else ())
                + (("val_cost",) if self.evald is not None and m["monitor_evaluation_cost"]
                   else ())
                + (("val_accuracy",) if self.evald is not None
                   and m["monitor_evaluation_accuracy"] else ()))

    def measure(self, epoch):
        """After each epoch: what is monitored, into the lists and the
        history row (accuracies there as fractions).  One forward pass per
        data set, whether its cost, its accuracy or both are monitored."""
        m, row = self.monitor, {}
        ev_cost, ev_acc, tr_cost, tr_acc = self.lists
        outputs = {}

        def output(data):
            if id(data) not in outputs:
                outputs[id(data)] = self.net._forward(data[0], self.n_threads)
            return outputs[id(data)]

        def correct(data):
            X, T, labels = data
            return int(np.sum(labels_of(output(data))
                              == (labels if labels is not None else labels_of(T))))

        def total(data):
            X, T, labels = data
            return self.net._cost_of_outputs(output(data), T, labels, self.lmbda)

        test, evald, n = self.test, self.evald, self.train[0].shape[0]
        if self.measure_test:
            self.test_correct = correct(test)
            row["test_accuracy"] = self.test_correct / test[0].shape[0]
        if m["monitor_training_cost"]:
            tr_cost.append(total(self.train))
            row["training_cost"] = tr_cost[-1]
        if m["monitor_training_accuracy"]:
            tr_acc.append(correct(self.train))
            row["train_accuracy"] = tr_acc[-1] / n
        if evald is not None and m["monitor_evaluation_cost"]:
            ev_cost.append(total(evald))
            row["val_cost"] = ev_cost[-1]
        if evald is not None and m["monitor_evaluation_accuracy"]:
            ev_acc.append(correct(evald))
            row["val_accuracy"] = ev_acc[-1] / evald[0].shape[0]
        return row

    def print_epoch(self, net, epoch, row):
        """The book's lines for an epoch (counted from 0, as the book prints)."""
        out, j, m = sys.stdout, epoch - 1, self.monitor
        ev_cost, ev_acc, tr_cost, tr_acc = self.lists
        if self.measure_test:
            print(f"Epoch {j}: {self.test_correct} / {self.test[0].shape[0]}", file=out,
                  flush=True)
        else:
            print(f"Epoch {j} training complete" if self.evald else f"Epoch {j} complete",
                  file=out, flush=True)
        if m["monitor_training_cost"]:
            print(f"Cost on training data: {tr_cost[-1]}", file=out)
        if m["monitor_training_accuracy"]:
            print(f"Accuracy on training data: {tr_acc[-1]} / {self.train[0].shape[0]}",
                  file=out)
        if self.evald is not None and m["monitor_evaluation_cost"]:
            print(f"Cost on evaluation data: {ev_cost[-1]}", file=out)
        if self.evald is not None and m["monitor_evaluation_accuracy"]:
            print(f"Accuracy on evaluation data: {ev_acc[-1]} / {self.evald[0].shape[0]}",
                  file=out)


class _PortEarlyStopping:
    """The Python 3 port's early_stopping_n: the accuracy monitored last
    (evaluation, else training), against the best so far; stop after n
    epochs without a rise."""

    def __init__(self, run, n):
        self.run, self.n = run, n
        self.best, self.stale = None, 0

    def __call__(self, net, epoch, row):
        ev_acc, tr_acc = self.run.lists[1], self.run.lists[3]
        watched = ev_acc[-1] if ev_acc else tr_acc[-1]
        if self.best is None or watched > self.best:
            self.best, self.stale = watched, 0
        else:
            self.stale += 1
        return self.stale == self.n
