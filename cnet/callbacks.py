"""Ready-made training callbacks: stop early, save checkpoints.

A callback is any callable ``callback(net, epoch, row)`` that
:meth:`Network.fit` and :meth:`Network.SGD` call after each epoch
(``callbacks=[...]``): ``epoch`` counts from 1 and ``row`` is the epoch's
entries of the history, e.g. ``{"epoch": 3, "train_cost": 0.05,
"val_cost": 0.06, "val_accuracy": 0.93, "eta": 3.0, "seconds": 0.4,
"threads": 2}``.  Returning True, or raising :class:`StopTraining`, stops
training after this epoch.  A plain function is enough:

    >>> def stop_at_95(net, epoch, row):
    ...     return row["val_accuracy"] >= 0.95
    >>> net.fit(X, y, 30, 10, 3.0, validation_data=(X_val, y_val), callbacks=[stop_at_95])

Objects may also define ``on_train_begin(net)`` and ``on_train_end(net,
history)``, called once per fit/SGD call, at its start and at its normal end
(not when it ends by an exception such as Ctrl-C), and
``on_epoch_outputs(net, epoch, outputs)``: then after each epoch the network
is run once over the training data (one compiled call) and ``outputs`` is a
:data:`cnet.training.EpochOutputs` (the outputs, the targets, each
example's class, the steps taken so far), called before the callbacks of
that epoch; the history then has ``train_accuracy`` too.  One that sets
``needs_labels = True`` is refused (ValueError) before any training when
the targets are not classes.
"""
import math
import numbers
import os

import numpy as np

from ._validation import check_bool, describe, labels_of
from .training import StopTraining

__all__ = ["EarlyStopping", "Checkpoint", "StopAtTrainAccuracy", "ExampleTracker",
           "StopTraining"]


def _resolve_mode(mode, monitor):
    if mode == "auto":
        return "max" if "accuracy" in monitor else "min"
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max', 'min' or 'auto'; got {describe(mode)}")
    return mode


def _monitored(row, monitor, who):
    try:
        value = row[monitor]
    except KeyError:
        hint = (" Pass validation_data= to fit (or evaluation_data= with the matching "
                "monitor_evaluation_* flag to SGD)." if monitor.startswith("val_") else "")
        raise ValueError(f"{who} monitors {describe(monitor)}, which this training does not record "
                         f"(the epoch's entries are {', '.join(sorted(row))}).{hint}") from None
    return float(value)


class _Best:
    """Tracks the best value of a monitored quantity."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be the name of a history entry; got {describe(monitor)}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta)
                and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0; got {describe(min_delta)}")
        self.min_delta = float(min_delta)
        self.best = None
        self.best_epoch = None

    def improves(self, value):
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta


class EarlyStopping:
    """Stop training when a monitored quantity has stopped improving.

    Parameters
    ----------
    monitor : str
        History entry to watch: "val_accuracy" (default; needs validation
        data), "val_cost", "train_cost", ...
    patience : int >= 0
        Epochs without improvement to wait before stopping: with patience 5,
        training stops 5 epochs after the best one (unless it ends sooner).
    mode : {"auto", "max", "min"}
        Whether larger or smaller is better.  "auto": larger for names
        containing "accuracy", smaller otherwise (costs).
    restore_best : bool
        At the end of training (early stop or not), put back the weights and
        biases of the best epoch, so the network is the best one seen.
    min_delta : float >= 0
        Smallest change that counts as an improvement.
    verbose : bool, default True
        Say so when it stops training (and when it puts the best epoch's
        weights back), as Keras's EarlyStopping does with verbose=1: one
        line on standard output, e.g. ``EarlyStopping: stopped after epoch
        12: val_accuracy has not improved for 5 epochs (best 0.9512 at epoch
        7); restored the parameters of epoch 7``.  The same sentence is kept
        in :attr:`message`.

    Attributes
    ----------
    best : float or None
        Best value seen in the last training call.
    best_epoch : int or None
        Epoch (1-based) that reached it.
    stopped_epoch : int or None
        Epoch after which training was stopped, or None if it ran to the end.
    restored : bool
        Whether the best epoch's parameters were put back.
    message : str or None
        What it did, as printed with verbose (None if it did nothing).

    The state is reset at the start of every fit / SGD call.
    """

    def __init__(self, monitor="val_accuracy", patience=5, mode="auto", restore_best=True,
                 min_delta=0.0, verbose=True):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0; got {describe(patience)}")
        self._tracker = _Best(monitor, mode, min_delta)
        self.monitor, self.mode = self._tracker.monitor, self._tracker.mode
        self.patience = patience
        self.restore_best = bool(restore_best)
        self.verbose = check_bool(verbose, "verbose")
        self.on_train_begin(None)

    @property
    def best(self):
        return self._tracker.best

    @property
    def best_epoch(self):
        return self._tracker.best_epoch

    def on_train_begin(self, net):
        self._tracker.best = self._tracker.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self.restored = False
        self._last_epoch = None
        self._best_params = None
        self.message = None

    def __call__(self, net, epoch, row):
        value = _monitored(row, self.monitor, "EarlyStopping")
        self._last_epoch = epoch
        if self._tracker.improves(value):
            self._tracker.best, self._tracker.best_epoch = value, epoch
            self.wait = 0
            if self.restore_best:
                self._best_params = net.parameters.snapshot()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, net, history):
        if (self.restore_best and self._best_params is not None
                and self._last_epoch != self.best_epoch):
            net.parameters.restore(self._best_params)
            self.restored = True
        self._best_params = None  # do not keep a copy of the weights alive
        parts = []
        if self.stopped_epoch is not None:
            parts.append(f"stopped after epoch {self.stopped_epoch}: {self.monitor} has not "
                         f"improved for {self.wait} epoch{'s' if self.wait != 1 else ''} "
                         f"(best {self.best:.6g} at epoch {self.best_epoch})")
        if self.restored:
            parts.append(f"restored the parameters of epoch {self.best_epoch}"
                         + ("" if parts else f" (best {self.monitor} {self.best:.6g})"))
        if parts:
            self.message = "EarlyStopping: " + "; ".join(parts)
            if self.verbose:
                print(self.message, flush=True)

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"mode={self.mode!r}, restore_best={self.restore_best}, verbose={self.verbose})")


class Checkpoint:
    """Save the network (:func:`cnet.saving.save`) during training.

    Parameters
    ----------
    path : str or os.PathLike
        Model file to write.  It may contain ``str.format`` fields filled from
        the epoch's row, e.g. ``"model-{epoch:03d}.npz"`` or
        ``"model-{val_accuracy:.4f}.npz"``; otherwise each save replaces the
        previous one (atomically, so the file is always a whole model).
    monitor : str or None
        None saves after every epoch.  A history entry ("val_accuracy",
        "val_cost", ...) saves only when it improves on the best so far.
    mode : {"auto", "max", "min"}
        As for :class:`EarlyStopping`.
    optimizer : cnet.optimizers.Optimizer or None
        The optimizer passed to ``fit``: saved with the network (its state
        too), so that training resumed from the file (``cnet.load`` and
        ``cnet.load_optimizer``) goes on bit for bit.

    Each file's metadata ``info`` holds the epoch's row (epoch, costs,
    accuracy), so ``cnet.saving.load_with_metadata`` tells which epoch it is.

    Attributes
    ----------
    saved : list of (epoch, path)
        Every save made, in order.
    best, best_epoch
        With a monitor: the best value and its epoch.  Unlike EarlyStopping
        these persist across fit calls, so a checkpoint only ever replaces a
        better model by a worse one when no monitor is set.
    """

    def __init__(self, path, monitor=None, mode="auto", optimizer=None):
        self.path = os.fspath(path)
        self.optimizer = optimizer
        self._tracker = None if monitor is None else _Best(monitor, mode)
        self.monitor = monitor
        self.saved = []

    @property
    def best(self):
        return None if self._tracker is None else self._tracker.best

    @property
    def best_epoch(self):
        return None if self._tracker is None else self._tracker.best_epoch

    def __call__(self, net, epoch, row):
        from .saving import save

        if self._tracker is not None:
            value = _monitored(row, self.monitor, "Checkpoint")
            if not self._tracker.improves(value):
                return False
            self._tracker.best, self._tracker.best_epoch = value, epoch
        path = self.path.format(**{**row, "epoch": epoch}) if "{" in self.path else self.path
        save(net, path, info={**row, "epoch": epoch}, optimizer=self.optimizer)
        self.saved.append((epoch, path))
        return False

    def __repr__(self):
        return f"Checkpoint({self.path!r}, monitor={self.monitor!r})"


class StopAtTrainAccuracy:
    """Stop when the training accuracy reaches a threshold, and record the
    time it took to fit (Zhang et al. 2017's "time to fit").

    The accuracy is on the labels training uses (random or corrupted ones
    too), measured after each epoch by one pass over the training data; the
    history gets a ``train_accuracy`` entry per epoch.

    Parameters
    ----------
    threshold : float in (0, 1], default 1.0
        Training accuracy at which to stop.
    stop : bool, default True
        Stop training when it is reached (else only record it).
    verbose : bool, default False
        Print one line when it is reached.

    Attributes
    ----------
    time_to_fit : dict or None
        ``{"epochs": e, "steps": s, "seconds": t, "threshold": threshold}``:
        the epochs and mini-batch steps until the threshold was first
        reached, and the seconds of training they took (the compiled
        epochs, not the measuring); None if it was not reached.  Also set
        as ``history.time_to_fit`` on the history the training call returns.
    message : str or None
        What happened, as a sentence.

    The state is reset at the start of every fit / SGD call.
    """

    needs_labels = True  # checked before training starts (cnet.training.train)

    def __init__(self, threshold=1.0, stop=True, verbose=False):
        if (isinstance(threshold, bool) or not isinstance(threshold, numbers.Real)
                or not 0 < threshold <= 1):
            raise ValueError(f"threshold must be a training accuracy in (0, 1]; got "
                             f"{describe(threshold)}")
        self.threshold = float(threshold)
        self.stop = check_bool(stop, "stop")
        self.verbose = check_bool(verbose, "verbose")
        self.on_train_begin(None)

    def on_train_begin(self, net):
        self.time_to_fit = None
        self.message = None
        self._seconds = 0.0
        self._steps = 0

    def on_epoch_outputs(self, net, epoch, outputs):
        self._steps = outputs.steps  # (labels: training refuses to start without them)

    def __call__(self, net, epoch, row):
        self._seconds += row["seconds"]
        if self.time_to_fit is not None:
            return self.stop
        if row["train_accuracy"] >= self.threshold:
            self.time_to_fit = {"epochs": epoch, "steps": self._steps,
                                "seconds": self._seconds, "threshold": self.threshold}
            self.message = (f"StopAtTrainAccuracy: training accuracy "
                            f"{row['train_accuracy']:.4f} >= {self.threshold:g} after epoch "
                            f"{epoch} ({self._steps} steps, {self._seconds:.3g} s)")
            if self.verbose:
                print(self.message, flush=True)
            return self.stop
        return False

    def on_train_end(self, net, history):
        history.time_to_fit = self.time_to_fit
        if self.time_to_fit is None:
            self.message = (f"StopAtTrainAccuracy: the training accuracy never reached "
                            f"{self.threshold:g}")

    def __repr__(self):
        return (f"StopAtTrainAccuracy(threshold={self.threshold:g}, stop={self.stop}, "
                f"verbose={self.verbose})")


class ExampleTracker:
    """Per-example records of training: after every epoch, each training
    example's cost and whether the network classifies it correctly; from
    them the epoch each example was first learned and its forgetting events
    (classified correctly, then wrongly at the next epoch: Toneva et al.,
    2019).

    The records come from one pass of the network over the training data
    after each epoch (compiled) and array arithmetic: no Python per example.

    Parameters
    ----------
    keep_costs : bool, default True
        Keep the per-example costs (an (epochs, n_samples) array); False
        keeps only the correctness (a byte per example and epoch).

    Attributes (after training; reset at the start of every fit / SGD call)
    ----------
    correct : ndarray of bool, shape (epochs, n_samples)
        Row e: which examples were classified correctly after epoch e + 1.
    costs : ndarray, shape (epochs, n_samples), or None
        Each example's cost after each epoch (without regularisation terms).
    first_learned : ndarray of int, shape (n_samples,)
        The first epoch (1-based) after which the example was classified
        correctly; 0 if it never was.
    forgetting_events : ndarray of int, shape (n_samples,)
        How many times the example went from correct to wrong between
        consecutive epochs.
    never_forgotten : ndarray of bool
        Learned at some epoch and never forgotten after.
    """

    needs_labels = True

    def __init__(self, keep_costs=True):
        self.keep_costs = check_bool(keep_costs, "keep_costs")
        self.on_train_begin(None)

    def on_train_begin(self, net):
        self._correct, self._costs = [], []

    def on_epoch_outputs(self, net, epoch, outputs):
        self._correct.append(labels_of(outputs.outputs) == outputs.labels)
        if self.keep_costs:
            # the cost class's fn: one value per row (net.cost.fn reads one
            # (n, 1) column as the book's single example)
            self._costs.append(net.cost.cls.fn(outputs.outputs, outputs.targets))

    def __call__(self, net, epoch, row):
        return False

    @property
    def correct(self):
        if not self._correct:
            return np.zeros((0, 0), dtype=bool)
        return np.array(self._correct, dtype=bool)

    @property
    def costs(self):
        return np.array(self._costs) if self.keep_costs and self._costs else None

    @property
    def first_learned(self):
        c = self.correct
        if c.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        return np.where(c.any(axis=0), c.argmax(axis=0) + 1, 0).astype(np.intp)

    @property
    def forgetting_events(self):
        c = self.correct
        return (c[:-1] & ~c[1:]).sum(axis=0).astype(np.intp)

    @property
    def never_forgotten(self):
        c = self.correct
        return c.any(axis=0) & (self.forgetting_events == 0)

    def table(self):
        """The per-example records as a dict of columns (``pandas.DataFrame(
        tracker.table())`` makes it a table): example, first_learned,
        forgetting_events, correct_at_end, and cost_at_end if costs are kept."""
        c = self.correct
        out = {"example": np.arange(c.shape[1]), "first_learned": self.first_learned,
               "forgetting_events": self.forgetting_events,
               "correct_at_end": c[-1] if c.shape[0] else np.zeros(c.shape[1], bool)}
        if self.costs is not None:
            out["cost_at_end"] = self.costs[-1]
        return out

    def __repr__(self):
        return f"ExampleTracker(keep_costs={self.keep_costs})"
