"""Tests for cnet.datasets and cnet.mnist_loader.

Real-MNIST tests read the files from CNET_DATA_DIR and are skipped without it;
everything else uses the shipped sample or small IDX files written to tmp_path.
"""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import cnet._download
import cnet.mnist_loader
from cnet import datasets

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
SAMPLE_DIR = Path(datasets.__file__).parent / "data" / "mnist_sample"


# ----------------------------------------------------------------- helpers


def idx_bytes(array, type_code=0x08):
    """IDX encoding of ``array``, written independently of cnet.datasets."""
    big_endian = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian[type_code]).tobytes()


def write_mnist_dir(directory, n_train=5, n_test=3, *, gz=True, seed=0, labels=None):
    """Write four small MNIST-format files; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8)
        if labels is None
        else np.asarray(labels, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return arrays


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    """Full MNIST in the standard split, loaded through CNET_DATA_DIR (path=None)."""
    return datasets.load_mnist()


def raw_mnist_bytes(directory, name):
    path = directory / name
    if not path.is_file():
        return gzip.decompress((directory / f"{name}.gz").read_bytes())
    return path.read_bytes()


# ------------------------------------------------------------- real MNIST


def test_mnist_shapes_dtypes_and_range(mnist):
    (X_train, y_train), (X_test, y_test) = mnist
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.flags.c_contiguous and X_test.flags.c_contiguous
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0


def test_mnist_label_counts(mnist):
    (_, y_train), (_, y_test) = mnist
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS


def test_mnist_first_image_matches_raw_bytes(mnist, mnist_dir):
    raw = raw_mnist_bytes(mnist_dir, "train-images-idx3-ubyte")
    pixels = np.frombuffer(raw[16 : 16 + 784], dtype=np.uint8)
    (X_train, _), _ = mnist
    assert pixels.sum() > 0  # guard: a blank image would prove nothing
    assert round(float(X_train[0].astype(np.float64).sum()) * 255) == int(pixels.sum())
    np.testing.assert_array_equal(np.rint(X_train[0] * 255).astype(np.uint8), pixels)
    labels = raw_mnist_bytes(mnist_dir, "train-labels-idx1-ubyte")
    np.testing.assert_array_equal(mnist[0][1][:20], np.frombuffer(labels[8:28], dtype=np.uint8))


def test_mnist_book_split(mnist, mnist_dir):
    (X_train, y_train), _ = mnist
    (Xb, yb), (Xv, yv), (Xt, yt) = datasets.load_mnist(mnist_dir, split="book")
    assert Xb.shape == (50000, 784) and Xv.shape == (10000, 784) and Xt.shape == (10000, 784)
    assert yb.shape == (50000,) and yv.shape == (10000,) and yt.shape == (10000,)
    np.testing.assert_array_equal(Xv, X_train[50000:])
    np.testing.assert_array_equal(yv, y_train[50000:])
    np.testing.assert_array_equal(Xb, X_train[:50000])
    np.testing.assert_array_equal(yt, mnist[1][1])


def test_mnist_loader_real(mnist, mnist_dir):
    training, validation, test = cnet.mnist_loader.load_data_wrapper()
    assert (len(training), len(validation), len(test)) == (50000, 10000, 10000)
    x, y = training[0]
    assert x.shape == (784, 1) and y.shape == (10, 1)
    assert int(np.argmax(y)) == mnist[0][1][0]
    x, y = validation[0]
    assert x.shape == (784, 1) and type(y) is int and y == mnist[0][1][50000]
    np.testing.assert_array_equal(x[:, 0], mnist[0][0][50000])


# ----------------------------------------------------- Fashion-MNIST (Debian)

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason="Debian's dataset-fashion-mnist package is not installed")
def test_fashion_mnist_from_debian_package(tmp_path, monkeypatch):
    monkeypatch.delenv("CNET_DATA_DIR", raising=False)
    monkeypatch.setenv("CNET_CACHE_DIR", str(tmp_path))
    # Debian recompressed the files; their content has Zalando's checksums.
    for name in MNIST_NAMES:
        path = FASHION_DIR / f"{name}.gz"
        assert cnet._download.file_md5(path, gunzip=True) == \
            datasets._CHECKSUMS["fashion-mnist"][name]
    (X, y), (Xv, yv), (Xt, yt) = datasets.load_fashion_mnist(split="book", download=False)
    assert X.shape == (50000, 784) and Xv.shape == (10000, 784) and Xt.shape == (10000, 784)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(np.concatenate([y, yv])).tolist() == [6000] * 10
    assert np.bincount(yt).tolist() == [1000] * 10
    assert X.min() == 0.0 and X.max() == 1.0
    assert not any(tmp_path.iterdir())  # found in place: nothing downloaded or copied


# ----------------------------------------------------------------- sample


def test_sample_shapes_and_classes():
    (X_train, y_train), (X_test, y_test) = datasets.load_sample()
    assert X_train.shape == (10000, 784) and y_train.shape == (10000,)
    assert X_test.shape == (2000, 784) and y_test.shape == (2000,)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert set(y_train.tolist()) == set(range(10)) == set(y_test.tolist())
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0


def test_sample_book_split_and_options():
    (Xb, yb), (Xv, yv), (Xt, yt) = datasets.load_sample(split="book", dtype="float64")
    (X_train, y_train), (X_test, _) = datasets.load_sample(dtype=np.float64)
    assert (len(Xb), len(Xv), len(Xt)) == (8000, 2000, 2000)
    assert Xb.dtype == np.float64
    np.testing.assert_array_equal(Xv, X_train[8000:])
    np.testing.assert_array_equal(yb, y_train[:8000])
    np.testing.assert_array_equal(Xt, X_test)
    (X3, _), _ = datasets.load_sample(flatten=False)
    assert X3.shape == (10000, 28, 28)
    np.testing.assert_array_equal(X3.reshape(10000, 784), X_train.astype(np.float32))


def test_sample_files_small_with_zero_mtime():
    paths = [SAMPLE_DIR / f"{name}.gz" for name in MNIST_NAMES]
    assert all(p.is_file() for p in paths)
    assert sum(p.stat().st_size for p in paths) <= 3 * 1024 * 1024
    for p in paths:
        assert p.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime = 0


def test_sample_equals_first_rows_of_mnist(mnist, mnist_dir):
    (X_train, y_train), (X_test, y_test) = mnist
    (Xs, ys), (Xst, yst) = datasets.load_sample()
    np.testing.assert_array_equal(Xs, X_train[:10000])
    np.testing.assert_array_equal(ys, y_train[:10000])
    np.testing.assert_array_equal(Xst, X_test[:2000])
    np.testing.assert_array_equal(yst, y_test[:2000])
    # Byte-exact: the sample's records are a prefix of the originals'.
    for name in MNIST_NAMES:
        sample = gzip.decompress((SAMPLE_DIR / f"{name}.gz").read_bytes())
        full = raw_mnist_bytes(mnist_dir, name)
        header = 16 if "images" in name else 8
        assert sample[:4] == full[:4] and sample[8:header] == full[8:header]
        assert sample[header:] == full[header : len(sample)]


# ---------------------------------------------------------------- read_idx


@pytest.mark.parametrize("type_code", [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
def test_read_idx_types_raw_and_gz(tmp_path, type_code):
    array = np.arange(-6, 18).reshape(2, 3, 4)
    if type_code == 0x08:
        array = array + 6
    if type_code in (0x0D, 0x0E):
        array = array / 4
    data = idx_bytes(array, type_code)
    # Detection is by content: gzip under a plain name, raw under a .gz name.
    (tmp_path / "a").write_bytes(gzip.compress(data))
    (tmp_path / "b.gz").write_bytes(data)
    for name in ("a", "b.gz"):
        out = datasets.read_idx(tmp_path / name)
        assert out.shape == (2, 3, 4) and out.dtype.isnative and out.flags.writeable
        np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize(
    "data, match",
    [
        (idx_bytes(np.arange(3))[:-1], "is truncated: expected 3 bytes of data, found 2"),
        (idx_bytes(np.arange(3)) + b"\x00", "1 trailing bytes: expected 3 bytes of data, found 4"),
        (idx_bytes(np.arange(3), 0x0C)[:-2], "is truncated: expected 12 bytes of data, found 10"),
        (b"\x00\x00\x08\x03\x00\x00", "is truncated: its header needs 16 bytes"),
        (b"\x01\x02\x08\x01" + bytes(8), "has wrong magic number 0x01020801: not an IDX file"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x00", "unsupported data type code 0x0a"),
        (b"\x00\x00", "too short to be an IDX file"),
        (b"\x1f\x8b" + b"not really gzip", "not a valid gzip file"),
        (gzip.compress(idx_bytes(np.arange(300)))[:-30], "not a valid gzip file"),
    ],
    ids=[
        "truncated", "trailing", "truncated-int32", "truncated-header", "wrong-magic",
        "unsupported-type", "too-short", "corrupt-gzip", "cut-gzip",
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, data, match):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        datasets.read_idx(tmp_path / "nothing-here")


# ------------------------------------------------------- load_mnist on files


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_small_dir(tmp_path, gz):
    arrays = write_mnist_dir(tmp_path, gz=gz)
    (X, y), (Xt, yt) = datasets.load_mnist(tmp_path, dtype="float64")
    assert X.shape == (5, 784) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, arrays["train-images-idx3-ubyte"].reshape(5, 784) / 255.0)
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    (X3, _), (Xt3, _) = datasets.load_mnist(tmp_path, flatten=False)
    assert X3.shape == (5, 28, 28) and Xt3.shape == (3, 28, 28) and X3.flags.c_contiguous


def test_load_mnist_count_mismatch(tmp_path):
    write_mnist_dir(tmp_path, n_train=3, labels=[1, 2])
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_label_out_of_range(tmp_path):
    write_mnist_dir(tmp_path, n_train=3, labels=[1, 10, 2])
    with pytest.raises(ValueError, match=r"label 10 at index 1; MNIST labels must be in 0\.\.9"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_wrong_image_size(tmp_path):
    write_mnist_dir(tmp_path)
    name = "t10k-images-idx3-ubyte.gz"
    (tmp_path / name).write_bytes(gzip.compress(idx_bytes(np.zeros((3, 20, 20)))))
    with pytest.raises(ValueError, match="must hold 28x28 unsigned-byte images"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_missing_file(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="neither t10k-labels-idx1-ubyte nor"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_bad_options(tmp_path):
    write_mnist_dir(tmp_path)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got 'int32'"):
        datasets.load_mnist(tmp_path, dtype="int32")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        datasets.load_sample(dtype="not a dtype")
    with pytest.raises(ValueError, match="split must be 'standard' or 'book', got 'val'"):
        datasets.load_mnist(tmp_path, split="val")
    with pytest.raises(ValueError, match="holds out the last 10000 training examples"):
        datasets.load_mnist(tmp_path, split="book")


# ---------------------------------------------------------------- data_dir


def test_data_dir_resolution(tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("CNET_DATA_DIR", str(tmp_path))
    assert datasets.data_dir() == tmp_path
    assert datasets.data_dir(other) == other  # the argument wins over the environment
    monkeypatch.delenv("CNET_DATA_DIR")
    assert datasets.data_dir(str(other)) == other
    with pytest.raises(FileNotFoundError, match="pass path= or set the CNET_DATA_DIR"):
        datasets.data_dir()
    monkeypatch.setenv("CNET_DATA_DIR", "")  # empty counts as unset
    with pytest.raises(FileNotFoundError, match="CNET_DATA_DIR"):
        datasets.data_dir()
    monkeypatch.setenv("CNET_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=r"absent \(from CNET_DATA_DIR\) does not exist"):
        datasets.data_dir()


def test_env_dir_is_used_by_load_mnist(tmp_path, monkeypatch):
    arrays = write_mnist_dir(tmp_path, gz=False)
    monkeypatch.setenv("CNET_DATA_DIR", str(tmp_path))
    (_, y), _ = datasets.load_mnist()
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])


# -------------------------------------------------------------- to_tuples


def test_to_tuples_one_hot():
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    y = np.array([2, 0, 9])
    data = datasets.to_tuples(X, y, one_hot=True)
    assert len(data) == 3
    for i, (x, t) in enumerate(data):
        assert x.shape == (4, 1) and np.shares_memory(x, X)
        np.testing.assert_array_equal(x[:, 0], X[i])
        assert t.shape == (10, 1) and t.dtype == np.float32
        assert t.sum() == 1.0 and t[y[i], 0] == 1.0


def test_to_tuples_int_labels_and_targets():
    X = np.ones((2, 2, 3))  # samples are flattened
    data = datasets.to_tuples(X, np.array([7, 3], dtype=np.int64), one_hot=False)
    assert [t for _, t in data] == [7, 3] and all(type(t) is int for _, t in data)
    assert data[0][0].shape == (6, 1)
    assert [t for _, t in datasets.to_tuples(X, np.array([1, 2]))] == [1, 2]
    Y = np.array([[0.5, 0.25], [1.0, 0.0]])
    (_, t0), (_, t1) = datasets.to_tuples(X, Y)
    assert t0.shape == (2, 1) and t1[0, 0] == 1.0


def test_to_tuples_errors():
    X = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.9"):
        datasets.to_tuples(X, np.array([0, 1, 10]), one_hot=True)
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        datasets.to_tuples(X, np.array([0, 1]), one_hot=False)
    with pytest.raises(TypeError, match="X must be a floating-point array"):
        datasets.to_tuples(X.astype(np.uint8), np.array([0, 1, 2]), one_hot=False)
    with pytest.raises(TypeError, match="y must hold integer labels"):
        datasets.to_tuples(X, np.array([0.0, 1.0, 2.0]), one_hot=True)


# ------------------------------------------------------------ mnist_loader


def test_mnist_loader_formats(tmp_path):
    # The book split needs more than 10,000 training images; 10,004 blank-ish
    # ones make a fast stand-in for MNIST.
    arrays = write_mnist_dir(tmp_path, n_train=10004, n_test=3, gz=False)
    training, validation, test = cnet.mnist_loader.load_data(tmp_path)
    assert training[0].shape == (4, 784) and training[0].dtype == np.float32
    assert validation[0].shape == (10000, 784) and test[1].dtype == np.int64

    training, validation, test = cnet.mnist_loader.load_data_wrapper(tmp_path)
    assert (len(training), len(validation), len(test)) == (4, 10000, 3)
    labels = arrays["train-labels-idx1-ubyte"]
    for (x, y), label in zip(training, labels[:4]):
        assert x.shape == (784, 1) and y.shape == (10, 1)
        np.testing.assert_array_equal(y, cnet.mnist_loader.vectorized_result(label))
    x, y = validation[0]
    assert x.shape == (784, 1) and type(y) is int and y == labels[4]
    assert [y for _, y in test] == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_mnist_loader_without_data(tmp_path, monkeypatch):
    # No data anywhere and no download (an empty cache): the error says how to get it.
    monkeypatch.delenv("CNET_DATA_DIR", raising=False)
    monkeypatch.setenv("CNET_CACHE_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"cnet\.datasets\.load_sample") as info:
        cnet.mnist_loader.load_data_wrapper(download=False)
    assert "download=True" in str(info.value) and str(tmp_path / "mnist") in str(info.value)


def test_vectorized_result():
    e = cnet.mnist_loader.vectorized_result(3)
    assert e.shape == (10, 1) and e.dtype == np.float64
    assert e[3, 0] == 1.0 and e.sum() == 1.0
    with pytest.raises(ValueError, match="j must be a digit in 0..9"):
        cnet.mnist_loader.vectorized_result(10)
