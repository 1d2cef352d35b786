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
(not when it ends by an exception such as Ctrl-C).
"""
import math
import os

from ._validation import check_bool, describe
from .training import StopTraining

__all__ = ["EarlyStopping", "Checkpoint", "StopTraining"]


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
