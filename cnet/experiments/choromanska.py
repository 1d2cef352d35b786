"""Choromanska, Henaff, Mathieu, Ben Arous and LeCun (AISTATS 2015), "The
Loss Surfaces of Multilayer Networks", section 6: MNIST downsampled to
10x10 pixels (area average), networks 100-n-10 for n in 25, 50, 100, 250,
500 (ReLU, softmax), plain SGD, many independently initialised runs per
width.  Larger networks' test losses concentrate in a narrow band; small
ones scatter; and the correlation between training and test loss falls as
the network grows.

The runs go through :func:`cnet.memorization.run_many`, so ``n_jobs`` (or
a Dask cluster through ``joblib.parallel_config``) spreads them out with
the same numbers.  Each run shuffles on its own seed, as in the paper;
``stack=k`` trains them as :class:`cnet.NetworkStack` s of k seeds that
share their first seed's sample order instead (measured: no faster for
these networks at mini-batch 100 -- 25 runs of 100-25-10 took 2.4-2.5 s
stacked against 2.5-2.9 s alone, 100-500-10 11.1-12.6 s against 11.0).
"""
import time
from pathlib import Path

import numpy as np

from ..memorization import run_many
from ._common import Claims, pyplot, save_figure, subset, write_csv


def settings(quick):
    if quick:
        return dict(widths=(25, 500), runs=12, n_train=6000, n_test=2000, epochs=3,
                    batch_size=100, eta=0.1, stack=False)
    return dict(widths=(25, 50, 100, 250, 500), runs=100, n_train=None, n_test=None,
                epochs=10, batch_size=100, eta=0.1, stack=False)


def _bins(n_in, n_out):
    """R (n_out, n_in): R[i, k] the fraction of output pixel i's width that
    input pixel k covers (area averaging along one axis)."""
    edges = np.linspace(0, n_in, n_out + 1)
    R = np.zeros((n_out, n_in))
    for i in range(n_out):
        for k in range(n_in):
            R[i, k] = max(0.0, min(edges[i + 1], k + 1) - max(edges[i], k))
    return R / R.sum(axis=1, keepdims=True)


def downsample(X, side=10):
    """28x28 images (rows of 784) to side x side by area averaging."""
    X = np.asarray(X)
    n_side = int(round(np.sqrt(X.shape[1])))
    if n_side * n_side != X.shape[1]:
        raise ValueError(f"downsample needs square images; got rows of {X.shape[1]} values")
    R = _bins(n_side, side).astype(X.dtype)
    imgs = X.reshape(-1, n_side, n_side)
    return np.einsum("ik,nkl,jl->nij", R, imgs, R).reshape(X.shape[0], side * side)


def run(train, test, quick=False, seed=0, n_jobs=1, out=None, log=print, **overrides):
    """Run the experiment; returns {"runs": rows (one per width and seed),
    "summary": rows (one per width), "claims", "files"} (and writes
    choromanska_*.csv and choromanska_figures.png into ``out``)."""
    s = {**settings(quick), **overrides}
    if s["runs"] < 3:
        raise ValueError(f"runs must be at least 3 per width (a spread and a correlation "
                         f"need them); got {s['runs']}")
    (X, y), (Xt, yt) = subset(*train, s["n_train"], seed), subset(*test, s["n_test"], seed)
    X, Xt = downsample(X), downsample(Xt)
    t_all = time.perf_counter()
    rows, summary = [], []
    for w in s["widths"]:
        t = time.perf_counter()
        table = run_many(range(seed, seed + s["runs"]), n_jobs=n_jobs, stack=s["stack"],
                         sizes=[100, w, 10],
                         X=X, y=y, epochs=s["epochs"], batch_size=s["batch_size"],
                         eta=s["eta"], validation_data=(Xt, yt),
                         network=dict(activation="relu", output_activation="softmax",
                                      cost="log_likelihood", init="he", dtype=X.dtype))
        train_loss, test_loss = np.array(table["train_cost"]), np.array(table["val_cost"])
        rows += [{"width": w, "seed": sd, "train_loss": a, "test_loss": b, "test_accuracy": c}
                 for sd, a, b, c in zip(table["seed"], train_loss, test_loss,
                                        table["val_accuracy"])]
        r = float(np.corrcoef(train_loss, test_loss)[0, 1]) if len(test_loss) > 2 else np.nan
        summary.append({"width": w, "runs": len(test_loss), "test_loss_mean": test_loss.mean(),
                        "test_loss_std": test_loss.std(ddof=1), "test_loss_var":
                        test_loss.var(ddof=1), "train_test_pearson_r": r})
        log(f"  100-{w}-10: {len(test_loss)} runs, test loss {test_loss.mean():.4f} +- "
            f"{test_loss.std(ddof=1):.4f}, train/test r {r:.3f} "
            f"({time.perf_counter() - t:.1f} s)")
    claims = check(summary)
    result = {"runs": rows, "summary": summary, "claims": claims, "settings": s,
              "seconds": time.perf_counter() - t_all, "files": []}
    if out is not None:
        write(result, out)
    return result


def check(summary):
    claims = Claims()
    std = [r["test_loss_std"] for r in summary]
    claims.check("the spread of the test loss falls as the network grows",
                 std[-1] < std[0] and all(b <= a * 1.25 for a, b in zip(std, std[1:])),
                 ", ".join(f"n={r['width']}: {r['test_loss_std']:.4f}" for r in summary))
    r = [row["train_test_pearson_r"] for row in summary]
    claims.check("the correlation of training and test loss falls as the network grows",
                 r[-1] < r[0] - 0.01,  # by more than a flat line's wobble
                 ", ".join(f"n={row['width']}: r={row['train_test_pearson_r']:.3f}"
                           for row in summary))
    return claims


def write(result, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "choromanska_runs.csv", out / "choromanska_summary.csv"]
    write_csv(files[0], result["runs"])
    write_csv(files[1], result["summary"])
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
        widths = [r["width"] for r in result["summary"]]
        for w in widths:
            ax[0].hist([r["test_loss"] for r in result["runs"] if r["width"] == w], bins=20,
                       alpha=0.5, label=f"n = {w}")
            ax[2].scatter([r["train_loss"] for r in result["runs"] if r["width"] == w],
                          [r["test_loss"] for r in result["runs"] if r["width"] == w], s=8,
                          label=f"n = {w}")
        ax[0].set(xlabel="test loss", ylabel="runs", title="test loss over seeds")
        ax[0].legend(fontsize=8)
        ax[1].plot(widths, [r["test_loss_var"] for r in result["summary"]], "o-")
        ax[1].set(xscale="log", yscale="log", xlabel="hidden units n",
                  ylabel="variance of the test loss", title="concentration")
        ax[1].set_xticks(widths, [str(w) for w in widths], minor=False)
        ax[1].minorticks_off()
        ax[2].set(xlabel="training loss", ylabel="test loss", title="training vs test loss")
        ax[2].legend(fontsize=8)
        files.append(out / "choromanska_figures.png")
        save_figure(fig, files[-1])
    result["files"] = [str(f) for f in files]
    return files
