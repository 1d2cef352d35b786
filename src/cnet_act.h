/*
 * cnet_act.h -- the activations sigma of the layers, and their derivatives,
 * in one place for every kernel: scalar forms (the output delta, the build
 * without vector extensions) and vector forms (the register tile's fused
 * epilogues, cnet_tile.h).  Included by cnet_tile.h after its vector types.
 *
 * sigma'(z) is written in terms of a = sigma(z), so a layer keeps only its
 * activations, not z.  cnet/activations.py maps names to the codes, and its
 * NumPy definitions are the reference the kernels are tested against.
 */
#ifndef CNET_ACT_H
#define CNET_ACT_H

#include <math.h>

#include "cnet_simd.h"

/* Activation codes; cnet/activations.py maps names to these. */
enum { CNET_IDENTITY = 0, CNET_SIGMOID = 1, CNET_TANH = 2, CNET_RELU = 3,
       CNET_LEAKY_RELU = 4, CNET_SOFTMAX = 5,
       /* Not a layer's activation: delta propagation through a layer whose
        * output was dropped reads sigma'(z) times the mask's factor, stored
        * by the dropout phase, and multiplies by that value itself. */
       CNET_FACTOR = 6 };
#define CNET_LEAKY_SLOPE 0.01

/* sigma'(z) from a = sigma(z), one value.  The literals are double, so a
 * float's 1 - a is taken in double, as the kernels' scalar code always took
 * it (Cython writes 1.0): a float's a * a is still a float product. */
#define CNET_DEFINE_DACT1(SUF, T)                                                    \
static inline T cnet_dact1_##SUF(T a, int act) {                                     \
    switch (act) {                                                                   \
    case CNET_SIGMOID: return (T)(a * (1.0 - a));                                    \
    case CNET_TANH: return (T)(1.0 - a * a);                                         \
    case CNET_RELU: return a > 0 ? (T)1 : (T)0;                                      \
    case CNET_LEAKY_RELU: return a > 0 ? (T)1 : (T)CNET_LEAKY_SLOPE;                 \
    case CNET_FACTOR: return a;                                                      \
    default: return 1;                                                               \
    }                                                                                \
}
CNET_DEFINE_DACT1(f32, float)
CNET_DEFINE_DACT1(f64, double)

#if CNET_HAVE_VECTOR_EXT

/* ---- element-wise math on vectors ---------------------------------------
 * exp by Cephes' method: x = n ln2 + r with |r| <= ln2/2, a polynomial (float)
 * or Pade form (double) for exp(r), times 2^n built in the exponent bits.
 * About 1 ulp.  x is clamped first so 2^n stays a normal number: exp of the
 * clamp bounds is far beyond what the sigmoid can tell apart from 0 or 1.
 * NaN survives the clamp (its comparisons are false) and the polynomial. */
#define CNET_SELECT(VI, V, mask, a, b) ((V)(((VI)(a) & (mask)) | ((VI)(b) & ~(mask))))

static inline cnet_vf cnet_exp_vf(cnet_vf x) {
    const cnet_vf zero = {0};
    const cnet_vf hi = zero + 88.0f, lo = zero + -87.0f, magic = zero + 12582912.0f;
    x = CNET_SELECT(cnet_vfi, cnet_vf, x > hi, hi, x);
    x = CNET_SELECT(cnet_vfi, cnet_vf, x < lo, lo, x);
    cnet_vf t = x * 1.44269504088896341f + magic;   /* round(x log2 e) + magic */
    cnet_vf n = t - magic;
    cnet_vfi ni = (cnet_vfi)t - (cnet_vfi)magic;       /* the same n, as integer */
    cnet_vf r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    cnet_vf p = zero + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    return p * (cnet_vf)((ni + 127) << 23);
}

static inline cnet_vd cnet_exp_vd(cnet_vd x) {
    const cnet_vd zero = {0};
    const cnet_vd hi = zero + 709.0, lo = zero + -708.0, magic = zero + 6755399441055744.0;
    x = CNET_SELECT(cnet_vdi, cnet_vd, x > hi, hi, x);
    x = CNET_SELECT(cnet_vdi, cnet_vd, x < lo, lo, x);
    cnet_vd t = x * 1.4426950408889634073599 + magic;
    cnet_vd n = t - magic;
    cnet_vdi ni = (cnet_vdi)t - (cnet_vdi)magic;
    cnet_vd r = x - n * 6.93145751953125e-1;
    r = r - n * 1.42860682030941723212e-6;
    cnet_vd r2 = r * r;
    cnet_vd px = ((1.26177193074810590878e-4 * r2 + 3.02994407707441961300e-2) * r2
                  + 9.99999999999999999910e-1) * r;
    cnet_vd qx = ((3.00198505138664455042e-6 * r2 + 2.52448340349684104192e-3) * r2
                  + 2.27265548208155028766e-1) * r2 + 2.00000000000000000009e0;
    cnet_vd e = 1.0 + 2.0 * px / (qx - px);
    return e * (cnet_vd)((ni + 1023) << 52);
}

/* sigma(z) on a vector; tanh is applied after, element-wise (libm). */
#define CNET_DEFINE_ACT(SUF, T, V, VI, EXP)                                          \
static inline V cnet_act_##SUF(V z, int act) {                                       \
    const V zero = {0};                                                              \
    switch (act) {                                                                   \
    case CNET_SIGMOID: return 1 / (1 + EXP(-z));                                     \
    case CNET_RELU: return CNET_SELECT(VI, V, z > zero, z, zero);                    \
    case CNET_LEAKY_RELU:                                                            \
        return CNET_SELECT(VI, V, z > zero, z, z * (T)CNET_LEAKY_SLOPE);             \
    default: return z;  /* identity; tanh is applied after, element-wise */          \
    }                                                                                \
}
CNET_DEFINE_ACT(f32, float, cnet_vf, cnet_vfi, cnet_exp_vf)
CNET_DEFINE_ACT(f64, double, cnet_vd, cnet_vdi, cnet_exp_vd)

/* sigma'(z) from a = sigma(z), lanes of a vector (activation codes above). */
#define CNET_DEFINE_DACT(SUF, T, V, VI)                                              \
static inline V cnet_dact_##SUF(V a, int act) {                                      \
    const V zero = {0}, one = zero + 1;                                              \
    switch (act) {                                                                   \
    case CNET_SIGMOID: return a * (1 - a);                                           \
    case CNET_TANH: return 1 - a * a;                                                \
    case CNET_RELU: return CNET_SELECT(VI, V, a > zero, one, zero);                  \
    case CNET_LEAKY_RELU:                                                            \
        return CNET_SELECT(VI, V, a > zero, one, zero + (T)CNET_LEAKY_SLOPE);        \
    case CNET_FACTOR: return a;                                                      \
    default: return one;                                                             \
    }                                                                                \
}
CNET_DEFINE_DACT(f32, float, cnet_vf, cnet_vfi)
CNET_DEFINE_DACT(f64, double, cnet_vd, cnet_vdi)

#else  /* scalar build: sigma(z) of one value */

#define CNET_DEFINE_ACT1(SUF, T)                                                     \
static inline T cnet_act_##SUF(T z, int act) {                                       \
    switch (act) {                                                                   \
    case CNET_SIGMOID: return (T)(1 / (1 + exp(-z)));                                \
    case CNET_TANH: return (T)tanh(z);                                               \
    case CNET_RELU: return z > 0 ? z : 0;                                            \
    case CNET_LEAKY_RELU: return z > 0 ? z : (T)CNET_LEAKY_SLOPE * z;                \
    default: return z;                                                               \
    }                                                                                \
}
CNET_DEFINE_ACT1(f32, float)
CNET_DEFINE_ACT1(f64, double)

#endif

#endif /* CNET_ACT_H */
