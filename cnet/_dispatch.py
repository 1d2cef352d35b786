"""Choose the compiled kernel variant for this CPU, once, at import.

The wheel carries one build of the kernels per instruction set (no
-march=native anywhere): baseline, AVX2+FMA and AVX-512 on x86-64 (NEON is
arm64's baseline).  The widest one the CPU and OS can run is used.
CNET_SIMD=baseline | avx2 | avx512 forces one (an error if the CPU cannot
run it), so the tests can cover each path; CNET_SIMD=wide picks a test
build of the AVX-512 variant's code lowered to AVX2 (only in source builds
made with CNET_BUILD_TEST_VARIANTS=1).
"""
import importlib
import os

from . import _kernels_baseline


def _optional(name, cpu_can):
    """The variant's module, or None if not built here or if this CPU cannot
    run it.  The CPU is asked first: a module compiled for an instruction set
    may use it anywhere, even in the code that runs at import."""
    if not cpu_can():
        return None
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError:  # not built for this architecture / this build
        return None


_kernels_avx2 = _optional("_kernels_avx2", _kernels_baseline.cpu_has_avx2_fma)
_kernels_avx512 = _optional("_kernels_avx512", _kernels_baseline.cpu_has_avx512)
_kernels_wide = _optional("_kernels_wide", _kernels_baseline.cpu_has_avx2_fma)

VARIANTS = ("baseline", "avx2", "avx512", "wide")


def runnable():
    """The variants this build has and this CPU can run: name -> module."""
    found = {"baseline": _kernels_baseline, "avx2": _kernels_avx2,
             "avx512": _kernels_avx512, "wide": _kernels_wide}
    return {name: module for name, module in found.items() if module is not None}


def _choose():
    forced = os.environ.get("CNET_SIMD", "").strip().lower()
    if forced not in ("",) + VARIANTS:
        raise ImportError(f"CNET_SIMD must be one of {', '.join(VARIANTS)}; got {forced!r}")
    found = runnable()
    if forced:
        if forced not in found:
            raise ImportError(f"CNET_SIMD={forced}, but this CPU or build has no such kernels "
                              f"(runnable here: {', '.join(found)})")
        return found[forced]
    for name in ("avx512", "avx2", "baseline"):
        if name in found:
            return found[name]


kernels = _choose()
