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


# Below this much arithmetic per thread between two barriers, a second thread
# costs more than it brings: the phases of a mini-batch of the book's job
# (784-30-10, m = 10) take microseconds, while one preemption of a thread on a
# shared core stalls every barrier for milliseconds.  Tests set it to 0 to
# exercise several threads on small networks.
MIN_FLOPS_PER_THREAD = 8e6


def threads_for_work(n_threads, flops_per_step):
    """The thread count worth using when each barrier-separated step of the
    kernel does flops_per_step of arithmetic: at most n_threads."""
    useful = int(flops_per_step // MIN_FLOPS_PER_THREAD) if MIN_FLOPS_PER_THREAD > 0 else n_threads
    return max(1, min(n_threads, useful))


def network_flops(sizes, m):
    """Multiply-adds x 2 of forward, delta propagation and update for m samples."""
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 6.0 * m * macs
