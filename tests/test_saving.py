"""Saving and loading (cnet/saving.py): the .npz model format, its checks,
atomic writes, and network2.py's JSON files.

Small networks on synthetic data; nothing here trains for long.
"""
import json
import os
import stat

import numpy as np
import pytest

import cnet
from cnet import reference, saving

CONFIGS = [
    # sizes, activation, output_activation, cost, init
    ([5, 3, 2], "sigmoid", None, "quadratic", "normal"),
    ([7, 6, 5, 4], "relu", "softmax", "log_likelihood", "he"),
    ([4, 9, 3], "tanh", "sigmoid", "cross_entropy", "xavier"),
    ([1, 1], "leaky_relu", None, "quadratic", "scaled_normal"),
    ([6, 17, 8, 3], "identity", "softmax", "log_likelihood", "normal"),
]


def make_net(config, dtype, seed=3):
    sizes, act, out, cost, init = config
    return cnet.Network(sizes, activation=act, output_activation=out, cost=cost, init=init,
                        dtype=dtype, seed=seed)


def trained(config, dtype):
    """A network moved away from its initial weights by a little training."""
    net = make_net(config, dtype)
    rng = np.random.default_rng(0)
    X = rng.random((40, net.sizes[0]))
    y = rng.integers(0, net.sizes[-1], 40)
    net.fit(X, y, epochs=2, batch_size=7, eta=0.1, n_threads=1)
    return net, X


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture
def model(tmp_path):
    net, X = trained(CONFIGS[1], "float32")
    path = tmp_path / "model.npz"
    net.save(path)
    return net, X, path


# -- round trip ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c[0])) + c[1])
def test_round_trip_is_bit_exact(config, dtype, tmp_path):
    net, X = trained(config, dtype)
    path = tmp_path / "m.npz"
    net.save(path)
    loaded = cnet.load(path)
    assert isinstance(loaded, cnet.Network)
    assert loaded.sizes == net.sizes and loaded.dtype == net.dtype
    assert (loaded.activation, loaded.output_activation, loaded.init) == \
        (net.activation, net.output_activation, net.init)
    assert loaded._cost is net._cost
    for a, b in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        assert same_bits(a, b)
    assert same_bits(loaded.forward(X, n_threads=1), net.forward(X, n_threads=1))
    assert same_bits(loaded.predict(X), net.predict(X))


def test_the_file_is_plain_npz_with_json_metadata(model):
    net, _, path = model
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["W0", "W1", "W2", "b0", "b1", "b2", "metadata"]
        for l, (W, b) in enumerate(zip(net.weights, net.biases)):
            assert same_bits(f[f"W{l}"], W) and same_bits(f[f"b{l}"], b.ravel())
        meta = json.loads(f["metadata"][()])
    assert meta["format"] == "cnet-model" and meta["format_version"] == saving.FORMAT_VERSION
    assert meta["cnet_version"] == cnet.__version__
    assert meta["sizes"] == [7, 6, 5, 4] and meta["dtype"] == "float32"
    assert (meta["activation"], meta["output_activation"], meta["cost"], meta["init"]) == \
        ("relu", "softmax", "log_likelihood", "he")


def test_training_a_loaded_network_continues_exactly(tmp_path):
    # The random generator's state is saved: 2 epochs + save/load + 2 epochs
    # equals 4 epochs straight (the shuffles are the same).
    rng = np.random.default_rng(1)
    X, y = rng.random((60, 5)), rng.integers(0, 2, 60)
    straight = make_net(CONFIGS[0], "float64", seed=11)
    straight.fit(X, y, epochs=4, batch_size=5, eta=0.5, n_threads=1)
    first = make_net(CONFIGS[0], "float64", seed=11)
    first.fit(X, y, epochs=2, batch_size=5, eta=0.5, n_threads=1)
    first.save(tmp_path / "half.npz")
    resumed = cnet.load(tmp_path / "half.npz")
    resumed.fit(X, y, epochs=2, batch_size=5, eta=0.5, n_threads=1)
    for a, b in zip(resumed.weights, straight.weights):
        assert same_bits(a, b)


def test_save_overwrites_and_writes_exactly_the_given_name(tmp_path):
    a, _ = trained(CONFIGS[0], "float64")
    b = make_net(CONFIGS[0], "float64", seed=99)
    path = tmp_path / "model"  # no suffix is added
    a.save(path)
    b.save(path)
    assert os.listdir(tmp_path) == ["model"]
    assert same_bits(cnet.load(path).weights[0], b.weights[0])


def test_saved_file_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    make_net(CONFIGS[0], "float32").save(tmp_path / "m.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o666 & ~umask


def test_load_with_metadata_returns_the_info(tmp_path):
    net = make_net(CONFIGS[0], "float32")
    saving.save(net, tmp_path / "m.npz", info={"epochs": 3, "note": "hello"})
    loaded, meta = saving.load_with_metadata(tmp_path / "m.npz")
    assert meta["info"] == {"epochs": 3, "note": "hello"}
    assert same_bits(loaded.weights[0], net.weights[0])
    with pytest.raises(TypeError, match="JSON"):
        saving.save(net, tmp_path / "n.npz", info={"bad": object()})
    assert not (tmp_path / "n.npz").exists()


# -- a crash during save leaves the old file intact ------------------------------------

@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_crash_while_saving_keeps_the_old_file(model, monkeypatch, exc):
    net, _, path = model
    before = path.read_bytes()
    real_savez = np.savez

    def crashing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip file")  # some bytes reach the temp file...
        raise exc                                    # ...then the disk fills / Ctrl-C

    monkeypatch.setattr(np, "savez", crashing_savez)
    other = make_net(CONFIGS[1], "float32", seed=5)
    with pytest.raises(type(exc)):
        other.save(path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no temp file left behind
    assert same_bits(cnet.load(path).weights[0], net.weights[0])


def test_crash_in_fsync_keeps_the_old_file(model, monkeypatch):
    _, _, path = model
    before = path.read_bytes()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        make_net(CONFIGS[1], "float32", seed=5).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(path.parent) == [path.name]


def test_save_into_a_missing_directory_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        make_net(CONFIGS[0], "float32").save(tmp_path / "nowhere" / "m.npz")


# -- damaged files ---------------------------------------------------------------------

def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        cnet.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_raises_model_file_error(model, keep):
    _, _, path = model
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(cnet.ModelFileError, match="truncated or corrupted") as exc:
        cnet.load(path)
    assert str(path) in str(exc.value)


def test_empty_file(tmp_path):
    (tmp_path / "m.npz").write_bytes(b"")
    with pytest.raises(cnet.ModelFileError, match="empty"):
        cnet.load(tmp_path / "m.npz")


def test_not_a_model_file(tmp_path):
    (tmp_path / "m.npz").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(cnet.ModelFileError, match="not a cnet model file"):
        cnet.load(tmp_path / "m.npz")


def test_flipped_byte_in_the_weights_is_a_crc_error(model):
    net, _, path = model
    data = bytearray(path.read_bytes())
    # Find W0's raw float data in the archive and damage one byte of it.
    offset = bytes(data).find(np.ascontiguousarray(net.weights[0]).tobytes())
    assert offset > 0
    data[offset + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(cnet.ModelFileError, match="(?i)crc"):
        cnet.load(path)


def rewrite(path, drop=(), **replace):
    """Write path again with entries dropped or replaced (arrays or metadata dict)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k not in drop}
    meta = json.loads(arrays["metadata"][()]) if "metadata" in arrays else None
    for key, value in replace.items():
        if key == "meta":
            meta = {**meta, **value}
        else:
            arrays[key] = value
    if meta is not None and "metadata" not in replace:
        arrays["metadata"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("change, message", [
    (dict(drop=("W1",)), "missing W1"),
    (dict(drop=("metadata",)), "no 'metadata' entry"),
    (dict(extra=np.zeros(3)), "unexpected extra"),
    (dict(W0=np.zeros((6, 8), np.float32)), r"W0 has shape \(6, 8\), but sizes=\[7, 6, 5, 4\] "
                                            r"needs \(6, 7\)"),
    (dict(b2=np.zeros((4, 1), np.float32)), r"b2 has shape \(4, 1\)"),
    (dict(W1=np.zeros((5, 6), np.float64)), "W1 has dtype float64, but the metadata says float32"),
    (dict(W1=np.zeros((5, 6), np.int32)), "W1 has dtype int32"),
    (dict(b0=np.full(6, np.nan, np.float32)), "b0 contains NaN or infinity"),
    (dict(meta={"sizes": [7, 6, 4]}), "entries do not match sizes"),
    (dict(meta={"sizes": [7, 0, 5, 4]}), "invalid sizes"),
    (dict(meta={"activation": "swish"}), "unknown activation 'swish'"),
    (dict(meta={"cost": "hinge"}), "unknown cost 'hinge'"),
    (dict(meta={"dtype": "float16"}), "unknown dtype 'float16'"),
    (dict(meta={"cost": "cross_entropy"}),
     "inconsistent metadata: cost='cross_entropy' does not fit"),
    (dict(meta={"format": "something-else"}), "not a cnet model file"),
    (dict(meta={"format_version": "1"}), "invalid format_version"),
    (dict(meta={"rng": {"bit_generator": "PCG64", "state": "nonsense"}}), "random-generator state"),
    (dict(metadata=np.array("{not json")), "not valid JSON"),
    (dict(metadata=np.frombuffer(b'{"a": 1}', np.uint8)), "must be a JSON string"),
])
def test_mismatched_file_raises_model_file_error(model, change, message):
    _, _, path = model
    rewrite(path, **change)
    with pytest.raises(cnet.ModelFileError, match=message) as exc:
        cnet.load(path)
    assert str(path) in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_missing_metadata_key(model):
    _, _, path = model
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays["metadata"][()])
    del meta["init"]
    arrays["metadata"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(cnet.ModelFileError, match="lacks 'init'"):
        cnet.load(path)


def test_file_from_a_future_format_version_says_upgrade(model):
    _, _, path = model
    rewrite(path, meta={"format_version": saving.FORMAT_VERSION + 1, "cnet_version": "9.0.0",
                        "new_thing": [1, 2]})
    with pytest.raises(cnet.ModelFileError) as exc:
        cnet.load(path)
    message = str(exc.value)
    assert "cnet 9.0.0" in message and f"version {saving.FORMAT_VERSION + 1}" in message
    assert "pip install --upgrade cnet-nn" in message


def test_pickled_object_array_is_refused(model):
    _, _, path = model
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["W0"] = np.array([{"x": 1}], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(cnet.ModelFileError):
        cnet.load(path)


# -- network2.py's JSON files ----------------------------------------------------------

def network2_save(path, sizes, weights, biases, cost):
    """What network2.py's Network.save(filename) writes, line for line."""
    data = {"sizes": sizes,
            "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases],
            "cost": str(cost)}
    f = open(path, "w")
    json.dump(data, f)
    f.close()


@pytest.mark.parametrize("cost, name", [("CrossEntropyCost", "cross_entropy"),
                                        ("QuadraticCost", "quadratic")])
def test_loads_network2_json(tmp_path, cost, name):
    rng = np.random.default_rng(4)
    sizes = [6, 5, 3]
    weights = [rng.standard_normal((y, x)) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    path = tmp_path / "net2.json"
    network2_save(path, sizes, weights, biases, cost)
    net, meta = saving.load_with_metadata(path)
    assert net.sizes == sizes and net.dtype == np.float64
    assert (net.activation, net.output_activation, net._cost.name) == ("sigmoid", "sigmoid", name)
    assert meta["format"] == "network2.py JSON"
    for a, b in zip(net.weights + net.biases, weights + biases):
        assert np.array_equal(a, b)
    # Predictions as network2.py's feedforward computes them (the NumPy oracle).
    X = rng.random((20, 6))
    expected = reference.feedforward([w for w in weights], [b.ravel() for b in biases],
                                     ["sigmoid", "sigmoid"], X)[-1]
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-12)


def test_network2_json_detected_by_content_not_name(tmp_path):
    path = tmp_path / "model.npz"  # misleading suffix
    network2_save(path, [2, 2], [np.eye(2)], [np.zeros((2, 1))], "QuadraticCost")
    assert cnet.load(path).sizes == [2, 2]


@pytest.mark.parametrize("data, message", [
    ('{"sizes": [2, 2], "weights": [[[1, 2], [3, 4]]], "biases": [[[0], [0]]], '
     '"cost": "HingeCost"}', "unknown cost 'HingeCost'"),
    ('{"sizes": [2, 2], "weights": [[[1, 2]]], "biases": [[[0], [0]]], '
     '"cost": "QuadraticCost"}', r"weights\[0\] has shape \(1, 2\)"),
    ('{"sizes": [2, 2], "weights": [[[1, 2], [3]]], "biases": [[[0], [0]]], '
     '"cost": "QuadraticCost"}', "not a rectangular array"),
    ('{"sizes": [2, 2], "weights": [], "biases": [[[0], [0]]], "cost": "QuadraticCost"}',
     "weights must be a list of 1 arrays"),
    ('{"sizes": [2, 2], "weights": [[[1, 2], [3, NaN]]], "biases": [[[0], [0]]], '
     '"cost": "QuadraticCost"}', "NaN or infinity"),
    ('{"sizes": [2, 2], "weights": [[[1, 2], [3, 4]]]', "not valid JSON"),
    ('{"layers": [2, 2]}', "expected a JSON object with keys sizes"),
    ('{"sizes": [2], "weights": [], "biases": [], "cost": "QuadraticCost"}', "invalid sizes"),
])
def test_bad_network2_json(tmp_path, data, message):
    path = tmp_path / "net2.json"
    path.write_text(data)
    with pytest.raises(cnet.ModelFileError, match=message):
        cnet.load(path)


def test_model_file_error_is_exported_and_documented():
    assert cnet.ModelFileError is saving.ModelFileError
    assert issubclass(cnet.ModelFileError, ValueError)
    assert cnet.ModelFileError.__doc__ and cnet.load.__doc__
    assert "load" in cnet.__all__ and "ModelFileError" in cnet.__all__
