"""Back-propagation against central finite differences of the per-example cost.

The cost is evaluated by the plain-NumPy reference (cnet/reference.py), so the
compiled gradient is checked against something it shares no code with.
"""
import itertools
import zlib

import numpy as np
import pytest

import cnet
from cnet import reference
from cnet.costs import COSTS

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
# Every (output activation, cost) pairing cnet accepts.
OUTPUT_COST = [(act, "quadratic") for act in HIDDEN] + [
    ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood")]
DEPTHS = [1, 2, 3, 4]


def _example(rng, n_in, n_out, cost):
    x = rng.uniform(-1, 1, size=(n_in, 1))
    if cost == "log_likelihood":
        return x, int(rng.integers(n_out))
    return x, rng.uniform(0.05, 0.95, size=(n_out, 1))


def _cost_of(net, x, y, weights, biases):
    acts = [net.activation] * (len(weights) - 1) + [net.output_activation]
    a = reference.feedforward(weights, biases, acts, x.reshape(1, -1))[-1]
    Y = np.eye(a.shape[1])[[y]] if np.ndim(y) == 0 else y.reshape(1, -1)
    return float(COSTS[net._cost.name].fn(a, Y)[0])


def _numeric_gradient(net, x, y, h=1e-5):
    weights = [w.copy() for w in net.weights]
    biases = [b.ravel().copy() for b in net.biases]
    grads_w, grads_b = [], []
    for params, grads in ((weights, grads_w), (biases, grads_b)):
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                keep = p[idx]
                p[idx] = keep + h
                up = _cost_of(net, x, y, weights, biases)
                p[idx] = keep - h
                down = _cost_of(net, x, y, weights, biases)
                p[idx] = keep
                g[idx] = (up - down) / (2 * h)
            grads.append(g)
    return grads_b, grads_w


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("output,cost", OUTPUT_COST)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_finite_differences(hidden, output, cost, depth):
    rng = np.random.default_rng(zlib.crc32(f"{hidden}-{output}-{cost}-{depth}".encode()))
    for _ in range(20):  # redraw when every ReLU unit on the path is dead
        sizes = [5] + [int(s) for s in rng.integers(3, 8, size=depth)] + [4]
        net = cnet.Network(sizes, activation=hidden, output_activation=output, cost=cost,
                           init="scaled_normal", seed=int(rng.integers(1 << 30)))
        x, y = _example(rng, sizes[0], sizes[-1], cost)
        num_b, num_w = _numeric_gradient(net, x, y)
        if np.linalg.norm(np.concatenate([g.ravel() for g in num_w])) > 1e-3:
            break
    nabla_b, nabla_w = net.backprop(x, y)
    analytic = np.concatenate([g.ravel() for g in nabla_b + nabla_w])
    numeric = np.concatenate([g.ravel() for g in num_b + num_w])
    # Guard: a zero gradient would agree with anything.
    assert np.linalg.norm(numeric) > 1e-4
    rel = (np.linalg.norm(analytic - numeric)
           / max(np.linalg.norm(analytic), np.linalg.norm(numeric)))
    assert rel < 1e-6, f"relative error {rel:.2e}"
    for got, want in zip(nabla_w, net.weights):
        assert got.shape == want.shape
    for got, want in zip(nabla_b, net.biases):
        assert got.shape == want.shape


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_batch_gradient_matches_reference(dtype, rtol, n_threads):
    """The mean gradient over a batch (odd sizes: tiles of every shape) equals
    the NumPy reference's."""
    rng = np.random.default_rng(7)
    sizes = [13, 17, 9, 3]
    for hidden, (output, cost) in itertools.product(["sigmoid", "relu"], OUTPUT_COST[::3]):
        net = cnet.Network(sizes, activation=hidden, output_activation=output, cost=cost,
                           init="scaled_normal", dtype=dtype, seed=3)
        X = rng.uniform(-1, 1, size=(11, sizes[0]))
        labels = rng.integers(sizes[-1], size=11)
        Y = np.eye(sizes[-1])[labels]
        nabla_b, nabla_w = net.gradient(X, labels, n_threads=n_threads)
        W = [w.astype(np.float64) for w in net.weights]
        b = [v.ravel().astype(np.float64) for v in net.biases]
        acts = [hidden] * (len(sizes) - 2) + [output]
        ref_b, ref_w = reference.gradients(W, b, acts, cost, X.astype(dtype).astype(np.float64), Y)
        for got, want in zip(nabla_w + nabla_b, ref_w + ref_b):
            scale = np.abs(want).max() + 1e-30
            np.testing.assert_allclose(got.reshape(want.shape), want, rtol=rtol, atol=rtol * scale)
