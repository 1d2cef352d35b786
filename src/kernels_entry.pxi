# Part of kernels_impl.pxi.
# ---------------------------------------------------------------------------
# Python entry points: collect pointers with the GIL, then one nogil call

cdef Layer *_make_layers(list spec, floating *dummy) except NULL:
    """spec: one cnet._workspace.LayerBuffers per layer (W, b, act, A, D, DT,
    W_out, b_out, Wp or None, ATin, Xin or None), arrays of the network's
    dtype laid out as the header says; the first layer's Xin (m_cap, n_in)
    is the gathered batch."""
    cdef int n_layers = len(spec), l
    cdef Layer *layers = <Layer *> malloc(n_layers * sizeof(Layer))
    cdef floating[:, ::1] W, A, W_out, ATin
    cdef floating[:, :, ::1] D, DT, Wp
    cdef floating[::1] b, b_out
    if layers == NULL:
        raise MemoryError()
    try:
        for l in range(n_layers):
            buf = spec[l]
            W, b, A, D, DT = buf.W, buf.b, buf.A, buf.D, buf.DT
            W_out, b_out, ATin = buf.W_out, buf.b_out, buf.ATin
            layers[l].n_in = W.shape[0]
            layers[l].ld = W.shape[1]
            layers[l].n_out = DT.shape[1]
            layers[l].m_cap = D.shape[1]
            layers[l].act = buf.act
            layers[l].W = &W[0, 0]
            layers[l].b = &b[0]
            layers[l].Wp = NULL
            if buf.Wp is not None:
                Wp = buf.Wp
                layers[l].Wp = &Wp[0, 0, 0]
            layers[l].kc = max(<Py_ssize_t> buf.kc, 0)
            layers[l].prefetch = 1 if buf.prefetch else 0
            layers[l].rowwise_bytes = max(<Py_ssize_t> buf.rowwise_bytes, 0)
            layers[l].A = &A[0, 0]
            # A (1, 1) placeholder: the first layer reads Xin in place.
            layers[l].ATin = &ATin[0, 0] if ATin.shape[1] > 1 else NULL
            layers[l].D = &D[0, 0, 0]
            layers[l].DT = &DT[0, 0, 0]
            layers[l].W_out = &W_out[0, 0]
            layers[l].b_out = &b_out[0]
            layers[l].S1 = _state(buf.S1, buf.W, "S1", l)
            layers[l].S2 = _state(buf.S2, buf.W, "S2", l)
            layers[l].Sb1 = _state(buf.Sb1, buf.b, "Sb1", l)
            layers[l].Sb2 = _state(buf.Sb2, buf.b, "Sb2", l)
            _lists_of(&layers[l], buf, l)
            _dropout_of(&layers[l], buf, l)
    except BaseException:
        free(layers)
        raise
    return layers


cdef int _lists_of(Layer *layer, buf, int l) except -1:
    """The first layer's lists of nonzero inputs (Layer.NZF, NZU): int32
    arrays (ceil(m_cap / MR), n_in + 1) and (ceil(n_in / MR), m_cap + 1), or
    None (the tiles take every step)."""
    cdef int[:, ::1] nzf, nzu
    layer.NZF = layer.NZU = NULL
    if buf.NZF is not None:
        nzf = buf.NZF
        if l or nzf.shape[0] * CNET_MR < layer.m_cap or nzf.shape[1] != layer.n_in + 1:
            raise ValueError(f"NZF of layer {l} has the wrong shape or is not the first's")
        layer.NZF = &nzf[0, 0]
    if buf.NZU is not None:
        nzu = buf.NZU
        if (l or nzu.shape[0] * CNET_MR < layer.n_in or nzu.shape[1] != layer.m_cap + 1
                or buf.NZF is None):
            raise ValueError(f"NZU of layer {l} has the wrong shape or is not the first's")
        layer.NZU = &nzu[0, 0]
    return 0


cdef int _dropout_of(Layer *layer, buf, int l) except -1:
    """The layer's dropout of its input (buf.drop, a rate in [0, 1)) and, above
    the first layer, the buffer GT it needs, shaped like ATin."""
    cdef double p = buf.drop
    layer.drop_threshold = 0
    layer.drop_scale = 1
    layer.GT = NULL
    if not 0 <= p < 1:
        raise ValueError(f"the dropout rate of layer {l}'s input must be in [0, 1); got {p!r}")
    if p == 0:
        return 0
    layer.drop_threshold = <uint32_t> (p * 65536 + 0.5)
    layer.drop_scale = 1 / (1 - p)
    if l > 0:
        GT = buf.GT
        if GT is None or GT.shape != buf.ATin.shape or GT.dtype != buf.ATin.dtype \
                or not GT.flags.c_contiguous or not GT.flags.writeable:
            raise ValueError(f"layer {l} has dropout of its input but no buffer GT shaped like "
                             f"its ATin {buf.ATin.shape}")
        layer.GT = <void *> <Py_ssize_t> GT.ctypes.data
    return 0


cdef void *_state(arr, param, str name, int l) except? NULL:
    """The data of an optimizer's state array, which must be shaped like the
    parameter it belongs to (C-contiguous, its dtype), or NULL for None."""
    if arr is None:
        return NULL
    if arr.shape != param.shape or arr.dtype != param.dtype or not arr.flags.c_contiguous \
            or not arr.flags.writeable:
        raise ValueError(f"optimizer state {name} of layer {l} must be a writable C-contiguous "
                         f"{param.dtype} array of shape {param.shape}; got {arr.dtype} "
                         f"{arr.shape}")
    return <void *> <Py_ssize_t> arr.ctypes.data


cdef Batch _make_batch(const floating[:, ::1] X, targets,
                       const Py_ssize_t[::1] labels, const Py_ssize_t[::1] order,
                       list spec, void *loss, cnet_sync *sync) except *:
    cdef Batch bt
    cdef const floating[:, ::1] T
    cdef floating[:, ::1] Xin = spec[0].Xin
    bt.X = &X[0, 0]
    bt.x_ld = X.shape[1]
    bt.Xin = &Xin[0, 0]
    bt.T = NULL
    bt.t_ld = 0
    if targets is not None:
        T = targets
        bt.T = &T[0, 0]
        bt.t_ld = T.shape[1]
    bt.labels = NULL
    if targets is None and labels is not None:
        if labels.shape[0] < order.shape[0]:
            raise ValueError(f"labels has {labels.shape[0]} entries; it needs one per "
                             f"example of order ({order.shape[0]})")
        bt.labels = &labels[0]
    bt.idx = &order[0]
    bt.m = order.shape[0]
    DT_top = spec[len(spec) - 1].DT
    bt.ld_m = DT_top.shape[0] * DT_top.shape[2]
    bt.loss = loss
    bt.pack = True
    bt.next_m = 0
    bt.sync = sync
    memset(&bt.step, 0, sizeof(cnet_step))
    bt.step.kind = CNET_OPT_PLAIN
    bt.t0 = 0
    bt.listed = False
    bt.drop_key = 0
    bt.sw = NULL
    bt.wsum = 0
    return bt


def _need_targets(targets, labels):
    if targets is None and labels is None:
        raise ValueError("give targets, or labels (one per example of order)")


def sgd_epoch(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
              const Py_ssize_t[::1] order, list spec, int cost,
              Py_ssize_t batch_size, double eta, double decay,
              floating[::1] loss_out, int n_threads, Py_ssize_t interrupt=0, step=None,
              uint64_t drop_key=0, const double[::1] sample_weight=None):
    """One epoch of mini-batch SGD over X[order], in place on the weights.

    W <- decay W - (eta/m) sum delta a^T,  b <- b - (eta/m) sum delta,
    or with step (a dict: kind, the fields of cnet_step that are the
    optimizer's and t0, its step count so far), the optimizer's rule of
    cnet_update.h with the state arrays in spec (S1, S2, Sb1, Sb2).
    drop_key: the epoch's key of the dropout masks (the rates are in spec);
    sample_weight: float64 weights of the examples in epoch order, as
    labels: each mini-batch's gradient is then the weighted mean.
    loss_out[k] receives the cost of example order[k] when it was used.
    targets: (n_samples, n_out) of X's dtype, or None to use labels, whose
    labels[k] is the label of example order[k] (X's row order[k]).
    interrupt: the address of a flag (cnet._interrupt) polled before each
    mini-batch, or 0.  Returns the examples used: len(order), or fewer when
    the flag stopped the epoch between two mini-batches."""
    _need_targets(targets, labels)
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef int n_layers = len(spec)
    cdef Batch bt
    cdef cnet_sync sync
    cdef Py_ssize_t used
    cnet_sync_init(&sync, <const void *> interrupt)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, &loss_out[0], &sync)
        if step is not None:
            _set_step(&bt, step, eta)
        bt.drop_key = drop_key
        if sample_weight is not None:
            if sample_weight.shape[0] < order.shape[0]:
                raise ValueError(f"sample_weight has {sample_weight.shape[0]} entries; it "
                                 f"needs one per example of order ({order.shape[0]})")
            bt.sw = &sample_weight[0]
        with nogil:
            used = _sgd_epoch(layers, n_layers, cost, bt, order.shape[0], batch_size,
                              <floating> eta, <floating> decay, n_threads)
    finally:
        free(layers)
    return used


def sgd_epoch_stack(const floating[:, ::1] X, list targets, list labels,
                    const Py_ssize_t[::1] order, list specs, const Py_ssize_t[::1] groups,
                    list shared, int cost, Py_ssize_t batch_size, const double[::1] etas,
                    const double[::1] decays, list losses, int n_threads,
                    Py_ssize_t interrupt=0, list steps=None, const uint64_t[::1] drop_keys=None,
                    list sample_weights=None):
    """One epoch of K networks of the same shapes over the same X[order]
    (cnet/stack.py): network k is specs[k], with its own targets[k] or
    labels[k] (in epoch order), etas[k], decays[k], losses[k], steps[k] (or
    None: plain SGD), drop_keys[k] and sample_weights[k] (float64 in epoch
    order, or None).

    groups (n_groups + 1,): the networks groups[g] .. groups[g + 1] are one
    thread's.  shared: None (each network gathers its own batches), or per
    group (Xin, ATin, NZF, NZU), each stacking chunk batches of the first
    layer's buffers of that name (None where its layer has none), into
    which the group's mini-batches are gathered once for all its networks.
    Returns the examples every group used (len(order) unless interrupted)."""
    cdef Py_ssize_t K = len(specs), n_groups = groups.shape[0] - 1, k, g, chunk = 1
    cdef Py_ssize_t n = order.shape[0], used
    cdef int n_layers
    cdef StackMember *members = NULL
    cdef StackShared *sh = NULL
    cdef Py_ssize_t *done = NULL
    cdef floating[::1] loss
    cdef floating[:, :, ::1] x3, a3
    cdef int[:, :, ::1] z3
    cdef const double[::1] sw
    if K < 1 or n < 1:
        raise ValueError("a stack needs at least one network and one example")
    n_layers = len(specs[0])
    if len(targets) != K or len(labels) != K or len(losses) != K or etas.shape[0] != K \
            or decays.shape[0] != K or (steps is not None and len(steps) != K) \
            or (drop_keys is not None and drop_keys.shape[0] != K):
        raise ValueError(f"a stack of {K} networks needs {K} targets, labels, losses, etas, "
                         f"decays, steps and drop_keys")
    if n_groups < 1 or groups[0] != 0 or groups[n_groups] != K:
        raise ValueError(f"groups must run from 0 to {K}")
    for g in range(n_groups):
        if groups[g + 1] <= groups[g]:
            raise ValueError("groups must be increasing")
    if shared is not None and len(shared) != n_groups:
        raise ValueError(f"shared needs one entry per group ({n_groups})")
    shapes = [(b.W.shape, b.Xin.shape if b.Xin is not None else None, b.ATin.shape)
              for b in specs[0]]
    for k in range(K):
        _need_targets(targets[k], labels[k])
        if [(b.W.shape, b.Xin.shape if b.Xin is not None else None, b.ATin.shape)
                for b in specs[k]] != shapes:
            raise ValueError(f"network {k} of the stack is not shaped like network 0")
        loss = losses[k]
        if loss.shape[0] < n:
            raise ValueError(f"losses[{k}] has {loss.shape[0]} entries; it needs {n}")
    if sample_weights is not None and len(sample_weights) != K:
        raise ValueError(f"a stack of {K} networks needs {K} sample_weights")
    members = <StackMember *> calloc(K, sizeof(StackMember))
    sh = <StackShared *> calloc(n_groups, sizeof(StackShared))
    done = <Py_ssize_t *> calloc(n_groups, sizeof(Py_ssize_t))
    try:
        if members == NULL or sh == NULL or done == NULL:
            raise MemoryError()
        for k in range(K):
            members[k].layers = _make_layers(specs[k], <floating *> NULL)
            loss = losses[k]
            members[k].proto = _make_batch[floating](X, targets[k], labels[k], order, specs[k],
                                                     &loss[0], NULL)
            if steps is not None and steps[k] is not None:
                _set_step(&members[k].proto, steps[k], etas[k])
            if drop_keys is not None:
                members[k].proto.drop_key = drop_keys[k]
            if sample_weights is not None and sample_weights[k] is not None:
                sw = sample_weights[k]
                if sw.shape[0] < n:
                    raise ValueError(f"sample_weights[{k}] has {sw.shape[0]} entries; it "
                                     f"needs one per example of order ({n})")
                members[k].proto.sw = &sw[0]
            members[k].eta = etas[k]
            members[k].decay = decays[k]
        if shared is not None:
            first = specs[0][0]
            for g in range(n_groups):
                Xin, ATin, NZF, NZU = shared[g]
                x3 = Xin
                chunk = x3.shape[0] if g == 0 else chunk
                if Xin.shape[0] != chunk or Xin.shape[1:] != first.Xin.shape:
                    raise ValueError(f"shared[{g}]'s Xin must be {chunk} batches shaped like "
                                     f"the first layer's Xin {first.Xin.shape}")
                sh[g].Xin = &x3[0, 0, 0]
                sh[g].xin_step = x3.shape[1] * x3.shape[2]
                if (ATin is not None) != (first.ATin.shape[1] > 1) or (
                        NZF is not None) != (first.NZF is not None):
                    raise ValueError(f"shared[{g}] must have ATin and NZF where the first "
                                     f"layer has them")
                if ATin is not None:
                    a3 = ATin
                    if ATin.shape[0] != chunk or ATin.shape[1:] != first.ATin.shape:
                        raise ValueError(f"shared[{g}]'s ATin must be {chunk} batches shaped "
                                         f"like the first layer's {first.ATin.shape}")
                    sh[g].ATin = &a3[0, 0, 0]
                    sh[g].atin_step = a3.shape[1] * a3.shape[2]
                if NZF is not None:
                    z3 = NZF
                    if NZF.shape[0] != chunk or NZF.shape[1:] != first.NZF.shape:
                        raise ValueError(f"shared[{g}]'s NZF must be {chunk} batches shaped "
                                         f"like the first layer's {first.NZF.shape}")
                    sh[g].NZF = &z3[0, 0, 0]
                    sh[g].nzf_step = z3.shape[1] * z3.shape[2]
                if (NZU is not None) != (first.NZU is not None):
                    raise ValueError(f"shared[{g}] must have NZU where the first layer has it")
                if NZU is not None:
                    z3 = NZU
                    if NZU.shape[0] != chunk or NZU.shape[1:] != first.NZU.shape:
                        raise ValueError(f"shared[{g}]'s NZU must be {chunk} batches shaped "
                                         f"like the first layer's {first.NZU.shape}")
                    sh[g].NZU = &z3[0, 0, 0]
                    sh[g].nzu_step = z3.shape[1] * z3.shape[2]
        with nogil:
            _sgd_epoch_stack(members, &groups[0], n_groups, n_layers, cost, sh, chunk, n,
                             batch_size, <const void *> interrupt, done, n_threads,
                             <floating *> NULL)
        used = n
        for g in range(n_groups):
            used = min(used, done[g])
    finally:
        if members != NULL:
            for k in range(K):
                free(members[k].layers)
        free(members)
        free(sh)
        free(done)
    return used


cdef int _set_step(Batch *bt, dict step, double eta) except -1:
    bt.step.kind = step["kind"]
    bt.step.nesterov = step.get("nesterov", False)
    bt.step.lr = eta
    for key in ("l2", "l1", "l2_batch", "wd", "mu", "beta1", "beta2", "eps", "alpha",
                "eps_hat"):
        value = float(step.get(key, 0.0))
        if key == "l2":
            bt.step.l2 = value
        elif key == "l1":
            bt.step.l1 = value
        elif key == "l2_batch":
            bt.step.l2_batch = value
        elif key == "wd":
            bt.step.wd = value
        elif key == "mu":
            bt.step.mu = value
        elif key == "beta1":
            bt.step.beta1 = value
        elif key == "beta2":
            bt.step.beta2 = value
        elif key == "eps":
            bt.step.eps = value
        elif key == "eps_hat":
            bt.step.eps_hat = value
        else:
            bt.step.alpha = value
    bt.t0 = step.get("t0", 0)
    return 0


def forward(const floating[:, ::1] X, const Py_ssize_t[::1] order, list spec,
            floating[:, ::1] out, Py_ssize_t chunk, int n_threads, Py_ssize_t interrupt=0):
    """out[k] := network(X[order[k]]); chunk = rows the buffers in spec hold.
    Returns the rows done (fewer than len(order) if interrupted)."""
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef int n_layers = len(spec)
    cdef Batch bt
    cdef cnet_sync sync
    cdef Py_ssize_t done
    cnet_sync_init(&sync, <const void *> interrupt)
    try:
        bt = _make_batch[floating](X, None, None, order, spec, NULL, &sync)
        with nogil:
            done = _forward_all(layers, n_layers, bt, order.shape[0], chunk,
                                &out[0, 0], n_threads)
    finally:
        free(layers)
    return done


cdef void _gradient_thread(const Layer *layers, int n_layers, int cost, const Batch *bt,
                           floating scale) noexcept nogil:
    cdef int tid, nt
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    _forward_batch(layers, n_layers, bt, True, tid, nt, <floating *> NULL)
    _backward_batch(layers, n_layers, cost, bt, <floating> 0, scale, tid, nt)
    cnet_fpu_leave(fpu)


def gradient(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
             const Py_ssize_t[::1] order, list spec, int cost,
             floating[::1] loss_out, int n_threads, uint64_t drop_key=0):
    """Mean gradient of the cost over the examples X[order] (one batch).

    Each layer's W_out / b_out (zero on entry) receives dC/dW^T, dC/db.
    targets, labels: as for sgd_epoch; with dropout rates in spec, the
    masks of drop_key for example ids order[k] (the gradient of that
    thinned network)."""
    _need_targets(targets, labels)
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef Batch bt
    cdef const Batch *pb = &bt
    cdef cnet_sync sync
    cdef int n_layers = len(spec)
    cdef floating scale = -1.0 / order.shape[0]
    cnet_sync_init(&sync, NULL)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, &loss_out[0], &sync)
        bt.drop_key = drop_key
        with nogil:
            if n_threads == 1:
                _gradient_thread(layers, n_layers, cost, pb, scale)
            else:
                with parallel(num_threads=n_threads):
                    _gradient_thread(layers, n_layers, cost, pb, scale)
    finally:
        free(layers)


# Single-phase entry points: the kernels one at a time, for the tests that
# hold each of them against the NumPy reference (cnet/reference.py).
cdef enum:
    LAYER_FORWARD = 0
    OUTPUT_DELTA = 1
    BACKPROP_DELTA = 2
    UPDATE = 3


cdef void _phase_thread(int which, const Layer *layers, const Batch *bt, int cost,
                        floating scale, floating decay) noexcept nogil:
    cdef int tid, nt
    cdef unsigned long fpu = _team(&tid, &nt, bt.sync)
    if which == LAYER_FORWARD:
        _gather_phase(&layers[0], bt, False, tid, nt, <floating *> NULL)
        cnet_sync_wait(bt.sync)
        _forward_phase(&layers[0], NULL, bt, <floating *> NULL, NULL, 0, tid, nt)
    elif which == OUTPUT_DELTA:
        _output_delta_phase(&layers[0], cost, bt, tid, nt, <floating *> NULL)
    elif which == BACKPROP_DELTA:
        _backprop_phase(&layers[1], &layers[0], bt, tid, nt, <floating *> NULL)
    else:
        _gather_phase(&layers[0], bt, True, tid, nt, <floating *> NULL)
        cnet_sync_wait(bt.sync)
        _update_phase(&layers[0], NULL, bt, decay, scale, tid, nt)
    cnet_fpu_leave(fpu)


cdef _run_phase(int which, const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
                const Py_ssize_t[::1] order, list spec, int cost, void *loss,
                floating scale, floating decay, int n_threads):
    cdef Layer *layers = _make_layers(spec, <floating *> NULL)
    cdef Batch bt
    cdef const Batch *pb = &bt
    cdef cnet_sync sync
    cnet_sync_init(&sync, NULL)
    try:
        bt = _make_batch[floating](X, targets, labels, order, spec, loss, &sync)
        with nogil:
            if n_threads == 1:
                _phase_thread(which, layers, pb, cost, scale, decay)
            else:
                with parallel(num_threads=n_threads):
                    _phase_thread(which, layers, pb, cost, scale, decay)
    finally:
        free(layers)


def layer_forward(const floating[:, ::1] X, const Py_ssize_t[::1] order,
                  list spec, int n_threads):
    """spec[0].A[s] := act(X[order[s]] @ W.T + b)."""
    _run_phase[floating](LAYER_FORWARD, X, None, None, order, spec, 0, NULL, 0, 0, n_threads)


def output_delta(const floating[:, ::1] X, targets, const Py_ssize_t[::1] labels,
                 const Py_ssize_t[::1] order, list spec, int cost,
                 floating[::1] loss_out, int n_threads):
    """spec[0].D, .DT, loss_out from spec[0].A and the targets of order
    (targets, labels: as for sgd_epoch)."""
    _need_targets(targets, labels)
    _run_phase[floating](OUTPUT_DELTA, X, targets, labels, order, spec, cost, &loss_out[0],
                         0, 0, n_threads)


def backprop_delta(const floating[:, ::1] X, const Py_ssize_t[::1] order,
                   list spec, int n_threads):
    """spec[0].D, .DT := (delta of spec[1] pulled back through W) * sigma'(spec[0].A)."""
    _run_phase[floating](BACKPROP_DELTA, X, None, None, order, spec, 0, NULL, 0, 0,
                         n_threads)


def update(const floating[:, ::1] X, const Py_ssize_t[::1] order, list spec,
           double scale, double decay, int n_threads):
    """W_out := decay W_out - scale sum_s D[s] X[order[s]]^T, b likewise."""
    _run_phase[floating](UPDATE, X, None, None, order, spec, 0, NULL, <floating> scale,
                         <floating> decay, n_threads)
