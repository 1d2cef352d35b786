"""Costs C of one example, and which output activation each fits.

As in Nielsen's network2.py, each cost is a small class with ``fn(a, y)``
(the cost of an output a for target y) and ``delta(z, a, y)`` (the error
delta = dC/dz of the output layer); these plain-NumPy versions are the
reference the kernels are tested against.  The kernels use the textbook
shortcut delta = a - y where it holds (sigmoid + cross-entropy,
softmax + log-likelihood).

Logs clip a to [eps, 1 - eps] (eps: the dtype's machine epsilon) so that a
saturated output reads as a large finite cost, not an infinite one.
"""
import numpy as np

from . import activations
from ._validation import describe


def _log(a):
    eps = np.finfo(a.dtype).eps if a.dtype.kind == "f" else np.finfo(float).eps
    return np.log(np.where(a < eps, eps, a))


class QuadraticCost:
    """C = ||a - y||^2 / 2 (network.py); any element-wise output activation."""

    name = "quadratic"
    code = 0
    outputs = activations.HIDDEN

    @staticmethod
    def fn(a, y):
        return 0.5 * np.sum((a - y) ** 2, axis=-1)

    @staticmethod
    def delta(z, a, y, activation="sigmoid"):
        return (a - y) * activations.derivative(activation, z)


class CrossEntropyCost:
    """C = -sum[y ln a + (1 - y) ln(1 - a)] (network2.py); sigmoid outputs."""

    name = "cross_entropy"
    code = 1
    outputs = ("sigmoid",)

    @staticmethod
    def fn(a, y):
        return -np.sum(np.where(y != 0, y * _log(a), 0)
                       + np.where(y != 1, (1 - y) * _log(1 - a), 0), axis=-1)

    @staticmethod
    def delta(z, a, y, activation="sigmoid"):
        return a - y


class LogLikelihoodCost:
    """C = -ln a_y (Nielsen ch. 3) = -sum y ln a for one-hot y; softmax outputs."""

    name = "log_likelihood"
    code = 2
    outputs = ("softmax",)

    @staticmethod
    def fn(a, y):
        return -np.sum(np.where(y != 0, y * _log(a), 0), axis=-1)

    @staticmethod
    def delta(z, a, y, activation="softmax"):
        return a - y


COSTS = {c.name: c for c in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}

# Classes that stand for one of the costs above: cnet's own, and the book's
# (cnet.book.network2 registers its QuadraticCost and CrossEntropyCost, whose
# fn and delta take one column vector, as network2.py's do).  The kernels
# compute the cost, so a class of the user's own cannot be trained with.
_STANDS_FOR = {c: c for c in COSTS.values()}


def register(cls, same_as):
    """Let ``cls`` (and its instances) stand for cnet's cost class ``same_as``."""
    _STANDS_FOR[cls] = _STANDS_FOR[same_as]


def resolve(cost, output_activation):
    """cnet's cost class for a name, a cost class or an instance of one (as
    network2.py's scripts pass ``CrossEntropyCost()``), checked against the
    output layer."""
    cls = None
    if isinstance(cost, BoundCost):  # another network's net.cost
        cost = cost.cls
    if isinstance(cost, str):
        cls = COSTS.get(cost)
    else:
        cls = _STANDS_FOR.get(cost if isinstance(cost, type) else type(cost))
    if cls is None:
        raise ValueError(
            f"cost must be one of {', '.join(repr(c) for c in COSTS)}, or one of cnet's cost "
            f"classes (cnet.QuadraticCost, ..., cnet.book.network2.CrossEntropyCost) or an "
            f"instance of one; got {describe(cost)}. The kernels compute the cost, so a cost "
            f"class of your own cannot be trained with"
        )
    if output_activation not in cls.outputs:
        fits = ", ".join(repr(a) for a in cls.outputs)
        raise ValueError(
            f"cost={cls.name!r} does not fit output_activation={output_activation!r}: "
            f"it needs an output activation in ({fits})"
            + ("; use cost='log_likelihood' with softmax" if output_activation == "softmax" else "")
        )
    return cls


class BoundCost:
    """``net.cost`` of a :class:`cnet.Network`: its cost, bound to it.

    Called on arrays it is the mean cost over the samples (plus the L2 term
    when ``lmbda`` > 0)::

        net.cost(X, y, lmbda=0.0, n_threads=None)

    and it carries the cost class's ``fn(a, y)`` and ``delta(z, a, y)``, as
    network2.py's ``net.cost`` does (``fn`` of one output column ``a`` of
    shape (n_out, 1) is that example's cost, as in the book), its ``name``
    and the class itself, ``cls``.
    """

    def __init__(self, cls, evaluate):
        self.cls = cls
        self.name = self.__name__ = cls.name
        self._evaluate = evaluate

    def __call__(self, X, y, lmbda=0.0, n_threads=None):
        return self._evaluate(X, y, lmbda, n_threads)

    def fn(self, a, y):
        a, y = np.asarray(a), np.asarray(y)
        if a.ndim == 2 and a.shape[1] == 1 and y.shape == a.shape:  # one column, the book's
            return float(self.cls.fn(a.T, y.T)[0])
        return self.cls.fn(a, y)

    def delta(self, z, a, y):
        return self.cls.delta(z, a, y)

    def __repr__(self):
        return f"<cost {self.name!r} of a cnet.Network>"
