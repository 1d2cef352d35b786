"""Ctrl-C while a kernel runs: when to watch for it, and what happens after.

A kernel call runs without the GIL, so Python's SIGINT handler would only
note the signal and raise KeyboardInterrupt when the call returns -- for a
long epoch, many seconds later.  While a kernel runs on the main thread,
``watching()`` puts cnet's C handler in place (cnet._interrupt): it sets a
flag that the kernels poll between mini-batches (and between chunks of
inference rows), so they return early.  The caller then puts its state back
in order (an interrupted epoch is rolled back to where it started) and calls
``deliver()``, which hands the signal to whatever Python handler was
installed: by default that raises KeyboardInterrupt; a handler that does not
raise lets the caller go on as if nothing happened.

Only the main thread watches (Python runs signal handlers there); kernels
called from other threads run to the end, as before.
"""
import signal
import threading
from contextlib import contextmanager

from . import _interrupt

_depth = 0  # nesting on the main thread (a callback may call predict, ...)


@contextmanager
def watching():
    """Yield the flag's address for the kernels' ``interrupt`` argument
    (0: nothing to poll -- not the main thread, or SIGINT ignored)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield 0
        return
    if _depth:
        _depth += 1
        try:
            yield _interrupt.flag_address()
        finally:
            _depth -= 1
        return
    if not _interrupt.install():
        yield 0
        return
    _depth = 1
    try:
        yield _interrupt.flag_address()
    finally:
        _depth = 0
        _interrupt.restore()


def pending():
    """True if Ctrl-C arrived while watching and has not been delivered."""
    return _interrupt.interrupted()


def deliver():
    """Hand a Ctrl-C caught while watching to Python's handler (call outside
    ``watching()``, once the state is consistent).  KeyboardInterrupt with
    the default handler; returns if the handler does."""
    if _interrupt.interrupted():
        _interrupt.clear()
        signal.raise_signal(signal.SIGINT)
