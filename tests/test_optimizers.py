"""Optimizers and schedules inside the compiled epoch (cnet/optimizers.py,
cnet/schedules.py, the update epilogue in src/cnet_update.h).

Each optimizer and schedule is held to its NumPy reference step by step
(cnet/reference.py's optimizer_epoch, the same order of samples), to
PyTorch's torch.optim when torch is installed, and to itself across thread
counts, across a split of training into several fit calls, and across a
save and a load.
"""
import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import cnet
from cnet import optimizers, reference, schedules

OPTIMIZERS = {
    "sgd+l1": lambda: optimizers.SGD(),
    "momentum": lambda: optimizers.SGD(momentum=0.9),
    "nesterov": lambda: optimizers.SGD(momentum=0.8, nesterov=True),
    "adam": lambda: optimizers.Adam(),
    "adam+eps_hat": lambda: optimizers.Adam(eps=1e-4, eps_hat=True),  # eps large enough to tell
    "adamw": lambda: optimizers.AdamW(beta1=0.85, beta2=0.99, eps=1e-7, weight_decay=0.05),
    "rmsprop": lambda: optimizers.RMSprop(alpha=0.9),
    "rmsprop+momentum": lambda: optimizers.RMSprop(alpha=0.95, momentum=0.5),
}
SCHEDULES = {
    "constant": lambda: None,
    "exponential": lambda: schedules.Exponential(0.8),
    "step": lambda: schedules.Step(2, gamma=0.5),
    "cosine": lambda: schedules.Cosine(4, eta_min=0.001),
    "invscaling": lambda: schedules.InverseScaling(0.25),
    "callable": lambda: (lambda epoch: 0.05 / (1 + epoch)),
}
ETA = {"sgd+l1": 0.5, "momentum": 0.1, "nesterov": 0.1, "adam": 0.01, "adam+eps_hat": 0.01,
       "adamw": 0.01, "rmsprop": 0.005, "rmsprop+momentum": 0.005}

NETS = [
    dict(sizes=[6, 5, 4, 3], activation="sigmoid", cost="quadratic"),
    dict(sizes=[6, 9, 3], activation="relu", output_activation="softmax",
         cost="log_likelihood", init="he"),
]


def data(n=47, n_in=6, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.integers(0, n_out, n)


def recording(net):
    """Record the sample order of each epoch the network draws."""
    orders, draw = [], net._draw_order

    def draw_and_keep(n):
        order = draw(n)
        orders.append(np.array(order))
        return order
    net._draw_order = draw_and_keep
    return orders


def reference_run(net0, X, y, epochs, batch, eta, lmbda, l1, optimizer, schedule, orders, dtype):
    """The same training in NumPy: optimizer_epoch over the recorded orders."""
    kw = dict(net0)
    acts = [kw.get("activation", "sigmoid")] * (len(kw["sizes"]) - 2) + [
        kw.get("output_activation") or kw.get("activation", "sigmoid")]
    ref = cnet.Network(kw.pop("sizes"), dtype=dtype, seed=5, **kw)
    weights = [w.copy() for w in ref.weights]
    biases = [b.ravel().copy() for b in ref.biases]
    Y = np.eye(ref.sizes[-1], dtype=dtype)[y]
    Xd = X.astype(dtype)
    state, rates = {}, []
    schedule = schedules.resolve(schedule)
    for e in range(epochs):
        rate = schedule.next_rate(eta, len(X))
        rates.append(rate)
        reference.optimizer_epoch(optimizer, state, weights, biases, acts, ref.cost.name, Xd,
                                  Y, orders[e], batch, rate, lmbda, l1)
        schedule.update({"train_cost": 0.0})
    return weights, biases, rates


def close(got, want, rtol):
    scale = max(np.max(np.abs(w)) for w in want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-11), ("float32", 2e-5)])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("net_kw", NETS, ids=["sigmoid", "relu-softmax"])
def test_every_optimizer_matches_its_numpy_reference(name, net_kw, dtype, rtol):
    X, y = data()
    l1 = 0.3 if name == "sgd+l1" else 0.0
    lmbda = 0.0 if name == "adamw" else 0.5
    kw = dict(net_kw)
    net = cnet.Network(kw.pop("sizes"), dtype=dtype, seed=5, **kw)
    orders = recording(net)
    history = net.fit(X, y, 3, 10, ETA[name], lmbda=lmbda, optimizer=OPTIMIZERS[name](),
                      l1=l1, n_threads=1)
    weights, biases, rates = reference_run(net_kw, X, y, 3, 10, ETA[name], lmbda, l1,
                                           OPTIMIZERS[name](), None, orders, dtype)
    close(net.weights, weights, rtol)
    close([b.ravel() for b in net.biases], biases, rtol)
    assert history["eta"] == rates
    start = cnet.Network(net_kw["sizes"], dtype=dtype, seed=5, **kw)
    assert not np.allclose(net.weights[0], start.weights[0])  # it trained


# float32: RMSprop's g / (sqrt(v) + eps) magnifies rounding where v is small
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-11), ("float32", 2e-4)])
@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop+momentum"])
def test_the_state_in_tile_order_is_the_references_state(name, dtype, rtol):
    """The kernels keep the state of W tile by tile (cnet/_workspace.py):
    13 inputs make row blocks of 6, 6 and 1, and 40 outputs more than one
    tile column, so a slot put in the wrong place would show here."""
    from cnet._workspace import state_from_kernels
    X, y = data(n=30, n_in=13, n_out=3, seed=4)
    sizes, kw = [13, 40, 3], dict(activation="tanh", output_activation="softmax",
                                  cost="log_likelihood")
    net = cnet.Network(sizes, dtype=dtype, seed=5, **kw)
    orders = recording(net)
    opt = OPTIMIZERS[name]()
    net.fit(X, y, 2, 10, ETA[name], lmbda=0.3, optimizer=opt, n_threads=1)
    ref = cnet.Network(sizes, dtype=dtype, seed=5, **kw)
    weights = [w.copy() for w in ref.weights]
    biases = [b.ravel().copy() for b in ref.biases]
    state = {}
    for order in orders:
        reference.optimizer_epoch(OPTIMIZERS[name](), state, weights, biases,
                                  ["tanh", "softmax"], ref.cost.name, X.astype(dtype),
                                  np.eye(3, dtype=dtype)[y], order, 10, ETA[name], 0.3, 0.0)
    close(net.weights, weights, rtol)
    n = len(sizes) - 1
    for l, n_out in enumerate(sizes[1:]):
        for k in range(opt.n_slots):
            got = state_from_kernels(opt.state[l][k])
            want = state[("W", l)][k]
            close([got[:, :n_out].T], [want], rtol)
            assert not got[:, n_out:].any()  # the padding's state stays 0
            close([opt.state[n + l][k][:n_out]], [state[("b", l)][k]], rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_in", [1, 5, 6, 7, 13])
@pytest.mark.parametrize("n_out", [3, 16, 40])
def test_the_tile_order_is_a_permutation(n_in, n_out, dtype):
    from cnet._workspace import _tile_offsets, padded, state_from_kernels, state_to_kernels
    ld = padded(n_out)
    offsets = _tile_offsets(n_in, ld, dtype)
    np.testing.assert_array_equal(np.sort(offsets.ravel()), np.arange(n_in * ld))
    A = np.random.default_rng(0).random((n_in, ld)).astype(dtype)
    S = np.zeros_like(A)
    state_to_kernels(A, S)
    np.testing.assert_array_equal(state_from_kernels(S), A)
    if n_in > 1:  # (a single row is contiguous either way)
        with pytest.raises(ValueError, match="C-contiguous"):
            state_to_kernels(A, np.zeros((ld, n_in), dtype).T)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_a_pickled_optimizer_keeps_its_state_in_ws_layout(name, monkeypatch):
    """Pickles hold W's layout: unpickled under a build whose tiles are
    narrower (here: faked), the state lands where that build reads it."""
    import pickle

    from cnet import _workspace
    X, y = data(n=60, n_in=13, seed=2)
    net, opt = cnet.Network([13, 40, 3], dtype="float64", seed=1), OPTIMIZERS[name]()
    net.fit(X, y, 1, 10, ETA[name], optimizer=opt)
    public = [_workspace.state_from_kernels(a) for a in opt.state[0]]
    blob = pickle.dumps(opt)
    same = pickle.loads(blob)
    for a, b in zip(opt.state[0] + opt.state[2], same.state[0] + same.state[2]):
        assert_array_equal(a, b)
    nr = _workspace.tile_width("float64")
    monkeypatch.setattr(_workspace, "tile_width", lambda dtype: nr // 2)
    other = pickle.loads(blob)
    for a, b in zip(public, other.state[0]):
        assert not np.array_equal(a, b)  # another order in memory...
        assert_array_equal(_workspace.state_from_kernels(b), a)  # ...the same values


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop"])
def test_every_optimizer_with_every_schedule_matches_the_reference(name, schedule):
    X, y = data(seed=1)
    net_kw = NETS[1]
    kw = dict(net_kw)
    net = cnet.Network(kw.pop("sizes"), seed=5, **kw)
    orders = recording(net)
    history = net.fit(X, y, 4, 8, ETA[name], lmbda=0.2, optimizer=OPTIMIZERS[name](),
                      schedule=SCHEDULES[schedule](), n_threads=1)
    weights, biases, rates = reference_run(net_kw, X, y, 4, 8, ETA[name], 0.2, 0.0,
                                           OPTIMIZERS[name](), SCHEDULES[schedule](), orders,
                                           "float64")
    close(net.weights, weights, 1e-11)
    np.testing.assert_allclose(history["eta"], rates, rtol=1e-15)
    assert len(set(history["eta"])) == {"constant": 1, "step": 2}.get(schedule, 4)


def test_plain_sgd_by_name_or_instance_is_todays_update_bit_for_bit():
    X, y = data()
    nets = [cnet.Network([6, 5, 3], seed=2) for _ in range(3)]
    nets[0].fit(X, y, 2, 10, 0.5, lmbda=1.0)
    nets[1].fit(X, y, 2, 10, 0.5, lmbda=1.0, optimizer="sgd")
    nets[2].fit(X, y, 2, 10, 0.5, lmbda=1.0, optimizer=optimizers.SGD(momentum=0.0))
    for net in nets[1:]:
        for a, b in zip(net.weights + net.biases, nets[0].weights + nets[0].biases):
            assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_and_two_threads_give_the_same_bits(name, dtype):
    X, y = data(n=300, n_in=40, seed=3)
    nets = []
    for threads in (1, 2):
        net = cnet.Network([40, 37, 3], activation="tanh", dtype=dtype, seed=4)
        net.fit(X, y, 2, 64, ETA[name], lmbda=0.1, l1=0.05 if name == "sgd+l1" else 0.0,
                optimizer=OPTIMIZERS[name](), n_threads=threads)
        nets.append(net)
    for a, b in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_split_over_fit_calls_equals_one_call(name):
    """The optimizer keeps its state (and Adam its step count) between fit
    calls given the same object; the network keeps its shuffle."""
    X, y = data(seed=6)
    whole = cnet.Network([6, 7, 3], seed=8)
    whole.fit(X, y, 3, 10, ETA[name], lmbda=0.1, optimizer=OPTIMIZERS[name]())
    split, opt = cnet.Network([6, 7, 3], seed=8), OPTIMIZERS[name]()
    split.fit(X, y, 2, 10, ETA[name], lmbda=0.1, optimizer=opt)
    split.fit(X, y, 1, 10, ETA[name], lmbda=0.1, optimizer=opt)
    for a, b in zip(whole.weights + whole.biases, split.weights + split.biases):
        assert_array_equal(a, b)
    assert opt.t == 3 * math.ceil(len(X) / 10)


def test_a_schedule_object_continues_over_fit_calls():
    X, y = data()
    net, sched = cnet.Network([6, 5, 3], seed=1), schedules.Exponential(0.5)
    h1 = net.fit(X, y, 2, 10, 1.0, schedule=sched)
    h2 = net.fit(X, y, 2, 10, 1.0, schedule=sched)
    assert h1["eta"] + h2["eta"] == [1.0, 0.5, 0.25, 0.125]


def test_an_interrupted_or_diverged_epoch_rolls_the_optimizer_back():
    X, y = data()
    net, opt = cnet.Network([6, 5, 3], seed=1), optimizers.Adam()
    net.fit(X, y, 1, 10, 0.01, optimizer=opt)
    t, state = opt.t, [a.copy() for s in opt.state for a in s]
    with pytest.raises(cnet.DivergenceError):
        net.fit(X * 1e30, y, 1, 10, 1e30, optimizer=opt)
    assert opt.t == t
    for a, b in zip([a for s in opt.state for a in s], state):
        assert_array_equal(a, b)


def test_an_optimizer_belongs_to_one_network_shape():
    X, y = data()
    opt = optimizers.Adam()
    cnet.Network([6, 5, 3], seed=1).fit(X, y, 1, 10, 0.01, optimizer=opt)
    with pytest.raises(ValueError, match=r"holds the state of a float64 network of sizes "
                                         r"\[6, 5, 3\]; it cannot train a float64 network of "
                                         r"sizes \[6, 4, 3\]"):
        cnet.Network([6, 4, 3], seed=1).fit(X, y, 1, 10, 0.01, optimizer=opt)
    with pytest.raises(ValueError, match="float32 network"):
        cnet.Network([6, 5, 3], dtype="float32").fit(X, y, 1, 10, 0.01, optimizer=opt)
    opt.reset()
    cnet.Network([6, 4, 3], seed=1).fit(X, y, 1, 10, 0.01, optimizer=opt)


def test_the_kernels_refuse_state_of_the_wrong_shape():
    """Python checks the shape first; the kernels check again rather than
    write past the end of an array."""
    from cnet._dispatch import kernels
    from cnet._workspace import Workspace
    net = cnet.Network([6, 5, 3], seed=1)
    params = net._kernel_params()
    bad = [(np.zeros((2, 2)), None, None, None)] + [(None,) * 4]
    ws = Workspace(params, 4, state=bad)
    X = np.zeros((4, 6))
    order = np.arange(4, dtype=np.intp)
    with pytest.raises(ValueError, match="optimizer state S1 of layer 0 must be"):
        kernels.sgd_epoch(X, None, np.zeros(4, np.intp), order, ws.spec, 0, 4, 0.1, 1.0,
                          np.zeros(4), 1, 0, step=dict(kind=optimizers.MOMENTUM, mu=0.9))


@pytest.mark.parametrize("name, make", list(optimizers.NAMES.items()))
def test_optimizer_names(name, make):
    opt = optimizers.resolve(name)
    assert isinstance(opt, type(make())) and opt.get_config() == make().get_config()
    X, y = data()
    h = cnet.Network([6, 5, 3], seed=1).fit(X, y, 1, 10, 0.01, optimizer=name)
    assert np.isfinite(h["train_cost"][0])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: optimizers.resolve("adagrad"), ValueError, "optimizer must be one of 'sgd', "),
    (lambda: optimizers.resolve(optimizers.Adam), TypeError, "an instance, e.g. Adam()"),
    (lambda: optimizers.resolve(3), ValueError, "optimizer must be one of"),
    (lambda: optimizers.SGD(momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: optimizers.SGD(momentum=-0.1), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: optimizers.SGD(momentum="0.9"), TypeError, "momentum must be a number"),
    (lambda: optimizers.SGD(nesterov=True), ValueError, "nesterov=True needs a momentum > 0"),
    (lambda: optimizers.SGD(0.9, nesterov=1), TypeError, "nesterov must be True or False"),
    (lambda: optimizers.Adam(beta1=1.0), ValueError, r"beta1 must be in \[0, 1\)"),
    (lambda: optimizers.Adam(beta2=-1e-3), ValueError, r"beta2 must be in \[0, 1\)"),
    (lambda: optimizers.Adam(eps=0), ValueError, "eps must be a finite number > 0"),
    (lambda: optimizers.AdamW(weight_decay=-1), ValueError, "weight_decay must be a finite"),
    (lambda: optimizers.RMSprop(alpha=1.5), ValueError, r"alpha must be in \[0, 1\)"),
    (lambda: optimizers.RMSprop(eps=float("nan")), ValueError, "eps must be a finite number"),
    (lambda: optimizers.RMSprop(momentum=1), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: schedules.resolve("cosine"), ValueError, "schedule must be 'constant'"),
    (lambda: schedules.resolve(schedules.Cosine), TypeError, r"an instance, e.g. Cosine\(...\)"),
    (lambda: schedules.Exponential(0), ValueError, "gamma must be a number > 0"),
    (lambda: schedules.Step(0), ValueError, "step_size must be an integer >= 1"),
    (lambda: schedules.Step(1.5), TypeError, "step_size must be an integer"),
    (lambda: schedules.Cosine(10, eta_min=-1), ValueError, "eta_min must be a number >= 0"),
    (lambda: schedules.ReduceOnPlateau(factor=1.0), ValueError, "factor must be a number > 0 "
                                                                "and < 1"),
    (lambda: schedules.ReduceOnPlateau(mode="up"), ValueError, "mode must be 'min', 'max'"),
    (lambda: schedules.Adaptive(n_iter_no_change=0), ValueError, "n_iter_no_change must be"),
])
def test_bad_hyper_parameters_say_what_they_must_be(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_arguments_to_fit():
    X, y = data()
    net = cnet.Network([6, 5, 3])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        net.fit(X, y, 1, 10, 0.1, optimizer="sgdd")
    with pytest.raises(ValueError, match="l1 must be"):
        net.fit(X, y, 1, 10, 0.1, l1=-1.0)
    with pytest.raises(ValueError, match="the schedule returned -1 for epoch 0"):
        net.fit(X, y, 1, 10, 0.1, schedule=lambda e: -1)
    with pytest.raises(KeyError, match="ReduceOnPlateau monitors 'val_cost'"):
        net.fit(X, y, 1, 10, 0.1, schedule=schedules.ReduceOnPlateau(monitor="val_cost"))


def test_reduce_on_plateau_and_adaptive():
    sched = schedules.ReduceOnPlateau(factor=0.5, patience=1, monitor="val_cost")
    rates = []
    for cost in [1.0, 0.9, 0.95, 0.92, 0.91, 0.5, 0.6, 0.7]:
        rates.append(sched.next_rate(1.0, 10))
        sched.update({"val_cost": cost})
    assert rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]
    assert sched.next_rate(1.0, 10) == 0.25
    adaptive = schedules.resolve("adaptive")
    assert isinstance(adaptive, schedules.Adaptive) and adaptive.factor == 0.2
    for cost in [1.0] + [0.99999] * 10:
        adaptive.update({"train_cost": cost})
    assert adaptive.next_rate(1.0, 10) == pytest.approx(0.2)  # 10 epochs without tol = 1e-4
    X, y = data()
    h = cnet.Network([6, 5, 3], seed=1).fit(X, y, 6, 10, 1.0, schedule=schedules.ReduceOnPlateau(
        factor=0.5, patience=0, monitor="val_accuracy"), validation_data=(X, y))
    assert h["eta"][0] == 1.0 and all(a >= b for a, b in zip(h["eta"], h["eta"][1:]))


def test_book_SGD_takes_an_optimizer_and_a_schedule():
    X, y = data()
    pairs = cnet.datasets.to_tuples(X, y, one_hot=True, n_classes=3)
    a, b = cnet.Network([6, 5, 3], seed=3), cnet.Network([6, 5, 3], seed=3)
    a.SGD(pairs, 2, 10, 0.01, optimizer="adam", schedule=schedules.Step(1, 0.5), verbose=False)
    b.fit(X, y, 2, 10, 0.01, optimizer="adam", schedule=schedules.Step(1, 0.5))
    for p, q in zip(a.weights, b.weights):
        assert_array_equal(p, q)
    assert a.history["eta"] == [0.01, 0.005]


# ------------------------------------------------------------------- PyTorch

def torch_run(net_kw, X, y, epochs, batch, eta, lmbda, name, orders, dtype):
    """The same training with torch.optim: the same initial weights, the same
    order of samples; L2 as PyTorch's weight_decay = lmbda / n on the weights
    only (a parameter group of its own)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == "float64" else torch.float32
    kw = dict(net_kw)
    ref = cnet.Network(kw.pop("sizes"), dtype=dtype, seed=5, **kw)
    Ws = [torch.tensor(w.copy(), dtype=tdt, requires_grad=True) for w in ref.weights]
    bs = [torch.tensor(b.ravel().copy(), dtype=tdt, requires_grad=True) for b in ref.biases]
    n = len(X)
    wd = lmbda / n
    opt_kind = OPTIMIZERS[name]()
    groups = [{"params": Ws, "weight_decay": wd}, {"params": bs, "weight_decay": 0.0}]
    if isinstance(opt_kind, optimizers.AdamW):
        groups = [{"params": Ws, "weight_decay": opt_kind.weight_decay},
                  {"params": bs, "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=eta, betas=(opt_kind.beta1, opt_kind.beta2),
                                eps=opt_kind.eps)
    elif isinstance(opt_kind, optimizers.Adam):
        opt = torch.optim.Adam(groups, lr=eta, betas=(opt_kind.beta1, opt_kind.beta2),
                               eps=opt_kind.eps)
    elif isinstance(opt_kind, optimizers.RMSprop):
        opt = torch.optim.RMSprop(groups, lr=eta, alpha=opt_kind.alpha, eps=opt_kind.eps,
                                  momentum=opt_kind.momentum)
    else:
        opt = torch.optim.SGD(groups, lr=eta, momentum=opt_kind.momentum,
                              nesterov=opt_kind.nesterov)
    Xt = torch.tensor(X, dtype=tdt)
    yt = torch.tensor(y)
    relu = net_kw.get("activation") == "relu"
    for e in range(epochs):
        order = torch.tensor(orders[e])
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            a = Xt[idx]
            for l, (W, b) in enumerate(zip(Ws, bs)):
                z = a @ W.T + b
                last = l == len(Ws) - 1
                if last and relu:
                    a = z
                else:
                    a = torch.relu(z) if relu else torch.sigmoid(z)
            if relu:  # softmax + log-likelihood
                loss = torch.nn.functional.cross_entropy(a, yt[idx])
            else:  # quadratic: sum over outputs of (a - y)^2 / 2, mean over samples
                Y = torch.nn.functional.one_hot(yt[idx], a.shape[1]).to(tdt)
                loss = 0.5 * ((a - Y) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return [W.detach().numpy() for W in Ws], [b.detach().numpy() for b in bs]


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
# (torch.optim has no L1, and no eps-hat Adam: scikit-learn's, tested in
# tests/test_sklearn.py against scikit-learn's MLP)
@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n not in ("sgd+l1", "adam+eps_hat")])
@pytest.mark.parametrize("net_kw", NETS, ids=["sigmoid", "relu-softmax"])
def test_every_optimizer_matches_torch_optim(name, net_kw, dtype, rtol):
    pytest.importorskip("torch")
    X, y = data(seed=9)
    lmbda = 0.0 if name == "adamw" else 0.4
    kw = dict(net_kw)
    net = cnet.Network(kw.pop("sizes"), dtype=dtype, seed=5, **kw)
    orders = recording(net)
    net.fit(X, y, 3, 10, ETA[name], lmbda=lmbda, optimizer=OPTIMIZERS[name](), n_threads=1)
    weights, biases = torch_run(net_kw, X, y, 3, 10, ETA[name], lmbda, name, orders, dtype)
    close(net.weights, weights, rtol)
    close([b.ravel() for b in net.biases], biases, rtol)


# ----------------------------------------------------------- save and resume

@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_train_save_load_train_equals_training_without_the_break(name, tmp_path):
    X, y = data(seed=11)
    l1 = 0.2 if name == "sgd+l1" else 0.0
    whole = cnet.Network([6, 7, 3], seed=8)
    whole.fit(X, y, 4, 10, ETA[name], lmbda=0.1, l1=l1, optimizer=OPTIMIZERS[name]())
    first, opt = cnet.Network([6, 7, 3], seed=8), OPTIMIZERS[name]()
    first.fit(X, y, 2, 10, ETA[name], lmbda=0.1, l1=l1, optimizer=opt)
    first.save(tmp_path / "m.npz", optimizer=opt)
    net, opt2 = cnet.load(tmp_path / "m.npz"), cnet.load_optimizer(tmp_path / "m.npz")
    assert type(opt2) is type(opt) and opt2.get_config() == opt.get_config()
    assert opt2.t == opt.t
    net.fit(X, y, 2, 10, ETA[name], lmbda=0.1, l1=l1, optimizer=opt2)
    for a, b in zip(whole.weights + whole.biases, net.weights + net.biases):
        assert_array_equal(a, b)


def test_a_checkpoint_keeps_the_optimizer(tmp_path):
    X, y = data()
    net, opt = cnet.Network([6, 5, 3], seed=1), optimizers.Adam()
    net.fit(X, y, 2, 10, 0.01, optimizer=opt,
            callbacks=[cnet.callbacks.Checkpoint(tmp_path / "c.npz", optimizer=opt)])
    saved = cnet.load_optimizer(tmp_path / "c.npz")
    assert saved.t == opt.t == 10
    for mine, theirs in zip(opt.state, saved.state):
        for a, b in zip(mine, theirs):
            assert_array_equal(a, b)
    assert cnet.load_optimizer(_plain_file(tmp_path)) is None


def _plain_file(tmp_path):
    path = tmp_path / "plain.npz"
    cnet.Network([6, 5, 3]).save(path)
    return path


def test_optimizer_state_in_a_file_is_checked(tmp_path):
    import json
    import zipfile
    X, y = data()
    net, opt = cnet.Network([6, 5, 3], seed=1), optimizers.SGD(momentum=0.9)
    net.fit(X, y, 1, 10, 0.1, optimizer=opt)
    path = tmp_path / "m.npz"
    net.save(path, optimizer=opt)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["metadata"][()]))

    def rewrite(meta_change=None, drop=None, nan=None):
        m = dict(meta)
        m["optimizer"] = {**meta["optimizer"], **(meta_change or {})}
        out = {k: v for k, v in arrays.items() if k != drop}
        out["metadata"] = np.array(json.dumps(m))
        if nan:
            out[nan] = out[nan].copy()
            out[nan].flat[0] = np.nan
        bad = tmp_path / "bad.npz"
        np.savez(bad, **out)
        return bad

    for kwargs, match in [
        (dict(meta_change={"class": "Adagrad"}), "invalid optimizer in the metadata"),
        (dict(meta_change={"config": {"momentum": 2.0, "nesterov": False}}),
         "invalid optimizer config in the metadata: momentum must be in"),
        (dict(meta_change={"t": -1}), "invalid optimizer step count"),
        (dict(meta_change={"slots": 2}), "keeps 2 state arrays per parameter; it keeps 1"),
        (dict(drop="O0W1"), "missing O0W1"),
        (dict(nan="O0b0"), "the optimizer's state of layer 0 contains NaN"),
    ]:
        with pytest.raises(cnet.ModelFileError, match=match):
            cnet.load_optimizer(rewrite(**kwargs))
    assert zipfile.is_zipfile(path)
    with pytest.raises(ValueError, match="cannot train a float64 network of sizes"):
        cnet.Network([6, 4, 3]).save(tmp_path / "x.npz", optimizer=opt)


def test_files_of_format_version_1_still_load(tmp_path):
    """cnet 0.1.0 wrote format_version 1 (no optimizer); version 2 adds the
    optimizer's state and reads both."""
    path = tmp_path / "old.npz"
    net = cnet.Network([6, 5, 3], seed=1)
    net.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    text = str(arrays["metadata"][()])
    assert '"format_version": 2' in text
    arrays["metadata"] = np.array(text.replace('"format_version": 2', '"format_version": 1'))
    np.savez(path, **arrays)
    old = cnet.load(path)
    for a, b in zip(old.weights, net.weights):
        assert_array_equal(a, b)
