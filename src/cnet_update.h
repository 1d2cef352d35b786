/*
 * cnet_update.h -- the epilogue of the weight update: what the register
 * tile of sums sum_s delta[s, j] in[s, i] becomes in W.  Included by
 * cnet_tile.h inside cnet_update_rows_*, which defines w, ld, wp, decay and
 * scale for these macros.
 *
 * Plain SGD (Nielsen's, with L2 as the decay factor):
 *     w := decay w - scale x,   scale = eta / m,  decay = 1 - eta lmbda / n
 */
#ifndef CNET_UPDATE_H
#define CNET_UPDATE_H

#include "cnet_simd.h"

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

#endif /* CNET_UPDATE_H */
