"""Randomised copies of a data set, for memorization experiments.

The transforms of Zhang et al. (2017), "Understanding deep learning requires
rethinking generalization": labels corrupted with probability p (random
labels at p = 1), the pixels of every image shuffled by one permutation,
each image's pixels by its own permutation, and Gaussian noise with the
data's mean and variance.  Each draws from its own generator,
``numpy.random.default_rng(seed)``, so the same seed gives the same copy;
each returns a new array and leaves its argument as it was.  The copy is
made once: train on it for every epoch (the labels are not redrawn per
epoch, as in the paper).

>>> from cnet import randomize
>>> y_noisy, replaced = randomize.corrupt_labels(y, 0.4, seed=0)
>>> X_shuffled = randomize.shuffle_pixels(X, seed=1)
>>> X_test_shuffled = randomize.shuffle_pixels(X_test, seed=1)   # the same permutation
"""
import numbers

import numpy as np

from ._validation import describe

__all__ = ["corrupt_labels", "random_labels", "shuffle_pixels", "random_pixels",
           "gaussian_like"]


def _rng(seed):
    if isinstance(seed, bool) or not (
            seed is None or isinstance(seed, (numbers.Integral, np.random.Generator,
                                              np.random.SeedSequence))):
        raise TypeError(f"seed must be None, an int >= 0, a numpy Generator or SeedSequence; "
                        f"got {describe(seed)}")
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise ValueError(f"seed must be >= 0; got {seed}")
    return np.random.default_rng(seed)


def _labels(y, n_classes):
    """y as a 1-D array of integer labels in [0, k), and k."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of integer labels; got {describe(y)}")
    if y.dtype.kind not in "iu":
        if y.dtype.kind != "f" or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise TypeError(f"y must hold integer class labels; got {describe(y)}")
    if n_classes is None:
        if y.size == 0:
            raise ValueError("y is empty: give n_classes, or labels to count them from")
        n_classes = int(y.max()) + 1
    elif isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"n_classes must be an int >= 2 or None; got {describe(n_classes)}")
    n_classes = int(n_classes)
    if n_classes < 2:
        raise ValueError(f"there must be at least 2 classes to draw from; got n_classes = "
                         f"{n_classes}")
    if y.dtype.kind in "iu" and n_classes - 1 > np.iinfo(y.dtype).max:
        raise ValueError(f"labels of dtype {y.dtype} cannot hold class {n_classes - 1}: pass "
                         f"y as a wider integer type (e.g. y.astype(np.int64))")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}); y holds values from "
                         f"{y.min()} to {y.max()}")
    return y, n_classes


def corrupt_labels(y, p, n_classes=None, seed=None):
    """Replace each label, independently with probability p, by a class drawn
    uniformly from all k classes (Zhang et al.'s label corruption).

    A replaced label may draw its own class again, so about p (1 - 1/k) of
    the labels change, as the paper defines it.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
        Class labels in [0, n_classes).
    p : float in [0, 1]
        Probability that a label is replaced.
    n_classes : int >= 2, optional
        k, the number of classes; by default ``max(y) + 1``.
    seed : None, int >= 0, numpy Generator or SeedSequence
        Source of the draws (``numpy.random.default_rng(seed)``).

    Returns
    -------
    y_new : ndarray, shape (n_samples,)
        The labels, some replaced (the dtype of ``y``).
    replaced : ndarray of bool, shape (n_samples,)
        True where a label was drawn anew (whether or not it changed).
    """
    y, k = _labels(y, n_classes)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"p must be a probability, a number in [0, 1]; got {describe(p)}")
    rng = _rng(seed)
    replaced = rng.random(y.shape[0]) < p
    drawn = rng.integers(0, k, size=y.shape[0])
    y_new = y.copy()
    y_new[replaced] = drawn[replaced]
    return y_new, replaced


def random_labels(y, n_classes=None, seed=None):
    """Every label replaced by a uniformly drawn class: ``corrupt_labels`` at
    p = 1.  Returns the new labels only."""
    return corrupt_labels(y, 1.0, n_classes, seed)[0]


def _features(X, name="X"):
    """X as an array (n_samples, ...) of finite numbers, at least one value."""
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"{name} must be an array (n_samples, n_features) or of images "
                         f"(n_samples, ...); got {describe(X)}")
    if X.size == 0:
        raise ValueError(f"{name} is empty: {describe(X)}")
    if X.dtype.kind not in "iufb":
        raise TypeError(f"{name} must hold numbers; got {describe(X)}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or infinity ({describe(X)}): clean the data first")
    return X


def shuffle_pixels(X, seed=None):
    """The input features of every example reordered by one permutation.

    Pass the same seed for the test set to shuffle it the same way.  A
    fully-connected network sees the same problem (its first layer can
    learn the permuted weights), so it should learn as well as on the true
    data: Zhang et al.'s "shuffled pixels".

    Parameters
    ----------
    X : array-like, shape (n_samples, ...)
        Examples along the first axis; the other axes are flattened for the
        permutation and restored.
    seed : None, int >= 0, numpy Generator or SeedSequence

    Returns
    -------
    ndarray, the shape and dtype of X.
    """
    X = _features(X)
    flat = X.reshape(X.shape[0], -1)
    order = _rng(seed).permutation(flat.shape[1])
    return flat[:, order].reshape(X.shape)


def random_pixels(X, seed=None):
    """Each example's features reordered by a permutation of its own
    (Zhang et al.'s "random pixels").

    Parameters and return value as :func:`shuffle_pixels`.
    """
    X = _features(X)
    flat = X.reshape(X.shape[0], -1)
    return _rng(seed).permuted(flat, axis=1).reshape(X.shape)


def gaussian_like(X, seed=None):
    """Random inputs of X's shape, each value drawn from a normal
    distribution with the mean and the variance of all of X's values (one
    mean and one variance over the whole data set, as Zhang et al.'s
    "Gaussian" inputs).

    Returns an array of X's shape, of X's dtype if it is a float type, else
    float64.
    """
    X = _features(X)
    dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
    mean = X.mean(dtype=np.float64)
    std = X.std(dtype=np.float64)
    # float32 and float64 are drawn as such (no copy); other floats (float16) in float64
    draw = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
    noise = _rng(seed).standard_normal(X.shape, dtype=draw)
    noise *= draw.type(std)
    noise += draw.type(mean)
    return noise.astype(dtype, copy=False)
