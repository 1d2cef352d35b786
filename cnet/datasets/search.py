"""Where data sets are looked for, first hit wins, and what the cache may
download: ``path=``, ``CNET_DATA_DIR``, system folders (Debian's
Fashion-MNIST), the per-user cache (see the package's docstring); the
mirrors and the MD5 sums of every file."""
import os
from pathlib import Path

from .._download import cache_dir, ensure_writable, extract_members, fetch
from .formats import _CIFAR_ARCHIVE, _CIFAR_DIR, _CIFAR_TEST, _CIFAR_TRAIN

_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


# Base URLs tried in order; each data set's files are fetched as base + name
# (MNIST and Fashion-MNIST: the four IDX names + ".gz"; CIFAR-10:
# cifar-10-binary.tar.gz). Edit this dict, or pass mirrors= to a loader, to
# use another mirror.
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
    "cifar-10": ["https://www.cs.toronto.edu/~kriz/"],
}


# Expected MD5s. IDX files: of the uncompressed file, so a mirror may gzip it
# any way it likes (Debian's Fashion-MNIST .gz files differ byte-wise from
# Zalando's, yet decompress to the same bytes). MNIST: the published sums.
# Fashion-MNIST: Zalando publishes the .gz sums (8d4fb7e6..., 25c81989...,
# bef4ecab..., bb300cfd...); these are of their decompressed files, the same
# as torchvision's "raw_data" sums and Debian's package content.
# CIFAR-10: the published MD5 of the archive itself (no per-file sums are
# published); its members are then checked by name, type and record format.
_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "cifar-10": {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"},
}


# Folders that packages install data sets into, searched before the cache.
_SYSTEM_DIRS = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],  # Debian/Ubuntu
}


_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar-10": "CIFAR-10"}


def data_dir(path=None):
    """Resolve the folder named by the user for the MNIST IDX files.

    Only ``path`` and ``CNET_DATA_DIR`` are consulted, not the download cache
    (see :func:`cache_dir`); the loaders search both, see the module docs.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The folder. If None, the ``CNET_DATA_DIR`` environment variable is
        used.

    Returns
    -------
    directory : pathlib.Path

    Raises
    ------
    FileNotFoundError
        If neither ``path`` nor ``CNET_DATA_DIR`` is given, or the folder does
        not exist.
    """
    if path is not None:
        return _existing_dir(path, "path=", "MNIST")
    if os.environ.get("CNET_DATA_DIR"):
        return _existing_dir(os.environ["CNET_DATA_DIR"], "CNET_DATA_DIR", "MNIST")
    raise FileNotFoundError(
        "No MNIST data directory given: pass path= or set the CNET_DATA_DIR "
        "environment variable to a folder holding train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
        "t10k-labels-idx1-ubyte (each raw or with .gz). To work offline, "
        "cnet.datasets.load_sample() loads a small MNIST sample shipped "
        "with cnet."
    )


def _existing_dir(path, source, title=None):
    directory = Path(path).expanduser()
    if not directory.is_dir():
        what = f"{title} data directory" if title else "data directory"
        raise FileNotFoundError(
            f"{what} {directory} (from {source}) does not exist or is not a directory"
        )
    return directory


def _env_dirs(key):
    """Folders under ``CNET_DATA_DIR`` that may hold data set ``key``."""
    value = os.environ.get("CNET_DATA_DIR")
    if not value:
        return []
    root = _existing_dir(value, "CNET_DATA_DIR")
    # Fashion-MNIST's files have MNIST's names: only its own subfolder counts.
    return [root / key] if key == "fashion-mnist" else [root / key, root]


def _has_idx(directory, name):
    return (directory / name).is_file() or (directory / f"{name}.gz").is_file()


def _idx_folder(key, path, download, mirrors):
    """The folder to read IDX data set ``key`` from; downloads into the cache
    if allowed and needed."""
    if path is not None:
        return _existing_dir(path, "path=", _TITLES[key])  # used as is
    names = list(_MNIST_FILES.values())
    searched = _env_dirs(key) + list(_SYSTEM_DIRS.get(key, []))
    for folder in searched:
        if all(_has_idx(folder, name) for name in names):
            return folder
    cache = cache_dir(key)
    missing = [name for name in names if not _has_idx(cache, name)]
    if not missing:
        return cache
    if not download:
        raise FileNotFoundError(_how_to_get(key, searched + [cache], cache, missing))
    for name in missing:
        fetch(f"{name}.gz", cache, mirrors or MIRRORS[key], _CHECKSUMS[key][name],
              gunzip_md5=True)
    return cache


def _cifar_batches(directory):
    """``directory/cifar-10-batches-bin`` or ``directory`` if it holds all six
    batch files, else None."""
    for folder in (directory / _CIFAR_DIR, directory):
        if all((folder / name).is_file() for name in _CIFAR_TRAIN + (_CIFAR_TEST,)):
            return folder
    return None


def _cifar_folder(path, download, mirrors):
    """The folder holding the six CIFAR-10 batch files; downloads and
    extracts into the cache if allowed and needed."""
    if path is not None:
        directory = _existing_dir(path, "path=", "CIFAR-10")
        found = _cifar_batches(directory)
        if found is None:
            raise FileNotFoundError(
                f"{directory} holds neither {_CIFAR_DIR}/ nor the CIFAR-10 binary batch "
                f"files ({', '.join(_CIFAR_TRAIN)}, {_CIFAR_TEST}). Extract "
                f"{_CIFAR_ARCHIVE} (https://www.cs.toronto.edu/~kriz/cifar.html) there, "
                "or call load_cifar10() without path= to download it into the cache."
            )
        return found
    searched = _env_dirs("cifar-10")
    for directory in searched:
        found = _cifar_batches(directory)
        if found is not None:
            return found
    cache = cache_dir("cifar-10")
    found = _cifar_batches(cache)
    if found is not None:
        return found
    archive = cache / _CIFAR_ARCHIVE
    if not archive.is_file():  # only a verified archive ever has this name
        if not download:
            raise FileNotFoundError(_how_to_get("cifar-10", searched + [cache], cache,
                                                [_CIFAR_DIR]))
        fetch(_CIFAR_ARCHIVE, cache, mirrors or MIRRORS["cifar-10"],
              _CHECKSUMS["cifar-10"][_CIFAR_ARCHIVE])
    ensure_writable(cache)
    members = {f"{_CIFAR_DIR}/{name}": name for name in _CIFAR_TRAIN + (_CIFAR_TEST,)}
    extract_members(archive, cache / _CIFAR_DIR, members)
    archive.unlink()  # 170 MB; the extracted files are all that is read
    return cache / _CIFAR_DIR


def _how_to_get(key, searched, cache, missing):
    title = _TITLES[key]
    looked = ", ".join(str(folder) for folder in searched)
    if key == "cifar-10":
        files = (f"{_CIFAR_DIR}/ with {', '.join(_CIFAR_TRAIN)} and {_CIFAR_TEST} "
                 f"(extracted from {_CIFAR_ARCHIVE})")
    else:
        files = ", ".join(_MNIST_FILES.values()) + " (each raw or with .gz)"
    hints = [
        f"call the loader with download=True (the default) to download it into {cache}",
        f"or pass path= (or set CNET_DATA_DIR) to a folder holding {files}",
    ]
    if key == "fashion-mnist":
        hints.append("or install Debian's package: apt-get install dataset-fashion-mnist")
    if key == "mnist":
        hints.append("or use cnet.datasets.load_sample(), a small MNIST sample shipped "
                     "with cnet")
    return (f"{title} was not found (looked in {looked}; missing {', '.join(missing)}). "
            "To get it, " + "; ".join(hints) + ".")


def _find_file(directory, name):
    """Return ``directory/name``, raw or with ``.gz``."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory} holds neither {name} nor {name}.gz")
