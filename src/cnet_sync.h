/* The barrier between the phases of a kernel call, and the interrupt flag.
 *
 * Why not `#pragma omp barrier`: libgomp's barrier spins for up to
 * GOMP_SPINCOUNT (300,000 pauses, milliseconds) before it sleeps.  When the
 * other core is busy with another process, the thread we wait for is often
 * descheduled for a whole time slice; spinning at each of an epoch's
 * thousands of barriers then made 2 threads 20-27x slower than 1.  This
 * barrier spins briefly (a calm machine's phases end within microseconds of
 * each other), then sleeps in the kernel (futex) and gives the core back.
 *
 * One cnet_sync per kernel call, shared by its team; it is declared outside
 * the parallel region by the thread that starts it.  Where futexes or GNU
 * atomics are missing, it falls back to OpenMP's own barrier.
 */
#ifndef CNET_SYNC_H
#define CNET_SYNC_H

#include <signal.h>

#if defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define CNET_FUTEX 1
#include <limits.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#else
#define CNET_FUTEX 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CNET_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define CNET_PAUSE() __asm__ __volatile__("yield")
#else
#define CNET_PAUSE() ((void)0)
#endif

/* Spins before sleeping: ~20-60 us of pauses, depending on the CPU's pause
 * latency.  Long enough that a calm machine never sleeps between phases,
 * short next to a time slice. */
#ifndef CNET_SPINS
#define CNET_SPINS 2000
#endif

typedef struct {
    int n;                   /* threads in the team */
    int arrived;             /* threads at the current barrier */
    unsigned generation;     /* bumped by the last arrival: releases the rest */
    int sleepers;            /* threads in futex_wait: the releaser wakes them */
    const volatile sig_atomic_t *interrupt;  /* cnet._interrupt's flag, or NULL */
    int halt[2];             /* thread 0's reading of *interrupt, per batch parity */
    long result;             /* what the team did (rows, examples), told by thread 0 */
} cnet_sync;

static inline void cnet_sync_init(cnet_sync *b, const void *interrupt) {
    b->n = 1;
    b->arrived = 0;
    b->generation = 0;
    b->sleepers = 0;
    b->interrupt = (const volatile sig_atomic_t *)interrupt;
    b->halt[0] = b->halt[1] = 0;
    b->result = 0;
}

/* Thread 0 tells the caller what the team did; read after the region. */
static inline void cnet_sync_report(cnet_sync *b, int tid, long value) {
    if (tid == 0)
        b->result = value;
}

static inline long cnet_sync_result(const cnet_sync *b) { return b->result; }

#if CNET_FUTEX

/* Every thread of the team calls this first, with the team's size: all store
 * the same value, each before its own first wait. */
static inline void cnet_sync_join(cnet_sync *b, int nt) {
    __atomic_store_n(&b->n, nt, __ATOMIC_RELAXED);
}

static inline void cnet_sync_wait(cnet_sync *b) {
    int n = __atomic_load_n(&b->n, __ATOMIC_RELAXED);
    unsigned gen;
    int i;
    if (n <= 1)
        return;
    gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == n) {
        /* Last to arrive: reset for the next barrier, then release.  Nobody
         * touches `arrived` again before seeing the new generation. */
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
        __atomic_add_fetch(&b->generation, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&b->sleepers, __ATOMIC_SEQ_CST) > 0)
            syscall(SYS_futex, &b->generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        return;
    }
    for (i = 0; i < CNET_SPINS; i++) {
        if (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) != gen)
            return;
        CNET_PAUSE();
    }
    __atomic_add_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
    /* futex_wait returns at once if generation has moved on already (the
     * kernel compares it with gen atomically), or on a wake, or spuriously:
     * the loop re-checks. */
    while (__atomic_load_n(&b->generation, __ATOMIC_SEQ_CST) == gen)
        syscall(SYS_futex, &b->generation, FUTEX_WAIT_PRIVATE, gen, NULL, NULL, 0);
    __atomic_sub_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
}

#else  /* no futex: OpenMP's barrier (binds to the enclosing region) */

static inline void cnet_sync_join(cnet_sync *b, int nt) { b->n = nt; }

static inline void cnet_sync_wait(cnet_sync *b) {
    (void)b;
#ifdef _OPENMP
    #pragma omp barrier
#endif
}

#endif

/* Whether the team stops before batch k: thread 0 reads the interrupt flag
 * into halt[k % 2] before the batch's first barrier; every thread reads it
 * after that barrier, so all of them take the same branch.  (halt[k % 2] is
 * next written at batch k + 2, two barriers after everyone has read it.) */
static inline void cnet_sync_poll(cnet_sync *b, int tid, long k) {
    if (tid == 0)
        b->halt[k & 1] = b->interrupt != NULL && *b->interrupt != 0;
}

static inline int cnet_sync_halted(const cnet_sync *b, long k) {
    return ((const volatile int *)b->halt)[k & 1];
}

#endif
