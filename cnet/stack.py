"""Many networks of the same sizes trained at once: :class:`NetworkStack`.

The sweeps of the memorization and loss-surface experiments train dozens to
hundreds of small networks on the same data: one per seed, learning rate or
label-noise level.  One network of the book's size cannot keep a core busy
(its mini-batch is a few microseconds of arithmetic between the gather of
scattered rows and the next), so a stack trains K of them in one compiled
call per epoch: every mini-batch is gathered once for all of them, each
network then takes a few gathered batches in turn while its weights stay in
cache, and the threads split the networks (never a network), so they never
wait for each other.

Each member runs exactly the arithmetic it would run alone: member k trained
with ``shuffle=False`` equals ``Network(sizes, seed=seeds[k], ...)`` trained
alone with the same arguments, bit for bit, for any thread count.  With
shuffling, every epoch's order is drawn from the first member's generator,
as that network would draw it alone (so member 0 matches its solo run then
too).
"""
import contextlib
import copy
import time
import warnings

import numpy as np

from . import optimizers, regularizers, schedules
from ._dispatch import kernels
from ._interrupts import deliver, watching
from ._threads import network_flops, resolve_n_threads, threads_for_members, threads_for_work
from ._validation import (
    check_bool,
    check_decay,
    check_eta,
    check_float,
    check_int,
    check_X,
    describe,
    labels_of,
    one_hot_classes,
)
from ._workspace import Workspace, sparse_input
from .network import Network
from .training import (
    WEIGHT_GROWTH,
    DivergenceError,
    History,
    _Start,
    divergence,
    epoch_cost,
    weight_limit,
)

__all__ = ["NetworkStack"]

# A thread gathers this many bytes of mini-batches (rows, the first layer's
# feature blocks and lists) at a time for its networks; each network then
# runs through all of them in a row, its weights and buffers staying in L2
# while the chunk streams past in order.  Measured on Zen 3 (512 KiB L2), 25
# networks 100-250-10 at m = 100: 201 ms per network-epoch with 64 KiB
# chunks (one batch: every network's working set left L2 at each batch),
# 154 with 1 MiB, 152 with 4 MiB, 167 trained one by one; the book's
# networks (100 KiB of weights) the same with all three.
SHARED_BYTES = 1024 * 1024


class NetworkStack:
    """K networks with the same layer sizes, trained together.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, as for :class:`cnet.Network`.
    seeds : iterable of int
        One seed per network: K = len(seeds).  Member k starts as
        ``Network(sizes, seed=seeds[k], **network_kwargs)``.
    **network_kwargs
        The rest of :class:`cnet.Network`'s arguments (activation,
        output_activation, cost, init, dtype), the same for every member.

    Attributes
    ----------
    networks : list of Network
        The members; train, save or use any of them on its own.
    seeds : list of int
    histories : list of History or None
        Per member, the record of the last ``fit`` (also each member's
        ``history``).
    diverged : dict
        member index -> message, for members stopped by
        ``on_divergence="stop"`` in the last ``fit``.
    optimizers : list of Optimizer or None
        The members' optimizers of the last ``fit`` (pass them to the next
        to continue with their state).
    """

    def __init__(self, sizes, seeds, **network_kwargs):
        if "seed" in network_kwargs:
            raise TypeError("NetworkStack takes one seed per network as `seeds`, not `seed`")
        if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
            raise TypeError(f"seeds must be an iterable of integer seeds, one per network; got "
                            f"{describe(seeds)}")
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds is empty: a stack needs at least one network")
        if any(s is None for s in seeds):
            raise ValueError("every network of a stack needs a seed (None in seeds): the "
                             "stack's results must be reproducible")
        self.networks = [Network(sizes, seed=s, **network_kwargs) for s in seeds]
        self.seeds = [net.seed for net in self.networks]
        self.sizes = self.networks[0].sizes
        self.dtype = self.networks[0].dtype
        self.histories = None
        self.optimizers = None
        self.diverged = {}

    def __len__(self):
        return len(self.networks)

    def __getitem__(self, k):
        return self.networks[k]

    def __iter__(self):
        return iter(self.networks)

    def __repr__(self):
        net = self.networks[0]
        return (f"NetworkStack({self.sizes}, seeds=<{len(self)} seeds>, "
                f"activation={net.activation!r}, output_activation={net.output_activation!r}, "
                f"cost={net._cost.name!r}, dtype={self.dtype.name!r})")

    # -- using the members -------------------------------------------------------

    def forward(self, X, n_threads=None):
        """Every member's outputs: an array (K, n_samples, n_out)."""
        X = check_X(X, self.sizes[0], self.dtype)
        n_threads = resolve_n_threads(n_threads)
        out = np.empty((len(self), X.shape[0], self.sizes[-1]), dtype=self.dtype)
        for k, net in enumerate(self.networks):
            out[k] = net._forward(X, n_threads)
        return out

    def predict(self, X, n_threads=None):
        """Every member's predicted classes: (K, n_samples)."""
        A = self.forward(X, n_threads)
        return np.stack([labels_of(a) for a in A])

    def score(self, X, y, n_threads=None):
        """Every member's accuracy on (X, y): an array (K,); y as for ``fit``."""
        X = check_X(X, self.sizes[0], self.dtype)
        ys = self._targets(y, X.shape[0], "y", len(self))
        P = self.predict(X, n_threads)
        return np.array([float(np.mean(P[k] == ys[k][1])) for k in range(len(self))])

    # -- training ----------------------------------------------------------------

    def _targets(self, y, n, name, K):
        """Per member (T or None, labels): y shared by all, or one per member
        (a sequence of K label vectors or target arrays, or an array (K, n)
        of labels or (K, n, n_out) of targets)."""
        net = self.networks[0]
        n_out = self.sizes[-1]
        per_member = False
        if isinstance(y, (list, tuple)):
            per_member = len(y) > 0 and np.ndim(y[0]) >= 1
        elif hasattr(y, "ndim") and hasattr(y, "shape"):
            per_member = y.ndim == 3 or (y.ndim == 2 and y.shape[1] == n
                                         and y.shape[0] != n and y.shape[1] != n_out)
        if not per_member:
            return [net._check_y(y, n, n_out, self.dtype, name)] * K
        if len(y) != K:
            raise ValueError(f"{name} has {len(y)} label vectors (or target arrays) for a stack "
                             f"of {K} networks: give one per network, or one for all")
        out = []
        for k in range(K):
            out.append(net._check_y(y[k], n, n_out, self.dtype, f"{name}[{k}]"))
        return out

    def _per_member(self, value, name, check):
        """A hyper-parameter given once or as K values: a list of K checked values."""
        K = len(self)
        if isinstance(value, (list, tuple, np.ndarray)):
            if len(value) != K:
                raise ValueError(f"{name} has {len(value)} values for a stack of {K} networks: "
                                 f"give one per network, or one for all")
            return [check(v) for v in value]
        return [check(value)] * K

    def fit(self, X, y, epochs, batch_size, eta, lmbda=0.0, validation_data=None,
            shuffle=True, n_threads=None, verbose=False, *, optimizer=None, schedule=None,
            l1=0.0, dropout=None, sample_weight=None, class_weight=None, alpha=0.0,
            max_weight_growth=WEIGHT_GROWTH, on_divergence="raise"):
        """Train every member by mini-batch SGD on the same sample order.

        The arguments are :meth:`cnet.Network.fit`'s, and mean the same for
        each member, with these differences:

        y : labels (n,) or targets (n, n_out) for all members, or one per
            member: a sequence of K of them, or an array (K, n) of labels or
            (K, n, n_out) of targets (a label-noise sweep).
        eta, lmbda : a number, or a sequence of K (one per member).
        optimizer : a name or an Optimizer instance (each member trains with
            its own copy, its own state), or a sequence of K instances (the
            ``optimizers`` of an earlier fit, to continue with their state).
        schedule : as for Network.fit; each member gets its own copy.
        shuffle : each epoch's order is drawn from the first member's
            generator and used by all.
        on_divergence : "raise" (every member is put back as it was before
            the epoch and DivergenceError raised, as Network.fit does) or
            "stop" (that member is put back to before the epoch and trains no
            more; the others go on; see ``diverged``).

        Per-epoch callbacks are not taken: train a member alone for them.

        Returns
        -------
        list of History, one per member (also ``histories``).
        """
        K = len(self)
        nets = self.networks
        X = check_X(X, self.sizes[0], self.dtype)
        n = X.shape[0]
        if n == 0:
            raise ValueError("X has no rows: nothing to train on")
        ys = self._targets(y, n, "y", K)
        epochs = check_int(epochs, "epochs", 0)
        batch_size = check_int(batch_size, "batch_size", 1)
        etas = self._per_member(eta, "eta", lambda v: check_eta(
            check_float(v, "eta", positive=True), self.dtype))
        lmbdas = self._per_member(lmbda, "lmbda", lambda v: check_float(v, "lmbda"))
        shuffle = check_bool(shuffle, "shuffle")
        verbose = check_bool(verbose, "verbose")
        l1 = check_float(l1, "l1")
        alpha = check_float(alpha, "alpha")
        if on_divergence not in ("raise", "stop"):
            raise ValueError(f"on_divergence must be 'raise' or 'stop'; got "
                             f"{describe(on_divergence)}")
        if max_weight_growth is not None and not (
                check_float(max_weight_growth, "max_weight_growth") > 1):
            raise ValueError(f"max_weight_growth must be a number > 1 or None; got "
                             f"{max_weight_growth!r}")
        if isinstance(optimizer, (list, tuple)):
            if len(optimizer) != K:
                raise ValueError(f"optimizer has {len(optimizer)} entries for a stack of {K} "
                                 f"networks")
            opts = [optimizers.resolve(o) for o in optimizer]
            if len({id(o) for o in opts}) != K:
                raise ValueError("each member needs its own optimizer instance")
        else:
            proto = optimizers.resolve(optimizer)
            opts = [copy.deepcopy(proto) for _ in range(K)]
        proto_schedule = schedules.resolve(schedule)
        scheds = [copy.deepcopy(proto_schedule) for _ in range(K)]
        dropout = regularizers.dropout_rates(dropout, self.sizes)
        weights = [regularizers.example_weights(
            sample_weight, class_weight, labels if T is None else one_hot_classes(T), n,
            self.sizes[-1]) for T, labels in ys]
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val)")
            Xv = check_X(validation_data[0], self.sizes[0], self.dtype, "validation_data[0]")
            val = (Xv, self._targets(validation_data[1], Xv.shape[0], "validation_data[1]", K))
        n_threads = resolve_n_threads(n_threads)
        keys = Network._EPOCH_KEYS + (("val_cost", "val_accuracy") if val is not None else ())
        self.histories = [History({key: [] for key in keys}) for _ in range(K)]
        for net, hist in zip(nets, self.histories):
            net.history = hist
        self.optimizers = opts
        self.diverged = {}
        run = _StackRun(self, X, ys, batch_size, etas, lmbdas, opts, scheds, l1, alpha, dropout,
                        weights, max_weight_growth, n_threads)
        with contextlib.ExitStack() as held:  # no other thread trains or assigns a member
            for net in nets:
                held.enter_context(net.parameters.in_use("training"))
            for epoch in range(epochs):
                rows = run.epoch(epoch, shuffle)
                for k, what in run.failed.items():
                    if on_divergence == "raise":
                        run.undo()
                        raise DivergenceError(
                            f"Training diverged in epoch {epoch + 1}, member {k} (seed "
                            f"{self.seeds[k]}): {what}. Every member's weights and random "
                            f"generator were restored to their state before that epoch. Try "
                            f"a smaller eta (member {k}'s is {run.rates[k]:g}), scale the "
                            f"inputs, or pass on_divergence='stop' to stop only that member.")
                    run.undo(k)
                    self.diverged[k] = f"epoch {epoch + 1}: {what}"
                    warnings.warn(f"member {k} (seed {self.seeds[k]}) diverged in epoch "
                                  f"{epoch + 1} ({what}); it is back at its state before that "
                                  f"epoch and trains no more", RuntimeWarning, stacklevel=2)
                    run.active.remove(k)
                rows = {k: row for k, row in rows.items() if k not in run.failed}
                if val is not None:
                    try:
                        for k, row in rows.items():
                            row.update(self._validation(k, val, lmbdas[k], n_threads))
                    except BaseException:  # Ctrl-C: the epoch is not in the histories
                        run.undo()
                        raise
                for k, row in rows.items():
                    self.histories[k].append(**row)
                    scheds[k].update(row)
                if verbose:
                    _print_epoch(epoch, epochs, [self.histories[k] for k in rows])
                if not run.active:
                    break
        return self.histories

    def _validation(self, k, val, lmbda, n_threads):
        net = self.networks[k]
        A = net._forward(val[0], n_threads)
        T, labels = val[1][k]
        if T is None:
            T = np.eye(self.sizes[-1], dtype=self.dtype)[labels]
        return {"val_cost": float(np.mean(net._cost.fn(A, T), dtype=np.float64))
                + net._l2_term(lmbda, val[0].shape[0]),
                "val_accuracy": float(np.mean(labels_of(A) == labels))}


def _print_epoch(epoch, epochs, histories):
    if not histories:
        return
    costs = [h["train_cost"][-1] for h in histories]
    line = (f"Epoch {epoch + 1}/{epochs}: train cost {np.mean(costs):.4f} "
            f"({min(costs):.4f}-{max(costs):.4f}) over {len(histories)} networks")
    if "val_accuracy" in histories[0]:
        acc = [h["val_accuracy"][-1] for h in histories]
        line += f", val accuracy {np.mean(acc):.4f} ({min(acc):.4f}-{max(acc):.4f})"
    print(line + f", {histories[0]['seconds'][-1]:.2f} s", flush=True)


class _StackRun:
    """The state of one ``fit`` of a stack across its epochs: the members
    still training, their workspaces and optimizers, and the snapshots to
    roll an epoch back to."""

    def __init__(self, stack, X, ys, batch_size, etas, lmbdas, opts, scheds, l1, alpha,
                 dropout, weights, weight_growth, n_threads):
        self.stack, self.nets = stack, stack.networks
        self.X, self.ys, self.etas, self.lmbdas = X, ys, etas, lmbdas
        self.opts, self.scheds, self.l1, self.alpha = opts, scheds, l1, alpha
        self.weights = weights
        n = self.n = X.shape[0]
        self.batch_size = min(batch_size, n)
        self.n_batches = -(-n // self.batch_size)
        self.n_threads = n_threads
        self.active = list(range(len(self.nets)))
        self.limits = [weight_limit(net, weight_growth) for net in self.nets]
        self.first_cost = [None] * len(self.nets)
        dropout = self.dropout = dropout if any(dropout) else None
        sparse = sparse_input(X, len(self.nets) * stack.sizes[1])
        self.states, self.ws = [], []
        for k, net in enumerate(self.nets):
            step = opts[k].kernel_step(lmbdas[k] / n, l1 / n, alpha)
            state = opts[k].bind(net.parameters) if step is not None else None
            self.states.append(state)
            self.ws.append(Workspace(net._kernel_params(), self.batch_size, state=state,
                                     dropout=dropout, sparse=sparse))
        self.losses = [np.empty(n, dtype=net.dtype) for net in self.nets]
        # The input is gathered once per thread for its networks unless each
        # draws its own dropout masks of it.
        self.share = dropout is None or dropout[0] == 0
        self.starts = None
        self.failed = {}
        self._planned_for = None

    def _plan(self):
        """Thread count, groups of members (one per thread) and the shared
        gather buffers for the members still training."""
        K = len(self.active)
        flops = network_flops(self.stack.sizes, self.batch_size)
        nt = threads_for_members(self.n_threads, K) if K > 1 else threads_for_work(
            self.n_threads, flops)
        G = min(nt, K)
        bounds = np.array([K * g // G for g in range(G + 1)], dtype=np.intp)
        shared = None
        if self.share:
            first = self.ws[self.active[0]].spec[0]
            parts = [first.Xin] + [a for a in (first.ATin, first.NZF, first.NZU)
                                   if a is not None and a.size > 1]
            per_batch = sum(a.nbytes for a in parts)
            chunk = max(1, min(self.n_batches, SHARED_BYTES // per_batch))
            has_at = first.ATin.shape[1] > 1
            shared = [(np.zeros((chunk,) + first.Xin.shape, first.Xin.dtype),
                       np.zeros((chunk,) + first.ATin.shape, first.ATin.dtype) if has_at
                       else None,
                       np.zeros((chunk,) + first.NZF.shape, np.int32)
                       if first.NZF is not None else None,
                       np.zeros((chunk,) + first.NZU.shape, np.int32)
                       if first.NZU is not None else None) for _ in range(G)]
        return nt, bounds, shared

    def epoch(self, epoch, shuffle):
        """Train the active members one epoch; returns {k: history row} and
        sets ``failed`` {k: what went wrong} for the members that diverged."""
        n, nets = self.n, self.nets
        act = self.active
        self.rates = {}
        steps, decays = [], []
        for k in act:
            rate = self.scheds[k].next_rate(self.etas[k], n)
            check_eta(rate, self.stack.dtype)
            self.rates[k] = rate
            decays.append(check_decay(rate, self.lmbdas[k], n))
            steps.append(self.opts[k].kernel_step(self.lmbdas[k] / n, self.l1 / n, self.alpha))
        if self._planned_for != act:  # once, and again when a member stops
            self._planned_for, self._planned = list(act), self._plan()
        nt, groups, shared = self._planned
        while True:
            self.starts = {k: _Start(nets[k], self.opts[k] if steps[i] is not None else None)
                           for i, k in enumerate(act)}
            if 0 not in self.starts:  # the order's generator is member 0's
                self.starts[0] = _Start(nets[0])
            order = nets[0]._draw_order(n) if shuffle else np.arange(n)
            order = order.astype(np.intp, copy=False)
            targets, labels, weights = [], [], []
            taken = {}
            for k in act:
                T, lab = self.ys[k]
                if T is not None:
                    targets.append(T)
                    labels.append(None)
                else:
                    if id(lab) not in taken:
                        taken[id(lab)] = np.take(lab, order)
                    targets.append(None)
                    labels.append(taken[id(lab)])
                w = self.weights[k]
                weights.append(None if w is None else np.take(w, order))
            keys = np.array([nets[k]._dropout_key() if self.dropout is not None else 0
                             for k in act], dtype=np.uint64)
            specs = [self.ws[k].spec for k in act]
            losses = [self.losses[k] for k in act]
            t0 = time.perf_counter()
            with watching() as flag:
                if nt > 1 and len(act) == 1:  # one network: its tiles split between threads
                    k = act[0]
                    done = kernels.sgd_epoch(self.X, targets[0], labels[0], order, specs[0],
                                             nets[k]._cost.code, self.batch_size, self.rates[k],
                                             decays[0], losses[0], nt, flag, step=steps[0],
                                             drop_key=int(keys[0]), sample_weight=weights[0])
                else:
                    done = kernels.sgd_epoch_stack(
                        self.X, targets, labels, order, specs, groups, shared,
                        nets[act[0]]._cost.code, self.batch_size,
                        np.array([self.rates[k] for k in act], dtype=np.float64),
                        np.array(decays, dtype=np.float64), losses, nt, flag, steps=steps,
                        drop_keys=keys, sample_weights=weights)
            seconds = time.perf_counter() - t0
            if done == n:
                break
            self.undo()  # Ctrl-C: roll the epoch back, then let Python's handler raise
            deliver()
        rows, self.failed = {}, {}
        for i, k in enumerate(act):
            net = nets[k]
            if steps[i] is not None:
                self.opts[k].t += self.n_batches
            cost = epoch_cost(net, losses[i], self.weights[k], weights[i], self.lmbdas[k],
                              self.l1, self.alpha, self.n_batches)
            what = divergence(net, cost, self.first_cost[k], self.limits[k])
            if what is not None:
                self.failed[k] = what
                continue
            if self.first_cost[k] is None:
                self.first_cost[k] = cost
            rows[k] = dict(epoch=len(self.stack.histories[k]["epoch"]) + 1, train_cost=cost,
                           eta=self.rates[k], seconds=seconds, threads=nt)
        return rows

    def undo(self, k=None):
        """Put member k (None: every member, and the order's generator) back
        as it was before the epoch."""
        for j, start in self.starts.items():
            if k is None or j == k:
                start.restore()
