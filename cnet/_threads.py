"""How many threads a kernel call gets."""
import numbers
import os

from ._openmp_helpers import max_threads, openmp_enabled
from ._validation import describe


def cpu_count():
    """Cores this process may run on (affinity-aware where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# A forked child inherits libgomp's thread pool as data but not its threads:
# the next parallel region waits forever for threads that do not exist.  So
# once this process has run a region on several threads, its forked children
# run every kernel on one thread (which needs no OpenMP at all: see
# _sgd_epoch in src/kernels_impl.pxi).  A child started by "spawn" or
# "forkserver" is a fresh process and uses its cores as usual.
_team_started = False
_forked_after_team = False


def _after_fork_in_child():
    global _forked_after_team
    if _team_started:
        _forked_after_team = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def resolve_n_threads(n_threads=None):
    """The threads a kernel may use.

    n_threads=None: the cores available to the process, capped by OpenMP's
    own limit (OMP_NUM_THREADS, threadpoolctl).  An explicit count must be a
    positive integer and is capped at the cores available: more threads than
    cores only wait for each other at the kernels' barriers, and past what the
    OS grants, libgomp would end the process.  One thread without OpenMP, and
    in a process forked after this one ran several threads."""
    if n_threads is None:
        n = min(cpu_count(), max_threads())
    elif isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or a positive integer; got {describe(n_threads)}")
    elif n_threads < 1:
        raise ValueError(f"n_threads must be None or a positive integer; got {n_threads}")
    else:
        n = min(int(n_threads), cpu_count())
    if not openmp_enabled() or _forked_after_team:
        return 1
    return max(1, n)


# Below this much arithmetic per thread between two barriers, a second thread
# costs more than it brings: the phases of a mini-batch of the book's job
# (784-30-10, m = 10) take microseconds, while one preemption of a thread on a
# shared core stalls every barrier for milliseconds.  Tests set it to 0 to
# exercise several threads on small networks.
MIN_FLOPS_PER_THREAD = 8e6


def threads_for_work(n_threads, flops_per_step):
    """The thread count worth using when each barrier-separated step of the
    kernel does flops_per_step of arithmetic: at most n_threads."""
    global _team_started
    useful = int(flops_per_step // MIN_FLOPS_PER_THREAD) if MIN_FLOPS_PER_THREAD > 0 else n_threads
    n = 1 if _forked_after_team else max(1, min(n_threads, useful))
    if n > 1:
        _team_started = True  # (the caller is about to start the team)
    return n


def network_flops(sizes, m):
    """Multiply-adds x 2 of forward, delta propagation and update for m samples."""
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 6.0 * m * macs


def threads_for_members(n_threads, n_members):
    """Threads for a stack's epoch (cnet/stack.py), whose threads each train
    whole networks and never wait for one another: one per network at most."""
    global _team_started
    n = 1 if _forked_after_team else max(1, min(n_threads, n_members))
    if n > 1:
        _team_started = True
    return n
