"""The book's results on real MNIST (Nielsen, chapters 1 and 3).

Train on the first 50,000 training images, test on the 10,000 test images,
30 epochs, mini-batch 10, float64 as the book.  A plain-NumPy implementation
of the same algorithm measured 94.4-95.2%, 96.2% and 97.8% here.
"""
import pytest

import cnet
from cnet import datasets

pytestmark = [pytest.mark.slow, pytest.mark.thread_policy]


@pytest.fixture(scope="module")
def book(mnist_dir):
    (X, y), _, (Xt, yt) = datasets.load_mnist(split="book", dtype="float64")
    assert X.shape == (50000, 784) and Xt.shape == (10000, 784)
    return X, y, Xt, yt


def _best_accuracy(book, sizes, seed, **kw):
    X, y, Xt, yt = book
    net = cnet.Network(sizes, seed=seed, cost=kw.pop("cost", "quadratic"),
                       init=kw.pop("init", "normal"))
    history = net.fit(X, y, epochs=30, batch_size=10, validation_data=(Xt, yt), **kw)
    acc = history["val_accuracy"]
    assert len(acc) == 30
    return max(acc)


def test_chapter1_784_30_10_quadratic(book):
    """Best test accuracy over 30 epochs, best of three seeds (book: 95.42%)."""
    best = max(_best_accuracy(book, [784, 30, 10], seed, eta=3.0) for seed in (1, 2, 3))
    assert best >= 0.948, best


def test_chapter3_784_30_10_cross_entropy_l2(book):
    """Cross-entropy, scaled init, eta 0.5, lmbda 5 (book: 96.5%)."""
    best = _best_accuracy(book, [784, 30, 10], 1, eta=0.5, lmbda=5.0,
                          cost="cross_entropy", init="scaled_normal")
    assert best >= 0.958, best


def test_chapter3_784_100_10_cross_entropy_l2(book):
    """100 hidden neurons, same settings (book: 97.8-97.9%)."""
    best = _best_accuracy(book, [784, 100, 10], 1, eta=0.5, lmbda=5.0,
                          cost="cross_entropy", init="scaled_normal")
    assert best >= 0.975, best


def test_keras_mnist_mlp_with_dropout_and_rmsprop(mnist_dir):
    """Keras's classic MNIST MLP example: 784-512-512-10, ReLU, dropout 0.2
    after each hidden layer, softmax, RMSprop (lr 0.001, rho 0.9, Keras's
    eps 1e-7), mini-batch 128, 20 epochs on all 60,000 training images,
    float32.  Keras reports 98.40% on the 10,000 test images; measured here
    98.47% at best and 98.18% after the last epoch (seed 0)."""
    (X, y), (Xt, yt) = datasets.load_mnist(dtype="float32")
    assert X.shape == (60000, 784)
    net = cnet.Network([784, 512, 512, 10], activation="relu", output_activation="softmax",
                       cost="log_likelihood", init="xavier", dtype="float32", seed=0)
    history = net.fit(X, y, 20, 128, 0.001,
                      optimizer=cnet.optimizers.RMSprop(alpha=0.9, eps=1e-7),
                      dropout=[0.0, 0.2, 0.2], validation_data=(Xt, yt))
    assert max(history["val_accuracy"]) >= 0.982, history["val_accuracy"]
    assert history["val_accuracy"][-1] >= 0.978, history["val_accuracy"]
