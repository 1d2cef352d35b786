"""net.input_gradient, loss-sensitivity, Gini and the critical sample ratio
(cnet.memorization)."""
import numpy as np
import pytest

import cnet
from cnet import datasets, memorization

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUTS = [("sigmoid", "quadratic"), ("identity", "quadratic"), ("tanh", "quadratic"),
           ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood")]


def _numerical(net, X, T, eps=1e-5):
    """Central differences of each example's own cost, one input at a time
    (eps 1e-5: at 1e-6 the rounding of ln(1 - a) near a saturated sigmoid
    output, in the cost, not the gradient, already shows at 1e-6)."""
    F = np.zeros_like(X)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            xp, xm = X[i].copy(), X[i].copy()
            xp[j] += eps
            xm[j] -= eps
            cp = net.cost.fn(net.forward(xp[None]), T[i:i + 1])[0]
            cm = net.cost.fn(net.forward(xm[None]), T[i:i + 1])[0]
            F[i, j] = (cp - cm) / (2 * eps)
    return F


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output, cost", OUTPUTS)
def test_matches_central_differences(hidden, output, cost):
    rng = np.random.default_rng(0)
    X = rng.random((6, 9)) - 0.3
    labels = rng.integers(0, 4, 6)
    T = np.eye(4)[labels]
    net = cnet.Network([9, 7, 5, 4], activation=hidden, output_activation=output, cost=cost,
                       seed=2)
    G = net.input_gradient(X, labels)
    F = _numerical(net, X, T)
    assert G.shape == X.shape and G.dtype == np.float64
    assert np.abs(G - F).max() <= 1e-6 * np.abs(F).max()
    np.testing.assert_array_equal(net.input_gradient(X, T), G)  # targets as labels


def test_float32_threads_and_chunks():
    (X, y), _ = datasets.load_sample()
    X, y = X[:700], y[:700]  # more rows than one chunk of the kernel's scratch
    net = cnet.Network([784, 64, 32, 10], activation="relu", output_activation="softmax",
                       cost="log_likelihood", init="he", seed=0)
    G = net.input_gradient(X, y, n_threads=1)
    np.testing.assert_array_equal(net.input_gradient(X, y, n_threads=2), G)
    rows = np.concatenate([net.input_gradient(X[i:i + 1], y[i:i + 1]) for i in (0, 300, 699)])
    np.testing.assert_allclose(rows, G[[0, 300, 699]], rtol=1e-12, atol=1e-15)
    net32 = cnet.Network([784, 64, 32, 10], activation="relu", output_activation="softmax",
                         cost="log_likelihood", init="he", seed=0, dtype="float32")
    net32.weights = [w.astype(np.float32) for w in net.weights]
    net32.biases = [b.astype(np.float32) for b in net.biases]
    G32 = net32.input_gradient(X, y)
    assert G32.dtype == np.float32
    np.testing.assert_allclose(G32, G, rtol=1e-3, atol=1e-5 * np.abs(G).max())
    with pytest.raises(ValueError, match="X is empty"):
        net.input_gradient(X[:0], y[:0])


def test_input_gradient_bad_input():
    net = cnet.Network([3, 4, 2], seed=0)
    with pytest.raises(ValueError):
        net.input_gradient(np.zeros((2, 5)), [0, 1])
    with pytest.raises(ValueError):
        net.input_gradient(np.array([[0.0, np.nan, 1.0]]), [0])
    with pytest.raises(ValueError):
        net.input_gradient(np.zeros((2, 3)), [0, 5])


def test_loss_sensitivity_is_the_gradients_norm():
    rng = np.random.default_rng(1)
    X, y = rng.random((20, 6)), rng.integers(0, 3, 20)
    net = cnet.Network([6, 8, 3], activation="tanh", output_activation="softmax",
                       cost="log_likelihood", seed=0)
    G = net.input_gradient(X, y)
    np.testing.assert_allclose(memorization.loss_sensitivity(net, X, y), np.abs(G).sum(axis=1))
    np.testing.assert_allclose(memorization.loss_sensitivity(net, X, y, ord=2),
                               np.sqrt((G ** 2).sum(axis=1)))
    with pytest.raises(ValueError, match="ord must be"):
        memorization.loss_sensitivity(net, X, y, ord=3)


def test_gini():
    rng = np.random.default_rng(2)
    v = rng.random(200) ** 3
    slow = np.abs(v[:, None] - v[None, :]).sum() / (2 * v.size ** 2 * v.mean())
    assert memorization.gini(v) == pytest.approx(slow, rel=1e-12)
    assert memorization.gini(np.full(10, 3.0)) == pytest.approx(0.0, abs=1e-15)
    assert memorization.gini([0, 0, 0, 5]) == pytest.approx(0.75)
    assert memorization.gini(np.zeros(4)) == 0.0
    for bad in ([], [1.0, -1.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="gini"):
            memorization.gini(bad)


@pytest.fixture(scope="module")
def trained():
    (X, y), _ = datasets.load_sample()
    net = cnet.Network([784, 32, 10], activation="relu", output_activation="softmax",
                       cost="log_likelihood", init="he", seed=0)
    net.fit(X[:2000], y[:2000], 3, 20, 0.1, n_threads=1)
    return net, X[:100]


def test_critical_sample_ratio_bounds(trained):
    net, X = trained
    # a box so wide and steps so long that every class is reachable: all critical
    ratio, mask = memorization.critical_sample_ratio(net, X, alpha=0.5, r=50.0, max_iter=20,
                                                     seed=0, return_mask=True)
    assert ratio == 1.0 and mask.all()
    # a box too small to move anything: none
    assert memorization.critical_sample_ratio(net, X, r=1e-9, max_iter=5, seed=0) == 0.0


def test_critical_sample_ratio_is_seeded_and_in_between(trained):
    net, X = trained
    kw = dict(alpha=0.02, beta=0.01, r=0.06, max_iter=30)
    a = memorization.critical_sample_ratio(net, X, seed=3, return_mask=True, **kw)
    b = memorization.critical_sample_ratio(net, X, seed=3, return_mask=True, **kw)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert 0 < a[0] < 1, a[0]
    assert a[0] == a[1].mean()
    # a larger box finds at least as many here (seeded: the same draws; in
    # general clipping changes the paths, so this is a check of this case)
    wider = memorization.critical_sample_ratio(net, X, seed=3, **{**kw, "r": 0.3})
    assert wider >= a[0]


@pytest.mark.parametrize("kw, match", [
    (dict(alpha=0), "alpha must be a number > 0"), (dict(r=-1), "r must be a number > 0"),
    (dict(r=float("inf")), "r must be"), (dict(beta=-0.1), "beta must be a number >= 0"),
    (dict(max_iter=0), "max_iter must be an int >= 1"),
])
def test_critical_sample_ratio_bad_input(trained, kw, match):
    net, X = trained
    with pytest.raises(ValueError, match=match):
        memorization.critical_sample_ratio(net, X, **kw)


def test_critical_sample_ratio_checks_y(trained):
    net, X = trained
    with pytest.raises(ValueError, match="one label .* per example of X"):
        memorization.critical_sample_ratio(net, X, y=[0, 1])
    with pytest.raises(ValueError):  # a label the network does not have
        memorization.critical_sample_ratio(net, X[:3], y=[0, 1, 10], max_iter=1)
