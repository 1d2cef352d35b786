"""Checks on what users pass in: every bad input becomes a ValueError or
TypeError that names the argument and says what it must be."""
import numbers
import reprlib

import numpy as np

_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel = 3


def describe(value):
    """A short description of a value for an error message: a message must
    stay a line or two even when the value is a whole data set."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        items = list(value)[:9]
        if len(value) <= 8 and all(_is_scalar(v) for v in items):
            return _SHORT.repr(value)
        first = f", the first {_kind(items[0])}" if items else ""
        return f"{type(value).__name__} of {len(value)} items{first}"
    return " ".join(_SHORT.repr(value).split())


def _is_scalar(v):
    return v is None or isinstance(v, (numbers.Number, str, bytes)) and len(str(v)) < 40


def _kind(v):
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return f"{type(v).__name__} of shape {tuple(v.shape)}"
    if isinstance(v, (list, tuple)):
        return f"{type(v).__name__} of {len(v)}"
    return type(v).__name__


FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype):
    """np.float32 or np.float64 from anything numpy understands."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64; got {describe(dtype)}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dt.name}")
    return dt


def check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_bool(value, name):
    """True or False (numpy's too): "no" or 0 must not pass as a flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {describe(value)}")
    return bool(value)


def check_seed(seed):
    """None or a non-negative integer: what the model file can record, so that
    a saved network says how it was made."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None or a non-negative integer; got {describe(seed)}")
    if seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer; got {seed}")
    return int(seed)


def check_float(value, name, *, positive=False):
    """A finite real number, > 0 if positive else >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        value = float("inf") if value > 0 else float("-inf")
    if not np.isfinite(value) or (value <= 0 if positive else value < 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value}")
    return value


def check_decay(eta, lmbda, n):
    """The L2 weight-decay factor 1 - eta lmbda / n, which must stay > 0."""
    if eta * lmbda / n >= 1:
        raise ValueError(
            f"eta * lmbda / n_samples must be < 1 (the weight-decay factor 1 - eta*lmbda/n "
            f"would be <= 0); got eta={eta}, lmbda={lmbda}, n_samples={n}: lower lmbda")
    return 1.0 - eta * lmbda / n


def check_eta(eta, dtype):
    """eta as the kernels will see it, in the network's dtype: a positive
    float64 can still be 0 (1e-320) or inf (1e300) in float32."""
    dt = np.dtype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        cast = dt.type(eta)
    if not (np.isfinite(cast) and cast > 0):
        info = np.finfo(dt)
        raise ValueError(f"eta={eta:g} is {float(cast):g} in the network's dtype {dt.name}: "
                         f"it must lie in [{info.tiny:.3g}, {info.max:.3g}]")
    return eta


def check_sizes(sizes):
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(f"sizes must be a list of layer sizes like [784, 30, 10]; got "
                        f"{describe(sizes)}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layers (input and output); got "
                         f"{describe(sizes)}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"sizes must hold positive integers; got {describe(s)} in "
                            f"{describe(sizes)}")
        if s < 1:
            raise ValueError(f"sizes must hold positive integers (no zero-width layer); got "
                             f"{describe(sizes)}")
    return [int(s) for s in sizes]


def all_finite(arr, block_bytes=1 << 20):
    """np.isfinite(arr).all(), a block of rows at a time: the check must not
    allocate a mask as large as the data (a quarter of a float32 X)."""
    if arr.size == 0:
        return True
    if arr.dtype.kind in "biu":
        return True
    flat = arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1)
    step = max(1, block_bytes // max(1, flat.itemsize * flat.shape[1]))
    return all(np.isfinite(flat[i:i + step]).all() for i in range(0, flat.shape[0], step))


def _as_numeric(a, name):
    try:
        arr = np.asarray(a)
        if arr.dtype.kind == "O" and hasattr(a, "to_numpy"):
            # pandas' nullable dtypes (Int64, Float64, boolean) come out as
            # objects; missing values become NaN, which the checks then name.
            arr = np.asarray(a.to_numpy(dtype="float64", na_value=np.nan))
    except (ValueError, TypeError) as e:
        raise TypeError(f"{name} must be a numeric array; could not convert it: "
                        f"{' '.join(str(e).split())[:200]}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr


def check_X(X, n_in, dtype, name="X"):
    """(n_samples, n_in) C-contiguous array of dtype with finite values.

    Converted once here (a no-op for a matching float C array); lists,
    Fortran-ordered, strided and read-only arrays are all accepted."""
    arr = _as_numeric(X, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n_samples, {n_in}); got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one sample (row)")
    if arr.shape[1] != n_in:
        raise ValueError(
            f"{name} has {arr.shape[1]} features per sample, but the network's input "
            f"layer has {n_in} (sizes[0]); reshape to (n_samples, {n_in})")
    return _as_finite(arr, dtype, name, "; clean or impute those values first")


def _as_finite(arr, dtype, name, hint=""):
    """arr as a C-contiguous array of dtype, every value finite.

    A finite value too large for dtype (1e300 into float32) would become inf
    in the cast; that gets its own message, not "contains infinity"."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if not all_finite(out):
        if not all_finite(arr):
            raise ValueError(f"{name} contains NaN or infinity{hint}")
        dt = np.dtype(dtype)
        raise ValueError(f"{name} has values too large for {dt.name} (|value| > "
                         f"{np.finfo(dt).max:.4g}); scale them, or use dtype='float64'")
    return out


def check_y(y, n_samples, n_out, dtype, name="y"):
    """Labels (n_samples,) in [0, n_out), or targets (n_samples, n_out).

    Returns (targets or None, labels as intp).  For targets, labels are their
    argmax (used for accuracy)."""
    arr = _as_numeric(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1 and n_out != 1:
        arr = arr[:, 0]  # a column of labels
    if arr.ndim == 1 and n_out == 1:
        arr = arr[:, None]  # one output neuron: y holds its targets
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be labels (n_samples,) or targets (n_samples, {n_out}); "
                         f"got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} entries but X has {n_samples} samples")
    if arr.ndim == 2:
        if arr.shape[1] != n_out:
            raise ValueError(f"{name} targets have {arr.shape[1]} columns, but the network's "
                             f"output layer has {n_out} (sizes[-1])")
        T = _as_finite(arr, dtype, name)
        return T, labels_of(T)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} labels must be whole numbers in [0, {n_out}); "
                             "for real-valued targets pass a 2-D array (n_samples, n_out)")
    bad = (arr < 0) | (arr >= n_out)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} labels must be integers in [0, {n_out}) (one per output "
                         f"neuron); got {arr[k]!r} at index {k}")
    return None, np.ascontiguousarray(arr, dtype=np.intp)


def one_hot_classes(T):
    """The class of each row of targets T (n, n_out) if they are one-hot
    rows, else None (targets of a regression)."""
    if ((T == 0) | (T == 1)).all() and (T.sum(axis=1) == 1).all():
        return labels_of(T)
    return None


def labels_of(outputs):
    """Class of each row of outputs (or targets): the argmax, or for a single
    output neuron, whether it exceeds 0.5."""
    if outputs.shape[1] == 1:
        return np.ascontiguousarray(outputs[:, 0] > 0.5, dtype=np.intp)
    return np.ascontiguousarray(outputs.argmax(axis=1), dtype=np.intp)
