"""NetworkStack: K networks trained in one compiled call per epoch, each
member bit for bit the network it would be trained alone."""
import warnings

import numpy as np
import pytest

import cnet
import cnet.stack
from cnet import DivergenceError, Network, NetworkStack, _workspace
from cnet._dispatch import kernels

SEEDS = [3, 1, 4, 1 + 2 ** 40, 5]


@pytest.fixture(autouse=True)
def lists_for_any_width(monkeypatch):
    """The first layer's lists of nonzero inputs for sparse data whatever
    this CPU's setting (cnet/_tuning.py): the stack shares them."""
    monkeypatch.setattr(_workspace, "SPARSE_MIN_OUTPUTS", 1)


def _data(n=300, n_in=40, n_out=4, sparse=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in))
    if sparse:  # mostly zeros, like MNIST: the first layer's lists are used
        X[X < 0.7] = 0
    return X, rng.integers(0, n_out, n)


def _same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a.weights + a.biases, b.weights + b.biases))


def _solo(sizes, seed, net_kw, X, y, epochs, fit_kw, k=0):
    net = Network(sizes, seed=seed, **net_kw)
    kw = {key: (v[k] if key in ("eta", "lmbda") and isinstance(v, list) else v)
          for key, v in fit_kw.items()}
    net.fit(X, y if np.ndim(y) == 1 or np.shape(y)[0] == len(X) else y[k], epochs,
            n_threads=1, **kw)
    return net


CASES = {
    # the book's job: sigmoid, quadratic, a small batch read in place
    "book": ([40, 12, 4], dict(dtype="float32"), dict(batch_size=10, eta=3.0), True),
    # a batch large enough for the first layer's feature blocks and packed W
    "relu-adam": ([40, 20, 16, 4], dict(dtype="float64", activation="relu",
                                        output_activation="softmax", cost="log_likelihood",
                                        init="he"),
                  dict(batch_size=40, eta=0.01, optimizer="adam", lmbda=0.5), True),
    "momentum-dense": ([40, 130, 4], dict(dtype="float32", activation="tanh"),
                       dict(batch_size=7, eta=[0.1, 0.2, 0.05, 0.1, 0.3],
                            lmbda=[0.0, 1.0, 2.0, 0.0, 0.1], optimizer="nesterov"), False),
    # dropout of the input: each member gathers for itself (its own masks)
    "dropout": ([40, 12, 4], dict(dtype="float64"),
                dict(batch_size=10, eta=1.0, dropout=[0.2, 0.3]), True),
    "hidden-dropout": ([40, 12, 4], dict(dtype="float32"),
                       dict(batch_size=10, eta=1.0, dropout=0.3), True),
    "weights": ([40, 12, 4], dict(dtype="float64", output_activation="softmax",
                                  cost="log_likelihood"),
                dict(batch_size=16, eta=0.5, class_weight="balanced", alpha=1e-3, l1=0.1),
                True),
}


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_member_is_its_solo_run_bit_for_bit(case, n_threads):
    _members_are_solo_runs(case, n_threads)


@pytest.mark.parametrize("case", ["book", "relu-adam"])
def test_without_the_lists_too(monkeypatch, case):
    monkeypatch.setattr(_workspace, "SPARSE_MIN_OUTPUTS", 10 ** 6)
    _members_are_solo_runs(case, 2)


def _members_are_solo_runs(case, n_threads):
    sizes, net_kw, fit_kw, sparse = CASES[case]
    X, y = _data(n_out=sizes[-1], sparse=sparse)
    stack = NetworkStack(sizes, SEEDS, **net_kw)
    histories = stack.fit(X, y, 3, shuffle=False, n_threads=n_threads, **fit_kw)
    assert len(histories) == len(SEEDS)
    for k, seed in enumerate(SEEDS):
        solo = _solo(sizes, seed, net_kw, X, y, 3, dict(fit_kw, shuffle=False), k)
        assert _same(solo, stack[k]), f"member {k}"
        assert histories[k]["train_cost"] == solo.history["train_cost"]


def test_members_differ_and_the_test_can_fail():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float32")
    stack.fit(X, y, 2, 10, 3.0, shuffle=False, n_threads=1)
    solo = _solo([40, 12, 4], SEEDS[0], dict(dtype="float32"), X, y, 2,
                 dict(batch_size=10, eta=3.0, shuffle=False))
    assert _same(solo, stack[0]) and not _same(solo, stack[1])
    other = _solo([40, 12, 4], SEEDS[0], dict(dtype="float32"), X, y, 2,
                  dict(batch_size=10, eta=2.9, shuffle=False))
    assert not _same(other, stack[0])


def test_shuffled_order_is_the_first_members():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS, dtype="float32")
    stack.fit(X, y, 3, 10, 3.0, n_threads=2)
    solo0 = _solo([40, 12, 4], SEEDS[0], dict(dtype="float32"), X, y, 3,
                  dict(batch_size=10, eta=3.0))
    assert _same(solo0, stack[0])
    for k in range(1, len(SEEDS)):
        net = Network([40, 12, 4], seed=SEEDS[k], dtype="float32")
        twin = Network([40, 12, 4], seed=SEEDS[0], dtype="float32")  # draws member 0's orders
        net._draw_order = twin._draw_order
        net.fit(X, y, 3, 10, 3.0, n_threads=1)
        assert _same(net, stack[k]), f"member {k}"


@pytest.mark.parametrize("shared_bytes", [1, 10 ** 9])
def test_the_chunk_of_shared_batches_changes_nothing(monkeypatch, shared_bytes):
    X, y = _data(n=203)
    ref = NetworkStack([40, 12, 4], SEEDS, dtype="float32")
    ref.fit(X, y, 2, 10, 3.0, n_threads=1)
    monkeypatch.setattr(cnet.stack, "SHARED_BYTES", shared_bytes)
    for n_threads in (1, 2):
        stack = NetworkStack([40, 12, 4], SEEDS, dtype="float32")
        stack.fit(X, y, 2, 10, 3.0, n_threads=n_threads)
        assert all(_same(a, b) for a, b in zip(ref, stack))


def test_labels_per_member():
    """A label-noise sweep: each member its own labels."""
    X, y = _data()
    rng = np.random.default_rng(1)
    ys = [y, rng.permutation(y), rng.integers(0, 4, len(y))]
    for form in (ys, np.array(ys)):
        stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float64")
        stack.fit(X, form, 2, 10, 1.0, shuffle=False, n_threads=2)
        for k in range(3):
            solo = _solo([40, 12, 4], SEEDS[k], dict(dtype="float64"), X, ys[k], 2,
                         dict(batch_size=10, eta=1.0, shuffle=False))
            assert _same(solo, stack[k])
    T = np.eye(4)[y]
    stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float64")
    stack.fit(X, np.stack([T, T, T[::-1].copy()]), 1, 10, 1.0, shuffle=False)
    solo = _solo([40, 12, 4], SEEDS[2], dict(dtype="float64"), X, T[::-1].copy(), 1,
                 dict(batch_size=10, eta=1.0, shuffle=False))
    assert _same(solo, stack[2])


def test_forward_predict_score_and_validation():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float32", output_activation="softmax",
                         cost="log_likelihood")
    hist = stack.fit(X, y, 2, 10, 0.5, validation_data=(X[:50], y[:50]), n_threads=1)
    A = stack.forward(X[:20])
    assert A.shape == (3, 20, 4) and A.dtype == np.float32
    for k in range(3):
        np.testing.assert_array_equal(A[k], stack[k].forward(X[:20]))
        assert hist[k]["val_accuracy"][-1] == stack[k].score(X[:50], y[:50])
        assert stack[k].history is hist[k]
    assert stack.predict(X).shape == (3, len(X))
    np.testing.assert_array_equal(stack.score(X, y), [net.score(X, y) for net in stack])


def test_optimizer_state_carries_over_per_member():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS[:2], dtype="float64")
    stack.fit(X, y, 1, 10, 0.01, optimizer="adam", shuffle=False)
    opts = stack.optimizers
    assert opts[0] is not opts[1] and opts[0].t == 30
    stack.fit(X, y, 1, 10, 0.01, optimizer=opts, shuffle=False)
    solo = Network([40, 12, 4], seed=SEEDS[1], dtype="float64")
    opt = cnet.optimizers.Adam()
    for _ in range(2):
        solo.fit(X, y, 1, 10, 0.01, optimizer=opt, shuffle=False)
    assert _same(solo, stack[1])
    with pytest.raises(ValueError, match="own optimizer"):
        stack.fit(X, y, 1, 10, 0.01, optimizer=[opts[0], opts[0]])


def test_divergence_raise_restores_every_member():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float64")
    stack.fit(X, y, 1, 10, 1.0)
    before = [[w.copy() for w in net.weights] for net in stack]
    with pytest.raises(DivergenceError, match="member 1"):
        stack.fit(X, y, 2, 10, [1.0, 1e7, 1.0], max_weight_growth=10)
    for net, ws in zip(stack, before):
        assert all(np.array_equal(a, b) for a, b in zip(net.weights, ws))


def test_divergence_stop_freezes_only_that_member():
    X, y = _data()
    stack = NetworkStack([40, 12, 4], SEEDS[:3], dtype="float64")
    with pytest.warns(RuntimeWarning, match="member 1"):
        hist = stack.fit(X, y, 3, 10, [1.0, 1e7, 1.0], shuffle=False, max_weight_growth=10,
                         on_divergence="stop")
    assert list(stack.diverged) == [1]
    assert len(hist[1]["epoch"]) == 0 and len(hist[0]["epoch"]) == 3
    fresh = Network([40, 12, 4], seed=SEEDS[1], dtype="float64")
    assert _same(fresh, stack[1])  # back at its state before the epoch that diverged
    solo = _solo([40, 12, 4], SEEDS[2], dict(dtype="float64"), X, y, 3,
                 dict(batch_size=10, eta=1.0, shuffle=False))
    assert _same(solo, stack[2])


@pytest.mark.parametrize("bad, match", [
    (dict(seeds=[]), "at least one"),
    (dict(seeds=[1, None]), "needs a seed"),
    (dict(seeds=5), "iterable"),
    (dict(seeds=[1, 2], seed=3), "seeds"),
    (dict(seeds=[1, 2], activation="nope"), "activation"),
])
def test_bad_construction(bad, match):
    with pytest.raises((TypeError, ValueError), match=match):
        NetworkStack([4, 3, 2], **bad)


@pytest.mark.parametrize("bad, match", [
    (dict(eta=[1.0, 2.0]), "eta has 2 values"),
    (dict(eta=[1.0, -2.0, 1.0]), "eta"),
    (dict(lmbda=[0.0] * 4), "lmbda has 4"),
    (dict(y=[np.zeros(30, int)] * 2), "2 label vectors"),
    (dict(on_divergence="ignore"), "on_divergence"),
    (dict(optimizer=["adam"]), "1 entries"),
    (dict(X=np.full((30, 40), np.nan)), "NaN"),
    (dict(X=np.zeros((0, 40))), "empty"),
])
def test_bad_fit_arguments(bad, match):
    X, y = _data(n=30)
    args = dict(X=X, y=y, epochs=1, batch_size=10, eta=1.0)
    args.update(bad)
    stack = NetworkStack([40, 5, 4], [1, 2, 3])
    with pytest.raises((TypeError, ValueError), match=match):
        stack.fit(**args)


def test_the_kernel_refuses_mismatched_buffers():
    X, y = _data(n=30)
    stack = NetworkStack([40, 5, 4], [1, 2], dtype="float64")
    stack.fit(X, y, 1, 10, 1.0, n_threads=1)
    from cnet._workspace import Workspace
    ws = [Workspace(net._kernel_params(), 10) for net in stack]
    other = Workspace(Network([40, 6, 4], seed=0)._kernel_params(), 10)
    order = np.arange(30, dtype=np.intp)
    labels = y.astype(np.intp)
    common = dict(interrupt=0)

    def call(specs, groups=(0, 2), shared=None):
        K = len(specs)
        return kernels.sgd_epoch_stack(
            X, [None] * K, [labels] * K, order, specs, np.array(groups, dtype=np.intp), shared,
            0, 10, np.ones(K), np.ones(K), [np.empty(30) for _ in range(K)], 1, **common)

    assert call([w.spec for w in ws]) == 30
    with pytest.raises(ValueError, match="not shaped like network 0"):
        call([ws[0].spec, other.spec])
    with pytest.raises(ValueError, match="groups"):
        call([w.spec for w in ws], groups=(0, 1))
    with pytest.raises(ValueError, match="Xin"):
        call([w.spec for w in ws], groups=(0, 2), shared=[(np.zeros((2, 10, 39)), None, None,
                                                            None)])


def test_many_members_warn_nothing_and_train():
    """A sweep-sized stack on data with real structure learns in every member."""
    rng = np.random.default_rng(0)
    X = rng.random((400, 10))
    y = (X[:, 0] > X[:, 1]).astype(int)
    stack = NetworkStack([10, 8, 2], range(16), dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stack.fit(X, y, 30, 10, 3.0, n_threads=2)
    assert stack.score(X, y).min() > 0.8


def test_an_interrupt_while_validating_undoes_the_epoch(monkeypatch):
    X, y = _data()
    ref = NetworkStack([40, 12, 4], SEEDS[:2], dtype="float64")
    ref.fit(X, y, 1, 10, 1.0, validation_data=(X, y))
    stack = NetworkStack([40, 12, 4], SEEDS[:2], dtype="float64")
    real, calls = NetworkStack._validation, []

    def validation(self, k, *args):
        calls.append(k)
        if len(calls) == 3:  # epoch 2, member 0
            raise KeyboardInterrupt
        return real(self, k, *args)
    monkeypatch.setattr(NetworkStack, "_validation", validation)
    with pytest.raises(KeyboardInterrupt):
        stack.fit(X, y, 3, 10, 1.0, validation_data=(X, y))
    assert all(len(h["epoch"]) == 1 for h in stack.histories)
    assert all(_same(a, b) for a, b in zip(ref, stack))
    assert stack[0]._rng.bit_generator.state == ref[0]._rng.bit_generator.state
