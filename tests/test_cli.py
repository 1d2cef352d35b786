"""Tests for the command line (cnet/cli.py, python -m cnet).

Most run main([...]) in-process on the shipped sample with small networks and
one thread; one starts a real `python -m cnet` subprocess.  The full-MNIST
test reads CNET_DATA_DIR through conftest's mnist_dir fixture.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

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
    fit, calls = cnet.Network.fit, []

    def interrupted_fit(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(cnet.Network, "fit", interrupted_fit)
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
