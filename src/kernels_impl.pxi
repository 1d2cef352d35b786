# Compiled kernels of cnet: forward pass, output delta, delta propagation and
# the SGD weight update for a fully-connected network, and one call that runs
# a whole epoch of mini-batch SGD without the GIL.  Included by
# _kernels_baseline.pyx, _kernels_avx2.pyx and _kernels_avx512.pyx (and the
# test build _kernels_wide.pyx): one source, one compiled variant per
# instruction set (cnet/_dispatch.py picks one at import).
#
# Layout (Python allocates everything; see cnet/_workspace.py):
#
# * W is stored transposed and padded: Wt (n_in, ld) with
#   ld = round_up(n_out, CNET_PAD); the public (n_out, n_in) weight is the
#   view Wt[:, :n_out].T.  Biases b (ld,).
# * Per layer, activations A (m_cap, ld) are sample-major.  Deltas are kept
#   twice, each in the "panel" layout that its product reads as B: a panel is
#   nr consecutive columns stored contiguously, so a tile streams its B
#   operand instead of striding through memory (nr: the tile width).
#     D  (ld / nr, m_cap, nr):  delta[s, j] at D[j // nr, s, j % nr]
#     DT (ld_m / nr, n_out, nr): delta[s, j] at DT[s // nr, j, s % nr]
#   Wp (ld / nr, n_in, nr) is the same layout for W^T, for large batches
#   only (None for small ones): packed by the first forward pass of a call,
#   then kept current by the update, which writes each new tile to both.
# * Xin (m_cap, n_in): the mini-batch's rows of X, gathered by the first
#   phase of every batch; the first layer's forward pass reads these
#   instead of rows scattered over X.  For training the gather also writes
#   them in blocks of MR features (the first layer's ATin), which its
#   update reads.
# * Tiles read and write full padded widths; padding columns of W, b and D
#   stay 0, those of A hold act(0) and are never read as data.
#
# Every product goes through the register tile of cnet_tile.h, which sums each
# output element sequentially over its reduction index.  Threads split the
# *tiles* between them and own what they write, so results do not depend on
# the thread count.  One OpenMP parallel region covers a whole epoch; its
# phases are separated by barriers (cnet_sync.h).
#
# Every parallel region's body is one call of a *_thread function, and
# nothing is assigned inside the region itself: whatever a thread writes for
# itself is a local of that function, on its own stack.  (A variable of the
# enclosing function written in the region is shared unless Cython lists it
# as private; one written through a pointer never is; that race returned
# garbage rows under load.)  tests/test_parallel_regions.py checks the
# generated C for this.  With one thread, no region is entered at all: the
# body is called directly (no OpenMP runtime, so a forked child works).

#
# The source is in four parts, included in this order:
#   kernels_layout.pxi   C headers, the Layer and Batch structs, element-wise pieces
#   kernels_phases.pxi   the phases of a mini-batch (gather, forward, output
#                        delta, delta propagation, update), each run by every thread
#   kernels_drivers.pxi  the loops over mini-batches and layers: one parallel
#                        region per epoch (or inference call)
#   kernels_entry.pxi    the Python entry points: pointers collected with the
#                        GIL, then one nogil call
# and the register tile, the activation math and the update epilogues are C
# headers (cnet_tile.h, cnet_act.h, cnet_update.h).

include "kernels_layout.pxi"
include "kernels_phases.pxi"
include "kernels_drivers.pxi"
include "kernels_entry.pxi"
