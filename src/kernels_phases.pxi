# Part of kernels_impl.pxi.
# ---------------------------------------------------------------------------
# phases: each is called by every thread of the region with (tid, nt)

cdef void _gather_phase(const Layer *L, const Batch *bt, bint blocks, int tid, int nt,
                        floating *dummy) noexcept nogil:
    """Xin[s] := X[idx[s]], s < m: the batch, gathered once.  Read in place, the
    rows of a shuffled batch are scattered over all of X, and each product
    that reads them would wait on memory again.

    With blocks (training, if L.ATin is given), also L.ATin[ib, s, r] :=
    Xin[s, ib * MR + r]: the first layer's update reads in[:, i0:i0 + MR]
    over all s as one short contiguous stream from here.  Read from Xin in
    place, every step of its tile lands n_in floats further on, a new page
    every step or so: with more pages than the TLB holds (m = 128), the
    misses cost the update 15-20% of its time.

    With L.NZF, also the row blocks' lists of nonzero features (Layer): each
    thread gathers whole row blocks, and lists the ones it gathered."""
    cdef Py_ssize_t s, s_lo, s_hi, ib, i0, r, n_in = L.n_in
    cdef Py_ssize_t blk = L.m_cap * CNET_MR
    cdef Py_ssize_t rb, rb_lo, rb_hi
    cdef floating *x
    cdef floating *xb
    _my_range((bt.m + CNET_MR - 1) // CNET_MR, tid, nt, &rb_lo, &rb_hi)
    s_lo = rb_lo * CNET_MR
    s_hi = min(rb_hi * CNET_MR, bt.m)
    for s in range(s_lo, s_hi):  # all requests in flight before the first copy
        cnet_prefetch(<const floating *> bt.X + bt.idx[s] * bt.x_ld, n_in * sizeof(floating))
    for s in range(s_lo, s_hi):
        x = <floating *> bt.Xin + s * n_in
        memcpy(x, <const floating *> bt.X + bt.idx[s] * bt.x_ld, n_in * sizeof(floating))
        if blocks and L.drop_threshold:  # training with dropout of the inputs
            _drop_row(x, n_in, cnet_dropout_row(bt.drop_key, 0, bt.idx[s]),
                      L.drop_threshold, <floating> L.drop_scale)
        if blocks and L.ATin != NULL:
            xb = <floating *> L.ATin + s * CNET_MR
            for ib in range(n_in // CNET_MR):  # a constant-size memcpy: two moves
                memcpy(xb + ib * blk, x + ib * CNET_MR, CNET_MR * sizeof(floating))
            i0 = n_in - n_in % CNET_MR
            for r in range(n_in % CNET_MR):
                xb[(n_in // CNET_MR) * blk + r] = x[i0 + r]
    if L.NZF != NULL:
        for rb in range(rb_lo, rb_hi):
            _list_features(L, bt, rb, dummy)
    # The first line of each of the next batch's rows (the rows this thread
    # will gather then), so that the page walks for those random rows happen
    # here, where the copy waits on memory anyway: issued from the first
    # layer's update with the rows' other lines, they stalled it (15% of its
    # time in the book's job, on the prefetch instructions).
    _my_range(bt.next_m if L.prefetch else 0, tid, nt, &s_lo, &s_hi)
    for s in range(bt.m + s_lo, bt.m + s_hi):
        cnet_prefetch(<const floating *> bt.X + bt.idx[s] * bt.x_ld, 1)


cdef inline void _nonzero_bits(const floating *x, Py_ssize_t n, uint64_t *bits) noexcept nogil:
    """bits := which of x[0 .. n) are not 0, n <= CNET_LIST_CHUNK (cnet_lists.h)."""
    if floating is float:
        cnet_nonzero_bits_f32(x, n, bits)
    else:
        cnet_nonzero_bits_f64(x, n, bits)


cdef void _list_features(const Layer *L, const Batch *bt, Py_ssize_t rb,
                         floating *dummy) noexcept nogil:
    """L.NZF's list for row block rb: the features i (increasing) where some
    example of the block has Xin[s, i] != 0: the OR of its rows' masks of
    nonzero inputs, read off bit by bit (cnet_lists.h)."""
    cdef Py_ssize_t n_in = L.n_in, s0 = rb * CNET_MR, i0, n, w, r, c = 0
    cdef Py_ssize_t mr = min(<Py_ssize_t> CNET_MR, bt.m - s0)
    cdef const floating *x = <const floating *> bt.Xin + s0 * n_in
    cdef int *lst = L.NZF + rb * (n_in + 1)
    cdef uint64_t acc[CNET_LIST_WORDS]
    cdef uint64_t row[CNET_LIST_WORDS]
    cdef uint64_t word
    i0 = 0
    while i0 < n_in:
        n = min(<Py_ssize_t> CNET_LIST_CHUNK, n_in - i0)
        _nonzero_bits(x + i0, n, acc)
        for r in range(1, mr):
            _nonzero_bits(x + r * n_in + i0, n, row)
            for w in range((n + 63) // 64):
                acc[w] = acc[w] | row[w]
        for w in range((n + 63) // 64):
            word = acc[w]
            while word:
                c += 1
                lst[c] = <int> (i0 + w * 64 + cnet_ctz64(word))
                word = word & (word - 1)
        i0 += n
    lst[0] = <int> c


cdef void _list_examples(const Layer *L, const Batch *bt, int tid, int nt,
                         floating *dummy) noexcept nogil:
    """L.NZU's lists for this thread's share of the feature blocks: the
    examples s (increasing) with some Xin[s, i] != 0, i in the block.  The
    masks of a group of examples first; then each block's list in one go,
    each example written and counted only where it belongs: no branch on
    the data (cnet_lists.h)."""
    cdef Py_ssize_t n_in = L.n_in, n_ib = (L.n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t ld = L.m_cap + 1, ib, ib_lo, ib_hi, f0, f_hi, n, nw, k, nb
    cdef Py_ssize_t s, s0, g
    cdef uint64_t masks[CNET_LIST_GROUP * (CNET_LIST_WORDS + 1)]
    cdef uint64_t *mk
    cdef int *lst
    cdef int c
    _my_range(n_ib, tid, nt, &ib_lo, &ib_hi)
    for ib in range(ib_lo, ib_hi):
        L.NZU[ib * ld] = 0
    f_hi = min(ib_hi * CNET_MR, n_in)
    # chunks start on a block: CNET_LIST_CHUNK is a multiple of CNET_MR
    f0 = ib_lo * CNET_MR
    while f0 < f_hi:
        n = min(<Py_ssize_t> CNET_LIST_CHUNK, f_hi - f0)
        nb = (n + CNET_MR - 1) // CNET_MR
        nw = (n + 63) // 64 + 1  # and a word of 0s that a last block may run into
        s0 = 0
        while s0 < bt.m:
            g = min(<Py_ssize_t> CNET_LIST_GROUP, bt.m - s0)
            for s in range(g):
                mk = masks + s * nw
                _nonzero_bits(<const floating *> bt.Xin + (s0 + s) * n_in + f0, n, mk)
                mk[nw - 1] = 0
            for k in range(nb):
                lst = L.NZU + (f0 // CNET_MR + k) * ld
                c = lst[0]
                for s in range(g):
                    lst[c + 1] = <int> (s0 + s)  # in bounds: c <= s0 + s < m_cap
                    c += cnet_bits_at(masks + s * nw, k * CNET_MR, CNET_MR) != 0
                lst[0] = c
            s0 += g
        f0 += n


cdef inline Py_ssize_t _lower_bound(const int *a, Py_ssize_t n, Py_ssize_t v) noexcept nogil:
    """The first position in the increasing a[0 .. n) whose value is >= v."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline void _drop_row(floating *a, Py_ssize_t n, uint64_t row, uint32_t threshold,
                           floating scale) noexcept nogil:
    """Dropout of one example's n input units, in place: a[j] := a[j] k_j
    scale, k_j = 1 if unit j is kept (cnet_dropout.h)."""
    cdef unsigned char keep[256]
    cdef Py_ssize_t j0, j, c
    for j0 in range(0, n, 256):
        c = min(<Py_ssize_t> 256, n - j0)
        # units j0 .. j0 + c of the row: the generator's groups of 4 line up
        # with j0 (a multiple of 4), so its hash of group j // 4 is the same
        cnet_dropout_keep(row + <uint64_t> (j0 // 4) * 0xd1b54a32d192ed03ULL, c, threshold,
                          keep)
        for j in range(j0, j0 + c):
            a[j] = a[j] * scale if keep[j - j0] else 0


cdef void _forward_phase(const Layer *L, const Layer *prev, const Batch *bt,
                         floating *AT_out, const Layer *above, int layer, int tid,
                         int nt) noexcept nogil:
    """A[s, j] := act(sum_i in[s, i] W[j, i] + b[j])  for s < m, j < n_out;
    also AT_out[j, s] (the next layer's transposed input) unless NULL.

    With dropout of the next layer's input (above, in training; ``layer`` is
    that layer's number), the tiles' epilogue drops the outputs (cnet_dropout.h)
    before they are stored, and stores sigma' times the factors in above.GT."""
    cdef floating *dummy = AT_out
    cdef int nr = _nr(dummy)
    cdef Py_ssize_t m = bt.m, n_out = L.n_out, ld = L.ld
    cdef Py_ssize_t n_rb = (m + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_cb = (n_out + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, rb, cb, s0, j0, r, c
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *W = <const floating *> L.W
    cdef const floating *b = <const floating *> L.b
    cdef floating *A = <floating *> L.A
    cdef int softmax = L.act == SOFTMAX
    cdef int act = IDENTITY if softmax else L.act
    cdef floating *Wp = <floating *> L.Wp
    cdef const floating *B
    cdef Py_ssize_t b_ks, i, cb_lo, cb_hi, kb, k0, klen
    # Large batches (packed W) sum k in blocks; a small batch has too few
    # row blocks to reuse a block of the panel, and pays for the extra passes.
    cdef Py_ssize_t kc = (L.kc if L.kc > 0 else CNET_KC) if Wp != NULL else max(L.n_in, 1)
    cdef Py_ssize_t n_kb = (L.n_in + kc - 1) // kc
    cdef cnet_drop_tile drop
    cdef const cnet_drop_tile *dropping = NULL
    cdef uint64_t drop_rows[CNET_MR]
    # The first layer's lists of nonzero features (Layer.NZF): the tiles
    # take only those steps, their A and B addressed from the feature.
    cdef const int *nzf = L.NZF if prev == NULL else NULL
    cdef const int *lst = NULL
    cdef Py_ssize_t lo = 0, hi = 0
    if prev == NULL and L.NZU != NULL and not bt.listed:
        _list_examples(L, bt, tid, nt, dummy)  # for the update, much later
    if above != NULL and above.drop_threshold:
        drop.rows, drop.threshold, drop.scale = drop_rows, above.drop_threshold, above.drop_scale
        drop.gT = above.GT
        dropping = &drop
    if (Wp == NULL and m <= CNET_AXPY_MAX_ROWS and not softmax and dropping == NULL
            and L.rowwise_bytes > 0
            and L.n_in * ld * <Py_ssize_t> sizeof(floating) >= L.rowwise_bytes):
        _forward_rowwise(L, prev, bt, AT_out, act, tid, nt)
        return
    # Blocks of equal length (784 = 4 x 196, not 3 x 256 + 16): a short last
    # block pays the load and store of every partial tile for little work.
    kc = (L.n_in + n_kb - 1) // n_kb

    if Wp != NULL and bt.pack:
        # Pack W^T into panels first (each thread its share), so that the
        # tiles stream their B operand: in place, consecutive k are a whole
        # row of W^T apart, a new cache line and often a new page each step.
        _my_range(n_cb, tid, nt, &cb_lo, &cb_hi)
        for cb in range(cb_lo, cb_hi):
            for i in range(L.n_in):
                for c in range(nr):
                    Wp[(cb * L.n_in + i) * nr + c] = W[i * ld + cb * nr + c]
        cnet_sync_wait(bt.sync)

    # A softmax row needs all its columns: give each thread whole rows.
    if softmax:
        _my_range(n_rb, tid, nt, &t_lo, &t_hi)
        t_lo *= n_cb
        t_hi *= n_cb
    else:
        _my_range(n_rb * n_cb, tid, nt, &t_lo, &t_hi)
    # k in blocks of CNET_KC: a block of a panel (CNET_KC x nr) stays in L1
    # while every row block passes over it; between blocks each tile keeps
    # its partial sums in A (the same sequential sum: no bit changes).  A
    # thread's tiles are the same in every block, so no barrier is needed.
    for kb in range(n_kb):
        k0 = kb * kc
        klen = min(kc, L.n_in - k0)
        for t in range(t_lo, t_hi):
            if softmax:
                rb = t // n_cb
                cb = t - rb * n_cb
            else:
                # Column-panel major: one panel of W stays in cache while
                # every row block of the batch passes over it.
                cb = t // n_rb
                rb = t - cb * n_rb
            s0 = rb * CNET_MR
            mr = <int> min(<Py_ssize_t> CNET_MR, m - s0)
            j0 = cb * nr
            if nzf != NULL:  # steps k0 <= i < k0 + klen of the row block's list
                lst = nzf + rb * (L.n_in + 1) + 1
                lo = _lower_bound(lst, lst[-1], k0) if k0 > 0 else 0
                hi = _lower_bound(lst, lst[-1], k0 + klen) if k0 + klen < L.n_in else lst[-1]
                for r in range(mr):
                    rows[r] = _in_row(L, prev, bt, s0 + r, dummy)
                if Wp != NULL:
                    B, b_ks = Wp + cb * L.n_in * nr, nr
                else:
                    B, b_ks = W + j0, ld
            else:
                for r in range(mr):
                    rows[r] = _in_row(L, prev, bt, s0 + r, dummy) + k0
                if Wp != NULL:
                    B, b_ks = Wp + (cb * L.n_in + k0) * nr, nr
                else:
                    B, b_ks = W + k0 * ld + j0, ld
            if dropping != NULL and kb == n_kb - 1:
                drop.j0 = j0
                if above.GT != NULL:
                    drop.gT = <floating *> above.GT + j0 * bt.ld_m + s0
                for r in range(mr):
                    drop_rows[r] = cnet_dropout_row(bt.drop_key, layer, bt.idx[s0 + r])
            _forward_rows(hi - lo if nzf != NULL else klen, rows, mr, B, b_ks, b + j0, act,
                          A + s0 * ld + j0, ld,
                          AT_out + j0 * bt.ld_m + s0 if AT_out != NULL else NULL, bt.ld_m,
                          <int> min(<Py_ssize_t> nr, n_out - j0), kb == 0, kb == n_kb - 1,
                          dropping, lst + lo if nzf != NULL else NULL)
            if softmax and cb == n_cb - 1 and kb == n_kb - 1:
                for r in range(mr):
                    _softmax_row(A + (s0 + r) * ld, n_out)


cdef void _forward_rowwise(const Layer *L, const Layer *prev, const Batch *bt,
                           floating *AT_out, int act, int tid, int nt) noexcept nogil:
    """_forward_phase for a small batch and a large W, walked along W's rows.

    The tiles above walk down a column panel of W, a row of W^T apart each
    step: W is read in place (a small batch does not pay for packing it),
    a new cache line and every other step a new page, where the hardware
    prefetchers do not follow, and each panel is read once per block of 6
    examples.  Here each thread takes whole column panels and walks W a
    block of CNET_MR rows at a time, as the update does (streamed rows, each
    element of W read once), adding each row's products into the sums in A;
    then the same epilogue (bias, activation, transposed copy) as the tiles,
    from those sums.  Same sums in the same order: the same bits.  For the
    first layer the update's lists (Layer.NZU) name the examples with a
    nonzero input in the row block, the only ones whose products count."""
    cdef floating *dummy = AT_out
    cdef int nr = _nr(dummy)
    cdef Py_ssize_t m = bt.m, n_in = L.n_in, n_out = L.n_out, ld = L.ld
    cdef Py_ssize_t n_ib = (n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_cb = (n_out + nr - 1) // nr
    cdef Py_ssize_t cb_lo, cb_hi, cb, ib, rb, i0, s, s0, j0, k, x_ld
    cdef int mr, r
    cdef const floating *W = <const floating *> L.W
    cdef const floating *b = <const floating *> L.b
    cdef floating *A = <floating *> L.A
    cdef const floating *x
    cdef const floating *rows[CNET_MR]
    cdef const int *nzu = L.NZU if prev == NULL else NULL
    cdef const int *lst
    _my_range(n_cb, tid, nt, &cb_lo, &cb_hi)
    for s in range(m):
        memset(A + s * ld + cb_lo * nr, 0, (cb_hi - cb_lo) * nr * sizeof(floating))
    if nzu != NULL and nt > 1:
        cnet_sync_wait(bt.sync)  # every thread's lists (_list_examples) are read
    if prev == NULL:
        x, x_ld = <const floating *> bt.Xin, n_in
    else:
        x, x_ld = <const floating *> prev.A, prev.ld
    if cb_hi > cb_lo:
        for ib in range(n_ib):
            i0 = ib * CNET_MR
            mr = <int> min(<Py_ssize_t> CNET_MR, n_in - i0)
            lst = NULL
            k = m
            if nzu != NULL:
                lst = nzu + ib * (L.m_cap + 1)
                k = lst[0]
                lst = lst + 1
            if k > 0:
                _forward_axpy(k, lst, x + i0, x_ld, mr, W + i0 * ld + cb_lo * nr, ld,
                              cb_hi - cb_lo, A + cb_lo * nr, ld)
    # the tiles' epilogue, from the sums in A (no steps: k = 0)
    for r in range(CNET_MR):
        rows[r] = x
    for rb in range((m + CNET_MR - 1) // CNET_MR):  # the batch's blocks of rows
        s0 = rb * CNET_MR
        mr = <int> min(<Py_ssize_t> CNET_MR, m - s0)
        for cb in range(cb_lo, cb_hi):
            j0 = cb * nr
            _forward_rows(0, rows, mr, W, ld, b + j0, act, A + s0 * ld + j0, ld,
                          AT_out + j0 * bt.ld_m + s0 if AT_out != NULL else NULL, bt.ld_m,
                          <int> min(<Py_ssize_t> nr, n_out - j0), False, True, NULL, NULL)


cdef void _output_delta_phase(const Layer *L, int cost, const Batch *bt,
                              int tid, int nt, floating *dummy) noexcept nogil:
    """delta and per-example cost of the output layer (textbook shortcuts:
    sigmoid + cross-entropy and softmax + log-likelihood give a - y)."""
    cdef Py_ssize_t s, s_lo, s_hi, j, row, n_out = L.n_out, ld = L.ld
    cdef int nr = _nr(dummy)
    cdef const floating *a
    cdef const floating *T = <const floating *> bt.T
    cdef floating *D = <floating *> L.D
    cdef floating *DT = <floating *> L.DT
    cdef floating *loss = <floating *> bt.loss
    cdef floating y, d, c_s
    _my_range(bt.m, tid, nt, &s_lo, &s_hi)
    for s in range(s_lo, s_hi):
        a = <const floating *> L.A + s * ld
        row = bt.idx[s]
        c_s = 0
        for j in range(n_out):
            if T != NULL:
                y = T[row * bt.t_ld + j]
            else:
                y = 1 if bt.labels[s] == j else 0
            d = a[j] - y
            if cost == QUADRATIC:
                c_s = c_s + d * d / 2
                d = d * _dact(a[j], L.act)
            elif cost == CROSS_ENTROPY:
                if y != 0:
                    c_s = c_s - y * _log_clipped(a[j])
                if y != 1:
                    c_s = c_s - (1 - y) * _log_clipped(1 - a[j])
            else:  # LOG_LIKELIHOOD
                if y != 0:
                    c_s = c_s - y * _log_clipped(a[j])
            if bt.sw != NULL:  # float64 weights, whatever the network's dtype
                d = d * <floating> (<const double *> bt.sw)[s]
            D[_d_at(L, s, j, nr)] = d
            DT[_dt_at(L, s, j, nr)] = d
        loss[s] = c_s


cdef void _backprop_phase(const Layer *L, const Layer *prev, const Batch *bt,
                          int tid, int nt, floating *dummy) noexcept nogil:
    """prev.D[s, i] := (sum_j W[j, i] D[s, j]) * sigma'(prev.A[s, i]).

    prev.A is read from its transposed copy L.ATin (written by the forward
    pass of a training step)."""
    cdef int nr = _nr(dummy)
    cdef Py_ssize_t m = bt.m, n_in = L.n_in, ld_m = bt.ld_m
    cdef Py_ssize_t n_ib = (n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_sb = (m + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, ib, sb, i0, s0, r, c, nc
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *W = <const floating *> L.W
    cdef const floating *DT = <const floating *> L.DT
    cdef const floating *AT = <const floating *> L.ATin
    cdef floating *d_i
    cdef floating *dt_i
    cdef floating *D_p = <floating *> prev.D
    cdef floating *DT_p = <floating *> prev.DT
    cdef int act = prev.act
    if L.GT != NULL:  # the input was dropped: sigma' times the mask's factor
        AT, act = <const floating *> L.GT, CNET_FACTOR
    _my_range(n_ib * n_sb, tid, nt, &t_lo, &t_hi)
    for t in range(t_lo, t_hi):
        ib = t // n_sb
        sb = t - ib * n_sb
        i0 = ib * CNET_MR
        mr = <int> min(<Py_ssize_t> CNET_MR, n_in - i0)
        for r in range(mr):
            rows[r] = W + (i0 + r) * L.ld
        s0 = sb * nr
        # The activations below come transposed (L.ATin): row i is contiguous
        # in s, as is row i of a DT_p panel, so sigma' is applied and stored
        # a vector at a time (all nr columns: DT_p's columns s >= m are
        # padding that no stored result reads); D_p is nr apart: copied.
        dt_i = DT_p + _dt_at(prev, s0, i0, nr)
        if floating is float:
            cnet_backprop_rows_f32(L.n_out, rows, mr, DT + sb * L.n_out * nr, nr,
                                   AT + i0 * ld_m + s0, ld_m, act, dt_i, nr)
        else:
            cnet_backprop_rows_f64(L.n_out, rows, mr, DT + sb * L.n_out * nr, nr,
                                   AT + i0 * ld_m + s0, ld_m, act, dt_i, nr)
        nc = min(<Py_ssize_t> nr, m - s0)
        for r in range(mr):
            d_i = D_p + _d_at(prev, s0, i0 + r, nr)
            for c in range(nc):
                d_i[c * nr] = dt_i[r * nr + c]


cdef void _update_phase(const Layer *L, const Layer *prev, const Batch *bt,
                        floating decay, floating scale, int tid, int nt) noexcept nogil:
    """W_out[j, i] := decay W_out[j, i] - scale sum_s D[s, j] in[s, i];
    b_out[j] := b_out[j] - scale sum_s D[s, j].

    The tile's A operand is in[:, i], i in a block of CNET_MR features.  Above
    the first layer it is read from the transposed copy L.ATin (contiguous
    in s, written by the forward pass below); the first layer's L.ATin holds
    the batch in blocks of CNET_MR features (written by the gather), a
    block's CNET_MR values of a sample side by side, or for small batches
    is NULL: the update then reads the gathered rows Xin in place.  Tiles
    write their full width: in padding columns D is 0, so W_out stays 0
    there.

    With an optimizer (bt.step.kind not CNET_OPT_PLAIN, training only), W
    and b take its rule instead (cnet_update.h), from the same sums and with
    the layer's state arrays L.S1, L.S2 (W's size) and L.Sb1, L.Sb2 (like
    b).  S1 and S2 hold each tile's mr x nr values together, the tiles of a
    row block one after another (at i0 * ld + jb * mr * nr: the walk's
    order), so that the state streams in sequence and not as mr rows far
    apart (cnet/_workspace.py converts for saving)."""
    cdef int nr = _nr(<floating *> NULL)
    cdef const cnet_step *st = &bt.step if bt.step.kind != CNET_OPT_PLAIN else NULL
    cdef floating *dummy = NULL
    cdef Py_ssize_t m = bt.m, n_in = L.n_in, n_out = L.n_out, ld = L.ld
    cdef Py_ssize_t n_ib = (n_in + CNET_MR - 1) // CNET_MR
    cdef Py_ssize_t n_jb = (n_out + nr - 1) // nr
    cdef Py_ssize_t t, t_lo, t_hi, ib, jb, i0, j0, c, nc, s, r, nb, k
    cdef int mr
    cdef const floating *rows[CNET_MR]
    cdef const floating *AT = <const floating *> L.ATin
    # where in[:, i0] starts, strides of in[:, i] over i and over s
    cdef Py_ssize_t a_blk = CNET_MR * bt.ld_m, a_rs = bt.ld_m, a_ks = 1
    cdef const floating *D = <const floating *> L.D
    cdef floating *W_out = <floating *> L.W_out
    cdef floating *b_out = <floating *> L.b_out
    # Training keeps the packed copy current; a gradient leaves W (and Wp) be.
    cdef floating *Wp = <floating *> L.Wp if L.W_out == L.W else NULL
    cdef floating acc
    cdef floating bsum[CNET_NR_F32]  # the widest tile's columns
    cdef const floating *d_panel
    cdef Py_ssize_t pf_lo = 0, pf_hi = 0, pf_row_lines = 1, pf_total = 0, pf_next = 0
    cdef Py_ssize_t pf_per_tile = 0, pf_end, pf_line = 0, pf_s = 0
    cdef const char *pf_row = NULL
    # The first layer's lists of examples with a nonzero input (Layer.NZU)
    cdef const int *nzu = L.NZU if prev == NULL else NULL
    cdef const int *lst
    if prev == NULL and bt.next_m > 0 and L.prefetch:
        # Fetch the next batch's rows of X a few cache lines per tile, each
        # thread the rows it will gather.  Issued all at once, hundreds of
        # misses fill the load queue and the core waits for them (measured:
        # as long as the gather they save); spread over this phase, they
        # arrive in the shadow of its arithmetic.
        _my_range(bt.next_m, tid, nt, &pf_lo, &pf_hi)
        pf_row_lines = (n_in * <Py_ssize_t> sizeof(floating) + 63) // 64
        # each row's first line was asked for by the gather (_gather_phase)
        pf_total = (pf_hi - pf_lo) * (pf_row_lines - 1)
        pf_line = 1
        pf_s = bt.m + pf_lo  # the sample being fetched, and its row of X
        if pf_total > 0:
            pf_row = <const char *> (<const floating *> bt.X + bt.idx[pf_s] * bt.x_ld)
    if prev == NULL and AT != NULL:
        a_blk, a_rs, a_ks = L.m_cap * CNET_MR, 1, CNET_MR
    elif prev == NULL:
        AT, a_blk, a_rs, a_ks = <const floating *> bt.Xin, CNET_MR, 1, n_in
    _my_range(n_ib * n_jb, tid, nt, &t_lo, &t_hi)
    if pf_total > 0:
        pf_per_tile = pf_total // max(t_hi - t_lo, 1) + 1
    # Row-block major: the block of A (CNET_MR features of m samples, a few
    # KB) stays in L1 while the tiles walk along rows of W, which the
    # prefetchers then stream as plain rows; the D panels (all of D is
    # m x ld, a few hundred KB) come from L2.  Measured: 1.2-1.3x faster
    # than panel-major on 784x512, m = 128.  A thread's tiles are walked a
    # strip at a time: the tiles of its range in one row block, one C call
    # (cnet_update_strip_*).
    t = t_lo
    while t < t_hi:
        ib = t // n_jb
        jb = t - ib * n_jb
        nb = min(n_jb - jb, t_hi - t)  # the strip's tiles jb .. jb + nb - 1
        pf_end = min(pf_next + pf_per_tile * nb, pf_total)
        while pf_next < pf_end:
            cnet_prefetch(pf_row + pf_line * 64, 1)
            pf_next += 1
            pf_line += 1
            if pf_line == pf_row_lines and pf_next < pf_total:
                pf_line = 1
                pf_s += 1
                pf_row = <const char *> (<const floating *> bt.X + bt.idx[pf_s] * bt.x_ld)
        i0 = ib * CNET_MR
        j0 = jb * nr
        mr = <int> min(<Py_ssize_t> CNET_MR, n_in - i0)
        for r in range(mr):
            rows[r] = AT + ib * a_blk + r * a_rs
        lst = NULL
        k = m
        if nzu != NULL:  # only the examples with a nonzero feature in the block
            lst = nzu + ib * (L.m_cap + 1)
            k = lst[0]
            lst = lst + 1
        # no such example, and Nielsen's step without decay: w - 0 = w
        if k > 0 or st != NULL or decay != 1:
            _update_strip(k, rows, a_ks, mr, D + jb * L.m_cap * nr, L.m_cap * nr, nr, nb,
                          W_out + i0 * ld + j0, ld, decay, scale,
                          Wp + (jb * n_in + i0) * nr if Wp != NULL else NULL, n_in * nr,
                          st, _at(L.S1, i0 * ld + jb * mr * nr, dummy),
                          _at(L.S2, i0 * ld + jb * mr * nr, dummy), nr, lst)
        if ib == 0:  # the owner of a column block's first tile owns its biases
            for jb in range(jb, jb + nb):
                # sum_s D[s, j0 + c], each column's sum in s order as before,
                # the nr columns side by side (a row of the D panel is
                # contiguous in c): one serial chain of adds per column cost
                # 7% of this phase
                j0 = jb * nr
                nc = min(<Py_ssize_t> nr, n_out - j0)
                d_panel = D + jb * L.m_cap * nr
                for c in range(nr):
                    bsum[c] = 0
                for s in range(m):
                    for c in range(nr):
                        bsum[c] = bsum[c] + d_panel[s * nr + c]
                for c in range(nc):
                    acc = bsum[c]
                    if st == NULL:
                        b_out[j0 + c] = b_out[j0 + c] - scale * acc
                    else:
                        _opt(st, 0, 1, &acc, &b_out[j0 + c], _at(L.Sb1, j0 + c, dummy),
                             _at(L.Sb2, j0 + c, dummy), <floating *> NULL)
        t += nb
