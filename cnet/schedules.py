"""Learning-rate schedules: the eta of each epoch.

``fit(..., eta=0.1, schedule=Exponential(0.95))`` trains epoch ``e``
(counted from 0) with ``schedule.rate(0.1, e, n)``; the rate actually used
goes into the history (``history["eta"]``).  A schedule counts the epochs
it has scheduled, so passing the same object to the next ``fit`` goes on
where the last one stopped (as PyTorch's schedulers do); a plain callable
``epoch -> eta`` starts from 0 in every call.

======================================  ======================================================
``Constant()``                          eta
``Exponential(gamma)``                  eta gamma^e (PyTorch's ExponentialLR, stepped per
                                        epoch; Zhang et al.'s 0.95)
``Step(step_size, gamma=0.1)``          eta gamma^(e // step_size) (PyTorch's StepLR)
``Cosine(t_max, eta_min=0)``            eta_min + (eta - eta_min) (1 + cos(pi e / t_max)) / 2
                                        (PyTorch's CosineAnnealingLR)
``InverseScaling(power_t=0.5)``         eta / (samples seen + 1)^power_t (scikit-learn's
                                        "invscaling": samples seen before the epoch)
``ReduceOnPlateau(factor, patience,     eta times factor each time ``monitor`` has not
monitor, min_delta)``                   improved by min_delta for ``patience`` epochs
``Adaptive(tol, n_iter_no_change)``     scikit-learn's "adaptive": eta / 5 when the
                                        training cost has not fallen by tol for
                                        n_iter_no_change epochs
======================================  ======================================================
"""
import math
import numbers

from ._validation import describe

__all__ = ["Schedule", "Constant", "Exponential", "Step", "Cosine", "InverseScaling",
           "ReduceOnPlateau", "Adaptive", "resolve"]


def _number(value, name, *, minimum=None, above=None, below=None, integer=False):
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integer
                                                 else numbers.Real):
        raise TypeError(f"{name} must be {kind}; got {describe(value)}")
    value = int(value) if integer else float(value)
    if not math.isfinite(value) or (minimum is not None and value < minimum) \
            or (above is not None and value <= above) or (below is not None and value >= below):
        bounds = " and ".join(b for b in (
            f">= {minimum}" if minimum is not None else "", f"> {above}" if above is not None
            else "", f"< {below}" if below is not None else "") if b)
        raise ValueError(f"{name} must be {kind} {bounds}; got {value!r}")
    return value


class Schedule:
    """Base class.  ``rate(eta, epoch, n_samples)`` is the eta of ``epoch``;
    ``update(row)`` sees each epoch's history row after it (plateau
    schedules use it); ``epoch`` counts the epochs scheduled so far."""

    epoch = 0

    def rate(self, eta, epoch, n_samples):
        raise NotImplementedError

    def next_rate(self, eta, n_samples):
        """The rate of the next epoch (the schedule's own count)."""
        return self.rate(eta, self.epoch, n_samples)

    def update(self, row):
        """After an epoch: its history row.  Counts the epoch."""
        self.epoch += 1

    def get_config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The same eta every epoch (the default)."""

    def rate(self, eta, epoch, n_samples):
        return eta


class Exponential(Schedule):
    """eta gamma^epoch."""

    def __init__(self, gamma):
        self.gamma = _number(gamma, "gamma", above=0)

    def rate(self, eta, epoch, n_samples):
        return eta * self.gamma ** epoch

    def get_config(self):
        return {"gamma": self.gamma}


class Step(Schedule):
    """eta gamma^(epoch // step_size)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = _number(step_size, "step_size", minimum=1, integer=True)
        self.gamma = _number(gamma, "gamma", above=0)

    def rate(self, eta, epoch, n_samples):
        return eta * self.gamma ** (epoch // self.step_size)

    def get_config(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class Cosine(Schedule):
    """eta_min + (eta - eta_min) (1 + cos(pi epoch / t_max)) / 2."""

    def __init__(self, t_max, eta_min=0.0):
        self.t_max = _number(t_max, "t_max", minimum=1, integer=True)
        self.eta_min = _number(eta_min, "eta_min", minimum=0)

    def rate(self, eta, epoch, n_samples):
        return self.eta_min + (eta - self.eta_min) * (1 + math.cos(math.pi * epoch
                                                                   / self.t_max)) / 2

    def get_config(self):
        return {"t_max": self.t_max, "eta_min": self.eta_min}


class InverseScaling(Schedule):
    """eta / (samples seen before the epoch + 1)^power_t, scikit-learn's
    "invscaling" (it counts every example of every epoch)."""

    def __init__(self, power_t=0.5):
        self.power_t = _number(power_t, "power_t", minimum=0)

    def rate(self, eta, epoch, n_samples):
        return eta / (epoch * n_samples + 1) ** self.power_t

    def get_config(self):
        return {"power_t": self.power_t}


class ReduceOnPlateau(Schedule):
    """Multiply eta by ``factor`` each time ``monitor`` (a history key, e.g.
    "val_cost", "train_cost", "val_accuracy") has not improved on its best by
    more than ``min_delta`` for ``patience`` epochs; then count again.

    Parameters
    ----------
    factor : float in (0, 1), default 0.1
    patience : int >= 0, default 10
    monitor : str, default "train_cost"
    min_delta : float >= 0, default 0
    mode : "min", "max" or "auto" (max for accuracies, else min)
    """

    def __init__(self, factor=0.1, patience=10, monitor="train_cost", min_delta=0.0,
                 mode="auto"):
        self.factor = _number(factor, "factor", above=0, below=1)
        self.patience = _number(patience, "patience", minimum=0, integer=True)
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a history key (a str); got {describe(monitor)}")
        self.monitor = monitor
        self.min_delta = _number(min_delta, "min_delta", minimum=0)
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto'; got {describe(mode)}")
        self.mode = ("max" if "accuracy" in monitor else "min") if mode == "auto" else mode
        self.scale, self.best, self.bad = 1.0, None, 0

    def rate(self, eta, epoch, n_samples):
        return eta * self.scale

    def update(self, row):
        super().update(row)
        if self.monitor not in row:
            raise KeyError(f"ReduceOnPlateau monitors {self.monitor!r}, which the history does "
                           f"not have (it has {', '.join(sorted(row))}); pass validation_data "
                           f"for val_* keys")
        value = row[self.monitor]
        better = (self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                        else value > self.best + self.min_delta))
        if better:
            self.best, self.bad = value, 0
            return
        self.bad += 1
        if self.bad > self.patience:
            self.scale *= self.factor
            self.bad = 0

    def get_config(self):
        return {"factor": self.factor, "patience": self.patience, "monitor": self.monitor,
                "min_delta": self.min_delta, "mode": self.mode}


class Adaptive(ReduceOnPlateau):
    """scikit-learn's "adaptive" learning rate: divide eta by 5 each time the
    training cost has not fallen by at least ``tol`` for ``n_iter_no_change``
    consecutive epochs."""

    def __init__(self, tol=1e-4, n_iter_no_change=10):
        n = _number(n_iter_no_change, "n_iter_no_change", minimum=1, integer=True)
        super().__init__(factor=0.2, patience=n - 1, monitor="train_cost",
                         min_delta=_number(tol, "tol", minimum=0), mode="min")

    def get_config(self):
        return {"tol": self.min_delta, "n_iter_no_change": self.patience + 1}


class _Callable(Schedule):
    """A function epoch -> eta, counted from 0 in each fit call."""

    def __init__(self, fn):
        self.fn = fn

    def rate(self, eta, epoch, n_samples):
        value = self.fn(epoch)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value <= 0:
            raise ValueError(f"the schedule returned {describe(value)} for epoch {epoch}; it "
                             f"must return a learning rate > 0")
        return float(value)


NAMES = {"constant": Constant, "adaptive": Adaptive}


def resolve(schedule):
    """A Schedule from None (constant), a name, an instance or a callable."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str) and schedule in NAMES:
        return NAMES[schedule]()
    if isinstance(schedule, type) and issubclass(schedule, Schedule):
        raise TypeError(f"schedule must be an instance, e.g. {schedule.__name__}(...); got the "
                        f"class {schedule.__name__}")
    if callable(schedule):
        return _Callable(schedule)
    raise ValueError(f"schedule must be 'constant', 'adaptive', a cnet.schedules instance or a "
                     f"function epoch -> eta; got {describe(schedule)}")
