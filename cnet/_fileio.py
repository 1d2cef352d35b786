"""Small file-system helpers shared by the readers, the downloader and model
saving.

The readers take files from anywhere (a download, a colleague, a stranger),
so every helper here refuses before it allocates: only regular files are
opened (a FIFO or a device would block or never end), sizes are checked
against what the format allows before anything is read, and gzip is
inflated as a stream, a chunk at a time, never past a limit.
"""
import gzip
import os
import stat
import sys
import zlib
from contextlib import contextmanager

CHUNK = 1 << 20  # bytes read or inflated at a time


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


def open_regular(path, what, error=ValueError):
    """Open ``path`` for binary reading if it is a regular file.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a
    writer; fstat then tells what was opened (no race with a rename).
    Raises FileNotFoundError naming ``what``, IsADirectoryError, and
    ``error`` (ValueError by default) for a FIFO, socket or device."""
    path = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{path} is a directory, not a {what}")
        if not stat.S_ISREG(mode):
            raise error(f"{path} is not a regular file (a FIFO, socket or device?): "
                        f"refusing to read it as a {what}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(stream, limit):
    """Up to ``limit`` bytes of ``stream``, read a chunk at a time: memory
    grows with what the stream holds, not with ``limit`` (a file object's
    read(n) may reserve n bytes at once)."""
    out = bytearray()
    while len(out) < limit:
        chunk = stream.read(min(CHUNK, limit - len(out)))
        if not chunk:
            break
        out += chunk
    return bytes(out)


class LimitedReader:
    """A read-only stream of at most ``limit`` bytes of ``stream`` (for the
    unpickler: ``read`` and ``readline``).  A read that would pass the limit
    is refused before it is made, so a length field claiming gigabytes costs
    nothing; reads are made a chunk at a time (read_at_most)."""

    def __init__(self, stream, limit, path, what):
        self._stream, self._left = stream, limit
        self._limit, self._path, self._what = limit, path, what

    def _take(self, n):
        if n > self._left:
            raise ValueError(f"{self._path} holds more than {self._limit:,} bytes (or claims "
                             f"to): too large for a {self._what} (a damaged or hostile file?)")
        self._left -= n

    def read(self, n=-1):
        if n is None or n < 0:
            n = self._left + 1
        self._take(n)
        data = read_at_most(self._stream, n)
        self._left += n - len(data)
        return data

    def readline(self, size=-1):
        size = 1 << 16 if size is None or size < 0 else min(size, 1 << 16)
        line = self._stream.readline(size)
        self._take(len(line))
        return line


def is_gzip(f):
    """Whether the open file ``f`` starts with gzip's magic (position kept at 0)."""
    head = f.read(2)
    f.seek(0)
    return head == b"\x1f\x8b"


@contextmanager
def opened_maybe_gzip(path, what):
    """``(stream, size)``: the regular file ``path``, or its inflated content
    as a stream if it starts with gzip's magic.  ``size`` is the file's size
    in bytes when it is not gzipped (None when it is: only inflating tells).
    Gzip errors while reading the stream are raised as ValueError by
    :func:`gzip_errors`."""
    with open_regular(path, what) as f:
        if is_gzip(f):
            with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                yield gz, None
        else:
            yield f, os.fstat(f.fileno()).st_size


@contextmanager
def gzip_errors(path):
    """Report a corrupt or cut-off gzip stream as ValueError naming ``path``."""
    try:
        yield
    # BadGzipFile is an OSError; a cut-off stream is an EOFError.
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
