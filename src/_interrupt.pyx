# cython: language_level=3
"""Ctrl-C inside compiled kernels.

A kernel runs without the GIL, so Python's own SIGINT handler only records
the signal; the KeyboardInterrupt is raised when the kernel returns, which
for a long epoch is many seconds later.  While a kernel runs, cnet installs a
C handler (here) that sets a flag the kernels poll between mini-batches; the
kernel returns early and cnet/_interrupts.py, which owns the policy, puts the
previous handler back and hands it the signal once the network is in a
consistent state.
"""

cdef extern from *:
    """
    #include <signal.h>
    static volatile sig_atomic_t cnet_interrupted = 0;

    #if defined(_WIN32)
    /* No sigaction: Ctrl-C is left to Python (it lands when the kernel returns). */
    static int cnet_install_sigint(void) { return 0; }
    static void cnet_restore_sigint(void) {}
    #else
    static struct sigaction cnet_prev_action;

    /* Only the flag: the kernels see it and return, and cnet then hands the
     * signal to Python's handler (cnet/_interrupts.py deliver()) once the
     * network is back in a consistent state. */
    static void cnet_on_sigint(int sig, siginfo_t *info, void *ctx) {
        (void)sig; (void)info; (void)ctx;
        cnet_interrupted = 1;
    }

    /* 1 if installed; 0 if SIGINT is ignored or left to its default (there
     * is no Python handler to defer to, so nothing to do); -1 on error. */
    static int cnet_install_sigint(void) {
        struct sigaction act, prev;
        if (sigaction(SIGINT, NULL, &prev) != 0)
            return -1;
        if (!(prev.sa_flags & SA_SIGINFO)
                && (prev.sa_handler == SIG_IGN || prev.sa_handler == SIG_DFL))
            return 0;
        cnet_prev_action = prev;
        cnet_interrupted = 0;
        act.sa_sigaction = cnet_on_sigint;
        act.sa_flags = SA_SIGINFO | (prev.sa_flags & SA_RESTART);
        sigemptyset(&act.sa_mask);
        return sigaction(SIGINT, &act, NULL) == 0 ? 1 : -1;
    }

    static void cnet_restore_sigint(void) {
        sigaction(SIGINT, &cnet_prev_action, NULL);
    }
    #endif

    static Py_ssize_t cnet_interrupt_address(void) {
        return (Py_ssize_t)&cnet_interrupted;
    }
    """
    int cnet_install_sigint()
    void cnet_restore_sigint()
    Py_ssize_t cnet_interrupt_address()
    int cnet_interrupted


def install():
    """Install the C handler; True if it was (False: SIGINT ignored or default)."""
    cdef int r = cnet_install_sigint()
    if r < 0:
        raise OSError("cnet: could not install its SIGINT handler")
    return r == 1


def restore():
    """Put back the handler that install() replaced."""
    cnet_restore_sigint()


def flag_address():
    """The address of the flag, for the kernels (they poll it, read only)."""
    return cnet_interrupt_address()


def interrupted():
    return cnet_interrupted != 0


def clear():
    global cnet_interrupted
    cnet_interrupted = 0
