"""Chapter 1 of the book, as typed at the Python prompt."""
import mnist_loader

training_data, validation_data, test_data = \
    mnist_loader.load_data_wrapper()

import network

net = network.Network([784, 30, 10])
net.SGD(training_data, 30, 10, 3.0, test_data=test_data)

# The book's readers check the result this way too.
import json

print("RESULT " + json.dumps({"test_correct": net.evaluate(test_data),
                              "n_test": len(test_data)}))
