# Compiled kernels of cnet: forward pass, output delta, delta propagation and
# the SGD weight update for a fully-connected network, and one call that runs
# a whole epoch of mini-batch SGD without the GIL.  Included by
# _kernels_baseline.pyx, _kernels_avx2.pyx and _kernels_avx512.pyx (and the
# test build _kernels_wide.pyx): one source, one compiled variant per
# instruction set (cnet/_dispatch.py picks one at import).
#
# Layout (Python allocates everything; see cnet/_workspace.py):
#
# * W is stored transposed and padded: Wt (n_in, ld) with
#   ld = round_up(n_out, CNET_PAD); the public (n_out, n_in) weight is the
#   view Wt[:, :n_out].T.  Biases b (ld,).
# * Per layer, activations A (m_cap, ld) are sample-major.  Deltas are kept
#   twice, each in the "panel" layout that its product reads as B: a panel is
#   nr consecutive columns stored contiguously, so a tile streams its B
#   operand instead of striding through memory (nr: the tile width).
#     D  (ld / nr, m_cap, nr):  delta[s, j] at D[j // nr, s, j % nr]
#     DT (ld_m / nr, n_out, nr): delta[s, j] at DT[s // nr, j, s % nr]
#   Wp (ld / nr, n_in, nr) is the same layout for W^T, for large batches
#   only (None for small ones): packed by the first forward pass of a call,
#   then kept current by the update, which writes each new tile to both.
# * Xin (m_cap, n_in): the mini-batch's rows of X, gathered by the first
#   phase of every batch; the first layer's forward pass reads these
#   instead of rows scattered over X.  For training the gather also writes
#   them in blocks of MR features (the first layer's ATin), which its
#   update reads.
# * Tiles read and write full padded widths; padding columns of W, b and D
#   stay 0, those of A hold act(0) and are never read as data.
#
# Every product goes through the register tile of cnet_tile.h, which sums each
# output element sequentially over its reduction index.  Threads split the
# *tiles* between them and own what they write, so results do not depend on
# the thread count.  One OpenMP parallel region covers a whole epoch; its
# phases are separated by barriers (cnet_sync.h).
#
# Every parallel region's body is one call of a *_thread function, and
# nothing is assigned inside the region itself: whatever a thread writes for
# itself is a local of that function, on its own stack.  (A variable of the
# enclosing function written in the region is shared unless Cython lists it
# as private; one written through a pointer never is; that race returned
# garbage rows under load.)  tests/test_parallel_regions.py checks the
# generated C for this.  With one thread, no region is entered at all: the
# body is called directly (no OpenMP runtime, so a forked child works).

from cython.parallel cimport parallel
from libc.math cimport exp, expf, tanh, tanhf, log, logf
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

include "openmp_shim.pxi"

cdef extern from "cnet_sync.h":
    ctypedef struct cnet_sync:
        pass
    void cnet_sync_init(cnet_sync *b, const void *interrupt) noexcept nogil
    void cnet_sync_join(cnet_sync *b, int nt) noexcept nogil
    void cnet_sync_wait(cnet_sync *b) noexcept nogil
    void cnet_sync_poll(cnet_sync *b, int tid, long k) noexcept nogil
    int cnet_sync_halted(const cnet_sync *b, long k) noexcept nogil
    void cnet_sync_report(cnet_sync *b, int tid, long value) noexcept nogil
    long cnet_sync_result(const cnet_sync *b) noexcept nogil

cdef extern from "cnet_fpu.h":
    unsigned long cnet_fpu_enter() noexcept nogil
    void cnet_fpu_leave(unsigned long old) noexcept nogil
    int cnet_fpu_flushes() noexcept nogil

cdef extern from "cnet_tile.h":
    enum:
        CNET_MR
        CNET_KC
        CNET_PAD
        CNET_NR_F32
        CNET_NR_F64
    const char *CNET_ISA_NAME
    void cnet_prefetch(const void *p, size_t nbytes) noexcept nogil
    void cnet_forward_rows_f32(Py_ssize_t k, const float **rows, int mr,
                               const float *b, Py_ssize_t b_ks, const float *bias, int act,
                               float *out, Py_ssize_t ld, float *outT, Py_ssize_t ldT,
                               int nc, int first, int last) noexcept nogil
    void cnet_forward_rows_f64(Py_ssize_t k, const double **rows, int mr,
                               const double *b, Py_ssize_t b_ks, const double *bias, int act,
                               double *out, Py_ssize_t ld, double *outT, Py_ssize_t ldT,
                               int nc, int first, int last) noexcept nogil
    void cnet_update_rows_f32(Py_ssize_t k, const float **rows, Py_ssize_t a_ks, int mr,
                              const float *b, Py_ssize_t b_ks, float *w, Py_ssize_t ld,
                              float decay, float scale, float *wp) noexcept nogil
    void cnet_update_rows_f64(Py_ssize_t k, const double **rows, Py_ssize_t a_ks, int mr,
                              const double *b, Py_ssize_t b_ks, double *w, Py_ssize_t ld,
                              double decay, double scale, double *wp) noexcept nogil
    void cnet_backprop_rows_f32(Py_ssize_t k, const float **rows, int mr,
                                const float *b, Py_ssize_t b_ks, const float *a,
                                Py_ssize_t a_ld, int act, float *dt,
                                Py_ssize_t dt_ld) noexcept nogil
    void cnet_backprop_rows_f64(Py_ssize_t k, const double **rows, int mr,
                                const double *b, Py_ssize_t b_ks, const double *a,
                                Py_ssize_t a_ld, int act, double *dt,
                                Py_ssize_t dt_ld) noexcept nogil
    enum:
        IDENTITY "CNET_IDENTITY"
        SIGMOID "CNET_SIGMOID"
        TANH "CNET_TANH"
        RELU "CNET_RELU"
        LEAKY_RELU "CNET_LEAKY_RELU"
        SOFTMAX "CNET_SOFTMAX"

ctypedef fused floating:
    float
    double

# Cost codes; cnet/costs.py mirrors them (activation codes: cnet_tile.h).
cpdef enum:
    QUADRATIC = 0
    CROSS_ENTROPY = 1
    LOG_LIKELIHOOD = 2

LEAKY_SLOPE = 0.01
ACTIVATION_CODES = dict(identity=IDENTITY, sigmoid=SIGMOID, tanh=TANH, relu=RELU,
                        leaky_relu=LEAKY_RELU, softmax=SOFTMAX)
MR = CNET_MR
PAD = CNET_PAD
ISA = CNET_ISA_NAME.decode()
FLUSHES_SUBNORMALS = bool(cnet_fpu_flushes())  # cnet_fpu.h: this CPU family's FTZ mode
NR_FLOAT32 = CNET_NR_F32
NR_FLOAT64 = CNET_NR_F64


cdef struct Layer:
    Py_ssize_t n_in, n_out, ld, m_cap
    int act
    void *W          # W^T (n_in, ld)                       IN
    void *b          # (ld,)                                IN
    void *Wp         # W^T in panels (ld/nr, n_in, nr) or NULL   scratch
    void *A          # activations (m_cap, ld)              OUT of forward
    void *ATin       # the layer's input transposed (n_in, ld_m): the A operand
                     # of its update and sigma' of delta propagation; written
                     # by the forward pass of the layer below.  The first
                     # layer's is the batch in feature blocks instead,
                     # (n_in/MR, m_cap, MR), written by the gather; NULL for
                     # small batches (the update reads Xin in place)
    void *D          # deltas, panels (ld/nr, m_cap, nr)    OUT of backward
    void *DT         # deltas, panels (ld_m/nr, n_out, nr)  OUT of backward
    void *W_out      # where the update lands: W itself, or a gradient
    void *b_out


cdef struct Batch:
    const void *X          # input rows (n_samples, x_ld)
    Py_ssize_t x_ld
    void *Xin              # the mini-batch's rows of X, gathered (m_cap, n_in):
                           # every later phase reads the batch from here, close
                           # by in cache, instead of from rows all over X
    const void *T          # targets (n_samples, t_ld), or NULL: use labels
    Py_ssize_t t_ld
    const Py_ssize_t *labels  # labels[s]: the label of sample position s, in
                              # batch order, not through idx (read at random,
                              # a cache miss per example cost 8% of the book's
                              # epoch)
    const Py_ssize_t *idx  # sample positions -> rows of X and T
    Py_ssize_t m           # rows in this mini-batch
    Py_ssize_t ld_m        # padded batch length: DT holds ld_m / nr panels
    bint pack              # first batch of a call: pack W^T into Wp (later
                           # batches find Wp kept current by the update)
    Py_ssize_t next_m      # rows of the next mini-batch (idx[m:m + next_m]),
                           # which the first layer's update prefetches; or 0
    void *loss             # per-example cost (m,)                 OUT
    cnet_sync *sync        # the team's barrier and interrupt flag (shared)


# ---------------------------------------------------------------------------
# element-wise pieces

cdef inline Py_ssize_t _d_at(const Layer *L, Py_ssize_t s, Py_ssize_t j,
                             int nr) noexcept nogil:
    """Offset of delta[s, j] in L.D."""
    return (j // nr) * L.m_cap * nr + s * nr + j % nr


cdef inline Py_ssize_t _dt_at(const Layer *L, Py_ssize_t s, Py_ssize_t j,
                              int nr) noexcept nogil:
    """Offset of delta[s, j] in L.DT."""
    return (s // nr) * L.n_out * nr + j * nr + s % nr


cdef inline floating _dact(floating a, int act) noexcept nogil:
    """sigma'(z) written in terms of a = sigma(z): no need to keep z."""
    if act == SIGMOID:
        return a * (1 - a)
    elif act == TANH:
        return 1 - a * a
    elif act == RELU:
        return 1 if a > 0 else 0
    elif act == LEAKY_RELU:
        return 1 if a > 0 else <floating>0.01
    return 1


cdef inline floating _log_clipped(floating a) noexcept nogil:
    # Costs clip a to [eps, 1 - eps] before the log, as scikit-learn does:
    # a saturated float32 sigmoid is exactly 1.0 and must not read as an
    # infinite cost.  NaN passes through the comparisons unchanged.
    cdef floating eps
    if floating is float:
        eps = 1.1920928955078125e-07
        if a < eps:
            a = eps
        return logf(a)
    else:
        eps = 2.220446049250313e-16
        if a < eps:
            a = eps
        return log(a)


cdef inline void _softmax_row(floating *out, Py_ssize_t n) noexcept nogil:
    """out[:n] := softmax(out[:n]) (shifted by the max: no overflow)."""
    cdef Py_ssize_t c
    cdef floating mx = out[0], total = 0
    for c in range(1, n):
        if out[c] > mx:
            mx = out[c]
    for c in range(n):
        if floating is float:
            out[c] = expf(out[c] - mx)
        else:
            out[c] = exp(out[c] - mx)
        total = total + out[c]
    for c in range(n):
        out[c] = out[c] / total


cdef inline int _nr(floating *dummy) noexcept nogil:
    if floating is float:
        return CNET_NR_F32
    else:
        return CNET_NR_F64


cdef inline void _forward_rows(Py_ssize_t k, const floating **rows, int mr,
                               const floating *b, Py_ssize_t b_ks, const floating *bias,
                               int act, floating *out, Py_ssize_t ld, floating *outT,
                               Py_ssize_t ldT, int nc, bint first, bint last) noexcept nogil:
    if floating is float:
        cnet_forward_rows_f32(k, rows, mr, b, b_ks, bias, act, out, ld, outT, ldT, nc,
                              first, last)
    else:
        cnet_forward_rows_f64(k, rows, mr, b, b_ks, bias, act, out, ld, outT, ldT, nc,
                              first, last)


cdef inline void _update_rows(Py_ssize_t k, const floating **rows, Py_ssize_t a_ks, int mr,
                              const floating *b, Py_ssize_t b_ks, floating *w,
                              Py_ssize_t ld, floating decay, floating scale,
                              floating *wp) noexcept nogil:
    if floating is float:
        cnet_update_rows_f32(k, rows, a_ks, mr, b, b_ks, w, ld, decay, scale, wp)
    else:
        cnet_update_rows_f64(k, rows, a_ks, mr, b, b_ks, w, ld, decay, scale, wp)


cdef inline const floating *_in_row(const Layer *L, const Layer *prev, const Batch *bt,
                                    Py_ssize_t s, floating *dummy) noexcept nogil:
    """Row s of the layer's input: of the gathered batch, or of A below."""
    if prev == NULL:
        return <const floating *> bt.Xin + s * L.n_in
    return <const floating *> prev.A + s * prev.ld


cdef inline void _my_range(Py_ssize_t n, int tid, int nt,
                           Py_ssize_t *lo, Py_ssize_t *hi) noexcept nogil:
    """Thread tid's contiguous share of n work items."""
    lo[0] = n * tid // nt
    hi[0] = n * (tid + 1) // nt


# ---------------------------------------------------------------------------
# phases: each is called by every thread of the region with (tid, nt)

cdef void _gather_phase(const Layer *L, const Batch *bt, bint blocks, int tid, int nt,
                        floating *dummy) noexcept nogil:
    """Xin[s] := X[idx[s]], s < m: the batch, gathered once.  Read in place, the
    rows of a shuffled batch are scattered over all of X, and each product
    that reads them would wait on memory again.

    With blocks (training, if L.ATin is given), also L.ATin[ib, s, r] :=
    Xin[s, ib * MR + r]: the first layer's update reads in[:, i0:i0 + MR]
    over all s as one short contiguous stream from here.  Read from Xin in
    place, every step of its tile lands n_in floats further on, a new page
    every step or so: with more pages than the TLB holds (m = 128), the
    misses cost the update 15-20% of its time."""
    cdef Py_ssize_t s, s_lo, s_hi, ib, i0, r, n_in = L.n_in
    cdef Py_ssize_t blk = L.m_cap * CNET_MR
    cdef floating *x
    cdef floating *xb
    _my_range(bt.m, tid, nt, &s_lo, &s_hi)
    for s in range(s_lo, s_hi):  # all requests in flight before the first copy
        cnet_prefetch(<const floating *> bt.X + bt.idx[s] * bt.x_ld, n_in * sizeof(floating))
    for s in range(s_lo, s_hi):
        x = <floating *> bt.Xin + s * n_in
        memcpy(x, <const floating *> bt.X + bt.idx[s] * bt.x_ld, n_in * sizeof(floating))
        if blocks and L.ATin != NULL:
            xb = <floating *> L.ATin + s * CNET_MR
            for ib in range(n_in // CNET_MR):  # a constant-size memcpy: two moves
                memcpy(xb + ib * blk, x + ib * CNET_MR, CNET_MR * sizeof(floating))
            i0 = n_in - n_in % CNET_MR
            for r in range(n_in % CNET_MR):
                xb[(n_in // CNET_MR) * blk + r] = x[i0 + r]
    # The first line of each of the next batch's rows (the rows this thread
    # will gather then), so that the page walks for those random rows happen
    # here, where the copy waits on memory anyway: issued from the first
    # layer's update with the rows' other lines, they stalled it (15% of its
    # time in the book's job, on the prefetch instructions).
    _my_range(bt.next_m, tid, nt, &s_lo, &s_hi)
    for s in range(bt.m + s_lo, bt.m + s_hi):
        cnet_prefetch(<const floating *> bt.X + bt.idx[s] * bt.x_ld, 1)


cdef void _forward_phase(const Layer *L, const Layer *prev, const Batch *bt,
                         floating *AT_out, int tid, int nt) noexcept nogil:
    """A[s, j] := act(sum_i in[s, i] W[j, i] + b[j])  for s < m, j < n_out;
    also AT_out[j, s] (the next layer's transposed input) unless NULL."""
    cdef floating *dummy = AT_out
    cdef int nr = _nr(dummy)
    cdef Py_ssize_t m = bt.m, n_out = L.n_out, ld = L.ld
    cdef Py_ssize_t n_rb = (m + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_cb = (n_out + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, rb, cb, s0, j0, r, c
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *W = <const floating *> L.W
    cdef const floating *b = <const floating *> L.b
    cdef floating *A = <floating *> L.A
    cdef int softmax = L.act == SOFTMAX
    cdef int act = IDENTITY if softmax else L.act
    cdef floating *Wp = <floating *> L.Wp
    cdef const floating *B
    cdef Py_ssize_t b_ks, i, cb_lo, cb_hi, kb, k0, klen
    # Large batches (packed W) sum k in blocks; a small batch has too few
    # row blocks to reuse a block of the panel, and pays for the extra passes.
    cdef Py_ssize_t kc = CNET_KC if Wp != NULL else max(L.n_in, 1)
    cdef Py_ssize_t n_kb = (L.n_in + kc - 1) // kc
    # Blocks of equal length (784 = 4 x 196, not 3 x 256 + 16): a short last
    # block pays the load and store of every partial tile for little work.
    kc = (L.n_in + n_kb - 1) // n_kb

    if Wp != NULL and bt.pack:
        # Pack W^T into panels first (each thread its share), so that the
        # tiles stream their B operand: in place, consecutive k are a whole
        # row of W^T apart, a new cache line and often a new page each step.
        _my_range(n_cb, tid, nt, &cb_lo, &cb_hi)
        for cb in range(cb_lo, cb_hi):
            for i in range(L.n_in):
                for c in range(nr):
                    Wp[(cb * L.n_in + i) * nr + c] = W[i * ld + cb * nr + c]
        cnet_sync_wait(bt.sync)

    # A softmax row needs all its columns: give each thread whole rows.
    if softmax:
        _my_range(n_rb, tid, nt, &t_lo, &t_hi)
        t_lo *= n_cb
        t_hi *= n_cb
    else:
        _my_range(n_rb * n_cb, tid, nt, &t_lo, &t_hi)
    # k in blocks of CNET_KC: a block of a panel (CNET_KC x nr) stays in L1
    # while every row block passes over it; between blocks each tile keeps
    # its partial sums in A (the same sequential sum: no bit changes).  A
    # thread's tiles are the same in every block, so no barrier is needed.
    for kb in range(n_kb):
        k0 = kb * kc
        klen = min(kc, L.n_in - k0)
        for t in range(t_lo, t_hi):
            if softmax:
                rb = t // n_cb
                cb = t - rb * n_cb
            else:
                # Column-panel major: one panel of W stays in cache while
                # every row block of the batch passes over it.
                cb = t // n_rb
                rb = t - cb * n_rb
            s0 = rb * CNET_MR
            mr = <int> min(<Py_ssize_t> CNET_MR, m - s0)
            for r in range(mr):
                rows[r] = _in_row(L, prev, bt, s0 + r, dummy) + k0
            j0 = cb * nr
            if Wp != NULL:
                B, b_ks = Wp + (cb * L.n_in + k0) * nr, nr
            else:
                B, b_ks = W + k0 * ld + j0, ld
            _forward_rows(klen, rows, mr, B, b_ks, b + j0, act, A + s0 * ld + j0, ld,
                          AT_out + j0 * bt.ld_m + s0 if AT_out != NULL else NULL, bt.ld_m,
                          <int> min(<Py_ssize_t> nr, n_out - j0), kb == 0, kb == n_kb - 1)
            if softmax and cb == n_cb - 1 and kb == n_kb - 1:
                for r in range(mr):
                    _softmax_row(A + (s0 + r) * ld, n_out)


cdef void _output_delta_phase(const Layer *L, int cost, const Batch *bt,
                              int tid, int nt, floating *dummy) noexcept nogil:
    """delta and per-example cost of the output layer (textbook shortcuts:
    sigmoid + cross-entropy and softmax + log-likelihood give a - y)."""
    cdef Py_ssize_t s, s_lo, s_hi, j, row, n_out = L.n_out, ld = L.ld
    cdef int nr = _nr(dummy)
    cdef const floating *a
    cdef const floating *T = <const floating *> bt.T
    cdef floating *D = <floating *> L.D
    cdef floating *DT = <floating *> L.DT
    cdef floating *loss = <floating *> bt.loss
    cdef floating y, d, c_s
    _my_range(bt.m, tid, nt, &s_lo, &s_hi)
    for s in range(s_lo, s_hi):
        a = <const floating *> L.A + s * ld
        row = bt.idx[s]
        c_s = 0
        for j in range(n_out):
            if T != NULL:
                y = T[row * bt.t_ld + j]
            else:
                y = 1 if bt.labels[s] == j else 0
            d = a[j] - y
            if cost == QUADRATIC:
                c_s = c_s + d * d / 2
                d = d * _dact(a[j], L.act)
            elif cost == CROSS_ENTROPY:
                if y != 0:
                    c_s = c_s - y * _log_clipped(a[j])
                if y != 1:
                    c_s = c_s - (1 - y) * _log_clipped(1 - a[j])
            else:  # LOG_LIKELIHOOD
                if y != 0:
                    c_s = c_s - y * _log_clipped(a[j])
            D[_d_at(L, s, j, nr)] = d
            DT[_dt_at(L, s, j, nr)] = d
        loss[s] = c_s


cdef void _backprop_phase(const Layer *L, const Layer *prev, const Batch *bt,
                          int tid, int nt, floating *dummy) noexcept nogil:
    """prev.D[s, i] := (sum_j W[j, i] D[s, j]) * sigma'(prev.A[s, i]).

    prev.A is read from its transposed copy L.ATin (written by the forward
    pass of a training step)."""
    cdef int nr = _nr(dummy)
    cdef Py_ssize_t m = bt.m, n_in = L.n_in, ld_m = bt.ld_m
    cdef Py_ssize_t n_ib = (n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_sb = (m + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, ib, sb, i0, s0, r, c, nc
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *W = <const floating *> L.W
    cdef const floating *DT = <const floating *> L.DT
    cdef const floating *AT = <const floating *> L.ATin
    cdef floating *d_i
    cdef floating *dt_i
    cdef floating *D_p = <floating *> prev.D
    cdef floating *DT_p = <floating *> prev.DT
    _my_range(n_ib * n_sb, tid, nt, &t_lo, &t_hi)
    for t in range(t_lo, t_hi):
        ib = t // n_sb
        sb = t - ib * n_sb
        i0 = ib * CNET_MR
        mr = <int> min(<Py_ssize_t> CNET_MR, n_in - i0)
        for r in range(mr):
            rows[r] = W + (i0 + r) * L.ld
        s0 = sb * nr
        # The activations below come transposed (L.ATin): row i is contiguous
        # in s, as is row i of a DT_p panel, so sigma' is applied and stored
        # a vector at a time (all nr columns: DT_p's columns s >= m are
        # padding that no stored result reads); D_p is nr apart: copied.
        dt_i = DT_p + _dt_at(prev, s0, i0, nr)
        if floating is float:
            cnet_backprop_rows_f32(L.n_out, rows, mr, DT + sb * L.n_out * nr, nr,
                                   AT + i0 * ld_m + s0, ld_m, prev.act, dt_i, nr)
        else:
            cnet_backprop_rows_f64(L.n_out, rows, mr, DT + sb * L.n_out * nr, nr,
                                   AT + i0 * ld_m + s0, ld_m, prev.act, dt_i, nr)
        nc = min(<Py_ssize_t> nr, m - s0)
        for r in range(mr):
            d_i = D_p + _d_at(prev, s0, i0 + r, nr)
            for c in range(nc):
                d_i[c * nr] = dt_i[r * nr + c]


cdef void _update_phase(const Layer *L, const Layer *prev, const Batch *bt,
                        floating decay, floating scale, int tid, int nt) noexcept nogil:
    """W_out[j, i] := decay W_out[j, i] - scale sum_s D[s, j] in[s, i];
    b_out[j] := b_out[j] - scale sum_s D[s, j].

    The tile's A operand is in[:, i], i in a block of CNET_MR features.  Above
    the first layer it is read from the transposed copy L.ATin (contiguous
    in s, written by the forward pass below); the first layer's L.ATin holds
    the batch in blocks of CNET_MR features (written by the gather), a
    block's CNET_MR values of a sample side by side, or for small batches
    is NULL: the update then reads the gathered rows Xin in place.  Tiles
    write their full width: in padding columns D is 0, so W_out stays 0
    there."""
    cdef int nr = _nr(<floating *> NULL)
    cdef Py_ssize_t m = bt.m, n_in = L.n_in, n_out = L.n_out, ld = L.ld
    cdef Py_ssize_t n_ib = (n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_jb = (n_out + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, ib, jb, i0, j0, c, nc, s, r
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *AT = <const floating *> L.ATin
    # where in[:, i0] starts, strides of in[:, i] over i and over s
    cdef Py_ssize_t a_blk = CNET_MR * bt.ld_m, a_rs = bt.ld_m, a_ks = 1
    cdef const floating *D = <const floating *> L.D
    cdef floating *W_out = <floating *> L.W_out
    cdef floating *b_out = <floating *> L.b_out
    # Training keeps the packed copy current; a gradient leaves W (and Wp) be.
    cdef floating *Wp = <floating *> L.Wp if L.W_out == L.W else NULL
    cdef floating acc
    cdef Py_ssize_t pf_lo = 0, pf_hi = 0, pf_row_lines = 1, pf_total = 0, pf_next = 0
    cdef Py_ssize_t pf_per_tile = 0, pf_end, pf_line = 0, pf_s = 0
    cdef const char *pf_row = NULL
    if prev == NULL and bt.next_m > 0:
        # Fetch the next batch's rows of X a few cache lines per tile, each
        # thread the rows it will gather.  Issued all at once, hundreds of
        # misses fill the load queue and the core waits for them (measured:
        # as long as the gather they save); spread over this phase, they
        # arrive in the shadow of its arithmetic.
        _my_range(bt.next_m, tid, nt, &pf_lo, &pf_hi)
        pf_row_lines = (n_in * <Py_ssize_t> sizeof(floating) + 63) // 64
        # each row's first line was asked for by the gather (_gather_phase)
        pf_total = (pf_hi - pf_lo) * (pf_row_lines - 1)
        pf_line = 1
        pf_s = bt.m + pf_lo  # the sample being fetched, and its row of X
        if pf_total > 0:
            pf_row = <const char *> (<const floating *> bt.X + bt.idx[pf_s] * bt.x_ld)
    if prev == NULL and AT != NULL:
        a_blk, a_rs, a_ks = L.m_cap * CNET_MR, 1, CNET_MR
    elif prev == NULL:
        AT, a_blk, a_rs, a_ks = <const floating *> bt.Xin, CNET_MR, 1, n_in
    _my_range(n_ib * n_jb, tid, nt, &t_lo, &t_hi)
    if pf_total > 0:
        pf_per_tile = pf_total // max(t_hi - t_lo, 1) + 1
    # The tile's coordinates and the prefetch cursor are counted on, not
    # divided out: a 64-bit division takes ~15 cycles, and with several per
    # tile (of only 10 steps in the book's job) they cost its epoch 5-6%.
    ib = t_lo // n_jb
    jb = t_lo - ib * n_jb
    for t in range(t_lo, t_hi):
        pf_end = min(pf_next + pf_per_tile, pf_total)
        while pf_next < pf_end:
            cnet_prefetch(pf_row + pf_line * 64, 1)
            pf_next += 1
            pf_line += 1
            if pf_line == pf_row_lines and pf_next < pf_total:
                pf_line = 1
                pf_s += 1
                pf_row = <const char *> (<const floating *> bt.X + bt.idx[pf_s] * bt.x_ld)
        # Row-block major: the block of A (CNET_MR features of m samples, a
        # few KB) stays in L1 while the tile walks
        # along rows of W, which the prefetchers then stream as plain rows;
        # the D panels (all of D is m x ld, a few hundred KB) come from L2.
        # Measured: 1.2-1.3x faster than panel-major on 784x512, m = 128.
        i0 = ib * CNET_MR
        j0 = jb * nr
        mr = <int> min(<Py_ssize_t> CNET_MR, n_in - i0)
        for r in range(mr):
            rows[r] = AT + ib * a_blk + r * a_rs
        _update_rows(m, rows, a_ks, mr, D + jb * L.m_cap * nr, nr, W_out + i0 * ld + j0, ld,
                     decay, scale, Wp + (jb * n_in + i0) * nr if Wp != NULL else NULL)
        if ib == 0:  # the owner of a column block's first tile owns its biases
            nc = min(<Py_ssize_t> nr, n_out - j0)
            for c in range(nc):
                acc = 0
                for s in range(m):
                    acc = acc + D[_d_at(L, s, j0 + c, nr)]
                b_out[j0 + c] = b_out[j0 + c] - scale * acc
        jb += 1
        if jb == n_jb:
            jb = 0
            ib += 1


# ---------------------------------------------------------------------------
# drivers: the loops over mini-batches and layers, run by every thread

cdef void _forward_batch(const Layer *layers, int n_layers, const Batch *bt,
                         bint training, int tid, int nt, floating *dummy) noexcept nogil:
    """Forward through all layers; for training, each layer also stores its
    activations transposed for the update of the layer above."""
    cdef int l
    cdef floating *AT_out
    _gather_phase(&layers[0], bt, training, tid, nt, dummy)
    cnet_sync_wait(bt.sync)
    for l in range(n_layers):
        AT_out = NULL
        if training and l + 1 < n_layers:
            AT_out = <floating *> layers[l + 1].ATin
        if l == 0:
            _forward_phase(&layers[0], NULL, bt, AT_out, tid, nt)
        else:
            _forward_phase(&layers[l], &layers[l - 1], bt, AT_out, tid, nt)
        cnet_sync_wait(bt.sync)


cdef void _backward_batch(const Layer *layers, int n_layers, int cost,
                          const Batch *bt, floating decay, floating scale,
                          int tid, int nt) noexcept nogil:
    """Output delta, then per layer from the top: propagate the delta down
    (reads W), barrier, update W.  The update of layer l overlaps with the
    propagation below it: they touch disjoint buffers."""
    cdef int l
    _output_delta_phase(&layers[n_layers - 1], cost, bt, tid, nt, <floating *> NULL)
    cnet_sync_wait(bt.sync)
    for l in range(n_layers - 1, -1, -1):
        if l > 0:
            _backprop_phase(&layers[l], &layers[l - 1], bt, tid, nt, <floating *> NULL)
            cnet_sync_wait(bt.sync)
        _update_phase(&layers[l], &layers[l - 1] if l > 0 else NULL, bt, decay, scale,
                      tid, nt)
    cnet_sync_wait(bt.sync)


cdef inline unsigned long _team(int *tid, int *nt, cnet_sync *sync) noexcept nogil:
    """This thread's number and the team's size, told to the barrier; the
    thread's floating-point mode switched to flush-to-zero (cnet_fpu.h).
    Returns the previous mode, for cnet_fpu_leave at the thread's end."""
    tid[0] = omp_get_thread_num()
    nt[0] = omp_get_num_threads()
    cnet_sync_join(sync, nt[0])
    return cnet_fpu_enter()


cdef void _sgd_epoch_thread(const Layer *layers, int n_layers, int cost,
                            const Batch *proto, Py_ssize_t n, Py_ssize_t batch_size,
                            floating eta, floating decay) noexcept nogil:
    """One thread's part of an epoch.  Reports the examples the team used: n,
    or fewer if interrupted (it stops between mini-batches)."""
    cdef int tid, nt
    cdef long k = 0
    cdef Batch bt = proto[0]
    cdef Py_ssize_t start = 0
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    while start < n:
        bt.m = min(batch_size, n - start)
        bt.idx = proto.idx + start
        if proto.labels != NULL:
            bt.labels = proto.labels + start
        bt.loss = <floating *> proto.loss + start
        bt.pack = start == 0
        bt.next_m = max(0, min(batch_size, n - start - batch_size))
        cnet_sync_poll(bt.sync, tid, k)
        _forward_batch(layers, n_layers, &bt, True, tid, nt, <floating *> NULL)
        if cnet_sync_halted(bt.sync, k):
            break  # after a forward pass only: no weight has changed
        _backward_batch(layers, n_layers, cost, &bt, decay, eta / bt.m, tid, nt)
        start = start + batch_size
        k += 1
    cnet_sync_report(bt.sync, tid, min(start, n))
    cnet_fpu_leave(fpu)


cdef Py_ssize_t _sgd_epoch(const Layer *layers, int n_layers, int cost, Batch proto,
                           Py_ssize_t n, Py_ssize_t batch_size, floating eta,
                           floating decay, int n_threads) noexcept nogil:
    """All mini-batches of one epoch in one parallel region; returns the
    examples used."""
    cdef const Batch *pb = &proto
    if n_threads == 1:
        _sgd_epoch_thread(layers, n_layers, cost, pb, n, batch_size, eta, decay)
    else:
        with parallel(num_threads=n_threads):
            _sgd_epoch_thread(layers, n_layers, cost, pb, n, batch_size, eta, decay)
    return cnet_sync_result(proto.sync)


cdef void _forward_all_thread(const Layer *layers, int n_layers, const Batch *proto,
                              Py_ssize_t n, Py_ssize_t chunk, floating *out) noexcept nogil:
    """One thread's part of _forward_all.  Reports the rows done (n unless
    interrupted between chunks)."""
    cdef int tid, nt
    cdef long k = 0
    cdef Batch bt = proto[0]
    cdef Py_ssize_t start = 0, s, s_lo, s_hi, j
    cdef const Layer *top = &layers[n_layers - 1]
    cdef const floating *a
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    while start < n:
        bt.m = min(chunk, n - start)
        bt.idx = proto.idx + start
        bt.pack = start == 0
        cnet_sync_poll(bt.sync, tid, k)
        _forward_batch(layers, n_layers, &bt, False, tid, nt, out)
        if cnet_sync_halted(bt.sync, k):
            break
        _my_range(bt.m, tid, nt, &s_lo, &s_hi)
        for s in range(s_lo, s_hi):
            a = <const floating *> top.A + s * top.ld
            for j in range(top.n_out):
                out[(start + s) * top.n_out + j] = a[j]
        cnet_sync_wait(bt.sync)
        start = start + chunk
        k += 1
    cnet_sync_report(bt.sync, tid, min(start, n))
    cnet_fpu_leave(fpu)


cdef Py_ssize_t _forward_all(const Layer *layers, int n_layers, Batch proto,
                             Py_ssize_t n, Py_ssize_t chunk, floating *out,
                             int n_threads) noexcept nogil:
    """out[k, :] := network output for row idx[k], chunk rows at a time;
    returns the rows done."""
    cdef const Batch *pb = &proto
    if n_threads == 1:
        _forward_all_thread(layers, n_layers, pb, n, chunk, out)
    else:
        with parallel(num_threads=n_threads):
            _forward_all_thread(layers, n_layers, pb, n, chunk, out)
    return cnet_sync_result(proto.sync)


# ---------------------------------------------------------------------------
# Python entry points: collect pointers with the GIL, then one nogil call

cdef Layer *_make_layers(list spec, floating *dummy) except NULL:
    """spec: one tuple (W, b, act, A, D, DT, W_out, b_out, Wp or None, ATin,
    Xin or None) per layer, arrays of the network's dtype laid out as the
    header says; the first layer's Xin (m_cap, n_in) is the gathered batch."""
    cdef int n_layers = len(spec), l
    cdef Layer *layers = <Layer *> malloc(n_layers * sizeof(Layer))
    cdef floating[:, ::1] W, A, W_out, ATin
    cdef floating[:, :, ::1] D, DT, Wp
    cdef floating[::1] b, b_out
    if layers == NULL:
        raise MemoryError()
    try:
        for l in range(n_layers):
            W, b, act, A, D, DT, W_out, b_out, Wp_or_none, ATin, _ = spec[l]
            layers[l].n_in = W.shape[0]
            layers[l].ld = W.shape[1]
            layers[l].n_out = DT.shape[1]
            layers[l].m_cap = D.shape[1]
            layers[l].act = act
            layers[l].W = &W[0, 0]
            layers[l].b = &b[0]
            layers[l].Wp = NULL
            if Wp_or_none is not None:
                Wp = Wp_or_none
                layers[l].Wp = &Wp[0, 0, 0]
            layers[l].A = &A[0, 0]
            # A (1, 1) placeholder: the first layer reads Xin in place.
            layers[l].ATin = &ATin[0, 0] if ATin.shape[1] > 1 else NULL
            layers[l].D = &D[0, 0, 0]
            layers[l].DT = &DT[0, 0, 0]
            layers[l].W_out = &W_out[0, 0]
            layers[l].b_out = &b_out[0]
    except BaseException:
        free(layers)
        raise
    return layers


cdef Batch _make_batch(const floating[:, ::1] X, targets,
                       const Py_ssize_t[::1] labels, const Py_ssize_t[::1] order,
                       list spec, void *loss, cnet_sync *sync) except *:
    cdef Batch bt
    cdef const floating[:, ::1] T
    cdef floating[:, ::1] Xin = spec[0][10]
    bt.X = &X[0, 0]
    bt.x_ld = X.shape[1]
    bt.Xin = &Xin[0, 0]
    bt.T = NULL
    bt.t_ld = 0
    if targets is not None:
        T = targets
        bt.T = &T[0, 0]
        bt.t_ld = T.shape[1]
    bt.labels = NULL
    if targets is None and labels is not None:
        if labels.shape[0] < order.shape[0]:
            raise ValueError(f"labels has {labels.shape[0]} entries; it needs one per "
                             f"example of order ({order.shape[0]})")
        bt.labels = &labels[0]
    bt.idx = &order[0]
    bt.m = order.shape[0]
    DT_top = spec[len(spec) - 1][5]
    bt.ld_m = DT_top.shape[0] * DT_top.shape[2]
    bt.loss = loss
    bt.pack = True
    bt.next_m = 0
    bt.sync = sync
    return bt


def _need_targets(targets, labels):
    if targets is None and labels is None:
        raise ValueError("give targets, or labels (one per example of order)")


def sgd_epoch(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
              const Py_ssize_t[::1] order, list spec, int cost,
              Py_ssize_t batch_size, double eta, double decay,
              floating[::1] loss_out, int n_threads, Py_ssize_t interrupt=0):
    """One epoch of mini-batch SGD over X[order], in place on the weights.

    W <- decay W - (eta/m) sum delta a^T,  b <- b - (eta/m) sum delta.
    loss_out[k] receives the cost of example order[k] when it was used.
    targets: (n_samples, n_out) of X's dtype, or None to use labels, whose
    labels[k] is the label of example order[k] (X's row order[k]).
    interrupt: the address of a flag (cnet._interrupt) polled before each
    mini-batch, or 0.  Returns the examples used: len(order), or fewer when
    the flag stopped the epoch between two mini-batches."""
    _need_targets(targets, labels)
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef int n_layers = len(spec)
    cdef Batch bt
    cdef cnet_sync sync
    cdef Py_ssize_t used
    cnet_sync_init(&sync, <const void *> interrupt)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, &loss_out[0], &sync)
        with nogil:
            used = _sgd_epoch(layers, n_layers, cost, bt, order.shape[0], batch_size,
                              <floating> eta, <floating> decay, n_threads)
    finally:
        free(layers)
    return used


def forward(const floating[:, ::1] X, const Py_ssize_t[::1] order, list spec,
            floating[:, ::1] out, Py_ssize_t chunk, int n_threads, Py_ssize_t interrupt=0):
    """out[k] := network(X[order[k]]); chunk = rows the buffers in spec hold.
    Returns the rows done (fewer than len(order) if interrupted)."""
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef int n_layers = len(spec)
    cdef Batch bt
    cdef cnet_sync sync
    cdef Py_ssize_t done
    cnet_sync_init(&sync, <const void *> interrupt)
    try:
        bt = _make_batch[floating](X, None, None, order, spec, NULL, &sync)
        with nogil:
            done = _forward_all(layers, n_layers, bt, order.shape[0], chunk,
                                &out[0, 0], n_threads)
    finally:
        free(layers)
    return done


cdef void _gradient_thread(const Layer *layers, int n_layers, int cost, const Batch *bt,
                           floating scale) noexcept nogil:
    cdef int tid, nt
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    _forward_batch(layers, n_layers, bt, True, tid, nt, <floating *> NULL)
    _backward_batch(layers, n_layers, cost, bt, <floating> 0, scale, tid, nt)
    cnet_fpu_leave(fpu)


def gradient(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
             const Py_ssize_t[::1] order, list spec, int cost,
             floating[::1] loss_out, int n_threads):
    """Mean gradient of the cost over the examples X[order] (one batch).

    Each layer's W_out / b_out (zero on entry) receives dC/dW^T, dC/db.
    targets, labels: as for sgd_epoch."""
    _need_targets(targets, labels)
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef Batch bt
    cdef const Batch *pb = &bt
    cdef cnet_sync sync
    cdef int n_layers = len(spec)
    cdef floating scale = -1.0 / order.shape[0]
    cnet_sync_init(&sync, NULL)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, &loss_out[0], &sync)
        with nogil:
            if n_threads == 1:
                _gradient_thread(layers, n_layers, cost, pb, scale)
            else:
                with parallel(num_threads=n_threads):
                    _gradient_thread(layers, n_layers, cost, pb, scale)
    finally:
        free(layers)


# Single-phase entry points: the kernels one at a time, for the tests that
# hold each of them against the NumPy reference (cnet/reference.py).
cdef enum:
    LAYER_FORWARD = 0
    OUTPUT_DELTA = 1
    BACKPROP_DELTA = 2
    UPDATE = 3


cdef void _phase_thread(int which, const Layer *layers, const Batch *bt, int cost,
                        floating scale, floating decay) noexcept nogil:
    cdef int tid, nt
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    if which == LAYER_FORWARD:
        _gather_phase(&layers[0], bt, False, tid, nt, <floating *> NULL)
        cnet_sync_wait(bt.sync)
        _forward_phase(&layers[0], NULL, bt, <floating *> NULL, tid, nt)
    elif which == OUTPUT_DELTA:
        _output_delta_phase(&layers[0], cost, bt, tid, nt, <floating *> NULL)
    elif which == BACKPROP_DELTA:
        _backprop_phase(&layers[1], &layers[0], bt, tid, nt, <floating *> NULL)
    else:
        _gather_phase(&layers[0], bt, True, tid, nt, <floating *> NULL)
        cnet_sync_wait(bt.sync)
        _update_phase(&layers[0], NULL, bt, decay, scale, tid, nt)
    cnet_fpu_leave(fpu)


cdef _run_phase(int which, const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
                const Py_ssize_t[::1] order, list spec, int cost, void *loss,
                floating scale, floating decay, int n_threads):
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef Batch bt
    cdef const Batch *pb = &bt
    cdef cnet_sync sync
    cnet_sync_init(&sync, NULL)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, loss, &sync)
        with nogil:
            if n_threads == 1:
                _phase_thread(which, layers, pb, cost, scale, decay)
            else:
                with parallel(num_threads=n_threads):
                    _phase_thread(which, layers, pb, cost, scale, decay)
    finally:
        free(layers)


def layer_forward(const floating[:, ::1] X, const Py_ssize_t[::1] order,
                  list spec, int n_threads):
    """spec[0].A[s] := act(X[order[s]] @ W.T + b)."""
    _run_phase[floating](LAYER_FORWARD, X, None, None, order, spec, 0, NULL, 0, 0, n_threads)


def output_delta(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
                 const Py_ssize_t[::1] order, list spec, int cost,
                 floating[::1] loss_out, int n_threads):
    """spec[0].D, .DT, loss_out from spec[0].A and the targets of order
    (targets, labels: as for sgd_epoch)."""
    _need_targets(targets, labels)
    _run_phase[floating](OUTPUT_DELTA, X, targets, labels, order, spec, cost, &loss_out[0],
                         0, 0, n_threads)


def backprop_delta(const floating[:, ::1] X, const Py_ssize_t[::1] order,
                   list spec, int n_threads):
    """spec[0].D, .DT := (delta of spec[1] pulled back through W) * sigma'(spec[0].A)."""
    _run_phase[floating](BACKPROP_DELTA, X, None, None, order, spec, 0, NULL, 0, 0,
                         n_threads)


def update(const floating[:, ::1] X, const Py_ssize_t[::1] order, list spec,
           double scale, double decay, int n_threads):
    """W_out := decay W_out - scale sum_s D[s] X[order[s]]^T, b likewise."""
    _run_phase[floating](UPDATE, X, None, None, order, spec, 0, NULL, <floating> scale,
                         <floating> decay, n_threads)
