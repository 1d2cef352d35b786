"""Training feedback: callbacks in fit and SGD (cnet/training.py), the
ready-made EarlyStopping and Checkpoint (cnet/callbacks.py), the History
object, and the progress bar of verbose training (cnet/_progress.py).

Small networks on a slice of the shipped MNIST sample, one thread.
"""
import io
import json

import numpy as np
import pytest

import cnet
from cnet import _progress, saving
from cnet.callbacks import Checkpoint, EarlyStopping

N_TRAIN, N_VAL = 1500, 400


@pytest.fixture(scope="module")
def data():
    (X, y), (Xt, yt) = cnet.datasets.load_sample(dtype="float32")
    return (X[:N_TRAIN], y[:N_TRAIN]), (Xt[:N_VAL], yt[:N_VAL])


def new_net(seed=0):
    return cnet.Network([784, 10, 10], dtype="float32", seed=seed)


def fit(net, data, epochs, **kwargs):
    (X, y), val = data
    kwargs.setdefault("eta", 3.0)
    return net.fit(X, y, epochs=epochs, batch_size=10, validation_data=val, n_threads=1,
                   **kwargs)


class Recorder:
    """Records every call and the weights after each epoch."""

    def __init__(self, stop_at=None):
        self.calls, self.weights, self.stop_at = [], [], stop_at

    def __call__(self, net, epoch, row):
        self.calls.append((epoch, row))
        self.weights.append([w.copy() for w in net.weights + net.biases])
        return epoch == self.stop_at


def params(net):
    return [w.copy() for w in net.weights + net.biases]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


# -- History -----------------------------------------------------------------------------

def test_history_is_a_documented_dict_of_per_epoch_lists(data):
    h = fit(new_net(), data, 3)
    assert isinstance(h, dict) and isinstance(h, cnet.History)
    assert set(h) == {"epoch", "train_cost", "val_cost", "val_accuracy", "eta", "seconds",
                      "threads"}
    assert all(len(v) == 3 for v in h.values()) and h["epoch"] == [1, 2, 3]
    assert h.val_accuracy is h["val_accuracy"]
    json.dumps(h)  # plain data
    for key in h:
        assert key in cnet.History.__doc__
    with pytest.raises(AttributeError):
        h.no_such_entry


# -- callbacks in fit ----------------------------------------------------------------------

def test_callback_sees_each_epoch_and_changes_nothing(data):
    plain = new_net()
    h_plain = fit(plain, data, 3)
    rec = Recorder()
    hooked = new_net()
    h = fit(hooked, data, 3, callbacks=[rec])
    assert same(params(hooked), params(plain))             # training numerics unchanged
    assert h["val_accuracy"] == h_plain["val_accuracy"]
    assert [e for e, _ in rec.calls] == [1, 2, 3]
    for i, (epoch, row) in enumerate(rec.calls):
        assert row == {k: v[i] for k, v in h.items()}       # the epoch's history row


def test_callback_returning_true_stops_after_that_epoch(data):
    rec = Recorder(stop_at=2)
    other = Recorder()
    net = new_net()
    h = fit(net, data, 5, callbacks=[rec, other])
    assert h["epoch"] == [1, 2]
    assert [e for e, _ in other.calls] == [1, 2]           # later callbacks still see epoch 2
    assert same(params(net), rec.weights[-1])
    # Equal to training 2 epochs with no callback at all.
    two = new_net()
    fit(two, data, 2)
    assert same(params(net), params(two))


def test_raising_stop_training_stops(data):
    def stop(net, epoch, row):
        if row["val_accuracy"] > 0 and epoch == 3:
            raise cnet.StopTraining
    h = fit(new_net(), data, 6, callbacks=[stop])
    assert h["epoch"] == [1, 2, 3]


def test_other_exceptions_from_callbacks_propagate(data):
    def broken(net, epoch, row):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        fit(new_net(), data, 2, callbacks=[broken])


@pytest.mark.parametrize("bad", [3, [print, "not callable"], ["x"]])
def test_callbacks_must_be_callables(data, bad):
    with pytest.raises(TypeError, match="callbacks"):
        fit(new_net(), data, 1, callbacks=bad)


def test_single_callable_is_accepted(data):
    rec = Recorder()
    fit(new_net(), data, 2, callbacks=rec)
    assert len(rec.calls) == 2


def test_sgd_callbacks_get_rows_like_fit(data):
    (X, y), (Xv, yv) = data
    train = cnet.datasets.to_tuples(X[:300], y[:300], one_hot=True)
    evald = cnet.datasets.to_tuples(Xv, yv)
    net = cnet.Network([784, 10, 10], seed=0)
    rec = Recorder(stop_at=2)
    ev_cost, ev_acc, _, _ = net.SGD(train, 4, 10, 3.0, evaluation_data=evald,
                                    monitor_evaluation_cost=True,
                                    monitor_evaluation_accuracy=True, verbose=False,
                                    callbacks=[rec], n_threads=1)
    assert [e for e, _ in rec.calls] == [1, 2] and len(ev_acc) == 2
    for (epoch, row), cost, correct in zip(rec.calls, ev_cost, ev_acc):
        assert row["val_accuracy"] == correct / len(evald)
        assert row["val_cost"] == cost
        assert np.isfinite(row["train_cost"]) and row["eta"] == 3.0


# -- EarlyStopping ---------------------------------------------------------------------------

def expected_stop(values, patience, mode):
    """Independent statement of the rule: stop once `patience` epochs in a row
    fail to beat the best so far; returns (last epoch trained, best epoch)."""
    best, best_epoch = None, None
    for epoch, v in enumerate(values, 1):
        better = best is None or (v > best if mode == "max" else v < best)
        if better:
            best, best_epoch = v, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(values), best_epoch


@pytest.mark.parametrize("patience", [1, 2])
def test_early_stopping_stops_and_restores_the_best_epoch(data, patience):
    # Room enough for the noisy accuracy to stall on every kernel variant
    # (each sums in its own order, so the trajectories differ).
    epochs = 20
    rec = Recorder()
    reference = fit(new_net(), data, epochs, eta=8.0, callbacks=[rec])  # noisy accuracy
    last, best = expected_stop(reference["val_accuracy"], patience, "max")
    assert last < epochs, "the setting must make early stopping happen"
    es = EarlyStopping(patience=patience)
    net = new_net()
    h = fit(net, data, epochs, eta=8.0, callbacks=[es])
    assert h["epoch"] == list(range(1, last + 1))
    assert es.stopped_epoch == last and es.best_epoch == best
    assert es.best == max(reference["val_accuracy"][:last])
    assert es.restored == (best != last)
    assert same(params(net), rec.weights[best - 1])       # the best epoch's weights


def test_early_stopping_without_restore_keeps_the_last_weights(data):
    rec = Recorder()
    fit(new_net(), data, 12, eta=8.0, callbacks=[rec])
    es = EarlyStopping(patience=1, restore_best=False)
    net = new_net()
    h = fit(net, data, 12, eta=8.0, callbacks=[es])
    assert same(params(net), rec.weights[len(h["epoch"]) - 1]) and not es.restored


def test_early_stopping_on_a_cost_minimises(data):
    h = fit(new_net(), data, 4, eta=8.0)
    last, best = expected_stop(h["val_cost"], 1, "min")
    es = EarlyStopping(monitor="val_cost", patience=1)
    assert es.mode == "min"
    h2 = fit(new_net(), data, 4, eta=8.0, callbacks=[es])
    assert len(h2["epoch"]) == last and es.best_epoch == best


def test_early_stopping_resets_between_fits(data):
    es = EarlyStopping(patience=100)
    net = new_net()
    fit(net, data, 2, callbacks=[es])
    fit(net, data, 1, callbacks=[es])
    assert es.best_epoch == 1  # a fresh run: epoch 1 of the second call


def test_early_stopping_unit_rule():
    es = EarlyStopping(monitor="val_accuracy", patience=2, restore_best=False)
    rows = [0.5, 0.6, 0.55, 0.6]  # equal to the best is no improvement
    stops = [es(None, i, {"val_accuracy": v}) for i, v in enumerate(rows, 1)]
    assert stops == [False, False, False, True]
    assert (es.best, es.best_epoch, es.stopped_epoch) == (0.6, 2, 4)


def test_early_stopping_names_a_missing_entry(data):
    (X, y), _ = data
    with pytest.raises(ValueError, match="val_accuracy.*validation_data"):
        new_net().fit(X, y, 1, 10, 3.0, callbacks=[EarlyStopping()], n_threads=1)


@pytest.mark.parametrize("kwargs", [dict(patience=-1), dict(mode="up"), dict(patience=1.5),
                                    dict(min_delta=-1)])
def test_early_stopping_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        EarlyStopping(**kwargs)


# -- Checkpoint ------------------------------------------------------------------------------

def test_checkpoint_every_epoch(tmp_path, data):
    rec = Recorder()
    ck = Checkpoint(tmp_path / "model-{epoch:02d}.npz")
    fit(new_net(), data, 3, callbacks=[rec, ck])
    assert [e for e, _ in ck.saved] == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-01.npz", "model-02.npz",
                                                          "model-03.npz"]
    for i, (epoch, path) in enumerate(ck.saved):
        net, meta = saving.load_with_metadata(path)
        assert same(params(net), rec.weights[i])
        assert meta["info"]["epoch"] == epoch
        assert meta["info"]["val_accuracy"] == rec.calls[i][1]["val_accuracy"]


def test_checkpoint_of_the_best_epoch_only(tmp_path, data):
    rec = Recorder()
    ck = Checkpoint(tmp_path / "best.npz", monitor="val_accuracy")
    h = fit(new_net(), data, 8, eta=8.0, callbacks=[rec, ck])
    acc = h["val_accuracy"]
    improved = [e for e in range(1, 9) if acc[e - 1] > max(acc[:e - 1], default=-1)]
    assert [e for e, _ in ck.saved] == improved
    best = int(np.argmax(acc))  # first best
    assert ck.best_epoch == best + 1
    assert same(params(cnet.load(tmp_path / "best.npz")), rec.weights[best])
    assert [p.name for p in tmp_path.iterdir()] == ["best.npz"]


# -- progress --------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_fit_prints_lines_and_no_bar_off_a_terminal(data, capsys):
    h = fit(new_net(), data, 2, verbose=True)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2: train cost ")
    assert f"val accuracy {h['val_accuracy'][1]:.2%}" in lines[1]
    assert err == ""


@pytest.mark.parametrize("use_tqdm", [False, True])
def test_verbose_fit_on_a_terminal_draws_a_bar_with_eta(data, monkeypatch, capsys, use_tqdm):
    if use_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setattr(_progress, "tqdm", None)
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    fit(new_net(), data, 3, verbose=True)
    bar = term.getvalue()
    assert "ETA" in bar and "elapsed" in bar
    assert "3/3" in bar and "\r" in bar
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3  # the per-epoch lines are kept, on stdout


def test_fallback_bar_line(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(_progress.time, "perf_counter", lambda: now[0])
    term = Terminal()
    p = _progress.EpochProgress(4, file=term, use_tqdm=False)    # started at t = 100 s
    assert term.getvalue() == "\rtraining: epoch 0/4 [00:00 elapsed, ETA --:--]"
    now[0] = 120.0
    p.update("val accuracy 91.00%")                               # 1 epoch in 20 s
    assert p.line() == "training: epoch 1/4 [00:20 elapsed, ETA 01:00] val accuracy 91.00%"
    assert term.getvalue().endswith("\r" + p.line())
    now[0] = 100.0 + 2 * 3600 + 65
    p.update()
    assert p.line() == "training: epoch 2/4 [2:01:05 elapsed, ETA 2:01:05]"
    p.close()
    assert term.getvalue().endswith("\r")  # the bar is wiped at the end


def test_progress_is_silent_when_disabled():
    term = Terminal()
    p = _progress.EpochProgress(3, file=term, enabled=False)
    p.update("x")
    p.close()
    assert term.getvalue() == ""
