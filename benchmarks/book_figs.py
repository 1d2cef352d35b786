"""The book's experiments that train a network, with cnet.book and with the
book's own algorithm (per example, in NumPy), timed side by side.

    python benchmarks/book_figs.py [--only cross_entropy,overfitting,...] [--json out.json]

Each experiment is the code of chapter 3 or of one of the book's fig/
scripts (cross_entropy: chapter 3's first session; overfitting:
fig/overfitting.py, 1,000 images for 400 epochs with all four monitors;
weight_initialization: fig/weight_initialization.py, default then large
initial weights, 30 epochs each; multiple_eta: fig/multiple_eta.py, three
learning rates), run once with ``cnet.book.network2`` and once with
``BookNumPy``, network2.py's algorithm one example at a time as the book
describes it (written here; the book's file itself is Python 2), each after
``random.seed`` and ``np.random.seed`` as the fig scripts do, on one thread.
Real MNIST from CNET_DATA_DIR.  Prints the time of each run, the ratio, and
the results (accuracies) of both, which agree: same seeds, same draws.
"""
import argparse
import json
import os
import random
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from contention import cpu_name  # noqa: E402


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class BookNumPy:
    """network2.py's algorithm, one example at a time, with its draws from
    np.random and random.shuffle in the book's order."""

    def __init__(self, sizes, cost="cross_entropy"):
        self.sizes, self.cost = sizes, cost
        self.default_weight_initializer()

    def default_weight_initializer(self):
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(np.dot(w, activation) + b)
            activation = sigmoid(zs[-1])
            activations.append(activation)
        delta = activations[-1] - y
        if self.cost == "quadratic":
            delta = delta * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
        for l in range(2, len(self.sizes)):
            s = sigmoid(zs[-l])
            delta = np.dot(self.weights[-l + 1].T, delta) * s * (1 - s)
            nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].T)
        return nabla_b, nabla_w

    def update_mini_batch(self, batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in batch:
            db, dw = self.backprop(x, y)
            nabla_b = [a + d for a, d in zip(nabla_b, db)]
            nabla_w = [a + d for a, d in zip(nabla_w, dw)]
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / len(batch)) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def accuracy(self, data, convert=False):
        return sum(int(np.argmax(self.feedforward(x)) == (np.argmax(y) if convert else y))
                   for x, y in data)

    def total_cost(self, data, lmbda, convert=False):
        cost = 0.0
        for x, y in data:
            a = self.feedforward(x)
            if convert:
                y = np.eye(10)[y].reshape(10, 1)
            if self.cost == "quadratic":
                cost += 0.5 * np.linalg.norm(a - y) ** 2 / len(data)
            else:
                cost += np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in self.weights)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False):
        training_data = list(training_data)
        n = len(training_data)
        ev_cost, ev_acc, tr_cost, tr_acc = [], [], [], []
        for j in range(epochs):
            random.shuffle(training_data)
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(training_data[k:k + mini_batch_size], eta, lmbda, n)
            if monitor_training_cost:
                tr_cost.append(self.total_cost(training_data, lmbda))
            if monitor_training_accuracy:
                tr_acc.append(self.accuracy(training_data, convert=True))
            if monitor_evaluation_cost:
                ev_cost.append(self.total_cost(evaluation_data, lmbda, convert=True))
            if monitor_evaluation_accuracy:
                ev_acc.append(self.accuracy(evaluation_data))
        return ev_cost, ev_acc, tr_cost, tr_acc


class NumPyModule:
    """The names a fig script takes from network2, for BookNumPy."""
    CrossEntropyCost = "cross_entropy"
    QuadraticCost = "quadratic"

    @staticmethod
    def Network(sizes, cost="cross_entropy"):
        return BookNumPy(sizes, cost)


# -- the experiments: each gets the module as the fig script's ``network2`` ----

def cross_entropy(network2, data):
    training_data, validation_data, test_data = data
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    _, ev_acc, _, _ = net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
                              monitor_evaluation_accuracy=True, **quiet(network2))
    return {"test accuracy, epochs 1 and 30": [ev_acc[0], ev_acc[-1]], "best": max(ev_acc)}


def overfitting(network2, data):
    training_data, validation_data, test_data = data
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.large_weight_initializer()
    ev_cost, ev_acc, tr_cost, tr_acc = net.SGD(
        training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
        monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
        monitor_training_cost=True, monitor_training_accuracy=True, **quiet(network2))
    return {"training accuracy, last": tr_acc[-1], "test accuracy, best": max(ev_acc),
            "training cost, last": round(float(tr_cost[-1]), 5)}


def weight_initialization(network2, data):
    training_data, validation_data, test_data = data
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    _, default, _, _ = net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
                               evaluation_data=validation_data,
                               monitor_evaluation_accuracy=True, **quiet(network2))
    net.large_weight_initializer()
    _, large, _, _ = net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
                             evaluation_data=validation_data,
                             monitor_evaluation_accuracy=True, **quiet(network2))
    return {"default init, epochs 1 and 30": [default[0], default[-1]],
            "large init, epochs 1 and 30": [large[0], large[-1]]}


def multiple_eta(network2, data):
    training_data, validation_data, test_data = data
    costs = {}
    for eta in (0.025, 0.25, 2.5):
        net = network2.Network([784, 30, 10])
        _, _, tr_cost, _ = net.SGD(training_data, 30, 10, eta, lmbda=5.0,
                                   evaluation_data=validation_data,
                                   monitor_training_cost=True, **quiet(network2))
        costs[f"eta {eta}: training cost, epochs 1 and 30"] = [round(float(tr_cost[0]), 4),
                                                              round(float(tr_cost[-1]), 4)]
    return costs


EXPERIMENTS = {"cross_entropy": cross_entropy, "overfitting": overfitting,
               "weight_initialization": weight_initialization, "multiple_eta": multiple_eta}


def quiet(network2):
    """cnet prints the book's lines; the comparison leaves them out."""
    return {} if network2 is NumPyModule else {"verbose": False}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated experiment names")
    parser.add_argument("--skip-numpy", action="store_true", help="time cnet only")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    from cnet.book import mnist_loader, network2
    data = mnist_loader.load_data_wrapper()
    names = args.only.split(",") if args.only else list(EXPERIMENTS)
    results = {"cpu": cpu_name(), "experiments": {}}
    print(f"CPU: {results['cpu']}; seeds 12345678 (random, np.random), 1 thread", flush=True)
    for name in names:
        row = {}
        for label, module in (("cnet.book.network2", network2), ("NumPy per example", NumPyModule)):
            if args.skip_numpy and module is NumPyModule:
                continue
            random.seed(12345678)
            np.random.seed(12345678)
            t0 = time.perf_counter()
            outcome = EXPERIMENTS[name](module, data)
            row[label] = {"seconds": time.perf_counter() - t0, "results": outcome}
            print(f"{name:22s} {label:20s} {row[label]['seconds']:9.2f} s  {outcome}",
                  flush=True)
        if len(row) == 2:
            ratio = row["NumPy per example"]["seconds"] / row["cnet.book.network2"]["seconds"]
            row["cnet is x faster"] = ratio
            print(f"{name:22s} cnet is {ratio:.0f}x faster", flush=True)
        results["experiments"][name] = row
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
