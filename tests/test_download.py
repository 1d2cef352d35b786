"""The download path of cnet.datasets, end to end against a local HTTP server.

Every test serves files from a ``http.server`` on 127.0.0.1 started in a
thread; nothing touches the internet. The files are small fake IDX files
whose MD5s are patched into the checksum table (or, when CNET_DATA_DIR is
set, the real MNIST files with the real checksums). Faults are injected per
request: a 500, or a body cut off halfway (the connection closes after half
the promised Content-Length).
"""

import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import cnet._download
from cnet import datasets

MNIST_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def md5(data):
    return hashlib.md5(data).hexdigest()


def fake_idx_set(seed, n_train=6, n_test=4):
    """Four small MNIST-format files: {name: raw IDX bytes}."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_train, 28, 28))),
        "train-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_train)),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_test, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_test)),
    }


# ------------------------------------------------------------------ server


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so cutting a body short is just
    # returning early (the server then closes the socket).

    def do_GET(self):
        state = self.server.state
        with state.lock:
            state.requests.append((self.path, self.headers.get("Range")))
            queue = state.faults.get(self.path)
            fault = queue.pop(0) if queue else None
        if fault == 500:
            self.send_error(500, "injected failure")
            return
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start, ranged = 0, self.headers.get("Range")
        if ranged and state.ranges:
            start = int(re.fullmatch(r"bytes=(\d+)-", ranged).group(1))
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if fault == "half" else body)

    def log_message(self, *args):
        pass


class LocalServer:
    """Serves ``files`` {url path: bytes}; ``faults`` {url path: [500 | "half",
    ...]} are used up one per request; ``requests`` logs (path, Range header)."""

    def __init__(self):
        self.files, self.faults, self.requests = {}, {}, []
        self.ranges = True  # honour Range requests
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.state = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    def paths(self):
        return [path for path, _ in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    srv = LocalServer()
    yield srv
    srv.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder; no CNET_DATA_DIR, no system folders, no waiting."""
    root = tmp_path / "cache"
    monkeypatch.setenv("CNET_CACHE_DIR", str(root))
    monkeypatch.delenv("CNET_DATA_DIR", raising=False)
    monkeypatch.setattr(cnet._download, "BACKOFF", 0.0)
    monkeypatch.setattr(cnet._download, "TIMEOUT", 5.0)
    monkeypatch.setitem(datasets._SYSTEM_DIRS, "fashion-mnist", [])
    return root


def serve_idx_set(server, monkeypatch, key="mnist", seed=0, prefix="/a/"):
    """Serve a fake IDX set under ``prefix``, gzipped, and patch its MD5s and
    mirror in; return the raw files."""
    raw = fake_idx_set(seed)
    for name, data in raw.items():
        server.files[f"{prefix}{name}.gz"] = gzip.compress(data, mtime=0)
        monkeypatch.setitem(datasets._CHECKSUMS[key], name, md5(data))
    monkeypatch.setitem(datasets.MIRRORS, key, [server.url + prefix])
    return raw


def cache_files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def assert_loaded(result, raw):
    (X, y), (Xt, yt) = result
    images = np.frombuffer(raw["train-images-idx3-ubyte"][16:], np.uint8)
    np.testing.assert_array_equal(X, images.reshape(-1, 784) / np.float32(255))
    np.testing.assert_array_equal(y, np.frombuffer(raw["train-labels-idx1-ubyte"][8:], np.uint8))
    np.testing.assert_array_equal(yt, np.frombuffer(raw["t10k-labels-idx1-ubyte"][8:], np.uint8))
    assert X.dtype == np.float32 and y.dtype == np.int64 and Xt.shape == (4, 784)


# ----------------------------------------------------------------- success


def test_download_success_then_cached(server, cache, monkeypatch, capsys):
    raw = serve_idx_set(server, monkeypatch)
    assert_loaded(datasets.load_mnist(), raw)
    folder = cache / "mnist"
    assert cache_files(folder) == sorted(f"{name}.gz" for name in MNIST_NAMES)  # no .part
    for name in MNIST_NAMES:
        assert md5(gzip.decompress((folder / f"{name}.gz").read_bytes())) == md5(raw[name])
    assert sorted(server.paths()) == sorted(f"/a/{name}.gz" for name in MNIST_NAMES)
    assert f"Downloading {server.url}/a/train-images-idx3-ubyte.gz" in capsys.readouterr().err

    # Second call: read from the cache, no request.
    n_requests = len(server.requests)
    assert_loaded(datasets.load_mnist(download=False), raw)
    assert len(server.requests) == n_requests


def test_progress_in_a_log(server, cache, monkeypatch, capsys):
    serve_idx_set(server, monkeypatch)
    datasets.load_mnist()
    err = capsys.readouterr().err
    # Not a terminal: a start and an end line per file, no carriage returns.
    assert "\r" not in err and err.count("\n") == 8
    assert re.search(r"train-labels-idx1-ubyte\.gz: [\d.]+ / [\d.]+ MB \(100%\)", err)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_progress_on_a_terminal(server, cache, monkeypatch, with_tqdm):
    serve_idx_set(server, monkeypatch)
    if with_tqdm:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    datasets.load_mnist()
    err = sys.stderr.getvalue()
    assert "Downloading" in err and "\r" in err
    assert ("it/s" in err or "B/s" in err) == with_tqdm


def test_mirrors_argument_and_fashion_mnist(server, cache, monkeypatch, tmp_path):
    # Fashion-MNIST has MNIST's file names: a CNET_DATA_DIR holding MNIST
    # flat must not be mistaken for it.
    mnist_dir = tmp_path / "mnist-flat"
    mnist_dir.mkdir()
    for name, data in fake_idx_set(seed=1).items():
        (mnist_dir / name).write_bytes(data)
    monkeypatch.setenv("CNET_DATA_DIR", str(mnist_dir))
    raw = serve_idx_set(server, monkeypatch, key="fashion-mnist", seed=2, prefix="/f/")
    monkeypatch.setitem(datasets.MIRRORS, "fashion-mnist", ["http://127.0.0.1:1/nothing/"])
    result = datasets.load_fashion_mnist(mirrors=[server.url + "/f/"])
    assert_loaded(result, raw)
    assert cache_files(cache / "fashion-mnist") == sorted(f"{n}.gz" for n in MNIST_NAMES)
    # MNIST itself still comes from CNET_DATA_DIR, with no request.
    n_requests = len(server.requests)
    assert_loaded(datasets.load_mnist(), fake_idx_set(seed=1))
    assert len(server.requests) == n_requests


def test_data_dir_subfolder_is_used_before_the_cache(server, cache, monkeypatch, tmp_path):
    raw = serve_idx_set(server, monkeypatch)
    root = tmp_path / "data"
    (root / "fashion-mnist").mkdir(parents=True)
    for name, data in raw.items():
        (root / "fashion-mnist" / f"{name}.gz").write_bytes(gzip.compress(data))
    monkeypatch.setenv("CNET_DATA_DIR", str(root))
    assert_loaded(datasets.load_fashion_mnist(download=False), raw)
    # MNIST is not under CNET_DATA_DIR: it falls through to the cache.
    assert_loaded(datasets.load_mnist(), raw)
    assert len(server.requests) == 4 and (cache / "mnist").is_dir()


def test_real_mnist_checksums(server, cache, mnist_dir, monkeypatch):
    """The real files, served locally, pass the real (unpatched) checksums."""
    for name in MNIST_NAMES:
        path = mnist_dir / f"{name}.gz"
        data = path.read_bytes() if path.is_file() else gzip.compress(
            (mnist_dir / name).read_bytes(), compresslevel=1)
        server.files[f"/real/{name}.gz"] = data
    (_, y), (_, yt) = datasets.load_mnist(mirrors=[server.url + "/real/"], download=True)
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                        5851, 5949]
    assert len(yt) == 10000


# ------------------------------------------------------- checksum mismatch


def test_checksum_mismatch_keeps_good_files(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", [server.url + "/a/", server.url + "/b/"])
    # A good file already in the cache, and mirrors serving a bad labels file.
    folder = cache / "mnist"
    folder.mkdir(parents=True)
    good = folder / "train-images-idx3-ubyte.gz"
    good_bytes = gzip.compress(raw["train-images-idx3-ubyte"], mtime=0)
    good.write_bytes(good_bytes)
    os.utime(good, (1_000_000, 1_000_000))
    bad = gzip.compress(raw["train-labels-idx1-ubyte"][:-1] + b"\x09")
    server.files["/a/train-labels-idx1-ubyte.gz"] = bad
    server.files["/b/train-labels-idx1-ubyte.gz"] = bad

    with pytest.raises(datasets.ChecksumError) as info:
        datasets.load_mnist()
    message = str(info.value)
    expected = md5(raw["train-labels-idx1-ubyte"])
    actual = md5(raw["train-labels-idx1-ubyte"][:-1] + b"\x09")
    assert "train-labels-idx1-ubyte.gz" in message and expected in message
    assert actual in message and "/b/" in message
    assert (info.value.name, info.value.expected, info.value.actual) == (
        "train-labels-idx1-ubyte.gz", expected, actual)
    assert isinstance(info.value, datasets.DownloadError) and isinstance(info.value, OSError)
    # One request per mirror (a fresh download that fails its MD5 is not
    # retried on the same mirror), nothing bad left, the good file untouched.
    assert server.paths().count("/a/train-labels-idx1-ubyte.gz") == 1
    assert server.paths().count("/b/train-labels-idx1-ubyte.gz") == 1
    assert cache_files(folder) == ["train-images-idx3-ubyte.gz"]
    assert good.stat().st_mtime == 1_000_000
    assert good.read_bytes() == good_bytes


def test_not_gzip_is_a_checksum_error(server, cache, monkeypatch):
    serve_idx_set(server, monkeypatch)
    server.files["/a/t10k-labels-idx1-ubyte.gz"] = b"\x1f\x8bnot gzip at all"
    with pytest.raises(datasets.ChecksumError, match="not valid gzip"):
        datasets.load_mnist()
    assert not any(n.startswith("t10k-labels") for n in cache_files(cache / "mnist"))


# --------------------------------------------------- failures and retries


def test_cut_off_body_is_resumed_with_range(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    path = "/a/train-images-idx3-ubyte.gz"
    server.faults[path] = ["half", 500, "half"]
    assert_loaded(datasets.load_mnist(), raw)
    full = len(server.files[path])
    first = full // 2
    second = first + (full - first) // 2
    ranges = [r for p, r in server.requests if p == path]
    # half; a 500 (asked with the range); half of the rest; the rest.
    assert ranges == [None, f"bytes={first}-", f"bytes={first}-", f"bytes={second}-"]
    assert cache_files(cache / "mnist") == sorted(f"{n}.gz" for n in MNIST_NAMES)


def test_server_without_range_support_restarts(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    server.ranges = False
    server.faults["/a/train-images-idx3-ubyte.gz"] = ["half"]
    assert_loaded(datasets.load_mnist(), raw)


def test_stale_part_file_fails_md5_then_restarts(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    folder = cache / "mnist"
    folder.mkdir(parents=True)
    # A leftover .part that is not a prefix of the file: resuming it gives a
    # bad MD5, so the download restarts from scratch on the same mirror.
    (folder / "t10k-labels-idx1-ubyte.gz.part").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 12)
    assert_loaded(datasets.load_mnist(), raw)
    ranges = [r for p, r in server.requests if p == "/a/t10k-labels-idx1-ubyte.gz"]
    assert ranges == ["bytes=16-", None]


def test_500s_exhaust_one_mirror_then_the_next_serves(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", [server.url + "/down/", server.url + "/a/"])
    for name in MNIST_NAMES:
        server.faults[f"/down/{name}.gz"] = [500] * 10
    assert_loaded(datasets.load_mnist(), raw)
    assert server.paths().count("/down/train-images-idx3-ubyte.gz") == cnet._download.RETRIES


def test_all_mirrors_fail_leaves_only_a_resumable_part(server, cache, monkeypatch):
    raw = serve_idx_set(server, monkeypatch)
    monkeypatch.setitem(datasets.MIRRORS, "mnist", [server.url + "/gone/", server.url + "/a/"])
    path = "/a/train-images-idx3-ubyte.gz"
    server.faults[path] = ["half"] + [500] * cnet._download.RETRIES
    with pytest.raises(datasets.DownloadError) as info:
        datasets.load_mnist()
    assert not isinstance(info.value, datasets.ChecksumError)
    message = str(info.value)
    assert "/gone/train-images-idx3-ubyte.gz: HTTP 404" in message  # not retried
    assert message.count(f"{server.url}{path}: connection closed") == 1
    assert message.count(f"{server.url}{path}: HTTP 500") == cnet._download.RETRIES
    assert "is kept, and the next call resumes it" in message
    folder = cache / "mnist"
    assert cache_files(folder) == ["train-images-idx3-ubyte.gz.part"]
    part = (folder / "train-images-idx3-ubyte.gz.part").read_bytes()
    assert 0 < len(part) < len(server.files[path]) and server.files[path].startswith(part)
    assert server.paths().count("/gone/train-images-idx3-ubyte.gz") == 1
    # No data set was loaded from the partial file; the next call resumes it.
    with pytest.raises(FileNotFoundError, match="missing train-images-idx3-ubyte"):
        datasets.load_mnist(download=False)
    server.requests.clear()
    assert_loaded(datasets.load_mnist(), raw)
    assert (path, f"bytes={len(part)}-") in server.requests


def test_unreachable_mirror_is_a_download_error(cache, monkeypatch):
    monkeypatch.setitem(datasets.MIRRORS, "mnist", ["http://127.0.0.1:9/"])  # discard port
    with pytest.raises(datasets.DownloadError, match="could not download train-images"):
        datasets.load_mnist()
    with pytest.raises(datasets.DownloadError, match="unknown url type"):
        datasets.load_mnist(mirrors=["nonsense://x/"])


# ------------------------------------------------------ where data may go


def test_cache_dir_under_a_regular_file(server, cache, monkeypatch, tmp_path):
    serve_idx_set(server, monkeypatch)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CNET_CACHE_DIR", str(blocker / "cache"))
    with pytest.raises(datasets.DownloadError) as info:
        datasets.load_mnist()
    message = str(info.value)
    assert str(blocker / "cache" / "mnist") in message
    assert "CNET_CACHE_DIR" in message and "path=" in message
    assert server.requests == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores permission bits")
def test_read_only_cache_dir(server, cache, monkeypatch, tmp_path):
    serve_idx_set(server, monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setenv("CNET_CACHE_DIR", str(locked))
    try:
        with pytest.raises(datasets.DownloadError, match="cannot write to the cnet cache"):
            datasets.load_mnist()
    finally:
        locked.chmod(0o700)


def test_no_download_when_not_allowed_or_path_given(server, cache, monkeypatch, tmp_path):
    serve_idx_set(server, monkeypatch)
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_mnist(download=False)
    message = str(info.value)
    assert str(cache / "mnist") in message and "download=True" in message
    assert "load_sample" in message
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.load_fashion_mnist(download=False)
    with pytest.raises(FileNotFoundError, match="neither train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path)  # an explicit folder is never downloaded into
    assert server.requests == [] and not (cache / "mnist").exists()


# ------------------------------------------------------------- CIFAR-10


def cifar_archive(n_per_batch=7, seed=0, extra=()):
    """A cifar-10-binary.tar.gz in the real layout; returns (bytes, labels)."""
    rng = np.random.default_rng(seed)
    buffer, labels = io.BytesIO(), {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name in names + list(extra):
            records = rng.integers(0, 256, (n_per_batch, 3073), dtype=np.uint8)
            records[:, 0] = rng.integers(0, 10, n_per_batch)
            labels[name] = records[:, 0].copy()
            info = tarfile.TarInfo(name if name in extra else f"cifar-10-batches-bin/{name}")
            data = records.tobytes()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), labels


def test_cifar10_download_extract_and_load(server, cache, monkeypatch, tmp_path):
    archive, labels = cifar_archive(extra=("../escaped.bin",))
    server.files["/kriz/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setitem(datasets.MIRRORS, "cifar-10", [server.url + "/kriz/"])
    monkeypatch.setitem(datasets._CHECKSUMS["cifar-10"], "cifar-10-binary.tar.gz", md5(archive))
    server.faults["/kriz/cifar-10-binary.tar.gz"] = ["half"]

    (X, y), (Xt, yt) = datasets.load_cifar10()
    assert X.shape == (35, 3072) and Xt.shape == (7, 3072) and X.dtype == np.float32
    np.testing.assert_array_equal(
        y, np.concatenate([labels[f"data_batch_{i}.bin"] for i in range(1, 6)]))
    np.testing.assert_array_equal(yt, labels["test_batch.bin"])
    folder = cache / "cifar-10"
    assert cache_files(folder) == ["cifar-10-batches-bin"]  # archive deleted after extraction
    assert len(cache_files(folder / "cifar-10-batches-bin")) == 6
    assert not (cache / "escaped.bin").exists() and not (tmp_path / "escaped.bin").exists()
    n_requests = len(server.requests)
    datasets.load_cifar10(download=False)
    assert len(server.requests) == n_requests == 2  # half, then resumed


def test_cifar10_bad_archive_checksum(server, cache, monkeypatch):
    archive, _ = cifar_archive()
    server.files["/kriz/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setitem(datasets.MIRRORS, "cifar-10", [server.url + "/kriz/"])
    with pytest.raises(datasets.ChecksumError, match="c32a1d4ab5d03f1284b67883e8d87530"):
        datasets.load_cifar10()
    assert cache_files(cache / "cifar-10") == []
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-bin"):
        datasets.load_cifar10(download=False)


# --------------------------------------------------------- cache_dir rules


def test_cache_dir_per_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("CNET_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.cache_dir() == tmp_path / "xdg" / "cnet"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert datasets.cache_dir("mnist") == tmp_path / ".cache" / "cnet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert datasets.cache_dir("cifar-10") == tmp_path / ".cache" / "cnet" / "cifar-10"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert datasets.cache_dir() == tmp_path / "Library" / "Caches" / "cnet"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    expected = tmp_path / "Local" / "cnet" / "Cache" / "fashion-mnist"
    assert datasets.cache_dir("fashion-mnist") == expected
    monkeypatch.setenv("CNET_CACHE_DIR", str(tmp_path / "mine"))
    assert datasets.cache_dir("mnist") == tmp_path / "mine" / "mnist"
