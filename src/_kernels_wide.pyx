# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""A test build of cnet's kernels: the AVX-512 variant's vector width, tile and
layouts (64-byte vectors, PAD 32), compiled for AVX2, which GCC runs as pairs
of 32-byte instructions.  Built only with CNET_BUILD_TEST_VARIANTS=1 and used
only when CNET_SIMD=wide asks for it, so that the AVX-512 variant's code paths
are covered on machines without AVX-512.

The code is kernels_impl.pxi; see its header for the layout."""

include "kernels_impl.pxi"
