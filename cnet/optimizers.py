"""Optimizers: what a mini-batch's gradient does to the parameters.

Each is one small class: its hyper-parameters, its state (one or two arrays
per parameter, and a step count) and its rule, which lives twice, kept in
step by the tests: :meth:`Optimizer.reference_step` in NumPy (the oracle)
and one epilogue of the compiled update (``cnet_opt_*`` in
src/cnet_update.h), which runs inside the one compiled call per epoch.

The gradient ``g`` of every rule is the mini-batch's mean gradient of the
cost plus, for weights (not biases), the L2 term ``(lmbda / n) w`` (Nielsen's
convention) and the L1 term ``(l1 / n) sign(w)``.  The formulas are
PyTorch's (``torch.optim``):

=========================================  ===============================================
``SGD()``                                  ``w -= eta g`` (Nielsen's, with L2 as a decay)
``SGD(momentum, nesterov)``                ``b = mu b + g``; ``w -= eta (g + mu b)`` with
                                           Nesterov, else ``w -= eta b``
``Adam(beta1, beta2, eps)``                ``m = beta1 m + (1 - beta1) g``;
                                           ``v = beta2 v + (1 - beta2) g^2``;
                                           ``w -= eta / (1 - beta1^t) m / (sqrt(v) /
                                           sqrt(1 - beta2^t) + eps)``
``AdamW(beta1, beta2, eps, weight_decay)`` ``w *= 1 - eta weight_decay`` (weights only),
                                           then Adam's step
``RMSprop(alpha, eps, momentum)``          ``v = alpha v + (1 - alpha) g^2``;
                                           ``w -= eta g / (sqrt(v) + eps)`` (with momentum:
                                           ``b = mu b + g / (sqrt(v) + eps)``; ``w -= eta b``)
=========================================  ===============================================

The state lives in the optimizer object: pass the same object to the next
``fit`` and training goes on as if it had not stopped (it is saved with
``net.save(path, optimizer=opt)`` and read back by
:func:`cnet.load_optimizer`).  An optimizer belongs to one network shape;
using it on a network of another shape raises ``ValueError``.
"""
import math
import numbers

import numpy as np

from ._validation import describe
from ._workspace import padded, state_from_kernels, state_to_kernels

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "resolve"]

# The kinds of the compiled rule (the enum in src/cnet_update.h).
PLAIN, GENERAL_SGD, MOMENTUM, ADAM, RMSPROP = 0, 1, 2, 3, 4


def _check_fraction(value, name, *, closed=False):
    """A number in [0, 1) (or [0, 1] with closed)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1); got {describe(value)}")
    value = float(value)
    if not (0 <= value < 1 or closed and value == 1) or math.isnan(value):
        raise ValueError(f"{name} must be in [0, {'1]' if closed else '1)'}; got {value!r}")
    return value


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number > 0; got {describe(value)}")
    value = float(value)
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return value


def _check_nonneg(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0; got {describe(value)}")
    value = float(value)
    if not value >= 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return value


class Optimizer:
    """Base class: state handling shared by every optimizer.

    Attributes
    ----------
    t : int
        Mini-batch steps taken (Adam's bias corrections count them).
    state : list of tuple or None
        Per layer, the state arrays for W and for b in the kernels' layout
        (W^T's padded shape, as cnet/_params.py stores W, but each block of
        rows stored tile by tile: cnet._workspace.state_from_kernels gives
        it laid out like W^T), allocated when first used on a network.
    """

    name = None
    kind = None
    n_slots = 0  # state arrays per parameter

    def __init__(self):
        self.t = 0
        self.state = None
        self._shape = None  # (sizes, dtype) of the network the state belongs to

    # -- the compiled rule -------------------------------------------------------

    def kernel_step(self, l2, l1, l2_batch=0.0):
        """The compiled rule's description for ``kernels.sgd_epoch(step=...)``,
        or None for Nielsen's plain update (the decay-and-scale fast path).
        l2, l1: the regularisers' coefficients per example (lmbda / n, l1 /
        n); l2_batch: scikit-learn's alpha (alpha / the batch's weight)."""
        raise NotImplementedError

    def _step_dict(self, kind, l2, l1, l2_batch, **hyper):
        return dict(kind=kind, l2=l2, l1=l1, l2_batch=l2_batch, t0=self.t, **hyper)

    # -- state -------------------------------------------------------------------

    def bind(self, params):
        """The state arrays for a network's parameter store (allocated on first
        use), as per-layer (S1, S2, Sb1, Sb2), None where unused."""
        shape = (tuple(params.sizes), params.dtype.name)
        if self._shape is None:
            self._shape = shape
            self.state = [tuple(np.zeros_like(p) for _ in range(self.n_slots))
                          for p in (*params.Wt, *params.b)]
        elif self._shape != shape:
            sizes, dtype = self._shape
            raise ValueError(
                f"this {type(self).__name__} holds the state of a {dtype} network of sizes "
                f"{list(sizes)}; it cannot train a {params.dtype.name} network of sizes "
                f"{list(params.sizes)}. Use a new optimizer (or reset() this one)")
        n = len(params.Wt)
        out = []
        for l in range(n):
            w_state, b_state = self.state[l], self.state[n + l]
            pad = (None,) * (2 - self.n_slots)
            out.append(tuple(w_state) + pad + tuple(b_state) + pad)
        return out

    # Pickling keeps the state in W's layout (n_in, n_out) and b's (n_out,):
    # the kernels' tile order and padding depend on the build that runs them
    # (cnet/_workspace.py), and an optimizer may be unpickled under another.
    def __getstate__(self):
        d = dict(self.__dict__)
        if self.state is not None:
            n_outs = self._shape[0][1:] * 2  # W's layers, then b's
            n = len(n_outs) // 2
            d["state"] = [tuple(state_from_kernels(a, n_out) if l < n else a[:n_out].copy()
                                for a in slots)
                          for l, (slots, n_out) in enumerate(zip(self.state, n_outs))]
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        if self.state is not None:
            n = len(self.state) // 2
            state = []
            for l, slots in enumerate(self.state):
                out = []
                for a in slots:
                    S = np.zeros((*a.shape[:-1], padded(a.shape[-1])), dtype=a.dtype)
                    if l < n:
                        state_to_kernels(a, S)
                    else:
                        S[:a.shape[0]] = a
                    out.append(S)
                state.append(tuple(out))
            self.state = state

    def reset(self):
        """Forget the state and the step count (to train another network)."""
        self.t, self.state, self._shape = 0, None, None

    def snapshot(self):
        """A copy of the state, to roll an epoch back."""
        return self.t, None if self.state is None else [tuple(a.copy() for a in s)
                                                         for s in self.state]

    def restore(self, saved):
        t, state = saved
        self.t = t
        if state is None:
            self.state, self._shape = None, None
        else:
            for mine, old in zip(self.state, state):
                for a, b in zip(mine, old):
                    a[...] = b

    def get_config(self):
        """The hyper-parameters, as the constructor takes them."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # -- the NumPy reference -----------------------------------------------------

    def reference_step(self, weights, biases, grad_w, grad_b, eta, l2=0.0, l1=0.0, state=None):
        """One step in NumPy, the oracle the compiled rule is tested against.

        ``weights`` (n_out, n_in) and ``biases`` (n_out,) are updated in
        place from the mean gradients ``grad_w``, ``grad_b`` of the cost;
        ``state`` is a dict of NumPy state this method keeps between calls
        (pass the same dict every step).  Increments ``state["t"]``.
        """
        state.setdefault("t", 0)
        state["t"] += 1
        for key, params, grads, weight in (("W", weights, grad_w, True),
                                           ("b", biases, grad_b, False)):
            for l, (p, g) in enumerate(zip(params, grads)):
                dtype = p.dtype.type
                if weight:
                    if l2:
                        g = g + dtype(l2) * p
                    if l1:
                        g = g + dtype(l1) * np.sign(p)
                slots = state.setdefault((key, l), [np.zeros_like(p) for _ in range(2)])
                p[...] = self._reference_rule(p, g.astype(p.dtype), slots, eta, weight,
                                              state["t"])

    def _reference_rule(self, w, g, slots, eta, weight, t):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum and Nesterov's as options.

    Parameters
    ----------
    momentum : float in [0, 1), default 0
        mu: each step moves along ``b = mu b + g`` (PyTorch's form).
    nesterov : bool, default False
        Step along ``g + mu b`` instead of ``b`` (needs momentum > 0).

    With neither, it is Nielsen's update, bit for bit as cnet has always
    trained (L2 as the decay factor ``1 - eta lmbda / n``).
    """

    name = "sgd"

    def __init__(self, momentum=0.0, nesterov=False):
        super().__init__()
        self.momentum = _check_fraction(momentum, "momentum")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be True or False; got {describe(nesterov)}")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0 (with none there is nothing "
                             "to look ahead along)")
        self.nesterov = bool(nesterov)
        self.n_slots = 1 if self.momentum else 0
        self.kind = MOMENTUM if self.momentum else GENERAL_SGD

    def kernel_step(self, l2, l1, l2_batch=0.0):
        if not self.momentum and not l1 and not l2_batch:
            return None  # Nielsen's decay-and-scale update: today's bits
        if not self.momentum:
            return self._step_dict(GENERAL_SGD, l2, l1, l2_batch)
        return self._step_dict(MOMENTUM, l2, l1, l2_batch, mu=self.momentum,
                               nesterov=self.nesterov)

    def get_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _reference_rule(self, w, g, slots, eta, weight, t):
        T = w.dtype.type
        if not self.momentum:
            return w - T(eta) * g
        mu = T(self.momentum)
        slots[0][...] = mu * slots[0] + g
        b = slots[0]
        return w - T(eta) * (g + mu * b if self.nesterov else b)


class Adam(Optimizer):
    """Adam (Kingma and Ba), with PyTorch's bias corrections.

    Parameters
    ----------
    beta1, beta2 : float in [0, 1), defaults 0.9 and 0.999
        Decay rates of the moving averages of g and g^2.
    eps : float > 0, default 1e-8
        Added to sqrt(v) (outside the square root, as PyTorch).
    eps_hat : bool, default False
        Add eps to sqrt(v) before v's bias correction, not after: Kingma and
        Ba's "eps-hat" form, ``w -= eta sqrt(1 - beta2^t) / (1 - beta1^t) m /
        (sqrt(v) + eps)``, scikit-learn's and Keras's Adam.  The two differ
        where gradients are as small as eps (an L2 term's on weights that
        never see input, say).
    """

    name = "adam"
    kind = ADAM
    n_slots = 2

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, eps_hat=False):
        super().__init__()
        self.beta1 = _check_fraction(beta1, "beta1")
        self.beta2 = _check_fraction(beta2, "beta2")
        self.eps = _check_positive(eps, "eps")
        if not isinstance(eps_hat, (bool, np.bool_)):
            raise TypeError(f"eps_hat must be True or False; got {describe(eps_hat)}")
        self.eps_hat = bool(eps_hat)

    def _weight_decay(self):
        return 0.0

    def kernel_step(self, l2, l1, l2_batch=0.0):
        return self._step_dict(ADAM, l2, l1, l2_batch, beta1=self.beta1, beta2=self.beta2,
                               eps=self.eps, eps_hat=self.eps if self.eps_hat else 0.0,
                               wd=self._weight_decay())

    def get_config(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "eps_hat": self.eps_hat}

    def _reference_rule(self, w, g, slots, eta, weight, t):
        T = w.dtype.type
        wd = self._weight_decay() if weight else 0.0
        if wd:
            w = w * T(1 - eta * wd)
        m, v = slots
        m[...] = m + T(1 - self.beta1) * (g - m)
        v[...] = v * T(self.beta2) + T(1 - self.beta2) * g * g
        step = T(eta / (1 - self.beta1 ** t))
        bc2_sqrt = math.sqrt(1 - self.beta2 ** t)
        eps = self.eps / bc2_sqrt if self.eps_hat else self.eps
        return w - step * (m / (np.sqrt(v) / T(bc2_sqrt) + T(eps)))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's
    form: before each step ``w *= 1 - eta weight_decay``, weights only.

    Parameters
    ----------
    beta1, beta2, eps
        As for :class:`Adam`.
    weight_decay : float >= 0, default 0.01
    """

    name = "adamw"

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, eps_hat=False):
        super().__init__(beta1, beta2, eps, eps_hat)
        self.weight_decay = _check_nonneg(weight_decay, "weight_decay")

    def _weight_decay(self):
        return self.weight_decay

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's form.

    Parameters
    ----------
    alpha : float in [0, 1), default 0.99
        Decay rate of the moving average of g^2 (Keras's rho).
    eps : float > 0, default 1e-8
        Added to sqrt(v).
    momentum : float in [0, 1), default 0
    """

    name = "rmsprop"
    kind = RMSPROP

    def __init__(self, alpha=0.99, eps=1e-8, momentum=0.0):
        super().__init__()
        self.alpha = _check_fraction(alpha, "alpha")
        self.eps = _check_positive(eps, "eps")
        self.momentum = _check_fraction(momentum, "momentum")
        self.n_slots = 2

    def kernel_step(self, l2, l1, l2_batch=0.0):
        return self._step_dict(RMSPROP, l2, l1, l2_batch, alpha=self.alpha, eps=self.eps,
                               mu=self.momentum)

    def get_config(self):
        return {"alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}

    def _reference_rule(self, w, g, slots, eta, weight, t):
        T = w.dtype.type
        b, v = slots
        v[...] = v * T(self.alpha) + T(1 - self.alpha) * g * g
        avg = np.sqrt(v) + T(self.eps)
        if self.momentum:
            b[...] = T(self.momentum) * b + g / avg
            return w - T(eta) * b
        return w - T(eta) * (g / avg)


NAMES = {
    "sgd": lambda: SGD(),
    "momentum": lambda: SGD(momentum=0.9),
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "adam": lambda: Adam(),
    "adamw": lambda: AdamW(),
    "rmsprop": lambda: RMSprop(),
}


def resolve(optimizer):
    """An Optimizer from None (plain SGD), a name or an instance."""
    if optimizer is None:
        return SGD()
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer in NAMES:
        return NAMES[optimizer]()
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an instance, e.g. {optimizer.__name__}(); got the "
                        f"class {optimizer.__name__}")
    raise ValueError(f"optimizer must be one of {', '.join(map(repr, NAMES))} or a "
                     f"cnet.optimizers instance; got {describe(optimizer)}")
