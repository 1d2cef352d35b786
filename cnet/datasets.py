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
"""

import gzip
import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from ._download import ChecksumError, DownloadError, cache_dir, ensure_writable
from ._download import extract_members, fetch
from ._fileio import LimitedReader, gzip_errors, open_regular, opened_maybe_gzip, read_at_most

__all__ = [
    "load_mnist", "load_fashion_mnist", "load_cifar10", "load_mnist_pkl", "load_sample",
    "to_tuples", "read_idx", "data_dir", "cache_dir", "DownloadError", "ChecksumError",
    "UnsafePickleError", "MIRRORS", "CIFAR10_CLASSES",
]

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

# Base URLs tried in order; each data set's files are fetched as base + name
# (MNIST and Fashion-MNIST: the four IDX names + ".gz"; CIFAR-10:
# cifar-10-binary.tar.gz). Edit this dict, or pass mirrors= to a loader, to
# use another mirror.
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
    "cifar-10": ["https://www.cs.toronto.edu/~kriz/"],
}

# Expected MD5s. IDX files: of the uncompressed file, so a mirror may gzip it
# any way it likes (Debian's Fashion-MNIST .gz files differ byte-wise from
# Zalando's, yet decompress to the same bytes). MNIST: the published sums.
# Fashion-MNIST: Zalando publishes the .gz sums (8d4fb7e6..., 25c81989...,
# bef4ecab..., bb300cfd...); these are of their decompressed files, the same
# as torchvision's "raw_data" sums and Debian's package content.
# CIFAR-10: the published MD5 of the archive itself (no per-file sums are
# published); its members are then checked by name, type and record format.
_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "cifar-10": {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"},
}

# Folders that packages install data sets into, searched before the cache.
_SYSTEM_DIRS = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],  # Debian/Ubuntu
}

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar-10": "CIFAR-10"}

# CIFAR-10's binary distribution: six files of records of 1 label byte and
# 3072 pixel bytes (the 32x32 red plane, then green, then blue; rows top to
# bottom). Labels index CIFAR10_CLASSES.
_CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"
_CIFAR_DIR = "cifar-10-batches-bin"
_CIFAR_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_CIFAR_TEST = "test_batch.bin"
_CIFAR_RECORD = 1 + 3 * 32 * 32
_CIFAR_MAX_RECORDS = 10_000  # images per batch file in the real distribution
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")

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
    # The header first, then exactly the data it announces: a small file
    # with a huge header, or a gzip bomb behind a small one, is refused
    # before anything is allocated (for a raw file, by its size; for a
    # gzipped one, by inflating one byte more than the header allows).
    with gzip_errors(path), opened_maybe_gzip(path, "IDX file") as (stream, size):
        head = read_at_most(stream, 4)
        if len(head) < 4:
            raise ValueError(
                f"{path} is too short to be an IDX file: {len(head)} bytes, "
                "expected at least a 4-byte magic number"
            )
        if head[0] != 0 or head[1] != 0:
            raise ValueError(
                f"{path} has wrong magic number 0x{head.hex()}: not an IDX file "
                "(its first two bytes must be zero)"
            )
        type_code, ndim = head[2], head[3]
        if type_code not in _IDX_DTYPES:
            supported = ", ".join(f"0x{code:02x}" for code in _IDX_DTYPES)
            raise ValueError(
                f"{path} has unsupported data type code 0x{type_code:02x}; "
                f"supported codes are {supported}"
            )
        if ndim == 0:
            raise ValueError(f"{path} has 0 dimensions; an IDX array needs at least 1")
        dims = read_at_most(stream, 4 * ndim)
        header_size = 4 + 4 * ndim
        if len(dims) < 4 * ndim:
            raise ValueError(
                f"{path} is truncated: its header needs {header_size} bytes for "
                f"{ndim} dimensions, found {4 + len(dims)}"
            )
        shape = struct.unpack(f">{ndim}I", dims)
        dtype = _IDX_DTYPES[type_code]
        expected = math.prod(shape) * dtype.itemsize
        if size is not None:
            found = size - header_size
        else:
            raw = read_at_most(stream, expected + 1)
            found = len(raw)
        if found < expected:
            raise ValueError(
                f"{path} is truncated: expected {expected} bytes of data, "
                f"found {found} (header shape {shape})"
            )
        if found > expected:
            extra = "trailing bytes" if size is None else f"{found - expected} trailing bytes"
            raise ValueError(
                f"{path} has {extra}: expected {expected} bytes of data, "
                f"found {'more' if size is None else found} (header shape {shape})"
            )
        if size is not None:
            raw = read_at_most(stream, expected)
            if len(raw) != expected:  # the file shrank while being read
                raise ValueError(f"{path} changed while being read")
    data = np.frombuffer(raw, dtype=dtype).reshape(shape)
    # astype copies: the result is writable and in native byte order.
    return data.astype(dtype.newbyteorder("="))


def data_dir(path=None):
    """Resolve the folder named by the user for the MNIST IDX files.

    Only ``path`` and ``CNET_DATA_DIR`` are consulted, not the download cache
    (see :func:`cache_dir`); the loaders search both, see the module docs.

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
    if path is not None:
        return _existing_dir(path, "path=", "MNIST")
    if os.environ.get("CNET_DATA_DIR"):
        return _existing_dir(os.environ["CNET_DATA_DIR"], "CNET_DATA_DIR", "MNIST")
    raise FileNotFoundError(
        "No MNIST data directory given: pass path= or set the CNET_DATA_DIR "
        "environment variable to a folder holding train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
        "t10k-labels-idx1-ubyte (each raw or with .gz). To work offline, "
        "cnet.datasets.load_sample() loads a small MNIST sample shipped "
        "with cnet."
    )


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


# mnist.pkl.gz inflates to 220 MB (float32 pixels); twice that for float64.
_PKL_MAX_BYTES = 512 << 20


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle asked for something other than what NumPy arrays need."""


def load_mnist_pkl(path, *, dtype="float32"):
    """Load ``mnist.pkl.gz``, the MNIST file of Nielsen's book, without
    unrestricted unpickling.

    The file is a gzipped Python 2 pickle of ``((X_train, y_train), (X_val,
    y_val), (X_test, y_test))``: 50,000 / 10,000 / 10,000 images as float32
    rows of 784 pixels in [0, 1], labels as int64. A plain ``pickle.load``
    would run any code a tampered file names; here the unpickler can only
    rebuild NumPy arrays of numbers (``numpy.ndarray``, ``numpy.dtype``, the
    array reconstructor under its NumPy 1 and 2 names, and ``_codecs.encode``
    with latin-1, which Python 3 uses for bytes in protocol-2 pickles).
    Anything else is refused before it is called.

    Parameters
    ----------
    path : str or os.PathLike
        ``mnist.pkl.gz`` (gzipped or raw pickle, recognised by content).
    dtype : {"float32", "float64"}, default "float32"
        Floating type of the images.

    Returns
    -------
    (X_train, y_train), (X_val, y_val), (X_test, y_test)
        ``X`` of shape ``(n_samples, 784)`` in [0, 1], ``y`` int64 of shape
        ``(n_samples,)``. :func:`to_tuples` gives the book's list format,
        as ``cnet.mnist_loader.load_data_wrapper(path)`` does.

    Raises
    ------
    UnsafePickleError
        (a ``pickle.UnpicklingError`` and a ``ValueError``) if the file names
        any other global (function or class); the message names it.
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not valid gzip or pickle, or does not hold three
        ``(X, y)`` pairs of numeric arrays with matching lengths, pixels in
        [0, 1] and labels in 0..9.
    """
    dtype = _check_options("standard", dtype)
    path = Path(path)
    # Unpickled as a stream (inflated as the unpickler asks): a damaged or
    # hostile file fails at its first bad opcode, not after inflating it all,
    # and no read may take the total past _PKL_MAX_BYTES.
    try:
        with opened_maybe_gzip(path, "mnist.pkl.gz file") as (stream, size):
            if size is not None and size > _PKL_MAX_BYTES:
                raise ValueError(f"{path} is {size:,} bytes: too large for mnist.pkl.gz "
                                 f"(at most {_PKL_MAX_BYTES:,})")
            reader = LimitedReader(stream, _PKL_MAX_BYTES, path, "mnist.pkl.gz file")
            data = _ArrayUnpickler(reader, path).load()
    except (UnsafePickleError, FileNotFoundError, IsADirectoryError):
        raise
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
    except EOFError as exc:
        if "Compressed file ended" in str(exc):  # gzip's, not the unpickler's
            raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
        raise ValueError(f"{path} is not a valid pickle of NumPy arrays: {exc!r}") from exc
    except ValueError as exc:
        if str(path) in str(exc):  # ours: says what is wrong with the file already
            raise
        raise ValueError(f"{path} is not a valid pickle of NumPy arrays: {exc!r}") from exc
    except Exception as exc:  # a damaged pickle or gzip stream can fail in many ways
        raise ValueError(f"{path} is not a valid pickle of NumPy arrays: {exc!r}") from exc

    if not (isinstance(data, (tuple, list)) and len(data) == 3
            and all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in data)):
        raise ValueError(f"{path} must hold ((X_train, y_train), (X_val, y_val), "
                         f"(X_test, y_test)), got a {type(data).__name__}")
    result = []
    for part, (X, y) in zip(("training", "validation", "test"), data):
        if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f"):
            raise ValueError(f"{path}: {part} images must be a 2-d floating-point array, "
                             f"got {_describe(X)}")
        if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu"):
            raise ValueError(f"{path}: {part} labels must be a 1-d integer array, "
                             f"got {_describe(y)}")
        if len(X) != len(y):
            raise ValueError(f"{path}: {part} set has {len(X)} images but {len(y)} labels")
        if X.size and not (X.min() >= 0.0 and X.max() <= 1.0):  # also catches NaN
            raise ValueError(f"{path}: {part} pixels must be in [0, 1], got values from "
                             f"{X.min()} to {X.max()}")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(f"{path}: {part} labels must be in 0..9, got values from "
                             f"{y.min()} to {y.max()}")
        result.append((np.ascontiguousarray(X, dtype=dtype), y.astype(np.int64)))
    return tuple(result)


def _describe(obj):
    if isinstance(obj, np.ndarray):
        return f"shape {obj.shape} of {obj.dtype}"
    return type(obj).__name__


# The ndarray reconstructor, found without naming numpy.core (deprecated in
# NumPy 2) or numpy._core (absent in NumPy 1).
_np_reconstruct = np.ndarray.__reduce__(np.zeros(0))[0]


class _NdarrayType:
    """What the unpickler hands out for the global numpy.ndarray: only the
    array reconstructor accepts it.  The class itself must not be callable
    through REDUCE: ``ndarray((3 << 30,), "u1")`` would return 3 GiB of
    uninitialised memory from a 228-byte file."""

    def __repr__(self):
        return "numpy.ndarray"


_NDARRAY = _NdarrayType()


def _reconstruct(subtype, shape, dtype_code):
    if subtype is _NDARRAY:
        subtype = np.ndarray
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refusing to reconstruct an array of type {subtype!r}")
    # NumPy pickles an empty (0,) array and then sets its state (shape, dtype,
    # bytes: a payload NumPy checks against the shape).  Any other shape here
    # would allocate that much uninitialised memory before any check.
    if not (isinstance(shape, tuple) and shape == (0,)):
        raise UnsafePickleError(f"refusing to reconstruct an array of initial shape "
                                f"{shape!r}: NumPy writes (0,)")
    return _np_reconstruct(subtype, shape, dtype_code)


def _numeric_dtype(obj, align=False, copy=False):
    dtype = np.dtype(obj, align, copy)
    if dtype.kind not in "biuf":
        raise UnsafePickleError(f"refusing NumPy dtype {dtype!r}: only numeric arrays "
                                "may be loaded")
    return dtype


def _latin1_encode(text, encoding="utf-8"):
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, "latin1").
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler for tuples of NumPy arrays and nothing else."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 1 / Python 2
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 2
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _numeric_dtype,
        ("_codecs", "encode"): _latin1_encode,
    }

    def __init__(self, file, path):
        # latin1 turns Python 2 str (the raw array bytes) into str code points
        # 0..255, which NumPy's __setstate__ accepts.
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._path}: refusing to load global {module}.{name}: this file "
                "should hold only NumPy arrays, and loading it could run code. Get "
                "mnist.pkl.gz from the book's repository, or use "
                "cnet.datasets.load_mnist()"
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._path}: refusing persistent id {pid!r}")


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


# ------------------------------------------------------- finding the files


def _existing_dir(path, source, title=None):
    directory = Path(path).expanduser()
    if not directory.is_dir():
        what = f"{title} data directory" if title else "data directory"
        raise FileNotFoundError(
            f"{what} {directory} (from {source}) does not exist or is not a directory"
        )
    return directory


def _env_dirs(key):
    """Folders under ``CNET_DATA_DIR`` that may hold data set ``key``."""
    value = os.environ.get("CNET_DATA_DIR")
    if not value:
        return []
    root = _existing_dir(value, "CNET_DATA_DIR")
    # Fashion-MNIST's files have MNIST's names: only its own subfolder counts.
    return [root / key] if key == "fashion-mnist" else [root / key, root]


def _has_idx(directory, name):
    return (directory / name).is_file() or (directory / f"{name}.gz").is_file()


def _idx_folder(key, path, download, mirrors):
    """The folder to read IDX data set ``key`` from; downloads into the cache
    if allowed and needed."""
    if path is not None:
        return _existing_dir(path, "path=", _TITLES[key])  # used as is
    names = list(_MNIST_FILES.values())
    searched = _env_dirs(key) + list(_SYSTEM_DIRS.get(key, []))
    for folder in searched:
        if all(_has_idx(folder, name) for name in names):
            return folder
    cache = cache_dir(key)
    missing = [name for name in names if not _has_idx(cache, name)]
    if not missing:
        return cache
    if not download:
        raise FileNotFoundError(_how_to_get(key, searched + [cache], cache, missing))
    for name in missing:
        fetch(f"{name}.gz", cache, mirrors or MIRRORS[key], _CHECKSUMS[key][name],
              gunzip_md5=True)
    return cache


def _cifar_batches(directory):
    """``directory/cifar-10-batches-bin`` or ``directory`` if it holds all six
    batch files, else None."""
    for folder in (directory / _CIFAR_DIR, directory):
        if all((folder / name).is_file() for name in _CIFAR_TRAIN + (_CIFAR_TEST,)):
            return folder
    return None


def _cifar_folder(path, download, mirrors):
    """The folder holding the six CIFAR-10 batch files; downloads and
    extracts into the cache if allowed and needed."""
    if path is not None:
        directory = _existing_dir(path, "path=", "CIFAR-10")
        found = _cifar_batches(directory)
        if found is None:
            raise FileNotFoundError(
                f"{directory} holds neither {_CIFAR_DIR}/ nor the CIFAR-10 binary batch "
                f"files ({', '.join(_CIFAR_TRAIN)}, {_CIFAR_TEST}). Extract "
                f"{_CIFAR_ARCHIVE} (https://www.cs.toronto.edu/~kriz/cifar.html) there, "
                "or call load_cifar10() without path= to download it into the cache."
            )
        return found
    searched = _env_dirs("cifar-10")
    for directory in searched:
        found = _cifar_batches(directory)
        if found is not None:
            return found
    cache = cache_dir("cifar-10")
    found = _cifar_batches(cache)
    if found is not None:
        return found
    archive = cache / _CIFAR_ARCHIVE
    if not archive.is_file():  # only a verified archive ever has this name
        if not download:
            raise FileNotFoundError(_how_to_get("cifar-10", searched + [cache], cache,
                                                [_CIFAR_DIR]))
        fetch(_CIFAR_ARCHIVE, cache, mirrors or MIRRORS["cifar-10"],
              _CHECKSUMS["cifar-10"][_CIFAR_ARCHIVE])
    ensure_writable(cache)
    members = {f"{_CIFAR_DIR}/{name}": name for name in _CIFAR_TRAIN + (_CIFAR_TEST,)}
    extract_members(archive, cache / _CIFAR_DIR, members)
    archive.unlink()  # 170 MB; the extracted files are all that is read
    return cache / _CIFAR_DIR


def _how_to_get(key, searched, cache, missing):
    title = _TITLES[key]
    looked = ", ".join(str(folder) for folder in searched)
    if key == "cifar-10":
        files = (f"{_CIFAR_DIR}/ with {', '.join(_CIFAR_TRAIN)} and {_CIFAR_TEST} "
                 f"(extracted from {_CIFAR_ARCHIVE})")
    else:
        files = ", ".join(_MNIST_FILES.values()) + " (each raw or with .gz)"
    hints = [
        f"call the loader with download=True (the default) to download it into {cache}",
        f"or pass path= (or set CNET_DATA_DIR) to a folder holding {files}",
    ]
    if key == "fashion-mnist":
        hints.append("or install Debian's package: apt-get install dataset-fashion-mnist")
    if key == "mnist":
        hints.append("or use cnet.datasets.load_sample(), a small MNIST sample shipped "
                     "with cnet")
    return (f"{title} was not found (looked in {looked}; missing {', '.join(missing)}). "
            "To get it, " + "; ".join(hints) + ".")


# -------------------------------------------------------------- reading


def _find_file(directory, name):
    """Return ``directory/name``, raw or with ``.gz``."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory} holds neither {name} nor {name}.gz")


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


def _read_cifar_batch(path):
    """``(pixels (n, 3072) uint8 view, labels (n,) uint8)`` of one batch file."""
    with open_regular(path, "CIFAR-10 batch file") as f:
        # The size first: a batch holds at most 10,000 records (30.7 MB), so
        # a huge or damaged file is refused before it is read.
        size = os.fstat(f.fileno()).st_size
        if size == 0 or size % _CIFAR_RECORD or size > _CIFAR_MAX_RECORDS * _CIFAR_RECORD:
            raise ValueError(
                f"{path} is truncated or not a CIFAR-10 binary batch: its {size} bytes "
                f"are not a positive multiple of {_CIFAR_RECORD} (1 label byte + 3072 pixel "
                f"bytes per image) of at most {_CIFAR_MAX_RECORDS:,} images. Delete it and "
                "download or extract it again."
            )
        raw = np.fromfile(f, dtype=np.uint8, count=size)
    if raw.size != size:
        raise ValueError(f"{path} changed while being read")
    records = raw.reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0]
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(
            f"{path} has label {labels[bad[0]]} in record {bad[0]}; CIFAR-10 labels "
            "must be in 0..9 (the file is corrupt or not a CIFAR-10 binary batch)"
        )
    return records[:, 1:], labels


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
