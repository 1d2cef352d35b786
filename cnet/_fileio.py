"""Small file-system helpers shared by the downloader and model saving."""
import gzip
import os
import sys
import zlib
from pathlib import Path


def fsync_dir(folder):
    """Make a rename in ``folder`` durable (POSIX; a no-op where directories
    cannot be opened, as on Windows)."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_maybe_gzip(path, what):
    """The bytes of ``path``, gunzipped when they start with gzip's magic.

    Raises FileNotFoundError naming ``what`` and the path, and ValueError for
    a corrupt gzip stream."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        # BadGzipFile is an OSError; a cut-off stream is an EOFError.
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
    return raw
