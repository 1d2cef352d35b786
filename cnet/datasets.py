"""Data sets: the MNIST digits, read from their original IDX files.

MNIST comes as four IDX files (``train-images-idx3-ubyte`` and friends), each
either raw or gzipped. This module reads them with NumPy alone, checks them
strictly (a truncated download should fail loudly, not train on zeros) and
returns float arrays scaled to [0, 1]:

- :func:`read_idx` reads one IDX file into a NumPy array.
- :func:`data_dir` finds the folder holding the files (``path=`` argument,
  else the ``CNET_DATA_DIR`` environment variable).
- :func:`load_mnist` loads the full data set in the "standard" 60,000/10,000
  split or the "book" split of Nielsen's *Neural Networks and Deep Learning*
  (50,000 train / 10,000 validation / 10,000 test).
- :func:`load_sample` loads a small slice of real MNIST shipped with cnet, so
  examples and tests run offline.
- :func:`to_tuples` converts arrays to the book's list-of-``(x, y)`` format.
"""

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "data_dir", "load_mnist", "load_sample", "to_tuples"]

# IDX type code (third magic byte) -> element type. IDX stores multi-byte
# values big-endian, whatever the machine that wrote them.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# The shipped sample: the first 10,000 training and 2,000 test examples of
# MNIST, written by tools/make_mnist_sample.py.
_SAMPLE_DIR = Path(__file__).parent / "data" / "mnist_sample"


def read_idx(path):
    """Read an IDX file (raw or gzipped) into a NumPy array.

    Gzip is recognised by its magic bytes ``1f 8b``, not by the file name.
    The file is checked strictly: the magic number, the type code, and that
    the data is exactly as long as the dimensions in the header say.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    array : ndarray of shape ``(d_0, ..., d_{ndim-1})`` from the header
        A new, writable array in native byte order, of dtype uint8, int8,
        int16, int32, float32 or float64 (IDX type codes 0x08, 0x09, 0x0B,
        0x0C, 0x0D, 0x0E).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not valid gzip, not an IDX file, has an unsupported
        type code, or is truncated or followed by trailing bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None

    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        # BadGzipFile is an OSError; a cut-off stream is an EOFError.
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc

    if len(raw) < 4:
        raise ValueError(
            f"{path} is too short to be an IDX file: {len(raw)} bytes, "
            "expected at least a 4-byte magic number"
        )
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path} has wrong magic number 0x{raw[:4].hex()}: not an IDX file "
            "(its first two bytes must be zero)"
        )
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        supported = ", ".join(f"0x{code:02x}" for code in _IDX_DTYPES)
        raise ValueError(
            f"{path} has unsupported data type code 0x{type_code:02x}; "
            f"supported codes are {supported}"
        )
    if ndim == 0:
        raise ValueError(f"{path} has 0 dimensions; an IDX array needs at least 1")

    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"{path} is truncated: its header needs {header_size} bytes for "
            f"{ndim} dimensions, found {len(raw)}"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found < expected:
        raise ValueError(
            f"{path} is truncated: expected {expected} bytes of data, "
            f"found {found} (header shape {shape})"
        )
    if found > expected:
        raise ValueError(
            f"{path} has {found - expected} trailing bytes: expected {expected} "
            f"bytes of data, found {found} (header shape {shape})"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    # astype copies: the result is writable and in native byte order.
    return data.astype(dtype.newbyteorder("="))


def data_dir(path=None):
    """Resolve the folder holding the MNIST IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The folder. If None, the ``CNET_DATA_DIR`` environment variable is
        used.

    Returns
    -------
    directory : pathlib.Path

    Raises
    ------
    FileNotFoundError
        If neither ``path`` nor ``CNET_DATA_DIR`` is given, or the folder does
        not exist.
    """
    # All the places data may come from are tried here, in order, so that a
    # download cache can later be added as one more step.
    if path is not None:
        source = "path="
    elif os.environ.get("CNET_DATA_DIR"):
        path, source = os.environ["CNET_DATA_DIR"], "CNET_DATA_DIR"
    else:
        raise FileNotFoundError(
            "No MNIST data directory given: pass path= or set the CNET_DATA_DIR "
            "environment variable to a folder holding train-images-idx3-ubyte, "
            "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
            "t10k-labels-idx1-ubyte (each raw or with .gz). To work offline, "
            "cnet.datasets.load_sample() loads a small MNIST sample shipped "
            "with cnet."
        )
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"MNIST data directory {directory} (from {source}) does not exist "
            "or is not a directory"
        )
    return directory


def load_mnist(path=None, *, split="standard", dtype="float32", flatten=True):
    """Load MNIST from its four IDX files.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each raw or gzipped with a ``.gz``
        suffix (the raw file is used if both exist). Default: the
        ``CNET_DATA_DIR`` environment variable, see :func:`data_dir`.
    split : {"standard", "book"}, default "standard"
        "standard": 60,000 training and 10,000 test examples.
        "book": Nielsen's split; the first 50,000 training examples train,
        the last 10,000 validate, and the 10,000 test examples test.
    dtype : {"float32", "float64"}, default "float32"
        Floating type of the images.
    flatten : bool, default True
        If True, each image is a row of 784 pixels; else a 28x28 array.

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
        If the folder or one of the four files is missing.
    ValueError
        If ``split`` is unknown or a file is invalid: bad IDX, images not
        28x28 bytes, image and label counts differ, or a label outside 0..9.
    TypeError
        If ``dtype`` is not float32 or float64.
    """
    dtype = _check_options(split, dtype)
    return _load_dir(data_dir(path), split, dtype, flatten, n_val=10_000)


def load_sample(*, split="standard", dtype="float32", flatten=True):
    """Load the small MNIST sample shipped with cnet (no download needed).

    The sample is real MNIST: the first 10,000 training examples and the
    first 2,000 test examples, stored as gzipped IDX files under
    ``cnet/data/mnist_sample/``.

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
    return _load_dir(_SAMPLE_DIR, split, dtype, flatten, n_val=2_000)


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


def _check_options(split, dtype):
    """Validate ``split`` and ``dtype`` before any file is read."""
    if split not in ("standard", "book"):
        raise ValueError(f"split must be 'standard' or 'book', got {split!r}")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


def _find_file(directory, name):
    """Return ``directory/name``, raw or with ``.gz``."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory} holds neither {name} nor {name}.gz")


def _load_pair(images_path, labels_path, dtype, flatten):
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
            "MNIST labels must be in 0..9"
        )
    if flatten:
        images = images.reshape(len(images), 28 * 28)
    X = images.astype(dtype, order="C")
    X /= 255  # exact integers divided once: correctly rounded in either dtype
    return X, labels.astype(np.int64)


def _load_dir(directory, split, dtype, flatten, n_val):
    """Load the four MNIST files in ``directory`` (options already checked).

    ``n_val`` is the number of training examples "book" holds out.
    """
    files = {key: _find_file(directory, name) for key, name in _MNIST_FILES.items()}
    train = _load_pair(files["train_images"], files["train_labels"], dtype, flatten)
    test = _load_pair(files["test_images"], files["test_labels"], dtype, flatten)
    if split == "standard":
        return train, test

    X, y = train
    n_train = len(X) - n_val
    if n_train <= 0:
        raise ValueError(
            f"split='book' holds out the last {n_val} training examples for "
            f"validation, but {files['train_images']} holds only {len(X)}"
        )
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:]), test
