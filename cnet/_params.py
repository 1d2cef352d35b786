"""A network's weights and biases, stored the way the kernels read them.

W is kept transposed and padded, Wt (n_in, ld) with ld = n_out rounded up to
the kernels' padding, and b padded to (ld,) (src/kernels_impl.pxi describes
the layout).  The public lists ``weights[l]`` (n_out, n_in) and ``biases[l]``
(n_out, 1) are views of that storage, so editing them in place takes effect;
an array put into the lists by hand (``net.weights[0] = W``) is checked and
copied in at the next use (:meth:`Parameters.sync`).

Everything else in cnet reaches the parameters through this class: the
kernels' arrays, snapshots to roll an epoch back, the largest magnitude
(divergence), the L2 norm, copies for saving.  It also owns the lock that
lets one thread at a time train, save or assign them.
"""
import threading
from contextlib import contextmanager

import numpy as np

from ._workspace import padded


class Parameters:
    """Weights and biases of a network with layer sizes ``sizes``, of ``dtype``."""

    def __init__(self, sizes, dtype):
        self.sizes, self.dtype = list(sizes), np.dtype(dtype)
        self._lock = threading.Lock()
        self._user = self._purpose = None
        self._allocate()

    def _allocate(self):
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.Wt = [np.zeros((n_in, padded(n_out)), dtype=self.dtype) for n_in, n_out in pairs]
        self.b = [np.zeros(padded(n_out), dtype=self.dtype) for _, n_out in pairs]
        self._w_views = [Wt[:, :n].T for Wt, (_, n) in zip(self.Wt, pairs)]
        self._b_views = [b[:n].reshape(n, 1) for b, (_, n) in zip(self.b, pairs)]
        self.weights = list(self._w_views)  # the public lists: users may put arrays in
        self.biases = list(self._b_views)

    # Pickling (and copy.deepcopy) would copy the views apart from the storage
    # they look into: keep the values, rebuild the storage.
    def __getstate__(self):
        weights, biases = self.copies()
        return {"sizes": self.sizes, "dtype": self.dtype.name, "weights": weights,
                "biases": biases}

    def __setstate__(self, state):
        self.__init__(state["sizes"], state["dtype"])
        self.assign(state["weights"], state["biases"])

    # -- exclusive use ---------------------------------------------------------

    _DOING = {"training": "trained", "saving": "saved", "assigning": "assigned new parameters"}

    @contextmanager
    def in_use(self, purpose):
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

    # -- values in and out -----------------------------------------------------

    def assign(self, weights=None, biases=None):
        """Copy new weights and/or biases in (the setters of net.weights and
        net.biases).  Everything is checked before anything is copied, so a
        rejected assignment changes nothing."""
        with self.in_use("assigning"):
            self._copy_in(weights, biases)

    def sync(self):
        """Copy in arrays put into the public lists by hand (checked)."""
        self._copy_in(None, None)

    def _copy_in(self, weights, biases):
        lists = (("weights", self.weights if weights is None else list(weights), self._w_views),
                 ("biases", self.biases if biases is None else list(biases), self._b_views))
        updates = []
        for name, lst, views in lists:
            if len(lst) != len(views):
                raise ValueError(f"{name} must hold {len(views)} arrays, one per layer; "
                                 f"got {len(lst)}")
            for l, (arr, view) in enumerate(zip(lst, views)):
                if arr is view:
                    continue
                arr = np.asarray(arr)
                if arr.shape != view.shape and not (name == "biases"
                                                    and arr.shape == view.shape[:1]):
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
        self.weights[:] = self._w_views
        self.biases[:] = self._b_views

    def copies(self):
        """(weights, biases): C-contiguous copies, (n_out, n_in) and (n_out,)."""
        self.sync()
        return ([np.array(W, order="C") for W in self._w_views],
                [np.array(b).reshape(-1) for b in self._b_views])

    def kernel_arrays(self):
        """[(Wt, b)] per layer, the arrays the kernels read and update."""
        self.sync()
        return list(zip(self.Wt, self.b))

    # -- for training ------------------------------------------------------------

    def snapshot(self):
        return [p.copy() for p in self.Wt + self.b]

    def restore(self, saved):
        for p, s in zip(self.Wt + self.b, saved):
            p[...] = s

    def max_abs(self):
        """max |parameter|, or None if one is NaN or infinite (two passes
        over each array, no temporary as large as it)."""
        big = 0.0
        for p in self.Wt + self.b:
            hi, lo = float(p.max()), float(p.min())
            if not (np.isfinite(hi) and np.isfinite(lo)):  # (max() would skip a NaN)
                return None
            big = max(big, hi, -lo)
        return big

    def sum_of_squares(self):
        """sum over layers of ||W||^2 (weights only), in float64."""
        return sum(float(np.sum(w.astype(np.float64) ** 2)) for w in self._w_views)

    def sum_of_abs(self):
        """sum over layers of sum |W| (weights only), in float64."""
        return sum(float(np.sum(np.abs(w), dtype=np.float64)) for w in self._w_views)
