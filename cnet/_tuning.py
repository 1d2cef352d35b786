"""Run-time settings for the CPU at hand: the choices that change no result.

The kernels' instruction set and register tile are chosen at import by
cnet/_dispatch.py (the widest variant the CPU runs; no -march=native).
Within a variant, these choices are made here, per microarchitecture, and
none of them changes a bit of any result -- each only decides how the same
sums are scheduled (tests/test_tuning.py trains with every candidate value
and compares the bits):

* ``stack_chunk_bytes`` (cnet/stack.py SHARED_BYTES): how much of the
  gathered input a stack's thread keeps in flight while each network runs
  through it; sized to the core's L2, which holds one network's working set.
* ``block_min_rows`` and ``block_min_outputs`` (cnet/_workspace.py): from
  which batch size or layer width the first layer's update reads the batch
  in feature blocks instead of in place.
* ``sparse_min_zeros`` and ``sparse_min_outputs`` (cnet/_workspace.py):
  the fraction of zero inputs, and the first layer's width in training,
  from which the first layer takes only the steps with a nonzero input.
* ``pack_min_rows`` (cnet/_workspace.py): from which batch size the forward
  pass copies W^T into panels that its tiles stream.
* ``forward_kc``: the length of the blocks of k in which the packed forward
  pass sums (0: the kernels' own, a panel's block in a 32 KiB L1), so that
  a block stays in L1 while every row block of the batch passes over it.
* ``prefetch_next_batch`` (0 or 1): whether the first layer fetches the
  next mini-batch's rows of X ahead, spread over its update.
* ``rowwise_min_bytes`` (cnet/_workspace.py): from which size of a layer's
  W a batch of at most 16 rows walks W along its rows in the forward pass
  (0: never), instead of down column panels read in place.

The values come from, in order: the file named by ``CNET_TUNING`` (JSON, as
:func:`tune` writes); the file :func:`tune` wrote for this CPU in cnet's
cache folder (``tuning-<cpu>.json``); else the table below for the
microarchitecture found, with the stack's chunk sized from the L2 the OS
reports.  A file is JSON only, at most 64 KiB, every value checked; one
that does not fit is ignored with a warning (never executed, never a crash).
``cnet.show_config()`` prints what was chosen and from where.
"""
import json
import os
import platform
import time
import warnings

from ._download import cache_dir

# Candidate values tune() measures, and the range a file's value must be in.
KNOBS = {
    "stack_chunk_bytes": ((256 << 10, 1 << 20, 4 << 20), (4 << 10, 1 << 30)),
    "block_min_rows": ((16, 32, 64), (1, 1 << 20)),
    "block_min_outputs": ((64, 128, 256), (1, 1 << 20)),
    "sparse_min_zeros": ((0.3, 0.6, 2.0), (0.0, 2.0)),  # > 1: never
    "sparse_min_outputs": ((1, 64, 256), (1, 1 << 20)),
    "pack_min_rows": ((16, 32, 64), (1, 1 << 20)),
    "forward_kc": ((0, 128, 256, 512), (0, 1 << 16)),  # 0: the kernels' own
    "prefetch_next_batch": ((0, 1), (0, 1)),
    "rowwise_min_bytes": ((0, 256 << 10, 512 << 10, 2 << 20), (0, 1 << 40)),  # 0: never
}

# Measured defaults (docs/performance.md): the feature blocks' thresholds on
# Zen 4 (784-512-512-10 4-8% faster with blocks from m = 32; 784-30-10 at
# m = 10 5% faster in place), the lists' on MNIST-like inputs, the stack's
# chunk on Zen 3 (25 networks 100-250-10: 201 ms per network-epoch with a
# 64 KiB chunk, 154 with 1 MiB, 152 with 4 MiB).  Per microarchitecture, the
# chunk follows the L2 (two of them: the chunk streams, the network stays);
# the other values have not been measured to differ and stay the same.
DEFAULTS = {"stack_chunk_bytes": 1 << 20, "block_min_rows": 32, "block_min_outputs": 128,
            "sparse_min_zeros": 0.3, "sparse_min_outputs": 1, "pack_min_rows": 32,
            "forward_kc": 0, "prefetch_next_batch": 1, "rowwise_min_bytes": 512 << 10}
# Where a microarchitecture was measured to want other values (cnet/_workspace.py
# has the numbers): on Zen 3 the first layer's lists of nonzero inputs cost a
# narrow layer more than they save (the book's job 1.5x faster without them).
MEASURED = {"zen3": {"sparse_min_outputs": 64}}
L2_BYTES = {  # per core, where the OS does not say
    "zen2": 512 << 10, "zen3": 512 << 10, "zen4": 1 << 20, "zen5": 1 << 20,
    "intel-avx512": 1 << 20, "intel-avx2": 256 << 10, "arm64": 1 << 20,
    "apple": 4 << 20, "other": 512 << 10,
}


def cpu_facts(cpuinfo=None, machine=None, system=None):
    """vendor, family, model, flags and model name of the first CPU
    (/proc/cpuinfo on Linux; ``cpuinfo`` text for the tests)."""
    machine = (machine or platform.machine()).lower()
    system = system or platform.system()
    facts = {"machine": machine, "system": system, "vendor": "", "family": -1, "model": -1,
             "flags": set(), "name": ""}
    if cpuinfo is None and system == "Linux":
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read(1 << 20)
        except OSError:
            cpuinfo = ""
    for line in (cpuinfo or "").splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            if facts["flags"]:
                break  # the first processor's block is enough
            continue
        if key == "vendor_id":
            facts["vendor"] = value
        elif key == "cpu family" and value.isdigit():
            facts["family"] = int(value)
        elif key == "model" and value.isdigit():
            facts["model"] = int(value)
        elif key in ("flags", "Features"):
            facts["flags"] = set(value.split())
        elif key == "model name":
            facts["name"] = value
    return facts


def microarchitecture(facts):
    """A name for the CPU's core design: zen2, zen3, zen4, zen5,
    intel-avx512, intel-avx2, apple, arm64 or other."""
    flags, family = facts["flags"], facts["family"]
    if facts["machine"] in ("arm64", "aarch64"):
        return "apple" if facts["system"] == "Darwin" else "arm64"
    if facts["vendor"] == "AuthenticAMD":
        if family == 23:
            return "zen2"
        if family == 25:  # Zen 3 and Zen 4 share the family; Zen 4 added AVX-512
            return "zen4" if "avx512f" in flags else "zen3"
        if family == 26:
            return "zen5"
    if facts["vendor"] == "GenuineIntel":
        if "avx512f" in flags:
            return "intel-avx512"
        if "avx2" in flags:
            return "intel-avx2"
    return "other"


def l2_bytes(micro):
    """The L2 per core as the OS reports it (Linux sysfs), else the table's."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for index in sorted(os.listdir(base)):
            with open(os.path.join(base, index, "level")) as f:
                level = f.read().strip()
            with open(os.path.join(base, index, "type")) as f:
                kind = f.read().strip()
            if level == "2" and kind in ("Unified", "Data"):
                with open(os.path.join(base, index, "size")) as f:
                    size = f.read().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20}.get(size[-1:], 1)
                return int(size.rstrip("KM")) * scale
    except (OSError, ValueError):
        pass
    return L2_BYTES.get(micro, L2_BYTES["other"])


def table_settings(micro, l2=None):
    """The settings for a microarchitecture, without measuring."""
    settings = dict(DEFAULTS, **MEASURED.get(micro, {}))
    l2 = l2 if l2 is not None else L2_BYTES.get(micro, L2_BYTES["other"])
    settings["stack_chunk_bytes"] = int(min(max(2 * l2, 256 << 10), 16 << 20))
    return settings


def check_settings(values, where):
    """The known knobs of ``values`` (a dict), each in its range; raises
    ValueError saying which is not."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: settings must be a JSON object")
    out = {}
    for key, value in values.items():
        if key not in KNOBS:
            raise ValueError(f"{where}: unknown setting {key!r} (known: {', '.join(KNOBS)})")
        lo, hi = KNOBS[key][1]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not lo <= value <= hi:
            raise ValueError(f"{where}: {key} must be a number in [{lo}, {hi}]; got "
                             f"{str(value)[:40]!r}")
        out[key] = float(value) if key == "sparse_min_zeros" else int(value)
    return out


def _read(path, micro):
    """The settings of a tuning file made for this microarchitecture, or
    None (with a warning if the file is there but unusable)."""
    try:
        with open(path, "rb") as f:
            raw = f.read((64 << 10) + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        warnings.warn(f"cnet could not read its tuning file {path} ({exc}); using the "
                      f"table's settings", RuntimeWarning, stacklevel=3)
        return None
    try:
        if len(raw) > 64 << 10:
            raise ValueError("larger than 64 KiB")
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("cpu") != micro:
            return None  # measured on another kind of CPU: not for this one
        return check_settings(doc.get("settings", {}), str(path))
    except (ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"cnet ignores its tuning file {path}: {exc}; using the table's "
                      f"settings", RuntimeWarning, stacklevel=3)
        return None


def cache_file(micro):
    return cache_dir() / f"tuning-{micro}.json"


def current(facts=None):
    """(microarchitecture, settings, source) for this machine."""
    facts = facts or cpu_facts()
    micro = microarchitecture(facts)
    settings = table_settings(micro, l2_bytes(micro))
    source = "table"
    env = os.environ.get("CNET_TUNING")
    for path, label in ((env, "CNET_TUNING"), (None if env else cache_file(micro), "cache")):
        if path:
            found = _read(path, micro)
            if found is not None:
                settings.update(found)
                source = f"{label} ({path})"
                break
    return micro, settings, source


def apply(settings):
    """Set the knobs where the code reads them."""
    from . import _workspace, stack
    stack.SHARED_BYTES = settings["stack_chunk_bytes"]
    _workspace.BLOCK_MIN_ROWS = settings["block_min_rows"]
    _workspace.BLOCK_MIN_OUTPUTS = settings["block_min_outputs"]
    _workspace.SPARSE_MIN_ZEROS = settings["sparse_min_zeros"]
    _workspace.SPARSE_MIN_OUTPUTS = settings["sparse_min_outputs"]
    _workspace.PACK_MIN_ROWS = settings["pack_min_rows"]
    _workspace.FORWARD_KC = settings["forward_kc"]
    _workspace.PREFETCH_NEXT_BATCH = bool(settings["prefetch_next_batch"])
    _workspace.ROWWISE_MIN_BYTES = settings["rowwise_min_bytes"]


STATE = {"micro": None, "settings": None, "source": None}


def load():
    """Choose and apply this machine's settings (at import)."""
    micro, settings, source = current()
    apply(settings)
    STATE.update(micro=micro, settings=settings, source=source)
    return STATE


# -- measuring -----------------------------------------------------------------------

def _jobs(rng):
    """The jobs each knob is timed on: (kind, (X, y), sizes, network and fit
    arguments), on the 10,000 real MNIST digits shipped with cnet (their
    zeros sit where MNIST's do: the lists' gain depends on it)."""
    import numpy as np

    from .datasets import load_sample
    (X, y), _ = load_sample(dtype="float32")
    side = X.reshape(-1, 28, 28)[:, ::3, ::3][:, :9, :9].reshape(len(X), 81)  # 9x9 pixels
    small = np.ascontiguousarray(side)
    relu = dict(activation="relu", output_activation="softmax", cost="log_likelihood",
                init="he", dtype="float32")
    return {
        "stack_chunk_bytes": ("stack", (small, y), [81, 250, 10], relu,
                              dict(batch_size=100, eta=0.05)),
        "block_min_rows": ("net", (X, y), [784, 512, 10], relu, dict(batch_size=32, eta=0.05)),
        "block_min_outputs": ("net", (X, y), [784, 256, 10], relu,
                              dict(batch_size=10, eta=0.05)),
        "sparse_min_zeros": ("net", (X, y), [784, 100, 10], relu,
                             dict(batch_size=10, eta=0.05)),
        "sparse_min_outputs": ("net", (X, y), [784, 30, 10], dict(dtype="float32"),
                               dict(batch_size=10, eta=3.0)),
        "pack_min_rows": ("net", (X, y), [784, 256, 10], relu, dict(batch_size=32, eta=0.05)),
        "forward_kc": ("net", (X, y), [784, 512, 512, 10], relu,
                       dict(batch_size=128, eta=0.05)),
        "prefetch_next_batch": ("net", (X, y), [784, 30, 10], dict(dtype="float32"),
                                dict(batch_size=10, eta=3.0)),
        "rowwise_min_bytes": ("net", (X, y), [784, 512, 512, 10], relu,
                              dict(batch_size=10, eta=0.05)),
    }


def tune(rounds=3, save=True, log=print):
    """Measure each knob's candidate values on this machine (one thread,
    about half a minute) and keep the fastest where it beats the table's value
    by more than 3%; with ``save``, write them to the cache file that the
    next import of cnet reads (``CNET_TUNING`` names another).  Returns
    the settings now applied."""
    import numpy as np

    from .network import Network
    from .stack import NetworkStack
    micro = microarchitecture(cpu_facts())
    settings = dict(current()[1])
    base = table_settings(micro, l2_bytes(micro))
    measured = {}
    for knob, (kind, (X, y), sizes, net_kw, fit_kw) in _jobs(np.random.default_rng(0)).items():
        times = {value: [] for value in KNOBS[knob][0] + (base[knob],)}
        for _ in range(rounds):
            for value in times:
                apply(dict(settings, **{knob: value}))
                model = (NetworkStack(sizes, range(8), **net_kw) if kind == "stack"
                         else Network(sizes, seed=0, **net_kw))
                t0 = time.perf_counter()
                model.fit(X, y, 1, n_threads=1, **fit_kw)
                times[value].append(time.perf_counter() - t0)
        med = {v: sorted(t)[len(t) // 2] for v, t in times.items()}
        best = min(med, key=med.get)
        settings[knob] = best if med[best] < 0.97 * med[base[knob]] else base[knob]
        measured[knob] = {str(v): round(t, 5) for v, t in med.items()}
        log(f"  {knob}: " + ", ".join(f"{v} {t:.4f} s" for v, t in med.items())
            + f" -> {settings[knob]}")
    apply(settings)
    STATE.update(micro=micro, settings=settings, source="tune()")
    if save:
        path = os.environ.get("CNET_TUNING") or cache_file(micro)
        _write(path, {"cpu": micro, "settings": settings, "seconds": measured,
                      "when": time.strftime("%Y-%m-%d %H:%M:%S")})
        STATE["source"] = f"tune() ({path})"
        log(f"  written to {path}")
    return settings


def _write(path, doc):
    """Write JSON atomically (a temporary file renamed over the target)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
