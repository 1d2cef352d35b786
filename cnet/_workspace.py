"""Buffers the kernels read and write, allocated by Python.

The kernels take, per layer, a tuple (W, b, act, A, D, DT, W_out, b_out):
the transposed, padded weights Wt (n_in, ld) and biases b (ld,) of the
network, activations A and deltas D (m_cap, ld) of a batch, transposed deltas
DT (n_out, ld_m), and where the update lands (W_out, b_out: the parameters
themselves for training, zeroed gradient arrays for ``gradient``).
ld = round_up(n_out, PAD) so that every register tile reads full rows.
"""
import numpy as np

from ._dispatch import kernels

PAD = kernels.PAD


def padded(n):
    """n rounded up to a multiple of the kernels' row padding."""
    return -(-n // PAD) * PAD


class Workspace:
    """Scratch for batches of up to m_cap rows through a network's layers.

    Allocated once per training / inference call, never per mini-batch."""

    def __init__(self, params, m_cap, gradients=None):
        self.m_cap = m_cap
        ld_m = padded(m_cap)
        self.spec = []
        for l, (Wt, b, act_code, n_out) in enumerate(params):
            ld = Wt.shape[1]
            A = np.zeros((m_cap, ld), dtype=Wt.dtype)
            D = np.zeros((m_cap, ld), dtype=Wt.dtype)
            DT = np.zeros((n_out, ld_m), dtype=Wt.dtype)
            W_out, b_out = (Wt, b) if gradients is None else gradients[l]
            self.spec.append((Wt, b, act_code, A, D, DT, W_out, b_out))

    def activations(self, l, m):
        """The activations of layer l for the last batch of m rows."""
        n_out = self.spec[l][5].shape[0]
        return self.spec[l][3][:m, :n_out]
