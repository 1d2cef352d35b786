"""Arpit et al. (ICML 2017), "A Closer Look at Memorization in Deep
Networks", for fully-connected networks:

* learning curves: training accuracy per epoch on real data, on random
  labels (randY), on random inputs (randX: Gaussian noise with the data's
  mean and variance) and with a fraction of the labels randomised;
* capacity: validation accuracy on real data and training accuracy on
  randY as the hidden layers widen (noise needs more capacity);
* regularisation: the same against the dropout rate and the L2 strength
  (dropout hinders fitting noise far more than it hurts generalisation);
* loss-sensitivity (the Gini coefficient of ||dC/dx|| over examples) and
  the critical sample ratio per epoch, real data against randY.

The networks are 2 hidden layers of ReLU units, softmax, trained by SGD
with momentum 0.9 (rate 0.01, mini-batches of 128), for a fixed number of
epochs.
"""
import time
from pathlib import Path

import numpy as np

from .. import callbacks, memorization, optimizers, randomize
from ..network import Network
from ._common import Claims, pyplot, save_figure, subset, write_csv


def settings(quick):
    if quick:
        return dict(n_train=1000, n_val=1000, epochs=30, width=256, widths=(16, 64, 256),
                    dropouts=(0.0, 0.5), l2s=(0.0, 1e-3), noise=(0.0, 0.5, 1.0),
                    probe=200, csr_iter=20, eta=0.01)
    return dict(n_train=None, n_val=None, epochs=50, width=512,
                widths=(16, 64, 256, 1024), dropouts=(0.0, 0.2, 0.4, 0.6),
                l2s=(0.0, 1e-4, 1e-3, 1e-2), noise=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                probe=1000, csr_iter=100, eta=0.01)


class _Probe:
    """After each epoch: the Gini coefficient of the loss-sensitivity and
    the critical sample ratio on a fixed set of training examples."""

    def __init__(self, X, y, csr_iter, seed):
        self.X, self.y, self.csr_iter, self.seed, self.rows = X, y, csr_iter, seed, []

    def __call__(self, net, epoch, row):
        sens = memorization.loss_sensitivity(net, self.X, self.y, n_threads=1)
        csr = memorization.critical_sample_ratio(net, self.X, max_iter=self.csr_iter,
                                                 seed=self.seed, n_threads=1)
        self.rows.append({"epoch": epoch, "gini": memorization.gini(sens), "csr": csr})


def _train(X, y, Xv, yv, hidden, s, seed, n_threads, dropout=0.0, l2=0.0, probe=None):
    net = Network([X.shape[1], *hidden, 10], activation="relu", output_activation="softmax",
                  cost="log_likelihood", init="he", seed=seed, dtype=X.dtype)
    stop = callbacks.StopAtTrainAccuracy(1.0, stop=False)  # train_accuracy per epoch
    h = net.fit(X, y, s["epochs"], 128, s["eta"], lmbda=l2 * X.shape[0],
                optimizer=optimizers.SGD(0.9), dropout=dropout or None,
                validation_data=(Xv, yv), callbacks=[stop] + ([probe] if probe else []),
                n_threads=n_threads)
    return h


def run(train, test, quick=False, seed=0, n_threads=None, out=None, log=print, **overrides):
    """Run the experiment; returns {"curves", "capacity", "regularization",
    "sensitivity": rows, "claims": Claims, "files"} (and writes arpit_*.csv
    and arpit_figures.png into ``out``)."""
    s = {**settings(quick), **overrides}
    (X, y), (Xv, yv) = subset(*train, s["n_train"], seed), subset(*test, s["n_val"], seed)
    t_all = time.perf_counter()
    hidden = (s["width"], s["width"])
    y_rand = randomize.random_labels(y, n_classes=10, seed=seed + 1)
    X_rand = randomize.gaussian_like(X, seed=seed + 2)

    curves = []
    log("learning curves")
    runs = [("real", X, y)] + [
        (f"noise {p:g}" if p < 1 else "randY", X,
         y_rand if p == 1 else randomize.corrupt_labels(y, p, n_classes=10, seed=seed + 1)[0])
        for p in s["noise"] if p > 0] + [("randX", X_rand, y)]
    for what, Xa, ya in runs:
        t = time.perf_counter()
        h = _train(Xa, ya, Xv, yv, hidden, s, seed, n_threads)
        curves += [{"data": what, "epoch": e, "train_accuracy": a, "val_accuracy": v}
                   for e, a, v in zip(h["epoch"], h["train_accuracy"], h["val_accuracy"])]
        log(f"  {what:10s} training accuracy after epoch 1: {h['train_accuracy'][0]:.3f}, "
            f"last {h['train_accuracy'][-1]:.3f} ({time.perf_counter() - t:.1f} s)")

    log("capacity")
    capacity = []
    for w in s["widths"]:
        real = _train(X, y, Xv, yv, (w, w), s, seed, n_threads)
        noise = _train(X, y_rand, Xv, yv, (w, w), s, seed, n_threads)
        capacity.append({"width": w, "real_val_accuracy": real["val_accuracy"][-1],
                         "randY_train_accuracy": noise["train_accuracy"][-1]})
        log(f"  width {w:5d}: real val {capacity[-1]['real_val_accuracy']:.3f}, randY train "
            f"{capacity[-1]['randY_train_accuracy']:.3f}")

    log("regularization")
    regular = []
    for kind, values in (("dropout", s["dropouts"]), ("l2", s["l2s"])):
        for v in values:
            kw = {"dropout": v} if kind == "dropout" else {"l2": v}
            real = _train(X, y, Xv, yv, hidden, s, seed, n_threads, **kw)
            noise = _train(X, y_rand, Xv, yv, hidden, s, seed, n_threads, **kw)
            regular.append({"regularizer": kind, "strength": v,
                            "real_val_accuracy": real["val_accuracy"][-1],
                            "real_train_accuracy": real["train_accuracy"][-1],
                            "randY_train_accuracy": noise["train_accuracy"][-1]})
            log(f"  {kind} {v:g}: real val {regular[-1]['real_val_accuracy']:.3f}, randY train "
                f"{regular[-1]['randY_train_accuracy']:.3f}")

    log("loss-sensitivity and critical samples")
    sensitivity = []
    Xp, _ = subset(X, y, s["probe"], seed + 3)
    for what, ya in (("real", y), ("randY", y_rand)):
        _, yp = subset(X, ya, s["probe"], seed + 3)
        probe = _Probe(Xp, yp, s["csr_iter"], seed)
        _train(X, ya, Xv, yv, hidden, s, seed, n_threads, probe=probe)
        sensitivity += [{"data": what, **r} for r in probe.rows]
        log(f"  {what:6s} Gini {probe.rows[-1]['gini']:.3f}, CSR {probe.rows[-1]['csr']:.3f}")

    claims = check(curves, capacity, regular, sensitivity)
    result = {"curves": curves, "capacity": capacity, "regularization": regular,
              "sensitivity": sensitivity, "claims": claims, "settings": s,
              "seconds": time.perf_counter() - t_all, "files": []}
    if out is not None:
        write(result, out)
    return result


def _at(curves, data, epoch, key="train_accuracy"):
    return next(r[key] for r in curves if r["data"] == data and r["epoch"] == epoch)


def check(curves, capacity, regular, sensitivity):
    claims = Claims()
    first = {d: np.mean([_at(curves, d, e) for e in (1, 2, 3)]) for d in ("real", "randY", "randX")}
    claims.check("real data is learned faster than noise in the first epochs",
                 first["real"] > first["randY"] + 0.1 and first["real"] > first["randX"] + 0.1,
                 "training accuracy, mean of epochs 1-3: " +
                 ", ".join(f"{d} {v:.3f}" for d, v in first.items()))
    drop = [r for r in regular if r["regularizer"] == "dropout"]
    lo, hi = drop[0], drop[-1]
    noise_loss = lo["randY_train_accuracy"] - hi["randY_train_accuracy"]
    real_loss = lo["real_val_accuracy"] - hi["real_val_accuracy"]
    claims.check("dropout hinders fitting noise more than it hurts generalisation on real data",
                 noise_loss > real_loss + 0.05,
                 f"dropout {hi['strength']:g}: randY training accuracy {-noise_loss:+.3f}, "
                 f"real validation accuracy {-real_loss:+.3f}")
    claims.check("noise needs more capacity: randY is fitted better by wider networks",
                 capacity[-1]["randY_train_accuracy"] > capacity[0]["randY_train_accuracy"] + 0.1,
                 ", ".join(f"width {r['width']}: {r['randY_train_accuracy']:.3f}"
                           for r in capacity))
    last = {d: [r for r in sensitivity if r["data"] == d][-1] for d in ("real", "randY")}
    claims.check("loss-sensitivity is more concentrated on real data (higher Gini)",
                 last["real"]["gini"] > last["randY"]["gini"],
                 f"Gini real {last['real']['gini']:.3f}, randY {last['randY']['gini']:.3f}")
    return claims


def write(result, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for key in ("curves", "capacity", "regularization", "sensitivity"):
        files.append(out / f"arpit_{key}.csv")
        write_csv(files[-1], result[key])
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
        for d in dict.fromkeys(r["data"] for r in result["curves"]):
            pts = [(r["epoch"], r["train_accuracy"]) for r in result["curves"] if r["data"] == d]
            ax[0].plot(*zip(*pts), label=d)
        ax[0].set(xlabel="epoch", ylabel="training accuracy", title="real vs noise")
        ax[0].legend(fontsize=8)
        cap = result["capacity"]
        ax[1].plot([r["width"] for r in cap], [r["real_val_accuracy"] for r in cap], "o-",
                   label="real: validation")
        ax[1].plot([r["width"] for r in cap], [r["randY_train_accuracy"] for r in cap], "s-",
                   label="randY: training")
        ax[1].set(xscale="log", xlabel="hidden units per layer", ylabel="accuracy",
                  title="capacity")
        ax[1].set_xticks([r["width"] for r in cap], [str(r["width"]) for r in cap])
        ax[1].minorticks_off()
        ax[1].legend(fontsize=8)
        drop = [r for r in result["regularization"] if r["regularizer"] == "dropout"]
        ax[2].plot([r["strength"] for r in drop], [r["real_val_accuracy"] for r in drop], "o-",
                   label="real: validation")
        ax[2].plot([r["strength"] for r in drop], [r["randY_train_accuracy"] for r in drop],
                   "s-", label="randY: training")
        ax[2].set(xlabel="dropout rate", ylabel="accuracy", title="dropout")
        ax[2].legend(fontsize=8)
        for d in ("real", "randY"):
            pts = [(r["epoch"], r["gini"]) for r in result["sensitivity"] if r["data"] == d]
            ax[3].plot(*zip(*pts), label=f"{d}: Gini")
            pts = [(r["epoch"], r["csr"]) for r in result["sensitivity"] if r["data"] == d]
            ax[3].plot(*zip(*pts), "--", label=f"{d}: CSR")
        ax[3].set(xlabel="epoch", title="loss-sensitivity Gini, critical sample ratio")
        ax[3].legend(fontsize=8)
        files.append(out / "arpit_figures.png")
        save_figure(fig, files[-1])
    result["files"] = [str(f) for f in files]
    return files
