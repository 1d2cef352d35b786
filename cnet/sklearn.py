"""scikit-learn estimators on cnet's compiled epochs: MLPClassifier and
MLPRegressor.

They take scikit-learn's parameters (1.6+) with their names, defaults and
meaning, keep its fitted attributes, and pass its estimator checks, so that
they drop into ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and the
rest -- and train as cnet does: a whole epoch is one compiled call, without
Python per mini-batch::

    from cnet.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(100,), solver="adam", random_state=0)
    clf.fit(X, y).score(X_test, y_test)

scikit-learn is an optional dependency (``pip install cnet-nn[sklearn]``),
imported by this module only.

How scikit-learn's parameters map onto cnet:

* ``solver``: "sgd" is :class:`cnet.optimizers.SGD` with ``momentum`` and
  ``nesterovs_momentum`` (scikit-learn's velocity is PyTorch's buffer times
  -rate: when the rate changes the buffer is rescaled, so the steps are
  scikit-learn's), "adam" :class:`cnet.optimizers.Adam` (``beta_1``,
  ``beta_2``, ``epsilon``, with ``eps_hat=True``: scikit-learn's form).
  With the same ``random_state`` and ``shuffle=False`` the weights are
  scikit-learn's to rounding (tested); with shuffling, cnet draws its own
  orders.  Beyond
  scikit-learn: "nesterov" (SGD with Nesterov's momentum whatever
  ``nesterovs_momentum`` says), "adamw" (``alpha`` is then the decoupled
  weight decay, not an L2 term) and "rmsprop" (``beta_2`` its decay rate,
  ``epsilon``).  "lbfgs" is not available (cnet's epochs are stochastic).
* ``alpha``: scikit-learn adds ``alpha W`` to each mini-batch's summed
  gradient before dividing by the batch's size (or weight): cnet's ``fit``
  takes the same ``alpha``.
* ``learning_rate``: "constant", "invscaling" (``learning_rate_init /
  (t + 1)^power_t``, t the samples seen before the epoch) and "adaptive"
  (divided by 5 when the stopping rule triggers, until it is below 1e-6)
  apply to "sgd" as in scikit-learn; the other solvers keep the initial rate.
* Initial weights: Glorot's uniform, as scikit-learn's (its random draws in
  its order from ``random_state``).  ``random_state`` also seeds the
  shuffling and dropout (the network's own generator).
* The stopping rule, ``early_stopping`` (a stratified validation split,
  the best weights restored), ``tol``, ``n_iter_no_change``, ``max_iter``,
  ``warm_start``, ``partial_fit`` and the fitted attributes are
  scikit-learn's.
* ``loss_``: the mean cost over the epoch's mini-batches as they were
  trained, as scikit-learn's; its L2 term is taken at the epoch's last
  weights (scikit-learn's at each mini-batch's), and with ``sample_weight``
  it is the epoch's weighted mean (scikit-learn's averages each mini-batch's
  weighted mean by its rows).

Beyond scikit-learn: ``activation`` "leaky_relu", or a list of one
activation per hidden layer; ``dropout`` (one rate, or one per layer of
weights, the input's first); ``class_weight`` (a dict or "balanced");
``dtype`` (None: the input's float dtype; "float32" trains in float32);
``n_threads``; and the fitted ``network_`` (a :class:`cnet.Network`) and
``history_`` (its History).
"""
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import optimizers, schedules
from .network import Network
from .training import DivergenceError

__all__ = ["MLPClassifier", "MLPRegressor"]

_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "leaky_relu": "leaky_relu"}
_FROM_CNET = {v: k for k, v in _ACTIVATIONS.items()}


class _Rate(schedules.Schedule):
    """The learning rate of scikit-learn's SGDOptimizer, epoch by epoch:
    invscaling from the samples seen, adaptive divided by 5 on a plateau."""

    def __init__(self, est):
        self.est = est
        self.lr = float(est.learning_rate_init)
        self.last = None  # the rate of the previous epoch

    def rate(self, eta, epoch, n_samples):
        est = self.est
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        else:
            lr = self.lr
        opt = est._optimizer
        if self.last is not None and lr != self.last and opt.state is not None \
                and getattr(opt, "momentum", 0):
            # scikit-learn's velocity is -rate times cnet's (PyTorch's) buffer and
            # carries over a change of rate as it is: the buffer is rescaled
            for slots in opt.state:
                for s in slots:
                    s *= s.dtype.type(self.last / lr)
        self.last = lr
        return lr


class _Monitor:
    """After each epoch: scikit-learn's bookkeeping (loss_, loss_curve_,
    n_iter_, t_, validation scores) and its stopping rule."""

    def __init__(self, est, n_samples, validation, incremental):
        self.est, self.n, self.validation = est, n_samples, validation
        self.incremental = incremental
        self.converged = False

    def __call__(self, net, epoch, row):
        est = self.est
        est.n_iter_ += 1
        est.loss_ = est._loss_of(row["train_cost"])
        est.t_ += self.n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
        est._update_no_improvement_count(self.validation)
        if est._no_improvement_count > est.n_iter_no_change:
            what = ("Validation score" if self.validation is not None else "Training loss")
            msg = (f"{what} did not improve more than tol={est.tol:f} for "
                   f"{est.n_iter_no_change} consecutive epochs.")
            if est.solver == "sgd" and est.learning_rate == "adaptive" \
                    and est._rate.lr > 1e-6:
                est._rate.lr /= 5.0
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"{msg} Setting learning rate to {est._rate.lr:f}")
            else:
                if est.verbose:
                    print(f"{msg} Stopping.")
                self.converged = True
                return True
        return False


class _BaseMLP(BaseEstimator):
    """What the two estimators share: parameters, training, attributes."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "adamw", "rmsprop", "nesterov"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"),
                             Options(numbers.Real, {np.inf})],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left"), list, tuple],
        "dtype": [StrOptions({"float32", "float64"}), None, type, np.dtype],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, dtype=None, n_threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.dtype = dtype
        self.n_threads = n_threads

    # -- scikit-learn's attributes, as views of the network ---------------------

    @property
    def coefs_(self):
        """Weights per layer, shaped (n_in, n_out) (views of network_'s)."""
        check_is_fitted(self, "network_")
        return [W.T for W in self.network_.weights]

    @property
    def intercepts_(self):
        """Biases per layer, shaped (n_out,) (views of network_'s)."""
        check_is_fitted(self, "network_")
        return [b.reshape(-1) for b in self.network_.biases]

    @property
    def n_layers_(self):
        check_is_fitted(self, "network_")
        return len(self.network_.sizes)

    @property
    def out_activation_(self):
        check_is_fitted(self, "network_")
        act = self.network_.output_activation
        return "softmax" if act == "softmax" else _FROM_CNET[act]

    # -- training -------------------------------------------------------------------

    def _hidden(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0
               for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _hidden_activations(self, n_hidden):
        act = self.activation
        if isinstance(act, str):
            return _ACTIVATIONS[act]
        act = list(act)
        bad = [a for a in act if a not in _ACTIVATIONS]
        if bad or len(act) != n_hidden:
            raise ValueError(
                f"The 'activation' parameter of {type(self).__name__} must be one of "
                f"{sorted(_ACTIVATIONS)} or a list of one per hidden layer ({n_hidden}); got "
                f"{self.activation!r}.")
        return [_ACTIVATIONS[a] for a in act]

    def _optimizer_for(self, batch_size):
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is not available in cnet's estimators: their "
                             "epochs are stochastic, compiled mini-batch passes. Use "
                             "solver='adam' or solver='sgd'.")
        if self.solver == "sgd":
            if self.momentum == 0:
                return optimizers.SGD()
            return optimizers.SGD(self.momentum, nesterov=self.nesterovs_momentum)
        if self.solver == "nesterov":
            return optimizers.SGD(self.momentum or 0.9, nesterov=True)
        if self.solver == "adam":
            return optimizers.Adam(self.beta_1, self.beta_2, self.epsilon, eps_hat=True)
        if self.solver == "adamw":
            return optimizers.AdamW(self.beta_1, self.beta_2, self.epsilon,
                                    weight_decay=self.alpha, eps_hat=True)
        return optimizers.RMSprop(alpha=self.beta_2, eps=self.epsilon)

    def _new_network(self, n_in, n_out, out_activation, cost, dtype):
        """scikit-learn's Glorot-uniform start, drawn from random_state in its
        order (each layer's weights, then its biases)."""
        hidden = self._hidden()
        sizes = [n_in] + hidden + [n_out]
        rs = self._random_state
        factor = 2.0 if self.activation == "logistic" else 6.0
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            weights.append(rs.uniform(-bound, bound, (fan_in, fan_out)).T)
            biases.append(rs.uniform(-bound, bound, fan_out))
        # then the seed of cnet's own draws (shuffling, dropout)
        net = Network(sizes, activation=self._hidden_activations(len(hidden)),
                      output_activation=out_activation, cost=cost, dtype=dtype,
                      seed=int(rs.randint(0, 2 ** 31 - 1)))
        net.weights, net.biases = weights, biases
        return net

    def _fit(self, X, y, sample_weight=None, incremental=False):
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        self._hidden()  # checked before the data
        self._optimizer_for(1)  # lbfgs: refused before the data
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
        if first_pass:
            self._random_state = check_random_state(self.random_state)
            out_act, cost = self._output()
            self.network_ = self._new_network(X.shape[1], Y.shape[1], out_act, cost, dtype)
            self.n_outputs_ = Y.shape[1]
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
            self._best = None
        elif Y.shape[1] != self.n_outputs_ or X.shape[1] != self.network_.sizes[0]:
            raise ValueError(f"the data has {X.shape[1]} features and {Y.shape[1]} outputs; "
                             f"the fitted network takes {self.network_.sizes[0]} and gives "
                             f"{self.n_outputs_}")
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = None
            self._rate = _Rate(self)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        X_train, Y_train, w_train, validation = X, Y, sample_weight, None
        if self.early_stopping:
            # scikit-learn stratifies single-output classification only
            stratify = Y if isinstance(self, ClassifierMixin) and self.n_outputs_ == 1 else None
            parts = train_test_split(X, Y, *([] if sample_weight is None else [sample_weight]),
                                     random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_train, X_val, Y_train, Y_val = parts[:4]
            w_train, w_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            validation = (X_val, self._targets_to_y(Y_val), w_val)
        n = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n))
        if self._optimizer is None:
            self._optimizer = self._optimizer_for(batch_size)
        monitor = _Monitor(self, n, validation, incremental)
        alpha = 0.0 if self.solver == "adamw" else self.alpha  # adamw: decoupled
        net = self.network_
        if getattr(self, "class_weight", None) is not None:
            # scikit-learn's classes, by their labels
            cw = compute_sample_weight(self.class_weight, self._targets_to_y(Y_train))
            w_train = cw if w_train is None else w_train * cw
        epochs = 1 if incremental else self.max_iter
        self._alpha_per_example = alpha * -(-n // batch_size) / n
        try:
            self.history_ = net.fit(
                X_train.astype(net.dtype, copy=False),
                Y_train.astype(net.dtype, copy=False), epochs, batch_size,
                self.learning_rate_init, shuffle=self.shuffle, n_threads=self.n_threads,
                callbacks=[monitor], optimizer=self._optimizer, schedule=self._rate,
                alpha=alpha, sample_weight=w_train, dropout=self.dropout or None,
                max_weight_growth=None)  # scikit-learn's only check: finite weights
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
            self.history_ = net.history
        except DivergenceError as exc:  # the network is as before that epoch
            raise ValueError(f"Solver produced non-finite parameter weights. The input data "
                             f"may contain large values and need to be preprocessed. "
                             f"({exc})") from None
        if not incremental and not monitor.converged and self.n_iter_ >= self.max_iter \
                and epochs == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                          f"reached and the optimization hasn't converged yet.",
                          ConvergenceWarning)
        if self.early_stopping and self._best is not None:
            net.weights, net.biases = self._best
        return self

    def _loss_of(self, train_cost):
        """scikit-learn's loss_ from cnet's training cost (the same but for a
        regressor's: scikit-learn averages the squared error over outputs)."""
        if isinstance(self, ClassifierMixin) or self.n_outputs_ == 1:
            return train_cost
        l2 = 0.5 * self._alpha_per_example * sum(float(np.sum(W.astype(np.float64) ** 2))
                                                 for W in self.network_.weights)
        return (train_cost - l2) / self.n_outputs_ + l2

    def _update_no_improvement_count(self, validation):
        if validation is not None:
            X_val, y_val, w_val = validation
            score = self._score(X_val, y_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best = ([w.copy() for w in self.network_.weights],
                              [b.copy() for b in self.network_.biases])
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X and y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Each mini-batch's gradient is the weighted mean.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _forward(self, X):
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.forward(X.astype(self.network_.dtype, copy=False),
                                     n_threads=self.n_threads)

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    # -- cnet's files -------------------------------------------------------------------

    def save(self, path):
        """Write the fitted network to a cnet model file (no pickle), with what
        the estimator needs to predict (its classes); read it back with
        :meth:`load`."""
        check_is_fitted(self, "network_")
        info = {"sklearn": {"class": type(self).__name__, "params": _jsonable(self.get_params()),
                            "n_iter_": self.n_iter_, "t_": self.t_}}
        if hasattr(self, "classes_"):
            info["sklearn"]["classes"] = _jsonable(self.classes_)
            info["sklearn"]["y_type"] = self._label_binarizer.y_type_
        self.network_.save(path, info=info)

    @classmethod
    def load(cls, path):
        """An estimator from a file :meth:`save` wrote."""
        from .saving import load_with_metadata
        net, meta = load_with_metadata(path)
        info = (meta.get("info") or {}).get("sklearn")
        if not isinstance(info, dict) or info.get("class") != cls.__name__:
            raise ValueError(f"{path} holds no {cls.__name__} (saved by {cls.__name__}.save)")
        params = {k: (tuple(v) if k == "hidden_layer_sizes" else v)
                  for k, v in info["params"].items() if k in cls().get_params()}
        est = cls(**params)
        kw = {}
        if "classes" in info:
            kw["classes"] = np.asarray(info["classes"])
        est._adopt(net, **kw)
        est.n_iter_, est.t_ = info.get("n_iter_", 0), info.get("t_", 0)
        return est

    @classmethod
    def from_network(cls, net, **kwargs):
        """A fitted estimator that predicts with ``net`` (a trained
        :class:`cnet.Network`); for a classifier, ``classes`` names its
        outputs (default 0 .. n_out - 1).  Further fits start from the
        network's weights with ``warm_start=True``."""
        if not isinstance(net, Network):
            raise TypeError(f"net must be a cnet.Network; got {type(net).__name__}")
        est = cls(hidden_layer_sizes=tuple(net.sizes[1:-1]),
                  activation=(_FROM_CNET[net.activation] if isinstance(net.activation, str)
                              else [_FROM_CNET[a] for a in net.activation]),
                  dtype=net.dtype.name, warm_start=True)
        est._adopt(net, **kwargs)
        return est

    def _adopt(self, net, classes=None):
        self.network_ = net
        self.n_features_in_ = net.sizes[0]
        self.n_outputs_ = net.sizes[-1]
        self.n_iter_ = self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = self.best_validation_score_ = None
        self._no_improvement_count = 0
        self._random_state = check_random_state(self.random_state)
        self._best = None


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, scikit-learn's interface on cnet.

    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
    learning_rate_init, power_t, max_iter, shuffle, random_state, tol,
    verbose, warm_start, momentum, nesterovs_momentum, early_stopping,
    validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change, max_fun
        As scikit-learn's ``MLPClassifier`` (see the module's docstring for
        how cnet runs them; ``max_fun`` is lbfgs's and unused).
    dropout : float or list of float, default 0.0
        Dropout of the hidden layers while training (cnet.regularizers).
    class_weight : dict, "balanced" or None
        Weights of the classes in the mean gradient.
    dtype : "float32", "float64" or None
        The network's dtype; None takes the input's float dtype.
    n_threads : int or None
        Threads of cnet's kernels (None: the cores available).

    Attributes
    ----------
    classes_, coefs_, intercepts_, loss_, best_loss_, loss_curve_,
    validation_scores_, best_validation_score_, n_iter_, t_, n_layers_,
    n_outputs_, out_activation_, n_features_in_, feature_names_in_
        As scikit-learn's.
    network_ : cnet.Network
    history_ : cnet.History
        The record of the last fit / partial_fit call.
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, class_weight=None, dtype=None, n_threads=None):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, dropout=dropout, dtype=dtype, n_threads=n_threads)
        self.class_weight = class_weight

    def _output(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "log_likelihood"
        return "sigmoid", "cross_entropy"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        f"warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` "
                                 f"has {self.classes_}. 'y' has {classes}.")
        return X, self._label_binarizer.transform(y).astype(X.dtype)

    def _targets_to_y(self, Y):
        return self._label_binarizer.inverse_transform(Y)

    def _predict(self, X, check_input=True):
        A = self._forward(X) if check_input else self.network_.forward(
            np.asarray(X, dtype=self.network_.dtype), n_threads=self.n_threads)
        if self.n_outputs_ == 1:
            A = A.ravel()
        return self._label_binarizer.inverse_transform(A)

    def predict(self, X):
        """Predicted classes, shape (n_samples,) (or (n_samples, n_labels)
        for multilabel targets)."""
        check_is_fitted(self)
        return self._predict(X)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def predict_proba(self, X):
        """Probability of each class, shape (n_samples, n_classes), in the
        order of ``classes_``."""
        check_is_fitted(self)
        A = self._forward(X)
        if self.n_outputs_ == 1:
            A = A.ravel()
            return np.vstack([1 - A, A]).T
        return A

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over X, y, continuing from where the last call left off.

        ``classes`` (all the classes of every call) is required in the
        first call."""
        if self.solver == "lbfgs":
            self._optimizer_for(1)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _adopt(self, net, classes=None):
        super()._adopt(net)
        n_out = net.sizes[-1]
        classes = np.arange(n_out if n_out > 1 else 2) if classes is None else np.asarray(classes)
        self._label_binarizer = LabelBinarizer().fit(classes)
        self.classes_ = self._label_binarizer.classes_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, scikit-learn's interface on cnet:
    identity outputs and the squared error (multi-output as scikit-learn).

    Parameters and attributes as :class:`MLPClassifier`'s (no
    ``class_weight``); ``score`` is R^2.
    """

    def _output(self):
        return "identity", "quadratic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(X.dtype)
        return X, Y

    def _targets_to_y(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    def _predict(self, X, check_input=True):
        A = self._forward(X) if check_input else self.network_.forward(
            np.asarray(X, dtype=self.network_.dtype), n_threads=self.n_threads)
        return A.ravel() if A.shape[1] == 1 else A

    def predict(self, X):
        """Predicted values, shape (n_samples,) or (n_samples, n_outputs)."""
        check_is_fitted(self)
        return self._predict(X)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over X, y, continuing from where the last call left off."""
        if self.solver == "lbfgs":
            self._optimizer_for(1)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

