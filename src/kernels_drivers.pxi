# Part of kernels_impl.pxi.
# ---------------------------------------------------------------------------
# drivers: the loops over mini-batches and layers, run by every thread

cdef void _forward_batch(const Layer *layers, int n_layers, const Batch *bt,
                         bint training, int tid, int nt, floating *dummy) noexcept nogil:
    """Forward through all layers; for training, each layer also stores its
    activations transposed for the update of the layer above."""
    cdef int l
    cdef floating *AT_out
    cdef const Layer *above
    _gather_phase(&layers[0], bt, training, tid, nt, dummy)
    cnet_sync_wait(bt.sync)
    for l in range(n_layers):
        AT_out = NULL
        above = NULL
        if training and l + 1 < n_layers:
            AT_out = <floating *> layers[l + 1].ATin
            above = &layers[l + 1]  # its input dropout, if any, is this layer's epilogue's
        if l == 0:
            _forward_phase(&layers[0], NULL, bt, AT_out, above, l + 1, tid, nt)
        else:
            _forward_phase(&layers[l], &layers[l - 1], bt, AT_out, above, l + 1, tid, nt)
        cnet_sync_wait(bt.sync)


cdef void _backward_batch(const Layer *layers, int n_layers, int cost,
                          const Batch *bt, floating decay, floating scale,
                          int tid, int nt) noexcept nogil:
    """Output delta, then per layer from the top: propagate the delta down
    (reads W), barrier, update W.  The update of layer l overlaps with the
    propagation below it: they touch disjoint buffers."""
    cdef int l
    _output_delta_phase(&layers[n_layers - 1], cost, bt, tid, nt, <floating *> NULL)
    cnet_sync_wait(bt.sync)
    for l in range(n_layers - 1, -1, -1):
        if l > 0:
            _backprop_phase(&layers[l], &layers[l - 1], bt, tid, nt, <floating *> NULL)
            cnet_sync_wait(bt.sync)
        _update_phase(&layers[l], &layers[l - 1] if l > 0 else NULL, bt, decay, scale,
                      tid, nt)
    cnet_sync_wait(bt.sync)


cdef inline unsigned long _team(int *tid, int *nt, cnet_sync *sync) noexcept nogil:
    """This thread's number and the team's size, told to the barrier; the
    thread's floating-point mode switched to flush-to-zero (cnet_fpu.h).
    Returns the previous mode, for cnet_fpu_leave at the thread's end."""
    tid[0] = omp_get_thread_num()
    nt[0] = omp_get_num_threads()
    cnet_sync_join(sync, nt[0])
    return cnet_fpu_enter()


cdef inline double _batch_weight(Batch *bt) noexcept nogil:
    """The mean's denominator of this mini-batch: its rows, or the sum of its
    examples' weights (in batch order: every thread computes the same)."""
    cdef Py_ssize_t s
    cdef double total = 0
    if bt.sw == NULL:
        return <double> bt.m
    for s in range(bt.m):
        total = total + (<const double *> bt.sw)[s]
    return total


cdef inline void _step_of_batch(cnet_step *st, double wsum, long t) noexcept nogil:
    """This mini-batch's values of the optimizer's step: 1 / wsum (its rows,
    or the sum of its weights), and Adam's bias corrections for its step
    count t (every thread computes the same)."""
    st.inv_m = 1.0 / wsum if wsum > 0 else 0.0
    if st.l2_batch != 0:
        st.l2 = st.l2_batch * st.inv_m
    if st.kind == CNET_OPT_ADAM:
        st.step_size = st.lr / (1 - pow(st.beta1, <double> t))
        st.bc2_sqrt = sqrt(1 - pow(st.beta2, <double> t))
        if st.eps_hat != 0:  # eps added before v's bias correction, not after
            st.eps = st.eps_hat / st.bc2_sqrt


cdef inline floating _scale(floating eta, double wsum) noexcept nogil:
    """eta / (the batch's weight), or 0 for a batch of weight 0 (no step)."""
    return <floating> (eta / wsum) if wsum > 0 else 0


cdef void _sgd_epoch_thread(const Layer *layers, int n_layers, int cost,
                            const Batch *proto, Py_ssize_t n, Py_ssize_t batch_size,
                            floating eta, floating decay) noexcept nogil:
    """One thread's part of an epoch.  Reports the examples the team used: n,
    or fewer if interrupted (it stops between mini-batches)."""
    cdef int tid, nt
    cdef long k = 0
    cdef Batch bt = proto[0]
    cdef Py_ssize_t start = 0
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    while start < n:
        bt.m = min(batch_size, n - start)
        bt.idx = proto.idx + start
        if proto.labels != NULL:
            bt.labels = proto.labels + start
        bt.loss = <floating *> proto.loss + start
        bt.pack = start == 0
        bt.next_m = max(0, min(batch_size, n - start - batch_size))
        if proto.sw != NULL:
            bt.sw = <const double *> proto.sw + start
        bt.wsum = _batch_weight(&bt)
        _step_of_batch(&bt.step, bt.wsum, bt.t0 + k + 1)
        cnet_sync_poll(bt.sync, tid, k)
        _forward_batch(layers, n_layers, &bt, True, tid, nt, <floating *> NULL)
        if cnet_sync_halted(bt.sync, k):
            break  # after a forward pass only: no weight has changed
        _backward_batch(layers, n_layers, cost, &bt, decay,
                        eta / bt.m if proto.sw == NULL else _scale(eta, bt.wsum), tid, nt)
        start = start + batch_size
        k += 1
    cnet_sync_report(bt.sync, tid, min(start, n))
    cnet_fpu_leave(fpu)


cdef Py_ssize_t _sgd_epoch(const Layer *layers, int n_layers, int cost, Batch proto,
                           Py_ssize_t n, Py_ssize_t batch_size, floating eta,
                           floating decay, int n_threads) noexcept nogil:
    """All mini-batches of one epoch in one parallel region; returns the
    examples used."""
    cdef const Batch *pb = &proto
    if n_threads == 1:
        _sgd_epoch_thread(layers, n_layers, cost, pb, n, batch_size, eta, decay)
    else:
        with parallel(num_threads=n_threads):
            _sgd_epoch_thread(layers, n_layers, cost, pb, n, batch_size, eta, decay)
    return cnet_sync_result(proto.sync)


cdef void _forward_all_thread(const Layer *layers, int n_layers, const Batch *proto,
                              Py_ssize_t n, Py_ssize_t chunk, floating *out) noexcept nogil:
    """One thread's part of _forward_all.  Reports the rows done (n unless
    interrupted between chunks)."""
    cdef int tid, nt
    cdef long k = 0
    cdef Batch bt = proto[0]
    cdef Py_ssize_t start = 0, s, s_lo, s_hi, j
    cdef const Layer *top = &layers[n_layers - 1]
    cdef const floating *a
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    while start < n:
        bt.m = min(chunk, n - start)
        bt.idx = proto.idx + start
        bt.pack = start == 0
        cnet_sync_poll(bt.sync, tid, k)
        _forward_batch(layers, n_layers, &bt, False, tid, nt, out)
        if cnet_sync_halted(bt.sync, k):
            break
        _my_range(bt.m, tid, nt, &s_lo, &s_hi)
        for s in range(s_lo, s_hi):
            a = <const floating *> top.A + s * top.ld
            for j in range(top.n_out):
                out[(start + s) * top.n_out + j] = a[j]
        cnet_sync_wait(bt.sync)
        start = start + chunk
        k += 1
    cnet_sync_report(bt.sync, tid, min(start, n))
    cnet_fpu_leave(fpu)


cdef Py_ssize_t _forward_all(const Layer *layers, int n_layers, Batch proto,
                             Py_ssize_t n, Py_ssize_t chunk, floating *out,
                             int n_threads) noexcept nogil:
    """out[k, :] := network output for row idx[k], chunk rows at a time;
    returns the rows done."""
    cdef const Batch *pb = &proto
    if n_threads == 1:
        _forward_all_thread(layers, n_layers, pb, n, chunk, out)
    else:
        with parallel(num_threads=n_threads):
            _forward_all_thread(layers, n_layers, pb, n, chunk, out)
    return cnet_sync_result(proto.sync)
