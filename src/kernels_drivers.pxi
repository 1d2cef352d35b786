# Part of kernels_impl.pxi.
# ---------------------------------------------------------------------------
# drivers: the loops over mini-batches and layers, run by every thread

cdef void _forward_batch(const Layer *layers, int n_layers, const Batch *bt,
                         bint training, int tid, int nt, floating *dummy) noexcept nogil:
    """Forward through all layers; for training, each layer also stores its
    activations transposed for the update of the layer above."""
    _gather_phase(&layers[0], bt, training, tid, nt, dummy)
    cnet_sync_wait(bt.sync)
    _forward_layers(layers, n_layers, bt, training, tid, nt, dummy)


cdef void _forward_layers(const Layer *layers, int n_layers, const Batch *bt,
                          bint training, int tid, int nt, floating *dummy) noexcept nogil:
    """The forward pass through all layers of a batch already gathered."""
    cdef int l
    cdef floating *AT_out
    cdef const Layer *above
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
    cdef Batch bt
    cdef Py_ssize_t start = 0
    cdef unsigned long fpu = _team(&tid, &nt, proto.sync)
    while start < n:
        _batch_at(&bt, proto, start, n, batch_size, k, <floating *> NULL)
        cnet_sync_poll(bt.sync, tid, k)
        _forward_batch(layers, n_layers, &bt, True, tid, nt, <floating *> NULL)
        if cnet_sync_halted(bt.sync, k):
            break  # after a forward pass only: no weight has changed
        _backward_batch(layers, n_layers, cost, &bt, decay, _batch_scale(eta, &bt), tid, nt)
        start = start + batch_size
        k += 1
    cnet_sync_report(proto.sync, tid, min(start, n))
    cnet_fpu_leave(fpu)


cdef inline void _batch_at(Batch *bt, const Batch *proto, Py_ssize_t start, Py_ssize_t n,
                           Py_ssize_t batch_size, long k, floating *dummy) noexcept nogil:
    """bt := the mini-batch of proto's epoch that starts at example start,
    the call's k-th: its rows, labels, losses and weights, and the
    optimizer's step for it."""
    bt[0] = proto[0]
    bt.m = min(batch_size, n - start)
    bt.idx = proto.idx + start
    if proto.labels != NULL:
        bt.labels = proto.labels + start
    bt.loss = <floating *> proto.loss + start
    bt.pack = start == 0
    bt.next_m = max(0, min(batch_size, n - start - batch_size))
    if proto.sw != NULL:
        bt.sw = <const double *> proto.sw + start
    bt.wsum = _batch_weight(bt)
    _step_of_batch(&bt.step, bt.wsum, bt.t0 + k + 1)


cdef inline floating _batch_scale(floating eta, const Batch *bt) noexcept nogil:
    """The update's factor of the summed gradient: eta / (the batch's weight)."""
    return eta / bt.m if bt.sw == NULL else _scale(eta, bt.wsum)


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


# ---------------------------------------------------------------------------
# stacks: K networks of the same sizes, one sample order, one call per epoch
#
# The team's threads split the networks, not the tiles: a network of the
# book's size has too little work per mini-batch to split (one barrier costs
# more than its phases), while K of them share nothing but the input.  Each
# thread gathers its mini-batches once for all of its networks, chunk of them
# at a time, then runs each network through the chunk while its weights stay
# in cache.  A network's arithmetic is exactly that of _sgd_epoch_thread on
# one thread -- the same phases on the same gathered rows -- so it ends bit
# for bit as it would trained alone, whichever thread ran it.

cdef struct StackShared:
    # One thread's gathered batches: chunk of each, at these strides (in
    # elements): the rows Xin, and the first layer's ATin blocks and NZF lists
    # where it has them (else NULL).  Xin NULL: every network gathers for
    # itself (each draws its own dropout masks of the input).
    void *Xin
    Py_ssize_t xin_step
    void *ATin
    Py_ssize_t atin_step
    int *NZF
    Py_ssize_t nzf_step
    int *NZU       # ... and its NZU lists, written with the gather
    Py_ssize_t nzu_step


cdef struct StackMember:
    Layer *layers
    Batch proto    # the network's own labels, losses, optimizer step, masks' key
    double eta
    double decay


cdef void _stack_group(StackMember *members, Py_ssize_t k_lo, Py_ssize_t k_hi,
                       int n_layers, int cost, const StackShared *sh, Py_ssize_t chunk,
                       Py_ssize_t n, Py_ssize_t batch_size, const void *interrupt,
                       Py_ssize_t *done, floating *dummy) noexcept nogil:
    """One thread's networks members[k_lo:k_hi] through the epoch; *done :=
    the examples they used (n, or fewer if interrupted between chunks)."""
    cdef cnet_sync sync  # this thread's alone: a team of one, never waits
    cdef Batch bt
    cdef Layer L0
    cdef Layer *lay
    cdef Py_ssize_t start = 0, j, c, c0, kk
    cdef long k = 0
    cdef unsigned long fpu = cnet_fpu_enter()
    cnet_sync_init(&sync, interrupt)
    while start < n:
        cnet_sync_poll(&sync, 0, k)
        if cnet_sync_halted(&sync, k):
            break
        c = min(chunk, (n - start + batch_size - 1) // batch_size)
        if sh.Xin != NULL:
            for j in range(c):
                _batch_at(&bt, &members[k_lo].proto, start + j * batch_size, n, batch_size,
                          k + j, dummy)
                L0 = members[k_lo].layers[0]
                c0 = bt.next_m
                _shared_batch(&bt, &L0, sh, j, dummy)
                bt.next_m = c0  # the gather starts fetching the next batch's rows
                bt.sync = &sync
                _gather_phase(&L0, &bt, True, 0, 1, dummy)
                if L0.NZU != NULL:
                    _list_examples(&L0, &bt, 0, 1, dummy)
        for kk in range(k_lo, k_hi):
            lay = members[kk].layers
            for j in range(c):
                _batch_at(&bt, &members[kk].proto, start + j * batch_size, n, batch_size,
                          k + j, dummy)
                bt.sync = &sync
                if sh.Xin != NULL:
                    _shared_batch(&bt, &lay[0], sh, j, dummy)
                    _forward_layers(lay, n_layers, &bt, True, 0, 1, dummy)
                else:
                    _forward_batch(lay, n_layers, &bt, True, 0, 1, dummy)
                _backward_batch(lay, n_layers, cost, &bt, <floating> members[kk].decay,
                                _batch_scale(<floating> members[kk].eta, &bt), 0, 1)
        start = start + c * batch_size
        k += c
    done[0] = min(start, n)
    cnet_fpu_leave(fpu)


cdef inline void _shared_batch(Batch *bt, Layer *L0, const StackShared *sh, Py_ssize_t j,
                               floating *dummy) noexcept nogil:
    """Point bt and the first layer L0 at the j-th gathered batch of sh."""
    bt.Xin = <floating *> sh.Xin + j * sh.xin_step
    if sh.ATin != NULL:
        L0.ATin = <floating *> sh.ATin + j * sh.atin_step
    if sh.NZF != NULL:
        L0.NZF = sh.NZF + j * sh.nzf_step
    if sh.NZU != NULL:
        L0.NZU = sh.NZU + j * sh.nzu_step
        bt.listed = True
    bt.next_m = 0  # its rows are in cache: the chunk's gather fetched them


cdef void _stack_team(StackMember *members, const Py_ssize_t *groups, Py_ssize_t n_groups,
                      int n_layers, int cost, const StackShared *shared, Py_ssize_t chunk,
                      Py_ssize_t n, Py_ssize_t batch_size, const void *interrupt,
                      Py_ssize_t *done, floating *dummy) noexcept nogil:
    """One thread's part of _sgd_epoch_stack: the groups tid, tid + nt, ...
    (all of them if the runtime gave fewer threads than asked)."""
    cdef int tid = omp_get_thread_num(), nt = omp_get_num_threads()
    cdef Py_ssize_t g = tid
    while g < n_groups:
        _stack_group(members, groups[g], groups[g + 1], n_layers, cost, &shared[g], chunk,
                     n, batch_size, interrupt, &done[g], dummy)
        g = g + nt


cdef void _sgd_epoch_stack(StackMember *members, const Py_ssize_t *groups, Py_ssize_t n_groups,
                           int n_layers, int cost, const StackShared *shared, Py_ssize_t chunk,
                           Py_ssize_t n, Py_ssize_t batch_size, const void *interrupt,
                           Py_ssize_t *done, int n_threads, floating *dummy) noexcept nogil:
    """An epoch of every network of a stack; done[g] := the examples group g used."""
    cdef Py_ssize_t g
    if n_threads == 1:
        for g in range(n_groups):
            _stack_group(members, groups[g], groups[g + 1], n_layers, cost, &shared[g], chunk,
                         n, batch_size, interrupt, &done[g], dummy)
    else:
        with parallel(num_threads=n_threads):
            _stack_team(members, groups, n_groups, n_layers, cost, shared, chunk, n,
                        batch_size, interrupt, done, dummy)
