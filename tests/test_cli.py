"""Tests for the command line (cnet/cli.py, python -m cnet).

Most run main([...]) in-process on the shipped sample with small networks and
one thread; one starts a real `python -m cnet` subprocess.  The full-MNIST
test reads CNET_DATA_DIR through conftest's mnist_dir fixture.
"""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnet
from cnet import cli

SMALL = ["train", "--sizes", "784,10,10", "--threads", "1"]
ROW = re.compile(r"^\s*(\d+)\s+(\d+\.\d{4})\s+(\d+\.\d{4})\s+(\d+\.\d\d)%\s+(\d+\.\d\d)$")
SUMMARY = re.compile(r"^best test accuracy (\d+\.\d\d)% \((\d+) / (\d+)\) at epoch (\d+) "
                     r"of (\d+); total \d+\.\d\d s$")


def rows(out):
    return [m.groups() for m in map(ROW.match, out.splitlines()) if m]


def summary(out):
    matches = [m.groups() for m in map(SUMMARY.match, out.splitlines()) if m]
    assert len(matches) == 1, out
    return matches[0]


def one_error_line(err):
    """stderr holds exactly one line, 'cnet: error: ...'; return the message."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnet: error: "), err
    return lines[0][len("cnet: error: "):]


# -- train ---------------------------------------------------------------------

def test_train_prints_one_row_per_epoch_and_a_summary(capsys):
    assert cli.main(SMALL + ["--epochs", "2"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "784-10-10 network" in out and "train on 10,000, test on 2,000" in out
    assert re.search(r"^epoch\s+train cost\s+test cost\s+accuracy\s+seconds$", out, re.M)
    table = rows(out)
    assert [r[0] for r in table] == ["1", "2"]
    acc, correct, n_test, best_epoch, epochs = summary(out)
    assert (n_test, epochs) == ("2000", "2")
    best = max(table, key=lambda r: float(r[3]))
    assert (acc, best_epoch) == (best[3], best[0])
    assert int(correct) == round(float(acc) / 100 * 2000)
    # The columns line up: every row as wide as the header.
    header = next(line for line in out.splitlines() if line.startswith("epoch"))
    assert all(len(line) == len(header) for line in out.splitlines() if ROW.match(line))


def test_train_rows_match_network_fit(capsys):
    # The CLI trains one epoch per fit() call so rows print as they finish; this
    # must train exactly as one fit(epochs=2) call with the CLI's defaults.
    assert cli.main(SMALL + ["--epochs", "2"]) == 0
    table = rows(capsys.readouterr().out)
    (X, y), test = cnet.datasets.load_sample(dtype="float32")
    net = cnet.Network([784, 10, 10], seed=0, dtype="float32")
    h = net.fit(X, y, epochs=2, batch_size=10, eta=3.0, validation_data=test, n_threads=1)
    assert [r[3] for r in table] == [f"{a * 100:.2f}" for a in h.val_accuracy]
    assert [r[1] for r in table] == [f"{c:.4f}" for c in h.train_cost]
    assert [r[2] for r in table] == [f"{c:.4f}" for c in h.val_cost]


def test_default_network_learns_and_quiet_prints_only_the_summary(capsys):
    # 784-30-10, quadratic cost, eta 3.0 on the 10,000-example sample: seed 0
    # reaches 61% / 75% / 83% after epochs 1 / 2 / 3 (chance is 10%).
    assert cli.main(["train", "--epochs", "3", "--threads", "1", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 1
    acc, _, _, _, epochs = summary(out)
    assert epochs == "3" and float(acc) > 80


def test_zero_epochs_reports_the_initial_network(capsys):
    assert cli.main(SMALL + ["--epochs", "0"]) == 0
    out = capsys.readouterr().out
    assert rows(out) == [] and "no epochs trained" in out


@pytest.mark.parametrize("argv", [
    [],                                              # no command
    ["frobnicate"],
    ["train", "--bogus"],
    ["train", "--sizes", "784,x,10"],
    ["train", "--sizes", "100,30,10"],               # input must be 784
    ["train", "--sizes", "784,30"],                  # output must be 10
    ["train", "--sizes", "784"],
    ["train", "--sizes", "784,0,10"],
    ["train", "--epochs", "2.5"],
    ["train", "--eta", "fast"],
    ["train", "--threads", "0"],
    ["train", "--activation", "swish"],
    ["train", "--cost", "hinge"],
    ["train", "--dtype", "float16"],
])
def test_usage_errors_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: cnet") and "error:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("flags, expected", [
    (["--eta", "-1"], "argument --eta: eta must be a finite number > 0; got -1.0"),
    (["--eta", "nan"], "argument --eta: eta must be a finite number > 0"),
    (["--epochs", "-1"], "argument --epochs: epochs must be an integer >= 0"),
    (["--batch-size", "0"], "argument --batch-size: batch_size must be an integer >= 1"),
    (["--lmbda", "-0.5"], "argument --lmbda: lmbda must be a finite number >= 0"),
    (["--output-activation", "softmax"], "cost='quadratic' does not fit"),
    (["--lmbda", "1e6"], "eta * lmbda / n_samples must be < 1"),
])
def test_values_cnet_rejects_exit_2_with_one_line(flags, expected, capsys):
    assert cli.main(SMALL + ["--epochs", "1", "--quiet"] + flags) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert one_error_line(err).startswith(expected)


def test_missing_data_dir_exits_1_and_says_how_to_get_the_data(tmp_path, capsys):
    assert cli.main(SMALL + ["--data-dir", str(tmp_path / "nowhere")]) == 1
    out, err = capsys.readouterr()
    message = one_error_line(err)
    assert out == ""
    assert "nowhere" in message and "does not exist" in message
    for hint in ("CNET_DATA_DIR", "--data-dir", "train-images-idx3-ubyte", "without --data-dir"):
        assert hint in message


def test_data_dir_without_the_files_exits_1(tmp_path, capsys):
    assert cli.main(SMALL + ["--data-dir", str(tmp_path)]) == 1
    message = one_error_line(capsys.readouterr().err)
    assert "train-images-idx3-ubyte" in message and "without --data-dir" in message


def test_corrupt_data_exits_1(tmp_path, capsys):
    for name in cli.MNIST_FILES:
        (tmp_path / name).write_bytes(b"not an IDX file")
    assert cli.main(SMALL + ["--data-dir", str(tmp_path)]) == 1
    message = one_error_line(capsys.readouterr().err)
    assert message.startswith(f"could not read MNIST from {tmp_path}")


def test_divergence_exits_1_with_the_message(capsys):
    argv = SMALL + ["--activation", "identity", "--eta", "1000", "--epochs", "3"]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert "diverged" in one_error_line(err) and "smaller eta" in err


def test_interrupt_prints_the_summary_so_far_and_exits_130(monkeypatch, capsys):
    """Ctrl-C during the second epoch (here: its evaluation on the test set,
    the second forward pass of the run): the epoch is rolled back, the
    first is reported."""
    forward, calls = cnet.Network._forward, []

    def interrupted_forward(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(cnet.Network, "_forward", interrupted_forward)
    assert cli.main(SMALL + ["--epochs", "5"]) == 130
    out, err = capsys.readouterr()
    assert [r[0] for r in rows(out)] == ["1"]
    assert "at epoch 1 of 1 done" in out and "interrupted" in err


def test_train_on_full_mnist_from_data_dir(mnist_dir, capsys):
    # mnist_dir (conftest.py): CNET_DATA_DIR, or skip (a failure under CNET_REQUIRE_DATA=1).
    argv = SMALL + ["--epochs", "1", "--data-dir", str(mnist_dir)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "train on 50,000, test on 10,000" in out
    acc, _, n_test, _, _ = summary(out)
    assert n_test == "10000" and float(acc) > 50


# -- info, --version, python -m cnet ---------------------------------------------

def test_info_shows_the_build(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"cnet {cnet.__version__}" in out and "OpenMP" in out and "threads" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"cnet {cnet.__version__}"


def test_python_dash_m_cnet_train(tmp_path):
    repo = str(Path(cnet.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "cnet", "train", "--epochs", "1", "--sizes", "784,10,10"],
        capture_output=True, text=True, env=env, timeout=120,
        cwd=tmp_path)  # not the repo root: -m would import the unbuilt source tree
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert [r[0] for r in rows(proc.stdout)] == ["1"]
    summary(proc.stdout)


# -- train --save / --plot, evaluate ---------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVAL = re.compile(r"^test accuracy (\d+\.\d\d)% \((\d+) / (\d+)\), test cost (\d+\.\d{4})")


def evaluation(out):
    matches = [m.groups() for m in map(EVAL.match, out.splitlines()) if m]
    assert len(matches) == 1, out
    return matches[0]


@pytest.mark.parametrize("extra", [[], ["--dtype", "float64", "--lmbda", "2",
                                        "--activation", "relu", "--output-activation", "softmax",
                                        "--cost", "log_likelihood", "--eta", "0.1"]])
def test_train_save_then_evaluate_scores_identically(tmp_path, capsys, extra):
    model = tmp_path / "model.npz"
    assert cli.main(SMALL + ["--epochs", "2", "--save", str(model)] + extra) == 0
    out = capsys.readouterr().out
    last = rows(out)[-1]
    assert f"saved the model to {model}" in out and model.is_file()
    assert cli.main(["evaluate", str(model), "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    accuracy, correct, n_test, cost = evaluation(out)
    assert (accuracy, cost) == (last[3], last[2])      # the final epoch's row
    assert n_test == "2000" and int(correct) == round(float(accuracy) / 100 * 2000)
    # The file is the trained network: the same as training it through the API.
    (X, y), test = cnet.datasets.load_sample(dtype="float64" if extra else "float32")
    loaded = cnet.load(model)
    assert loaded.dtype == np.dtype("float64" if extra else "float32")
    assert f"{loaded.score(*test):.2%}" == last[3] + "%"


def test_train_plot_writes_pngs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    curves, weights = tmp_path / "curves.png", tmp_path / "weights.png"
    argv = SMALL + ["--epochs", "2", "--plot", str(curves), "--plot-weights", str(weights)]
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    for path in (curves, weights):
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
        assert f"saved a picture to {path}" in out
    assert err == ""


def test_plot_without_matplotlib_fails_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(SMALL + ["--epochs", "1", "--plot", str(tmp_path / "c.png")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "pip install cnet-nn[plot]" in one_error_line(err)


@pytest.mark.parametrize("flag", ["--save", "--plot", "--plot-weights"])
def test_output_into_a_missing_directory_fails_before_training(tmp_path, capsys, flag):
    assert cli.main(SMALL + ["--epochs", "1", flag, str(tmp_path / "no" / "f.png")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "does not exist" in one_error_line(err)


def test_evaluate_missing_model_exits_1(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "absent.npz")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "absent.npz does not exist" in one_error_line(err)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "future", "encrypted", "method",
                                    "nested-json"])
def test_evaluate_corrupt_model_exits_1(tmp_path, capsys, damage):
    model = tmp_path / "m.npz"
    cnet.Network([784, 5, 10], seed=0).save(model)
    data = model.read_bytes()
    if damage == "truncate":
        model.write_bytes(data[:len(data) // 2])
    elif damage == "garbage":
        model.write_bytes(b"hello, world")
    elif damage in ("encrypted", "method"):  # RuntimeError / NotImplementedError in zipfile
        at = data.find(b"PK\x01\x02") + 8
        data = bytearray(data)
        if damage == "encrypted":
            data[at] |= 1
        else:
            data[at + 2] = 99
        model.write_bytes(bytes(data))
    elif damage == "nested-json":  # RecursionError in json
        model.write_text('{"sizes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    else:
        with np.load(model) as f:
            arrays = {k: f[k] for k in f.files}
        version = cnet.saving.FORMAT_VERSION
        arrays["metadata"] = np.array(str(arrays["metadata"][()]).replace(
            f'"format_version": {version}', '"format_version": 99'))
        with open(model, "wb") as f:
            np.savez(f, **arrays)
    assert cli.main(["evaluate", str(model)]) == 1
    out, err = capsys.readouterr()
    message = one_error_line(err)
    assert out == "" and message.startswith("could not load the model: ") and str(model) in message
    if damage == "future":
        assert "upgrade" in message.lower()


def test_evaluate_model_for_other_inputs_exits_1(tmp_path, capsys):
    model = tmp_path / "m.npz"
    cnet.Network([3072, 5, 10], seed=0).save(model)
    assert cli.main(["evaluate", str(model)]) == 1
    assert "takes 3072 inputs" in one_error_line(capsys.readouterr().err)


def test_evaluate_a_network2_json_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((5, 784)) / 28, rng.standard_normal((10, 5))]
    b = [rng.standard_normal((5, 1)), rng.standard_normal((10, 1))]
    model = tmp_path / "net2.json"
    model.write_text(json.dumps({"sizes": [784, 5, 10], "weights": [w.tolist() for w in W],
                                 "biases": [x.tolist() for x in b], "cost": "CrossEntropyCost"}))
    assert cli.main(["evaluate", str(model)]) == 0
    accuracy, _, _, _ = evaluation(capsys.readouterr().out)
    _, (Xt, yt) = cnet.datasets.load_sample(dtype="float64")
    A = Xt
    for w, bias in zip(W, b):  # network2.py's feedforward
        A = 1 / (1 + np.exp(-(A @ w.T + bias.ravel())))
    assert accuracy == f"{np.mean(A.argmax(1) == yt) * 100:.2f}"


# -- --data FILE.npz, --dataset ------------------------------------------------------

def blobs(path, n_in=12, n_classes=3, **overrides):
    """A small learnable data set: class k has its mean at a different spot."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 300), ("test", 90)):
        y = rng.integers(0, n_classes, n)
        X = rng.normal(0, 0.3, (n, n_in)) + np.eye(n_classes, n_in)[y] * 2
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X.astype(np.float32), y
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return arrays


def test_train_and_evaluate_on_an_npz_file(tmp_path, capsys):
    data = tmp_path / "blobs.npz"
    arrays = blobs(data)
    model = tmp_path / "m.npz"
    argv = ["train", "--data", str(data), "--epochs", "3", "--eta", "1", "--threads", "1",
            "--save", str(model)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "12-30-3 network" in out and "train on 300, test on 90" in out
    last = rows(out)[-1]
    assert float(last[3]) > 80  # learnable: far above chance (33%)
    assert cli.main(["evaluate", str(model), "--data", str(data)]) == 0
    accuracy, correct, n_test, cost = evaluation(capsys.readouterr().out)
    assert (accuracy, cost, n_test) == (last[3], last[2], "90")
    assert int(correct) == int(np.sum(cnet.load(model).predict(arrays["X_test"]) ==
                                      arrays["y_test"]))


@pytest.mark.parametrize("overrides, message", [
    (dict(y_test=None), "lacks the arrays y_test"),
    (dict(y_train=np.zeros(300)), "y_train must hold one integer label per row"),
    (dict(X_test=np.zeros((90, 5), np.float32)), "X_train has 12 values per example but X_test 5"),
    (dict(X_train=np.full((300, 12), np.nan, np.float32)), "X_train contains NaN"),
])
def test_bad_npz_data_exits_1(tmp_path, capsys, overrides, message):
    data = tmp_path / "d.npz"
    blobs(data, **overrides)
    assert cli.main(["train", "--data", str(data), "--epochs", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and message in one_error_line(err)


def test_npz_data_missing_or_not_npz_exits_1(tmp_path, capsys):
    assert cli.main(["train", "--data", str(tmp_path / "none.npz")]) == 1
    assert "does not exist" in one_error_line(capsys.readouterr().err)
    (tmp_path / "text.npz").write_text("not a zip")
    assert cli.main(["train", "--data", str(tmp_path / "text.npz")]) == 1
    assert "could not read" in one_error_line(capsys.readouterr().err)


def test_npz_sizes_must_fit_the_data(tmp_path, capsys):
    data = tmp_path / "blobs.npz"
    blobs(data)
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--data", str(data), "--sizes", "784,30,10"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: cnet train") and "input layer must have 12 neurons" in err


@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "imagenet"],
    ["train", "--dataset", "sample", "--data-dir", "x"],
    ["train", "--data", "x.npz", "--dataset", "mnist"],
    ["train", "--data", "x.npz", "--data-dir", "x"],
    ["train", "--dataset", "cifar10", "--sizes", "784,30,10"],   # CIFAR-10 has 3072 inputs
    ["evaluate"],                                                # MODEL missing
    ["predict", "model.npz"],                                    # INPUT missing
    ["evaluate", "m.npz", "--bogus"],
])
def test_more_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("usage: cnet") and "Traceback" not in err


@pytest.mark.parametrize("name, loader", [("fashion-mnist", "load_fashion_mnist"),
                                          ("cifar10", "load_cifar10")])
def test_dataset_without_its_loader_exits_1(monkeypatch, capsys, name, loader):
    monkeypatch.delattr(cnet.datasets, loader, raising=False)
    assert cli.main(["train", "--dataset", name, "--epochs", "1"]) == 1
    assert f"cnet.datasets.{loader}" in one_error_line(capsys.readouterr().err)


def test_dataset_loader_is_called_with_the_data_dir_and_dtype(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_loader(path=None, *, dtype="float32", split="standard", **kwargs):
        calls.append((path, dtype, split))
        (X, y), (Xt, yt) = cnet.datasets.load_sample(dtype=dtype)
        train, test = (X[:200], y[:200]), (Xt[:50], yt[:50])
        return (train, (X[200:300], y[200:300]), test) if split == "book" else (train, test)

    monkeypatch.setattr(cnet.datasets, "load_fashion_mnist", fake_loader, raising=False)
    argv = SMALL + ["--dataset", "fashion-mnist", "--data-dir", str(tmp_path), "--epochs", "1",
                    "--dtype", "float64"]
    assert cli.main(argv) == 0
    assert calls == [(tmp_path, "float64", "book")]  # the book's split, as for MNIST
    assert f"Fashion-MNIST from {tmp_path}: train on 200, test on 50" in capsys.readouterr().out


# -- predict ------------------------------------------------------------------------

@pytest.fixture
def small_model(tmp_path):
    (X, y), _ = cnet.datasets.load_sample(dtype="float32")
    net = cnet.Network([784, 10, 10], seed=0, dtype="float32")
    net.fit(X[:2000], y[:2000], 2, 10, 3.0, n_threads=1)
    path = tmp_path / "m.npz"
    net.save(path)
    return net, path


def test_predict_prints_one_label_per_line(small_model, tmp_path, capsys):
    net, model = small_model
    _, (Xt, _) = cnet.datasets.load_sample(dtype="float32")
    np.save(tmp_path / "x.npy", Xt[:40])
    assert cli.main(["predict", str(model), str(tmp_path / "x.npy")]) == 0
    out = capsys.readouterr().out
    assert [int(v) for v in out.split()] == net.predict(Xt[:40]).tolist()


def test_predict_output_file_and_npz_and_uint8(small_model, tmp_path, capsys):
    net, model = small_model
    _, (Xt, _) = cnet.datasets.load_sample(dtype="float32")
    pixels = np.round(Xt[:30] * 255).astype(np.uint8).reshape(30, 28, 28)  # raw images
    np.savez(tmp_path / "x.npz", X=pixels)
    out_file = tmp_path / "labels.npy"
    assert cli.main(["predict", str(model), str(tmp_path / "x.npz"), "-o", str(out_file)]) == 0
    assert "wrote 30 labels" in capsys.readouterr().out
    labels = np.load(out_file)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, net.predict(pixels.reshape(30, 784) / 255.0))


def test_predict_a_single_example(small_model, tmp_path, capsys):
    net, model = small_model
    _, (Xt, _) = cnet.datasets.load_sample(dtype="float32")
    np.save(tmp_path / "one.npy", Xt[7])
    assert cli.main(["predict", str(model), str(tmp_path / "one.npy")]) == 0
    assert capsys.readouterr().out == f"{net.predict(Xt[7:8])[0]}\n"


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (np.zeros((3, 5)), "shape (3, 5)"),
    (b"not numpy", "could not read"),
    (np.array([{"a": 1}], dtype=object), "could not read"),     # pickles are refused
    (np.full((2, 784), np.nan), "NaN"),
])
def test_predict_bad_input_exits_1(small_model, tmp_path, capsys, content, message):
    _, model = small_model
    path = tmp_path / "x.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.save(path, content, allow_pickle=True)
    assert cli.main(["predict", str(model), str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and message in one_error_line(err)


# -- progress bar, bench, info -------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_train_on_a_terminal_shows_a_progress_bar_and_keeps_the_table(monkeypatch, capsys):
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert cli.main(SMALL + ["--epochs", "2"]) == 0
    bar = term.getvalue()
    assert "ETA" in bar and "2/2" in bar
    out = capsys.readouterr().out
    assert [r[0] for r in rows(out)] == ["1", "2"] and "ETA" not in out


def test_bench_runs_the_suite_with_its_arguments(monkeypatch, capsys):
    from cnet import benchmark

    def fake_main(argv=None):
        print("suite", argv, sys.argv[0])
        return 3
    monkeypatch.setattr(benchmark, "main", fake_main)
    assert cli.main(["bench", "--quick", "--epochs", "2"]) == 3
    assert capsys.readouterr().out == "suite ['--quick', '--epochs', '2'] cnet bench\n"


def test_bench_runs_from_the_installed_package(tmp_path):
    """The suite is part of the package (cnet.benchmark): `cnet bench` works
    after a normal install, from any directory.  One quick job, no peers."""
    env = dict(os.environ, CNET_DATA_DIR="")
    out = subprocess.run([sys.executable, "-m", "cnet", "bench", "--jobs", "inference",
                          "--epochs", "1", "--no-peers"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "cnet vs NumPy, 1 thread(s)" in out.stdout and "shipped MNIST sample" in out.stdout


def test_info_lists_the_optional_extras(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for line in ("OpenMP:", "SIMD kernels:", "threads:", "extras:"):
        assert line in out
    assert "matplotlib" in out and "tqdm" in out


def test_interrupt_in_the_first_epoch_does_not_claim_a_trained_network(monkeypatch, capsys):
    def interrupted_fit(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cnet.Network, "fit", interrupted_fit)
    assert cli.main(SMALL + ["--epochs", "5"]) == 130
    out, err = capsys.readouterr()
    assert "interrupted during epoch 1 of 5 (rolled back)" in out
    assert "initial network" not in out


def test_train_with_an_optimizer_dropout_and_l1(tmp_path, capsys):
    model = tmp_path / "m.npz"
    argv = SMALL + ["--epochs", "2", "--optimizer", "adam", "--eta", "0.01", "--dropout", "0.2",
                    "--l1", "0.5", "--save", str(model)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "adam: 2 epochs, batch size 10, eta 0.01, lmbda 0, l1 0.5, dropout 0.2" in out
    info = cnet.saving.load_with_metadata(model)[1]["info"]
    assert (info["optimizer"], info["l1"], info["dropout"]) == ("adam", 0.5, 0.2)
    assert cli.main(SMALL + ["--epochs", "1", "--dropout", "1.5"]) == 2
    assert "dropout must be a rate in [0, 1)" in capsys.readouterr().err
