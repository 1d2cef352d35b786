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

#include <stdint.h>

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

#endif /* CNET_DROPOUT_H */
