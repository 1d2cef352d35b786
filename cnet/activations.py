"""Activation functions sigma of the layers a' = sigma(W a + b).

Each has a name (what users pass), a code (what the kernels switch on; the
same numbers as the ``cpdef enum`` in src/kernels_impl.pxi) and a plain-NumPy
definition of sigma and sigma' that serves as the reference the compiled
kernels are tested against.

The kernels compute sigma'(z) from a = sigma(z) (e.g. a(1 - a) for the
sigmoid), so a layer keeps only its activations, not z.
"""
import numpy as np

from ._dispatch import kernels
from ._validation import describe

LEAKY_SLOPE = kernels.LEAKY_SLOPE  # slope of leaky_relu for z < 0 (0.01; src/cnet_act.h)

CODES = {
    "identity": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "softmax": 5,
}
HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT = HIDDEN + ("softmax",)


def check_name(name, argument, allowed):
    """Return name if it is one of allowed, else raise a ValueError naming argument."""
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(
            f"{argument} must be one of {', '.join(repr(a) for a in allowed)}; got {describe(name)}"
        )
    return name


def check_hidden(activation, n_hidden):
    """The hidden layers' activations: one name for all, or a list of one
    per hidden layer.  Returns the list."""
    if isinstance(activation, str):
        return [check_name(activation, "activation", HIDDEN)] * n_hidden
    try:
        names = list(activation)
    except TypeError:
        raise ValueError(f"activation must be one of {', '.join(map(repr, HIDDEN))}, or a list "
                         f"of them, one per hidden layer; got {describe(activation)}") from None
    if len(names) != n_hidden:
        raise ValueError(f"activation lists one activation per hidden layer: this network has "
                         f"{n_hidden}, the list {len(names)}")
    return [check_name(a, f"activation[{l}]", HIDDEN) for l, a in enumerate(names)]


def sigmoid(z):
    """1 / (1 + exp(-z)), without overflow warnings for large negative z."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    """Row-wise softmax of z (n_samples, n_out)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def apply(name, z):
    """sigma(z) for z of shape (n_samples, n_out)."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if name == "softmax":
        return softmax(z)
    return z.copy()


def derivative(name, z):
    """sigma'(z) for the element-wise activations (textbook form, from z)."""
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)
    if name == "identity":
        return np.ones_like(z)
    raise ValueError("softmax has no element-wise derivative; pair it with log_likelihood")
