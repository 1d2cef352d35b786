"""Back-propagation held against central differences, layer by layer.

Chapter 2 of Nielsen's book explains why back-propagation beats computing
each partial derivative numerically: one backward pass gives all of them,
where differences need two evaluations of the cost per parameter.
``cnet.gradcheck(net, X, y)`` lets a reader see both on their own network --
that they agree, and what each costs.
"""
import time

import numpy as np

from ._validation import check_float, check_int, check_seed, check_X
from .network import Network

__all__ = ["gradcheck", "GradCheck"]


class GradCheck(list):
    """The result of :func:`gradcheck`: one dict per layer and parameter.

    Each row has ``layer`` (1 for the first layer of weights), ``param``
    ("W" or "b"), ``shape``, ``checked`` (how many entries were compared),
    ``max_rel_error`` and ``max_abs_error`` (over the entries checked).
    ``str()`` gives it as a table; ``max_error`` is the largest relative
    error of all; ``backprop_seconds`` and ``numeric_seconds`` the time of
    the one back-propagation and of the differences taken.
    """

    backprop_seconds = numeric_seconds = 0.0
    n_params = n_checked = 0

    @property
    def max_error(self):
        """Largest relative error over every entry checked."""
        return max((row["max_rel_error"] for row in self), default=0.0)

    def __str__(self):
        lines = [f"{'layer':>5}  {'param':<5}  {'shape':<12}  {'checked':>7}  "
                 f"{'max rel. error':>14}  {'max abs. error':>14}"]
        for r in self:
            lines.append(f"{r['layer']:>5}  {r['param']:<5}  {str(r['shape']):<12}  "
                         f"{r['checked']:>7}  {r['max_rel_error']:>14.2e}  "
                         f"{r['max_abs_error']:>14.2e}")
        per = self.numeric_seconds / max(self.n_checked, 1)
        lines.append(
            f"back-propagation: all {self.n_params:,} partial derivatives in "
            f"{self.backprop_seconds:.2g} s; central differences: {self.n_checked:,} of them in "
            f"{self.numeric_seconds:.2g} s (all {self.n_params:,} would take about "
            f"{per * self.n_params:.2g} s)")
        return "\n".join(lines)

    def __repr__(self):
        return f"GradCheck(max_error={self.max_error:.3g}, rows={len(self)})"


# Gradients smaller than this are compared only absolutely: the differences'
# own rounding error (about 1e-11 for a cost near 1 with eps = 1e-5) would
# make any relative error of a zero gradient (an input pixel that is 0 in
# every example) look like 100%.
TINY = 1e-6


def gradcheck(net, X, y, *, n_checks=20, eps=1e-5, seed=0):
    """Compare the gradient from back-propagation with central differences.

    The cost is the network's cost averaged over ``(X, y)`` (no L2 term).
    Both are computed in float64 on a copy of the network (a float32
    network's parameters are copied exactly), so the comparison measures
    back-propagation, not float32 rounding.

    Parameters
    ----------
    net : cnet.Network
    X : array-like (n_samples, n_in)
    y : array-like, labels (n_samples,) or targets (n_samples, n_out)
    n_checks : int or None, default 20
        Entries compared per weight matrix and per bias vector, chosen at
        random (with ``seed``); None compares every one (two cost
        evaluations each: slow for large networks, which is the point).
    eps : float, default 1e-5
        The step: dC/dw ~ (C(w + eps) - C(w - eps)) / (2 eps).  Its
        truncation error falls as eps^2, its rounding error grows as 1/eps:
        1e-5 balances them for costs of order 1 in float64.
    seed : int

    Returns
    -------
    GradCheck
        A list of rows per layer and parameter, printed as a table; the
        relative error of an entry is ``|g_bp - g_num| / (|g_bp| +
        |g_num|)``, taken over entries where that sum is at least 1e-6
        (``TINY``; smaller ones count in the absolute error only).  Errors
        well below 1e-4 mean the two agree; 1e-2 or more means a bug.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a cnet.Network; got {type(net).__name__}")
    if n_checks is not None:
        n_checks = check_int(n_checks, "n_checks", 1)
    eps = check_float(eps, "eps", positive=True)
    rng = np.random.default_rng(check_seed(seed))
    ref = Network(net.sizes, activation=net.activation,
                  output_activation=net.output_activation, cost=net.cost,
                  dtype="float64")
    ref.weights = [w.astype(np.float64) for w in net.weights]
    ref.biases = [b.astype(np.float64) for b in net.biases]
    X = check_X(X, net.sizes[0], np.float64)

    t0 = time.perf_counter()
    nabla_b, nabla_w = ref.gradient(X, y, n_threads=1)
    report = GradCheck()
    report.backprop_seconds = time.perf_counter() - t0

    def cost():
        return ref.cost(X, y, 0.0, 1)

    t0 = time.perf_counter()
    for l in range(len(net.sizes) - 1):
        for name, param, grad in (("W", ref.weights[l], nabla_w[l]),
                                  ("b", ref.biases[l], nabla_b[l])):
            size = param.size
            picks = (np.arange(size) if n_checks is None or n_checks >= size
                     else np.sort(rng.choice(size, n_checks, replace=False)))
            rel = absolute = 0.0
            for k in picks:
                index = np.unravel_index(k, param.shape)
                old = param[index]
                param[index] = old + eps
                up = cost()
                param[index] = old - eps
                down = cost()
                param[index] = old
                numeric = (up - down) / (2 * eps)
                exact = float(grad[index])
                diff = abs(exact - numeric)
                scale = abs(exact) + abs(numeric)
                if scale >= TINY:
                    rel = max(rel, diff / scale)
                absolute = max(absolute, diff)
            report.append(dict(layer=l + 1, param=name, shape=tuple(param.shape),
                               checked=len(picks), max_rel_error=rel, max_abs_error=absolute))
            report.n_params += size
            report.n_checked += len(picks)
    report.numeric_seconds = time.perf_counter() - t0
    return report
