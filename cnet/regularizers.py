"""Regularizers and example weights: what ``fit`` and ``SGD`` take beside
the optimizer.

* ``lmbda``: L2, ``(lmbda / n) w`` joins each weight's gradient (Nielsen's
  convention; with plain SGD it is the decay factor ``1 - eta lmbda / n``),
  and ``(lmbda / 2n) sum ||W||^2`` the cost.
* ``l1``: L1, ``(l1 / n) sign(w)`` joins each weight's gradient, and
  ``(l1 / n) sum |W|`` the cost.
* ``dropout``: inverted dropout of the layers' inputs while training (a
  dropped unit's activation is 0, a kept one's is scaled by ``1 / (1 - p)``;
  inference uses the whole network unscaled).  One rate for every hidden
  layer, or a list of one rate per layer of weights, the input first.  The
  masks are drawn inside the kernels (src/cnet_dropout.h) from a
  counter-based generator: unit j of layer l for example e (its row of X)
  in an epoch is a function of (the epoch's key, l, e, j), the key drawn
  from the network's own generator.  So a run is the same for any thread
  count and any split into mini-batches, and :func:`dropout_keep` computes
  the very same masks in NumPy.
* ``sample_weight`` and ``class_weight``: each mini-batch's gradient (and
  the training cost) is the weighted mean, ``sum_s w_s grad C_s / sum_s
  w_s``, as scikit-learn's MLP takes it; ``class_weight`` gives each example
  its class's weight (a dict, or "balanced": ``n / (k * count(class))`` over
  the k classes present), multiplied by ``sample_weight`` when both are given.
"""
import numbers

import numpy as np

from ._validation import describe

__all__ = ["dropout_rates", "dropout_keep", "example_weights"]

_M1, _M2 = np.uint64(0xbf58476d1ce4e5b9), np.uint64(0x94d049bb133111eb)
_GOLDEN, _GROUP = np.uint64(0x9e3779b97f4a7c15), np.uint64(0xd1b54a32d192ed03)


def dropout_rates(dropout, sizes):
    """Per layer of weights, the dropout rate of its input: from None (none),
    one rate (every hidden layer's output; not the input) or a list of
    len(sizes) - 1 rates, the input's first."""
    n_layers = len(sizes) - 1
    if dropout is None:
        return [0.0] * n_layers
    if isinstance(dropout, numbers.Real) and not isinstance(dropout, bool):
        rates = [0.0] + [dropout] * (n_layers - 1)
        names = ["dropout"] * n_layers
    else:
        try:
            if isinstance(dropout, (str, bytes)):
                raise TypeError
            rates = list(dropout)
        except TypeError:
            raise TypeError(f"dropout must be a rate in [0, 1) or a list of one rate per layer "
                            f"of weights (the input's first); got {describe(dropout)}") from None
        if len(rates) != n_layers:
            raise ValueError(f"dropout lists one rate per layer of weights, the input's first: "
                             f"this network has {n_layers} (sizes {list(sizes)}), the list "
                             f"{len(rates)}")
        names = [f"dropout[{l}]" for l in range(n_layers)]
    out = []
    for rate, name in zip(rates, names):
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise TypeError(f"{name} must be a rate in [0, 1); got {describe(rate)}")
        if not 0 <= rate < 1:
            raise ValueError(f"{name} must be a rate in [0, 1); got {rate!r}")
        out.append(float(rate))
    return out


def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def dropout_keep(epoch_key, layer, examples, n_units, rate):
    """The kernels' dropout masks, in NumPy: which units are kept.

    Parameters
    ----------
    epoch_key : int
        The epoch's key (0 <= key < 2**64).
    layer : int
        The layer of weights whose input is thinned (0: the network's input).
    examples : array-like of int
        The examples' rows of X.
    n_units : int
        Units of that input.
    rate : float
        The dropout rate p: a unit is dropped when its 16-bit uniform is below
        round(p 65536).

    Returns
    -------
    ndarray of bool, shape (len(examples), n_units)
    """
    with np.errstate(over="ignore"):
        ex = np.asarray(examples, dtype=np.int64).astype(np.uint64)
        row = _mix64(np.uint64(epoch_key) ^ _mix64((np.uint64(layer) << np.uint64(56))
                                                    ^ (ex * _GOLDEN)))
        groups = np.arange((n_units + 3) // 4, dtype=np.uint64)
        h = _mix64(row[:, None] + groups[None, :] * _GROUP)
        shifts = np.uint64(16) * np.arange(4, dtype=np.uint64)
        u = ((h[:, :, None] >> shifts) & np.uint64(0xffff)).reshape(len(ex), -1)[:, :n_units]
    return u >= np.uint64(int(rate * 65536 + 0.5))


def example_weights(sample_weight, class_weight, labels, n_samples, n_out):
    """The examples' weights (float64, shape (n_samples,)) from sample_weight
    and class_weight, or None when neither is given.  ``labels`` are the
    examples' classes (needed for class_weight)."""
    if sample_weight is None and class_weight is None:
        return None
    w = np.ones(n_samples)
    if sample_weight is not None:
        try:
            sw = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"sample_weight must be an array of numbers, one per example; got "
                            f"{describe(sample_weight)}") from None
        if sw.shape != (n_samples,):
            raise ValueError(f"sample_weight must have one weight per example, shape "
                             f"({n_samples},); got shape {sw.shape}")
        if not np.isfinite(sw).all() or (sw < 0).any():
            seen = sw[~np.isnan(sw)]
            values = (f"values from {seen.min():g} to {seen.max():g}" if seen.size
                      else "no numbers")
            raise ValueError(f"sample_weight must be finite and >= 0; got {values}"
                             + (" and NaN" if np.isnan(sw).any() else ""))
        w = w * sw
    if class_weight is not None:
        if labels is None:
            raise ValueError("class_weight needs class labels: give y as labels (or one-hot "
                             "targets), not other targets")
        classes, counts = np.unique(labels, return_counts=True)
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight must be a dict {{class: weight}} or 'balanced'; "
                                 f"got {class_weight!r}")
            table = dict(zip(classes.tolist(), (n_samples / (len(classes) * counts)).tolist()))
        elif isinstance(class_weight, dict):
            table = {}
            for k, v in class_weight.items():
                if isinstance(k, bool) or not isinstance(k, numbers.Integral) \
                        or not 0 <= k < n_out:
                    raise ValueError(f"class_weight has a weight for class {describe(k)}; the "
                                     f"classes are 0 .. {n_out - 1}")
                if isinstance(v, bool) or not isinstance(v, numbers.Real) \
                        or not np.isfinite(v) or v < 0:
                    raise ValueError(f"class_weight[{k}] must be a finite number >= 0; got "
                                     f"{describe(v)}")
                table[int(k)] = float(v)
        else:
            raise TypeError(f"class_weight must be a dict {{class: weight}} or 'balanced'; got "
                            f"{describe(class_weight)}")
        w = w * np.array([table.get(int(c), 1.0) for c in range(n_out)])[labels]
    if not w.sum() > 0:
        raise ValueError("the example weights sum to 0: nothing would train")
    return w
