# The kernels' declarations and data layout: the C headers they use, the
# Layer and Batch structs, and the element-wise pieces the phases share.
# Part of kernels_impl.pxi (read its header first).

from cython.parallel cimport parallel
from libc.math cimport exp, expf, tanh, tanhf, log, logf, pow, sqrt
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from libc.stdint cimport int64_t, uint32_t, uint64_t

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

cdef extern from "cnet_act.h":
    enum:
        CNET_FACTOR
    float cnet_dact1_f32(float a, int act) noexcept nogil
    double cnet_dact1_f64(double a, int act) noexcept nogil
    double CNET_LEAKY_SLOPE

cdef extern from "cnet_dropout.h":
    ctypedef struct cnet_drop_tile:
        const uint64_t *rows
        int64_t j0
        uint32_t threshold
        double scale
        void *gT
    uint64_t cnet_dropout_row(uint64_t epoch_key, int layer, int64_t example) noexcept nogil
    void cnet_dropout_keep(uint64_t row, int64_t n, uint32_t threshold,
                           unsigned char *keep) noexcept nogil

cdef extern from "cnet_update.h":
    ctypedef struct cnet_step:
        int kind, nesterov
        double lr, inv_m, l2, l1, l2_batch, wd, mu, beta1, beta2, eps, alpha, step_size
        double bc2_sqrt, eps_hat
    enum:
        CNET_OPT_PLAIN
        CNET_OPT_ADAM
    void cnet_opt_f32(const cnet_step *st, int weight, int n, const float *x, float *w,
                      float *s1, float *s2, float *wp) noexcept nogil
    void cnet_opt_f64(const cnet_step *st, int weight, int n, const double *x, double *w,
                      double *s1, double *s2, double *wp) noexcept nogil

cdef extern from "cnet_lists.h":
    enum:
        CNET_LIST_CHUNK
        CNET_LIST_WORDS
        CNET_LIST_GROUP
    int cnet_ctz64(uint64_t w) noexcept nogil
    void cnet_nonzero_bits_f32(const float *x, Py_ssize_t n, uint64_t *bits) noexcept nogil
    void cnet_nonzero_bits_f64(const double *x, Py_ssize_t n, uint64_t *bits) noexcept nogil
    uint64_t cnet_bits_at(const uint64_t *bits, Py_ssize_t p, int k) noexcept nogil

cdef extern from "cnet_tile.h":
    enum:
        CNET_MR
        CNET_KC
        CNET_AXPY_MAX_ROWS
        CNET_PAD
        CNET_NR_F32
        CNET_NR_F64
    const char *CNET_ISA_NAME
    void cnet_prefetch(const void *p, size_t nbytes) noexcept nogil
    void cnet_forward_rows_f32(Py_ssize_t k, const float **rows, int mr,
                               const float *b, Py_ssize_t b_ks, const float *bias, int act,
                               float *out, Py_ssize_t ld, float *outT, Py_ssize_t ldT,
                               int nc, int first, int last,
                               const cnet_drop_tile *drop, const int *lst) noexcept nogil
    void cnet_forward_rows_f64(Py_ssize_t k, const double **rows, int mr,
                               const double *b, Py_ssize_t b_ks, const double *bias, int act,
                               double *out, Py_ssize_t ld, double *outT, Py_ssize_t ldT,
                               int nc, int first, int last,
                               const cnet_drop_tile *drop, const int *lst) noexcept nogil
    void cnet_forward_axpy_f32(Py_ssize_t k, const int *lst, const float *x, Py_ssize_t x_ld,
                               int mr, const float *w, Py_ssize_t ld, Py_ssize_t ntiles,
                               float *z, Py_ssize_t z_ld) noexcept nogil
    void cnet_forward_axpy_f64(Py_ssize_t k, const int *lst, const double *x, Py_ssize_t x_ld,
                               int mr, const double *w, Py_ssize_t ld, Py_ssize_t ntiles,
                               double *z, Py_ssize_t z_ld) noexcept nogil
    void cnet_update_strip_f32(Py_ssize_t k, const float **rows, Py_ssize_t a_ks, int mr,
                               const float *b, Py_ssize_t b_next, Py_ssize_t b_ks,
                               Py_ssize_t ntiles, float *w, Py_ssize_t ld,
                               float decay, float scale, float *wp, Py_ssize_t wp_next,
                               const cnet_step *st, float *s1, float *s2, Py_ssize_t sld,
                               const int *lst) noexcept nogil
    void cnet_update_strip_f64(Py_ssize_t k, const double **rows, Py_ssize_t a_ks, int mr,
                               const double *b, Py_ssize_t b_next, Py_ssize_t b_ks,
                               Py_ssize_t ntiles, double *w, Py_ssize_t ld,
                               double decay, double scale, double *wp, Py_ssize_t wp_next,
                               const cnet_step *st, double *s1, double *s2, Py_ssize_t sld,
                               const int *lst) noexcept nogil
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

LEAKY_SLOPE = CNET_LEAKY_SLOPE  # cnet_act.h; cnet/activations.py checks it
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
    int prefetch     # the first layer: its gather and update fetch the next
                     # batch's rows of X ahead (0: they do not)
    Py_ssize_t kc    # with Wp, the forward pass sums k in blocks of about this
                     # many steps (0: CNET_KC); a schedule, not a result: the
                     # partial sums wait in A between blocks (cnet/_tuning.py)
    Py_ssize_t rowwise_bytes  # a batch of at most CNET_AXPY_MAX_ROWS rows walks a
                     # W^T of at least this many bytes along its rows in the
                     # forward pass (_forward_rowwise; 0: never); a schedule too
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
    uint32_t drop_threshold  # dropout of this layer's input: a unit is dropped when
                     # its 16-bit uniform is below this (round(p 65536)); 0: none
    double drop_scale        # 1 / (1 - p): the kept units' factor (inverted dropout)
    void *GT         # (n_in, ld_m): sigma'(z) of the input units times their
                     # dropout factor, which delta propagation through this
                     # layer multiplies by (written by the dropout phase)
    void *S1         # the optimizer's state for W, W's size in tile order (or NULL)
    void *S2
    void *Sb1        # ... and for b, shaped like b
    void *Sb2
    # The first layer's lists of the steps worth taking when its input is
    # mostly zeros (else NULL; cnet/_workspace.py decides): for row block rb
    # of the batch, NZF[rb * (n_in + 1)] = the count c, then the c features
    # where some of its CNET_MR examples is not 0 (written by the gather; the
    # forward tiles take only those steps); for feature block ib, NZU[ib *
    # (m_cap + 1)] = c, then the c examples with some of its CNET_MR features
    # not 0 (written in the forward phase; the update tiles take only those).
    int *NZF
    int *NZU


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
    uint64_t drop_key      # the epoch's key of the dropout masks (cnet_dropout.h)
    const void *sw         # per-example weights (float64) in batch order (like
                           # labels), or NULL
    double wsum            # their sum over this mini-batch: the mean's denominator
    cnet_step step         # the optimizer's step (kind CNET_OPT_PLAIN: Nielsen's
                           # decay-and-scale update, decay and scale passed apart)
    long t0                # the optimizer's steps before this call (Adam's t)
    bint listed            # the first layer's NZU lists of this batch are
                           # written already (by a stack's shared gather)


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
    """sigma'(z) written in terms of a = sigma(z) (cnet_act.h)."""
    if floating is float:
        return cnet_dact1_f32(a, act)
    else:
        return cnet_dact1_f64(a, act)


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
                               Py_ssize_t ldT, int nc, bint first, bint last,
                               const cnet_drop_tile *drop, const int *lst) noexcept nogil:
    # lst: the steps to take (p = lst[0 .. k)), or NULL: all, p = 0 .. k
    if floating is float:
        cnet_forward_rows_f32(k, rows, mr, b, b_ks, bias, act, out, ld, outT, ldT, nc,
                              first, last, drop, lst)
    else:
        cnet_forward_rows_f64(k, rows, mr, b, b_ks, bias, act, out, ld, outT, ldT, nc,
                              first, last, drop, lst)


cdef inline void _forward_axpy(Py_ssize_t k, const int *lst, const floating *x,
                               Py_ssize_t x_ld, int mr, const floating *w, Py_ssize_t ld,
                               Py_ssize_t ntiles, floating *z, Py_ssize_t z_ld) noexcept nogil:
    if floating is float:
        cnet_forward_axpy_f32(k, lst, x, x_ld, mr, w, ld, ntiles, z, z_ld)
    else:
        cnet_forward_axpy_f64(k, lst, x, x_ld, mr, w, ld, ntiles, z, z_ld)


cdef inline void _update_strip(Py_ssize_t k, const floating **rows, Py_ssize_t a_ks, int mr,
                               const floating *b, Py_ssize_t b_next, Py_ssize_t b_ks,
                               Py_ssize_t ntiles, floating *w, Py_ssize_t ld, floating decay,
                               floating scale, floating *wp, Py_ssize_t wp_next,
                               const cnet_step *st, floating *s1, floating *s2,
                               Py_ssize_t sld, const int *lst) noexcept nogil:
    if floating is float:
        cnet_update_strip_f32(k, rows, a_ks, mr, b, b_next, b_ks, ntiles, w, ld, decay, scale,
                              wp, wp_next, st, s1, s2, sld, lst)
    else:
        cnet_update_strip_f64(k, rows, a_ks, mr, b, b_next, b_ks, ntiles, w, ld, decay, scale,
                              wp, wp_next, st, s1, s2, sld, lst)


cdef inline void _opt(const cnet_step *st, int weight, int n, const floating *x, floating *w,
                      floating *s1, floating *s2, floating *wp) noexcept nogil:
    if floating is float:
        cnet_opt_f32(st, weight, n, x, w, s1, s2, wp)
    else:
        cnet_opt_f64(st, weight, n, x, w, s1, s2, wp)


cdef inline floating *_at(void *base, Py_ssize_t offset, floating *dummy) noexcept nogil:
    """base + offset elements, or NULL if base is (an optimizer's unused state)."""
    if base == NULL:
        return NULL
    return <floating *> base + offset


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
