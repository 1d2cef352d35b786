/*
 * cnet_update.h -- the epilogue of the weight update: what the register
 * tile of sums sum_s delta[s, j] in[s, i] becomes in W.  Included by
 * cnet_tile.h inside cnet_update_tile_*, which defines w, ld, wp, decay,
 * scale, st, s1, s2 and sld for these macros.
 *
 * Plain SGD (Nielsen's, with L2 as the decay factor):
 *     w := decay w - scale x,   scale = eta / m,  decay = 1 - eta lmbda / n
 * and the optimizers' rules below, one function for all of them.
 */
#ifndef CNET_UPDATE_H
#define CNET_UPDATE_H

#include "cnet_simd.h"
#include "cnet_act.h"  /* CNET_SELECT */

#if CNET_HAVE_VECTOR_EXT
/* w := DECAY w - scale x for the two vectors of row r, also into wp (if given).
 * DECAY is "decay *", or empty when decay is 1 (no weight decay, the usual
 * case): a multiply less per element of W, each of which the update touches
 * once per mini-batch for only m steps of arithmetic. */
#define CNET_STORE_W(V, NR, NV, r, x0, x1, DECAY)                                    \
    { V *w0 = (V *)(w + (r) * ld), *w1 = (V *)(w + (r) * ld + NV);                  \
      const V n0 = DECAY *w0 - scale * (x0), n1 = DECAY *w1 - scale * (x1);          \
      *w0 = n0; *w1 = n1;                                                            \
      if (wp) { *(V *)(wp + (r) * NR) = n0; *(V *)(wp + (r) * NR + NV) = n1; } }
#define CNET_STORE_UPD_f32(r, x0, x1)                                                \
    CNET_STORE_W(cnet_vf, CNET_NR_F32, CNET_VBYTES / 4, r, x0, x1, decay *)
#define CNET_STORE_SGD_f32(r, x0, x1)                                                \
    CNET_STORE_W(cnet_vf, CNET_NR_F32, CNET_VBYTES / 4, r, x0, x1, )
#define CNET_STORE_UPD_f64(r, x0, x1)                                                \
    CNET_STORE_W(cnet_vd, CNET_NR_F64, CNET_VBYTES / 8, r, x0, x1, decay *)
#define CNET_STORE_SGD_f64(r, x0, x1)                                                \
    CNET_STORE_W(cnet_vd, CNET_NR_F64, CNET_VBYTES / 8, r, x0, x1, )
#endif

/* ---- optimizers ------------------------------------------------------------
 * Every other rule takes the parameter's mean gradient over the mini-batch,
 * g = x / m, plus for a weight (not a bias) the regularisers' terms
 * (l2 w + l1 sign(w)), and then its own step, with its state s1, s2 (one
 * value per parameter; a tile's rows sld apart, in the tile order of
 * kernels_phases.pxi's _update_phase).  The formulas are PyTorch's
 * (torch.optim), computed as it computes them; cnet/optimizers.py holds the
 * same rules in NumPy (the reference the tests hold these to), and sets the
 * kinds and the fields of cnet_step.  Each parameter's update reads and
 * writes only its own values, so the result does not depend on which thread
 * owns its tile. */
enum { CNET_OPT_PLAIN = 0,     /* w := decay w - scale x (above) */
       CNET_OPT_SGD = 1,       /* w -= lr g */
       CNET_OPT_MOMENTUM = 2,  /* b := mu b + g; w -= lr (nesterov ? g + mu b : b) */
       CNET_OPT_ADAM = 3,      /* Adam / AdamW (wd: decoupled decay of weights) */
       CNET_OPT_RMSPROP = 4 }; /* v := alpha v + (1 - alpha) g^2; w -= lr g / (sqrt v + eps) */

/* One mini-batch's step.  Each thread fills its own copy identically. */
typedef struct {
    int kind, nesterov;
    double lr;          /* eta of the epoch */
    double inv_m;       /* 1 / rows of this mini-batch */
    double l2, l1;      /* lambda / n and lambda_1 / n (weights only) */
    double l2_batch;    /* scikit-learn's alpha: l2 := alpha / (the batch's weight)
                         * for each mini-batch (cnet's lambda / n is per example) */
    double wd;          /* AdamW's decoupled weight decay (weights only) */
    double mu;          /* momentum (SGD, RMSprop) */
    double beta1, beta2, eps, alpha;
    double step_size;   /* Adam: lr / (1 - beta1^t), t the step count */
    double bc2_sqrt;    /* Adam: sqrt(1 - beta2^t) */
    double eps_hat;     /* Adam with Kingma and Ba's eps-hat (scikit-learn's, Keras's), else 0:
                         * eps := eps_hat / sqrt(1 - beta2^t) each step */
} cnet_step;

/* The step of plain SGD (no optimizer): its constants are not read. */
static const cnet_step cnet_step_none = {0};

/* w[c] := the rule's new value, c < n, from the sums x[c] (x / m is the
 * mean gradient); s1, s2: the state at the same offsets (unused ones may
 * be NULL); weight: 0 for biases (no regularisers, no decoupled decay);
 * wp: the packed copy of W (cnet_tile.h) also gets the new values. */
#if defined(_MSC_VER)
#  define CNET_RESTRICT __restrict
#else
#  define CNET_RESTRICT restrict
#endif

/* Every parameter is read into a local first, and every choice is made
 * outside the loops, so each loop is a plain vector loop over the row (the
 * pointers do not alias: restrict). */
#define CNET_DEFINE_OPT(SUF, T, SQRT)                                                \
static inline void cnet_opt_##SUF(const cnet_step *st, int weight, int n,            \
        const T *CNET_RESTRICT x, T *CNET_RESTRICT w, T *CNET_RESTRICT s1,           \
        T *CNET_RESTRICT s2, T *CNET_RESTRICT wp) {                                  \
    const T inv_m = (T)st->inv_m, lr = (T)st->lr;                                     \
    const T l2 = weight ? (T)st->l2 : 0, l1 = weight ? (T)st->l1 : 0;                \
    const T mu = (T)st->mu;                                                          \
    T g[CNET_NR_MAX];                                                                \
    if (l1 != 0)                                                                     \
        for (int c = 0; c < n; c++)                                                  \
            g[c] = x[c] * inv_m + l2 * w[c]                                          \
                   + l1 * (w[c] > 0 ? (T)1 : w[c] < 0 ? (T)-1 : (T)0);               \
    else if (l2 != 0)                                                                \
        for (int c = 0; c < n; c++)                                                  \
            g[c] = x[c] * inv_m + l2 * w[c];                                         \
    else                                                                             \
        for (int c = 0; c < n; c++)                                                  \
            g[c] = x[c] * inv_m;                                                     \
    switch (st->kind) {                                                              \
    case CNET_OPT_MOMENTUM:                                                          \
        if (st->nesterov)                                                            \
            for (int c = 0; c < n; c++) {                                            \
                const T b = mu * s1[c] + g[c];                                       \
                s1[c] = b;                                                           \
                w[c] = w[c] - lr * (g[c] + mu * b);                                  \
            }                                                                        \
        else                                                                         \
            for (int c = 0; c < n; c++) {                                            \
                const T b = mu * s1[c] + g[c];                                       \
                s1[c] = b;                                                           \
                w[c] = w[c] - lr * b;                                                \
            }                                                                        \
        break;                                                                       \
    case CNET_OPT_ADAM: {                                                            \
        const T keep = (T)(1 - st->lr * (weight ? st->wd : 0));                      \
        const T a1 = (T)(1 - st->beta1), b2 = (T)st->beta2, a2 = (T)(1 - st->beta2); \
        const T step = (T)st->step_size, bc2 = (T)st->bc2_sqrt, eps = (T)st->eps;    \
        if (keep != 1)  /* AdamW's decoupled decay */                                \
            for (int c = 0; c < n; c++)                                              \
                w[c] = w[c] * keep;                                                  \
        for (int c = 0; c < n; c++) {                                                \
            const T m = s1[c] + a1 * (g[c] - s1[c]);     /* lerp(m, g, 1 - beta1) */ \
            const T v = s2[c] * b2 + a2 * g[c] * g[c];                               \
            s1[c] = m;                                                               \
            s2[c] = v;                                                               \
            w[c] = w[c] - step * (m / (SQRT(v) / bc2 + eps));                        \
        }                                                                            \
        break;                                                                       \
    }                                                                                \
    case CNET_OPT_RMSPROP: {                                                         \
        const T alpha = (T)st->alpha, a2 = (T)(1 - st->alpha), eps = (T)st->eps;     \
        for (int c = 0; c < n; c++) {                                                \
            const T v = s2[c] * alpha + a2 * g[c] * g[c];                            \
            s2[c] = v;                                                               \
            g[c] = g[c] / (SQRT(v) + eps);                                           \
        }                                                                            \
        if (mu != 0)                                                                 \
            for (int c = 0; c < n; c++) {                                            \
                const T b = mu * s1[c] + g[c];                                       \
                s1[c] = b;                                                           \
                w[c] = w[c] - lr * b;                                                \
            }                                                                        \
        else                                                                         \
            for (int c = 0; c < n; c++)                                              \
                w[c] = w[c] - lr * g[c];                                             \
        break;                                                                       \
    }                                                                                \
    default:  /* CNET_OPT_SGD */                                                     \
        for (int c = 0; c < n; c++)                                                  \
            w[c] = w[c] - lr * g[c];                                                 \
    }                                                                                \
    if (wp)                                                                          \
        for (int c = 0; c < n; c++)                                                  \
            wp[c] = w[c];                                                            \
}
#define CNET_NR_MAX (CNET_NR_F32 > CNET_NR_F64 ? CNET_NR_F32 : CNET_NR_F64)
CNET_DEFINE_OPT(f32, float, sqrtf)
CNET_DEFINE_OPT(f64, double, sqrt)

#if CNET_HAVE_VECTOR_EXT
/* Twelve calls a tile, each a few instructions: left to itself GCC calls them
 * (measured: momentum cost 16% of an epoch that way). */
#define CNET_ALWAYS_INLINE static inline __attribute__((always_inline))

/* The same rules on one vector of a weight row, straight from the tile's
 * accumulator x: the update's epilogue (the scalar cnet_opt_* above serves
 * the biases and the build without vector types). */
#define CNET_DEFINE_OPT_V(SUF, T, V, VI, NV, SQRT)                                   \
CNET_ALWAYS_INLINE V cnet_vsqrt_##SUF(V v) {                                         \
    V r;                                                                             \
    for (int i = 0; i < NV; i++)  /* one vector sqrt (-fno-math-errno) */            \
        r[i] = SQRT(v[i]);                                                           \
    return r;                                                                        \
}                                                                                    \
/* The step's numbers in T, converted once per strip of tiles                  \
 * (cnet_update_strip_*): read through st inside the loop, each was reloaded   \
 * and converted for every vector (Python builds with -fno-strict-aliasing,    \
 * so a store to w might have changed *st). */                                 \
typedef struct {                                                                     \
    T inv_m, l2, l1, mu, lr, keep, a1, b2, a2, step, bc2, eps, alpha, a2r;           \
    int kind, has_l1, has_l2, has_mu, nesterov;                                      \
} cnet_optk_##SUF;                                                                   \
CNET_ALWAYS_INLINE cnet_optk_##SUF cnet_optk_##SUF##_of(const cnet_step *st) {       \
    cnet_optk_##SUF k;                                                               \
    k.inv_m = (T)st->inv_m; k.l2 = (T)st->l2; k.l1 = (T)st->l1; k.mu = (T)st->mu;    \
    k.lr = (T)st->lr; k.keep = (T)(1 - st->lr * st->wd);                             \
    k.a1 = (T)(1 - st->beta1); k.b2 = (T)st->beta2; k.a2 = (T)(1 - st->beta2);       \
    k.step = (T)st->step_size; k.bc2 = (T)st->bc2_sqrt; k.eps = (T)st->eps;          \
    k.alpha = (T)st->alpha; k.a2r = (T)(1 - st->alpha);                              \
    k.has_l1 = st->l1 != 0; k.has_l2 = st->l2 != 0; k.has_mu = st->mu != 0;          \
    k.nesterov = st->nesterov; k.kind = st->kind;                                    \
    return k;                                                                        \
}                                                                                    \
CNET_ALWAYS_INLINE void cnet_opt_v_##SUF(const cnet_optk_##SUF k, int kind, V x, T *w, \
                                        T *s1, T *s2, T *wp) {                       \
    const V zero = {0}, one = zero + 1;                                              \
    const V wv = *(const V *)w;                                                      \
    V g = x * k.inv_m, nw;                                                           \
    if (k.has_l1)                                                                    \
        g = g + k.l2 * wv + k.l1 * CNET_SELECT(VI, V, wv > zero, one,                \
                CNET_SELECT(VI, V, wv < zero, -one, zero));                          \
    else if (k.has_l2)                                                               \
        g = g + k.l2 * wv;                                                           \
    switch (kind) {  /* a constant where this is inlined: no switch is left */       \
    case CNET_OPT_MOMENTUM: {                                                        \
        const V b = k.mu * *(const V *)s1 + g;                                       \
        *(V *)s1 = b;                                                                \
        if (k.nesterov)                                                              \
            nw = wv - k.lr * (g + k.mu * b);                                         \
        else                                                                         \
            nw = wv - k.lr * b;                                                      \
        break;                                                                       \
    }                                                                                \
    case CNET_OPT_ADAM: {                                                            \
        V wc = wv;                                                                   \
        if (k.keep != 1)  /* AdamW's decoupled decay */                              \
            wc = wv * k.keep;                                                        \
        const V m0 = *(const V *)s1;                                                 \
        const V m = m0 + k.a1 * (g - m0);                                            \
        const V v = *(const V *)s2 * k.b2 + k.a2 * g * g;                            \
        *(V *)s1 = m;                                                                \
        *(V *)s2 = v;                                                                \
        nw = wc - k.step * (m / (cnet_vsqrt_##SUF(v) / k.bc2 + k.eps));              \
        break;                                                                       \
    }                                                                                \
    case CNET_OPT_RMSPROP: {                                                         \
        const V v = *(const V *)s2 * k.alpha + k.a2r * g * g;                        \
        *(V *)s2 = v;                                                                \
        const V q = g / (cnet_vsqrt_##SUF(v) + k.eps);                               \
        if (k.has_mu) {                                                              \
            const V b = k.mu * *(const V *)s1 + q;                                   \
            *(V *)s1 = b;                                                            \
            nw = wv - k.lr * b;                                                      \
        } else {                                                                     \
            nw = wv - k.lr * q;                                                      \
        }                                                                            \
        break;                                                                       \
    }                                                                                \
    default:  /* CNET_OPT_SGD */                                                     \
        nw = wv - k.lr * g;                                                          \
    }                                                                                \
    *(V *)w = nw;                                                                    \
    if (wp)                                                                          \
        *(V *)wp = nw;                                                               \
}
CNET_DEFINE_OPT_V(f32, float, cnet_vf, cnet_vfi, CNET_VBYTES / 4, sqrtf)
CNET_DEFINE_OPT_V(f64, double, cnet_vd, cnet_vdi, CNET_VBYTES / 8, sqrt)

/* The optimizer's step for the two vectors of row r of the update's tile, for
 * the rule KIND (a constant: cnet_tile.h picks the rule once per tile). */
#define CNET_STORE_OPT(NR, NV, SUF, KIND, r, x0, x1)                                 \
    { cnet_opt_v_##SUF(kst, KIND, x0, w + (r) * ld, s1 ? s1 + (r) * sld : NULL,        \
                       s2 ? s2 + (r) * sld : NULL, wp ? wp + (r) * NR : NULL);        \
      cnet_opt_v_##SUF(kst, KIND, x1, w + (r) * ld + NV, s1 ? s1 + (r) * sld + NV : NULL, \
                       s2 ? s2 + (r) * sld + NV : NULL, wp ? wp + (r) * NR + NV : NULL); }
#define CNET_STORE_SGD_OPT_f32(r, x0, x1)                                            \
    CNET_STORE_OPT(CNET_NR_F32, CNET_VBYTES / 4, f32, CNET_OPT_SGD, r, x0, x1)
#define CNET_STORE_MOMENTUM_f32(r, x0, x1)                                           \
    CNET_STORE_OPT(CNET_NR_F32, CNET_VBYTES / 4, f32, CNET_OPT_MOMENTUM, r, x0, x1)
#define CNET_STORE_ADAM_f32(r, x0, x1)                                               \
    CNET_STORE_OPT(CNET_NR_F32, CNET_VBYTES / 4, f32, CNET_OPT_ADAM, r, x0, x1)
#define CNET_STORE_RMSPROP_f32(r, x0, x1)                                            \
    CNET_STORE_OPT(CNET_NR_F32, CNET_VBYTES / 4, f32, CNET_OPT_RMSPROP, r, x0, x1)
#define CNET_STORE_SGD_OPT_f64(r, x0, x1)                                            \
    CNET_STORE_OPT(CNET_NR_F64, CNET_VBYTES / 8, f64, CNET_OPT_SGD, r, x0, x1)
#define CNET_STORE_MOMENTUM_f64(r, x0, x1)                                           \
    CNET_STORE_OPT(CNET_NR_F64, CNET_VBYTES / 8, f64, CNET_OPT_MOMENTUM, r, x0, x1)
#define CNET_STORE_ADAM_f64(r, x0, x1)                                               \
    CNET_STORE_OPT(CNET_NR_F64, CNET_VBYTES / 8, f64, CNET_OPT_ADAM, r, x0, x1)
#define CNET_STORE_RMSPROP_f64(r, x0, x1)                                            \
    CNET_STORE_OPT(CNET_NR_F64, CNET_VBYTES / 8, f64, CNET_OPT_RMSPROP, r, x0, x1)
#endif

#endif /* CNET_UPDATE_H */
