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
 * (-mavx2 gives 32-byte vectors, the baseline 16), so one source serves the
 * run-time-selected kernel variants.  NR is always two vectors and divides
 * CNET_PAD, the row padding of every buffer read as B.
 */
#ifndef CNET_TILE_H
#define CNET_TILE_H

#include <stddef.h>

#define CNET_MR 6      /* rows of the tile (broadcast operand)            */
#define CNET_PAD 16    /* rows read as B are padded to a multiple of this */

#if defined(__GNUC__) || defined(__clang__)
#  if defined(__AVX__)
#    define CNET_VBYTES 32
#    define CNET_ISA_NAME "avx2-fma"
#  else
#    define CNET_VBYTES 16
#    define CNET_ISA_NAME "baseline"
#  endif
#  define CNET_HAVE_VECTOR_EXT 1
/* may_alias + aligned(element): unaligned loads/stores through these types
 * are legal, so rows need no special alignment. */
typedef float cnet_vf __attribute__((vector_size(CNET_VBYTES), aligned(4), may_alias));
typedef double cnet_vd __attribute__((vector_size(CNET_VBYTES), aligned(8), may_alias));
#  define CNET_NR_F32 (2 * CNET_VBYTES / 4)
#  define CNET_NR_F64 (2 * CNET_VBYTES / 8)
#else
#  define CNET_HAVE_VECTOR_EXT 0
#  define CNET_ISA_NAME "scalar"
#  define CNET_NR_F32 8
#  define CNET_NR_F64 4
#endif

/* The tile's row r reads A through a clamped index so that a partial tile
 * (mr < MR rows left) re-reads its last valid row instead of running past
 * the end of the operand; the caller stores only the first mr rows. */
#define CNET_CLAMP(r, mr) ((r) < (mr) ? (r) : (mr) - 1)

#if CNET_HAVE_VECTOR_EXT

/* One definition per element type.  T: element, V: vector type, NV: elements
 * per vector.  A is reached two ways:
 *   rows: A(r, p) = rows[clamp(r)][p]          (forward pass, delta propagation)
 *   cols: A(r, p) = cols[p][off + clamp(r)]    (weight update: A = activations^T)
 * B(p, c) = b[p * b_ks + c], c < 2*NV.  tile is MR x 2*NV, row-major. */
#define CNET_DEFINE_TILE(SUF, T, V, NV)                                              \
static inline void cnet_tile_store_##SUF(T *tile, V c0, V c1, int r) {               \
    *(V *)(tile + (2 * NV) * r) = c0;                                                \
    *(V *)(tile + (2 * NV) * r + NV) = c1;                                           \
}                                                                                    \
static inline void cnet_tile_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr,   \
                                        const T *b, ptrdiff_t b_ks, T *tile) {       \
    const T *a0 = rows[CNET_CLAMP(0, mr)], *a1 = rows[CNET_CLAMP(1, mr)],           \
            *a2 = rows[CNET_CLAMP(2, mr)], *a3 = rows[CNET_CLAMP(3, mr)],           \
            *a4 = rows[CNET_CLAMP(4, mr)], *a5 = rows[CNET_CLAMP(5, mr)];           \
    V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0},             \
      c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};             \
    for (ptrdiff_t p = 0; p < k; p++) {                                              \
        const V b0 = *(const V *)b, b1 = *(const V *)(b + NV);                       \
        b += b_ks;                                                                   \
        c00 += a0[p] * b0; c01 += a0[p] * b1;                                        \
        c10 += a1[p] * b0; c11 += a1[p] * b1;                                        \
        c20 += a2[p] * b0; c21 += a2[p] * b1;                                        \
        c30 += a3[p] * b0; c31 += a3[p] * b1;                                        \
        c40 += a4[p] * b0; c41 += a4[p] * b1;                                        \
        c50 += a5[p] * b0; c51 += a5[p] * b1;                                        \
    }                                                                                \
    cnet_tile_store_##SUF(tile, c00, c01, 0); cnet_tile_store_##SUF(tile, c10, c11, 1); \
    cnet_tile_store_##SUF(tile, c20, c21, 2); cnet_tile_store_##SUF(tile, c30, c31, 3); \
    cnet_tile_store_##SUF(tile, c40, c41, 4); cnet_tile_store_##SUF(tile, c50, c51, 5); \
}                                                                                    \
static inline void cnet_tile_cols_##SUF(ptrdiff_t k, const T *const *cols,           \
                                        ptrdiff_t off, int mr,                       \
                                        const T *b, ptrdiff_t b_ks, T *tile) {       \
    const ptrdiff_t o0 = off + CNET_CLAMP(0, mr), o1 = off + CNET_CLAMP(1, mr),      \
                    o2 = off + CNET_CLAMP(2, mr), o3 = off + CNET_CLAMP(3, mr),      \
                    o4 = off + CNET_CLAMP(4, mr), o5 = off + CNET_CLAMP(5, mr);      \
    V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0},             \
      c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};             \
    for (ptrdiff_t p = 0; p < k; p++) {                                              \
        const T *a = cols[p];                                                        \
        const V b0 = *(const V *)b, b1 = *(const V *)(b + NV);                       \
        b += b_ks;                                                                   \
        c00 += a[o0] * b0; c01 += a[o0] * b1;                                        \
        c10 += a[o1] * b0; c11 += a[o1] * b1;                                        \
        c20 += a[o2] * b0; c21 += a[o2] * b1;                                        \
        c30 += a[o3] * b0; c31 += a[o3] * b1;                                        \
        c40 += a[o4] * b0; c41 += a[o4] * b1;                                        \
        c50 += a[o5] * b0; c51 += a[o5] * b1;                                        \
    }                                                                                \
    cnet_tile_store_##SUF(tile, c00, c01, 0); cnet_tile_store_##SUF(tile, c10, c11, 1); \
    cnet_tile_store_##SUF(tile, c20, c21, 2); cnet_tile_store_##SUF(tile, c30, c31, 3); \
    cnet_tile_store_##SUF(tile, c40, c41, 4); cnet_tile_store_##SUF(tile, c50, c51, 5); \
}

CNET_DEFINE_TILE(f32, float, cnet_vf, (CNET_VBYTES / 4))
CNET_DEFINE_TILE(f64, double, cnet_vd, (CNET_VBYTES / 8))

#else  /* scalar fallback: same sums, same order, no vector types */

#define CNET_DEFINE_TILE(SUF, T, NR)                                                 \
static inline void cnet_tile_rows_##SUF(ptrdiff_t k, const T *const *rows, int mr,   \
                                        const T *b, ptrdiff_t b_ks, T *tile) {       \
    for (int r = 0; r < CNET_MR; r++) {                                              \
        const T *a = rows[CNET_CLAMP(r, mr)];                                        \
        for (int c = 0; c < NR; c++) {                                               \
            T s = 0;                                                                 \
            for (ptrdiff_t p = 0; p < k; p++) s += a[p] * b[p * b_ks + c];           \
            tile[NR * r + c] = s;                                                    \
        }                                                                            \
    }                                                                                \
}                                                                                    \
static inline void cnet_tile_cols_##SUF(ptrdiff_t k, const T *const *cols,           \
                                        ptrdiff_t off, int mr,                       \
                                        const T *b, ptrdiff_t b_ks, T *tile) {       \
    for (int r = 0; r < CNET_MR; r++) {                                              \
        const ptrdiff_t o = off + CNET_CLAMP(r, mr);                                 \
        for (int c = 0; c < NR; c++) {                                               \
            T s = 0;                                                                 \
            for (ptrdiff_t p = 0; p < k; p++) s += cols[p][o] * b[p * b_ks + c];     \
            tile[NR * r + c] = s;                                                    \
        }                                                                            \
    }                                                                                \
}

CNET_DEFINE_TILE(f32, float, CNET_NR_F32)
CNET_DEFINE_TILE(f64, double, CNET_NR_F64)

#endif

#endif /* CNET_TILE_H */
