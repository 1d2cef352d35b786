"""Initial weights and biases: the schemes ``Network(init=...)`` names.

Each draws the biases of every layer first, then the weights, as network.py
does, from a function giving standard normal values of a shape (the
network's own generator, seeded by ``seed``):

=================  =====================================  ===========
name               weights W (n_out, n_in)                biases
=================  =====================================  ===========
``normal``         N(0, 1) (network.py)                   N(0, 1)
``scaled_normal``  N(0, 1/n_in) (network2.py's default)   N(0, 1)
``xavier``         N(0, 2/(n_in + n_out)) (Glorot)        0
``he``             N(0, 2/n_in) (He et al., for ReLU)     0
=================  =====================================  ===========
"""
import numpy as np

INITS = ("normal", "scaled_normal", "xavier", "he")

_STD = {
    "normal": lambda n_in, n_out: 1.0,
    "scaled_normal": lambda n_in, n_out: 1 / np.sqrt(n_in),
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),
}


def initial_parameters(init, sizes, standard_normal):
    """(weights, biases) for layer sizes ``sizes`` by scheme ``init``.

    Parameters
    ----------
    init : str
        One of :data:`INITS`.
    sizes : list of int
    standard_normal : callable
        ``standard_normal(shape)`` -> array of N(0, 1) values, e.g.
        ``np.random.default_rng(seed).standard_normal``.

    Returns
    -------
    weights : list of ndarray (n_out, n_in)
    biases : list of ndarray (n_out, 1)
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    if init in ("normal", "scaled_normal"):
        biases = [standard_normal((n_out, 1)) for _, n_out in pairs]
    else:
        biases = [np.zeros((n_out, 1)) for _, n_out in pairs]
    std = _STD[init]
    weights = [standard_normal((n_out, n_in)) * std(n_in, n_out) for n_in, n_out in pairs]
    return weights, biases
