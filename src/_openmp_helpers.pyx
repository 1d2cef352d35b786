# cython: language_level=3
"""OpenMP facts for Python: whether it is compiled in, and its thread limit."""
include "openmp_shim.pxi"


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(CNET_OPENMP)


def max_threads():
    """omp_get_max_threads(): honours OMP_NUM_THREADS and threadpoolctl limits."""
    return omp_get_max_threads()
