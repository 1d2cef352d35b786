"""Drop-in replacement for ``network2.py`` of Nielsen's book (chapter 3).

The book's module, with its names, signatures and defaults -- the
cross-entropy cost, weights drawn from N(0, 1/n_in) and biases from
N(0, 1), L2 regularisation ``lmbda``, ``evaluation_data`` and the four
``monitor_*`` flags, ``save`` writing network2.py's JSON and ``load``
reading it -- with its sources of randomness (``np.random.randn``,
``random.shuffle``), trained by cnet's compiled epoch::

    >>> from cnet.book import network2, mnist_loader
    >>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    >>> net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    >>> net.SGD(training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
    ...         monitor_evaluation_accuracy=True)

Next to the book's scripts, a file ``network2.py`` holding the one line
``from cnet.book.network2 import *`` makes them use this module unchanged.
Also the Python 3 port's ``early_stopping_n``.
"""
import json

import numpy as np

from .. import costs
from ..saving import _atomic_write, read_network2_json
from ._base import BookNetwork, sigmoid, sigmoid_prime
from .mnist_loader import vectorized_result

__all__ = ["QuadraticCost", "CrossEntropyCost", "Network", "load", "vectorized_result",
           "sigmoid", "sigmoid_prime"]


class QuadraticCost:
    """C = ||a - y||^2 / 2 for one output column ``a`` and target ``y``."""

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` for desired output ``y``."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """The error delta of the output layer."""
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    """C = -sum[y ln a + (1 - y) ln(1 - a)] for one output column ``a``."""

    @staticmethod
    def fn(a, y):
        """The cost of output ``a`` for desired output ``y`` (``nan_to_num``:
        a 1.0 in the same slot of ``a`` and ``y`` costs 0, not NaN)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """The error delta of the output layer: a - y (z is not used)."""
        return a - y


# The kernels train these as cnet's own costs of the same name.
costs.register(QuadraticCost, costs.QuadraticCost)
costs.register(CrossEntropyCost, costs.CrossEntropyCost)


class Network(BookNetwork):
    """network2.py's ``Network(sizes, cost=CrossEntropyCost)``.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.
    cost : QuadraticCost or CrossEntropyCost, the class or an instance

    Attributes
    ----------
    num_layers, sizes
    cost
        The cost as given (``net.cost.fn(a, y)`` works as in the book);
        assigning another changes what the next ``SGD`` trains.
    biases : list of ndarray (n_out, 1)
    weights : list of ndarray (n_out, n_in)
        From :meth:`default_weight_initializer`; views of cnet's storage.
    """

    def __init__(self, sizes, cost=CrossEntropyCost):
        super().__init__(sizes, cost=cost, init="scaled_normal")
        self.cost = cost

    @property
    def cost(self):
        return self._book_cost

    @cost.setter
    def cost(self, cost):
        self._cost = costs.resolve(cost, self.output_activation)
        self._book_cost = cost

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0,
            evaluation_data=None, monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False, monitor_training_cost=False,
            monitor_training_accuracy=False, early_stopping_n=0, *, n_threads=None,
            verbose=True, callbacks=None, optimizer=None, schedule=None, l1=0.0, dropout=None):
        """Train by mini-batch stochastic gradient descent with L2 ``lmbda``.

        ``training_data``: a list of ``(x, y)``, ``y`` the desired output
        column; ``evaluation_data``: pairs ``(x, digit)``.  After each epoch
        the monitored costs and accuracies are computed (costs include the
        L2 term (lmbda / 2n) sum ||w||^2) and printed.  ``early_stopping_n``
        (the Python 3 port's): stop once the accuracy monitored has not
        risen for that many epochs (0: never).

        Returns
        -------
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy : list
            One entry per epoch for each monitored quantity, else empty;
            accuracies are counts of correct answers, as in the book.

        Keyword-only, beyond the book: ``n_threads``, ``verbose``,
        ``callbacks``, ``optimizer``, ``schedule``, ``l1``, ``dropout`` (as
        for :meth:`cnet.Network.fit`).
        """
        return self._book_sgd(
            training_data, epochs, mini_batch_size, eta, lmbda, test_data=None, shuffle=True,
            evaluation_data=evaluation_data, n_threads=n_threads, verbose=verbose,
            callbacks=callbacks, early_stopping_n=early_stopping_n, optimizer=optimizer,
            schedule=schedule, l1=l1, dropout=dropout,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy)

    def save(self, filename):
        """Save the network to ``filename`` as network2.py's JSON: ``sizes``,
        ``weights`` and ``biases`` as nested lists, and ``cost`` the class
        name.  Written to a temporary file and renamed, so an existing file
        is never left half-written."""
        cost = self._book_cost if isinstance(self._book_cost, type) else type(self._book_cost)
        data = {"sizes": list(self.sizes),
                "weights": [w.tolist() for w in self.weights],
                "biases": [b.tolist() for b in self.biases],
                "cost": cost.__name__}
        text = json.dumps(data)
        _atomic_write(filename, lambda f: f.write(text.encode()))


def load(filename):
    """Load a network saved by :meth:`Network.save` or by network2.py.

    Returns
    -------
    Network
        A network2 ``Network`` with the file's sizes, cost, weights and
        biases.  As network2.py's ``load``, it is made by ``Network(sizes,
        cost)`` first, which draws initial weights from ``np.random``.

    Raises
    ------
    cnet.ModelFileError
        The file is not network2.py's JSON, or its contents do not fit.
    """
    sizes, cost_name, weights, biases = read_network2_json(filename)
    net = Network(sizes, cost={"QuadraticCost": QuadraticCost,
                               "CrossEntropyCost": CrossEntropyCost}[cost_name])
    net.weights = weights
    net.biases = biases
    return net
