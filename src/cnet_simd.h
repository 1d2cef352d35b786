/*
 * cnet_simd.h -- the vector types the kernels compute with, and the sizes
 * that follow from them.
 *
 * The vector width follows the instruction set the file is compiled for
 * (-mavx512f gives 64-byte vectors, -mavx2 32, the baseline 16), so one
 * source serves the run-time-selected kernel variants.  Compilers without
 * GCC/Clang vector extensions (MSVC) get CNET_HAVE_VECTOR_EXT 0 and scalar
 * code with the same per-element arithmetic.
 */
#ifndef CNET_SIMD_H
#define CNET_SIMD_H

#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
#  if defined(__AVX512F__)
#    define CNET_VBYTES 64
#    define CNET_ISA_NAME "avx512"
#  elif defined(CNET_WIDE_ON_AVX2)
/* A test build: AVX-512's vector width and layouts, which GCC lowers to
 * pairs of AVX2 instructions, so that the AVX-512 variant's code paths run
 * (and are tested) on CPUs without AVX-512. */
#    define CNET_VBYTES 64
#    define CNET_ISA_NAME "avx512-layout-on-avx2"
#  elif defined(__AVX__)
#    define CNET_VBYTES 32
#    define CNET_ISA_NAME "avx2-fma"
#  elif defined(__ARM_NEON) || defined(__aarch64__)
#    define CNET_VBYTES 16       /* 16-byte vectors are NEON's q registers */
#    define CNET_ISA_NAME "neon"
#  else
#    define CNET_VBYTES 16
#    define CNET_ISA_NAME "baseline"
#  endif
#  define CNET_HAVE_VECTOR_EXT 1
/* may_alias + aligned(element): unaligned loads/stores through these types
 * are legal, so rows need no special alignment. */
typedef float cnet_vf __attribute__((vector_size(CNET_VBYTES), aligned(4), may_alias));
typedef double cnet_vd __attribute__((vector_size(CNET_VBYTES), aligned(8), may_alias));
typedef int cnet_vfi __attribute__((vector_size(CNET_VBYTES)));        /* float's lanes  */
typedef long long cnet_vdi __attribute__((vector_size(CNET_VBYTES)));  /* double's lanes */
#  define CNET_NR_F32 (2 * CNET_VBYTES / 4)
#  define CNET_NR_F64 (2 * CNET_VBYTES / 8)
#else
#  define CNET_HAVE_VECTOR_EXT 0
#  define CNET_ISA_NAME "scalar"
#  define CNET_NR_F32 8
#  define CNET_NR_F64 4
#endif
/* Rows read as B are padded to a multiple of this: of every tile width. */
#define CNET_PAD (CNET_NR_F32 > 16 ? CNET_NR_F32 : 16)
/* The forward pass sums k in blocks of this: a block of a B panel
 * (CNET_KC x NR floats, 16 KB) stays in L1. */
#define CNET_KC (CNET_NR_F32 > 16 ? 128 : 256)

#endif /* CNET_SIMD_H */
