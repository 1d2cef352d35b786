"""Data sets: MNIST, Fashion-MNIST and CIFAR-10, found on disk or downloaded.

Everything is read with NumPy alone, checked strictly (a truncated download
should fail loudly, not train on zeros) and returned as float arrays scaled
to [0, 1] with int64 labels:

- :func:`load_mnist` and :func:`load_fashion_mnist` read the four IDX files
  (raw or gzipped) of MNIST / Fashion-MNIST, in the "standard" 60,000/10,000
  split or the "book" split of Nielsen's *Neural Networks and Deep Learning*
  (50,000 train / 10,000 validation / 10,000 test).
- :func:`load_cifar10` reads CIFAR-10's binary distribution (no pickle).
- :func:`load_mnist_pkl` reads the book's own ``mnist.pkl.gz`` with an
  unpickler that can build NumPy arrays and nothing else.
- :func:`load_sample` loads a small slice of real MNIST shipped with cnet, so
  examples and tests run offline.
- :func:`to_tuples` converts arrays to the book's list-of-``(x, y)`` format.
- :func:`read_idx` reads one IDX file into a NumPy array.

Where the files are looked for, first hit wins:

1. ``path=``, if given: that folder only; nothing is ever downloaded into it.
2. ``CNET_DATA_DIR``: the folder itself (MNIST, CIFAR-10) or its subfolder
   named like the cache's (``mnist/``, ``fashion-mnist/``, ``cifar-10/``).
   Fashion-MNIST is only looked for in the subfolder: its files have MNIST's
   names. Never downloaded into.
3. Known system folders: ``/usr/share/datasets/fashion-mnist``, where
   Debian's ``dataset-fashion-mnist`` package installs Fashion-MNIST.
4. The per-user cache, :func:`cache_dir`: ``CNET_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/cnet`` or ``~/.cache/cnet`` (Linux),
   ``~/Library/Caches/cnet`` (macOS), ``%LOCALAPPDATA%\\cnet\\Cache``
   (Windows), with one subfolder per data set. With ``download=True`` (the
   default) missing files are downloaded there from the mirrors in
   :data:`MIRRORS` and their MD5 verified before they are used; see
   :mod:`cnet._download` for the retry, resume and atomic-rename rules.

The package's modules: :mod:`~cnet.datasets.loaders` (the loaders),
:mod:`~cnet.datasets.search` (where files are looked for, mirrors, sums) and
:mod:`~cnet.datasets.formats` (the file formats).
"""
from .._download import ChecksumError, DownloadError, cache_dir
from .formats import CIFAR10_CLASSES, UnsafePickleError, load_mnist_pkl, read_idx
from .loaders import (
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    load_sample,
    to_tuples,
)
from .search import _CHECKSUMS, _SYSTEM_DIRS, MIRRORS, data_dir  # noqa: F401 (tests patch them)

__all__ = [
    "load_mnist", "load_fashion_mnist", "load_cifar10", "load_mnist_pkl", "load_sample",
    "to_tuples", "read_idx", "data_dir", "cache_dir", "DownloadError", "ChecksumError",
    "UnsafePickleError", "MIRRORS", "CIFAR10_CLASSES",
]
