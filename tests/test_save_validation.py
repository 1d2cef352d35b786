"""save() writes only what load() reads back, from a consistent copy; an
interrupted save (SIGTERM) leaves no temporary file; EarlyStopping says
when it stops."""
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import cnet
from cnet.callbacks import Checkpoint, EarlyStopping


def _existing(tmp_path):
    path = tmp_path / "model.npz"
    cnet.Network([4, 3, 2], seed=1).save(path)
    return path, path.read_bytes()


@pytest.mark.parametrize("damage", ["wrong shape", "nan in place", "inf in place",
                                    "wrong shape bias"])
def test_save_refuses_what_load_would_refuse_and_keeps_the_old_file(tmp_path, damage):
    path, before = _existing(tmp_path)
    net = cnet.Network([4, 3, 2], seed=0)
    if damage == "wrong shape":
        net.weights[0] = np.zeros((7, 7))
    elif damage == "wrong shape bias":
        net.biases[1] = np.zeros((5, 1))
    else:
        net.weights[1][0, 0] = np.nan if damage == "nan in place" else np.inf
    with pytest.raises(ValueError, match="cannot save|must have shape") as exc:
        net.save(path)
    assert "model.npz" in str(exc.value) or "shape" in str(exc.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


def test_save_refuses_metadata_load_would_refuse(tmp_path, monkeypatch):
    from cnet import saving
    monkeypatch.setattr(saving, "MAX_METADATA_BYTES", 4096)
    path, before = _existing(tmp_path)
    with pytest.raises(ValueError, match="metadata"):
        saving.save(cnet.Network([4, 3, 2], seed=0), path, info={"notes": "x" * 5000})
    assert path.read_bytes() == before


def test_a_save_that_passes_always_loads(tmp_path):
    net = cnet.Network([5, 4, 3], dtype="float32", seed=0)
    net.weights[0] = np.full((4, 5), 1e30)  # finite in float32
    net.save(tmp_path / "m.npz")
    loaded = cnet.load(tmp_path / "m.npz")
    assert np.array_equal(loaded.weights[0], net.weights[0])


def test_saves_while_another_thread_assigns_are_whole_and_consistent(tmp_path):
    # Each assignment sets every layer to one value k: a consistent copy has
    # one k throughout, and every file loads.
    net = cnet.Network([30, 20, 10], seed=0)
    shapes = [w.shape for w in net.weights]
    stop, first = threading.Event(), threading.Event()
    errors = []

    def assign():
        k = 0
        try:
            while not stop.is_set():
                k += 1
                net.weights = [np.full(s, float(k)) for s in shapes]
                first.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=assign)
    thread.start()
    first.wait(30)
    try:
        for i in range(200):
            path = tmp_path / f"m{i % 3}.npz"
            net.save(path)
            values = {float(v) for w in cnet.load(path).weights for v in np.unique(w)}
            assert len(values) == 1, f"save {i} mixed assignments {sorted(values)[:4]}"
    finally:
        stop.set()
        thread.join()
    assert not errors


def test_checkpoint_while_another_thread_tries_to_assign(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 10)), rng.integers(0, 2, 200)
    net = cnet.Network([10, 8, 2], seed=0)
    refused = []
    stop = threading.Event()

    def assign():
        while not stop.is_set():
            try:
                net.weights = [np.zeros(w.shape) for w in net.weights]
            except RuntimeError as exc:
                refused.append(str(exc))

    thread = threading.Thread(target=assign)
    checkpoint = Checkpoint(tmp_path / "ck-{epoch}.npz")
    thread.start()
    try:
        net.fit(X, y, epochs=5, batch_size=10, eta=0.5, callbacks=[checkpoint], n_threads=1)
    finally:
        stop.set()
        thread.join()
    for _, path in checkpoint.saved:
        cnet.load(path)  # every checkpoint loads
    assert all("another thread" in m for m in refused)


def test_saving_from_another_thread_during_training_is_refused_clearly(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((2000, 50)), rng.integers(0, 2, 2000)
    net = cnet.Network([50, 40, 2], seed=0)
    outcome = []
    started = threading.Event()

    def callback(net_, epoch, row):
        started.set()

    def saver():
        started.wait(30)
        try:
            net.save(tmp_path / "x.npz")
            outcome.append("saved")
        except RuntimeError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=saver)
    thread.start()
    net.fit(X, y, epochs=30, batch_size=10, eta=0.1, callbacks=[callback], n_threads=1)
    thread.join()
    # Either it ran between two calls' locks (after fit), or it was refused.
    assert outcome[0] == "saved" or ("being trained by another thread" in outcome[0]
                                     and "Checkpoint" in outcome[0])
    if outcome[0] == "saved":
        cnet.load(tmp_path / "x.npz")


SLOW_SAVE = r"""
import sys, time
import numpy as np
import cnet
real = np.savez
def slow(f, **arrays):
    real(f, **arrays)
    print("writing", flush=True)
    time.sleep(60)
np.savez = slow
cnet.Network([20, 10], seed=0).save(sys.argv[1])
"""


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_during_save_removes_the_temporary_file(tmp_path):
    target = tmp_path / "model.npz"
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(cnet.__file__)))
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(target)], cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": package_root})
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == -signal.SIGTERM  # ended by the signal, as it would have
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmp_path.iterdir()) == []


# -- EarlyStopping says so --------------------------------------------------------

def _plateau():
    rng = np.random.default_rng(0)
    X, y = rng.random((100, 6)), rng.integers(0, 2, 100)
    return X, y


def test_early_stopping_announces_the_stop(capsys):
    X, y = _plateau()
    net = cnet.Network([6, 4, 2], seed=0)
    es = EarlyStopping(monitor="train_cost", patience=1, min_delta=1e9)
    net.fit(X, y, 10, 10, 0.1, callbacks=[es], n_threads=1)
    out = capsys.readouterr().out
    assert es.stopped_epoch == 2
    assert es.message in out
    assert es.message.startswith("EarlyStopping: stopped after epoch 2: train_cost has not "
                                 "improved for 1 epoch (best ")
    assert "restored the parameters of epoch 1" in es.message


def test_early_stopping_verbose_false_is_silent(capsys):
    X, y = _plateau()
    es = EarlyStopping(monitor="train_cost", patience=1, min_delta=1e9, verbose=False)
    cnet.Network([6, 4, 2], seed=0).fit(X, y, 10, 10, 0.1, callbacks=[es], n_threads=1)
    assert capsys.readouterr().out == ""
    assert es.message.startswith("EarlyStopping: stopped after epoch 2")


def test_early_stopping_that_never_fires_says_nothing(capsys):
    X, y = _plateau()
    es = EarlyStopping(monitor="train_cost", patience=100, restore_best=False)
    cnet.Network([6, 4, 2], seed=0).fit(X, y, 3, 10, 0.1, callbacks=[es], n_threads=1)
    assert capsys.readouterr().out == "" and es.message is None


def test_early_stopping_verbose_must_be_a_bool():
    with pytest.raises(TypeError, match="verbose"):
        EarlyStopping(verbose="yes")
