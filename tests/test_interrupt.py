"""Ctrl-C during a compiled epoch or a long inference: the kernel stops at its
next mini-batch or chunk (it does not run its call to the end), and the network
and its history are left as the completed epochs made them.

How soon is checked by the work the kernel call left undone, not by a clock: a
test host under load can delay any thread by a second."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import cnet
from cnet import _threads, network, training

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="POSIX signals")


class sigint_after(list):
    """Send this process SIGINT from another thread after `seconds`; the list
    receives the time it was sent.  wait() before putting a signal handler
    back: a signal still on its way would land in some later test."""

    def __init__(self, seconds):
        super().__init__()

        def fire():
            time.sleep(seconds)
            self.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)

        self._thread = threading.Thread(target=fire, daemon=True)
        self._thread.start()

    def wait(self):
        self._thread.join()
        time.sleep(0.05)  # the handler runs on the main thread, soon after


@pytest.fixture
def all_threads(monkeypatch):
    monkeypatch.setattr(_threads, "MIN_FLOPS_PER_THREAD", 0)


class calls_logged:
    """Stand-in for a module's ``kernels``: logs (rows asked, rows done) for
    each call of the kernel entry `name`."""

    def __init__(self, kernels, name, asked):
        self.log = []
        self._kernels, self._name, self._asked = kernels, name, asked

    def __getattr__(self, attr):
        real = getattr(self._kernels, attr)
        if attr != self._name:
            return real

        def logged(*args, **kw):
            done = real(*args, **kw)
            self.log.append((self._asked(args), done))
            return done
        return logged


def _fit_interrupted(model, module, entry, n_threads, monkeypatch):
    """model.fit on 20k random rows in mini-batches of 10 with a SIGINT 0.3 s
    in: it raises KeyboardInterrupt, and the one call of module.kernels'
    ``entry`` (rows asked, rows done) stopped between mini-batches before
    its end."""
    rng = np.random.default_rng(0)
    X = rng.random((20_000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 20_000)
    calls = calls_logged(module.kernels, entry, lambda args: len(args[3]))
    monkeypatch.setattr(module, "kernels", calls)
    sent = sigint_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=2, batch_size=10, eta=0.01, n_threads=n_threads)
    assert sent, "KeyboardInterrupt before the signal was sent"
    [(rows, done)] = calls.log
    assert rows == 20_000 and 0 <= done < rows - 10 and done % 10 == 0, calls.log


@pytest.mark.parametrize("n_threads", [1, 2])
def test_ctrl_c_stops_a_long_epoch_within_it(n_threads, all_threads, monkeypatch):
    # 784-2048-2048-10 on 20k rows in mini-batches of 10: an epoch is 2000
    # steps and takes seconds (tens of GFLOP), so a SIGINT sent 0.3 s in
    # finds the kernel inside its first epoch on any host.
    net = cnet.Network([784, 2048, 2048, 10], dtype="float32", init="he", seed=1)
    before = [w.copy() for w in net.weights]
    state = net._rng.bit_generator.state
    _fit_interrupted(net, training, "sgd_epoch", n_threads, monkeypatch)
    # Rolled back to the start of the interrupted (first) epoch.
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))
    assert net._rng.bit_generator.state == state
    assert net.history is not None and net.history["epoch"] == []


def test_interrupted_forward_stops_within_the_call(all_threads, monkeypatch):
    # 40k rows through 784-2048-2048-10: ~460 GFLOP, seconds on any host, in
    # chunks of 256 rows; the signal comes 0.2 s in.
    rng = np.random.default_rng(0)
    X = rng.random((40_000, 784), dtype=np.float32)
    net = cnet.Network([784, 2048, 2048, 10], dtype="float32", seed=1)
    calls = calls_logged(network.kernels, "forward", lambda args: len(args[1]))
    monkeypatch.setattr(network, "kernels", calls)
    sent = sigint_after(0.2)
    with pytest.raises(KeyboardInterrupt):
        net.forward(X, n_threads=2)
    assert sent, "KeyboardInterrupt before the signal was sent"
    [(rows, done)] = calls.log
    assert rows == 40_000 and 0 <= done < rows - network._FORWARD_CHUNK, calls.log
    assert done % network._FORWARD_CHUNK == 0  # it stops between chunks


def _trained(epochs, **kw):
    rng = np.random.default_rng(3)
    X = rng.random((20_000, 784))
    y = rng.integers(0, 10, 20_000)
    net = cnet.Network([784, 128, 10], seed=5)
    return net, X, y


def test_history_and_weights_truthful_after_an_interrupt_in_epoch_2():
    net, X, y = _trained(0)
    ref, _, _ = _trained(0)
    ref.fit(X, y, epochs=1, batch_size=10, eta=0.1)

    def interrupt_soon(net, epoch, row):
        if epoch == 1:
            sigint_after(0.02)

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=3, batch_size=10, eta=0.1, callbacks=[interrupt_soon])
    assert net.history["epoch"] == [1]
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, ref.weights))
    assert net._rng.bit_generator.state == ref._rng.bit_generator.state
    # Going on gives what an uninterrupted run gives.
    net.fit(X, y, epochs=1, batch_size=10, eta=0.1)
    ref.fit(X, y, epochs=1, batch_size=10, eta=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, ref.weights))


def test_a_handler_that_does_not_raise_lets_training_go_on():
    net, X, y = _trained(0)
    ref, _, _ = _trained(0)
    ref.fit(X, y, epochs=2, batch_size=10, eta=0.1)
    seen = []
    old = signal.signal(signal.SIGINT, lambda sig, frame: seen.append(sig))
    try:
        signal_sent = sigint_after(0.1)
        net.fit(X, y, epochs=2, batch_size=10, eta=0.1)
        signal_sent.wait()
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen == [signal.SIGINT]
    # The interrupted epoch was run again from its start: same result.
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, ref.weights))


def test_sigint_ignored_is_left_alone():
    net, X, y = _trained(0)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        signal_sent = sigint_after(0.05)
        net.fit(X[:2000], y[:2000], epochs=3, batch_size=10, eta=0.1)
        signal_sent.wait()
    finally:
        signal.signal(signal.SIGINT, old)
    assert net.history["epoch"] == [1, 2, 3]


@pytest.mark.parametrize("n_threads", [1, 2])
def test_ctrl_c_stops_a_stacks_epoch_and_rolls_every_member_back(n_threads, monkeypatch):
    # 4 networks 784-1024-10 on 20k rows in mini-batches of 10: seconds per
    # epoch on any host; the signal comes 0.3 s in.
    from cnet import stack as stack_module
    stack = cnet.NetworkStack([784, 1024, 10], [1, 2, 3, 4], dtype="float32", init="he")
    before = [[w.copy() for w in net.weights] for net in stack]
    state = stack[0]._rng.bit_generator.state
    _fit_interrupted(stack, stack_module, "sgd_epoch_stack", n_threads, monkeypatch)
    for net, ws in zip(stack, before):
        assert all(np.array_equal(a, b) for a, b in zip(net.weights, ws))
    assert stack[0]._rng.bit_generator.state == state
    assert all(h["epoch"] == [] for h in stack.histories)
