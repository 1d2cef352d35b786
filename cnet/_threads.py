"""How many threads a kernel call gets."""
import os
import numbers

from ._openmp_helpers import max_threads, openmp_enabled


def cpu_count():
    """Cores this process may run on (affinity-aware where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_n_threads(n_threads=None):
    """n_threads=None: the cores available to the process, capped by OpenMP's
    own limit (OMP_NUM_THREADS, threadpoolctl).  An explicit count is taken as
    given.  Without OpenMP everything runs on one thread."""
    if n_threads is None:
        n = min(cpu_count(), max_threads())
    elif isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or a positive integer; got {n_threads!r}")
    elif n_threads < 1:
        raise ValueError(f"n_threads must be None or a positive integer; got {n_threads}")
    else:
        n = int(n_threads)
    return max(1, n) if openmp_enabled() else 1
