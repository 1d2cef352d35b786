"""Drop-in replacement for the ``mnist_loader`` module of Nielsen's book.

*Neural Networks and Deep Learning* loads MNIST from a pickle,
``mnist.pkl.gz``. This module gives the same three functions, reading the
original IDX files through :mod:`cnet.datasets` instead, so the book's code
runs unchanged (in Python 3)::

    from cnet import mnist_loader
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

The data folder is ``path``, else the ``CNET_DATA_DIR`` environment variable
(see :func:`cnet.datasets.data_dir`). Offline, use
:func:`cnet.datasets.load_sample` with :func:`cnet.datasets.to_tuples`.
"""

import numpy as np

from cnet.datasets import load_mnist, to_tuples

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]


def load_data(path=None):
    """Return MNIST as ``(training_data, validation_data, test_data)``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding the four MNIST IDX files; default ``CNET_DATA_DIR``.

    Returns
    -------
    training_data, validation_data, test_data : tuple of (ndarray, ndarray)
        Each a pair ``(X, y)``: ``X`` float32 of shape ``(n_samples, 784)``
        with pixels in [0, 1], ``y`` int64 of shape ``(n_samples,)``. The book's
        split: 50,000 training, the last 10,000 training images as
        validation, and the 10,000 test images.
    """
    return load_mnist(path, split="book", dtype="float32")


def load_data_wrapper(path=None):
    """Return MNIST as lists of ``(x, y)`` pairs, the book's network format.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding the four MNIST IDX files; default ``CNET_DATA_DIR``.

    Returns
    -------
    training_data : list of tuple
        50,000 pairs ``(x, y)``: ``x`` of shape (784, 1), ``y`` the one-hot
        column of shape (10, 1) for the digit.
    validation_data, test_data : list of tuple
        10,000 pairs ``(x, y)`` each: ``x`` of shape (784, 1), ``y`` the
        digit as an int.
    """
    training, validation, test = load_data(path)
    return (
        to_tuples(*training, one_hot=True),
        to_tuples(*validation, one_hot=False),
        to_tuples(*test, one_hot=False),
    )


def vectorized_result(j):
    """Return a (10, 1) float64 column with 1.0 at index ``j`` and zeros elsewhere.

    Parameters
    ----------
    j : int
        A digit, 0..9.

    Returns
    -------
    e : ndarray of shape (10, 1)
    """
    if not 0 <= j <= 9:
        raise ValueError(f"j must be a digit in 0..9, got {j!r}")
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e
