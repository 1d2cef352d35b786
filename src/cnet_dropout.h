/*
 * cnet_dropout.h -- dropout's masks, drawn inside the kernels from a
 * counter-based generator: whether unit j of layer l is kept for example e
 * in an epoch is a hash of (the epoch's key, l, e, j), nothing else.  So the
 * masks do not depend on the thread count, on how the epoch is split into
 * mini-batches or on the order of the examples, and no generator state is
 * shared between threads.
 *
 * The hash is splitmix64's finaliser (Steele, Lea and Flood 2014), which
 * passes BigCrush as a counter-based generator.  Each hash gives four 16-bit
 * uniforms, for units 4g .. 4g + 3: unit j is dropped when its uniform is
 * below round(p 65536).  cnet/regularizers.py computes the same masks in NumPy
 * (the reference the tests hold the kernels to).
 */
#ifndef CNET_DROPOUT_H
#define CNET_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "cnet_act.h"

static inline uint64_t cnet_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The key of one example's masks in one layer (layer 0 is the input). */
static inline uint64_t cnet_dropout_row(uint64_t epoch_key, int layer, int64_t example) {
    return cnet_mix64(epoch_key ^ cnet_mix64(((uint64_t)layer << 56)
                                             ^ ((uint64_t)example * 0x9e3779b97f4a7c15ULL)));
}

/* keep[j] := 1 if unit j < n is kept, else 0, for the row key above. */
static inline void cnet_dropout_keep(uint64_t row, int64_t n, uint32_t threshold,
                                     unsigned char *keep) {
    for (int64_t g = 0; 4 * g < n; g++) {
        const uint64_t h = cnet_mix64(row + (uint64_t)g * 0xd1b54a32d192ed03ULL);
        for (int lane = 0; lane < 4 && 4 * g + lane < n; lane++)
            keep[4 * g + lane] = ((uint32_t)(h >> (16 * lane)) & 0xffffu) >= threshold;
    }
}

/* Dropout of a forward tile's outputs, fused into its epilogue: the tile's
 * rows are examples, its columns units j0 .. j0 + NR (j0 a multiple of 4, so
 * the hash groups line up with the row's).  Kept outputs are scaled by
 * 1 / (1 - p), dropped ones are 0; with g, g[r][c] := sigma'(z) times the
 * same factor, which delta propagation through the next layer multiplies by
 * (cnet_tile.h stores it transposed, beside the outputs). */
typedef struct {
    const uint64_t *rows;  /* the mask key of each row (cnet_dropout_row) */
    int64_t j0;            /* the tile's first unit */
    uint32_t threshold;    /* round(p 65536) */
    double scale;          /* 1 / (1 - p) */
    void *gT;              /* sigma' times the factor, transposed like the outputs */
} cnet_drop_tile;

/* f[c] := the factor of unit j0 + c of the tile's row r, c < n: 1 / (1 - p)
 * if kept, else 0. */
#define CNET_DEFINE_DROP_FACTORS(SUF, T)                                             \
static inline void cnet_dropout_factors_##SUF(const cnet_drop_tile *d, int r, int n,  \
                                              T *f) {                                \
    unsigned char keep[64];                                                          \
    const T scale = (T)d->scale;                                                     \
    cnet_dropout_keep(d->rows[r] + (uint64_t)(d->j0 / 4) * 0xd1b54a32d192ed03ULL, n,  \
                      d->threshold, keep);                                           \
    for (int c = 0; c < n; c++)                                                      \
        f[c] = keep[c] ? scale : (T)0;                                               \
}                                                                                    \
/* The tile's outputs times their factors, and g[r][c] := sigma'(z) times the     \
 * same (the build without vector types; cnet_tile.h has the vector one). */       \
static inline void cnet_drop_tile_##SUF(const cnet_drop_tile *d, int act, T *out,   \
                                        ptrdiff_t ld, int mr, int n, T *g) {        \
    T f[64];                                                                         \
    for (int r = 0; r < mr; r++) {                                                   \
        cnet_dropout_factors_##SUF(d, r, n, f);                                      \
        T *o = out + r * ld;                                                         \
        for (int c = 0; c < n; c++) {                                                \
            if (g)                                                                   \
                g[r * n + c] = cnet_dact1_##SUF(o[c], act) * f[c];                   \
            o[c] = o[c] * f[c];                                                      \
        }                                                                            \
    }                                                                                \
}
CNET_DEFINE_DROP_FACTORS(f32, float)
CNET_DEFINE_DROP_FACTORS(f64, double)

#endif /* CNET_DROPOUT_H */
