"""Chapter 3 of the book, the sessions typed at the Python prompt."""
import json

import mnist_loader

training_data, validation_data, test_data = \
    mnist_loader.load_data_wrapper()
import network2

# The cross-entropy cost function (with network.py's large initial weights).
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
net.large_weight_initializer()
net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data,
        monitor_evaluation_accuracy=True)
cross_entropy = net.accuracy(test_data)

# Overfitting: the first 1,000 training images only.
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
net.large_weight_initializer()
ev_cost, ev_acc, tr_cost, tr_acc = net.SGD(
    training_data[:1000], 400, 10, 0.5, evaluation_data=test_data,
    monitor_evaluation_accuracy=True, monitor_training_cost=True,
    monitor_training_accuracy=True)
overfit = {"train_last": tr_acc[-1], "test_best": max(ev_acc),
           "train_cost_first": tr_cost[0], "train_cost_last": tr_cost[-1]}

# Regularization on the full training set, then the improved initialisation.
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
net.large_weight_initializer()
net.SGD(training_data, 30, 10, 0.5, evaluation_data=test_data, lmbda=5.0,
        monitor_evaluation_accuracy=True, monitor_training_accuracy=True)
regularized = net.accuracy(test_data)

net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
ev_cost, ev_acc, tr_cost, tr_acc = net.SGD(
    training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
    monitor_evaluation_accuracy=True)

print("RESULT " + json.dumps({
    "cross_entropy": cross_entropy, "overfit": overfit, "regularized": regularized,
    "improved_init_best": max(ev_acc), "n_epochs_improved": len(ev_acc)}))
