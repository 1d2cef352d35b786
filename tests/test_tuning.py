"""cnet/_tuning.py: the CPU found, the settings chosen for it, the files
that override them -- and that no setting changes a result bit."""
import json

import numpy as np
import pytest

import cnet
from cnet import _tuning, _workspace
from cnet import stack as stack_module

ZEN3 = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n" \
       "flags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\n"
ZEN4 = ZEN3.replace("model\t\t: 1", "model\t\t: 17").replace("fma", "fma avx512f avx512bw")
ZEN5 = ZEN4.replace("cpu family\t: 25", "cpu family\t: 26")
ZEN2 = ZEN3.replace("cpu family\t: 25", "cpu family\t: 23")
SPR = ("vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
       "model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: sse2 avx2 fma avx512f\n")
HASWELL = SPR.replace(" avx512f", "")
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n"


@pytest.mark.parametrize("text, machine, system, name", [
    (ZEN2, "x86_64", "Linux", "zen2"), (ZEN3, "x86_64", "Linux", "zen3"),
    (ZEN4, "x86_64", "Linux", "zen4"), (ZEN5, "x86_64", "Linux", "zen5"),
    (SPR, "x86_64", "Linux", "intel-avx512"), (HASWELL, "x86_64", "Linux", "intel-avx2"),
    (ARM, "aarch64", "Linux", "arm64"), ("", "arm64", "Darwin", "apple"),
    ("", "x86_64", "Windows", "other"), ("garbage\x00:::\n", "x86_64", "Linux", "other"),
])
def test_the_microarchitecture_found(text, machine, system, name):
    facts = _tuning.cpu_facts(text, machine, system)
    assert _tuning.microarchitecture(facts) == name


def test_the_table_sizes_the_stack_chunk_from_the_l2():
    assert _tuning.table_settings("zen3", 512 << 10)["stack_chunk_bytes"] == 1 << 20
    assert _tuning.table_settings("zen4")["stack_chunk_bytes"] == 2 << 20
    assert _tuning.table_settings("apple")["stack_chunk_bytes"] == 8 << 20
    for micro in _tuning.L2_BYTES:
        s = _tuning.table_settings(micro)
        assert set(s) == set(_tuning.KNOBS)
        _tuning.check_settings(s, "table")


def test_import_applied_the_settings():
    state = _tuning.STATE
    assert state["micro"] == _tuning.microarchitecture(_tuning.cpu_facts())
    assert stack_module.SHARED_BYTES == state["settings"]["stack_chunk_bytes"]
    assert _workspace.BLOCK_MIN_ROWS == state["settings"]["block_min_rows"]
    assert cnet.config()["microarchitecture"] == state["micro"]


def _restore():
    _tuning.apply(_tuning.STATE["settings"])


def test_a_file_overrides_the_table(tmp_path, monkeypatch):
    micro = _tuning.STATE["micro"]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"cpu": micro, "settings": {"block_min_rows": 48}}))
    monkeypatch.setenv("CNET_TUNING", str(path))
    _, settings, source = _tuning.current()
    assert settings["block_min_rows"] == 48 and "CNET_TUNING" in source
    path.write_text(json.dumps({"cpu": "not-this-cpu", "settings": {"block_min_rows": 48}}))
    assert _tuning.current()[1]["block_min_rows"] == _tuning.DEFAULTS["block_min_rows"]


@pytest.mark.parametrize("content", [
    b"not json", b"[1, 2]", b"\xff\xfe", b"{" + b" " * (70 << 10) + b"}",
    b'{"cpu": "%s", "settings": {"block_min_rows": -1}}',
    b'{"cpu": "%s", "settings": {"block_min_rows": "32"}}',
    b'{"cpu": "%s", "settings": {"rm -rf": 1}}',
    b'{"cpu": "%s", "settings": {"sparse_min_zeros": 1e308}}',
])
def test_hostile_tuning_files_are_ignored_with_a_warning(tmp_path, monkeypatch, content):
    if b"%s" in content:
        content = content.replace(b"%s", _tuning.STATE["micro"].encode())
    path = tmp_path / "t.json"
    path.write_bytes(content)
    monkeypatch.setenv("CNET_TUNING", str(path))
    with pytest.warns(RuntimeWarning, match="ignores its tuning file"):
        _, settings, source = _tuning.current()
    assert source == "table"
    assert settings == _tuning.table_settings(_tuning.STATE["micro"],
                                              _tuning.l2_bytes(_tuning.STATE["micro"]))


def test_a_missing_or_unreadable_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CNET_TUNING", str(tmp_path / "absent.json"))
    assert _tuning.current()[2] == "table"
    monkeypatch.setenv("CNET_TUNING", str(tmp_path))  # a directory
    with pytest.warns(RuntimeWarning, match="could not read"):
        assert _tuning.current()[2] == "table"


def _train(kind):
    rng = np.random.default_rng(0)
    X = rng.random((180, 40))
    X[X < 0.75] = 0
    y = rng.integers(0, 3, 180)
    if kind == "stack":
        model = cnet.NetworkStack([40, 20, 3], [1, 2, 3], dtype="float32")
        model.fit(X, y, 2, 10, 1.0, n_threads=1)
        return [p for net in model for p in net.weights + net.biases]
    net = cnet.Network([40, 140, 3], seed=0, dtype="float64", activation="relu")
    net.fit(X, y, 2, 36 if kind == "wide-batch" else 8, 0.05, n_threads=1)
    return net.weights + net.biases


@pytest.mark.parametrize("kind", ["stack", "wide-batch", "small-batch"])
def test_no_setting_changes_a_result_bit(kind):
    """Every candidate value of every knob, and the extremes, train to the
    same bits (the knobs only schedule the same sums)."""
    base = dict(_tuning.STATE["settings"])
    try:
        ref = _train(kind)
        for knob, (candidates, (lo, hi)) in _tuning.KNOBS.items():
            for value in candidates + (lo if lo > 0 else 1, hi):
                _tuning.apply(dict(base, **{knob: value}))
                got = _train(kind)
                assert all(np.array_equal(a, b) for a, b in zip(ref, got)), (knob, value)
    finally:
        _restore()


def test_tune_measures_and_writes_a_file_the_next_import_reads(tmp_path, monkeypatch):
    path = tmp_path / "tuned.json"
    monkeypatch.setenv("CNET_TUNING", str(path))
    monkeypatch.setattr(_tuning, "_jobs", _small_jobs)
    lines = []
    saved = dict(_tuning.STATE)
    try:
        settings = cnet.tune(rounds=1, log=lines.append)
        doc = json.loads(path.read_text())
        assert doc["cpu"] == _tuning.STATE["micro"] and doc["settings"] == settings
        assert set(doc["seconds"]) == set(_tuning.KNOBS)
        for knob, (candidates, _) in _tuning.KNOBS.items():
            assert settings[knob] in candidates + (_tuning.table_settings(
                doc["cpu"], _tuning.l2_bytes(doc["cpu"]))[knob],)
        assert _tuning.current()[1] == settings
        assert len(lines) == len(_tuning.KNOBS) + 1
    finally:
        _tuning.STATE.update(saved)  # tune() made its measured settings the state
        _restore()


def _small_jobs(rng):
    X = rng.random((200, 30), dtype=np.float32)
    y = rng.integers(0, 3, 200)
    job = ("net", (X, y), [30, 8, 3], dict(dtype="float32"), dict(batch_size=10, eta=1.0))
    return {knob: (("stack",) + job[1:]) if knob == "stack_chunk_bytes" else job
            for knob in _tuning.KNOBS}


def test_the_lists_need_a_wide_enough_first_layer(monkeypatch):
    X = np.zeros((10, 20))
    X[0, 0] = 1.0
    monkeypatch.setattr(_workspace, "SPARSE_MIN_OUTPUTS", 64)
    monkeypatch.setattr(_workspace, "SPARSE_MIN_ZEROS", 0.3)
    assert _workspace.sparse_input(X) and _workspace.sparse_input(X, 64)
    assert not _workspace.sparse_input(X, 63)
    assert _tuning.table_settings("zen3")["sparse_min_outputs"] == 64
    assert _tuning.table_settings("zen4")["sparse_min_outputs"] == 1
