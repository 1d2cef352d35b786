"""The book's code runs unchanged with ``import cnet as network``.

Every number is checked against the book's own algorithm (network.py and
network2.py), written out here again in plain NumPy: column vectors, one
example at a time.  Small networks and data only.
"""
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnet
import cnet as network  # the whole point

# ------------------------------------------------ the book's code, in NumPy


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def book_feedforward(biases, weights, a):
    for b, w in zip(biases, weights):
        a = sigmoid(np.dot(w, a) + b)
    return a


def book_backprop(biases, weights, x, y, cost="quadratic"):
    """network.py's backprop (cost="quadratic"); network2.py's CrossEntropyCost
    delta (a - y) for cost="cross_entropy"."""
    num_layers = len(weights) + 1
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    if cost == "quadratic":
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    else:
        delta = activations[-1] - y
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, num_layers):
        z = zs[-l]
        sp = sigmoid_prime(z)
        delta = np.dot(weights[-l + 1].transpose(), delta) * sp
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


def book_update_mini_batch(biases, weights, mini_batch, eta, lmbda=0.0, n=None,
                           cost="quadratic"):
    """network.py's update (lmbda=0) or network2.py's, returning new lists."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for x, y in mini_batch:
        delta_nabla_b, delta_nabla_w = book_backprop(biases, weights, x, y, cost)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    if n is None:
        weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(weights, nabla_w)]
    else:
        weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                   for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(biases, nabla_b)]
    return biases, weights


def book_cross_entropy_total_cost(biases, weights, data, lmbda):
    """network2.py's total_cost(data, lmbda, convert=False) for one-hot y columns."""
    cost = 0.0
    for x, y in data:
        a = book_feedforward(biases, weights, x)
        cost += np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))) / len(data)
    cost += 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in weights)
    return cost


def copies(arrays):
    return [np.array(a, dtype=np.float64) for a in arrays]


def rel_close(actual, desired, rtol=1e-10):
    """|actual - desired| <= rtol * max|desired| per array: a relative bound
    that does not blow up on the entries that happen to be near zero."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape
    scale = np.max(np.abs(desired))
    assert scale > 0, "a zero reference cannot tell right from wrong"
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


# ------------------------------------------------------------------ data


def random_pairs(n, n_in, n_out, seed, one_hot=True):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(n):
        x = rng.random((n_in, 1))
        k = int(rng.integers(n_out))
        pairs.append((x, np.eye(n_out)[k].reshape(-1, 1) if one_hot else k))
    return pairs


@pytest.fixture(scope="module")
def sample():
    """500 training and 100 test examples of the shipped MNIST sample, book format."""
    (X, y), (Xt, yt) = cnet.datasets.load_sample(dtype="float64")
    X, y, Xt, yt = X[:500], y[:500], Xt[:100], yt[:100]
    return dict(X=X, y=y, Xt=Xt, yt=yt,
                training_data=cnet.datasets.to_tuples(X, y, one_hot=True),
                test_data=cnet.datasets.to_tuples(Xt, yt, one_hot=False))


# ----------------------------------------------------------------- shapes


@pytest.mark.parametrize("sizes", [[784, 30, 10], [5, 4, 3, 2], [1, 1], [3, 7]])
def test_shapes(sizes):
    net = network.Network(sizes)
    assert net.sizes == sizes
    assert net.num_layers == len(sizes)
    assert len(net.weights) == len(net.biases) == len(sizes) - 1
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        assert net.weights[l].shape == (n_out, n_in)
        assert net.biases[l].shape == (n_out, 1)


def test_initial_parameters_are_random_and_seeded():
    a, b, c = (network.Network([5, 4, 3], seed=s) for s in (1, 1, 2))
    for p, q, r in zip(a.weights + a.biases, b.weights + b.biases, c.weights + c.biases):
        assert_array_equal(p, q)
        assert not np.array_equal(p, r)


# -------------------------------------------------------------- feedforward


@pytest.mark.parametrize("sizes", [[5, 4, 3, 2], [784, 30, 10], [3, 1]])
def test_feedforward_equals_book_loop(sizes):
    net = network.Network(sizes, seed=11)
    rng = np.random.default_rng(0)
    for _ in range(3):
        a = rng.random((sizes[0], 1))
        out = net.feedforward(a)
        assert out.shape == (sizes[-1], 1)
        assert_allclose(out, book_feedforward(net.biases, net.weights, a), rtol=1e-12, atol=1e-14)


def test_editing_weights_in_place_takes_effect():
    net = network.Network([5, 4, 3, 2], seed=1)
    a = np.random.default_rng(2).random((5, 1))
    before = net.feedforward(a)
    net.weights[0][0, 0] += 1.0
    net.biases[1][:] = 0
    assert net.biases[1].sum() == 0
    after = net.feedforward(a)
    assert not np.allclose(after, before)
    assert_allclose(after, book_feedforward(net.biases, net.weights, a), rtol=1e-12, atol=1e-14)


def test_assigning_a_new_list_takes_effect():
    net = network.Network([5, 4, 3, 2], seed=1)
    a = np.random.default_rng(2).random((5, 1))
    doubled = [w * 2 for w in net.weights]
    net.weights = [w * 2 for w in net.weights]
    net.biases = [b - 1 for b in net.biases]
    expected = book_feedforward([b for b in net.biases], doubled, a)
    for w, d in zip(net.weights, doubled):
        assert_array_equal(w, d)
    assert_allclose(net.feedforward(a), expected, rtol=1e-12, atol=1e-14)


def test_item_assignment_takes_effect():
    net = network.Network([5, 4, 3, 2], seed=1)
    a = np.random.default_rng(2).random((5, 1))
    net.weights[0] = np.zeros((4, 5))
    net.biases[0] = np.full((4, 1), 0.5)
    out = net.feedforward(a)
    hidden = sigmoid(np.full((4, 1), 0.5))  # zero weights: only the bias is left
    expected = book_feedforward(net.biases[1:], net.weights[1:], hidden)
    assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    # ... and training continues from the assigned values
    assert_array_equal(net.weights[0], np.zeros((4, 5)))
    net.update_mini_batch(random_pairs(3, 5, 2, seed=4), 0.5)
    assert not np.array_equal(net.weights[0], np.zeros((4, 5)))


def test_book_style_update_by_assignment_trains():
    """network.py's update_mini_batch assigns new lists to self.weights/biases."""
    net = network.Network([5, 4, 3, 2], seed=1)
    batch = random_pairs(4, 5, 2, seed=3)
    expected_b, expected_w = book_update_mini_batch(copies(net.biases), copies(net.weights),
                                                    batch, 2.0)
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for x, y in batch:
        dnb, dnw = net.backprop(x, y)
        nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
    net.weights = [w - (2.0 / len(batch)) * nw for w, nw in zip(net.weights, nabla_w)]
    net.biases = [b - (2.0 / len(batch)) * nb for b, nb in zip(net.biases, nabla_b)]
    for p, q in zip(net.weights + net.biases, expected_w + expected_b):
        rel_close(p, q)


# ---------------------------------------------------------------- backprop


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_backprop_equals_book(dtype, rtol):
    net = network.Network([5, 4, 3, 2], dtype=dtype, seed=21)
    for x, y in random_pairs(4, 5, 2, seed=5):
        nabla_b, nabla_w = net.backprop(x, y)
        assert [b.shape for b in nabla_b] == [b.shape for b in net.biases]
        assert [w.shape for w in nabla_w] == [w.shape for w in net.weights]
        ref_b, ref_w = book_backprop(copies(net.biases), copies(net.weights),
                                     x.astype(np.float64), y)
        for got, ref in zip(nabla_b + nabla_w, ref_b + ref_w):
            rel_close(got, ref, rtol)


def test_backprop_int_label_equals_one_hot_column():
    net = network.Network([5, 4, 3, 2], seed=21)
    for (x, y), (_, k) in zip(random_pairs(3, 5, 2, seed=5), random_pairs(3, 5, 2, seed=5,
                                                                           one_hot=False)):
        (gb, gw), (rb, rw) = net.backprop(x, k), net.backprop(x, y)
        for got, ref in zip(gb + gw, rb + rw):
            assert_array_equal(got, ref)


def test_backprop_cross_entropy_equals_network2():
    net = network.Network([5, 4, 3, 2], cost=network.CrossEntropyCost, seed=22)
    for x, y in random_pairs(3, 5, 2, seed=6):
        nabla_b, nabla_w = net.backprop(x, y)
        ref_b, ref_w = book_backprop(copies(net.biases), copies(net.weights), x, y,
                                     "cross_entropy")
        for got, ref in zip(nabla_b + nabla_w, ref_b + ref_w):
            rel_close(got, ref)


def test_backprop_matches_central_differences():
    """Independent of the book's code: dC/dw from the cost itself."""
    net = network.Network([5, 4, 3, 2], seed=23)
    x, y = random_pairs(1, 5, 2, seed=7)[0]
    weights, biases = copies(net.weights), copies(net.biases)
    nabla_b, nabla_w = net.backprop(x, y)

    def cost():
        return 0.5 * np.sum((book_feedforward(biases, weights, x) - y) ** 2)

    h = 1e-6
    for params, grads in ((weights, nabla_w), (biases, nabla_b)):
        for p, g in zip(params, grads):
            numeric = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                keep = p[i]
                p[i] = keep + h
                up = cost()
                p[i] = keep - h
                down = cost()
                p[i] = keep
                numeric[i] = (up - down) / (2 * h)
            assert np.abs(numeric).max() > 1e-6
            assert_allclose(g, numeric, rtol=5e-6, atol=1e-9)


# ------------------------------------------------------- update_mini_batch


def test_update_mini_batch_equals_network_py():
    net = network.Network([5, 4, 3, 2], seed=31)
    batch = random_pairs(7, 5, 2, seed=8)
    for step in range(3):
        ref_b, ref_w = book_update_mini_batch(copies(net.biases), copies(net.weights), batch, 3.0)
        assert net.update_mini_batch(batch, 3.0) is None
        for got, ref in zip(net.biases + net.weights, ref_b + ref_w):
            rel_close(got, ref)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_update_mini_batch_equals_network2_py(cost):
    net = network.Network([5, 4, 3, 2], cost=cost, seed=32)
    batch = random_pairs(6, 5, 2, seed=9)
    eta, lmbda, n = 0.5, 5.0, 50
    ref_b, ref_w = book_update_mini_batch(copies(net.biases), copies(net.weights), batch,
                                          eta, lmbda, n, cost)
    net.update_mini_batch(batch, eta, lmbda, n)
    for got, ref in zip(net.biases + net.weights, ref_b + ref_w):
        rel_close(got, ref)
    # the decay really is applied: without it the weights differ
    net2 = network.Network([5, 4, 3, 2], cost=cost, seed=32)
    net2.update_mini_batch(batch, eta)
    assert not np.allclose(net2.weights[0], net.weights[0])


def test_update_mini_batch_with_int_labels():
    """Labels as ints (the test-data format) train like one-hot columns."""
    a, b = network.Network([5, 4, 3], seed=33), network.Network([5, 4, 3], seed=33)
    onehot = random_pairs(5, 5, 3, seed=10)
    labels = [(x, int(np.argmax(y))) for x, y in onehot]
    a.update_mini_batch(onehot, 1.0)
    b.update_mini_batch(labels, 1.0)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        assert_array_equal(p, q)


# ---------------------------------------------------------------- evaluate


def test_evaluate_equals_book(sample):
    net = network.Network([784, 10, 10], seed=41)
    net.SGD(sample["training_data"], 1, 10, 3.0, verbose=False, n_threads=1)
    test_data = sample["test_data"]
    expected = sum(int(np.argmax(book_feedforward(net.biases, net.weights, x)) == y)
                   for x, y in test_data)
    assert 0 < expected < len(test_data)
    assert net.evaluate(test_data) == expected
    assert net.evaluate(test_data) == sum(int(np.argmax(net.feedforward(x)) == y)
                                          for x, y in test_data)
    assert net.accuracy(test_data) == expected  # network2.py's name


def test_evaluate_accepts_a_zip_like_the_python3_loader(sample):
    net = network.Network([784, 10, 10], seed=41)
    test_data = sample["test_data"]
    expected = net.evaluate(test_data)
    assert net.evaluate(zip([x for x, _ in test_data], [y for _, y in test_data])) == expected


# -------------------------------------------------------------------- SGD


def test_SGD_prints_like_network_py(sample, capsys):
    net = network.Network([784, 10, 10], seed=51)
    test_data = sample["test_data"]
    net.SGD(sample["training_data"][:200], 2, 10, 3.0, test_data=test_data)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for j, line in enumerate(lines):
        m = re.fullmatch(rf"Epoch {j}: (\d+) / {len(test_data)}", line)
        assert m, line
    # the last count is the book's evaluate of the trained network
    expected = sum(int(np.argmax(book_feedforward(net.biases, net.weights, x)) == y)
                   for x, y in test_data)
    assert int(m.group(1)) == expected


def test_SGD_without_test_data_prints_complete(sample, capsys):
    net = network.Network([784, 10, 10], seed=52)
    net.SGD(sample["training_data"][:50], 2, 10, 3.0)
    assert capsys.readouterr().out.splitlines() == ["Epoch 0 complete", "Epoch 1 complete"]


def test_SGD_positional_like_the_book(sample, capsys):
    """network.py: SGD(training_data, epochs, mini_batch_size, eta, test_data=None)."""
    net = network.Network([784, 10, 10], seed=53)
    net.SGD(list(sample["training_data"][:50]), 1, 10, 3.0, test_data=sample["test_data"][:20])
    assert re.fullmatch(r"Epoch 0: \d+ / 20\n", capsys.readouterr().out)


def test_SGD_network2_monitoring(sample, capsys):
    net = network.Network([784, 10, 10], cost=network.CrossEntropyCost, seed=54)
    training_data = sample["training_data"][:200]
    evaluation_data = sample["test_data"][:60]
    lmbda, epochs = 5.0, 2
    result = net.SGD(training_data, epochs, 10, 0.5, lmbda=lmbda,
                     evaluation_data=evaluation_data,
                     monitor_evaluation_accuracy=True, monitor_training_cost=True)
    out = capsys.readouterr().out
    assert isinstance(result, tuple) and len(result) == 4
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = result
    assert evaluation_cost == [] and training_accuracy == []
    assert len(evaluation_accuracy) == epochs and len(training_cost) == epochs
    acc_lines = re.findall(r"^Accuracy on evaluation data: (\d+) / (\d+)$", out, re.M)
    assert [(int(a), int(b)) for a, b in acc_lines] == [(a, 60) for a in evaluation_accuracy]
    cost_lines = re.findall(r"^Cost on training data: (\S+)$", out, re.M)
    assert [float(c) for c in cost_lines] == pytest.approx(training_cost, rel=1e-12)
    assert re.findall(r"^Epoch (\d+) training complete$", out, re.M) == ["0", "1"]
    # the last epoch's numbers, recomputed the book's way
    ws, bs = copies(net.weights), copies(net.biases)
    assert evaluation_accuracy[-1] == sum(int(np.argmax(book_feedforward(bs, ws, x)) == y)
                                          for x, y in evaluation_data)
    assert training_cost[-1] == pytest.approx(
        book_cross_entropy_total_cost(bs, ws, training_data, lmbda), rel=1e-9)


def test_SGD_network2_all_monitors(sample, capsys):
    net = network.Network([784, 10, 10], cost=network.CrossEntropyCost, seed=55)
    training_data = sample["training_data"][:100]
    evaluation_data = sample["test_data"][:40]
    ec, ea, tc, ta = net.SGD(training_data, 3, 10, 0.5, lmbda=1.0,
                             evaluation_data=evaluation_data,
                             monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                             monitor_training_cost=True, monitor_training_accuracy=True)
    assert [len(v) for v in (ec, ea, tc, ta)] == [3, 3, 3, 3]
    out = capsys.readouterr().out
    assert len(re.findall(r"^Accuracy on training data: \d+ / 100$", out, re.M)) == 3
    assert len(re.findall(r"^Cost on evaluation data: ", out, re.M)) == 3
    ws, bs = copies(net.weights), copies(net.biases)
    assert ta[-1] == sum(int(np.argmax(book_feedforward(bs, ws, x)) == np.argmax(y))
                         for x, y in training_data)


# -------------------------------------------- network2's cost and initializers


def test_network2_constructor_and_initializers():
    sizes = [400, 100, 100]
    net = network.Network(sizes, cost=network.CrossEntropyCost, seed=61)

    def check(std_w):
        # 5 standard errors: the sample std of k normal draws has rel. error ~1/sqrt(2k)
        for w, b, s in zip(net.weights, net.biases, std_w):
            assert w.std() == pytest.approx(s, rel=5 / np.sqrt(2 * w.size))
            assert abs(w.mean()) < 5 * s / np.sqrt(w.size)
            assert b.std() == pytest.approx(1.0, rel=5 / np.sqrt(2 * b.size))

    net.large_weight_initializer()
    check([1.0, 1.0])
    large = [w.copy() for w in net.weights]
    net.default_weight_initializer()
    check([1 / np.sqrt(n_in) for n_in in sizes[:-1]])
    assert not np.array_equal(net.weights[0] * np.sqrt(400), large[0])  # fresh draws
    # the new weights are used
    a = np.random.default_rng(0).random((400, 1))
    assert_allclose(net.feedforward(a), book_feedforward(net.biases, net.weights, a),
                    rtol=1e-12, atol=1e-14)


def test_network2_cost_classes_by_name_and_class():
    x, y = random_pairs(1, 5, 2, seed=12)[0]
    by_class = network.Network([5, 4, 2], cost=network.CrossEntropyCost, seed=62)
    by_name = network.Network([5, 4, 2], cost="cross_entropy", seed=62)
    for p, q in zip(by_class.backprop(x, y)[1], by_name.backprop(x, y)[1]):
        assert_array_equal(p, q)
    assert network.Network([5, 4, 2], cost=network.QuadraticCost).backprop(x, y)


def test_cost_derivative():
    a, y = np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    assert_allclose(network.Network([3, 2]).cost_derivative(a, y), a - y)


# --------------------------------------------- SGD on lists == fit on arrays


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_SGD_on_tuples_equals_fit_on_arrays(sample, dtype):
    X, y = sample["X"], sample["y"]
    a = network.Network([784, 10, 10], dtype=dtype, seed=71)
    b = network.Network([784, 10, 10], dtype=dtype, seed=71)
    initial = [w.copy() for w in a.weights]
    a.SGD(cnet.datasets.to_tuples(X, y, one_hot=True), 2, 10, 3.0, verbose=False, n_threads=1)
    b.fit(X, y, epochs=2, batch_size=10, eta=3.0, n_threads=1)  # shuffle=True, the default
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        assert_array_equal(p, q)
    assert not np.array_equal(a.weights[0], initial[0])


def test_SGD_shuffles_from_the_seed(sample):
    """Same data, different seed of the shuffle only: different weights, so the
    test above would notice if one path did not shuffle."""
    X, y = sample["X"], sample["y"]
    a = network.Network([784, 10, 10], seed=71)
    b = network.Network([784, 10, 10], seed=71)
    a.SGD(cnet.datasets.to_tuples(X, y, one_hot=True), 1, 10, 3.0, verbose=False, n_threads=1)
    b.SGD(cnet.datasets.to_tuples(X, y, one_hot=True), 1, 10, 3.0, verbose=False,
          shuffle=False, n_threads=1)
    assert not np.array_equal(a.weights[0], b.weights[0])


def test_SGD_epoch_equals_book_per_example_algorithm():
    """One unshuffled SGD epoch equals network.py's loop over mini-batches."""
    net = network.Network([5, 4, 3, 2], seed=81)
    data = random_pairs(23, 5, 2, seed=13)  # 23: the last mini-batch is short
    biases, weights = copies(net.biases), copies(net.weights)
    for k in range(0, len(data), 5):
        biases, weights = book_update_mini_batch(biases, weights, data[k:k + 5], 3.0)
    net.SGD(data, 1, 5, 3.0, shuffle=False, verbose=False)
    for got, ref in zip(net.biases + net.weights, biases + weights):
        rel_close(got, ref)
