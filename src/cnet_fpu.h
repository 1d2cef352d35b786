/* Flush-to-zero inside the kernels.
 *
 * Subnormal numbers (|x| < 2.2e-308 in float64, 1.2e-38 in float32) take a
 * microcode assist on every operation: forward on inputs scaled by 1e-310 ran
 * 100-165x slower.  Each kernel thread sets flush-to-zero (results) and
 * denormals-are-zero (operands) for its own duration and puts the caller's
 * mode back before it returns, so Python and numpy never see the change.
 * Every thread of every call runs in the same mode, so results stay
 * bit-identical for any thread count.
 */
#ifndef CNET_FPU_H
#define CNET_FPU_H

#if defined(__SSE2__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define CNET_FPU_FTZ_DAZ 0x8040u /* MXCSR bits 15 (FTZ) and 6 (DAZ) */
static inline unsigned long cnet_fpu_enter(void) {
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | CNET_FPU_FTZ_DAZ);
    return old;
}
static inline void cnet_fpu_leave(unsigned long old) { _mm_setcsr((unsigned int)old); }
static inline int cnet_fpu_flushes(void) { return 1; }

#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define CNET_FPU_FZ (1ul << 24) /* FPCR.FZ: flush inputs and results */
static inline unsigned long cnet_fpu_enter(void) {
    unsigned long old;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(old));
    __asm__ __volatile__("msr fpcr, %0" : : "r"(old | CNET_FPU_FZ));
    return old;
}
static inline void cnet_fpu_leave(unsigned long old) {
    __asm__ __volatile__("msr fpcr, %0" : : "r"(old));
}
static inline int cnet_fpu_flushes(void) { return 1; }

#else
static inline unsigned long cnet_fpu_enter(void) { return 0; }
static inline void cnet_fpu_leave(unsigned long old) { (void)old; }
static inline int cnet_fpu_flushes(void) { return 0; }
#endif

#endif
