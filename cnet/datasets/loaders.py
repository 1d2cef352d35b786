"""The loaders: MNIST, Fashion-MNIST, CIFAR-10 and the shipped MNIST
sample as float arrays in [0, 1] with int64 labels, in the standard or the
book's split, and the book's list-of-pairs format."""
from pathlib import Path

import numpy as np

from .formats import (
    _CIFAR_RECORD,
    _CIFAR_TEST,
    _CIFAR_TRAIN,
    _check_options,
    _read_cifar_batch,
    read_idx,
)
from .search import _MNIST_FILES, _cifar_folder, _find_file, _idx_folder

# The shipped sample: the first 10,000 training and 2,000 test examples of
# MNIST, written by tools/make_mnist_sample.py.
_SAMPLE_DIR = Path(__file__).parent / "data" / "mnist_sample"


def load_mnist(path=None, *, split="standard", dtype="float32", flatten=True,
               download=True, mirrors=None):
    """Load MNIST from its four IDX files, downloading them if needed.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each raw or gzipped with a ``.gz``
        suffix (the raw file is used if both exist). Default: search
        ``CNET_DATA_DIR`` and then the cache, see the module docs.
    split : {"standard", "book"}, default "standard"
        "standard": 60,000 training and 10,000 test examples.
        "book": Nielsen's split; the first 50,000 training examples train,
        the last 10,000 validate, and the 10,000 test examples test.
    dtype : {"float32", "float64"}, default "float32"
        Floating type of the images.
    flatten : bool, default True
        If True, each image is a row of 784 pixels; else a 28x28 array.
    download : bool, default True
        If the files are in none of the searched folders, download them into
        the cache (MD5-verified). Never done when ``path`` is given.
    mirrors : list of str, optional
        Base URLs to download from, tried in order; default
        ``MIRRORS["mnist"]``.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of (ndarray, ndarray)
        For ``split="standard"``. ``X`` is C-contiguous of shape
        ``(n_samples, 784)`` (or ``(n_samples, 28, 28)`` if not ``flatten``)
        with pixels scaled to [0, 1] by /255; ``y`` is int64 of shape
        ``(n_samples,)`` with labels 0..9.
    (X_train, y_train), (X_val, y_val), (X_test, y_test)
        For ``split="book"``. The training and validation arrays are views
        of disjoint rows of the full training set.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the four files is missing (and not
        downloaded); the message says how to get them.
    DownloadError
        If a download failed or the cache folder is not writable
        (:class:`ChecksumError` for a file with the wrong MD5).
    ValueError
        If ``split`` is unknown or a file is invalid: bad IDX, images not
        28x28 bytes, image and label counts differ, or a label outside 0..9.
    TypeError
        If ``dtype`` is not float32 or float64.
    """
    dtype = _check_options(split, dtype)
    folder = _idx_folder("mnist", path, download, mirrors)
    return _load_dir(folder, split, dtype, flatten, n_val=10_000, title="MNIST")


def load_fashion_mnist(path=None, *, split="standard", dtype="float32", flatten=True,
                       download=True, mirrors=None):
    """Load Zalando's Fashion-MNIST, downloading it if needed.

    Same files, shapes and options as :func:`load_mnist`: 28x28 grey images
    of 10 kinds of clothing (0 T-shirt/top, 1 trouser, 2 pullover, 3 dress,
    4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot), 60,000 for
    training and 10,000 for testing; ``split="book"`` holds out the last
    10,000 training images for validation.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding the four IDX files (raw or ``.gz``). Default: search
        ``CNET_DATA_DIR/fashion-mnist``, then ``/usr/share/datasets/fashion-mnist``
        (Debian's ``dataset-fashion-mnist`` package), then the cache.
    split, dtype, flatten, download
        As for :func:`load_mnist`.
    mirrors : list of str, optional
        Base URLs to download from; default ``MIRRORS["fashion-mnist"]``.

    Returns
    -------
    Same as :func:`load_mnist`.
    """
    dtype = _check_options(split, dtype)
    folder = _idx_folder("fashion-mnist", path, download, mirrors)
    return _load_dir(folder, split, dtype, flatten, n_val=10_000, title="Fashion-MNIST")


def load_cifar10(path=None, *, dtype="float32", download=True, split="standard",
                 flatten=True, mirrors=None):
    """Load CIFAR-10 from its binary distribution, downloading it if needed.

    The binary version (``cifar-10-binary.tar.gz``, folder
    ``cifar-10-batches-bin``) holds ``data_batch_1.bin`` ...
    ``data_batch_5.bin`` (training, in that order) and ``test_batch.bin``;
    each is a run of 3073-byte records: one label byte, then 3072 pixel
    bytes. No pickle is involved. The archive is downloaded into the cache,
    its MD5 checked, the six files extracted (only those names) and the
    archive deleted.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding ``cifar-10-batches-bin/`` or the six ``.bin`` files.
        Default: search ``CNET_DATA_DIR`` (itself or ``cifar-10/``), then the
        cache.
    dtype : {"float32", "float64"}, default "float32"
        Floating type of the images.
    download : bool, default True
        Download into the cache if not found. Never done when ``path`` is
        given.
    split : {"standard", "book"}, default "standard"
        "standard": 50,000 training and 10,000 test images. "book": the last
        10,000 training images are held out for validation (40,000 train).
    flatten : bool, default True
        If True, each image is a row of 3072 values; else a (3, 32, 32) array.
    mirrors : list of str, optional
        Base URLs to download from; default ``MIRRORS["cifar-10"]``.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of (ndarray, ndarray)
        For ``split="standard"``. ``X`` of shape ``(n_samples, 3072)`` in the
        file's order, channel-major: the 32x32 red plane (1024 values, rows
        top to bottom), then green, then blue, so
        ``X.reshape(-1, 3, 32, 32)`` is (channel, row, column) and
        ``.transpose(0, 2, 3, 1)`` gives height x width x RGB images. Pixels
        are scaled to [0, 1] by /255. ``y`` is int64 of shape
        ``(n_samples,)``, indices into :data:`CIFAR10_CLASSES`.
    (X_train, y_train), (X_val, y_val), (X_test, y_test)
        For ``split="book"``.

    Raises
    ------
    FileNotFoundError
        If the files are missing (and not downloaded).
    DownloadError
        If a download failed or the cache folder is not writable.
    ValueError
        If a batch file is truncated or corrupt (its size is not a positive
        multiple of 3073 bytes, or a label is above 9), or the archive is bad.
    """
    dtype = _check_options(split, dtype)
    folder = _cifar_folder(path, download, mirrors)
    train = _stack_cifar([folder / name for name in _CIFAR_TRAIN], dtype, flatten)
    test = _stack_cifar([folder / _CIFAR_TEST], dtype, flatten)
    return _split(train, test, split, n_val=10_000, source=folder / _CIFAR_TRAIN[0])


def load_sample(*, split="standard", dtype="float32", flatten=True):
    """Load the small MNIST sample shipped with cnet (no download needed).

    The sample is real MNIST: the first 10,000 training examples and the
    first 2,000 test examples, stored as gzipped IDX files under
    ``cnet/datasets/data/mnist_sample/``.

    Parameters
    ----------
    split : {"standard", "book"}, default "standard"
        "standard": 10,000 training and 2,000 test examples.
        "book": the first 8,000 training examples train, the last 2,000
        validate, and the 2,000 test examples test (the book's split,
        scaled down).
    dtype : {"float32", "float64"}, default "float32"
        Floating type of the images.
    flatten : bool, default True
        If True, each image is a row of 784 pixels; else a 28x28 array.

    Returns
    -------
    Same as :func:`load_mnist`, with the sizes above.
    """
    dtype = _check_options(split, dtype)
    return _load_dir(_SAMPLE_DIR, split, dtype, flatten, n_val=2_000, title="MNIST")


def to_tuples(X, y, *, one_hot=None, n_classes=10):
    """Convert arrays to the list-of-``(x, y)`` format of Nielsen's book.

    Mirrors ``mnist_loader.load_data_wrapper``: training data pairs each
    input column with a one-hot target column; validation and test data pair
    it with the plain integer label.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_in) or (n_samples, ...)
        Floating-point inputs; each sample is flattened to ``n_in`` values.
    y : ndarray of shape (n_samples,) or (n_samples, n_out)
        Integer labels, or (only with ``one_hot=None``) target vectors.
    one_hot : bool or None, default None
        True: each target is a one-hot float column of shape
        ``(n_classes, 1)`` (the book's training format).
        False: each target is a Python int (validation/test format).
        None: decided by ``y``: 1-d labels give ints, 2-d ``y`` gives each
        row as an ``(n_out, 1)`` column.
    n_classes : int, default 10
        Length of the one-hot vectors.

    Returns
    -------
    data : list of tuple
        ``n_samples`` pairs ``(x, target)``; ``x`` has shape ``(n_in, 1)``
        and is a view into ``X`` when ``X`` is contiguous. One-hot targets
        have ``X``'s dtype and are views into one shared array.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"X must be a floating-point array, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n_samples, n_in), got {X.shape}")
    if y.ndim not in (1, 2) or len(y) != len(X):
        raise ValueError(
            f"y must have shape ({len(X)},) or ({len(X)}, n_out) to match X, "
            f"got {y.shape}"
        )
    # (n, n_in, 1): row i is already the column vector x_i, no per-sample copy.
    columns = X.reshape(len(X), -1)[:, :, np.newaxis]

    if y.ndim == 2:
        if one_hot is not None:
            raise ValueError(
                f"one_hot must be None when y holds target vectors, got {one_hot!r}"
            )
        return list(zip(columns, y[:, :, np.newaxis]))
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer labels, got dtype {y.dtype}")
    if not one_hot:
        return list(zip(columns, y.tolist()))
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"labels must be in 0..{n_classes - 1} for one-hot targets, "
            f"got values from {y.min()} to {y.max()}"
        )
    targets = np.zeros((len(y), n_classes, 1), dtype=X.dtype)
    targets[np.arange(len(y)), y, 0] = 1.0
    return list(zip(columns, targets))


def _load_pair(images_path, labels_path, dtype, flatten, title):
    """Read one images file and its labels file as ``(X, y)``."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{images_path} must hold 28x28 unsigned-byte images, got shape "
            f"{images.shape} of {images.dtype}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{labels_path} must hold a 1-d array of unsigned-byte labels, got "
            f"shape {labels.shape} of {labels.dtype}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels"
        )
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(
            f"{labels_path} has label {labels[bad[0]]} at index {bad[0]}; "
            f"{title} labels must be in 0..9"
        )
    if flatten:
        images = images.reshape(len(images), 28 * 28)
    X = images.astype(dtype, order="C")
    X /= 255  # exact integers divided once: correctly rounded in either dtype
    return X, labels.astype(np.int64)


def _load_dir(directory, split, dtype, flatten, n_val, title):
    """Load the four IDX files in ``directory`` (options already checked).

    ``n_val`` is the number of training examples "book" holds out.
    """
    files = {key: _find_file(directory, name) for key, name in _MNIST_FILES.items()}
    train = _load_pair(files["train_images"], files["train_labels"], dtype, flatten, title)
    test = _load_pair(files["test_images"], files["test_labels"], dtype, flatten, title)
    return _split(train, test, split, n_val, files["train_images"])


def _split(train, test, split, n_val, source):
    """``(train, test)`` or, for "book", the last ``n_val`` training rows
    held out: ``(train, validation, test)``."""
    if split == "standard":
        return train, test
    X, y = train
    n_train = len(X) - n_val
    if n_train <= 0:
        raise ValueError(
            f"split='book' holds out the last {n_val} training examples for "
            f"validation, but {source} holds only {len(X)}"
        )
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:]), test


def _stack_cifar(paths, dtype, flatten):
    """One ``(X, y)`` from batch files, in order."""
    batches = [_read_cifar_batch(path) for path in paths]
    n_samples = sum(len(labels) for _, labels in batches)
    X = np.empty((n_samples, _CIFAR_RECORD - 1), dtype=dtype)
    row = 0
    for pixels, _ in batches:
        X[row : row + len(pixels)] = pixels
        row += len(pixels)
    X /= 255
    y = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    return (X if flatten else X.reshape(n_samples, 3, 32, 32)), y
