"""Saving and loading networks: ``net.save(path)`` and ``cnet.load(path)``.

The model file is a NumPy ``.npz`` archive (a zip of ``.npy`` files) that
needs no pickle to read, so loading a file from a stranger cannot run code:

==============  ==============================  ===================================
entry           shape                           contents
==============  ==============================  ===================================
``metadata``    0-d unicode string              JSON object, see below
``W0`` ...      (n_out, n_in) of layer l        weights, in the network's dtype
``b0`` ...      (n_out,) of layer l             biases, in the network's dtype
==============  ==============================  ===================================

with one ``W{l}``/``b{l}`` pair per layer ``l = 0 .. len(sizes) - 2``.  The
metadata JSON holds ``format`` ("cnet-model"), ``format_version`` (an integer,
:data:`FORMAT_VERSION`), ``cnet_version`` (the cnet that wrote the file),
``sizes``, ``activation``, ``output_activation``, ``cost``, ``init``,
``dtype`` ("float32" or "float64"), ``seed`` (an int or null), ``rng`` (the
state of the network's random generator, so that training a loaded network
continues exactly as the saved one would have) and ``info`` (free-form,
JSON-serialisable notes from :func:`save`'s caller, e.g. how it was trained).
Any NumPy reads it: ``np.load(path)["W0"]``,
``json.loads(np.load(path)["metadata"][()])``.

The arrays are stored as they are, so a round trip is bit-exact: the loaded
network's weights and predictions are identical to the saved one's.

Saving writes a temporary file next to the target, flushes it to disk and
renames it over the target (``os.replace``, atomic on POSIX and Windows): a
crash or a full disk mid-save leaves any existing model file as it was.

Loading checks everything before it builds the network (the file's format and
version, the names, the array shapes against ``sizes``, the dtype, that every
value is finite) and reports any problem as :class:`ModelFileError`, naming the
file and what is wrong.  :func:`load` also reads the JSON files written by
``save()`` in Nielsen's network2.py (recognised by content, not by name).
"""
import json
import os
import zipfile
import zlib

import numpy as np

from . import activations, costs
from ._fileio import fsync_dir
from ._validation import FLOAT_DTYPES

FORMAT_NAME = "cnet-model"
FORMAT_VERSION = 1  # bump when a reader of the old version would misread a new file

_ZIP_MAGIC = b"PK\x03\x04"
_NIELSEN_COSTS = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy"}

__all__ = ["ModelFileError", "save", "load", "load_with_metadata", "FORMAT_VERSION"]


class ModelFileError(ValueError):
    """A model file cannot be loaded: truncated, corrupted, not a model file,
    written by a newer cnet, or inconsistent (shapes, dtype, names).

    The message names the file and what is wrong.  It is a ValueError, so
    ``except ValueError`` catches it too.  A file that does not exist raises
    FileNotFoundError instead, as ``open`` does.
    """


# -- saving -----------------------------------------------------------------------

def save(net, path, info=None):
    """Write ``net`` to ``path`` as a cnet model file (``.npz``, no pickle).

    The file is written to exactly ``path`` (no suffix is added).  It appears
    there complete or not at all: a temporary file in the same directory is
    written, flushed to disk and renamed over ``path``.

    Parameters
    ----------
    net : cnet.Network
    path : str or os.PathLike
    info : dict or None
        Extra JSON-serialisable notes stored under ``metadata["info"]``
        (the command line records how the network was trained).

    Raises
    ------
    TypeError
        ``info`` is not JSON-serialisable.
    OSError
        The directory does not exist or is not writable, the disk is full...
        Any existing file at ``path`` is then unchanged.
    """
    path = os.fspath(path)
    metadata = _metadata(net, info)
    arrays = {"metadata": np.array(metadata)}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"] = np.ascontiguousarray(W, dtype=net.dtype)
        arrays[f"b{l}"] = np.ascontiguousarray(b, dtype=net.dtype).reshape(-1)
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def _metadata(net, info):
    from . import __version__

    seed = net.seed if isinstance(net.seed, (int, np.integer)) and \
        not isinstance(net.seed, bool) else None
    state = net._rng.bit_generator.state
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "cnet_version": __version__,
        "sizes": list(net.sizes),
        "activation": net.activation,
        "output_activation": net.output_activation,
        "cost": net._cost.name,
        "init": net.init,
        "dtype": net.dtype.name,
        "seed": None if seed is None else int(seed),
        "rng": state if state.get("bit_generator") == "PCG64" else None,
        "info": info,
    }
    try:
        return json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"info must be JSON-serialisable (dicts, lists, str, finite "
                        f"numbers, bool, None): {exc}") from None


def _atomic_write(path, write):
    """Call write(file object) on a temporary file beside path, fsync it, and
    rename it to path; on any failure (even KeyboardInterrupt) remove it."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp, fd = None, -1
    for attempt in range(100):
        candidate = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            # 0o666 & ~umask, as for any new file (mkstemp would make it 0o600).
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        tmp = candidate
        break
    if tmp is None:
        raise FileExistsError(f"could not create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)


# -- loading ----------------------------------------------------------------------

def load(path):
    """Load a network saved by :func:`save` (``net.save``), or by Nielsen's
    network2.py ``save()`` (JSON).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    cnet.Network
        With the saved sizes, activations, cost, init name, dtype and
        parameters (bit-identical).  A cnet file also restores the state of
        the random generator, so further training continues as the saved
        network's would have.  A network2.py file gives a float64 sigmoid
        network with its cost (init "scaled_normal", network2.py's default).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ModelFileError
        The file is truncated, corrupted, not a model file, from a newer
        format version, or inconsistent.
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path):
    """Like :func:`load`, but return ``(net, metadata)``: the file's metadata
    dict (for a network2.py file, one in the same form built from its contents)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head == _ZIP_MAGIC:
        return _load_npz(path)
    stripped = head.lstrip(b" \t\r\n")
    if head.startswith(b"\xef\xbb\xbf") or stripped.startswith(b"{") or (head and not stripped):
        return _load_nielsen_json(path)
    if not head:
        raise ModelFileError(f"{path} is empty: not a model file (was its writing interrupted?)")
    raise ModelFileError(f"{path} is not a cnet model file: it is neither an .npz archive "
                         f"(written by net.save) nor JSON (written by network2.py's save)")


def _fail(path, what):
    raise ModelFileError(f"{path}: {what}")


def _load_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files)
            if "metadata" not in names:
                _fail(path, "no 'metadata' entry: not a cnet model file, or a damaged one")
            meta = _parse_metadata(path, archive["metadata"])
            n_layers = len(meta["sizes"]) - 1
            expected = {"metadata"} | {f"{p}{l}" for p in "Wb" for l in range(n_layers)}
            if names - expected or expected - names:
                parts = []
                if expected - names:
                    parts.append("missing " + ", ".join(sorted(expected - names)))
                if names - expected:
                    parts.append("unexpected " + ", ".join(sorted(names - expected)))
                _fail(path, f"entries do not match sizes={meta['sizes']}: {'; '.join(parts)}")
            arrays = {name: archive[name] for name in sorted(expected - {"metadata"})}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        _fail(path, f"the file is truncated or corrupted ({type(exc).__name__}: {exc})")
    dtype = np.dtype(meta["dtype"])
    weights, biases = [], []
    for l, (n_in, n_out) in enumerate(zip(meta["sizes"][:-1], meta["sizes"][1:])):
        for name, shape, out in ((f"W{l}", (n_out, n_in), weights), (f"b{l}", (n_out,), biases)):
            arr = arrays[name]
            if arr.shape != shape:
                _fail(path, f"{name} has shape {arr.shape}, but sizes={meta['sizes']} needs {shape}")
            if arr.dtype.kind != "f" or arr.dtype.itemsize != dtype.itemsize:
                _fail(path, f"{name} has dtype {arr.dtype}, but the metadata says {dtype.name}")
            arr = arr.astype(dtype, copy=False)  # native byte order; no rounding (same kind)
            if not np.isfinite(arr).all():
                _fail(path, f"{name} contains NaN or infinity")
            out.append(arr)
    return _build(path, meta, weights, biases), meta


def _parse_metadata(path, entry):
    if entry.dtype.kind != "U" or entry.ndim != 0:
        _fail(path, f"the metadata entry must be a JSON string; got an array of "
                    f"dtype {entry.dtype} and shape {entry.shape}")
    try:
        meta = json.loads(str(entry[()]))
    except ValueError as exc:
        _fail(path, f"the metadata is not valid JSON ({exc})")
    if not isinstance(meta, dict):
        _fail(path, "the metadata must be a JSON object")
    if meta.get("format") != FORMAT_NAME:
        _fail(path, f"not a cnet model file (metadata format {meta.get('format')!r}, "
                    f"expected {FORMAT_NAME!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(path, f"invalid format_version {version!r} in the metadata")
    if version > FORMAT_VERSION:
        from . import __version__
        _fail(path, f"the file was written by cnet {meta.get('cnet_version', '?')} in model "
                    f"format version {version}; this cnet {__version__} reads versions up to "
                    f"{FORMAT_VERSION}. Upgrade cnet (pip install --upgrade cnet) to load it")
    for key in ("sizes", "activation", "output_activation", "cost", "init", "dtype"):
        if key not in meta:
            _fail(path, f"the metadata lacks {key!r}")
    sizes = meta["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        _fail(path, f"invalid sizes {sizes!r} in the metadata: expected a list of at least "
                    f"two positive integers")
    _check_names(path, meta)
    return meta


def _check_names(path, meta):
    from .network import INITS

    for key, allowed in (("activation", activations.HIDDEN),
                         ("output_activation", activations.OUTPUT),
                         ("cost", tuple(costs.COSTS)), ("init", INITS),
                         ("dtype", tuple(dt.name for dt in FLOAT_DTYPES))):
        if meta[key] not in allowed:
            _fail(path, f"unknown {key} {meta[key]!r} in the metadata (this cnet knows "
                        f"{', '.join(map(repr, allowed))}; a newer cnet may know more)")


def _build(path, meta, weights, biases):
    from .network import Network

    try:
        net = Network(meta["sizes"], activation=meta["activation"],
                      output_activation=meta["output_activation"], cost=meta["cost"],
                      init=meta["init"], dtype=meta["dtype"], seed=meta.get("seed"))
    except (ValueError, TypeError) as exc:  # e.g. a cost that does not fit the output
        _fail(path, f"inconsistent metadata: {exc}")
    rng = meta.get("rng")
    if rng is not None:
        try:
            net._rng.bit_generator.state = rng
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            _fail(path, f"invalid random-generator state in the metadata ({exc})")
    net.weights = weights
    net.biases = biases
    return net


def _load_nielsen_json(path):
    """network2.py's save(): {"sizes", "weights", "biases", "cost"}, lists of lists."""
    try:
        with open(path, "r", encoding="utf-8-sig") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(path, f"not valid JSON ({exc}); a network2.py model file is a JSON object "
                    f"with sizes, weights, biases and cost")
    if not isinstance(data, dict) or not {"sizes", "weights", "biases", "cost"} <= set(data):
        _fail(path, "not a network2.py model file: expected a JSON object with keys sizes, "
                    "weights, biases and cost")
    sizes = data["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        _fail(path, f"invalid sizes {sizes!r}: expected a list of at least two positive integers")
    cost = _NIELSEN_COSTS.get(data["cost"])
    if cost is None:
        _fail(path, f"unknown cost {data['cost']!r}: network2.py writes "
                    f"{' or '.join(map(repr, _NIELSEN_COSTS))}")
    n_layers = len(sizes) - 1
    weights, biases = [], []
    for key, out in (("weights", weights), ("biases", biases)):
        if not isinstance(data[key], list) or len(data[key]) != n_layers:
            _fail(path, f"{key} must be a list of {n_layers} arrays for sizes={sizes}")
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes = [(n_out, n_in)] if key == "weights" else [(n_out, 1), (n_out,)]
            try:
                arr = np.array(data[key][l], dtype=np.float64)
            except (ValueError, TypeError):
                _fail(path, f"{key}[{l}] is not a rectangular array of numbers")
            if arr.shape not in shapes:
                _fail(path, f"{key}[{l}] has shape {arr.shape}, but sizes={sizes} needs {shapes[0]}")
            if not np.isfinite(arr).all():
                _fail(path, f"{key}[{l}] contains NaN or infinity")
            out.append(arr)
    meta = {"format": "network2.py JSON", "sizes": sizes, "activation": "sigmoid",
            "output_activation": "sigmoid", "cost": cost, "init": "scaled_normal",
            "dtype": "float64", "seed": None, "rng": None, "info": None}
    return _build(path, meta, weights, biases), meta
