"""The file formats cnet reads data sets from, with NumPy alone and strict
checks (a truncated or hostile file fails loudly before anything large is
allocated): IDX (MNIST, Fashion-MNIST; raw or gzipped, inflated as a
stream), CIFAR-10's binary batches, and the book's ``mnist.pkl.gz`` through
an unpickler that can build numeric NumPy arrays and nothing else."""
import gzip
import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from .._fileio import (
    LimitedReader,
    gzip_errors,
    open_regular,
    opened_maybe_gzip,
    read_at_most,
)

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
