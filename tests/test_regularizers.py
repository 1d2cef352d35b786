"""Dropout, example weights and per-layer activations (cnet/regularizers.py,
the dropout phase and src/cnet_dropout.h in the kernels).

Dropout's masks are drawn inside the kernels from a counter-based
generator; cnet.regularizers.dropout_keep computes the same masks in NumPy,
and the tests hold the kernels to it (and so to a function of the epoch's
key, the layer, the example and the unit only).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnet
from cnet import reference, regularizers
from cnet._dispatch import kernels
from cnet._workspace import Workspace


def data(n=30, n_in=8, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.integers(0, n_out, n)


def same_bits(a, b):
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        assert_array_equal(p, q)


def numpy_gradient(net, X, y, rates, key, examples):
    """The mean gradient of the quadratic cost with the masks of dropout_keep,
    by central differences in NumPy (float64)."""
    W = [w.copy() for w in net.weights]
    b = [v.ravel().copy() for v in net.biases]
    acts = net.activations
    Y = np.eye(net.sizes[-1])[y]

    def cost(W, b):
        a = X.copy()
        for l, (Wl, bl, al) in enumerate(zip(W, b, acts)):
            if rates[l]:
                keep = regularizers.dropout_keep(key, l, examples, a.shape[1], rates[l])
                a = a * keep / (1 - rates[l])
            a = reference.forward_layer(a, Wl, bl, al)
        return np.mean(0.5 * np.sum((a - Y) ** 2, axis=1))

    grads = []
    for l in range(len(W)):
        g = np.zeros_like(W[l])
        for idx in np.ndindex(*W[l].shape):
            old = W[l][idx]
            W[l][idx] = old + 1e-6
            up = cost(W, b)
            W[l][idx] = old - 1e-6
            down = cost(W, b)
            W[l][idx] = old
            g[idx] = (up - down) / 2e-6
        grads.append(g)
    return grads


def kernel_gradient(net, X, y, rates, key, rows):
    """The kernels' mean gradient over X[rows], the examples' ids being rows."""
    params = net._kernel_params()
    grads = [(np.zeros_like(Wt), np.zeros_like(b)) for Wt, b, _, _ in params]
    ws = Workspace(params, len(rows), gradients=grads, dropout=rates)
    T = np.eye(net.sizes[-1])[y]
    kernels.gradient(X, T, None, np.asarray(rows, dtype=np.intp), ws.spec, net.cost.cls.code,
                     np.empty(len(rows)), 1, key)
    return ([gb[:k].reshape(k, 1) for (_, gb), k in zip(grads, net.sizes[1:])],
            [gW[:, :k].T for (gW, _), k in zip(grads, net.sizes[1:])])


# ------------------------------------------------------------------ dropout

@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_gradient_with_fixed_masks_passes_the_finite_difference_check(act):
    X, y = data()
    net = cnet.Network([8, 7, 6, 3], activation=act, seed=2)
    rates, key = [0.2, 0.5, 0.3], 12345
    _, nabla_w = net.gradient(X, y, dropout=rates, dropout_key=key)
    numeric = numpy_gradient(net, X, y, rates, key, np.arange(len(X)))
    for got, want in zip(nabla_w, numeric):
        assert np.linalg.norm(want) > 1e-4  # not trivially zero
        assert_allclose(got, want, rtol=1e-4, atol=1e-8 * np.abs(want).max())
    plain = net.gradient(X, y)[1]
    assert not np.allclose(plain[0], nabla_w[0])  # the masks do change it


def test_masks_are_a_function_of_the_example_not_of_its_place_in_the_batch():
    """Rows 10..19 of X as one batch (their example ids 10..19): the kernel's
    gradient is the NumPy one with the masks of those ids, not of 0..9."""
    X, y = data(seed=1)
    net = cnet.Network([8, 9, 3], activation="tanh", seed=3)
    rates, key = [0.3, 0.4], 99
    got = kernel_gradient(net, X, y, rates, key, np.arange(10, 20))[1]
    want = numpy_gradient(net, X[10:20], y[10:20], rates, key, np.arange(10, 20))
    other = numpy_gradient(net, X[10:20], y[10:20], rates, key, np.arange(10))
    for g, w, o in zip(got, want, other):
        assert_allclose(g, w, rtol=1e-5, atol=1e-9)
    assert not np.allclose(got[0], other[0], rtol=1e-3)


def test_input_masks_equal_numpys_and_drop_a_fraction_p():
    """An identity layer from ones to targets -1, W = 0: the gradient of W[0, i]
    is the mean over examples of the dropped input i, k / (1 - p): the count
    of examples keeping unit i, exactly, and p's fraction dropped overall."""
    m, n_in, p, key = 400, 300, 0.3, 2024
    net = cnet.Network([n_in, 2], activation="identity", seed=0)
    net.weights = [np.zeros((2, n_in))]
    net.biases = [np.zeros((2, 1))]
    X, T = np.ones((m, n_in)), -np.ones((m, 2))
    _, nabla_w = net.gradient(X, T, dropout=[p], dropout_key=key)
    kept = np.rint(nabla_w[0][0] * m * (1 - p))
    keep = regularizers.dropout_keep(key, 0, np.arange(m), n_in, p)
    assert_array_equal(kept, keep.sum(axis=0))
    dropped = 1 - keep.mean()
    stderr = np.sqrt(p * (1 - p) / keep.size)
    assert abs(dropped - p) < 3 * stderr


def test_dropout_rate_zero_is_todays_training_bit_for_bit():
    X, y = data()
    nets = [cnet.Network([8, 7, 6, 3], seed=4) for _ in range(3)]
    nets[0].fit(X, y, 2, 5, 0.5)
    nets[1].fit(X, y, 2, 5, 0.5, dropout=0.0)
    nets[2].fit(X, y, 2, 5, 0.5, dropout=[0, 0, 0])
    same_bits(nets[0], nets[1])
    same_bits(nets[0], nets[2])
    nets[1].fit(X, y, 1, 5, 0.5, dropout=0.5)
    assert not np.array_equal(nets[0].weights[1], nets[1].weights[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_dropout_is_the_same_on_one_and_two_threads(dtype, optimizer):
    X, y = data(n=200, n_in=50, seed=5)
    nets = []
    for threads in (1, 2):
        net = cnet.Network([50, 40, 30, 3], activation="relu", output_activation="softmax",
                           cost="log_likelihood", init="he", dtype=dtype, seed=6)
        net.fit(X, y, 2, 32, 0.05, dropout=[0.2, 0.5, 0.3], optimizer=optimizer,
                n_threads=threads)
        nets.append(net)
    same_bits(*nets)


def test_an_epoch_with_dropout_is_its_mini_batches_steps():
    """One unshuffled epoch: each mini-batch's SGD step with the gradient of
    its examples' masks (the masks of the epoch's key, drawn from the
    network's generator; the NumPy masks for the weights, the kernels' for
    the biases)."""
    X, y = data(n=40, seed=7)
    rates = [0.1, 0.4]
    net = cnet.Network([8, 12, 3], activation="sigmoid", seed=8)
    ref = cnet.Network([8, 12, 3], activation="sigmoid", seed=8)
    start_rng = ref.rng.bit_generator.state
    net.fit(X, y, 1, 10, 0.5, dropout=rates, shuffle=False)
    ref.rng.bit_generator.state = start_rng
    key = int(ref.rng.integers(0, 2 ** 63))  # what the epoch drew
    for k in range(0, 40, 10):
        rows = np.arange(k, k + 10)
        g = numpy_gradient(ref, X[rows], y[rows], rates, key, rows)
        nb = kernel_gradient(ref, X, y, rates, key, rows)[0]
        ref.weights = [w - 0.5 * gw for w, gw in zip(ref.weights, g)]
        ref.biases = [b - 0.5 * gb for b, gb in zip(ref.biases, nb)]
    for a, b in zip(net.weights, ref.weights):
        assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_inference_is_not_thinned():
    X, y = data()
    net = cnet.Network([8, 7, 3], activation="relu", seed=1)
    net.fit(X, y, 2, 5, 0.1, dropout=0.5)
    want = reference.feedforward([w for w in net.weights], [b.ravel() for b in net.biases],
                                 net.activations, X)[-1]
    assert_allclose(net.forward(X), want, rtol=1e-12)
    assert_array_equal(net.forward(X), net.forward(X))


def test_book_networks_draw_the_dropout_key_from_numpy():
    from cnet.book import network2
    X, y = data()
    pairs = cnet.datasets.to_tuples(X, y, one_hot=True, n_classes=3)
    runs = []
    for _ in range(2):
        np.random.seed(3)
        import random
        random.seed(3)
        net = network2.Network([8, 7, 3])
        net.SGD(pairs, 2, 5, 0.5, dropout=0.5, verbose=False)
        runs.append(net)
    same_bits(*runs)


@pytest.mark.parametrize("dropout, exc, match", [
    (1.0, ValueError, r"dropout must be a rate in \[0, 1\); got 1.0"),
    (-0.1, ValueError, r"dropout must be a rate in \[0, 1\)"),
    ("0.5", TypeError, "dropout must be a rate in"),
    ([0.1, 0.2], ValueError, "one rate per layer of weights, the input's first: this network "
                             "has 3"),
    ([0.1, 0.2, float("nan")], ValueError, r"dropout\[2\] must be a rate"),
    ([0.1, True, 0.2], TypeError, r"dropout\[1\] must be a rate"),
])
def test_bad_dropout(dropout, exc, match):
    X, y = data()
    with pytest.raises(exc, match=match):
        cnet.Network([8, 7, 6, 3]).fit(X, y, 1, 5, 0.1, dropout=dropout)


# ------------------------------------------------------------ example weights

def test_unit_weights_are_no_weights_bit_for_bit():
    X, y = data()
    a, b = cnet.Network([8, 7, 3], seed=1), cnet.Network([8, 7, 3], seed=1)
    a.fit(X, y, 2, 7, 0.5)
    b.fit(X, y, 2, 7, 0.5, sample_weight=np.ones(len(X)))
    same_bits(a, b)


@pytest.mark.parametrize("optimizer", [None, "momentum", "adam"])
def test_weighted_epoch_equals_the_weighted_mean_gradient(optimizer):
    """One batch of everything: the step is that of the weighted mean
    gradient sum w_s grad C_s / sum w_s (the NumPy reference, per example)."""
    X, y = data(seed=2)
    w = np.random.default_rng(3).random(len(X)) * 3
    net = cnet.Network([8, 7, 3], seed=1)
    ref = cnet.Network([8, 7, 3], seed=1)
    h = net.fit(X, y, 1, len(X), 0.5, sample_weight=w, shuffle=False, optimizer=optimizer)
    Y = np.eye(3)[y]
    gw = [np.zeros_like(v) for v in ref.weights]
    gb = [np.zeros_like(v.ravel()) for v in ref.biases]
    for s in range(len(X)):
        nb, nw = reference.gradients([v.copy() for v in ref.weights],
                                     [v.ravel().copy() for v in ref.biases], ref.activations,
                                     "quadratic", X[s:s + 1], Y[s:s + 1])
        gw = [a + w[s] * b for a, b in zip(gw, nw)]
        gb = [a + w[s] * b for a, b in zip(gb, nb)]
    gw = [g / w.sum() for g in gw]
    gb = [g / w.sum() for g in gb]
    opt = cnet.optimizers.resolve(optimizer)
    weights = [v.copy() for v in ref.weights]
    biases = [v.ravel().copy() for v in ref.biases]
    opt.reference_step(weights, biases, gw, gb, 0.5, state={})
    for a, b in zip(net.weights, weights):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    losses = ref.cost.cls.fn(ref.forward(X), Y)
    assert h["train_cost"][0] == pytest.approx(np.dot(losses, w) / w.sum(), rel=1e-12)


def test_class_weight_is_sample_weight_by_class():
    X, y = data(n=60, seed=4)
    counts = np.bincount(y, minlength=3)
    balanced = len(y) / (3 * counts)
    a, b, c = (cnet.Network([8, 7, 3], seed=2) for _ in range(3))
    a.fit(X, y, 2, 10, 0.5, class_weight="balanced")
    b.fit(X, y, 2, 10, 0.5, sample_weight=balanced[y])
    same_bits(a, b)
    c.fit(X, y, 2, 10, 0.5, class_weight={0: 2.0}, sample_weight=np.full(len(y), 0.5))
    d = cnet.Network([8, 7, 3], seed=2)
    d.fit(X, y, 2, 10, 0.5, sample_weight=np.where(y == 0, 1.0, 0.5))
    same_bits(c, d)
    e, f = cnet.Network([8, 7, 3], seed=2), cnet.Network([8, 7, 3], seed=2)
    e.fit(X, np.eye(3)[y], 1, 10, 0.5, class_weight="balanced")  # one-hot targets
    f.fit(X, y, 1, 10, 0.5, class_weight="balanced")
    same_bits(e, f)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(sample_weight=np.ones(5)), ValueError, r"one weight per example, shape \(30,\); got "
                                                 r"shape \(5,\)"),
    (dict(sample_weight=-np.ones(30)), ValueError, "sample_weight must be finite and >= 0"),
    (dict(sample_weight=np.full(30, np.nan)), ValueError, "and NaN"),
    (dict(sample_weight=["a"] * 30), TypeError, "sample_weight must be an array of numbers"),
    (dict(sample_weight=np.zeros(30)), ValueError, "the example weights sum to 0"),
    (dict(class_weight={7: 1.0}), ValueError, r"a weight for class 7; the classes are 0 .. 2"),
    (dict(class_weight={0: -1.0}), ValueError, r"class_weight\[0\] must be a finite number"),
    (dict(class_weight="even"), ValueError, "class_weight must be a dict"),
    (dict(class_weight=[1, 2, 3]), TypeError, "class_weight must be a dict"),
])
def test_bad_example_weights(kw, exc, match):
    X, y = data()
    with pytest.raises(exc, match=match):
        cnet.Network([8, 7, 3]).fit(X, y, 1, 10, 0.1, **kw)


def test_class_weight_needs_classes():
    X, _ = data()
    with pytest.raises(ValueError, match="class_weight needs class labels"):
        cnet.Network([8, 7, 3]).fit(X, np.random.rand(30, 3), 1, 10, 0.1,
                                    class_weight="balanced")


# ---------------------------------------------------- per-layer activations

def test_an_activation_per_hidden_layer():
    X, y = data()
    net = cnet.Network([8, 7, 6, 5, 3], activation=["relu", "tanh", "leaky_relu"],
                       output_activation="softmax", cost="log_likelihood", seed=1)
    assert net.activations == ["relu", "tanh", "leaky_relu", "softmax"]
    want = reference.feedforward(net.weights, [b.ravel() for b in net.biases],
                                 net.activations, X)[-1]
    assert_allclose(net.forward(X), want, rtol=1e-12)
    nb, nw = net.gradient(X, y)
    rb, rw = reference.gradients(net.weights, [b.ravel() for b in net.biases], net.activations,
                                 "log_likelihood", X, np.eye(3)[y])
    for a, b in zip(nw, rw):
        assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    net.fit(X, y, 1, 10, 0.1)
    assert cnet.Network([8, 7, 3], activation=["tanh"]).output_activation == "sigmoid"


def test_per_layer_activations_are_saved(tmp_path):
    net = cnet.Network([8, 7, 6, 3], activation=["relu", "tanh"], seed=1)
    net.save(tmp_path / "m.npz")
    back = cnet.load(tmp_path / "m.npz")
    assert back.activation == ["relu", "tanh"] and back.activations == net.activations
    X, _ = data()
    assert_array_equal(back.forward(X), net.forward(X))


@pytest.mark.parametrize("activation, match", [
    (["relu"], "one activation per hidden layer: this network has 2, the list 1"),
    (["relu", "softmax"], r"activation\[1\] must be one of"),
    (["relu", 3], r"activation\[1\] must be one of"),
    (5, "activation must be one of .* or a list"),
])
def test_bad_activation_lists(activation, match):
    with pytest.raises(ValueError, match=match):
        cnet.Network([8, 7, 6, 3], activation=activation)
