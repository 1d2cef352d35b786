"""The network: sizes, activations, cost and parameters, and the two ways to
use it.

* Nielsen's surface (network.py / network2.py): ``weights``, ``biases``,
  ``feedforward``, ``backprop``, ``update_mini_batch``, ``evaluate``,
  ``SGD`` on lists of ``(x, y)`` column vectors, so the book's code runs with
  ``import cnet as network``.
* The array surface: ``fit``, ``forward``, ``predict``, ``score``, ``cost`` on
  ``X (n_samples, n_in)`` arrays.

Both are thin layers over the same compiled kernels (cnet/training.py runs the
epochs).  Parameters live in the layout the kernels want (W transposed and
padded, see cnet/_workspace.py); ``weights[l]`` and ``biases[l]`` are views of
that storage with the book's shapes, so editing them in place takes effect,
and assigning new arrays is picked up at the next call.
"""
import sys
import threading
from contextlib import contextmanager

import numpy as np

from . import activations, costs
from ._dispatch import kernels
from ._threads import network_flops, resolve_n_threads, threads_for_work
from ._interrupts import deliver, watching
from ._validation import (check_bool, check_decay, check_dtype, check_eta, check_float,
                          check_int, check_seed, check_sizes, check_X, check_y, describe,
                          labels_of)
from ._workspace import Workspace, padded
from ._progress import EpochProgress
from .training import (History, callbacks_begin, callbacks_end, callbacks_epoch, check_callbacks,
                       sgd_epochs, sgd_step)

INITS = ("normal", "scaled_normal", "xavier", "he")
_EPOCH_KEYS = ("epoch", "train_cost", "eta", "seconds", "threads")  # in every History
_FORWARD_CHUNK = 256  # rows per pass of inference: bounds its scratch memory


class Network:
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

    def __init__(self, sizes, activation="sigmoid", output_activation=None,
                 cost="quadratic", init="normal", dtype="float64", seed=None):
        self.sizes = check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.activation = activations.check_name(activation, "activation", activations.HIDDEN)
        if output_activation is None:
            output_activation = self.activation
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
        self._lock = threading.Lock()  # held while a call trains, saves... (see _in_use)
        self._user = self._purpose = None
        self._rng = np.random.default_rng(seed)
        self._acts = [self.activation] * (self.num_layers - 2) + [self.output_activation]
        self._allocate()
        self._initialize(self.init)

    _STORAGE = ("_Wt", "_b", "_w_views", "_b_views", "_weights", "_biases", "_lock", "_user",
                "_purpose")

    def _allocate(self):
        """Kernel-side storage, W^T padded to (n_in, ld) and b to (ld,), and
        the public views of it with the book's shapes."""
        self._Wt = [np.zeros((n_in, padded(n_out)), dtype=self.dtype)
                    for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        self._b = [np.zeros(padded(n_out), dtype=self.dtype) for n_out in self.sizes[1:]]
        self._w_views = [Wt[:, :n].T for Wt, n in zip(self._Wt, self.sizes[1:])]
        self._b_views = [b[:n].reshape(n, 1) for b, n in zip(self._b, self.sizes[1:])]
        self._weights = list(self._w_views)
        self._biases = list(self._b_views)

    # Pickling (and copy.deepcopy) would copy the views apart from the
    # storage they look into: keep the parameters, rebuild the storage.
    def __getstate__(self):
        self._sync()
        state = {k: v for k, v in self.__dict__.items() if k not in self._STORAGE}
        state["weights"] = [w.copy() for w in self._w_views]
        state["biases"] = [b.copy() for b in self._b_views]
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights, biases = state.pop("weights"), state.pop("biases")
        self.__dict__.update(state)
        self._lock, self._user, self._purpose = threading.Lock(), None, None
        self._allocate()
        self._sync(weights=weights, biases=biases)

    @contextmanager
    def _training(self):
        """One training call at a time: a second thread training (or
        assigning the parameters of) this network while the kernels update
        them would silently mix the two.  The training thread itself may
        assign them (a callback restoring the best weights) or save them."""
        with self._in_use("training"):
            yield

    _DOING = {"training": "trained", "saving": "saved", "assigning": "assigned new parameters"}

    @contextmanager
    def _in_use(self, purpose):
        """Exclusive use of the parameters for ``purpose`` ("training",
        "saving" or "assigning").  A thread that already holds it may save
        and assign (callbacks), not train again.  Another thread's save or
        assignment is short: wait for it; its training is not: raise."""
        me = threading.get_ident()
        if self._user == me:
            if purpose == "training":
                raise RuntimeError("this network is already training in this thread (a "
                                   "callback called fit/SGD?); train it after that call returns")
            yield
            return
        while not self._lock.acquire(timeout=0.02):
            if self._purpose == "training":
                raise RuntimeError(
                    f"this network is being trained by another thread: it cannot be "
                    f"{self._DOING[purpose]} until that call returns; give each thread its "
                    f"own network (copy.deepcopy(net)), or save from a callback "
                    f"(cnet.callbacks.Checkpoint)")
        self._user, self._purpose = me, purpose
        try:
            yield
        finally:
            self._user = self._purpose = None
            self._lock.release()

    # -- parameters ---------------------------------------------------------

    def _initialize(self, init):
        """Draw the parameters: biases first, then weights, as network.py."""
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        if init in ("normal", "scaled_normal"):
            biases = [self._rng.standard_normal((n_out, 1)) for _, n_out in pairs]
        else:
            biases = [np.zeros((n_out, 1)) for _, n_out in pairs]
        std = {"normal": lambda i, o: 1.0, "scaled_normal": lambda i, o: 1 / np.sqrt(i),
               "xavier": lambda i, o: np.sqrt(2.0 / (i + o)), "he": lambda i, o: np.sqrt(2.0 / i)}[init]
        weights = [self._rng.standard_normal((n_out, n_in)) * std(n_in, n_out)
                   for n_in, n_out in pairs]
        self.weights = weights
        self.biases = biases

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

    def default_weight_initializer(self):
        """network2.py: weights N(0, 1/n_in), biases N(0, 1)."""
        self._initialize("scaled_normal")

    def large_weight_initializer(self):
        """network2.py: weights and biases N(0, 1) (network.py's scheme)."""
        self._initialize("normal")

    @property
    def weights(self):
        """List of weight matrices W (n_out, n_in), views of cnet's storage."""
        return self._weights

    @weights.setter
    def weights(self, new):
        self._sync(weights=list(new))

    @property
    def biases(self):
        """List of bias columns b (n_out, 1), views of cnet's storage."""
        return self._biases

    @biases.setter
    def biases(self, new):
        self._sync(biases=list(new))

    def _sync(self, weights=None, biases=None):
        """Copy arrays the user put into weights / biases (or passes here, from
        the setters) into the storage.  Everything is checked before anything
        is copied, so a rejected assignment changes nothing."""
        if weights is None and biases is None:
            return self._copy_in(weights, biases)
        with self._in_use("assigning"):
            return self._copy_in(weights, biases)

    def _copy_in(self, weights, biases):
        lists = (("weights", self._weights if weights is None else weights, self._w_views),
                 ("biases", self._biases if biases is None else biases, self._b_views))
        updates = []
        for name, lst, views in lists:
            if len(lst) != len(views):
                raise ValueError(f"{name} must hold {len(views)} arrays, one per layer; "
                                 f"got {len(lst)}")
            for l, (arr, view) in enumerate(zip(lst, views)):
                if arr is view:
                    continue
                arr = np.asarray(arr)
                if arr.shape != view.shape and not (name == "biases" and arr.shape == view.shape[:1]):
                    raise ValueError(f"{name}[{l}] must have shape {view.shape}; got {arr.shape}")
                if arr.dtype.kind not in "biuf":
                    raise ValueError(f"{name}[{l}] must hold real numbers; got dtype {arr.dtype}")
                # Check after the cast: 1e300 is finite, but inf in float32.
                with np.errstate(over="ignore", invalid="ignore"):
                    arr = arr.astype(self.dtype)
                if not np.isfinite(arr).all():
                    raise ValueError(f"{name}[{l}] must hold finite real numbers that fit "
                                     f"{self.dtype.name} (|value| <= "
                                     f"{np.finfo(self.dtype).max:.3g}, no NaN)")
                updates.append((view, arr))
        for view, arr in updates:
            view[...] = arr.reshape(view.shape)
        self._weights[:] = self._w_views
        self._biases[:] = self._b_views

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

    def _kernel_params(self):
        self._sync()
        return [(Wt, b, activations.CODES[act], n_out)
                for Wt, b, act, n_out in zip(self._Wt, self._b, self._acts, self.sizes[1:])]

    def _snapshot(self):
        return [p.copy() for p in self._Wt + self._b]

    def _restore(self, saved):
        for p, s in zip(self._Wt + self._b, saved):
            p[...] = s

    def _params_finite(self):
        return self._max_abs_param() is not None

    def _max_abs_param(self):
        """max |parameter|, or None if one is NaN or infinite (two passes
        over each array, no temporary as large as it)."""
        big = 0.0
        for p in self._Wt + self._b:
            hi, lo = float(p.max()), float(p.min())
            if not (np.isfinite(hi) and np.isfinite(lo)):  # (max() would skip a NaN)
                return None
            big = max(big, hi, -lo)
        return big

    def _l2_term(self, lmbda, n):
        """(lmbda / 2n) sum ||W||^2, the L2 part of the regularised cost."""
        if lmbda == 0:
            return 0.0
        return 0.5 * lmbda / n * sum(float(np.sum(w.astype(np.float64) ** 2))
                                     for w in self._w_views)

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
        ws = Workspace(self._kernel_params(), chunk)
        out = np.empty((n, self.sizes[-1]), dtype=self.dtype)
        n_threads = threads_for_work(n_threads, network_flops(self.sizes, chunk) / 3)
        order = np.arange(n, dtype=np.intp)
        done = 0
        while True:
            with watching() as flag:
                done += kernels.forward(X, order[done:], ws.spec, out[done:], chunk, n_threads,
                                        flag)
            if done == n:
                return out
            deliver()  # Ctrl-C: KeyboardInterrupt; if the handler returns, go on

    def predict(self, X, n_threads=None):
        """Predicted class of each sample (argmax of the output), shape (n_samples,)."""
        return labels_of(self.forward(X, n_threads))

    def score(self, X, y, n_threads=None):
        """Accuracy: the fraction of samples whose predicted class is y's."""
        X = check_X(X, self.sizes[0], self.dtype)
        _, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        return float(np.mean(labels_of(self._forward(X, resolve_n_threads(n_threads))) == labels))

    def cost(self, X, y, lmbda=0.0, n_threads=None):
        """Mean cost over the samples, plus (lmbda / 2n) sum ||W||^2 when lmbda > 0."""
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        lmbda = check_float(lmbda, "lmbda")
        return self._mean_cost(X, T, labels, lmbda, resolve_n_threads(n_threads))

    def _mean_cost(self, X, T, labels, lmbda, n_threads):
        """cost() on checked arrays: T targets, or None and labels."""
        A = self._forward(X, n_threads)
        if T is None:
            T = np.eye(self.sizes[-1], dtype=self.dtype)[labels]
        mean = float(np.mean(self._cost.fn(A, T), dtype=np.float64))
        return mean + self._l2_term(lmbda, X.shape[0])

    def gradient(self, X, y, n_threads=None):
        """Mean gradient of the cost (no L2 term) over the samples.

        Returns
        -------
        (nabla_b, nabla_w) : lists shaped like ``biases`` and ``weights``
        """
        X = check_X(X, self.sizes[0], self.dtype)
        T, labels = self._check_y(y, X.shape[0], self.sizes[-1], self.dtype)
        return self._gradient(X, T, labels, resolve_n_threads(n_threads))

    def _gradient(self, X, T, labels, n_threads):
        n = X.shape[0]
        grads = [(np.zeros_like(Wt), np.zeros_like(b)) for Wt, b in zip(self._Wt, self._b)]
        ws = Workspace(self._kernel_params(), n, gradients=grads)
        loss = np.empty(n, dtype=self.dtype)
        n_threads = threads_for_work(n_threads, network_flops(self.sizes, n))
        # order = arange(n): the labels are already in the kernels' order.
        kernels.gradient(X, T, labels, np.arange(n, dtype=np.intp), ws.spec, self._cost.code,
                         loss, n_threads)
        nabla_w = [gW[:, :k].T.copy() for (gW, _), k in zip(grads, self.sizes[1:])]
        nabla_b = [gb[:k].reshape(k, 1).copy() for (_, gb), k in zip(grads, self.sizes[1:])]
        return nabla_b, nabla_w

    def fit(self, X, y, epochs, batch_size, eta, lmbda=0.0, validation_data=None,
            shuffle=True, n_threads=None, verbose=False, callbacks=None):
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
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val)")
            Xv = check_X(validation_data[0], self.sizes[0], self.dtype, "validation_data[0]")
            Tv, lv = self._check_y(validation_data[1], Xv.shape[0], self.sizes[-1], self.dtype,
                             "validation_data[1]")
            val = (Xv, Tv if Tv is not None else np.eye(self.sizes[-1], dtype=self.dtype)[lv], lv)
        callbacks = check_callbacks(callbacks)
        keys = _EPOCH_KEYS + (("val_cost", "val_accuracy") if val is not None else ())
        history = self.history = History({k: [] for k in keys})
        n_threads = resolve_n_threads(n_threads)
        with self._training():
            callbacks_begin(callbacks, self)
            with EpochProgress(epochs, enabled=None if verbose else False) as progress:
                self._fit_epochs(X, T, labels, epochs, batch_size, eta, lmbda, val, shuffle,
                                 n_threads, verbose, callbacks, history, progress)
            callbacks_end(callbacks, self, history)
        return history

    def _fit_epochs(self, X, T, labels, epochs, batch_size, eta, lmbda, val, shuffle,
                    n_threads, verbose, callbacks, history, progress):
        for epoch, train_cost, seconds, used, undo in sgd_epochs(
                self, X, T, labels if T is None else None, epochs=epochs,
                batch_size=batch_size, eta=eta, lmbda=lmbda, shuffle=shuffle,
                n_threads=n_threads):
            row = dict(epoch=epoch + 1, train_cost=train_cost, eta=eta, seconds=seconds,
                       threads=used)
            if val is not None:
                try:
                    A = self._forward(val[0], n_threads)
                except KeyboardInterrupt:  # the epoch is not in the history: undo it
                    undo()
                    raise
                row["val_cost"] = float(np.mean(self._cost.fn(A, val[1]), dtype=np.float64)) \
                    + self._l2_term(lmbda, val[0].shape[0])
                row["val_accuracy"] = float(np.mean(labels_of(A) == val[2]))
            history.append(**row)
            if verbose:
                msg = f"Epoch {epoch + 1}/{epochs}: train cost {train_cost:.4f}"
                if val is not None:
                    msg += f", val cost {row['val_cost']:.4f}, val accuracy {row['val_accuracy']:.2%}"
                progress.write(msg + f" ({seconds:.3f} s)")
                progress.update(f"val accuracy {row['val_accuracy']:.2%}" if val is not None
                                else f"train cost {train_cost:.4f}")
            if callbacks and callbacks_epoch(callbacks, self, epoch + 1, row):
                break

    def _check_hyper(self, epochs, batch_size, eta, lmbda, batch_name):
        return (check_int(epochs, "epochs", 0), check_int(batch_size, batch_name, 1),
                check_eta(check_float(eta, "eta", positive=True), self.dtype),
                check_float(lmbda, "lmbda"))

    # -- Nielsen's surface --------------------------------------------------

    def feedforward(self, a):
        """Output (n_out, 1) for an input column a (n_in, 1)."""
        n_in = self.sizes[0]
        a = np.asarray(a)
        if a.shape not in ((n_in,), (n_in, 1), (1, n_in)):
            raise ValueError(f"a must be an input column of shape ({n_in}, 1); got shape {a.shape}")
        X = check_X(a.reshape(1, n_in), n_in, self.dtype, "a")
        return self._forward(X, resolve_n_threads(None)).reshape(-1, 1)

    def backprop(self, x, y):
        """Gradient of the cost of one example (x, y): (nabla_b, nabla_w),
        lists shaped like ``biases`` and ``weights``.  y is a target column
        (n_out, 1) or an int label."""
        X, T, labels = self._examples([(x, y)], "backprop's (x, y)")
        return self._gradient(X, T, labels, 1)

    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=None):
        """One gradient-descent step on a list of (x, y) (network.py / network2.py)."""
        X, T, labels = self._examples(mini_batch, "mini_batch")
        eta = check_eta(check_float(eta, "eta", positive=True), self.dtype)
        lmbda = check_float(lmbda, "lmbda")
        n = X.shape[0] if n is None else check_int(n, "n", 1)
        with self._training():
            sgd_step(self, X, T, labels, eta, check_decay(eta, lmbda, n))

    def evaluate(self, test_data):
        """Number of (x, label) pairs whose predicted class is the label."""
        X, T, labels = self._examples(test_data, "test_data")
        if labels is None:
            labels = labels_of(T)
        return int(np.sum(labels_of(self._forward(X, resolve_n_threads(None))) == labels))

    def accuracy(self, data, convert=False):
        """network2.py: number of correct predictions; labels or target vectors."""
        return self.evaluate(data)

    def total_cost(self, data, lmbda, convert=False):
        """network2.py: mean cost over data plus (lmbda / 2n) sum ||W||^2."""
        X, T, labels = self._examples(data, "data")
        lmbda = check_float(lmbda, "lmbda")
        return self._mean_cost(X, T, labels, lmbda, resolve_n_threads(None))

    @staticmethod
    def cost_derivative(output_activations, y):
        """network.py: dC/da of the quadratic cost."""
        return output_activations - y

    def _examples(self, data, name):
        """Nielsen's list of (x, y) -> (X, targets or None, labels or None)."""
        try:
            data = list(data)
            xs = [np.ravel(x) for x, _ in data]
            ys = [y for _, y in data]
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a list of (x, y) pairs") from None
        if not data:
            raise ValueError(f"{name} is empty: it needs at least one (x, y) pair")
        X = check_X(np.stack(xs), self.sizes[0], self.dtype, name)
        if all(np.ndim(y) == 0 for y in ys):
            T, labels = self._check_y(np.array(ys), X.shape[0], self.sizes[-1], self.dtype, name)
        else:
            try:
                Y = np.stack([np.ravel(y) for y in ys])
            except ValueError:
                raise ValueError(f"the y of every pair in {name} must have the same shape") from None
            T, labels = self._check_y(Y, X.shape[0], self.sizes[-1], self.dtype, name)
        return X, T, (labels if T is None else None)

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, test_data=None,
            shuffle=True, evaluation_data=None, monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False, monitor_training_cost=False,
            monitor_training_accuracy=False, n_threads=None, verbose=True, callbacks=None,
            early_stopping_n=0):
        """Mini-batch stochastic gradient descent, as in the book.

        ``training_data``: list of (x (n_in, 1), y (n_out, 1)); ``test_data``
        (network.py) and ``evaluation_data`` (network2.py): lists of
        (x, int label).  Prints per-epoch progress like the book's code and
        returns network2.py's four lists (evaluation cost, evaluation
        accuracy, training cost, training accuracy), filled where monitored.
        ``early_stopping_n`` (the Python 3 port's network2.py): stop when the
        monitored accuracy (evaluation, else training) has not improved for
        that many epochs; 0 never stops.

        ``callbacks`` work as in :meth:`fit`: ``callback(net, epoch, row)``
        after each epoch (``epoch`` 1-based, while the book's lines count
        from 0), True or :class:`cnet.StopTraining` stops.  ``row`` has
        ``epoch``, ``train_cost`` (mean cost during the epoch), ``eta``,
        ``seconds``, ``threads``, and what is measured this epoch:
        ``test_accuracy`` (fraction of ``test_data``), ``val_cost`` /
        ``val_accuracy`` (of ``evaluation_data``, when monitored),
        ``training_cost`` / ``train_accuracy`` (when monitored).
        """
        if isinstance(lmbda, (list, tuple)) and test_data is None:
            raise TypeError(
                f"lmbda (SGD's 5th argument) must be a number; got {describe(lmbda)}. "
                f"network.py's SGD takes test_data there; cnet follows network2.py, where the "
                f"5th argument is lmbda: pass test_data=... by keyword, as the book does "
                f"(or use cnet.book.network, whose SGD has network.py's signature)")
        return self._book_sgd(
            training_data, epochs, mini_batch_size, eta, lmbda, test_data=test_data,
            shuffle=shuffle, evaluation_data=evaluation_data,
            monitor_evaluation_cost=monitor_evaluation_cost,
            monitor_evaluation_accuracy=monitor_evaluation_accuracy,
            monitor_training_cost=monitor_training_cost,
            monitor_training_accuracy=monitor_training_accuracy, n_threads=n_threads,
            verbose=verbose, callbacks=callbacks, early_stopping_n=early_stopping_n)

    _MONITORS = ("monitor_evaluation_cost", "monitor_evaluation_accuracy",
                 "monitor_training_cost", "monitor_training_accuracy")

    def _book_sgd(self, training_data, epochs, mini_batch_size, eta, lmbda, *, test_data,
                  shuffle, evaluation_data, n_threads, verbose, callbacks, early_stopping_n,
                  **monitor):
        """SGD of network.py and network2.py (both signatures end here)."""
        X, T, labels = self._examples(training_data, "training_data")
        epochs, mini_batch_size, eta, lmbda = self._check_hyper(epochs, mini_batch_size, eta, lmbda,
                                                                "mini_batch_size")
        shuffle = check_bool(shuffle, "shuffle")
        verbose = check_bool(verbose, "verbose")
        for flag in self._MONITORS:
            check_bool(monitor[flag], flag)
        early_stopping_n = check_int(early_stopping_n, "early_stopping_n", 0)
        if early_stopping_n and not (monitor["monitor_evaluation_accuracy"] and evaluation_data
                                     or monitor["monitor_training_accuracy"]):
            raise ValueError("early_stopping_n watches an accuracy: set "
                             "monitor_evaluation_accuracy=True (with evaluation_data) or "
                             "monitor_training_accuracy=True")
        run = _BookRun(self, (X, T, labels), test_data, evaluation_data, lmbda,
                       resolve_n_threads(n_threads), verbose, monitor)
        callbacks = check_callbacks(callbacks)
        keys = _EPOCH_KEYS + run.keys(callbacks)
        history = self.history = History({k: [] for k in keys})
        best, stale = None, 0
        with self._training():
            callbacks_begin(callbacks, self)
            for j, cost, seconds, used, undo in sgd_epochs(
                    self, X, T, labels, epochs=epochs, batch_size=mini_batch_size, eta=eta,
                    lmbda=lmbda, shuffle=shuffle, n_threads=run.n_threads):
                row = dict(epoch=j + 1, train_cost=cost, eta=eta, seconds=seconds, threads=used)
                try:
                    row.update(run.epoch_done(j, bool(callbacks)))
                except KeyboardInterrupt:  # the epoch is not in the history: undo it
                    undo()
                    raise
                history.append(**row)
                if callbacks and callbacks_epoch(callbacks, self, j + 1, row):
                    break
                if early_stopping_n:
                    # The port's rule: the accuracy printed last, compared with
                    # the best so far; stop after early_stopping_n without a rise.
                    watched = run.lists[1][-1] if run.lists[1] else run.lists[3][-1]
                    best, stale = (watched, 0) if best is None or watched > best \
                        else (best, stale + 1)
                    if stale == early_stopping_n:
                        break
            callbacks_end(callbacks, self, history)
        return run.lists

    # -- saving -------------------------------------------------------------

    def save(self, path):
        """Write the network to ``path`` as a cnet model file (.npz, no pickle);
        read it back with :func:`cnet.load`.  The file appears complete or not
        at all (temporary file + rename).  See :mod:`cnet.saving` for the format."""
        from .saving import save
        save(self, path)

    def __repr__(self):
        return (f"Network({self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, cost={self._cost.name!r}, "
                f"dtype={self.dtype.name!r})")


class _BookRun:
    """What the book's SGD measures and prints after each epoch, and the four
    lists it returns (evaluation cost, evaluation accuracy, training cost,
    training accuracy)."""

    def __init__(self, net, train, test_data, evaluation_data, lmbda, n_threads, verbose,
                 monitor):
        self.net, self.train, self.lmbda = net, train, lmbda
        self.n_threads, self.verbose, self.monitor = n_threads, verbose, monitor
        self.test = net._examples(test_data, "test_data") if test_data else None
        self.evald = (net._examples(evaluation_data, "evaluation_data")
                      if evaluation_data else None)
        self.lists = ([], [], [], [])

    def keys(self, callbacks):
        """The history's keys beyond the ones every epoch has."""
        m = self.monitor
        return ((("test_accuracy",) if self.test is not None and (self.verbose or callbacks)
                 else ())
                + (("training_cost",) if m["monitor_training_cost"] else ())
                + (("train_accuracy",) if m["monitor_training_accuracy"] else ())
                + (("val_cost",) if self.evald is not None and m["monitor_evaluation_cost"]
                   else ())
                + (("val_accuracy",) if self.evald is not None
                   and m["monitor_evaluation_accuracy"] else ()))

    def correct(self, data):
        X, T, labels = data
        predicted = labels_of(self.net._forward(X, self.n_threads))
        return int(np.sum(predicted == (labels if labels is not None else labels_of(T))))

    def total(self, data):
        X, T, labels = data
        return self.net._mean_cost(X, T, labels, self.lmbda, self.n_threads)

    def epoch_done(self, j, callbacks):
        """Measure and print after epoch j (counted from 0, as the book
        prints it); the history entries measured."""
        out, say, m, row = sys.stdout, self.verbose, self.monitor, {}
        ev_cost, ev_acc, tr_cost, tr_acc = self.lists
        test, evald, n = self.test, self.evald, self.train[0].shape[0]
        if test is not None and (say or callbacks):
            n_correct = self.correct(test)
            row["test_accuracy"] = n_correct / test[0].shape[0]
            say and print(f"Epoch {j}: {n_correct} / {test[0].shape[0]}", file=out, flush=True)
        elif say:
            print(f"Epoch {j} training complete" if evald else f"Epoch {j} complete",
                  file=out, flush=True)
        if m["monitor_training_cost"]:
            tr_cost.append(self.total(self.train))
            row["training_cost"] = tr_cost[-1]
            say and print(f"Cost on training data: {tr_cost[-1]}", file=out)
        if m["monitor_training_accuracy"]:
            tr_acc.append(self.correct(self.train))
            row["train_accuracy"] = tr_acc[-1] / n
            say and print(f"Accuracy on training data: {tr_acc[-1]} / {n}", file=out)
        if evald is not None and m["monitor_evaluation_cost"]:
            ev_cost.append(self.total(evald))
            row["val_cost"] = ev_cost[-1]
            say and print(f"Cost on evaluation data: {ev_cost[-1]}", file=out)
        if evald is not None and m["monitor_evaluation_accuracy"]:
            ev_acc.append(self.correct(evald))
            row["val_accuracy"] = ev_acc[-1] / evald[0].shape[0]
            say and print(f"Accuracy on evaluation data: {ev_acc[-1]} / {evald[0].shape[0]}",
                          file=out)
        return row
