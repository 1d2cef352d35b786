# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""cnet's compiled kernels, built for the portable baseline of the platform (SSE2 on x86-64).

The code is kernels_impl.pxi; see its header for the layout."""

include "kernels_impl.pxi"


cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static int cnet_cpu_has_avx2_fma(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    static int cnet_cpu_has_avx512(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    }
    #else
    static int cnet_cpu_has_avx2_fma(void) { return 0; }
    static int cnet_cpu_has_avx512(void) { return 0; }
    #endif
    """
    int cnet_cpu_has_avx2_fma() noexcept nogil
    int cnet_cpu_has_avx512() noexcept nogil


def cpu_has_avx2_fma():
    """Whether this CPU (and OS) can run the AVX2+FMA kernel variant."""
    return bool(cnet_cpu_has_avx2_fma())


def cpu_has_avx512():
    """Whether this CPU (and OS: libgcc checks the saved register state) can
    run the AVX-512 kernel variant (AVX-512 F and DQ)."""
    return bool(cnet_cpu_has_avx512())
