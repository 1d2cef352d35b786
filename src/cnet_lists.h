/*
 * cnet_lists.h -- which inputs are not 0, as bit masks: the raw material of
 * the first layer's lists of nonzero inputs (Layer.NZF, NZU in
 * kernels_layout.pxi).
 *
 * Built value by value with a test and a branch each, the lists cost more
 * than the steps they save: whether an MNIST pixel is 0 is a coin toss to
 * the branch predictor (measured on Zen 3: 18 us of the book's 10-example
 * batch, as long as its forward and update tiles together).  A vector
 * compare and movemask make 8 of those tests one instruction, and the set
 * bits are then read off with a count of trailing zeros.
 *
 * x != 0 is C's comparison: NaN is "not 0", -0.0 is 0 (the lists hold the
 * same values as a plain loop would).
 */
#ifndef CNET_LISTS_H
#define CNET_LISTS_H

#include <stddef.h>
#include <stdint.h>
/* CNET_LISTS_PORTABLE: the plain C path that builds for other CPUs (ARM)
 * take; the x86 test build "wide" takes it too, so that CI runs it. */
#if defined(CNET_LISTS_PORTABLE)
#elif defined(__AVX__)
#  define CNET_LISTS_AVX 1
#  include <immintrin.h>
#elif defined(__SSE2__) || defined(_M_X64)
#  define CNET_LISTS_SSE2 1
#  include <emmintrin.h>
#endif
#if defined(_MSC_VER) && !defined(__clang__)
#  include <intrin.h>
#endif

/* Inputs are read in chunks of this many, with their masks on the stack: a
 * multiple of 64 (whole words) and of the tile's 6 rows (a block of 6
 * features never spans two chunks). */
#define CNET_LIST_CHUNK 1536
#define CNET_LIST_WORDS (CNET_LIST_CHUNK / 64)
/* The examples whose masks are made at a time for the lists by feature
 * block (Layer.NZU): 32 x 25 words, 6.4 KB of stack. */
#define CNET_LIST_GROUP 32

/* The position of the lowest set bit of w (w != 0). */
static inline int cnet_ctz64(uint64_t w) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(w);
#elif defined(_MSC_VER) && defined(_M_X64)
    unsigned long i;
    _BitScanForward64(&i, w);
    return (int)i;
#else
    int i = 0;
    while (!(w & 1)) {
        w >>= 1;
        i++;
    }
    return i;
#endif
}

/* bits[i / 64] bit i % 64 := x[i] != 0, for i < n <= CNET_LIST_CHUNK; the
 * words' bits beyond n are 0.  Each word is put together in a register and
 * stored once (OR-ing into memory vector by vector chains every step on
 * the store of the one before: measured, a quarter of the lists' time). */
#if defined(CNET_LISTS_AVX)
#  define CNET_NZ_F32(x) ((uint64_t)(unsigned)_mm256_movemask_ps(                    \
        _mm256_cmp_ps(_mm256_loadu_ps(x), _mm256_setzero_ps(), _CMP_NEQ_UQ)))
#  define CNET_NZ_F32_LANES 8
#  define CNET_NZ_F64(x) ((uint64_t)(unsigned)_mm256_movemask_pd(                    \
        _mm256_cmp_pd(_mm256_loadu_pd(x), _mm256_setzero_pd(), _CMP_NEQ_UQ)))
#  define CNET_NZ_F64_LANES 4
#elif defined(CNET_LISTS_SSE2)
#  define CNET_NZ_F32(x) ((uint64_t)(unsigned)_mm_movemask_ps(                       \
        _mm_cmpneq_ps(_mm_loadu_ps(x), _mm_setzero_ps())))
#  define CNET_NZ_F32_LANES 4
#  define CNET_NZ_F64(x) ((uint64_t)(unsigned)_mm_movemask_pd(                       \
        _mm_cmpneq_pd(_mm_loadu_pd(x), _mm_setzero_pd())))
#  define CNET_NZ_F64_LANES 2
#else  /* one value at a time, without a branch */
#  define CNET_NZ_F32(x) ((uint64_t)(*(x) != 0))
#  define CNET_NZ_F32_LANES 1
#  define CNET_NZ_F64(x) ((uint64_t)(*(x) != 0))
#  define CNET_NZ_F64_LANES 1
#endif

#define CNET_DEFINE_NONZERO_BITS(SUF, T, NZ, LANES)                                  \
static inline void cnet_nonzero_bits_##SUF(const T *x, ptrdiff_t n, uint64_t *bits) { \
    ptrdiff_t w, i, j;                                                               \
    for (w = 0; w < n / 64; w++) {                                                   \
        uint64_t word = 0;                                                           \
        for (j = 0; j < 64; j += LANES)                                              \
            word |= NZ(x + w * 64 + j) << j;                                         \
        bits[w] = word;                                                              \
    }                                                                                \
    if (n % 64) {                                                                    \
        uint64_t word = 0;                                                           \
        for (i = w * 64, j = 0; i + LANES <= n; i += LANES, j += LANES)              \
            word |= NZ(x + i) << j;                                                  \
        for (; i < n; i++, j++)                                                      \
            word |= (uint64_t)(x[i] != 0) << j;                                      \
        bits[w] = word;                                                              \
    }                                                                                \
}
CNET_DEFINE_NONZERO_BITS(f32, float, CNET_NZ_F32, CNET_NZ_F32_LANES)
CNET_DEFINE_NONZERO_BITS(f64, double, CNET_NZ_F64, CNET_NZ_F64_LANES)

/* The k < 64 bits of bits from bit p on, as the low bits of the result;
 * bits[p / 64 + 1] must be readable when they run past word p / 64. */
static inline uint64_t cnet_bits_at(const uint64_t *bits, ptrdiff_t p, int k) {
    const int o = (int)(p & 63);
    uint64_t v = bits[p >> 6] >> o;
    if (o > 64 - k)
        v |= bits[(p >> 6) + 1] << (64 - o);
    return v & ((((uint64_t)1) << k) - 1);
}

#endif /* CNET_LISTS_H */
