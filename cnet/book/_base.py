"""What the book's two networks share: randomness drawn where the book draws
it, so that a run follows Nielsen's code run with the same seeds.

* Initial parameters from NumPy's global generator, ``np.random.randn``,
  biases first, then weights, layer by layer, line for line as network.py
  and network2.py draw them (so ``np.random.seed(s)`` fixes them).
* The sample order from Python's ``random.shuffle``: the book shuffles its
  list of examples in place each epoch; the same swaps applied to a list of
  indices give the order in which the compiled epoch then takes the rows
  (so ``random.seed(s)`` fixes it).  As in the Python 3 port, each ``SGD``
  call starts from the examples in the order given (it shuffles a copy).

Everything else -- the epoch itself, forward and backward through all
layers -- is cnet's compiled code.
"""
import random

import numpy as np

from ..network import Network


class BookNetwork(Network):
    """A cnet.Network whose randomness comes from where the book's comes."""

    _book_order = None  # the book's list of examples, as indices, while SGD runs

    def _initialize(self, init):
        sizes = self.sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        if init == "normal":  # network.py; network2.py's large_weight_initializer
            self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
        else:  # network2.py's default_weight_initializer
            self.weights = [np.random.randn(y, x) / np.sqrt(x)
                            for x, y in zip(sizes[:-1], sizes[1:])]

    def _draw_order(self, n):
        if self._book_order is None or len(self._book_order) != n:
            self._book_order = list(range(n))
        random.shuffle(self._book_order)
        return np.array(self._book_order, dtype=np.intp)

    def _random_state(self):
        order = None if self._book_order is None else list(self._book_order)
        return random.getstate(), np.random.get_state(), order

    def _set_random_state(self, state):
        python_state, numpy_state, order = state
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        self._book_order = order

    def _dropout_key(self):
        # The book has no dropout; drawn from NumPy's global generator, as
        # the book's other random numbers, so np.random.seed fixes it.
        return int(np.random.randint(0, 2 ** 62))

    def _book_sgd(self, *args, **kwargs):
        self._book_order = None  # the port's SGD shuffles a fresh copy of its list
        try:
            return super()._book_sgd(*args, **kwargs)
        finally:
            self._book_order = None


def sigmoid(z):
    """The sigmoid function."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid function."""
    return sigmoid(z) * (1 - sigmoid(z))
