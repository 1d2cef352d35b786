"""Build of cnet's compiled kernels.

Python owns the policy here too: the compiler decides the OpenMP flags, a probe
checks that an OpenMP program really compiles and links, and the instruction
set variants are chosen per target architecture.  Nothing uses -march=native:
a wheel must run on every CPU of its platform, so faster variants (AVX2+FMA)
are separate extension modules that cnet/_dispatch.py picks at run time.

CNET_OPENMP=auto (default) builds serially with a warning when OpenMP is
missing; CNET_OPENMP=1 makes that fatal (wheel builds); CNET_OPENMP=0 builds
serially on purpose.
"""
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return n > 0 ? 0 : 1;
    }
    """
)


def _openmp_flags(compiler):
    """(compile, link) flags for OpenMP with this compiler."""
    ctype = compiler.compiler_type
    if ctype == "msvc":
        return ["/openmp"], []
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp driver flag; libomp comes from Homebrew
        # (CNET_LIBOMP_PREFIX, else `brew --prefix libomp`); see README.
        prefix = os.environ.get("CNET_LIBOMP_PREFIX") or _brew_prefix("libomp")
        cflags, ldflags = ["-Xpreprocessor", "-fopenmp"], ["-lomp"]
        if prefix:
            cflags.append(f"-I{prefix}/include")
            ldflags = [f"-L{prefix}/lib", "-lomp", f"-Wl,-rpath,{prefix}/lib"]
        return cflags, ldflags
    return ["-fopenmp"], ["-fopenmp"]


def _brew_prefix(formula):
    try:
        out = subprocess.run(["brew", "--prefix", formula], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _probe(compiler, cflags, ldflags):
    """Does a small OpenMP program compile and link with these flags?"""
    tmp = tempfile.mkdtemp(prefix="cnet-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
        compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=ldflags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        # The kernel modules (one per instruction set) compile independently:
        # build them side by side unless told otherwise (-j / --parallel).
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        mode = os.environ.get("CNET_OPENMP", "auto").strip().lower()
        if mode not in ("auto", "0", "1"):
            raise SystemExit(f"CNET_OPENMP must be auto, 0 or 1, not {mode!r}")
        cflags, ldflags = [], []
        if mode != "0":
            cflags, ldflags = _openmp_flags(self.compiler)
            if not _probe(self.compiler, cflags, ldflags):
                msg = ("cnet: OpenMP does not compile and link with "
                       f"{self.compiler.compiler_type} ({' '.join(cflags)}); ")
                if mode == "1":
                    raise SystemExit(msg + "CNET_OPENMP=1 makes this fatal.")
                print("\n" + "*" * 72 + "\nWARNING " + msg
                      + "building the kernels SERIAL (one thread).\n" + "*" * 72,
                      file=sys.stderr)
                cflags, ldflags = [], []
        # Objects built with other OpenMP flags must not be reused (a serial
        # build after an OpenMP one would otherwise keep the old modules).
        stamp = os.path.join(self.build_temp, "cnet-openmp-flags.txt")
        flags = " ".join(cflags + ldflags) or "serial"
        try:
            with open(stamp) as f:
                self.force = self.force or f.read() != flags
        except OSError:
            self.force = True
        os.makedirs(self.build_temp, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(flags)
        # -fno-math-errno: sqrt in the optimizers' update loops (cnet_update.h)
        # is vectorized only when it need not set errno; nothing reads errno.
        opt = ["/O2"] if self.compiler.compiler_type == "msvc" else ["-O3", "-fno-math-errno"]
        for ext in self.extensions:
            ext.extra_compile_args = opt + cflags + ext.extra_compile_args
            ext.extra_link_args = ldflags + ext.extra_link_args
        super().build_extensions()


def _is_x86_64():
    machine = os.environ.get("CNET_TARGET_ARCH") or platform.machine()
    return machine.lower() in ("x86_64", "amd64")


def _extensions():
    from Cython.Build import cythonize

    common = dict(include_dirs=["src"])
    exts = [
        Extension("cnet._openmp_helpers", ["src/_openmp_helpers.pyx"], **common),
        Extension("cnet._interrupt", ["src/_interrupt.pyx"], **common),
        Extension("cnet._kernels_baseline", ["src/_kernels_baseline.pyx"], **common),
    ]
    msvc = sys.platform == "win32"
    if _is_x86_64():
        isa = ["/arch:AVX2"] if msvc else ["-mavx2", "-mfma"]
        exts.append(Extension("cnet._kernels_avx2", ["src/_kernels_avx2.pyx"],
                              extra_compile_args=isa, **common))
        isa512 = ["/arch:AVX512"] if msvc else ["-mavx512f", "-mavx512dq"]
        exts.append(Extension("cnet._kernels_avx512", ["src/_kernels_avx512.pyx"],
                              extra_compile_args=isa512, **common))
        if os.environ.get("CNET_BUILD_TEST_VARIANTS") == "1" and not msvc:
            # The AVX-512 variant's layouts on AVX2 (see src/_kernels_wide.pyx),
            # and the plain C path of src/cnet_lists.h that ARM builds take.
            exts.append(Extension("cnet._kernels_wide", ["src/_kernels_wide.pyx"],
                                  extra_compile_args=isa + ["-DCNET_WIDE_ON_AVX2",
                                                            "-DCNET_LISTS_PORTABLE"],
                                  **common))
    # freethreading_compatible: on a free-threaded Python (3.14t) importing
    # the modules does not turn the GIL back on.  They hold no Python state
    # of their own; the kernels run without the GIL on every build, and
    # Network serialises the calls that change one network (its lock).
    return cythonize(exts, include_path=["src"],
                     compiler_directives={"language_level": 3,
                                          "freethreading_compatible": True})


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
