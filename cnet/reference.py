"""Plain-NumPy implementation of cnet's algorithm: the oracle.

Everything the compiled kernels do is written here again the obvious way,
with the public layout (W of shape (n_out, n_in), b of shape (n_out,),
samples in rows).  The tests hold the kernels to these functions, and the
benchmarks use them as the baselines: ``sgd_epoch`` is "plain vectorized
NumPy" (one matrix product per layer per mini-batch) and
``sgd_epoch_per_example`` is the per-example algorithm of Nielsen's
network.py.  Nothing here is on cnet's own run-time path.
"""
import numpy as np

from . import activations
from .costs import COSTS


def forward_layer(A_in, W, b, act):
    """act(A_in @ W.T + b): (m, n_in) -> (m, n_out)."""
    return activations.apply(act, A_in @ W.T + b)


def feedforward(weights, biases, acts, X):
    """All activations [X, a_1, ..., a_L] of a batch X (m, n_in)."""
    As = [X]
    for W, b, act in zip(weights, biases, acts):
        As.append(forward_layer(As[-1], W, b, act))
    return As


def _deriv_from_a(act, a):
    """sigma'(z) from a = sigma(z), as the kernels compute it."""
    if act == "sigmoid":
        return a * (1 - a)
    if act == "tanh":
        return 1 - a * a
    if act == "relu":
        return (a > 0).astype(a.dtype)
    if act == "leaky_relu":
        return np.where(a > 0, 1, activations.LEAKY_SLOPE).astype(a.dtype)
    return np.ones_like(a)


def output_delta(A, Y, act, cost):
    """(delta (m, n_out), cost of each example (m,)) of the output layer."""
    C = COSTS[cost]
    loss = C.fn(A, Y)
    if cost == "quadratic":
        delta = (A - Y) * _deriv_from_a(act, A)
    else:
        delta = A - Y
    return delta, loss


def backprop_delta(W, delta, A_prev, act_prev):
    """(delta @ W) * sigma'(z_prev): the delta of the layer below."""
    return (delta @ W) * _deriv_from_a(act_prev, A_prev)


def update(W, b, A_in, delta, scale, decay):
    """The SGD step in place: W = decay W - scale delta^T A_in, b -= scale sum delta."""
    W *= decay
    W -= scale * (delta.T @ A_in)
    b -= scale * delta.sum(axis=0)


def gradients(weights, biases, acts, cost, X, Y):
    """Mean gradient of the cost over the rows of X: (nabla_b, nabla_w) lists."""
    As = feedforward(weights, biases, acts, X)
    delta, _ = output_delta(As[-1], Y, acts[-1], cost)
    m = X.shape[0]
    nabla_w, nabla_b = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        nabla_w[l] = delta.T @ As[l] / m
        nabla_b[l] = delta.sum(axis=0) / m
        if l > 0:
            delta = backprop_delta(weights[l], delta, As[l], acts[l - 1])
    return nabla_b, nabla_w


def optimizer_epoch(optimizer, state, weights, biases, acts, cost, X, Y, order, batch_size,
                    eta, lmbda=0.0, l1=0.0):
    """One epoch with an optimizer's rule (cnet.optimizers): each mini-batch's
    mean gradient, then ``optimizer.reference_step`` with L2 ``lmbda / n``
    and L1 ``l1 / n``.  ``state``: a dict the optimizer keeps its NumPy
    state in, the same dict for every epoch."""
    n = X.shape[0]
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        nabla_b, nabla_w = gradients(weights, biases, acts, cost, X[idx], Y[idx])
        optimizer.reference_step(weights, biases, nabla_w, nabla_b, eta, lmbda / n, l1 / n,
                                 state=state)


def sgd_epoch(weights, biases, acts, cost, X, Y, order, batch_size, eta, lmbda=0.0):
    """One epoch of mini-batch SGD, one matrix product per layer per batch."""
    n = X.shape[0]
    decay = 1 - eta * lmbda / n
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        m = len(idx)
        As = feedforward(weights, biases, acts, X[idx])
        delta, _ = output_delta(As[-1], Y[idx], acts[-1], cost)
        for l in range(len(weights) - 1, -1, -1):
            below = backprop_delta(weights[l], delta, As[l], acts[l - 1]) if l > 0 else None
            update(weights[l], biases[l], As[l], delta, eta / m, decay)
            delta = below


def sgd_epoch_per_example(weights, biases, X, Y, order, batch_size, eta):
    """One epoch of network.py's algorithm (sigmoid, quadratic cost): column
    vectors, backprop one example at a time, gradients summed per batch."""
    sig = activations.sigmoid
    for start in range(0, X.shape[0], batch_size):
        idx = order[start:start + batch_size]
        nabla_b = [np.zeros_like(b) for b in biases]
        nabla_w = [np.zeros_like(w) for w in weights]
        for k in idx:
            activation = X[k].reshape(-1, 1)
            acts, zs = [activation], []
            for b, w in zip(biases, weights):
                z = w @ activation + b
                zs.append(z)
                activation = sig(z)
                acts.append(activation)
            delta = (acts[-1] - Y[k].reshape(-1, 1)) * sig(zs[-1]) * (1 - sig(zs[-1]))
            nabla_b[-1] += delta
            nabla_w[-1] += delta @ acts[-2].T
            for l in range(2, len(weights) + 1):
                sp = sig(zs[-l]) * (1 - sig(zs[-l]))
                delta = (weights[-l + 1].T @ delta) * sp
                nabla_b[-l] += delta
                nabla_w[-l] += delta @ acts[-l - 1].T
        for w, nw in zip(weights, nabla_w):
            w -= (eta / len(idx)) * nw
        for b, nb in zip(biases, nabla_b):
            b -= (eta / len(idx)) * nb
