"""Keeps shared-variable races out of the kernels' parallel regions.

Cython makes a variable of the enclosing function private to each thread of a
`with parallel()` block only when it sees it assigned there by name; one
written through a pointer (`f(&x)`) stays shared, and the threads overwrite
each other's copy.  That returned uninitialised rows from 2-thread forward
calls under load.  This test cythonizes the kernels and reads the generated C:
inside every `#pragma omp parallel` region, each variable that is assigned,
incremented or has its address taken must be in the region's
private/firstprivate/lastprivate/reduction lists.  (The kernels go further:
their regions assign nothing at all; each is one call of a *_thread
function whose locals live on the thread's own stack.)
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

pytest.importorskip("Cython")

_CLAUSE = re.compile(r"\b(private|firstprivate|lastprivate|reduction)\s*\(([^)]*)\)")
_ASSIGNED = re.compile(r"(?<![\w.>])(__pyx_[vt]_\w+)\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)")
_INCREMENTED = re.compile(r"(?:\+\+|--)\s*(__pyx_[vt]_\w+)|(__pyx_[vt]_\w+)\s*(?:\+\+|--)")
_ADDRESS = re.compile(r"&\s*(__pyx_[vt]_\w+)")


def _strip_comments(c):
    return re.sub(r"/\*.*?\*/", " ", c, flags=re.S)


def _region_body(c, start):
    """The text of the block that follows position start (brace matched)."""
    open_at = c.index("{", start)
    depth = 0
    for i in range(open_at, len(c)):
        if c[i] == "{":
            depth += 1
        elif c[i] == "}":
            depth -= 1
            if depth == 0:
                return c[open_at:i + 1]
    raise AssertionError("unbalanced braces after a parallel pragma")


def shared_writes(c_source):
    """[(pragma line number, variable, how)] for every variable written in a
    parallel region without being private to the thread."""
    c = _strip_comments(c_source)
    problems = []
    for m in re.finditer(r"#pragma omp parallel\b[^\n]*", c):
        pragma = m.group(0)
        private = set()
        for _, names in _CLAUSE.findall(pragma):
            names = names.split(":", 1)[-1]  # reduction(+:x)
            private.update(n.strip() for n in names.split(","))
        body = _region_body(c, m.end())
        line = c.count("\n", 0, m.start()) + 1
        for how, pattern in (("assigned", _ASSIGNED), ("incremented", _INCREMENTED),
                             ("address taken", _ADDRESS)):
            for hit in pattern.finditer(body):
                name = next(g for g in hit.groups() if g)
                if name not in private:
                    problems.append((line, name, how))
    return problems


def _cythonize(pyx, out_c):
    subprocess.run([sys.executable, "-m", "cython", "-3", "-I", str(SRC), str(pyx),
                    "-o", str(out_c)], check=True, capture_output=True, text=True)
    return out_c.read_text()


@pytest.fixture(scope="module")
def kernel_c(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cython")
    return _cythonize(SRC / "_kernels_baseline.pyx", tmp / "_kernels_baseline.c")


def test_kernels_have_parallel_regions(kernel_c):
    # The check below must look at something: the epoch, forward, gradient
    # and single-phase entry points each have a region (fused: float, double).
    assert len(re.findall(r"#pragma omp parallel\b", kernel_c)) >= 8


def test_no_shared_writes_in_kernel_parallel_regions(kernel_c):
    assert shared_writes(kernel_c) == []


@pytest.mark.parametrize("pyx", sorted(p.name for p in SRC.glob("_*.pyx")))
def test_no_shared_writes_in_any_module(pyx, tmp_path):
    c = _cythonize(SRC / pyx, tmp_path / (pyx[:-4] + ".c"))
    assert shared_writes(c) == []


# The checker itself must catch the mistake it exists for: the pattern of the
# old _forward_all, where a helper writes a row range through pointers.
RACY = '''
# cython: language_level=3
from cython.parallel cimport parallel
cimport openmp

cdef inline void my_range(Py_ssize_t n, int tid, int nt, Py_ssize_t *lo,
                          Py_ssize_t *hi) noexcept nogil:
    lo[0] = n * tid // nt
    hi[0] = n * (tid + 1) // nt

def run(double[::1] out, int n_threads):
    cdef int tid, nt
    cdef Py_ssize_t s, s_lo, s_hi
    with nogil, parallel(num_threads=n_threads):
        tid = openmp.omp_get_thread_num()
        nt = openmp.omp_get_num_threads()
        my_range(out.shape[0], tid, nt, &s_lo, &s_hi)
        for s in range(s_lo, s_hi):
            out[s] = s
'''

def test_checker_flags_a_range_written_through_pointers(tmp_path):
    pyx = tmp_path / "racy.pyx"
    pyx.write_text(RACY)
    problems = shared_writes(_cythonize(pyx, tmp_path / "racy.c"))
    flagged = {name for _, name, _ in problems}
    assert {"__pyx_v_s_lo", "__pyx_v_s_hi"} <= flagged, problems
    # tid and nt are assigned by name: Cython makes them private.
    assert "__pyx_v_tid" not in flagged


def test_checker_flags_a_plain_shared_write():
    c = ("void f(void) {\n#pragma omp parallel private(__pyx_v_a)\n{\n"
         "__pyx_v_a = 1;\n__pyx_v_b = 2;\n__pyx_v_c += 1;\n}\n}\n")
    assert [(n, how) for _, n, how in shared_writes(c)] == [("__pyx_v_b", "assigned"),
                                                           ("__pyx_v_c", "assigned")]
