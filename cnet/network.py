"""The network: sizes, activations, cost and parameters, and the two ways to
use it.

* The array surface: ``fit``, ``forward``, ``predict``, ``score``, ``cost``,
  ``gradient`` on ``X (n_samples, n_in)`` arrays (this module).
* Nielsen's surface (network.py / network2.py): ``weights``, ``biases``,
  ``feedforward``, ``backprop``, ``update_mini_batch``, ``evaluate``,
  ``SGD`` on lists of ``(x, y)`` column vectors (cnet/book/_surface.py), so
  the book's code runs with ``import cnet as network``; cnet.book has the
  book's modules with their exact signatures and random draws.

Both are thin layers over the same compiled kernels; cnet/training.py runs
the epochs, cnet/_params.py keeps the parameters in the layout the kernels
want (``weights[l]`` and ``biases[l]`` are views of it).
"""
import numpy as np

from . import activations, costs, optimizers, regularizers, saving, schedules
from ._dispatch import kernels
from ._interrupts import deliver, watching
from ._params import Parameters
from ._progress import EpochPrinter, EpochProgress
from ._threads import network_flops, resolve_n_threads, threads_for_work
from ._validation import (
    check_bool,
    check_dtype,
    check_eta,
    check_float,
    check_int,
    check_seed,
    check_sizes,
    check_X,
    check_y,
    labels_of,
    one_hot_classes,
)
from ._workspace import SPARES, Workspace, sparse_input
from .book._surface import BookMethods
from .initializers import INITS, initial_parameters
from .training import WEIGHT_GROWTH, History, check_callbacks, train

_FORWARD_CHUNK = 256  # rows per pass of inference: bounds its scratch memory


@saving.builds
class Network(BookMethods):
    """A fully-connected feed-forward network, a' = sigma(W a + b) per layer.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first: ``[784, 30, 10]``.
    activation : str
        Hidden layers: "sigmoid", "tanh", "relu", "leaky_relu" or "identity".
    output_activation : str or None
        Output layer: the same names or "softmax"; None means ``activation``.
    cost : str or cost class
        "quadratic" (C = ||a - y||^2 / 2), "cross_entropy" (sigmoid output) or
        "log_likelihood" (softmax output); also ``QuadraticCost`` etc.
    init : str
        "normal" (weights and biases N(0, 1), network.py), "scaled_normal"
        (weights N(0, 1/n_in), biases N(0, 1), network2.py), "xavier"
        (N(0, 2/(n_in + n_out)), biases 0) or "he" (N(0, 2/n_in), biases 0).
    dtype : float32 or float64
    seed : int or None
        Every random choice (initial weights, shuffling) derives from it.

    Attributes
    ----------
    sizes, num_layers
    weights : list of arrays (n_out, n_in)
    biases : list of arrays (n_out, 1)
    history : History or None
        The record of the latest ``fit`` / ``SGD`` call, filled as its epochs
        end: after Ctrl-C (KeyboardInterrupt) it holds the epochs completed,
        and the network is as they left it -- the interrupted epoch is rolled
        back to its start (weights and random generator), so calling ``fit``
        again continues exactly as if it had not been interrupted.
    """

    history = None
    # In every History, fit's and SGD's alike.
    _EPOCH_KEYS = ("epoch", "train_cost", "eta", "seconds", "threads")

    def __init__(self, sizes, activation="sigmoid", output_activation=None,
                 cost="quadratic", init="normal", dtype="float64", seed=None):
        self.sizes = check_sizes(sizes)
        self.num_layers = len(self.sizes)
        hidden = activations.check_hidden(activation, len(self.sizes) - 2)
        self.activation = activation if isinstance(activation, str) else list(hidden)
        if output_activation is None:
            output_activation = activation if isinstance(activation, str) else "sigmoid"
        self.output_activation = activations.check_name(
            output_activation, "output_activation", activations.OUTPUT)
        self._cost = costs.resolve(cost, self.output_activation)
        if self.output_activation == "softmax" and self.sizes[-1] < 2:
            raise ValueError("a softmax output layer needs at least 2 neurons (with 1 its output "
                             "is always 1.0 and nothing trains); use output_activation="
                             "'sigmoid' for a single output")
        self.init = activations.check_name(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        self.seed = check_seed(seed)
        self._rng = np.random.default_rng(seed)
        self._acts = hidden + [self.output_activation]
        self._params = Parameters(self.sizes, self.dtype)
        self._initialize(self.init)

    def __setstate__(self, state):
        if "weights" in state:  # pickled by cnet 0.1.0, before Parameters
            state = dict(state)
            weights, biases = state.pop("weights"), state.pop("biases")
            for key in ("_lock", "_user", "_purpose"):
                state.pop(key, None)
            self.__dict__.update(state)
            self._params = Parameters(self.sizes, self.dtype)
            self._params.assign(weights, biases)
        else:
            self.__dict__.update(state)

    # -- parameters ---------------------------------------------------------

    def _initialize(self, init):
        """Draw the parameters (cnet/initializers.py) from the network's generator."""
        self.weights, self.biases = initial_parameters(init, self.sizes,
                                                       self._rng.standard_normal)

    @property
    def weights(self):
        """List of weight matrices W (n_out, n_in), views of cnet's storage."""
        return self._params.weights

    @weights.setter
    def weights(self, new):
        self._params.assign(weights=new)

    @property
    def biases(self):
        """List of bias columns b (n_out, 1), views of cnet's storage."""
        return self._params.biases

    @biases.setter
    def biases(self, new):
        self._params.assign(biases=new)

    @property
    def parameters(self):
        """The parameter store (cnet/_params.py): the kernels' arrays behind
        ``weights`` and ``biases``, snapshots, and the lock one training,
        saving or assigning thread holds."""
        return self._params

    @property
    def rng(self):
        """The network's random generator (numpy.random.Generator, seeded by
        ``seed``): every shuffle draws from it; model files keep its state."""
        return self._rng

    @property
    def activations(self):
        """The activation of each layer of weights, the output layer's last."""
        return list(self._acts)

    def _kernel_params(self):
        return [(Wt, b, activations.CODES[act], n_out) for (Wt, b), act, n_out
                in zip(self._params.kernel_arrays(), self._acts, self.sizes[1:])]

    def _params_finite(self):
        return self._params.max_abs() is not None

    def _l2_term(self, lmbda, n):
        """(lmbda / 2n) sum ||W||^2, the L2 part of the regularised cost."""
        if lmbda == 0:
            return 0.0
        return 0.5 * lmbda / n * self._params.sum_of_squares()

    def _l1_term(self, l1, n):
        """(l1 / n) sum |W|, the L1 part of the regularised cost."""
        if l1 == 0:
            return 0.0
        return l1 / n * self._params.sum_of_abs()

    # -- randomness -----------------------------------------------------------
    # Training asks these for its sample order and for the state to roll an
    # epoch back to; cnet.book's networks draw from where the book does
    # (Python's random.shuffle) instead of the network's own generator.

    def _draw_order(self, n):
        """The sample order of the next shuffled epoch: a permutation of n."""
        return self._rng.permutation(n)

    def _random_state(self):
        """Everything _draw_order depends on, for _set_random_state."""
        return self._rng.bit_generator.state

    def _set_random_state(self, state):
        self._rng.bit_generator.state = state

    def _dropout_key(self):
        """The key of an epoch's dropout masks (cnet/regularizers.py)."""
        return int(self._rng.integers(0, 2 ** 63))

    def _check_y(self, y, n_samples, n_out, dtype, name="y"):
        """check_y, and targets in the range the cost is defined on: cross-
        entropy and log-likelihood take y ln a (and (1 - y) ln(1 - a)) with
        probabilities y in [0, 1]; outside it they have no minimum."""
        T, labels = check_y(y, n_samples, n_out, dtype, name)
        if T is not None and self._cost.name != "quadratic":
            lo, hi = float(T.min()), float(T.max())
            if lo < 0 or hi > 1:
                raise ValueError(f"{name} targets must lie in [0, 1] for cost="
                                 f"{self._cost.name!r} (they are probabilities); got values "
                                 f"from {lo:g} to {hi:g}")
        return T, labels

    # -- the array surface --------------------------------------------------

    def forward(self, X, n_threads=None):
        """Network outputs for a batch.

        Parameters
        ----------
        X : array-like (n_samples, n_in)

        Returns
        -------
        ndarray (n_samples, n_out) of the network's dtype
        """
        X = check_X(X, self.sizes[0], self.dtype)
        return self._forward(X, resolve_n_threads(n_threads))

    def _forward(self, X, n_threads):
        n = X.shape[0]
        chunk = min(n, _FORWARD_CHUNK)
        ws = SPARES.take(self._kernel_params(), chunk, sparse_input(X))
        out = np.empty((n, self.sizes[-1]), dtype=self.dtype)
        n_threads = threads_for_work(n_threads, network_flops(self.sizes, chunk) / 3)
        order = np.arange(n, dtype=np.intp)
        done = 0
        try:
            while True:
                with watching() as flag:
                    done += kernels.forward(X, order[done:], ws.spec, out[done:], chunk,
                                            n_threads, flag)
                if done == n:
                    return out
                deliver()  # Ctrl-C: KeyboardInterrupt; if the handler returns, go on
        finally:
            SPARES.give(ws)

    def predict(self, X, n_threads=None):
        """Predicted class of each sample (argmax of the output), shape (n_samples,)."""
        return labels_of(self.forward(X, n_threads))

    def score(self, X, y, n_threads=None):
        """Accuracy: the fraction of samples whose predicted class is y's."""
        X = check_X(X, self.sizes[0], self.dtype)
        _, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        return float(np.mean(labels_of(self._forward(X, resolve_n_threads(n_threads))) == labels))

    @property
    def cost(self):
        """The network's cost: ``net.cost(X, y, lmbda=0.0, n_threads=None)`` is
        the mean cost over the samples, plus (lmbda / 2n) sum ||W||^2 when
        lmbda > 0; ``net.cost.fn(a, y)``, ``net.cost.delta(z, a, y)`` and
        ``net.cost.name`` are the cost's (see cnet.costs.BoundCost)."""
        return costs.BoundCost(self._cost, self._cost_of)

    def _cost_of(self, X, y, lmbda=0.0, n_threads=None):
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        lmbda = check_float(lmbda, "lmbda")
        return self._mean_cost(X, T, labels, lmbda, resolve_n_threads(n_threads))

    def _mean_cost(self, X, T, labels, lmbda, n_threads):
        """cost() on checked arrays: T targets, or None and labels."""
        return self._cost_of_outputs(self._forward(X, n_threads), T, labels, lmbda)

    def _cost_of_outputs(self, A, T, labels, lmbda):
        """The mean cost of outputs A (n, n_out) for targets T, or None and
        labels, plus the L2 term."""
        if T is None:
            T = np.eye(self.sizes[-1], dtype=self.dtype)[labels]
        mean = float(np.mean(self._cost.fn(A, T), dtype=np.float64))
        return mean + self._l2_term(lmbda, A.shape[0])

    def gradient(self, X, y, n_threads=None, *, dropout=None, dropout_key=0):
        """Mean gradient of the cost (no L2 term) over the samples.

        With ``dropout`` (rates as for :meth:`fit`), the gradient of the
        thinned network whose masks the key ``dropout_key`` draws for the
        examples, row i of X being example i (cnet.regularizers.dropout_keep
        gives the same masks).

        Returns
        -------
        (nabla_b, nabla_w) : lists shaped like ``biases`` and ``weights``
        """
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        dropout = regularizers.dropout_rates(dropout, self.sizes)
        key = check_int(dropout_key, "dropout_key", 0)
        if key >= 2 ** 64:
            raise ValueError(f"dropout_key must be below 2**64; got {key}")
        return self._gradient(X, T, labels, resolve_n_threads(n_threads),
                              dropout if any(dropout) else None, key)

    def input_gradient(self, X, y, n_threads=None):
        """Each example's gradient of its own cost with respect to its input.

        Row i is dC_i/dx_i, where C_i is the cost of example i alone (no
        regularisation terms): the deltas of the first layer, from the
        compiled backward pass, pulled back through its weights.  The
        loss-sensitivity of Arpit et al. (2017) is its norm per example
        (cnet.memorization.loss_sensitivity); adversarial searches follow
        its sign (cnet.memorization.critical_sample_ratio).

        Parameters
        ----------
        X : array-like (n_samples, n_in)
        y : labels (n_samples,) or targets (n_samples, n_out)
        n_threads : int or None

        Returns
        -------
        ndarray (n_samples, n_in), the network's dtype
        """
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        n = X.shape[0]
        out = np.empty((n, self.sizes[0]), dtype=self.dtype)
        # Chunks bound the scratch memory, as in inference.  The kernel also
        # sums the weights' gradients, which are not needed here; what it
        # leaves in the first layer's deltas is.
        chunk = min(n, _FORWARD_CHUNK)
        params = self._kernel_params()
        grads = [(np.zeros_like(Wt), np.zeros_like(b)) for Wt, b, _, _ in params]
        ws = Workspace(params, chunk, gradients=grads)
        loss = np.empty(chunk, dtype=self.dtype)
        W1 = params[0][0][:, :self.sizes[1]]  # (n_in, n_1): W of the first layer, transposed
        n_threads = threads_for_work(resolve_n_threads(n_threads),
                                     network_flops(self.sizes, chunk))
        for s0 in range(0, n, chunk):
            m = min(chunk, n - s0)
            kernels.gradient(X[s0:s0 + m], None if T is None else T[s0:s0 + m],
                             None if labels is None else labels[s0:s0 + m],
                             np.arange(m, dtype=np.intp), ws.spec, self._cost.code,
                             loss[:m], n_threads, 0)
            np.dot(ws.deltas(0, m), W1.T, out=out[s0:s0 + m])
        return out

    def _gradient(self, X, T, labels, n_threads, dropout=None, key=0):
        n = X.shape[0]
        params = self._kernel_params()
        grads = [(np.zeros_like(Wt), np.zeros_like(b)) for Wt, b, _, _ in params]
        ws = Workspace(params, n, gradients=grads, dropout=dropout)
        loss = np.empty(n, dtype=self.dtype)
        n_threads = threads_for_work(n_threads, network_flops(self.sizes, n))
        # order = arange(n): the labels are already in the kernels' order.
        kernels.gradient(X, T, labels, np.arange(n, dtype=np.intp), ws.spec, self._cost.code,
                         loss, n_threads, key)
        nabla_w = [gW[:, :k].T.copy() for (gW, _), k in zip(grads, self.sizes[1:])]
        nabla_b = [gb[:k].reshape(k, 1).copy() for (_, gb), k in zip(grads, self.sizes[1:])]
        return nabla_b, nabla_w

    def fit(self, X, y, epochs, batch_size, eta, lmbda=0.0, validation_data=None,
            shuffle=True, n_threads=None, verbose=False, callbacks=None, *, optimizer=None,
            schedule=None, l1=0.0, dropout=None, sample_weight=None, class_weight=None,
            alpha=0.0, max_weight_growth=WEIGHT_GROWTH):
        """Train by mini-batch SGD.

        Parameters
        ----------
        X : array-like (n_samples, n_in)
        y : array-like, labels (n_samples,) in [0, n_out) or targets (n_samples, n_out)
        epochs : int >= 0
        batch_size : int >= 1
            Mini-batch size m; the last mini-batch may be smaller and then uses
            its own size.
        eta : float > 0
            Learning rate; each step is W <- (1 - eta lmbda / n) W - (eta / m) sum dC/dW.
        lmbda : float >= 0
            L2 regularisation strength (Nielsen's lambda); n is n_samples.
        validation_data : (X_val, y_val) or None
            Evaluated after each epoch (cost and accuracy).
        shuffle : bool
            Draw a new sample order each epoch from the network's seed.
        n_threads : int or None
            None uses the cores available (honouring OMP_NUM_THREADS).
        verbose : bool
            Print one line per epoch to stdout and, when stderr is a terminal,
            a progress bar over the epochs with the time left (tqdm if
            installed, else a one-line fallback).  The bar advances once per
            epoch: an epoch is a single compiled call.
        callbacks : list of callables or None
            Each is called after every epoch as ``callback(net, epoch, row)``,
            ``epoch`` 1-based and ``row`` the epoch's entries of the history
            (a dict: ``epoch``, ``train_cost``, ``val_cost``...).  If one
            returns True or raises :class:`cnet.StopTraining`, training stops
            after this epoch (the other callbacks still see it).  Objects may
            also define ``on_train_begin(net)`` and ``on_train_end(net,
            history)``, called once at the start and at the normal end of the
            call.  Ready-made ones: :mod:`cnet.callbacks` (EarlyStopping,
            Checkpoint).
        optimizer : str or cnet.optimizers.Optimizer, default plain SGD
            "sgd", "momentum" (0.9), "nesterov", "adam", "adamw", "rmsprop",
            or an instance (``cnet.optimizers.Adam(beta1=0.9)``), whose state
            carries over to the next ``fit`` given the same instance.
        schedule : cnet.schedules.Schedule, "constant", "adaptive" or callable
            The eta of each epoch (``eta`` is the base rate); the rate used
            is in ``history["eta"]``.
        l1 : float >= 0
            L1 regularisation: (l1 / n) sign(w) joins each weight's gradient.
        dropout : float or list of float in [0, 1)
            Inverted dropout while training: one rate for every hidden
            layer, or one per layer of weights for its input, the network's
            input first (cnet.regularizers).
        sample_weight : array-like (n_samples,) of numbers >= 0
            Per-example weights: each mini-batch's gradient is the weighted
            mean (the training cost too).
        class_weight : dict {class: weight} or "balanced"
            Each example weighs its class's weight (times sample_weight).
        alpha : float >= 0
            scikit-learn's L2: ``alpha w`` joins each mini-batch's summed
            gradient before it is divided by the batch's size (its weight),
            where ``lmbda`` is per example of the data set.
        max_weight_growth : float > 1 or None, default 1000
            Training counts as diverged (DivergenceError, the epoch rolled
            back) when a parameter's magnitude passes this many times the
            largest at the start of the call (or 1): runaway weights while
            saturated outputs keep the cost bounded.  None: only NaN,
            infinity or a million-fold cost count (for targets of large
            scale, say).

        Returns
        -------
        History
            A dict of per-epoch lists: ``epoch``, ``train_cost``, ``val_cost``,
            ``val_accuracy``, ``eta``, ``seconds``, ``threads`` (see History).
        """
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        epochs, batch_size, eta, lmbda = self._check_hyper(epochs, batch_size, eta, lmbda,
                                                           "batch_size")
        shuffle = check_bool(shuffle, "shuffle")
        verbose = check_bool(verbose, "verbose")
        optimizer, schedule, l1 = self._check_training(optimizer, schedule, l1)
        alpha = check_float(alpha, "alpha")
        if max_weight_growth is not None and not (
                check_float(max_weight_growth, "max_weight_growth") > 1):
            raise ValueError(f"max_weight_growth must be a number > 1 or None; got "
                             f"{max_weight_growth!r}")
        dropout = regularizers.dropout_rates(dropout, self.sizes)
        weights = regularizers.example_weights(
            sample_weight, class_weight, labels if T is None else one_hot_classes(T),
            X.shape[0], self.sizes[-1])
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val)")
            Xv = check_X(validation_data[0], self.sizes[0], self.dtype, "validation_data[0]")
            Tv, lv = self._check_y(validation_data[1], Xv.shape[0], self.sizes[-1], self.dtype,
                             "validation_data[1]")
            val = (Xv, Tv if Tv is not None else np.eye(self.sizes[-1], dtype=self.dtype)[lv], lv)
        callbacks = check_callbacks(callbacks)
        keys = self._EPOCH_KEYS + (("val_cost", "val_accuracy") if val is not None else ())
        history = self.history = History({k: [] for k in keys})
        n_threads = resolve_n_threads(n_threads)

        def measure(epoch):
            A = self._forward(val[0], n_threads)
            return {"val_cost": float(np.mean(self._cost.fn(A, val[1]), dtype=np.float64))
                    + self._l2_term(lmbda, val[0].shape[0]),
                    "val_accuracy": float(np.mean(labels_of(A) == val[2]))}

        with EpochProgress(epochs, enabled=None if verbose else False) as progress:
            printer = [EpochPrinter(epochs, progress)] if verbose else []
            train(self, X, T, labels if T is None else None, epochs=epochs,
                  batch_size=batch_size, eta=eta, lmbda=lmbda, shuffle=shuffle,
                  n_threads=n_threads, optimizer=optimizer, schedule=schedule, l1=l1,
                  dropout=dropout, sample_weight=weights, alpha=alpha,
                  weight_growth=max_weight_growth,
                  measure=measure if val is not None else None,
                  callbacks=printer + callbacks, history=history)
        return history

    @staticmethod
    def _check_training(optimizer, schedule, l1):
        """fit's and SGD's optimizer, schedule and l1, resolved and checked."""
        return (optimizers.resolve(optimizer), schedules.resolve(schedule),
                check_float(l1, "l1"))

    def _check_hyper(self, epochs, batch_size, eta, lmbda, batch_name):
        return (check_int(epochs, "epochs", 0), check_int(batch_size, batch_name, 1),
                check_eta(check_float(eta, "eta", positive=True), self.dtype),
                check_float(lmbda, "lmbda"))

    # -- saving -------------------------------------------------------------

    def save(self, path, info=None, optimizer=None):
        """Write the network to ``path`` as a cnet model file (.npz, no pickle);
        read it back with :func:`cnet.load`.  The file appears complete or not
        at all (temporary file + rename).  ``info``: JSON-serialisable notes
        kept in the file; ``optimizer``: the optimizer training the network,
        kept with its state (:func:`cnet.load_optimizer` gives it back).  See
        :mod:`cnet.saving` for the format."""
        saving.save(self, path, info=info, optimizer=optimizer)

    def __repr__(self):
        return (f"Network({self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, cost={self._cost.name!r}, "
                f"dtype={self.dtype.name!r})")


