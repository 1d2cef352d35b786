# The one place cnet talks to OpenMP.  A build without OpenMP compiles these
# to serial stand-ins, so every kernel still runs (on one thread) and
# openmp_enabled() reports the truth.
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define CNET_OPENMP 1
    #else
    #define CNET_OPENMP 0
    static inline int omp_get_max_threads(void) { return 1; }
    static inline int omp_get_num_threads(void) { return 1; }
    static inline int omp_get_thread_num(void) { return 0; }
    #endif
    """
    const int CNET_OPENMP
    int omp_get_max_threads() noexcept nogil
    int omp_get_num_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
