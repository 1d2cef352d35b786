"""What this build of cnet is: version, OpenMP, instruction set, threads."""
from . import _tuning
from ._dispatch import kernels, runnable
from ._openmp_helpers import max_threads, openmp_enabled
from ._threads import cpu_count, resolve_n_threads


def config():
    """The build and run-time facts as a dict."""
    from . import __version__

    return {
        "version": __version__,
        "openmp": openmp_enabled(),
        "simd": kernels.ISA,
        "simd_available": [module.ISA for module in runnable().values()],
        "threads_default": resolve_n_threads(None),
        "omp_max_threads": max_threads(),
        "cpu_count": cpu_count(),
        "microarchitecture": _tuning.STATE["micro"],
        "tuning": dict(_tuning.STATE["settings"] or {}),
        "tuning_source": _tuning.STATE["source"],
    }


def show_config(file=None):
    """Print version, OpenMP on/off, SIMD variant and thread counts."""
    c = config()
    lines = [
        f"cnet {c['version']}",
        f"  OpenMP:          {'enabled' if c['openmp'] else 'disabled (serial build)'}",
        f"  SIMD kernels:    {c['simd']} (available: {', '.join(c['simd_available'])})",
        f"  threads:         {c['threads_default']} by default "
        f"(cores available {c['cpu_count']}, OpenMP limit {c['omp_max_threads']})",
        f"  CPU:             {c['microarchitecture']}; settings from {c['tuning_source']}: "
        + ", ".join(f"{k}={v}" for k, v in c["tuning"].items()),
    ]
    print("\n".join(lines), file=file)
