"""network2's save and load, both ways, as a learner uses them."""
import json
import sys

import mnist_loader
import network2
import numpy as np

# A file in network2.py's format (written by hand) loads, and predicts.
net = network2.load("network2_format.json")
x = np.array([[0.2], [0.9], [0.4]])
loaded_output = net.feedforward(x).ravel().tolist()

# A network trained here, saved, and read back by network2.py's own code
# (json + np.array, as its load does) and by network2.load.
training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost())
net.SGD(training_data[:2000], 2, 10, 0.5, lmbda=5.0)
net.save(sys.argv[1] if len(sys.argv) > 1 else "saved.json")
with open(sys.argv[1] if len(sys.argv) > 1 else "saved.json") as f:
    data = json.load(f)
weights = [np.array(w) for w in data["weights"]]
biases = [np.array(b) for b in data["biases"]]
a = test_data[0][0]
for b, w in zip(biases, weights):
    a = network2.sigmoid(np.dot(w, a) + b)
again = network2.load(sys.argv[1] if len(sys.argv) > 1 else "saved.json")
print("RESULT " + json.dumps({
    "loaded_output": loaded_output,
    "keys": sorted(data), "cost": data["cost"], "sizes": data["sizes"],
    "nielsen_vs_cnet": float(np.max(np.abs(a - net.feedforward(test_data[0][0])))),
    "reloaded_vs_cnet": float(max(np.max(np.abs(p - q)) for p, q in
                                  zip(again.weights + again.biases, net.weights + net.biases))),
    "reloaded_cost": type(again.cost).__name__ if not isinstance(again.cost, type)
    else again.cost.__name__}))
