"""CIFAR-10's binary batches and the book's mnist.pkl.gz, written by the tests
in the real formats: loading, corrupt files, safe extraction and the
restricted unpickler (a pickle that would run code is refused, and the code
did not run)."""

import builtins
import gzip
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

import cnet.mnist_loader
from cnet import datasets

TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
TEST = "test_batch.bin"


# --------------------------------------------------------------- CIFAR-10


def cifar_records(n, seed):
    """``n`` records as (labels (n,), images (n, 3, 32, 32) uint8, bytes),
    laid out by hand: label byte, red plane, green plane, blue plane."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    out = bytearray()
    for label, image in zip(labels, images):
        out.append(int(label))
        for channel in range(3):
            for row in range(32):
                out += bytes(image[channel, row].tolist())
    return labels, images, bytes(out)


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    """A cifar-10-batches-bin folder with a few hundred records per file."""
    root = tmp_path_factory.mktemp("cifar")
    folder = root / "cifar-10-batches-bin"
    folder.mkdir()
    written = {}
    for seed, (name, n) in enumerate(zip(TRAIN + [TEST], [200, 150, 100, 120, 130, 90])):
        labels, images, data = cifar_records(n, seed)
        (folder / name).write_bytes(data)
        written[name] = (labels, images)
    return root, written


def test_cifar10_round_trip_chw(cifar_dir):
    root, written = cifar_dir
    (X, y), (Xt, yt) = datasets.load_cifar10(root)
    assert X.shape == (700, 3072) and Xt.shape == (90, 3072)
    assert X.dtype == np.float32 and y.dtype == np.int64 and X.flags.c_contiguous
    labels = np.concatenate([written[name][0] for name in TRAIN])
    images = np.concatenate([written[name][1] for name in TRAIN])
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(yt, written[TEST][0])
    # Channel-major: value k is channel k // 1024, row (k // 32) % 32, column k % 32.
    np.testing.assert_array_equal(X, images.reshape(700, 3072) / np.float32(255))
    c, r, col = 2, 5, 7
    assert X[3, c * 1024 + r * 32 + col] == images[3, c, r, col] / np.float32(255)
    np.testing.assert_array_equal(Xt * 255, written[TEST][1].reshape(90, 3072))
    assert 0.0 <= X.min() and X.max() <= 1.0


def test_cifar10_book_split_needs_enough_images(cifar_dir):
    root, _ = cifar_dir
    with pytest.raises(ValueError, match="holds out the last 10000 training examples"):
        datasets.load_cifar10(root, split="book")


def test_cifar10_flat_folder_shape_and_dtype(cifar_dir):
    root, written = cifar_dir
    (X4, y), (Xt4, _) = datasets.load_cifar10(root / "cifar-10-batches-bin",
                                              dtype=np.float64, flatten=False)
    assert X4.shape == (700, 3, 32, 32) and X4.dtype == np.float64
    np.testing.assert_array_equal(X4[:200] * 255, written[TRAIN[0]][1])
    # As height x width x RGB images:
    hwc = X4.transpose(0, 2, 3, 1)
    assert hwc[0, 4, 6, 1] * 255 == written[TRAIN[0]][1][0, 1, 4, 6]


def copy_batches(src, dst, **replace):
    dst.mkdir()
    for name in TRAIN + [TEST]:
        data = replace.get(name, (src / name).read_bytes())
        (dst / name).write_bytes(data)
    return dst


@pytest.mark.parametrize("cut", [1, 3072, 3073 * 2 + 5])
def test_cifar10_truncated_batch(cifar_dir, tmp_path, cut):
    src = cifar_dir[0] / "cifar-10-batches-bin"
    data = (src / "data_batch_3.bin").read_bytes()
    folder = copy_batches(src, tmp_path / "c", **{"data_batch_3.bin": data[:-cut]})
    with pytest.raises(ValueError, match=r"data_batch_3\.bin is truncated or not a CIFAR-10 "
                                         r"binary batch: its \d+ bytes are not a positive "
                                         r"multiple of 3073"):
        datasets.load_cifar10(folder)


def test_cifar10_empty_batch_and_bad_label(cifar_dir, tmp_path):
    src = cifar_dir[0] / "cifar-10-batches-bin"
    folder = copy_batches(src, tmp_path / "empty", **{TEST: b""})
    with pytest.raises(ValueError, match="test_batch.bin is truncated"):
        datasets.load_cifar10(folder)
    data = bytearray((src / "data_batch_2.bin").read_bytes())
    data[3073 * 4] = 10  # label of record 4
    folder = copy_batches(src, tmp_path / "label", **{"data_batch_2.bin": bytes(data)})
    with pytest.raises(ValueError, match=r"label 10 in record 4; CIFAR-10 labels must be in"):
        datasets.load_cifar10(folder)


def test_cifar10_missing_files(cifar_dir, tmp_path):
    src = cifar_dir[0] / "cifar-10-batches-bin"
    folder = copy_batches(src, tmp_path / "c")
    (folder / "data_batch_5.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"holds neither cifar-10-batches-bin/ nor"):
        datasets.load_cifar10(folder)
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        datasets.load_cifar10(tmp_path / "nowhere")


def tar_with(members):
    """tar.gz bytes from [(TarInfo kwargs, data or None)]."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for fields, data in members:
            info = tarfile.TarInfo(fields.pop("name"))
            for key, value in fields.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CNET_DATA_DIR", raising=False)
    return tmp_path / "cache" / "cifar-10"


def test_cifar10_archive_in_cache_is_extracted_safely(cifar_dir, empty_cache, tmp_path):
    """A verified archive in the cache is extracted without the network; only
    the six expected members are written, nothing else, nowhere else."""
    src = cifar_dir[0] / "cifar-10-batches-bin"
    members = [({"name": f"./cifar-10-batches-bin/{TRAIN[0]}"}, (src / TRAIN[0]).read_bytes())]
    members += [({"name": f"cifar-10-batches-bin/{n}"}, (src / n).read_bytes())
                for n in TRAIN[1:] + [TEST]]
    members += [
        ({"name": "../../outside.bin"}, b"x"),
        ({"name": str(tmp_path / "absolute.bin")}, b"x"),
        ({"name": "cifar-10-batches-bin/readme.html"}, b"<p>"),
        ({"name": "cifar-10-batches-bin/link", "type": tarfile.SYMTYPE,
          "linkname": "/etc/passwd"}, None),
    ]
    empty_cache.mkdir(parents=True)
    (empty_cache / "cifar-10-binary.tar.gz").write_bytes(tar_with(members))
    (X, y), _ = datasets.load_cifar10(download=False)
    assert X.shape == (700, 3072)
    folder = empty_cache / "cifar-10-batches-bin"
    assert sorted(p.name for p in folder.iterdir()) == sorted(TRAIN + [TEST])
    assert sorted(p.name for p in empty_cache.iterdir()) == ["cifar-10-batches-bin"]
    assert not (tmp_path / "outside.bin").exists() and not (tmp_path / "absolute.bin").exists()


def test_cifar10_archive_with_a_link_for_a_batch_is_refused(cifar_dir, empty_cache):
    src = cifar_dir[0] / "cifar-10-batches-bin"
    members = [({"name": f"cifar-10-batches-bin/{n}"}, (src / n).read_bytes())
               for n in TRAIN]
    members.append(({"name": f"cifar-10-batches-bin/{TEST}", "type": tarfile.SYMTYPE,
                     "linkname": "/etc/passwd"}, None))
    empty_cache.mkdir(parents=True)
    (empty_cache / "cifar-10-binary.tar.gz").write_bytes(tar_with(members))
    with pytest.raises(ValueError, match="test_batch.bin is not a regular file"):
        datasets.load_cifar10(download=False)
    # Nothing half-extracted is left where the loader would read it.
    assert not (empty_cache / "cifar-10-batches-bin" / TRAIN[0]).exists()
    assert list((empty_cache / "cifar-10-batches-bin").glob("*.part")) == []


def test_cifar10_archive_missing_a_member(cifar_dir, empty_cache):
    src = cifar_dir[0] / "cifar-10-batches-bin"
    members = [({"name": f"cifar-10-batches-bin/{n}"}, (src / n).read_bytes()) for n in TRAIN]
    empty_cache.mkdir(parents=True)
    (empty_cache / "cifar-10-binary.tar.gz").write_bytes(tar_with(members))
    with pytest.raises(ValueError, match="lacks cifar-10-batches-bin/test_batch.bin"):
        datasets.load_cifar10(download=False)


# ------------------------------------------------------------ mnist.pkl.gz


def book_arrays(seed=0, sizes=(30, 10, 12)):
    rng = np.random.default_rng(seed)
    return tuple(
        (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64))
        for n in sizes)


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` (BINSTRING opcodes), as the book's
    Python 2 pickle of NumPy 1 arrays has them."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj):
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    # NumPy 1 (the book's era) named the reconstructor numpy.core.multiarray.
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def assert_book_equal(loaded, arrays):
    assert len(loaded) == 3
    for (X, y), (X0, y0) in zip(loaded, arrays):
        assert X.dtype == np.float32 and y.dtype == np.int64 and X.flags.c_contiguous
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(y, y0)


def test_mnist_pkl_written_by_python3(tmp_path):
    arrays = book_arrays()
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(arrays, f, protocol=2)
    assert_book_equal(datasets.load_mnist_pkl(path), arrays)
    (X, _), _, _ = datasets.load_mnist_pkl(str(path), dtype="float64")
    assert X.dtype == np.float64


def test_mnist_pkl_in_python2_format(tmp_path):
    arrays = book_arrays(seed=1, sizes=(5, 3, 4))
    data = py2_pickle(arrays)
    assert b"cnumpy.core.multiarray\n_reconstruct" in data and b"_codecs" not in data
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(data))
    assert_book_equal(datasets.load_mnist_pkl(path), arrays)
    raw = tmp_path / "mnist.pkl"  # an uncompressed pickle is recognised too
    raw.write_bytes(data)
    assert_book_equal(datasets.load_mnist_pkl(raw), arrays)


def test_mnist_loader_reads_the_book_file(tmp_path):
    arrays = book_arrays(sizes=(6, 3, 2))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(py2_pickle(arrays)))
    training, validation, test = cnet.mnist_loader.load_data_wrapper(path)
    assert (len(training), len(validation), len(test)) == (6, 3, 2)
    x, t = training[0]
    assert x.shape == (784, 1) and t.shape == (10, 1) and t[arrays[0][1][0], 0] == 1.0
    assert [t for _, t in test] == arrays[2][1].tolist()
    tr, va, te = cnet.mnist_loader.load_data(path)
    np.testing.assert_array_equal(va[0], arrays[1][0])


class RunsCode:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func, arg, refused", [
    (os.system, "touch {marker}", rf"{os.system.__module__}\.system"),
    # Protocol 2 writes builtins under their Python 2 name.
    (builtins.eval, "open({marker!r}, 'w').close()", r"__builtin__\.eval"),
    (builtins.exec, "open({marker!r}, 'w').close()", r"__builtin__\.exec"),
], ids=["os.system", "eval", "exec"])
def test_malicious_pickle_is_refused(tmp_path, func, arg, refused):
    marker = tmp_path / "pwned"
    X, y = book_arrays(sizes=(2,))[0]
    payload = ((X, y), (RunsCode(func, arg.format(marker=str(marker))), y), (X, y))
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(payload, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=f"refusing to load global {refused}") as info:
        datasets.load_mnist_pkl(path)
    assert isinstance(info.value, ValueError) and str(path) in str(info.value)
    assert not marker.exists()
    with pytest.raises(datasets.UnsafePickleError):
        cnet.mnist_loader.load_data(path)
    assert not marker.exists()


def test_pickle_cannot_abuse_the_allowed_names(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    # An object array would hold arbitrary Python objects: its dtype is refused.
    obj = np.array([1, "a"], dtype=object)
    path.write_bytes(gzip.compress(pickle.dumps(((obj, obj),) * 3, protocol=2)))
    with pytest.raises(datasets.UnsafePickleError, match="refusing NumPy dtype"):
        datasets.load_mnist_pkl(path)
    # _codecs.encode is allowed only as protocol 2 uses it: to latin-1.
    sneaky = (pickle.PROTO + b"\x02" + b"c_codecs\nencode\n" + pickle.SHORT_BINUNICODE
              + b"\x01x" + pickle.SHORT_BINUNICODE + b"\x05rot13" + pickle.TUPLE2
              + pickle.REDUCE + pickle.STOP)
    path.write_bytes(gzip.compress(sneaky))
    with pytest.raises(datasets.UnsafePickleError, match="encoding 'rot13'"):
        datasets.load_mnist_pkl(path)
    # The reconstructor builds only plain ndarrays.
    odd = (pickle.PROTO + b"\x02" + b"cnumpy.core.multiarray\n_reconstruct\n"
           + b"cnumpy\ndtype\n" + pickle.EMPTY_TUPLE + pickle.SHORT_BINSTRING + b"\x01b"
           + pickle.TUPLE3 + pickle.REDUCE + pickle.STOP)
    path.write_bytes(gzip.compress(odd))
    with pytest.raises(datasets.UnsafePickleError, match="refusing to reconstruct"):
        datasets.load_mnist_pkl(path)


@pytest.mark.parametrize("payload, match", [
    (((np.zeros((2, 784), np.float32), np.zeros(2, np.int64)),) * 2, "must hold"),
    ((("a", "b"),) * 3, "training images must be a 2-d floating-point array, got str"),
    (((np.zeros((2, 784), np.float32), np.zeros(3, np.int64)),) * 3, "2 images but 3 labels"),
    (((np.full((1, 784), 2.0, np.float32), np.zeros(1, np.int64)),) * 3,
     r"pixels must be in \[0, 1\]"),
    (((np.zeros((1, 784), np.float32), np.full(1, 10)),) * 3, r"labels must be in 0\.\.9"),
    (((np.zeros((1, 784), np.float32), np.zeros(1, np.float32)),) * 3, "1-d integer array"),
], ids=["two-pairs", "not-arrays", "count-mismatch", "pixels", "labels", "float-labels"])
def test_mnist_pkl_wrong_content(tmp_path, payload, match):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(payload, protocol=2)))
    with pytest.raises(ValueError, match=match):
        datasets.load_mnist_pkl(path)


def test_mnist_pkl_corrupt_files(tmp_path):
    data = gzip.compress(pickle.dumps(book_arrays(sizes=(3, 2, 2)), protocol=2))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(data[:-20])
    with pytest.raises(ValueError, match="not a valid gzip file"):
        datasets.load_mnist_pkl(path)
    path.write_bytes(gzip.compress(pickle.dumps(book_arrays(sizes=(3, 2, 2)), protocol=2)[:-50]))
    with pytest.raises(ValueError, match="not a valid pickle of NumPy arrays"):
        datasets.load_mnist_pkl(path)
    with pytest.raises(FileNotFoundError, match="nothing.pkl.gz"):
        datasets.load_mnist_pkl(tmp_path / "nothing.pkl.gz")
