"""Small hostile files: every reader refuses them with ModelFileError or
ValueError, in under a second of CPU and under 100 MB of extra memory.

Each file is read in a subprocess whose address space is capped at what it
uses after importing cnet plus 100 MB (RLIMIT_AS): a reader that believed a
header and allocated would fail there with MemoryError, which the test
reports.  The CPU time is the subprocess's own (not wall time, which a busy
machine stretches).  Also: one flipped bit anywhere in a model file gives a
loaded network or a ModelFileError, never another exception; FIFOs are
refused without blocking."""
import gzip
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import cnet
from cnet import datasets, saving
from cnet.saving import ModelFileError

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_AS and /proc/self/status")

HARNESS = r"""
import resource, sys, time
import numpy as np
import cnet
from cnet import datasets, saving

def vm_size():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

limit = vm_size() + 100 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
path = sys.argv[1]
start = time.process_time()
try:
    {call}
except (saving.ModelFileError, ValueError) as exc:
    outcome = "refused " + type(exc).__name__ + ": " + str(exc)[:400]
except BaseException as exc:
    outcome = "other " + type(exc).__name__ + ": " + str(exc)[:400]
else:
    outcome = "accepted"
print(repr(time.process_time() - start))
print(outcome)
"""

CALLS = {
    "model": "saving.load(path)",
    "idx": "datasets.read_idx(path)",
    "pkl": "datasets.load_mnist_pkl(path)",
    "cifar": "datasets.load_cifar10(path, download=False)",
}


def refused_quickly(kind, path):
    """Read ``path`` under the memory cap; return the refusal's message."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(cnet.__file__)))
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS.replace("{call}", CALLS[kind]), str(path)],
        capture_output=True, text=True, timeout=120, cwd=os.path.dirname(str(path)),
        env={**os.environ, "PYTHONPATH": package_root, "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    seconds, outcome = proc.stdout.strip().splitlines()[-2:]
    assert outcome.startswith("refused "), outcome
    assert float(seconds) < 1.0, f"{float(seconds):.2f} s of CPU to refuse {path}"
    return outcome


# -- building hostile files -------------------------------------------------------

def npy_header(descr, shape):
    out = io.BytesIO()  # the magic string, then the header
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return out.getvalue()


def raw_zip(entries):
    """A zip archive written by hand, so that the sizes it declares can be
    anything.  entries: (name, method, stored bytes, crc, declared size)."""
    out, central = bytearray(), bytearray()
    for name, method, data, crc, size in entries:
        offset, encoded = len(out), name.encode()
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data),
                           size, len(encoded), 0) + encoded + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc,
                               len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                       len(central), start, 0)
    return bytes(out)


def stored(name, data):
    return (name, zipfile_stored, data, zlib.crc32(data), len(data))


zipfile_stored, zipfile_deflated = 0, 8


def deflated_zeros(prefix, n_mib):
    """Raw deflate of ``prefix`` + n_mib MiB of zeros, about 1 KB per MiB,
    built from one compressed block repeated (a full flush resets the
    compressor, so every block compresses alike)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return head + block * n_mib + c.flush()


def metadata_json(sizes, dtype="float32"):
    net = cnet.Network([2, 2], seed=0)
    meta = json.loads(saving._metadata(net, None))
    meta.update(sizes=sizes, dtype=dtype)
    return json.dumps(meta)


def metadata_entry(sizes, dtype="float32"):
    text = metadata_json(sizes, dtype)
    return stored("metadata.npy", npy_header(f"<U{len(text)}", ()) + text.encode("utf-32-le"))


# -- model files -------------------------------------------------------------------

@linux_only
def test_small_model_file_claiming_16_gib(tmp_path):
    # 258 KB: sizes and the .npy header both say 65536 x 65536 float32.
    path = tmp_path / "huge.npz"
    w0 = npy_header("<f4", (65536, 65536)) + bytes(256 << 10)
    path.write_bytes(raw_zip([metadata_entry([65536, 65536]), stored("W0.npy", w0),
                              stored("b0.npy", npy_header("<f4", (65536,)))]))
    assert path.stat().st_size < 300_000
    assert "need" in refused_quickly("model", path)


@linux_only
def test_model_entry_header_claiming_more_than_the_metadata(tmp_path):
    path = tmp_path / "header.npz"
    w0 = npy_header("<f4", (65536, 65536)) + bytes(48)
    path.write_bytes(raw_zip([metadata_entry([4, 3]), stored("W0.npy", w0),
                              stored("b0.npy", npy_header("<f4", (3,)) + bytes(12))]))
    assert "shape" in refused_quickly("model", path)


@linux_only
def test_model_zip_bomb(tmp_path):
    # About 1 MB that inflates to 1 GiB of "weights" the metadata asks for.
    path = tmp_path / "bomb.npz"
    sizes = [16384, 16384]
    w0 = deflated_zeros(npy_header("<f4", (16384, 16384)), 1024)
    path.write_bytes(raw_zip([metadata_entry(sizes),
                              ("W0.npy", zipfile_deflated, w0, 0, 16384 * 16384 * 4 + 128),
                              stored("b0.npy", npy_header("<f4", (16384,)) + bytes(65536))]))
    assert path.stat().st_size < 3_000_000
    refused_quickly("model", path)


@linux_only
def test_model_zip_bomb_behind_small_declared_sizes(tmp_path):
    # The zip says 60 bytes; the deflate stream holds 1 GiB.
    path = tmp_path / "liar.npz"
    w0 = deflated_zeros(npy_header("<f4", (3, 4)), 1024)
    path.write_bytes(raw_zip([metadata_entry([4, 3]),
                              ("W0.npy", zipfile_deflated, w0, 0, 128 + 48),
                              stored("b0.npy", npy_header("<f4", (3,)) + bytes(12))]))
    refused_quickly("model", path)


@linux_only
def test_model_metadata_bomb(tmp_path):
    path = tmp_path / "meta.npz"
    meta = deflated_zeros(npy_header("<U100000000", ()), 400)
    path.write_bytes(raw_zip([("metadata.npy", zipfile_deflated, meta, 0, 400 << 20)]))
    assert "metadata" in refused_quickly("model", path)


def test_model_file_with_nested_json_metadata(tmp_path):
    path = tmp_path / "nested.npz"
    text = "[" * 100_000 + "]" * 100_000
    path.write_bytes(raw_zip([stored("metadata.npy", npy_header(f"<U{len(text)}", ())
                                     + text.encode("utf-32-le"))]))
    with pytest.raises(ModelFileError, match="JSON"):
        cnet.load(path)


def test_network2_file_with_nested_json(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text('{"sizes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ModelFileError, match="JSON"):
        cnet.load(path)


def test_model_entry_holding_pickled_objects(tmp_path):
    path = tmp_path / "objects.npz"
    net = cnet.Network([4, 3], seed=0)
    net.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["W0"] = np.array([[object()] * 4] * 3, dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="objects|dtype"):
        cnet.load(path)


def test_every_single_bit_flip_loads_or_raises_model_file_error(tmp_path):
    # Flags ("encrypted" gave RuntimeError), compression methods
    # (NotImplementedError), sizes, CRCs, the .npy headers, the JSON.
    path = tmp_path / "m.npz"
    net = cnet.Network([3, 2, 2], seed=0)
    net.save(path)
    good = path.read_bytes()
    damaged = tmp_path / "d.npz"
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(len(good)):
        data = bytearray(good)
        data[i] ^= 1 << (i % 8)
        damaged.write_bytes(bytes(data))
        try:
            cnet.load(damaged)
        except ModelFileError:
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["refused"] > len(good) // 2, outcomes


@pytest.mark.parametrize("where", ["local", "central"])
@pytest.mark.parametrize("field", ["encrypted", "method"])
def test_zip_header_damage_is_a_model_file_error(tmp_path, where, field):
    path = tmp_path / "m.npz"
    cnet.Network([3, 2], seed=0).save(path)
    data = bytearray(path.read_bytes())
    signature = b"PK\x03\x04" if where == "local" else b"PK\x01\x02"
    at = data.find(signature) + (6 if where == "local" else 8)
    if field == "encrypted":
        data[at] |= 1
    else:
        data[at + 2:at + 4] = struct.pack("<H", 99)
    path.write_bytes(bytes(data))
    if where == "local":  # zipfile goes by the central directory's fields
        try:
            cnet.load(path)
        except ModelFileError:
            pass
        return
    with pytest.raises(ModelFileError, match=str(path.name)):
        cnet.load(path)


# -- data files --------------------------------------------------------------------

def gzip_of_zeros(prefix, n_members, member_mib=64):
    """A multi-member gzip: ``prefix`` and n_members x member_mib MiB of zeros,
    each member compressed once and repeated (about 64 KB each)."""
    zeros = gzip.compress(bytes(member_mib << 20), compresslevel=9)
    return gzip.compress(prefix) + zeros * n_members


@linux_only
def test_gzipped_idx_bomb_behind_a_small_header(tmp_path):
    # 2 MB that inflates to 2 GiB; the header says 10 bytes.
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip_of_zeros(struct.pack(">4sI", b"\x00\x00\x08\x01", 10), 32))
    assert path.stat().st_size < 3_000_000
    assert "trailing" in refused_quickly("idx", path)


@linux_only
def test_gzipped_file_that_is_no_idx(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(gzip_of_zeros(b"\x01\x02\x03\x04", 32))
    assert "magic" in refused_quickly("idx", path)


@linux_only
def test_idx_header_claiming_more_than_the_file(tmp_path):
    for name, data in (("raw-idx3-ubyte", struct.pack(">4s3I", b"\x00\x00\x08\x03",
                                                      65536, 65536, 4) + bytes(100)),
                       ("small-idx3-ubyte.gz", gzip.compress(struct.pack(
                           ">4s3I", b"\x00\x00\x08\x03", 65536, 65536, 4) + bytes(100)))):
        path = tmp_path / name
        path.write_bytes(data)
        assert "truncated" in refused_quickly("idx", path)


@linux_only
def test_huge_cifar_batch(tmp_path):
    # A sparse 8.6 GB data_batch_3.bin (a whole number of records) among
    # small valid batches: refused by its size, before it is read.
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    record = bytes([3]) + bytes(3072)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(record * 4)
    with open(folder / "data_batch_3.bin", "wb") as f:
        f.truncate(3073 * 2_800_000)
    assert "at most 10,000 images" in refused_quickly("cifar", tmp_path)


def _reduce_pickle(make):
    class Hostile:
        def __reduce__(self):
            return make()
    item = Hostile()
    return pickle.dumps(((item, item), (item, item), (item, item)), protocol=2)


@linux_only
@pytest.mark.parametrize("how", ["ndarray", "reconstruct"])
def test_pickle_asking_for_3_gib_of_uninitialised_memory(tmp_path, how):
    path = tmp_path / "mnist.pkl"
    if how == "ndarray":  # numpy.ndarray((3 << 30,), "u1") through REDUCE
        data = _reduce_pickle(lambda: (np.ndarray, ((3 << 30,), "u1")))
    else:  # the reconstructor with an initial shape other than (0,)
        reconstruct = np.ndarray.__reduce__(np.zeros(0))[0]
        data = _reduce_pickle(lambda: (reconstruct, (np.ndarray, (3 << 30,), b"b")))
    assert len(data) < 300
    path.write_bytes(data)
    refused_quickly("pkl", path)


@linux_only
def test_pickle_whose_array_state_claims_more_than_its_bytes(tmp_path):
    class Liar:
        def __reduce__(self):
            reconstruct, args, _ = np.ndarray.__reduce__(np.zeros(0, np.float32))
            return reconstruct, args, (1, (3 << 30,), np.dtype("f4"), False, b"\x00" * 16)
    path = tmp_path / "mnist.pkl"
    item = Liar()
    path.write_bytes(pickle.dumps(((item, item), (item, item), (item, item)), protocol=2))
    refused_quickly("pkl", path)


@linux_only
@pytest.mark.parametrize("claim", [None, 2**31 - 1])
def test_gzipped_pickle_bomb(tmp_path, claim):
    # 1 GiB of zeros after a protocol-2 header; or after a string opcode
    # that claims 2 GiB (refused at the claim: mnist.pkl.gz holds 220 MB).
    path = tmp_path / "mnist.pkl.gz"
    prefix = b"\x80\x02" + (b"" if claim is None else b"T" + struct.pack("<I", claim))
    path.write_bytes(gzip_of_zeros(prefix, 16))
    outcome = refused_quickly("pkl", path)
    assert claim is None or "too large" in outcome


# -- not regular files -------------------------------------------------------------

FIFO_READERS = {
    "model": lambda p: cnet.load(p),
    "idx": lambda p: datasets.read_idx(p),
    "pkl": lambda p: datasets.load_mnist_pkl(p),
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", sorted(FIFO_READERS))
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, kind):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code = (f"import sys, cnet; from cnet import datasets, saving\n"
            f"try:\n    {CALLS[kind].replace('path', repr(str(fifo)))}\n"
            f"except ValueError as exc:\n    print('refused', type(exc).__name__, exc)\n")
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(cnet.__file__)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": package_root})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("refused") and "not a regular file" in proc.stdout


def test_a_fifo_among_cifar_batches_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(bytes([1]) + bytes(3072))
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs")
    (folder / "data_batch_2.bin").unlink()
    os.mkfifo(folder / "data_batch_2.bin")
    # _cifar_batches looks for regular files: a FIFO there is no CIFAR folder.
    with pytest.raises((ValueError, FileNotFoundError)):
        datasets.load_cifar10(tmp_path, download=False)


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(IsADirectoryError):
        cnet.load(tmp_path)
