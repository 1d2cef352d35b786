"""Whole epochs of the compiled SGD against the plain-NumPy reference.

Several mini-batches in a row, a smaller last batch, L2 decay, and batches
large enough that the forward pass reads W^T from packed panels kept current
by the update: all must match cnet/reference.py's sgd_epoch.
"""
import numpy as np
import pytest

import cnet
from cnet import reference

CASES = [
    dict(sizes=[20, 33, 17, 5], activation="sigmoid", output_activation="sigmoid",
         cost="quadratic"),
    dict(sizes=[20, 40, 5], activation="relu", output_activation="softmax",
         cost="log_likelihood"),
    dict(sizes=[20, 16, 5], activation="tanh", output_activation="sigmoid",
         cost="cross_entropy"),
    dict(sizes=[20, 50, 35, 5], activation="leaky_relu", output_activation="identity",
         cost="quadratic"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["activation"] + "-" + c["cost"])
@pytest.mark.parametrize("batch_size", [1, 10, 33, 64])
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-9), ("float32", 2e-4)])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_fit_matches_reference_epochs(case, batch_size, dtype, rtol, n_threads):
    rng = np.random.default_rng(batch_size)
    n = 150
    X = rng.uniform(0, 1, size=(n, case["sizes"][0])).astype(dtype)
    y = rng.integers(case["sizes"][-1], size=n)
    net = cnet.Network(case["sizes"], activation=case["activation"],
                       output_activation=case["output_activation"], cost=case["cost"],
                       init="scaled_normal", dtype=dtype, seed=1)
    W = [w.astype(np.float64) for w in net.weights]
    b = [v.ravel().astype(np.float64) for v in net.biases]
    acts = [case["activation"]] * (len(W) - 1) + [case["output_activation"]]
    eta, lmbda = 0.05, 2.0
    net.fit(X, y, epochs=2, batch_size=batch_size, eta=eta, lmbda=lmbda, shuffle=False,
            n_threads=n_threads)
    Y = np.eye(case["sizes"][-1])[y]
    for _ in range(2):
        reference.sgd_epoch(W, b, acts, case["cost"], X.astype(np.float64), Y, np.arange(n),
                            batch_size, eta, lmbda)
    for got, want in zip(net.weights + [v.ravel() for v in net.biases], W + b):
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("batch_size", [10, 64])
@pytest.mark.parametrize("targets", [False, True], ids=["labels", "one-hot targets"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_shuffled_fit_matches_reference_in_the_same_order(batch_size, targets, n_threads):
    """Shuffled epochs: the kernels read rows through the permutation and the
    labels in epoch order, and the next batch's rows are prefetched from the
    permutation; all must add up to the reference run over the same order."""
    import copy
    rng = np.random.default_rng(7)
    n, sizes = 150, [20, 40, 5]
    X = rng.uniform(0, 1, size=(n, sizes[0]))
    y = rng.integers(sizes[-1], size=n)
    Y = np.eye(sizes[-1])[y]
    net = cnet.Network(sizes, seed=3)
    W = [w.copy() for w in net.weights]
    b = [v.ravel().copy() for v in net.biases]
    orders = copy.deepcopy(net._rng)  # the generator fit draws its permutations from
    net.fit(X, Y if targets else y, epochs=2, batch_size=batch_size, eta=0.5,
            n_threads=n_threads)
    for _ in range(2):
        reference.sgd_epoch(W, b, ["sigmoid", "sigmoid"], "quadratic", X, Y,
                            orders.permutation(n), batch_size, 0.5)
    for got, want in zip(net.weights + [v.ravel() for v in net.biases], W + b):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_weights_edited_between_calls_are_used():
    """Packed panels are rebuilt at each call: an edit between two fits counts,
    whether in place or by assignment."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(96, 12))
    y = rng.integers(3, size=96)
    a = cnet.Network([12, 40, 3], seed=2)
    b = cnet.Network([12, 40, 3], seed=2)
    for net in (a, b):
        net.fit(X, y, 1, 48, 0.1, shuffle=False)
    a.weights[0][:] = 0.5
    b.weights = [np.full_like(b.weights[0], 0.5), b.weights[1]]
    W = [w.copy() for w in a.weights]
    B = [v.ravel().copy() for v in a.biases]
    for net in (a, b):
        net.fit(X, y, 1, 48, 0.1, shuffle=False)
    reference.sgd_epoch(W, B, ["sigmoid", "sigmoid"], "quadratic", X, np.eye(3)[y],
                        np.arange(96), 48, 0.1)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    np.testing.assert_allclose(a.weights[0], W[0], rtol=1e-12)


def test_pickle_and_deepcopy_keep_weights_wired_to_the_kernels():
    """A copied network trains exactly like the original, and its weights
    stay views of its own storage (edits in place take effect)."""
    import copy
    import pickle

    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, size=(60, 8))
    y = rng.integers(3, size=60)
    net = cnet.Network([8, 7, 3], seed=4)
    net.fit(X, y, 1, 10, 0.5)
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        for a, b in zip(clone.weights + clone.biases, net.weights + net.biases):
            np.testing.assert_array_equal(a, b)
        twin = pickle.loads(pickle.dumps(net))
        clone.fit(X, y, 2, 10, 0.5)
        twin.fit(X, y, 2, 10, 0.5)
        np.testing.assert_array_equal(clone.weights[0], twin.weights[0])
        assert not np.array_equal(clone.weights[0], net.weights[0])  # it trained
        clone.weights[0][:] = 0.0
        clone.biases[0][:] = 0.0
        np.testing.assert_allclose(clone.forward(X[:2])[:, :], clone.forward(X[2:4]))
