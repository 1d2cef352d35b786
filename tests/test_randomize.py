"""cnet.randomize: Zhang et al.'s randomised copies of a data set."""
import numpy as np
import pytest

import cnet
from cnet import datasets, randomize


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_corruption_rate_is_p_times_one_minus_one_over_k(p):
    k, n = 10, 200_000
    y = np.random.default_rng(1).integers(0, k, n)
    y_new, replaced = randomize.corrupt_labels(y, p, seed=3)
    changed = (y_new != y).mean()
    expected = p * (1 - 1 / k)
    se = np.sqrt(expected * (1 - expected) / n)
    assert abs(changed - expected) <= 3 * se + 1e-12
    # the draws: a fraction p of the examples, and only they may change
    assert abs(replaced.mean() - p) <= 3 * np.sqrt(p * (1 - p) / n) + 1e-12
    assert not np.any((y_new != y) & ~replaced)
    assert y_new.dtype == y.dtype and y_new.shape == y.shape
    if p > 0:  # the replaced labels are uniform over the k classes
        counts = np.bincount(y_new[replaced], minlength=k)
        m = replaced.sum()
        assert np.all(np.abs(counts - m / k) <= 4 * np.sqrt(m / k))


def test_replaced_marks_exactly_the_draws():
    # with two classes a replaced label keeps its class half of the time:
    # replaced is where a draw happened, not where the label changed
    y = np.zeros(10_000, dtype=np.int64)
    y_new, replaced = randomize.corrupt_labels(y, 0.5, n_classes=2, seed=0)
    assert set(np.unique(y_new[~replaced])) == {0}
    assert 0.4 < y_new[replaced].mean() < 0.6
    # the same draws from the same generator, by hand
    rng = np.random.default_rng(0)
    expect = rng.random(y.size) < 0.5
    np.testing.assert_array_equal(replaced, expect)


def test_same_seed_same_output_and_arguments_untouched():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 500)
    X = rng.random((50, 12)).astype(np.float32)
    y0, X0 = y.copy(), X.copy()
    for f, arg in [(lambda a, s: randomize.corrupt_labels(a, 0.3, seed=s)[0], y),
                   (lambda a, s: randomize.random_labels(a, seed=s), y),
                   (randomize.shuffle_pixels, X), (randomize.random_pixels, X),
                   (randomize.gaussian_like, X)]:
        a, b, c = f(arg, 7), f(arg, 7), f(arg, 8)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(X, X0)


def test_random_labels_is_p_one():
    y = np.arange(1000) % 10
    np.testing.assert_array_equal(randomize.random_labels(y, seed=4),
                                  randomize.corrupt_labels(y, 1.0, seed=4)[0])


def test_shuffle_pixels_is_one_fixed_permutation():
    rng = np.random.default_rng(0)
    X = rng.random((40, 30))
    S = randomize.shuffle_pixels(X, seed=5)
    # each column of S is one column of X, the same for every row
    order = [int(np.flatnonzero(X[0] == v)[0]) for v in S[0]]
    assert sorted(order) == list(range(30)) and order != list(range(30))
    np.testing.assert_array_equal(S, X[:, order])
    # the same seed shuffles a test set the same way
    T = rng.random((7, 30))
    np.testing.assert_array_equal(randomize.shuffle_pixels(T, seed=5), T[:, order])
    # images keep their shape: the permutation is over all their pixels
    imgs = X.reshape(40, 5, 6)
    np.testing.assert_array_equal(randomize.shuffle_pixels(imgs, seed=5).reshape(40, 30), S)


def test_random_pixels_permutes_each_row_on_its_own():
    X = np.tile(np.arange(20.0), (50, 1))
    R = randomize.random_pixels(X, seed=2)
    np.testing.assert_array_equal(np.sort(R, axis=1), X)  # each row a permutation of its own
    assert len({tuple(r) for r in R}) == 50  # and the permutations differ


def test_gaussian_like_has_the_data_sets_mean_and_variance():
    X = np.random.default_rng(3).random((2000, 50)).astype(np.float32) * 4 + 1
    G = randomize.gaussian_like(X, seed=1)
    assert G.shape == X.shape and G.dtype == np.float32
    n = X.size
    assert abs(G.mean() - X.mean()) < 4 * X.std() / np.sqrt(n)
    assert abs(G.var() / X.var() - 1) < 4 * np.sqrt(2 / n)
    # one mean and one variance for all values: the columns are alike
    assert np.allclose(G.mean(axis=0), X.mean(), atol=5 * X.std() / np.sqrt(2000))
    # integer images give float64 noise, float16 stays float16
    assert randomize.gaussian_like((X * 50).astype(np.uint8), seed=1).dtype == np.float64
    H = randomize.gaussian_like(X.astype(np.float16), seed=1)
    assert H.dtype == np.float16 and abs(float(H.mean(dtype=np.float64)) - X.mean()) < 0.05


def test_an_mlp_learns_shuffled_pixels_as_the_true_data():
    """A fully-connected network does not know which pixels are neighbours:
    on shuffled pixels it learns as well as on the true images."""
    (X, y), (Xt, yt) = datasets.load_sample()
    X, y = X[:4000], y[:4000]
    scores = []
    for shuffle in (False, True):
        A, B = (randomize.shuffle_pixels(X, seed=9), randomize.shuffle_pixels(Xt, seed=9)) \
            if shuffle else (X, Xt)
        net = cnet.Network([784, 64, 10], activation="relu", output_activation="softmax",
                           cost="log_likelihood", init="he", seed=0)
        net.fit(A, y, 5, 20, 0.1, n_threads=1)
        scores.append(net.score(B, yt))
    assert scores[0] > 0.85
    assert abs(scores[0] - scores[1]) < 0.03, scores


@pytest.mark.parametrize("call, error, match", [
    (lambda: randomize.corrupt_labels([0, 1, 2], 1.5), ValueError, "p must be a probability"),
    (lambda: randomize.corrupt_labels([0, 1, 2], -0.1), ValueError, "p must be a probability"),
    (lambda: randomize.corrupt_labels([0, 1, 2], float("nan")), ValueError, "p must be"),
    (lambda: randomize.corrupt_labels([0, 1, 2], "half"), ValueError, "p must be"),
    (lambda: randomize.corrupt_labels([0.5, 1.0], 0.1), TypeError, "integer class labels"),
    (lambda: randomize.corrupt_labels(["a", "b"], 0.1), TypeError, "integer class labels"),
    (lambda: randomize.corrupt_labels([0, 1, 5], 0.1, n_classes=3), ValueError,
     r"labels must lie in \[0, 3\)"),
    (lambda: randomize.corrupt_labels([-1, 1], 0.1), ValueError, "labels must lie"),
    (lambda: randomize.corrupt_labels([0, 0, 0], 0.1), ValueError, "at least 2 classes"),
    (lambda: randomize.corrupt_labels([0, 1], 0.1, n_classes=1), ValueError,
     "at least 2 classes"),
    (lambda: randomize.corrupt_labels([0, 1], 0.1, n_classes=2.5), TypeError, "n_classes"),
    (lambda: randomize.corrupt_labels(np.zeros((3, 2), int), 0.1), ValueError, "1-D"),
    (lambda: randomize.corrupt_labels([], 0.1), ValueError, "y is empty"),
    (lambda: randomize.corrupt_labels([0, 1], 0.1, seed=-1), ValueError, "seed must be >= 0"),
    (lambda: randomize.corrupt_labels([0, 1], 0.1, seed=1.5), TypeError, "seed must be"),
    (lambda: randomize.shuffle_pixels(np.zeros(5)), ValueError, "n_samples"),
    (lambda: randomize.random_pixels(np.zeros((0, 4))), ValueError, "is empty"),
    (lambda: randomize.gaussian_like(np.array([[1.0, np.nan]])), ValueError, "NaN"),
    (lambda: randomize.shuffle_pixels(np.array([["a", "b"]])), TypeError, "numbers"),
    (lambda: randomize.corrupt_labels(np.arange(4, dtype=np.uint8), 1, n_classes=1000),
     ValueError, "cannot hold class 999"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_messages_summarise_large_arguments():
    with pytest.raises(TypeError) as info:
        randomize.corrupt_labels(np.full(100_000, 0.5), 0.1)
    assert len(str(info.value)) < 200
