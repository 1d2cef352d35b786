"""Measures of what a network has memorized (Arpit et al., 2017, "A Closer
Look at Memorization in Deep Networks").

* :func:`loss_sensitivity`: each example's ||dC_i/dx_i||, from the compiled
  backward pass (:meth:`cnet.Network.input_gradient`), and :func:`gini`, the
  Gini coefficient of those values: a network that has learned patterns
  shared by many examples has a few examples with large sensitivity and
  most small (a high Gini coefficient); one that memorized noise spreads
  it evenly (a low one).
* :func:`critical_sample_ratio`: the fraction of examples with an
  adversarial example within a small box around them, found by Arpit et
  al.'s Langevin search.  More critical samples mean a more complex
  decision boundary, as memorizing noise makes it.

The per-example records over training (first learned, forgetting events)
are :class:`cnet.callbacks.ExampleTracker`; the time to fit is
:class:`cnet.callbacks.StopAtTrainAccuracy`.

* :func:`run_many`: one configuration trained from many seeds (the loss
  surface studies of Choromanska et al., 2015, need hundreds), serially or
  on joblib's backends -- local processes, or a Dask or Ray cluster through
  ``joblib.parallel_config`` -- with the same numbers wherever each run
  ran; :func:`train_once` is the run it makes by default.
"""
import numbers

import numpy as np

from ._validation import describe, labels_of
from .network import Network
from .stack import NetworkStack

__all__ = ["loss_sensitivity", "gini", "critical_sample_ratio", "train_once", "run_many"]


def loss_sensitivity(net, X, y, ord=1, n_threads=None):
    """Each example's loss-sensitivity, the norm of the gradient of its own
    cost with respect to its input, ``||dC_i/dx_i||`` (the 1-norm by
    default, as Arpit et al.).

    Parameters
    ----------
    net : cnet.Network
    X : array-like (n_samples, n_in)
    y : labels (n_samples,) or targets (n_samples, n_out)
    ord : 1, 2 or numpy.inf
        The norm.
    n_threads : int or None

    Returns
    -------
    ndarray (n_samples,), float64
    """
    if ord not in (1, 2, np.inf):
        raise ValueError(f"ord must be 1, 2 or numpy.inf; got {describe(ord)}")
    G = net.input_gradient(X, y, n_threads=n_threads)
    return np.linalg.norm(G.astype(np.float64, copy=False), ord=ord, axis=1)


def gini(values):
    """The Gini coefficient of non-negative values: 0 when all are equal,
    towards 1 when one holds everything.

    ``sum_i sum_j |v_i - v_j| / (2 n^2 mean(v))``, computed from the sorted
    values in O(n log n).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("gini of no values: give at least one")
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError(f"gini needs finite values >= 0; got {describe(values)} with "
                         f"min {np.nanmin(v) if not np.isnan(v).all() else 'nan'}")
    total = v.sum()
    if total == 0:
        return 0.0
    v = np.sort(v)
    n = v.size
    rank = np.arange(1, n + 1)
    return float(np.sum((2 * rank - n - 1) * v) / (n * total))


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 \
            or not np.isfinite(value):
        raise ValueError(f"{name} must be a number > 0; got {describe(value)}")
    return float(value)


def critical_sample_ratio(net, X, y=None, alpha=0.25 / 255, beta=0.2 / 255, r=0.3 / 255,
                          max_iter=100, seed=None, n_threads=None, return_mask=False):
    """The fraction of examples that are critical: an input within ``r`` of
    them (in every coordinate) gets another class, found by Arpit et al.'s
    Langevin adversarial sample search.

    From each x, up to ``max_iter`` steps
    ``x' <- clip(x' + alpha sign(dC/dx') + beta N(0, 1), x - r, x + r)``;
    x is critical as soon as the predicted class of x' differs from that of
    x.  All examples take their steps together (each step one compiled pass
    forward and back over those not yet found critical).  The defaults are
    for inputs scaled to [0, 1] (Arpit et al.'s, given for [0, 255]).

    Parameters
    ----------
    net : cnet.Network (a classifier)
    X : array-like (n_samples, n_in)
    y : labels or None
        The labels whose cost the search climbs; None: the network's own
        predictions for X (no labels needed).
    alpha, beta, r : float > 0, >= 0, > 0
        Step along the gradient's sign, the noise's scale, the box's half
        width.
    max_iter : int >= 1
    seed : None or int >= 0
        The noise's generator (numpy.random.default_rng).
    return_mask : bool
        Also return which examples were critical.

    Returns
    -------
    float, or (float, ndarray of bool) with return_mask
    """
    alpha, r = _positive(alpha, "alpha"), _positive(r, "r")
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0 \
            or not np.isfinite(beta):
        raise ValueError(f"beta must be a number >= 0; got {describe(beta)}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1; got {describe(max_iter)}")
    if net.sizes[-1] < 2:
        raise ValueError("critical_sample_ratio needs a classifier of 2 or more outputs")
    x0 = np.asarray(net.forward(X, n_threads=n_threads), dtype=np.float64)  # checks X
    classes = labels_of(x0)
    X = np.array(X, dtype=net.dtype, order="C")
    if X.shape[0] == 0:
        raise ValueError("critical_sample_ratio of no examples: X is empty")
    target = classes if y is None else np.asarray(y)
    if target.ndim not in (1, 2) or target.shape[0] != X.shape[0]:
        raise ValueError(f"y must hold one label (or target row) per example of X "
                         f"({X.shape[0]}); got {describe(y)}")
    rng = np.random.default_rng(seed)
    lo, hi = X - r, X + r
    Xa = X.copy()
    critical = np.zeros(X.shape[0], dtype=bool)
    live = np.arange(X.shape[0])
    for _ in range(int(max_iter)):
        G = net.input_gradient(Xa[live], target[live], n_threads=n_threads)
        step = alpha * np.sign(G) + beta * rng.standard_normal(G.shape)
        Xa[live] = np.clip(Xa[live] + step.astype(net.dtype), lo[live], hi[live])
        flipped = labels_of(net.forward(Xa[live], n_threads=n_threads)) != classes[live]
        critical[live[flipped]] = True
        live = live[~flipped]
        if live.size == 0:
            break
    ratio = float(critical.mean())
    return (ratio, critical) if return_mask else ratio


def train_once(seed, sizes, X, y, epochs, batch_size, eta, validation_data=None,
               network=None, **fit_kw):
    """One seeded run: a new ``cnet.Network(sizes, seed=seed, **network)``
    trained by ``fit(X, y, epochs, batch_size, eta, n_threads=1, **fit_kw)``.

    Returns a dict of numbers: seed, epochs (trained), train_cost,
    train_accuracy (classifiers), and with ``validation_data`` val_cost and
    val_accuracy, all after the last epoch, and seconds (of training).
    """
    net = Network(list(sizes), seed=seed, **(network or {}))
    history = net.fit(X, y, epochs, batch_size, eta, validation_data=validation_data,
                      n_threads=fit_kw.pop("n_threads", 1), **fit_kw)
    return _record(seed, net, history, X, y, validation_data, sum(history["seconds"]))


def train_stack(seeds, sizes, X, y, epochs, batch_size, eta, validation_data=None,
                network=None, **fit_kw):
    """train_once for several seeds at once, as one :class:`cnet.NetworkStack`
    (one compiled call per epoch for all of them): a list of train_once's
    dicts, seconds being each run's share of the stack's.  Every run sees
    the sample order drawn from the first seed (with ``shuffle=False``,
    each run's numbers are train_once's, bit for bit)."""
    seeds = list(seeds)
    stack = NetworkStack(list(sizes), seeds, **(network or {}))
    histories = stack.fit(X, y, epochs, batch_size, eta, validation_data=validation_data,
                          n_threads=fit_kw.pop("n_threads", 1), **fit_kw)
    share = sum(histories[0]["seconds"]) / len(seeds)
    return [_record(seed, net, history, X, y, validation_data, share)
            for seed, net, history in zip(seeds, stack.networks, histories)]


def _record(seed, net, history, X, y, validation_data, seconds):
    out = {"seed": seed, "epochs": len(history["epoch"]),
           "train_cost": float(net.cost(X, y, n_threads=1)), "seconds": float(seconds)}
    if net.sizes[-1] > 1 and np.asarray(y).ndim == 1:
        out["train_accuracy"] = float(net.score(X, y, n_threads=1))
    if validation_data is not None:
        out["val_cost"] = float(history["val_cost"][-1]) if history["epoch"] else float("nan")
        out["val_accuracy"] = (float(history["val_accuracy"][-1]) if history["epoch"]
                               else float("nan"))
    return out


def _stack_size(stack, run):
    """The seeds per stack run_many's ``stack`` asks for, or 0 for none."""
    if stack is False or stack is None:
        return 0
    if stack is True:
        size = 16
    elif isinstance(stack, numbers.Integral) and stack >= 1:
        size = int(stack)
    else:
        raise ValueError(f"stack must be True, False or a number of seeds per stack >= 1; got "
                         f"{describe(stack)}")
    if run is not train_once:
        raise ValueError("stack trains train_once's runs as a NetworkStack; a run of one's "
                         "own cannot be stacked (leave stack=False)")
    return size


def _run_stack(run, seeds, config):
    return train_stack(seeds, **config)


def _run_one(run, seed, config):
    record = run(seed, **config)
    if not isinstance(record, dict):
        raise TypeError(f"run_many's run must return a dict of numbers; it returned "
                        f"{describe(record)} for seed {seed}")
    return record


def run_many(seeds, run=train_once, n_jobs=1, as_frame=False, stack=False, **config):
    """Run one configuration from each of many seeds; a table of the results.

    Parameters
    ----------
    seeds : int or iterable of int
        The seeds (an int n means 0 .. n-1).
    run : callable ``run(seed, **config) -> dict``, default :func:`train_once`
        One run.  On other processes or machines it must be importable
        there (a function of a module, not a lambda).
    n_jobs : int, default 1
        1 runs them here, one after the other; otherwise through
        ``joblib.Parallel(n_jobs)`` on the backend joblib is configured
        for: local processes (loky, the default), or a cluster inside
        ``joblib.parallel_config(backend="dask")`` (or "ray").  Each run
        trains on one thread (train_once's n_threads=1), so n_jobs runs use
        n_jobs cores; the numbers do not depend on where a run ran.
    as_frame : bool
        Return a pandas DataFrame (pandas must be installed).
    stack : bool or int, default False
        Train the seeds in stacks (:func:`train_stack`, with ``run``
        train_once): consecutive groups of ``stack`` seeds (True: 16), each
        one :class:`cnet.NetworkStack`, whose runs share the sample order
        of the group's first seed.  Several times faster for small networks;
        the groups, and so the numbers, do not depend on n_jobs.
    **config
        Passed to every run: for train_once, sizes, X, y, epochs,
        batch_size, eta, validation_data, network (a dict of Network
        arguments) and fit's keywords.

    Returns
    -------
    dict of lists (one column per key the runs returned, one row per seed,
    in the order of ``seeds``), or a DataFrame.
    """
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds; got {seeds}")
        seeds = range(int(seeds))
    try:
        seeds = [s for s in seeds]
    except TypeError:
        raise TypeError(f"seeds must be an int or an iterable of ints; got "
                        f"{describe(seeds)}") from None
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0
                        for s in seeds):
        raise ValueError(f"seeds must be ints >= 0, at least one; got {describe(seeds)}")
    if not callable(run):
        raise TypeError(f"run must be a callable run(seed, **config); got {describe(run)}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero int (-1: all cores); got {describe(n_jobs)}")
    size = _stack_size(stack, run)
    if size:
        tasks = [(_run_stack, [int(s) for s in seeds[i:i + size]])
                 for i in range(0, len(seeds), size)]
    else:
        tasks = [(_run_one, int(s)) for s in seeds]
    if n_jobs == 1:
        done = [fn(run, arg, config) for fn, arg in tasks]
    else:
        try:
            import joblib
        except ImportError:
            raise ImportError("run_many with n_jobs != 1 runs on joblib: pip install joblib "
                              "(scikit-learn brings it)") from None
        done = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(fn)(run, arg, config) for fn, arg in tasks)
    records = [r for d in done for r in d] if size else done
    keys = list(dict.fromkeys(k for r in records for k in r))
    table = {k: [r.get(k, float("nan")) for r in records] for k in keys}
    if as_frame:
        import pandas
        return pandas.DataFrame(table)
    return table
