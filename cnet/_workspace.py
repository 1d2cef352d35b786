"""Buffers the kernels read and write, allocated by Python.

The kernels take, per layer, a LayerBuffers (W, b, act, A, D, DT, W_out,
b_out, Wp, ATin, Xin):
the transposed, padded weights Wt (n_in, ld) and biases b (ld,) of the
network, the activations A (m_cap, ld) of a batch, its deltas in the two
panel layouts D (ld/nr, m_cap, nr) and DT (ld_m/nr, n_out, nr), where the
update lands (W_out, b_out: the parameters themselves for training, zeroed
gradient arrays for ``gradient``), Wp, scratch for W^T in panels (None
for small batches, where packing would not pay), ATin (n_in, ld_m), the
layer's input transposed, which its update reads (for the first layer:
the batch in blocks of MR features, (ceil(n_in/MR), m_cap * MR), or for
small batches a (1, 1) placeholder), and, for the first layer
only (None elsewhere), Xin (m_cap, n_in): the batch's rows of X gathered into
one block, which the first layer reads instead of X.  src/kernels_impl.pxi
describes the layouts; ld = round_up(n_out, PAD), nr = the tile width.
"""
from collections import namedtuple

import numpy as np

from ._dispatch import kernels

# One layer's buffers, by name (the kernels read them so: _make_layers in
# src/kernels_entry.pxi); a tuple too, in this order.
# S1, S2, Sb1, Sb2: an optimizer's state for W and b (cnet/optimizers.py), or
# None; drop: the dropout rate of the layer's input, and GT, shaped like
# ATin, the buffer delta propagation through it then reads (cnet/regularizers.py).
# NZF, NZU: the first layer's lists of nonzero inputs (int32, see Layer in
# src/kernels_layout.pxi), or None.
LayerBuffers = namedtuple("LayerBuffers",
                          "W b act A D DT W_out b_out Wp ATin Xin S1 S2 Sb1 Sb2 drop GT NZF NZU kc "
                          "prefetch rowwise_bytes",
                          defaults=(None, None, None, None, 0.0, None, None, None, 0, True, 0))

PAD = kernels.PAD
MR = kernels.MR
PACK_MIN_ROWS = 32  # batches at least this large get W^T packed into panels
# ... whose forward pass then sums k in blocks of about FORWARD_KC steps (0:
# the kernels' own, CNET_KC in src/cnet_simd.h: a block of a panel in L1).
# Both per CPU (cnet/_tuning.py); neither changes a bit.
FORWARD_KC = 0
# Whether the first layer fetches the next batch's rows of X ahead of its
# gather (spread over its update): on Zen 3 the book's job is much slower
# without.  Per CPU too.
PREFETCH_NEXT_BATCH = True
# A batch of at most 16 rows (CNET_AXPY_MAX_ROWS) walks a layer's W^T of at
# least ROWWISE_MIN_BYTES along its rows in the forward pass, as the update
# does, instead of down column panels read in place (a row of W^T apart each
# step, where the prefetchers do not follow): a W that does not fit in L2.
# 0: never.  Per CPU too; no bit changes.
ROWWISE_MIN_BYTES = 512 << 10
# The first layer's update reads its input in feature blocks (written by the
# gather) for batches of at least BLOCK_MIN_ROWS rows or layers of at least
# BLOCK_MIN_OUTPUTS units; else it reads the gathered rows in place.  The
# blocks cost the gather a copy of the batch and save the update a strided
# walk over m rows (many pages for a large batch) once per tile column, of
# which a wide layer has many.  Measured, whole epochs (MNIST, float32):
# 784-30-10 with m = 10 is 5% faster in place; 784-512-512-10 is 4-8% faster
# with blocks at m = 32 and 64, 6% at m = 16; 784-256-10 at m = 10 about even.
BLOCK_MIN_ROWS = 32
BLOCK_MIN_OUTPUTS = 128
# The first layer's tiles take only the steps where some of their inputs is
# not 0 (lists built for each batch: Layer in src/kernels_layout.pxi), when
# at least this fraction of the input is 0 -- MNIST's pixels are 81% zeros,
# one-hot features more.  The results are the same bits either way.
SPARSE_MIN_ZEROS = 0.3
# ... and, in training, when the first layer has at least this many outputs
# (times the networks of a stack, which share the lists): the lists cost
# every batch the same, whatever the width, and save steps in proportion to
# it.  Per CPU (cnet/_tuning.py).  On Zen 3 (AVX2) the book's 784-30-10 at
# m = 10 took 0.13 s per epoch without the lists against 0.19-0.21 s with
# them, while 16 of them in a stack took 1.3 s with against 1.8-2.1 s
# without, and 784-512-512-10 at m = 128 was 3% faster with.  Since the
# lists are read off bit masks (src/cnet_lists.h) the book's job takes
# 0.13 s with them against 0.11 s without: still a loss there.
SPARSE_MIN_OUTPUTS = 1


# sparse_input counts the zeros of at most this many rows, spread over X:
# counting all of MNIST's 60,000 took 40 ms of every fit call (5 ms of a
# 170 ms forward pass of 10,000 rows).  The answer only picks a schedule.
SPARSE_SAMPLE_ROWS = 2048


def sparse_input(X, outputs=None):
    """Whether X has enough zeros for the first layer's lists to pay (for
    training a first layer of ``outputs`` units in all, if given).  Judged
    on every k-th row, at most SPARSE_SAMPLE_ROWS of them."""
    if SPARSE_MIN_ZEROS > 1 or X.size == 0:
        return False
    if outputs is not None and outputs < SPARSE_MIN_OUTPUTS:
        return False
    if X.ndim == 2 and X.shape[0] > SPARSE_SAMPLE_ROWS:
        X = X[::-(-X.shape[0] // SPARSE_SAMPLE_ROWS)]
    return X.size - np.count_nonzero(X) >= SPARSE_MIN_ZEROS * X.size


def padded(n):
    """n rounded up to a multiple of the kernels' row padding."""
    return -(-n // PAD) * PAD


def tile_width(dtype):
    """nr: columns of the kernels' register tile for this dtype."""
    return kernels.NR_FLOAT32 if np.dtype(dtype) == np.float32 else kernels.NR_FLOAT64


def _tile_offsets(n_in, ld, dtype):
    """Where element (i, j) of an (n_in, ld) array of W^T's shape sits in an
    optimizer's state for W: a block of MR rows (mr of them in the last
    block) holds its tiles one after another, tile (jb) of mr x nr values
    at i0 * ld + jb * mr * nr, row by row.  That is the order in which the
    update walks W, so the state is one sequential stream rather than mr
    rows at a stride of ld (measured, 784-512-512-10 at m = 128 with
    momentum: about 5% off the epoch on Zen 3)."""
    nr = tile_width(dtype)
    if ld % nr:
        raise ValueError(f"a state of width {ld} is not in tiles of {nr} columns")
    i = np.arange(n_in)[:, None]
    j = np.arange(ld)[None, :]
    i0 = i - i % MR
    mr = np.minimum(MR, n_in - i0)
    return i0 * ld + (j // nr) * mr * nr + (i % MR) * nr + j % nr


def state_from_kernels(S, n_out=None):
    """An optimizer's state for W, (n_in, ld) in the kernels' tile order, as
    an array laid out like W^T (row i, column j): its first n_out columns
    (all ld by default)."""
    return S.reshape(-1)[_tile_offsets(*S.shape, S.dtype)[:, :n_out]]


def state_to_kernels(A, S):
    """Store A, laid out like W^T (n_in rows, at most ld columns; the
    padding columns beyond get 0), into S in the kernels' tile order."""
    if not S.flags.c_contiguous:  # reshape would copy, and the store be lost
        raise ValueError("state_to_kernels needs a C-contiguous state array")
    S[...] = 0
    S.reshape(-1)[_tile_offsets(*S.shape, S.dtype)[:, :A.shape[1]]] = A


def _settings():
    """The knobs a workspace is built with (cnet/_tuning.py sets them)."""
    return (PACK_MIN_ROWS, FORWARD_KC, PREFETCH_NEXT_BATCH, BLOCK_MIN_ROWS, BLOCK_MIN_OUTPUTS,
            ROWWISE_MIN_BYTES)


class Workspace:
    """Scratch for batches of up to m_cap rows through a network's layers.

    Allocated once per training call, never per mini-batch; for inference,
    kept between calls (SpareWorkspaces).  ``inference``: forward passes
    only, which need no lists of examples for an update (NZU)."""

    def __init__(self, params, m_cap, gradients=None, state=None, dropout=None, sparse=False,
                 inference=False):
        self.m_cap, self.sparse, self.settings = m_cap, sparse, _settings()
        ld_m = padded(m_cap)
        self.spec = []
        for l, (Wt, b, act_code, n_out) in enumerate(params):
            n_in, ld = Wt.shape
            nr = tile_width(Wt.dtype)
            A = np.zeros((m_cap, ld), dtype=Wt.dtype)
            D = np.zeros((ld // nr, m_cap, nr), dtype=Wt.dtype)
            DT = np.zeros((ld_m // nr, n_out, nr), dtype=Wt.dtype)
            Wp = np.zeros((ld // nr, n_in, nr), dtype=Wt.dtype) if m_cap >= PACK_MIN_ROWS else None
            W_out, b_out = (Wt, b) if gradients is None else gradients[l]
            # The first layer's update reads the batch in blocks of MR features.
            if l:
                ATin = np.zeros((n_in, ld_m), dtype=Wt.dtype)
            elif m_cap >= BLOCK_MIN_ROWS or n_out >= BLOCK_MIN_OUTPUTS:
                ATin = np.zeros((-(-n_in // MR), m_cap * MR), dtype=Wt.dtype)
            else:
                ATin = np.zeros((1, 1), dtype=Wt.dtype)
            Xin = np.zeros((m_cap, n_in), dtype=Wt.dtype) if l == 0 else None
            S1, S2, Sb1, Sb2 = (None,) * 4 if state is None else state[l]
            drop = 0.0 if dropout is None else float(dropout[l])
            GT = np.zeros_like(ATin) if drop and l else None
            NZF = NZU = None
            if sparse and l == 0:  # the lists of nonzero inputs (sparse_input)
                NZF = np.zeros((-(-m_cap // MR), n_in + 1), dtype=np.int32)
                if not inference:
                    NZU = np.zeros((-(-n_in // MR), m_cap + 1), dtype=np.int32)
            self.spec.append(LayerBuffers(W=Wt, b=b, act=act_code, A=A, D=D, DT=DT, W_out=W_out,
                                          b_out=b_out, Wp=Wp, ATin=ATin, Xin=Xin, S1=S1, S2=S2,
                                          Sb1=Sb1, Sb2=Sb2, drop=drop, GT=GT, NZF=NZF,
                                          NZU=NZU, kc=FORWARD_KC,
                                          prefetch=PREFETCH_NEXT_BATCH,
                                          rowwise_bytes=ROWWISE_MIN_BYTES))

    def serves(self, params, m_cap, sparse):
        """Whether this workspace is the one Workspace(params, m_cap,
        sparse=sparse) would build now: the same arrays, sizes and settings."""
        return (self.m_cap == m_cap and self.sparse == sparse and self.settings == _settings()
                and len(params) == len(self.spec)
                and all(buf.W is Wt and buf.b is b and buf.act == act and buf.DT.shape[1] == n
                        for buf, (Wt, b, act, n) in zip(self.spec, params)))

    def n_out(self, l):
        return self.spec[l].DT.shape[1]

    def activations(self, l, m):
        """The activations (m, n_out) of layer l for the last batch of m rows (a view)."""
        return self.spec[l].A[:m, :self.n_out(l)]

    def deltas(self, l, m):
        """The deltas (m, n_out) of layer l, read from D (a copy)."""
        D = self.spec[l].D
        return D.transpose(1, 0, 2).reshape(D.shape[1], -1)[:m, :self.n_out(l)]

    def deltas_transposed(self, l, m):
        """The deltas (m, n_out) of layer l, read from DT (a copy)."""
        DT = self.spec[l].DT
        return DT.transpose(0, 2, 1).reshape(-1, DT.shape[1])[:m]

    def set_deltas(self, l, delta):
        """Write deltas (m, n_out) into both D and DT of layer l."""
        m, n_out = delta.shape
        D, DT = self.spec[l].D, self.spec[l].DT
        nr = D.shape[2]
        for j in range(n_out):
            D[j // nr, :m, j % nr] = delta[:, j]
        for s in range(m):
            DT[s // nr, :, s % nr] = delta[s]


class SpareWorkspaces:
    """Inference workspaces kept between calls, for the few networks used
    last.  Allocated anew for every call, their fresh pages cost 10-20 ms of
    a 170 ms forward pass of 10,000 rows through 784-512-512-10 (the kernel
    zeroing them), and most of the time of a call on a few rows.  A call
    takes the one kept for its network and batch size (or builds one) and
    gives it back; at most KEEP are kept in all, the least recently given
    back dropped first, so that a sweep over hundreds of networks holds no
    more than a few.  take and give are safe from any thread (a dict's pop
    and assignment are atomic; a lost race only costs a rebuild)."""
    KEEP = 4

    def __init__(self):
        self._free = {}  # (id of the first W, m_cap, sparse) -> Workspace, oldest first

    def take(self, params, m_cap, sparse):
        # A kept workspace holds its W: while it is here, no other array has that id.
        ws = self._free.pop((id(params[0][0]), m_cap, sparse), None)
        if ws is None or not ws.serves(params, m_cap, sparse):
            ws = Workspace(params, m_cap, sparse=sparse, inference=True)
        return ws

    def give(self, ws):
        self._free[id(ws.spec[0].W), ws.m_cap, ws.sparse] = ws
        while len(self._free) > self.KEEP:
            try:
                del self._free[next(iter(self._free))]
            except (StopIteration, KeyError, RuntimeError):  # another thread got there
                break


SPARES = SpareWorkspaces()  # Network._forward's
