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
import math
import os
import signal
import threading
import zipfile
from contextlib import contextmanager

import numpy as np

from . import activations, costs
from ._fileio import fsync_dir, open_regular, read_at_most
from ._validation import FLOAT_DTYPES
from ._workspace import state_from_kernels, state_to_kernels
from .initializers import INITS

FORMAT_NAME = "cnet-model"
# Bump when a reader of the old version would misread a new file, or refuse
# it without saying why.  2: an optimizer's state may follow the parameters.
FORMAT_VERSION = 2

_ZIP_MAGIC = b"PK\x03\x04"
_NIELSEN_COSTS = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy"}

__all__ = ["ModelFileError", "save", "load", "load_with_metadata", "load_optimizer",
           "FORMAT_VERSION"]


class ModelFileError(ValueError):
    """A model file cannot be loaded: truncated, corrupted, not a model file,
    written by a newer cnet, or inconsistent (shapes, dtype, names).

    The message names the file and what is wrong.  It is a ValueError, so
    ``except ValueError`` catches it too.  A file that does not exist raises
    FileNotFoundError instead, as ``open`` does.
    """


# -- saving -----------------------------------------------------------------------

def save(net, path, info=None, optimizer=None):
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
    optimizer : cnet.optimizers.Optimizer or None
        Also store the optimizer that trains ``net``: its class,
        hyper-parameters, step count and state (entries ``O{s}W{l}``,
        ``O{s}b{l}``), so that :func:`load_optimizer` gives it back and
        training goes on bit for bit as if it had not stopped.

    Raises
    ------
    ValueError
        The network's parameters are not what :func:`load` accepts (an array
        of the wrong shape put into ``net.weights``, NaN or infinity edited
        in place), or ``info`` is too large; nothing is written.
    RuntimeError
        Another thread is training the network or assigning its parameters.
    TypeError
        ``info`` is not JSON-serialisable.
    OSError
        The directory does not exist or is not writable, the disk is full...
        Any existing file at ``path`` is then unchanged.
    """
    path = os.fspath(path)
    # A consistent copy first (no other thread may train or assign the
    # parameters meanwhile; a Checkpoint saves from the training thread),
    # then the checks load() makes: a file save() writes is one load() reads.
    with net.parameters.in_use("saving"):
        weights, biases = net.parameters.copies()  # checks arrays put in net.weights by hand
        opt_meta, opt_arrays = _optimizer_part(optimizer, net)
        metadata = _metadata(net, info, opt_meta)
    problem = check_parameters(net.sizes, net.dtype, weights, biases)
    if problem is None and len(metadata) * 4 > MAX_METADATA_BYTES:
        problem = (f"the metadata (info) is {len(metadata) * 4:,} bytes as stored, more than "
                   f"load() accepts ({MAX_METADATA_BYTES:,})")
    if problem is not None:
        raise ValueError(f"cannot save the network to {path}: {problem}; nothing was written")
    arrays = {"metadata": np.array(metadata)}
    for l, (W, b) in enumerate(zip(weights, biases)):
        arrays[f"W{l}"] = W
        arrays[f"b{l}"] = b
    arrays.update(opt_arrays)
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def _optimizer_part(optimizer, net):
    """The metadata and arrays of an optimizer's state, in the public layout."""
    from . import optimizers

    if optimizer is None:
        return None, {}
    if not isinstance(optimizer, optimizers.Optimizer):
        raise TypeError(f"optimizer must be a cnet.optimizers instance; got "
                        f"{type(optimizer).__name__}")
    arrays = {}
    if optimizer.state is not None:
        optimizer.bind(net.parameters)  # the same shape, or ValueError
        n = len(net.sizes) - 1
        for l, n_out in enumerate(net.sizes[1:]):
            for k, (Sw, Sb) in enumerate(zip(optimizer.state[l], optimizer.state[n + l])):
                arrays[f"O{k}W{l}"] = np.array(state_from_kernels(Sw, n_out).T, order="C")
                arrays[f"O{k}b{l}"] = np.array(Sb[:n_out])
    meta = {"class": type(optimizer).__name__, "config": optimizer.get_config(),
            "t": int(optimizer.t), "slots": optimizer.n_slots if arrays else 0}
    return meta, arrays


def _metadata(net, info, optimizer=None):
    from . import __version__

    seed = net.seed if isinstance(net.seed, (int, np.integer)) and \
        not isinstance(net.seed, bool) else None
    state = net.rng.bit_generator.state
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "cnet_version": __version__,
        "sizes": list(net.sizes),
        "activation": net.activation,
        "output_activation": net.output_activation,
        "cost": net.cost.name,
        "init": net.init,
        "dtype": net.dtype.name,
        "seed": None if seed is None else int(seed),
        "rng": state if state.get("bit_generator") == "PCG64" else None,
        "info": info,
    }
    if optimizer is not None:
        meta["optimizer"] = optimizer
    try:
        return json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"info must be JSON-serialisable (dicts, lists, str, finite "
                        f"numbers, bool, None): {exc}") from None


class _Terminated(BaseException):
    """SIGTERM arrived while a temporary file existed (see _terminate_after)."""


@contextmanager
def _terminate_after():
    """While the temporary file exists, let SIGTERM (kill, a job scheduler's
    time limit) first remove it and then end the process as it would have.
    Python's default would end it at once, leaving a hidden .tmp file behind.
    Only where the default is in place, on the main thread (Python runs
    handlers there): a handler of the program's own is left alone."""
    if (not hasattr(signal, "SIGTERM")
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def handler(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
        raise  # not reached: the default action ends the process
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _atomic_write(path, write):
    """Call write(file object) on a temporary file beside path, fsync it, and
    rename it to path; on any failure (even KeyboardInterrupt or SIGTERM)
    remove it."""
    directory, name = os.path.split(os.path.abspath(path))
    with _terminate_after():
        tmp, fd = None, -1
        for attempt in range(100):
            candidate = os.path.join(directory,
                                     f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
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


def load_optimizer(path):
    """The optimizer saved with a network (``net.save(path, optimizer=opt)``),
    with its hyper-parameters, step count and state: pass it to ``fit`` on
    the network ``load(path)`` gives, and training goes on as if it had never
    stopped.  None if the file holds no optimizer.

    Raises
    ------
    FileNotFoundError, ModelFileError
        As :func:`load`.
    """
    from . import optimizers

    net, meta, state = _load(path)
    opt_meta = meta.get("optimizer")
    if opt_meta is None:
        return None
    classes = {c.__name__: c for c in (optimizers.SGD, optimizers.Adam, optimizers.AdamW,
                                       optimizers.RMSprop)}
    opt = classes[opt_meta["class"]](**opt_meta["config"])
    opt.t = opt_meta["t"]
    if opt_meta["slots"]:
        opt.bind(net.parameters)  # allocates zeroed state in the kernels' layout
        n = len(net.sizes) - 1
        for l, n_out in enumerate(net.sizes[1:]):
            arrays = state[l]
            for k in range(opt.n_slots):
                state_to_kernels(arrays[2 * k].T, opt.state[l][k])
                opt.state[n + l][k][:n_out] = arrays[2 * k + 1]
    return opt


def load_with_metadata(path):
    """Like :func:`load`, but return ``(net, metadata)``: the file's metadata
    dict (for a network2.py file, one in the same form built from its contents)."""
    net, meta, _ = _load(path)
    return net, meta


def _load(path):
    """(net, metadata, the optimizer's state per layer: [O0W, O0b, O1W, ...],
    empty lists if none)."""
    path = os.fspath(path)
    with open_regular(path, "model file", ModelFileError) as f:
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


# What load accepts, and so what save must refuse to write.  A metadata entry
# beyond this is no cnet file (info holds a few notes); a parameter entry may
# carry an .npy header of up to NumPy's default limit.
MAX_METADATA_BYTES = 16 << 20
_NPY_HEADER_LIMIT = 10_000
# The metadata's sizes may need at most this many times the file's size (plus
# 1 MiB) in parameters: cnet writes them stored, uncompressed, and a deflated
# .npz of real weights shrinks by a few percent, not by x10.  Anything beyond
# is a damaged or hostile file (a zip bomb), refused before it is inflated.
MAX_INFLATION = 10


def check_parameters(sizes, dtype, weights, biases):
    """What is wrong with these parameters for a network of ``sizes`` and
    ``dtype`` (a sentence), or None.  Shared by save and load, so that a file
    save() writes is one load() accepts.  Biases may be (n,) or (n, 1)."""
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, arr, shapes in ((f"W{l}", weights[l], [(n_out, n_in)]),
                                  (f"b{l}", biases[l], [(n_out,), (n_out, 1)])):
            if arr.shape not in shapes:
                return f"{name} has shape {arr.shape}, but sizes={list(sizes)} needs {shapes[0]}"
            if arr.dtype.kind != "f" or arr.dtype.itemsize != dtype.itemsize:
                return f"{name} has dtype {arr.dtype}, but the network's dtype is {dtype.name}"
            if not np.isfinite(arr).all():
                return f"{name} contains NaN or infinity"
    return None


def _parameter_bytes(sizes, dtype):
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:])) * dtype.itemsize


def _load_npz(path):
    try:
        return _read_npz(path)
    except (ModelFileError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    # A damaged zip fails in many ways (BadZipFile, RuntimeError for the
    # "encrypted" flag, NotImplementedError for an unknown compression,
    # zlib.error, EOFError, struct.error, UnicodeDecodeError, RecursionError
    # from nested JSON, OverflowError...): each is a damaged model file.
    except Exception as exc:
        _fail(path, f"the file is truncated or corrupted ({type(exc).__name__}: "
                    f"{_short(exc)})")


def _short(exc, limit=200):
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


def _read_npz(path):
    with open_regular(path, "model file", ModelFileError) as f:
        file_size = os.fstat(f.fileno()).st_size
        with zipfile.ZipFile(f) as archive:
            entries = {}
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if name in entries:
                    _fail(path, f"the archive holds {name!r} twice")
                entries[name] = info
            if "metadata" not in entries:
                _fail(path, "no 'metadata' entry: not a cnet model file, or a damaged one")
            meta_entry = _read_entry(path, archive, entries["metadata"], "metadata")
            meta = _parse_metadata(path, meta_entry)
            sizes = meta["sizes"]
            dtype = np.dtype(meta["dtype"])
            n_layers = len(sizes) - 1
            slots = meta["optimizer"]["slots"] if "optimizer" in meta else 0
            prefixes = ["W", "b"] + [f"O{k}{p}" for k in range(slots) for p in "Wb"]
            if len(prefixes) * n_layers + 1 != len(entries) or not all(
                    f"{p}{l}" in entries for p in prefixes for l in range(n_layers)):
                expected = {"metadata"} | {f"{p}{l}" for p in prefixes
                                           for l in range(min(n_layers, len(entries)))}
                parts = []
                if n_layers > len(entries) or expected - set(entries):
                    parts.append("missing " + (", ".join(sorted(expected - set(entries)))
                                               or f"entries for {n_layers} layers"))
                if set(entries) - expected:
                    unexpected = sorted(set(entries) - expected)
                    parts.append("unexpected " + ", ".join(unexpected[:10])
                                 + (", ..." if len(unexpected) > 10 else ""))
                _fail(path, f"entries do not match sizes={_brief(sizes)}: {'; '.join(parts)}")
            need = _parameter_bytes(sizes, dtype) * (1 + slots)
            if need > MAX_INFLATION * file_size + (1 << 20):
                _fail(path, f"sizes={_brief(sizes)} need {need:,} bytes of parameters, but "
                            f"the file holds only {file_size:,} bytes: damaged or not a "
                            f"cnet model file")
            weights, biases = [], []
            for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                weights.append(_read_entry(path, archive, entries[f"W{l}"], f"W{l}",
                                           (n_out, n_in), dtype, sizes))
                biases.append(_read_entry(path, archive, entries[f"b{l}"], f"b{l}",
                                          (n_out,), dtype, sizes))
            state = [[_read_entry(path, archive, entries[f"O{k}{p}{l}"], f"O{k}{p}{l}",
                                  (n_out, n_in) if p == "W" else (n_out,), dtype, sizes)
                      for k in range(slots) for p in "Wb"]
                     for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
    problem = check_parameters(sizes, dtype, weights, biases)
    for l, arrays in enumerate(state):
        if problem is None and not all(np.isfinite(a).all() for a in arrays):
            problem = f"the optimizer's state of layer {l} contains NaN or infinity"
    if problem:
        _fail(path, problem)
    return _build(path, meta, weights, biases), meta, state


def _brief(sizes):
    if len(sizes) <= 12:
        return sizes
    return f"[{sizes[0]}, ... {len(sizes) - 2} more ..., {sizes[-1]}]"


def _read_entry(path, archive, info, name, shape=None, dtype=None, sizes=None):
    """Read one .npy entry, checking its declared sizes before reading: the
    zip's size of the entry, then the .npy header's shape and dtype against
    what the metadata says (shape None: the 0-d metadata string).  NumPy's
    own reader would allocate whatever the header claims."""
    if shape is None:
        limit = MAX_METADATA_BYTES
    else:
        limit = math.prod(shape) * dtype.itemsize
    if info.file_size > limit + _NPY_HEADER_LIMIT + 16:
        _fail(path, f"entry {name} is {info.file_size:,} bytes, more than its "
                    f"{'limit' if shape is None else 'shape'} allows ({limit:,} bytes)")
    with archive.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            found, fortran, found_dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            found, fortran, found_dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            _fail(path, f"entry {name} has .npy format version {version}; cnet writes 1.0")
        if found_dtype.hasobject:
            _fail(path, f"entry {name} holds Python objects (pickle); cnet files never do")
        if shape is None:
            if found_dtype.kind != "U" or found != ():
                _fail(path, f"the metadata entry must be a JSON string; got an array of "
                            f"dtype {found_dtype} and shape {found}")
            if found_dtype.itemsize > MAX_METADATA_BYTES:
                _fail(path, f"the metadata entry is {found_dtype.itemsize:,} bytes, more than "
                            f"{MAX_METADATA_BYTES:,}")
        else:
            if found != shape:
                _fail(path, f"{name} has shape {found}, but sizes={_brief(sizes)} needs {shape}")
            if found_dtype.kind != "f" or found_dtype.itemsize != dtype.itemsize:
                _fail(path, f"{name} has dtype {found_dtype}, but the metadata says {dtype.name}")
        n_bytes = math.prod(found) * found_dtype.itemsize
        data = read_at_most(fp, n_bytes + 1)  # the extra byte: trailing data, and the CRC check
    if len(data) != n_bytes:
        _fail(path, f"entry {name} holds {'more' if len(data) > n_bytes else len(data)} "
                    f"bytes of data; its header announces {n_bytes:,}")
    arr = np.frombuffer(data, dtype=found_dtype).reshape(found, order="F" if fortran else "C")
    if shape is None:
        return arr
    return np.ascontiguousarray(arr, dtype=dtype)  # native byte order; a copy, writable


def _parse_metadata(path, entry):
    if entry.dtype.kind != "U" or entry.ndim != 0:
        _fail(path, f"the metadata entry must be a JSON string; got an array of "
                    f"dtype {entry.dtype} and shape {entry.shape}")
    try:
        meta = json.loads(str(entry[()]))
    except (ValueError, RecursionError) as exc:
        _fail(path, f"the metadata is not valid JSON ({type(exc).__name__}: {_short(exc)})")
    if not isinstance(meta, dict):
        _fail(path, "the metadata must be a JSON object")
    if meta.get("format") != FORMAT_NAME:
        found = _short(repr(meta.get("format")), 60)
        _fail(path, f"not a cnet model file (metadata format {found}, expected {FORMAT_NAME!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(path, f"invalid format_version {_short(repr(version), 60)} in the metadata")
    if version > FORMAT_VERSION:
        from . import __version__
        writer = _short(str(meta.get("cnet_version", "?")), 40)
        _fail(path, f"the file was written by cnet {writer} in model format version {version}; "
                    f"this cnet {__version__} reads versions up to {FORMAT_VERSION}. Upgrade cnet "
                    f"(pip install --upgrade cnet-nn) to load it")
    for key in ("sizes", "activation", "output_activation", "cost", "init", "dtype"):
        if key not in meta:
            _fail(path, f"the metadata lacks {key!r}")
    sizes = meta["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        _fail(path, f"invalid sizes {_short(repr(sizes), 100)} in the metadata: expected a "
                    f"list of at least two positive integers")
    _check_names(path, meta)
    if "optimizer" in meta:
        _check_optimizer(path, meta["optimizer"])
    return meta


def _check_optimizer(path, opt):
    """The optimizer's metadata: a known class whose constructor accepts the
    config, a step count, and the number of state arrays that class keeps."""
    from . import optimizers

    classes = {c.__name__: c for c in (optimizers.SGD, optimizers.Adam, optimizers.AdamW,
                                       optimizers.RMSprop)}
    if not isinstance(opt, dict) or opt.get("class") not in classes \
            or not isinstance(opt.get("config"), dict):
        _fail(path, f"invalid optimizer in the metadata: {_short(repr(opt), 100)} (expected a "
                    f"class among {', '.join(classes)} and its config)")
    try:
        made = classes[opt["class"]](**opt["config"])
    except (TypeError, ValueError) as exc:
        _fail(path, f"invalid optimizer config in the metadata: {exc}")
    t, slots = opt.get("t"), opt.get("slots")
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        _fail(path, f"invalid optimizer step count {_short(repr(t), 40)} in the metadata")
    if slots not in (0, made.n_slots):
        _fail(path, f"the metadata says the {opt['class']} keeps {_short(repr(slots), 20)} "
                    f"state arrays per parameter; it keeps {made.n_slots}")


def _check_names(path, meta):

    hidden = meta["activation"]
    if isinstance(hidden, list):  # one per hidden layer
        if len(hidden) != len(meta["sizes"]) - 2 or not all(
                isinstance(a, str) and a in activations.HIDDEN for a in hidden):
            _fail(path, f"invalid activation list {_short(repr(hidden), 100)} in the metadata: "
                        f"one of {', '.join(map(repr, activations.HIDDEN))} per hidden layer")
        meta = {**meta, "activation": "sigmoid"}  # the rest is checked below
    for key, allowed in (("activation", activations.HIDDEN),
                         ("output_activation", activations.OUTPUT),
                         ("cost", tuple(costs.COSTS)), ("init", INITS),
                         ("dtype", tuple(dt.name for dt in FLOAT_DTYPES))):
        if meta[key] not in allowed:
            _fail(path, f"unknown {key} {_short(repr(meta[key]), 60)} in the metadata (this cnet "
                        f"knows {', '.join(map(repr, allowed))}; a newer cnet may know more)")


# The class load() builds: cnet.Network, which registers itself (@builds),
# so that this module, which network.py uses to save, need not import it.
_NETWORK = None


def builds(cls):
    """Class decorator: the networks load() returns are of class ``cls``."""
    global _NETWORK
    _NETWORK = cls
    return cls


def _build(path, meta, weights, biases):
    try:
        net = _NETWORK(meta["sizes"], activation=meta["activation"],
                      output_activation=meta["output_activation"], cost=meta["cost"],
                      init=meta["init"], dtype=meta["dtype"], seed=meta.get("seed"))
    except (ValueError, TypeError) as exc:  # e.g. a cost that does not fit the output
        _fail(path, f"inconsistent metadata: {exc}")
    rng = meta.get("rng")
    if rng is not None:
        try:
            net.rng.bit_generator.state = rng
        except Exception as exc:  # the generator's own checks: TypeError, ValueError...
            _fail(path, f"invalid random-generator state in the metadata "
                        f"({type(exc).__name__}: {_short(exc)})")
    net.weights = weights
    net.biases = biases
    return net


def _load_nielsen_json(path):
    sizes, cost_name, weights, biases = read_network2_json(path)
    meta = {"format": "network2.py JSON", "sizes": sizes, "activation": "sigmoid",
            "output_activation": "sigmoid", "cost": _NIELSEN_COSTS[cost_name],
            "init": "scaled_normal", "dtype": "float64", "seed": None, "rng": None, "info": None}
    return _build(path, meta, weights, biases), meta, []


def read_network2_json(path):
    """network2.py's save(): {"sizes", "weights", "biases", "cost"}, lists of
    lists.  Returns (sizes, cost class name, weights, biases), float64 arrays,
    checked against sizes; any problem is a ModelFileError."""
    path = os.fspath(path)
    try:
        with open_regular(path, "model file", ModelFileError) as f:
            data = json.loads(f.read().decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        if isinstance(exc, ModelFileError):
            raise
        _fail(path, f"not valid JSON ({type(exc).__name__}: {_short(exc)}); a network2.py "
                    f"model file is a JSON object with sizes, weights, biases and cost")
    if not isinstance(data, dict) or not {"sizes", "weights", "biases", "cost"} <= set(data):
        _fail(path, "not a network2.py model file: expected a JSON object with keys sizes, "
                    "weights, biases and cost")
    sizes = data["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)):
        _fail(path, f"invalid sizes {_short(repr(sizes), 100)}: expected a list of at least "
                    f"two positive integers")
    cost = _NIELSEN_COSTS.get(data["cost"]) if isinstance(data["cost"], str) else None
    if cost is None:
        _fail(path, f"unknown cost {_short(repr(data['cost']), 60)}: network2.py writes "
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
            except (ValueError, TypeError, OverflowError, RecursionError):
                _fail(path, f"{key}[{l}] is not a rectangular array of numbers")
            if arr.shape not in shapes:
                _fail(path, f"{key}[{l}] has shape {arr.shape}, but sizes={sizes} needs "
                            f"{shapes[0]}")
            if not np.isfinite(arr).all():
                _fail(path, f"{key}[{l}] contains NaN or infinity")
            out.append(arr)
    return sizes, data["cost"], weights, biases
