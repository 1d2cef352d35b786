"""cnet experiment zhang|arpit|choromanska: the quick versions end to end on
real MNIST (their claims checked), the data paths, and bad input."""
import csv
import os

import numpy as np
import pytest

from cnet import experiments
from cnet.cli import main
from cnet.experiments import _common, choromanska


def _mnist_or_skip():
    try:
        return experiments.load("mnist")
    except experiments.DataMissing:
        if os.environ.get("CNET_REQUIRE_DATA"):
            raise
        pytest.skip("MNIST not found: set CNET_DATA_DIR")


@pytest.mark.slow
@pytest.mark.parametrize("name, files", [
    ("zhang", ["zhang_table1.csv", "zhang_figure1a.csv", "zhang_figure1bc.csv",
               "zhang_figure1.png"]),
    ("arpit", ["arpit_curves.csv", "arpit_capacity.csv", "arpit_regularization.csv",
               "arpit_sensitivity.csv", "arpit_figures.png"]),
    ("choromanska", ["choromanska_runs.csv", "choromanska_summary.csv",
                     "choromanska_figures.png"]),
])
def test_quick_experiment_end_to_end(name, files, tmp_path, capsys):
    """The command a user types; exit status 0 only if every claim held."""
    _mnist_or_skip()
    pytest.importorskip("matplotlib")
    status = main(["experiment", name, "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAILS" not in out and "[ok]" in out
    for f in files:
        assert (tmp_path / f).stat().st_size > 0, f
    with open(tmp_path / files[0]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 2


def test_zhang_numbers_hold_together():
    """A tiny zhang run: its tables agree with each other and with its claims."""
    (X, y), (Xt, yt) = experiments.load("sample")
    r = experiments.zhang.run((X, y), (Xt, yt), quick=True, n_train=200, n_test=300,
                              max_epochs=3, log=lambda *a: None)
    table = {(row["model"], row["labels"]): row for row in r["table1"]}
    assert len(table) == 6 and all(row["epochs"] == 3 for row in table.values())
    bc = r["figure1bc"]
    assert [row["p"] for row in bc] == list(experiments.zhang.P_VALUES)
    # p = 0 and p = 1 are the table's runs (the same fits, not new ones)
    assert 1 - bc[0]["test_error"] == pytest.approx(
        table[("1x512", "true labels")]["test_accuracy"])
    assert 1 - bc[-1]["test_error"] == pytest.approx(
        table[("1x512", "random labels")]["test_accuracy"])
    # the same fits, not new ones: a refit would not take the same wall time
    assert bc[0]["seconds"] == table[("1x512", "true labels")]["seconds"]
    assert bc[-1]["seconds"] == table[("1x512", "random labels")]["seconds"]
    assert {row["inputs"] for row in r["figure1a"]} == set(experiments.zhang.INPUTS)
    assert len(r["claims"].items) == 5


def test_zhang_noise_runs_stop_at_their_own_threshold():
    """Runs on noise stop at noise_threshold, true labels at threshold; the
    time to fit is the first epoch at fit_level; weight decay has its cap."""
    (X, y), (Xt, yt) = experiments.load("sample")
    r = experiments.zhang.run((X, y), (Xt, yt), quick=True, n_train=200, n_test=300,
                              max_epochs=40, wd_max_epochs=2, threshold=1.0,
                              noise_threshold=0.3, fit_level=0.3, log=lambda *a: None)
    table = {(row["model"], row["labels"]): row for row in r["table1"]}
    steps = -(-200 // 128)
    for arch in ("1x512", "3x512"):
        rand = table[(arch, "random labels")]
        assert rand["fitted"] and 0.3 <= rand["train_accuracy"] < 1.0
        assert table[(arch, "true labels, weight decay")]["epochs"] <= 2
    bc = r["figure1bc"]
    assert bc[-1]["steps_to_fit"] == table[("1x512", "random labels")]["epochs"] * steps
    # true labels pass 0.3 long before they fit (and go on to 100%)
    assert bc[0]["steps_to_fit"] < table[("1x512", "true labels")]["epochs"] * steps


def test_zhang_in_parallel_processes_gives_the_same_numbers():
    pytest.importorskip("joblib")
    (X, y), (Xt, yt) = experiments.load("sample")
    kw = dict(quick=True, n_train=100, n_test=100, max_epochs=2, log=lambda *a: None)
    one = experiments.zhang.run((X, y), (Xt, yt), **kw)
    two = experiments.zhang.run((X, y), (Xt, yt), n_jobs=2, **kw)
    for part in ("table1", "figure1bc"):
        assert len(one[part]) == len(two[part]) == {"table1": 6, "figure1bc": 6}[part]
        for a, b in zip(one[part], two[part]):
            np.testing.assert_equal({k: v for k, v in a.items() if k != "seconds"},
                                    {k: v for k, v in b.items() if k != "seconds"})
    assert one["figure1a"] == two["figure1a"]


def test_downsample_is_an_area_average():
    rng = np.random.default_rng(0)
    X = rng.random((4, 784))
    D = choromanska.downsample(X)
    assert D.shape == (4, 100)
    np.testing.assert_allclose(D.mean(axis=1), X.mean(axis=1))  # equal areas: mean kept
    np.testing.assert_allclose(choromanska.downsample(np.full((1, 784), 0.3)), 0.3)
    # output pixel (0, 0) covers input rows/columns [0, 2.8): 1, 1 and 0.8 of them
    w = np.array([1, 1, 0.8]) / 2.8
    img = X[0].reshape(28, 28)
    assert D[0, 0] == pytest.approx(w @ img[:3, :3] @ w)
    with pytest.raises(ValueError, match="square images"):
        choromanska.downsample(np.zeros((2, 50)))


def _write_cifar(folder, n_per_batch=40, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, (n_per_batch, 3073), dtype=np.uint8)
        records[:, 0] = rng.integers(0, 10, n_per_batch)
        (folder / name).write_bytes(records.tobytes())


def test_cifar10_path_crop_and_whitening(tmp_path):
    """CIFAR-10 cannot be downloaded here: files in its real binary format."""
    _write_cifar(tmp_path / "cifar")
    (X, y), (Xt, yt) = experiments.load("cifar10", tmp_path / "cifar")
    assert X.shape == (200, 3072) and Xt.shape == (40, 3072)
    W = _common.zhang_cifar(X)
    assert W.shape == (200, 3 * 28 * 28)
    np.testing.assert_allclose(W.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(W.std(axis=1), 1, rtol=1e-4)
    # the crop is the central 28x28 of each channel
    img = X[0].reshape(3, 32, 32)[:, 2:30, 2:30].ravel()
    np.testing.assert_allclose(W[0], (img - img.mean()) / img.std(), rtol=1e-4, atol=1e-5)
    # a flat image: the std floor 1 / sqrt(n) keeps it finite
    assert np.isfinite(_common.zhang_cifar(np.full((1, 3072), 0.5, np.float32))).all()
    r = experiments.run("zhang", "cifar10", data_dir=tmp_path / "cifar", quick=True,
                        n_train=60, n_test=40, max_epochs=2, log=lambda *a: None)
    assert len(r["table1"]) == 6


def test_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "nielsen"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["experiment", "zhang", "--dataset", "imagenet"])
    assert e.value.code == 2
    assert main(["experiment", "zhang", "--runs", "5", "--out", str(tmp_path)]) == 2
    assert "choromanska" in capsys.readouterr().err
    assert main(["experiment", "arpit", "--jobs", "2", "--out", str(tmp_path)]) == 2
    assert "zhang and choromanska" in capsys.readouterr().err
    assert main(["experiment", "choromanska", "--dataset", "cifar10",
                 "--out", str(tmp_path)]) == 2
    assert "28x28" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["experiment", "zhang", "--dataset", "cifar10", "--data-dir", str(empty),
                 "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "--data-dir" in err and "CNET_DATA_DIR" in err
    (tmp_path / "file").write_text("x")
    assert main(["experiment", "zhang", "--out", str(tmp_path / "file")]) == 2
    assert main(["experiment", "choromanska", "--runs", "2", "--dataset", "sample",
                 "--out", str(tmp_path)]) == 2
    assert "at least 3" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run("nope")
    with pytest.raises(ValueError, match="unknown data set"):
        experiments.load("svhn")
