"""overfitting
~~~~~~~~~~~

In the form of the book's fig/overfitting.py: train network2 on 1,000
images with the four monitors on, then plot each of the four curves.
"""
# Standard library
import json
import random
import sys

# My library
sys.path.append("../src/")  # as the book's fig scripts; here the modules sit beside
# Third-party libraries
import matplotlib
import mnist_loader
import network2

matplotlib.use("Agg")  # no screen in the tests; plt.show() is then a no-op
import matplotlib.pyplot as plt
import numpy as np

random.seed(12345678)
np.random.seed(12345678)


def main(filename, num_epochs, lmbda=0.0):
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost())
    net.large_weight_initializer()
    test_cost, test_accuracy, training_cost, training_accuracy \
        = net.SGD(training_data[:1000], num_epochs, 10, 0.5,
                  evaluation_data=test_data, lmbda=lmbda,
                  monitor_evaluation_cost=True,
                  monitor_evaluation_accuracy=True,
                  monitor_training_cost=True,
                  monitor_training_accuracy=True)
    f = open(filename, "w")
    json.dump([test_cost, test_accuracy, training_cost, training_accuracy], f)
    f.close()
    make_plots(filename, num_epochs)


def make_plots(filename, num_epochs):
    f = open(filename, "r")
    test_cost, test_accuracy, training_cost, training_accuracy = json.load(f)
    f.close()
    for values, title, name in (
            (training_cost, "Cost on the training data", "training_cost"),
            ([a / 100.0 for a in test_accuracy], "Accuracy (%) on the test data",
             "test_accuracy"),
            (test_cost, "Cost on the test data", "test_cost"),
            ([a / 10.0 for a in training_accuracy], "Accuracy (%) on the training data",
             "training_accuracy")):
        fig = plt.figure()
        ax = fig.add_subplot(111)
        ax.plot(np.arange(num_epochs), values, color="#2A6EA6")
        ax.set_xlim([0, num_epochs])
        ax.grid(True)
        ax.set_xlabel("Epoch")
        ax.set_title(title)
        plt.savefig(f"overfitting_{name}.png")
        plt.show()
    print("RESULT " + json.dumps({"lengths": [len(test_cost), len(test_accuracy),
                                              len(training_cost), len(training_accuracy)],
                                  "train_accuracy_last": training_accuracy[-1],
                                  "test_accuracy_best": max(test_accuracy),
                                  "train_cost": [training_cost[0], training_cost[-1]],
                                  "test_cost": [test_cost[0], test_cost[-1]]}))


if __name__ == "__main__":
    main("overfitting.json", int(sys.argv[1]) if len(sys.argv) > 1 else 100,
         float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
