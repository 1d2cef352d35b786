"""Drop-in replacement for ``network.py`` of Nielsen's book (chapter 1).

The book's module, with its names, signatures and defaults -- sigmoid
neurons, the quadratic cost, weights and biases drawn from N(0, 1) -- and
its sources of randomness (``np.random.randn`` for the initial parameters,
``random.shuffle`` for the order of the examples), trained by cnet's
compiled epoch::

    >>> from cnet.book import network, mnist_loader
    >>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    >>> net = network.Network([784, 30, 10])
    >>> net.SGD(training_data, 30, 10, 3.0, test_data=test_data)
    Epoch 0: 9129 / 10000
    ...

Next to the book's scripts, a file ``network.py`` holding the one line
``from cnet.book.network import *`` makes them use this module unchanged.
"""
from ._base import BookNetwork, sigmoid, sigmoid_prime
from ._surface import MONITORS

__all__ = ["Network", "sigmoid", "sigmoid_prime"]


class Network(BookNetwork):
    """network.py's ``Network(sizes)``: sigmoid layers, quadratic cost.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first, e.g. ``[784, 30, 10]``.

    Attributes
    ----------
    num_layers, sizes
    biases : list of ndarray (n_out, 1)
    weights : list of ndarray (n_out, n_in)
        Drawn from ``np.random.randn`` in the book's order (biases, then
        weights); views of cnet's storage, so editing them takes effect.

    Methods beyond the book's (``feedforward``, ``SGD``,
    ``update_mini_batch``, ``backprop``, ``evaluate``, ``cost_derivative``)
    are cnet's: ``fit``, ``forward``, ``predict``, ``save``, ...
    """

    def __init__(self, sizes):
        super().__init__(sizes)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None, *,
            n_threads=None, verbose=True, callbacks=None, optimizer=None, schedule=None,
            l1=0.0, dropout=None):
        """Train by mini-batch stochastic gradient descent.

        ``training_data`` is a list of ``(x, y)`` pairs, ``x`` of shape
        (n_in, 1) and ``y`` the desired output (n_out, 1).  With
        ``test_data`` (pairs ``(x, digit)``), the number of test inputs
        classified correctly is printed after each epoch
        (``Epoch 0: 9129 / 10000``), else ``Epoch 0 complete``.  Each epoch
        shuffles the examples with ``random.shuffle`` as the book does.

        Keyword-only, beyond the book: ``n_threads`` (None: the cores
        available), ``verbose`` (False: print nothing), ``callbacks``,
        ``optimizer``, ``schedule``, ``l1``, ``dropout`` (as for
        :meth:`cnet.Network.fit`).  Returns network2.py's four lists (empty
        here: nothing is monitored).
        """
        return self._book_sgd(
            training_data, epochs, mini_batch_size, eta, 0.0, test_data=test_data,
            shuffle=True, evaluation_data=None, n_threads=n_threads, verbose=verbose,
            callbacks=callbacks, early_stopping_n=0, optimizer=optimizer, schedule=schedule,
            l1=l1, dropout=dropout,
            **dict.fromkeys(MONITORS, False))
