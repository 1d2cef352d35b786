"""Choose the compiled kernel variant for this CPU, once, at import.

The wheel carries one build of the kernels per instruction set (no
-march=native anywhere).  CNET_SIMD=baseline forces the portable build, so the
tests can cover it on any machine; CNET_SIMD=avx2 asks for the AVX2+FMA build
and fails loudly when the CPU cannot run it.
"""
import os

from . import _kernels_baseline

try:
    from . import _kernels_avx2
except ImportError:  # not built for this architecture
    _kernels_avx2 = None

VARIANTS = ("baseline", "avx2")


def _choose():
    forced = os.environ.get("CNET_SIMD", "").strip().lower()
    if forced not in ("",) + VARIANTS:
        raise ImportError(f"CNET_SIMD must be one of {', '.join(VARIANTS)}; got {forced!r}")
    available = _kernels_avx2 is not None and _kernels_baseline.cpu_has_avx2_fma()
    if forced == "avx2" and not available:
        raise ImportError("CNET_SIMD=avx2, but this CPU or build has no AVX2+FMA kernels")
    if forced == "baseline" or not available:
        return _kernels_baseline
    return _kernels_avx2


kernels = _choose()
