"""Drop-in replacement for the ``mnist_loader`` module of Nielsen's book.

*Neural Networks and Deep Learning* loads MNIST from a pickle,
``../data/mnist.pkl.gz``.  This module gives the same three functions, so
the book's code runs unchanged (in Python 3)::

    from cnet.book import mnist_loader
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()

Where the data comes from, first found first: ``path`` if given (a folder
holding the IDX files, or an ``mnist.pkl.gz`` file); the book's
``../data/mnist.pkl.gz`` (relative to the working directory, as the book's
scripts open it) or ``mnist.pkl.gz`` in the working directory (as the
Python 3 port keeps it); then ``CNET_DATA_DIR`` and the per-user cache,
downloading into the cache if missing (see :mod:`cnet.datasets`).  The
pickle is read by :func:`cnet.datasets.load_mnist_pkl`, which builds NumPy
arrays and nothing else.  Offline, without any of these, use
:func:`cnet.datasets.load_sample` with :func:`cnet.datasets.to_tuples`.
"""

from pathlib import Path

import numpy as np

from cnet.datasets import load_mnist, load_mnist_pkl, to_tuples

# Where the book's scripts (src/, with the data in ../data/) and the Python 3
# port (everything in one folder) keep the pickle.
BOOK_PICKLES = ("../data/mnist.pkl.gz", "mnist.pkl.gz")

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]


def load_data(path=None, *, download=True):
    """Return MNIST as ``(training_data, validation_data, test_data)``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding the four MNIST IDX files, or the book's
        ``mnist.pkl.gz`` file.  Default: ``../data/mnist.pkl.gz`` or
        ``./mnist.pkl.gz`` if there, else ``CNET_DATA_DIR``, then the cache.
    download : bool, default True
        Download MNIST into the cache if it is found nowhere (only without
        ``path``).

    Returns
    -------
    training_data, validation_data, test_data : tuple of (ndarray, ndarray)
        Each a pair ``(X, y)``: ``X`` float32 of shape ``(n_samples, 784)``
        with pixels in [0, 1], ``y`` int64 of shape ``(n_samples,)``. The book's
        split: 50,000 training, the last 10,000 training images as
        validation, and the 10,000 test images.
    """
    if path is None:
        path = next((p for p in BOOK_PICKLES if Path(p).is_file()), None)
    if path is not None and Path(path).expanduser().is_file():
        return load_mnist_pkl(Path(path).expanduser())
    return load_mnist(path, split="book", dtype="float32", download=download)


def load_data_wrapper(path=None, *, download=True):
    """Return MNIST as lists of ``(x, y)`` pairs, the book's network format.

    Parameters
    ----------
    path, download
        As for :func:`load_data`.

    Returns
    -------
    training_data : list of tuple
        50,000 pairs ``(x, y)``: ``x`` of shape (784, 1), ``y`` the one-hot
        column of shape (10, 1) for the digit.
    validation_data, test_data : list of tuple
        10,000 pairs ``(x, y)`` each: ``x`` of shape (784, 1), ``y`` the
        digit as an int.
    """
    training, validation, test = load_data(path, download=download)
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
