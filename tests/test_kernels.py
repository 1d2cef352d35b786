"""Each compiled kernel, called on its own, against the plain-NumPy reference.

Shapes include 1x1 layers, n_out smaller than the thread count, a batch of
one, and sizes that leave partial register tiles in every direction.  Inputs
are read through a shuffled index, as training reads them.
"""
import numpy as np
import pytest

from cnet import activations, reference
from cnet._dispatch import kernels
from cnet._workspace import Workspace, padded

SHAPES = [  # (m, n_in, n_out)
    (1, 1, 1),
    (1, 784, 10),
    (3, 5, 1),
    (2, 1, 7),
    (7, 13, 17),
    (10, 30, 10),
    (13, 33, 40),
    (130, 50, 31),   # >= PACK_MIN_ROWS: the forward pass packs W^T into panels
    (64, 784, 100),  # >= BLOCK_MIN_ROWS: the update reads the input in feature blocks
    (5, 19, 130),    # >= BLOCK_MIN_OUTPUTS: feature blocks too, with a short last block
]
TOL = {"float64": 1e-12, "float32": 2e-5}


def _close(got, want, dtype):
    tol = TOL[dtype]
    scale = np.abs(want).max() + 1e-30
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


def _layer(rng, n_in, n_out, act, dtype, m):
    """One layer's parameters in kernel layout, plus its public W, b."""
    W = rng.normal(0, 1 / np.sqrt(n_in), size=(n_out, n_in)).astype(dtype)
    b = rng.normal(size=n_out).astype(dtype)
    Wt = np.zeros((n_in, padded(n_out)), dtype=dtype)
    Wt[:, :n_out] = W.T
    bp = np.zeros(padded(n_out), dtype=dtype)
    bp[:n_out] = b
    return (Wt, bp, activations.CODES[act], n_out), W, b


def _indexed_input(rng, m, n_in, dtype):
    """X with more rows than the batch, and a shuffled index into it."""
    X = rng.uniform(-1, 1, size=(m + 5, n_in)).astype(dtype)
    order = rng.permutation(m + 5)[:m].astype(np.intp)
    return X, order


@pytest.fixture(params=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture(params=[1, 2])
def n_threads(request):
    return request.param


@pytest.mark.parametrize("m,n_in,n_out", SHAPES)
@pytest.mark.parametrize("act", activations.OUTPUT)
def test_layer_forward(m, n_in, n_out, act, dtype, n_threads):
    rng = np.random.default_rng(m * 1000 + n_in * 10 + n_out)
    params, W, b = _layer(rng, n_in, n_out, act, dtype, m)
    X, order = _indexed_input(rng, m, n_in, dtype)
    ws = Workspace([params], m)
    kernels.layer_forward(X, order, ws.spec, n_threads)
    want = reference.forward_layer(X[order].astype(np.float64), W.astype(np.float64),
                                   b.astype(np.float64), act)
    _close(ws.activations(0, m), want, dtype)


OUT_COST = [("sigmoid", "quadratic"), ("tanh", "quadratic"), ("relu", "quadratic"),
            ("leaky_relu", "quadratic"), ("identity", "quadratic"),
            ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood")]


@pytest.mark.parametrize("m,n_in,n_out", SHAPES)
@pytest.mark.parametrize("act,cost", OUT_COST)
@pytest.mark.parametrize("target_kind", ["labels", "targets"])
def test_output_delta(m, n_in, n_out, act, cost, target_kind, dtype, n_threads):
    rng = np.random.default_rng(m + n_out)
    params, _, _ = _layer(rng, n_in, n_out, act, dtype, m)
    ws = Workspace([params], m)
    z = rng.normal(size=(m, n_out))
    A = activations.apply(act, z).astype(dtype)
    ws.spec[0][3][:m, :n_out] = A
    n_rows = m + 3
    order = rng.permutation(n_rows)[:m].astype(np.intp)
    labels = rng.integers(n_out, size=n_rows).astype(np.intp)
    if target_kind == "labels":
        T, Y = None, np.eye(n_out)[labels[order]]
    else:
        T = rng.uniform(0, 1, size=(n_rows, n_out)).astype(dtype)
        if cost == "log_likelihood":
            T /= T.sum(axis=1, keepdims=True)
        Y = T[order].astype(np.float64)
    X = np.zeros((n_rows, n_in), dtype=dtype)
    loss = np.empty(m, dtype=dtype)
    kernels.output_delta(X, T, labels[order], order, ws.spec, reference_cost_code(cost), loss,
                         n_threads)
    want_delta, want_loss = reference.output_delta(A.astype(np.float64), Y, act, cost)
    _close(ws.deltas(0, m), want_delta, dtype)
    _close(ws.deltas_transposed(0, m), want_delta, dtype)
    _close(loss, want_loss, dtype)


def reference_cost_code(cost):
    from cnet.costs import COSTS
    return COSTS[cost].code


@pytest.mark.parametrize("m,n_mid,n_out", SHAPES)
@pytest.mark.parametrize("act_prev", activations.HIDDEN)
def test_backprop_delta(m, n_mid, n_out, act_prev, dtype, n_threads):
    rng = np.random.default_rng(3 * m + n_mid + 7 * n_out)
    prev, _, _ = _layer(rng, 4, n_mid, act_prev, dtype, m)
    top, W, _ = _layer(rng, n_mid, n_out, "sigmoid", dtype, m)
    ws = Workspace([prev, top], m)
    A_prev = activations.apply(act_prev, rng.normal(size=(m, n_mid))).astype(dtype)
    delta = rng.normal(size=(m, n_out)).astype(dtype)
    ws.spec[0][3][:m, :n_mid] = A_prev
    ws.spec[1][9][:n_mid, :m] = A_prev.T  # the top layer's transposed input
    ws.set_deltas(1, delta)
    X = np.zeros((m, 4), dtype=dtype)
    kernels.backprop_delta(X, np.arange(m, dtype=np.intp), ws.spec, n_threads)
    want = reference.backprop_delta(W.astype(np.float64), delta.astype(np.float64),
                                    A_prev.astype(np.float64), act_prev)
    _close(ws.deltas(0, m), want, dtype)
    _close(ws.deltas_transposed(0, m), want, dtype)


@pytest.mark.parametrize("m,n_in,n_out", SHAPES)
@pytest.mark.parametrize("decay", [1.0, 0.9995])
def test_update(m, n_in, n_out, decay, dtype, n_threads):
    rng = np.random.default_rng(m * 31 + n_in + n_out)
    params, W, b = _layer(rng, n_in, n_out, "sigmoid", dtype, m)
    X, order = _indexed_input(rng, m, n_in, dtype)
    ws = Workspace([params], m)
    delta = rng.normal(size=(m, n_out)).astype(dtype)
    ws.set_deltas(0, delta)
    scale = 0.3 / m
    kernels.update(X, order, ws.spec, scale, decay, n_threads)
    W64, b64 = W.astype(np.float64), b.astype(np.float64)
    reference.update(W64, b64, X[order].astype(np.float64), delta.astype(np.float64), scale, decay)
    Wt, bp = params[0], params[1]
    _close(Wt[:, :n_out].T, W64, dtype)
    _close(bp[:n_out], b64, dtype)
    # Padding is never written: it stays zero.
    assert not Wt[:, n_out:].any() and not bp[n_out:].any()


def test_large_batches_pack_and_small_do_not(dtype):
    rng = np.random.default_rng(1)
    params, _, _ = _layer(rng, 6, 5, "sigmoid", dtype, 4)
    from cnet._workspace import PACK_MIN_ROWS
    assert Workspace([params], PACK_MIN_ROWS - 1).spec[0][8] is None
    assert Workspace([params], PACK_MIN_ROWS).spec[0][8] is not None


def test_first_layer_input_blocks_for_large_batches_or_wide_layers(dtype):
    """The first layer's update reads feature blocks (ATin) only where they pay."""
    from cnet._workspace import BLOCK_MIN_OUTPUTS, BLOCK_MIN_ROWS, MR
    rng = np.random.default_rng(2)
    narrow, _, _ = _layer(rng, 13, 5, "sigmoid", dtype, 4)
    wide, _, _ = _layer(rng, 13, BLOCK_MIN_OUTPUTS, "sigmoid", dtype, 4)
    assert Workspace([narrow], BLOCK_MIN_ROWS - 1).spec[0][9].shape == (1, 1)
    assert Workspace([narrow], BLOCK_MIN_ROWS).spec[0][9].shape == (3, BLOCK_MIN_ROWS * MR)
    assert Workspace([wide], 2).spec[0][9].shape == (3, 2 * MR)


def test_kernel_outputs_are_the_spec_buffers(dtype):
    """The update lands in the network's own arrays (no hidden copy)."""
    rng = np.random.default_rng(0)
    params, _, _ = _layer(rng, 6, 5, "sigmoid", dtype, 4)
    ws = Workspace([params], 4)
    assert np.shares_memory(ws.spec[0][0], params[0])
    assert ws.spec[0][6] is params[0] and ws.spec[0][7] is params[1]


def test_kernels_refuse_missing_or_short_labels(dtype):
    """Labels are read in the order of `order`, one per example: the entry
    points check that they are there (a short array would be read past)."""
    rng = np.random.default_rng(3)
    params, _, _ = _layer(rng, 6, 5, "sigmoid", dtype, 4)
    ws = Workspace([params], 4)
    X, order = _indexed_input(rng, 4, 6, dtype)
    loss = np.empty(4, dtype=dtype)
    with pytest.raises(ValueError, match="one per example"):
        kernels.output_delta(X, None, np.zeros(3, np.intp), order, ws.spec, 0, loss, 1)
    with pytest.raises(ValueError, match="give targets, or labels"):
        kernels.gradient(X, None, None, order, ws.spec, 0, loss, 1)
