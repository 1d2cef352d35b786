# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""cnet's compiled kernels, built for x86-64 with AVX-512 (F and DQ): 64-byte
vectors, a 6x32 float32 tile; cnet/_dispatch.py picks it at import when the
CPU and OS have them.

The code is kernels_impl.pxi; see its header for the layout."""

include "kernels_impl.pxi"
