"""Divergence is caught when the steps run away, not only when a value is
NaN: saturated outputs keep the cost finite while the weights explode."""
import numpy as np
import pytest

import cnet
from cnet.datasets import load_sample

NETS = {
    "sigmoid-quadratic": dict(),
    "sigmoid-cross-entropy": dict(cost="cross_entropy"),
    "relu-softmax": dict(activation="relu", output_activation="softmax",
                         cost="log_likelihood"),
}


@pytest.fixture(scope="module")
def mnist():
    (X, y), _ = load_sample(dtype="float64")
    return X[:3000], y[:3000]


@pytest.mark.parametrize("kind", NETS)
def test_huge_eta_raises_even_with_finite_outputs(kind, mnist):
    X, y = mnist
    net = cnet.Network([784, 30, 10], seed=0, **NETS[kind])
    weights = [w.copy() for w in net.weights]
    state = net._rng.bit_generator.state
    with pytest.raises(cnet.DivergenceError, match="diverged in epoch 1.*smaller eta"):
        net.fit(X, y, epochs=3, batch_size=10, eta=1e6)
    # Left at the last good point: parameters and random generator.
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, weights))
    assert net._rng.bit_generator.state == state


def test_divergence_in_a_later_epoch_keeps_the_earlier_ones(mnist):
    X, y = mnist
    net = cnet.Network([784, 30, 10], seed=0)
    net.fit(X, y, epochs=1, batch_size=10, eta=3.0)
    good = [w.copy() for w in net.weights]
    with pytest.raises(cnet.DivergenceError):
        net.fit(X, y, epochs=2, batch_size=10, eta=1e6)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, good))


def test_update_mini_batch_catches_divergence(mnist):
    X, y = mnist
    net = cnet.Network([784, 30, 10], seed=0, activation="relu",
                       output_activation="softmax", cost="log_likelihood")
    batch = [(x.reshape(-1, 1), int(t)) for x, t in zip(X[:10], y[:10])]
    with pytest.raises(cnet.DivergenceError, match="mini-batch step diverged"):
        for _ in range(20):
            before = [w.copy() for w in net.weights]
            net.update_mini_batch(batch, 1e9)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))
    assert net._params_finite()


@pytest.mark.parametrize("eta", [1e-320, 1e-46, 1e300])
def test_eta_that_float32_cannot_hold_is_refused(eta, mnist):
    X, y = mnist
    net = cnet.Network([784, 10, 10], dtype="float32", seed=0)
    with pytest.raises(ValueError, match="eta=.*float32"):
        net.fit(X[:100], y[:100], epochs=1, batch_size=10, eta=eta)
    batch = [(X[0].reshape(-1, 1), int(y[0]))]
    with pytest.raises(ValueError, match="eta=.*float32"):
        net.update_mini_batch(batch, eta)


def test_nan_weights_edited_in_place_are_refused_not_claimed_restored(mnist):
    X, y = mnist
    net = cnet.Network([784, 10, 10], seed=0)
    net.weights[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity") as info:
        net.fit(X[:100], y[:100], epochs=1, batch_size=10, eta=0.1)
    assert "restored" not in str(info.value)


def test_sensible_training_is_not_flagged(mnist):
    X, y = mnist
    for kw, eta in [(NETS["sigmoid-quadratic"], 3.0), (NETS["sigmoid-cross-entropy"], 0.5),
                    ({**NETS["relu-softmax"], "init": "he"}, 0.1)]:
        net = cnet.Network([784, 30, 10], seed=0, **kw)
        net.fit(X, y, epochs=5, batch_size=10, eta=eta)
        assert net.score(X, y) > 0.75
