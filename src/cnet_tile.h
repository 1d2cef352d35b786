/*
 * cnet_tile.h -- the register tile under every matrix product in cnet.
 *
 * All three products of back-propagation (forward pass, delta propagation,
 * weight update) are written in "axpy" form: a tile C[MR][NR] accumulates
 * rank-1 updates A[:, p] (MR broadcast scalars) times B[p, :] (NR contiguous
 * values), p = 0 .. k-1, in order.  Each output element is therefore the
 * plain sequential sum over p, whichever tile, thread or tile shape computes
 * it; that is what makes cnet's results bit-identical for any thread count.
 *
 * Why C and not Cython loops: GCC does not keep a 6x16 accumulator array in
 * registers when it comes from loops over a local array (measured with gcc 12:
 * the tile is spilled to the stack every step).  Named vector accumulators
 * (GCC/Clang vector extensions) compile to the textbook broadcast+FMA loop.
 * Compilers without vector extensions (MSVC) get a scalar fallback with the
 * same per-element arithmetic.
 *
 * The vector width follows the instruction set the file is compiled for
 * (-mavx512f gives 64-byte vectors, -mavx2 32, the baseline 16), so one
 * source serves the run-time-selected kernel variants.  NR is always two vectors and divides
 * CNET_PAD, the row padding of every buffer read as B.
 */
#ifndef CNET_TILE_H
#define CNET_TILE_H

#include <stddef.h>

#include <math.h>
#include <string.h>

#define CNET_MR 6      /* rows of the tile (broadcast operand)            */

/* The forward pass may walk W along its rows (cnet_forward_axpy_*, used by
 * kernels_phases.pxi's _forward_rowwise) for batches of at most this many
 * rows (and a W as large as Layer.rowwise_bytes says: cnet/_tuning.py). */
#define CNET_AXPY_MAX_ROWS 16


#include "cnet_simd.h"     /* vector types and widths, CNET_PAD, CNET_KC */

#include "cnet_act.h"     /* sigma and sigma' (scalar and vector) */
#include "cnet_update.h"  /* the weight update's epilogue */
#include "cnet_dropout.h" /* dropout's masks, fused into the forward epilogue */

/* Ask for the cache lines of [p, p + bytes) ahead of use (into L2): the
 * rows of the next mini-batch are random rows of a large X, and waiting for
 * them at first touch costs as much as the arithmetic on them. */
static inline void cnet_prefetch(const void *p, size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
    const char *c = (const char *)p;
    for (size_t off = 0; off < bytes; off += 64)
        __builtin_prefetch(c + off, 0, 2);
    /* GCC counts a prefetch as no effect at all: a function that only
     * prefetches is found "pure" and its calls deleted (so it was with the
     * next batch's rows).  An empty volatile asm is an effect it keeps. */
    __asm__ __volatile__("");
#else
    (void)p; (void)bytes;
#endif
}

static inline void cnet_prefetch_w(const void *p, size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 1, 3);
    __builtin_prefetch((const char *)p + bytes - 1, 1, 3);
#else
    (void)p; (void)bytes;
#endif
}

/* The tile's row r reads A through a clamped index so that a partial tile
 * (mr < MR rows left) re-reads its last valid row instead of running past
 * the end of the operand; the caller stores only the first mr rows. */
#define CNET_CLAMP(r, mr) ((r) < (mr) ? (r) : (mr) - 1)

/* The first nc columns of the mr rows of out, also stored transposed into outT
 * (when given): the next layer's update reads its input that way. */
#define CNET_STORE_TRANSPOSED(out, ld, outT, ldT, mr, nc)                            \
    if (outT)                                                                        \
        for (int r_ = 0; r_ < (mr); r_++)                                            \
            for (int c_ = 0; c_ < (nc); c_++)                                        \
                (outT)[c_ * (ldT) + r_] = (out)[r_ * (ld) + c_];

#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT) && defined(__AVX__)
#  include <immintrin.h>
#  define CNET_HAVE_AVX_TRANSPOSE 1
/* outT[c * ldT + r] := out[r * ld + c] for the 6 rows of a full float tile
 * and its first nc < width columns, 8 columns at a time transposed in
 * registers (the textbook 8x8: unpack, shuffle, swap 128-bit halves; rows 6
 * and 7 are zero and their lanes not stored).  The scalar loop above costs
 * 96 loads and 96 stores a tile: measured, 3% of the big job's epoch. */
static inline void cnet_store_transposed6_f32(const float *out, ptrdiff_t ld, float *outT,
                                              ptrdiff_t ldT, int width, int nc) {
    const __m256 z = _mm256_setzero_ps();
    for (int h = 0; h < width && h < nc; h += 8) {
        const __m256 r0 = _mm256_loadu_ps(out + h), r1 = _mm256_loadu_ps(out + ld + h),
                     r2 = _mm256_loadu_ps(out + 2 * ld + h), r3 = _mm256_loadu_ps(out + 3 * ld + h),
                     r4 = _mm256_loadu_ps(out + 4 * ld + h), r5 = _mm256_loadu_ps(out + 5 * ld + h);
        const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
                     t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
                     t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                     u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                     u4 = _mm256_shuffle_ps(t4, z, 0x44), u5 = _mm256_shuffle_ps(t4, z, 0xEE),
                     u6 = _mm256_shuffle_ps(t5, z, 0x44), u7 = _mm256_shuffle_ps(t5, z, 0xEE);
        __m256 col[8];
        col[0] = _mm256_permute2f128_ps(u0, u4, 0x20); col[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
        col[2] = _mm256_permute2f128_ps(u2, u6, 0x20); col[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
        col[4] = _mm256_permute2f128_ps(u0, u4, 0x31); col[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
        col[6] = _mm256_permute2f128_ps(u2, u6, 0x31); col[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
        for (int k = 0; k < 8 && h + k < nc; k++) {
            float *o = outT + (h + k) * ldT;   /* rows 0-3, then rows 4-5 */
            _mm_storeu_ps(o, _mm256_castps256_ps128(col[k]));
            _mm_storel_pi((__m64 *)(o + 4), _mm256_extractf128_ps(col[k], 1));
        }
    }
}
#  define CNET_STORE_TRANSPOSED_f32(out, ld, outT, ldT, mr, nc)                      \
    if ((outT) && (mr) == 6)                                                         \
        cnet_store_transposed6_f32(out, ld, outT, ldT, CNET_NR_F32, nc);             \
    else CNET_STORE_TRANSPOSED(out, ld, outT, ldT, mr, nc)
#else
#  define CNET_STORE_TRANSPOSED_f32 CNET_STORE_TRANSPOSED
#endif
#define CNET_STORE_TRANSPOSED_f64 CNET_STORE_TRANSPOSED

/* The update's tiles t = 0 .. ntiles-1 of one row block of W, side by side
 * along its rows (tile t's columns 2 vectors further on, its D panel b_next
 * further on, its packed panel wp_next further on, its state the tile's size
 * further on: the tile order of kernels_phases.pxi's _update_phase).  One call
 * per row block, not per tile: at small batches a tile is only a few dozen
 * cycles of arithmetic, and the call with its 16 arguments, the lookups
 * around it and the step's constants (converted here once, KSTEP) cost as
 * much again (measured: 9% of the epoch of a 784-512-512-10 net at batch
 * 10 in the loop around the calls alone). */
#define CNET_UPDATE_STRIP(SUF, T, TILE_CALL, KSTEP)                                   \
static void cnet_update_strip_##SUF(ptrdiff_t k, const T *const *rows,              \
        ptrdiff_t a_ks, int mr, const T *b, ptrdiff_t b_next, ptrdiff_t b_ks,        \
        ptrdiff_t ntiles, T *w, ptrdiff_t ld, T decay, T scale, T *wp,               \
        ptrdiff_t wp_next, const cnet_step *st, T *s1, T *s2, ptrdiff_t sld,          \
        const int *list) {                                                           \
    KSTEP                                                                            \
    for (ptrdiff_t t = 0; t < ntiles; t++)                                           \
        TILE_CALL;                                                                   \
}

#if CNET_HAVE_VECTOR_EXT

/* One definition per element type.  T: element, V: vector type, VI: its
 * integer twin, NV: elements per vector.  A(r, p) = rows[clamp(r)][p], rows
 * contiguous in p (activations for the forward pass, rows of W^T for delta
 * propagation, transposed activations for the update);
 * B(p, c) = b[p * b_ks + c], c < 2*NV. */
#define CNET_ACC_DECLARE(V)                                                          \
    V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0},             \
      c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};

/* One step p: load B(p, :) (two vectors), move b on, add the products with
 * rows 0-3 (FMA4) and, for a full tile, rows 4-5 too. */
#define CNET_ACC_LOAD_B(V, NV)                                                       \
    const V b0 = *(const V *)b, b1 = *(const V *)(b + NV);                           \
    b += b_ks;
#define CNET_ACC_FMA4(x0, x1, x2, x3)                                                \
    c00 += (x0) * b0; c01 += (x0) * b1; c10 += (x1) * b0; c11 += (x1) * b1;         \
    c20 += (x2) * b0; c21 += (x2) * b1; c30 += (x3) * b0; c31 += (x3) * b1;
#define CNET_ACC_STEP(V, NV, x0, x1, x2, x3, x4, x5)                                 \
    {   CNET_ACC_LOAD_B(V, NV)                                                       \
        CNET_ACC_FMA4(x0, x1, x2, x3)                                                \
        c40 += (x4) * b0; c41 += (x4) * b1; c50 += (x5) * b0; c51 += (x5) * b1; }
/* A partial tile of at most 4 rows (the rest of a batch of 10 after a tile
 * of 6, say) steps 4 rows: the rows past mr would only repeat work. */
#define CNET_ACC_STEP4(V, NV, x0, x1, x2, x3)                                        \
    {   CNET_ACC_LOAD_B(V, NV)                                                       \
        CNET_ACC_FMA4(x0, x1, x2, x3) }

/* Continue sums stored earlier in rows init[clamp(r) * ld] (a previous block
 * of k): the same sequential sum, so blocking k changes no bit. */
#define CNET_ACC_LOAD(V, NV, init, ld)                                               \
    if (init) {                                                                      \
        c00 = *(const V *)((init) + CNET_CLAMP(0, mr) * (ld));                       \
        c01 = *(const V *)((init) + CNET_CLAMP(0, mr) * (ld) + NV);                  \
        c10 = *(const V *)((init) + CNET_CLAMP(1, mr) * (ld));                       \
        c11 = *(const V *)((init) + CNET_CLAMP(1, mr) * (ld) + NV);                  \
        c20 = *(const V *)((init) + CNET_CLAMP(2, mr) * (ld));                       \
        c21 = *(const V *)((init) + CNET_CLAMP(2, mr) * (ld) + NV);                  \
        c30 = *(const V *)((init) + CNET_CLAMP(3, mr) * (ld));                       \
        c31 = *(const V *)((init) + CNET_CLAMP(3, mr) * (ld) + NV);                  \
        c40 = *(const V *)((init) + CNET_CLAMP(4, mr) * (ld));                       \
        c41 = *(const V *)((init) + CNET_CLAMP(4, mr) * (ld) + NV);                  \
        c50 = *(const V *)((init) + CNET_CLAMP(5, mr) * (ld));                       \
        c51 = *(const V *)((init) + CNET_CLAMP(5, mr) * (ld) + NV);                  \
    }

/* A(r, p) = rows[clamp(r)][p * a_ks]: a_ks = 1 for rows contiguous in p; the
 * first layer's update reads the gathered batch (samples p, features r) in
 * place with a_ks = n_in.  init: see CNET_ACC_LOAD (NULL: start from 0). */
#define CNET_ACC_BEGIN(T, V, NV, init, ld)                                           \
    const T *a0 = rows[CNET_CLAMP(0, mr)], *a1 = rows[CNET_CLAMP(1, mr)],           \
            *a2 = rows[CNET_CLAMP(2, mr)], *a3 = rows[CNET_CLAMP(3, mr)],           \
            *a4 = rows[CNET_CLAMP(4, mr)], *a5 = rows[CNET_CLAMP(5, mr)];           \
    CNET_ACC_DECLARE(V)                                                              \
    CNET_ACC_LOAD(V, NV, init, ld)
#define CNET_ACC_LOOP(V, NV, a_ks)                                                   \
    if (mr <= 4)                                                                     \
        for (ptrdiff_t p = 0, q = 0; p < k; p++, q += (a_ks))                       \
            CNET_ACC_STEP4(V, NV, a0[q], a1[q], a2[q], a3[q])                        \
    else                                                                             \
        for (ptrdiff_t p = 0, q = 0; p < k; p++, q += (a_ks))                       \
            CNET_ACC_STEP(V, NV, a0[q], a1[q], a2[q], a3[q], a4[q], a5[q])
#define CNET_ACC_ROWS_FROM(T, V, NV, init, ld, a_ks)                                 \
    CNET_ACC_BEGIN(T, V, NV, init, ld)                                               \
    CNET_ACC_LOOP(V, NV, a_ks)

#define CNET_ACC_ROWS(T, V, NV) CNET_ACC_ROWS_FROM(T, V, NV, (const T *)0, 0, 1)

/* The same sums over the steps p = list[0 .. cnt) only (increasing), A(r, p)
 * and B(p, :) addressed from p: the first layer's steps where every row of
 * the tile has a zero input (kernels_phases.pxi builds the lists).  Their
 * products are +0 or -0, and adding one leaves every sum as it was (a sum
 * that starts at +0 never becomes -0, and x + 0 = x): skipping them changes
 * no bit, only the time (most of MNIST's pixels are 0). */
#define CNET_ACC_LOAD_B_AT(V, NV, bp)                                                \
    const V b0 = *(const V *)(bp), b1 = *(const V *)((bp) + NV);
#define CNET_ACC_LOOP_LIST(V, NV, a_ks, list, cnt)                                   \
    if (mr <= 4)                                                                     \
        for (int t_ = 0; t_ < (cnt); t_++) {                                         \
            const ptrdiff_t p_ = (list)[t_], q = p_ * (a_ks);                        \
            CNET_ACC_LOAD_B_AT(V, NV, b + p_ * b_ks)                                 \
            CNET_ACC_FMA4(a0[q], a1[q], a2[q], a3[q])                                \
        }                                                                            \
    else                                                                             \
        for (int t_ = 0; t_ < (cnt); t_++) {                                         \
            const ptrdiff_t p_ = (list)[t_], q = p_ * (a_ks);                        \
            CNET_ACC_LOAD_B_AT(V, NV, b + p_ * b_ks)                                 \
            CNET_ACC_FMA4(a0[q], a1[q], a2[q], a3[q])                                \
            c40 += a4[q] * b0; c41 += a4[q] * b1; c50 += a5[q] * b0; c51 += a5[q] * b1; \
        }

/* Apply F to the accumulator pairs of the first mr rows. */
#define CNET_FINISH(F)                                                               \
    F(0, c00, c01) if (mr > 1) F(1, c10, c11) if (mr > 2) F(2, c20, c21)            \
    if (mr > 3) F(3, c30, c31) if (mr > 4) F(4, c40, c41) if (mr > 5) F(5, c50, c51)

#define CNET_DEFINE_TILE(SUF, T, V, VI, NV)                                     \
/* out[r][:] := act(sum_p A(r, p) B(p, :) + bias), rows r < mr, full width:      \
 * the forward pass with bias and activation fused.  With outT, the first nc    \
 * columns are also stored transposed, outT[c * ldT + r]: the next layer's       \
 * weight update reads its input that way. */                                    \
static inline void cnet_forward_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr, \
        const T *b, ptrdiff_t b_ks, const T *bias, int act, T *out, ptrdiff_t ld,    \
        T *outT, ptrdiff_t ldT, int nc, int first, int last,                        \
        const cnet_drop_tile *drop, const int *list) {                               \
    const T *init = first ? NULL : out;                                              \
    CNET_ACC_BEGIN(T, V, NV, init, ld)                                               \
    if (list) { /* the steps list[0 .. k) only (CNET_ACC_LOOP_LIST) */               \
        CNET_ACC_LOOP_LIST(V, NV, 1, list, k)                                        \
    } else {                                                                         \
        CNET_ACC_LOOP(V, NV, 1)                                                      \
    }                                                                                \
    if (!last) {  /* a block of k: keep the partial sums in out */                   \
        CNET_FINISH(CNET_STORE_RAW_##SUF)                                            \
        return;                                                                      \
    }                                                                                \
    const V bias0 = *(const V *)bias, bias1 = *(const V *)(bias + NV);              \
    CNET_FINISH(CNET_STORE_ACT_##SUF)                                                \
    if (act == CNET_TANH)                                                            \
        for (int r = 0; r < mr; r++)                                                 \
            for (int c = 0; c < 2 * NV; c++)                                         \
                out[r * ld + c] = (T)tanh(out[r * ld + c]);                          \
    if (drop) {  /* dropout of these outputs (cnet_dropout.h), a row at a time */   \
        T g[CNET_MR * 2 * NV], f[2 * NV];                                            \
        for (int r = 0; r < mr; r++) {                                               \
            cnet_dropout_factors_##SUF(drop, r, 2 * NV, f);                          \
            V *o = (V *)(out + r * ld);                                              \
            const V f0 = *(const V *)f, f1 = *(const V *)(f + NV);                   \
            if (drop->gT) {                                                          \
                *(V *)(g + r * 2 * NV) = cnet_dact_##SUF(o[0], act) * f0;            \
                *(V *)(g + r * 2 * NV + NV) = cnet_dact_##SUF(o[1], act) * f1;       \
            }                                                                        \
            o[0] = o[0] * f0;                                                        \
            o[1] = o[1] * f1;                                                        \
        }                                                                            \
        if (drop->gT) {                                                              \
            CNET_STORE_TRANSPOSED_##SUF(g, 2 * NV, (T *)drop->gT, ldT, mr, nc)       \
        }                                                                            \
    }                                                                                \
    CNET_STORE_TRANSPOSED_##SUF(out, ld, outT, ldT, mr, nc)                          \
}                                                                                    \
/* w[r][:] := decay w[r][:] - scale sum_p A(r, p) B(p, :), rows r < mr, full        \
 * width: the SGD step, in place (padding columns stay 0: their B is 0).  With wp,  \
 * the new rows also go to wp[r][:] (the packed panel the forward pass reads), so   \
 * the panels never need packing again within a call. */                            \
CNET_ALWAYS_INLINE void cnet_update_tile_##SUF(ptrdiff_t k, const T *const *rows,   \
        ptrdiff_t a_ks, int mr, const T *b, ptrdiff_t b_ks, T *w, ptrdiff_t ld,     \
        T decay, T scale, T *wp, const cnet_step *st, const cnet_optk_##SUF kst,     \
        T *s1, T *s2, ptrdiff_t sld,                                                 \
        const int *list) {  /* sld: the state's row stride (its tile order) */      \
    /* W is large and each tile of it is touched once per mini-batch: fetch it     \
     * now so that the read-modify-write at the end does not wait for memory. */   \
    for (int r = 0; r < mr; r++) {                                                   \
        cnet_prefetch_w(w + r * ld, 2 * NV * sizeof(T));                             \
        if (s1) cnet_prefetch_w(s1 + r * sld, 2 * NV * sizeof(T));                    \
        if (s2) cnet_prefetch_w(s2 + r * sld, 2 * NV * sizeof(T));                    \
    }                                                                                \
    CNET_ACC_BEGIN(T, V, NV, (const T *)0, 0)                                        \
    if (list) { /* the steps list[0 .. k) only (CNET_ACC_LOOP_LIST) */               \
        CNET_ACC_LOOP_LIST(V, NV, a_ks, list, k)                                     \
    } else {                                                                         \
        CNET_ACC_LOOP(V, NV, a_ks)                                                   \
    }                                                                                \
    if (st) {  /* an optimizer's rule (cnet_update.h), chosen once per tile */      \
        switch (kst.kind) {                                                          \
        case CNET_OPT_MOMENTUM: CNET_FINISH(CNET_STORE_MOMENTUM_##SUF) break;        \
        case CNET_OPT_ADAM: CNET_FINISH(CNET_STORE_ADAM_##SUF) break;                \
        case CNET_OPT_RMSPROP: CNET_FINISH(CNET_STORE_RMSPROP_##SUF) break;          \
        default: CNET_FINISH(CNET_STORE_SGD_OPT_##SUF)                               \
        }                                                                            \
    } else if (decay == 1) {                                                         \
        CNET_FINISH(CNET_STORE_SGD_##SUF)                                            \
    } else {                                                                         \
        CNET_FINISH(CNET_STORE_UPD_##SUF)                                            \
    }                                                                                \
}                                                                                    \
CNET_UPDATE_STRIP(SUF, T, cnet_update_tile_##SUF(k, rows, a_ks, mr, b + t * b_next, b_ks, \
    w + t * (2 * NV), ld, decay, scale, wp ? wp + t * wp_next : NULL, st, kst,   \
    s1 ? s1 + t * mr * (2 * NV) : NULL, s2 ? s2 + t * mr * (2 * NV) : NULL, \
    sld, list), const cnet_optk_##SUF kst = cnet_optk_##SUF##_of(st ? st : &cnet_step_none);) \
/* z[s][:] += sum_{r < mr} x[s * x_ld + r] w[r][:], r in order, for the examples   \
 * s = list[0 .. k) (or 0 .. k), over ntiles tiles of 2 vectors side by side:     \
 * the forward pass of a small batch walked along W's rows (cnet_update_strip_*'s  \
 * walk), the sums z kept in the layer's A.  Each z[s][c] takes the same products \
 * in the same order as cnet_forward_rows' sum over p (i ascending, one row block \
 * of W after another), so the bits are the same; an example missing from the     \
 * list has only zero inputs in the block, whose products add nothing. */          \
static void cnet_forward_axpy_##SUF(ptrdiff_t k, const int *list, const T *x,        \
        ptrdiff_t x_ld, int mr, const T *w, ptrdiff_t ld, ptrdiff_t ntiles, T *z,    \
        ptrdiff_t z_ld) {                                                            \
    for (ptrdiff_t t = 0; t < ntiles; t++) {                                         \
        const T *wt = w + t * 2 * NV;                                                \
        T *zt = z + t * 2 * NV;                                                      \
        if (mr == CNET_MR) {                                                         \
            const V w00 = *(const V *)wt, w01 = *(const V *)(wt + NV);               \
            const V w10 = *(const V *)(wt + ld), w11 = *(const V *)(wt + ld + NV);   \
            const V w20 = *(const V *)(wt + 2 * ld), w21 = *(const V *)(wt + 2 * ld + NV); \
            const V w30 = *(const V *)(wt + 3 * ld), w31 = *(const V *)(wt + 3 * ld + NV); \
            const V w40 = *(const V *)(wt + 4 * ld), w41 = *(const V *)(wt + 4 * ld + NV); \
            const V w50 = *(const V *)(wt + 5 * ld), w51 = *(const V *)(wt + 5 * ld + NV); \
            for (ptrdiff_t q = 0; q < k; q++) {                                      \
                const ptrdiff_t s = list ? list[q] : q;                              \
                const T *xs = x + s * x_ld;                                          \
                V *o = (V *)(zt + s * z_ld);                                         \
                V o0 = o[0], o1 = o[1];                                              \
                o0 += xs[0] * w00; o1 += xs[0] * w01;                                \
                o0 += xs[1] * w10; o1 += xs[1] * w11;                                \
                o0 += xs[2] * w20; o1 += xs[2] * w21;                                \
                o0 += xs[3] * w30; o1 += xs[3] * w31;                                \
                o0 += xs[4] * w40; o1 += xs[4] * w41;                                \
                o0 += xs[5] * w50; o1 += xs[5] * w51;                                \
                o[0] = o0; o[1] = o1;                                                \
            }                                                                        \
        } else {                                                                     \
            for (ptrdiff_t q = 0; q < k; q++) {                                      \
                const ptrdiff_t s = list ? list[q] : q;                              \
                const T *xs = x + s * x_ld;                                          \
                V *o = (V *)(zt + s * z_ld);                                         \
                V o0 = o[0], o1 = o[1];                                              \
                for (int r = 0; r < mr; r++) {                                       \
                    o0 += xs[r] * *(const V *)(wt + r * ld);                         \
                    o1 += xs[r] * *(const V *)(wt + r * ld + NV);                    \
                }                                                                    \
                o[0] = o0; o[1] = o1;                                                \
            }                                                                        \
        }                                                                            \
    }                                                                                \
}                                                                                    \
/* dt[r * dt_ld + c] := (sum_p A(r, p) B(p, c)) * sigma'(a[r * a_ld + c]), rows     \
 * r < mr, full width: delta propagation with the derivative fused, sigma'       \
 * written in terms of the activation a (as _dact in kernels_impl.pxi). */        \
static inline void cnet_backprop_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr, \
        const T *b, ptrdiff_t b_ks, const T *a, ptrdiff_t a_ld, int act,            \
        T *dt, ptrdiff_t dt_ld) {                                                    \
    CNET_ACC_ROWS(T, V, NV)                                                          \
    CNET_FINISH(CNET_STORE_DACT_##SUF)                                               \
}

#define CNET_STORE_RAW_f32(r, x0, x1)                                                \
    { *(cnet_vf *)(out + (r) * ld) = (x0); *(cnet_vf *)(out + (r) * ld + CNET_VBYTES / 4) = (x1); }
#define CNET_STORE_RAW_f64(r, x0, x1)                                                \
    { *(cnet_vd *)(out + (r) * ld) = (x0); *(cnet_vd *)(out + (r) * ld + CNET_VBYTES / 8) = (x1); }
#define CNET_STORE_ACT_f32(r, x0, x1)                                                \
    { *(cnet_vf *)(out + (r) * ld) = cnet_act_f32((x0) + bias0, act);                \
      *(cnet_vf *)(out + (r) * ld + CNET_VBYTES / 4) = cnet_act_f32((x1) + bias1, act); }
#define CNET_STORE_ACT_f64(r, x0, x1)                                                \
    { *(cnet_vd *)(out + (r) * ld) = cnet_act_f64((x0) + bias0, act);                \
      *(cnet_vd *)(out + (r) * ld + CNET_VBYTES / 8) = cnet_act_f64((x1) + bias1, act); }
#define CNET_STORE_DACT_f32(r, x0, x1)                                               \
    { const float *ar = a + (r) * a_ld; float *o = dt + (r) * dt_ld;                \
      *(cnet_vf *)o = (x0) * cnet_dact_f32(*(const cnet_vf *)ar, act);              \
      *(cnet_vf *)(o + CNET_VBYTES / 4) =                                            \
          (x1) * cnet_dact_f32(*(const cnet_vf *)(ar + CNET_VBYTES / 4), act); }
#define CNET_STORE_DACT_f64(r, x0, x1)                                               \
    { const double *ar = a + (r) * a_ld; double *o = dt + (r) * dt_ld;              \
      *(cnet_vd *)o = (x0) * cnet_dact_f64(*(const cnet_vd *)ar, act);              \
      *(cnet_vd *)(o + CNET_VBYTES / 8) =                                            \
          (x1) * cnet_dact_f64(*(const cnet_vd *)(ar + CNET_VBYTES / 8), act); }

CNET_DEFINE_TILE(f32, float, cnet_vf, cnet_vfi, (CNET_VBYTES / 4))
CNET_DEFINE_TILE(f64, double, cnet_vd, cnet_vdi, (CNET_VBYTES / 8))

#else  /* scalar fallback: the same sums in the same order, no vector types */

#define CNET_DEFINE_TILE(SUF, T, NR)                                                 \
/* list: the steps p = list[0 .. k) only (see CNET_ACC_LOOP_LIST), else 0 .. k. */    \
static inline void cnet_tile_rows_##SUF(ptrdiff_t k, const T *const *rows,          \
        ptrdiff_t a_ks, int mr, const T *b, ptrdiff_t b_ks, T *tile, const int *list) { \
    for (int r = 0; r < CNET_MR; r++) {                                              \
        const T *a = rows[CNET_CLAMP(r, mr)];                                        \
        for (int c = 0; c < NR; c++) {                                               \
            T s = 0;                                                                 \
            for (ptrdiff_t t = 0; t < k; t++) {                                      \
                const ptrdiff_t p = list ? list[t] : t;                              \
                s += a[p * a_ks] * b[p * b_ks + c];                                  \
            }                                                                        \
            tile[NR * r + c] = s;                                                    \
        }                                                                            \
    }                                                                                \
}                                                                                    \
static inline void cnet_forward_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr, \
        const T *b, ptrdiff_t b_ks, const T *bias, int act, T *out, ptrdiff_t ld,    \
        T *outT, ptrdiff_t ldT, int nc, int first, int last,                        \
        const cnet_drop_tile *drop, const int *list) {                               \
    for (int r = 0; r < mr; r++) {                                                   \
        const T *a = rows[r];                                                        \
        for (int c = 0; c < NR; c++) {                                               \
            T s = first ? 0 : out[r * ld + c];                                       \
            for (ptrdiff_t t = 0; t < k; t++) {                                      \
                const ptrdiff_t p = list ? list[t] : t;                              \
                s += a[p] * b[p * b_ks + c];                                         \
            }                                                                        \
            out[r * ld + c] = last ? cnet_act_##SUF(s + bias[c], act) : s;           \
        }                                                                            \
    }                                                                                \
    if (!last) return;                                                               \
    if (drop) {                                                                      \
        T g[CNET_MR * NR];                                                           \
        cnet_drop_tile_##SUF(drop, act, out, ld, mr, NR, drop->gT ? g : NULL);       \
        if (drop->gT) {                                                              \
            CNET_STORE_TRANSPOSED(g, NR, (T *)drop->gT, ldT, mr, nc)                 \
        }                                                                            \
    }                                                                                \
    CNET_STORE_TRANSPOSED(out, ld, outT, ldT, mr, nc)                                \
}                                                                                    \
static inline void cnet_update_tile_##SUF(ptrdiff_t k, const T *const *rows,        \
        ptrdiff_t a_ks, int mr, const T *b, ptrdiff_t b_ks, T *w, ptrdiff_t ld,     \
        T decay, T scale, T *wp, const cnet_step *st, T *s1, T *s2, ptrdiff_t sld,    \
        const int *list) {                                                           \
    T tile[CNET_MR * NR];                                                            \
    cnet_tile_rows_##SUF(k, rows, a_ks, mr, b, b_ks, tile, list);                    \
    if (st) {                                                                        \
        for (int r = 0; r < mr; r++)                                                 \
            cnet_opt_##SUF(st, 1, NR, tile + NR * r, w + r * ld, s1 ? s1 + r * sld : NULL, \
                           s2 ? s2 + r * sld : NULL, wp ? wp + r * NR : NULL);        \
        return;                                                                      \
    }                                                                                \
    for (int r = 0; r < mr; r++)                                                     \
        for (int c = 0; c < NR; c++)                                                 \
        {   w[r * ld + c] = decay * w[r * ld + c] - scale * tile[NR * r + c];        \
            if (wp) wp[r * NR + c] = w[r * ld + c];  }                               \
}                                                                                    \
CNET_UPDATE_STRIP(SUF, T, cnet_update_tile_##SUF(k, rows, a_ks, mr, b + t * b_next, b_ks, \
    w + t * NR, ld, decay, scale, wp ? wp + t * wp_next : NULL, st,                  \
    s1 ? s1 + t * mr * NR : NULL, s2 ? s2 + t * mr * NR : NULL, sld, list), )        \
static void cnet_forward_axpy_##SUF(ptrdiff_t k, const int *list, const T *x,        \
        ptrdiff_t x_ld, int mr, const T *w, ptrdiff_t ld, ptrdiff_t ntiles, T *z,    \
        ptrdiff_t z_ld) {                                                            \
    for (ptrdiff_t t = 0; t < ntiles; t++)                                           \
        for (ptrdiff_t q = 0; q < k; q++) {                                          \
            const ptrdiff_t s = list ? list[q] : q;                                  \
            for (int c = 0; c < NR; c++) {                                           \
                T acc = z[s * z_ld + t * NR + c];                                    \
                for (int r = 0; r < mr; r++)                                         \
                    acc += x[s * x_ld + r] * w[r * ld + t * NR + c];                 \
                z[s * z_ld + t * NR + c] = acc;                                      \
            }                                                                        \
        }                                                                            \
}                                                                                    \
static inline void cnet_backprop_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr, \
        const T *b, ptrdiff_t b_ks, const T *a, ptrdiff_t a_ld, int act,            \
        T *dt, ptrdiff_t dt_ld) {                                                    \
    T tile[CNET_MR * NR];                                                            \
    cnet_tile_rows_##SUF(k, rows, 1, mr, b, b_ks, tile, (const int *)0);             \
    for (int r = 0; r < mr; r++)                                                     \
        for (int c = 0; c < NR; c++) {                                               \
            dt[r * dt_ld + c] = tile[NR * r + c] * cnet_dact1_##SUF(a[r * a_ld + c], act); \
        }                                                                            \
}

CNET_DEFINE_TILE(f32, float, CNET_NR_F32)
CNET_DEFINE_TILE(f64, double, CNET_NR_F64)

#endif

#endif /* CNET_TILE_H */
