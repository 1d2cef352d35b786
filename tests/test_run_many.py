"""cnet.memorization.run_many: many seeded runs of one configuration, the
same numbers serially and on joblib's processes (Dask: tests/test_dask.py)."""
import numpy as np
import pytest

from cnet import datasets, memorization


@pytest.fixture(scope="module")
def config():
    (X, y), (Xt, yt) = datasets.load_sample()
    return dict(sizes=[784, 16, 10], X=X[:600], y=y[:600], epochs=2, batch_size=20, eta=0.1,
                validation_data=(Xt[:200], yt[:200]),
                network=dict(activation="relu", output_activation="softmax",
                             cost="log_likelihood", init="he"))


def _numbers(table):
    return {k: v for k, v in table.items() if k != "seconds"}


def test_serial_runs_are_the_seeds_runs(config):
    table = memorization.run_many([3, 1, 2], **config)
    assert table["seed"] == [3, 1, 2]
    assert set(table) == {"seed", "epochs", "train_cost", "train_accuracy", "seconds",
                          "val_cost", "val_accuracy"}
    one = memorization.train_once(1, **config)
    assert {k: v for k, v in one.items() if k != "seconds"} == \
        {k: table[k][1] for k in one if k != "seconds"}
    assert len(set(table["val_cost"])) == 3  # the seeds differ
    assert all(a > 0.5 for a in table["val_accuracy"])


def test_processes_give_the_serial_numbers(config):
    pytest.importorskip("joblib")
    serial = memorization.run_many(4, **config)
    parallel = memorization.run_many(4, n_jobs=2, **config)
    assert _numbers(parallel) == _numbers(serial)


def test_a_run_of_ones_own_and_a_frame(config):
    pd = pytest.importorskip("pandas")

    def run(seed, scale):
        return {"value": seed * scale, "rng": float(np.random.default_rng(seed).random())}
    frame = memorization.run_many(3, run=run, as_frame=True, scale=2)
    assert isinstance(frame, pd.DataFrame)
    assert frame["value"].tolist() == [0, 2, 4]


@pytest.mark.parametrize("kw, error, match", [
    (dict(seeds=0), ValueError, "positive count"),
    (dict(seeds=[]), ValueError, "at least one"),
    (dict(seeds=[1, -2]), ValueError, "ints >= 0"),
    (dict(seeds=[1.5]), ValueError, "ints >= 0"),
    (dict(seeds=None), TypeError, "iterable of ints"),
    (dict(seeds=2, run="train"), TypeError, "run must be a callable"),
    (dict(seeds=2, n_jobs=0), ValueError, "n_jobs must be"),
    (dict(seeds=2, run=lambda seed: [seed]), TypeError, "must return a dict"),
])
def test_bad_input(kw, error, match):
    with pytest.raises(error, match=match):
        memorization.run_many(**kw)


def test_stacked_runs_are_train_once_without_shuffling(config):
    """With one order for all (shuffle=False), a stack's runs are the seeds'
    own runs; in groups of 2 on 2 processes, the same numbers again."""
    cfg = dict(config, shuffle=False)
    alone = memorization.run_many([3, 1, 2], **cfg)
    stacked = memorization.run_many([3, 1, 2], stack=True, **cfg)
    assert _numbers(stacked) == _numbers(alone)
    pytest.importorskip("joblib")
    pairs = memorization.run_many([3, 1, 2], stack=2, n_jobs=2, **cfg)
    assert _numbers(pairs) == _numbers(alone)


def test_stacked_runs_share_the_first_seeds_order(config):
    stacked = memorization.run_many([5, 6, 7, 8], stack=2, **config)
    serial = memorization.run_many([5, 6, 7, 8], stack=2, n_jobs=2, **config) \
        if _has("joblib") else stacked
    assert _numbers(stacked) == _numbers(serial)
    one = memorization.train_once(5, **config)  # a group's first seed draws the order
    assert one["val_cost"] == stacked["val_cost"][0]
    assert one["val_cost"] != memorization.train_once(6, **config)["val_cost"]


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


@pytest.mark.parametrize("stack", [0.5, "yes", -1])
def test_bad_stack(config, stack):
    with pytest.raises(ValueError, match="stack"):
        memorization.run_many(2, stack=stack, **config)
    with pytest.raises(ValueError, match="own"):
        memorization.run_many(2, run=lambda seed: {}, stack=True)
