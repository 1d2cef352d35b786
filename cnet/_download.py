"""Fetching data set files: the per-user cache, mirrors, retries, resume,
checksums and atomic renames. Standard library only (urllib).

:mod:`cnet.datasets` knows the data sets (file names, mirrors, MD5s); this
module knows how to get one file onto the disk safely:

- A file is downloaded into ``<folder>/<name>.part``, fsynced, its MD5
  checked, and only then renamed to ``<folder>/<name>`` with ``os.replace``.
  A file without the ``.part`` suffix is therefore always complete and
  verified; a reader never sees a half-written one.
- Each mirror is tried until ``RETRIES`` attempts in a row fail without
  bringing new bytes (waiting ``BACKOFF``, 2 x ``BACKOFF``, ... seconds
  between them), then the next mirror. A 404 or similar moves on at once; a
  mirror whose complete file fails the MD5 check is not asked again.
- After a dropped connection the ``.part`` file is kept and the next attempt
  resumes it with an HTTP ``Range`` request; a server that ignores the range
  (status 200) just sends the whole file again. If every mirror fails on the
  network, the ``.part`` file stays for the next call to resume; it is never
  read as data.
- A checksum mismatch deletes the ``.part`` file (its bytes are bad) and
  nothing else: files already in the folder are never touched.
"""

import gzip
import hashlib
import http.client
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from ._fileio import fsync_dir

__all__ = ["DownloadError", "ChecksumError", "cache_dir", "ensure_writable", "fetch",
           "file_md5", "extract_members"]

RETRIES = 3  # attempts per mirror
BACKOFF = 1.0  # seconds before the second attempt; doubled for each further one
TIMEOUT = 30.0  # seconds without a byte before an attempt fails
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A data set file could not be downloaded, verified or stored."""


class ChecksumError(DownloadError):
    """A downloaded file's MD5 differs from the published one.

    Attributes
    ----------
    name : str
        The file.
    expected, actual : str
        The published MD5 and the one of the bytes received (hex).
    """

    def __init__(self, message, *, name=None, expected=None, actual=None):
        super().__init__(message)
        self.name, self.expected, self.actual = name, expected, actual


class _Transient(Exception):
    """An attempt failed in a way another attempt may not (network, 5xx)."""


class _Permanent(Exception):
    """This mirror will not serve the file (404, 403, bad URL): try the next."""


def cache_dir(subfolder=None):
    """The per-user cache folder of cnet (not created).

    ``CNET_CACHE_DIR`` if set, else ``%LOCALAPPDATA%\\cnet\\Cache`` on
    Windows, ``~/Library/Caches/cnet`` on macOS, and ``$XDG_CACHE_HOME/cnet``
    (default ``~/.cache/cnet``) elsewhere; then ``subfolder`` if given.
    """
    env = os.environ.get("CNET_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    elif sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        root = Path(local) / "cnet" / "Cache"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "cnet"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        # The XDG spec says to ignore a relative path.
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
        root = base / "cnet"
    return root / subfolder if subfolder else root


def ensure_writable(folder):
    """Create ``folder`` if needed and check that files can be written in it."""
    folder = Path(folder)
    how = ("Set the CNET_CACHE_DIR environment variable to a writable folder, or "
           "download the files yourself and pass path= the folder holding them.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Root ignores permission bits, so only a real write tells the truth.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DownloadError(
            f"cannot write to the cnet cache directory {folder}: {reason}. {how}"
        ) from exc
    return folder


def file_md5(path, *, gunzip=False):
    """MD5 (hex) of a file, or of its decompressed content if ``gunzip`` and
    the file is gzip (recognised by its magic bytes, as in ``read_idx``)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as raw:
        stream = raw
        if gunzip and raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        else:
            raw.seek(0)
        try:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            return f"(not valid gzip: {exc})"
    return digest.hexdigest()


def fetch(name, folder, mirrors, md5, *, gunzip_md5=False, progress=True):
    """Download ``name`` into ``folder`` from the first mirror serving it intact.

    Parameters
    ----------
    name : str
        File name, appended to each mirror's base URL.
    folder : pathlib.Path
        Destination folder, created if needed; must be writable.
    mirrors : sequence of str
        Base URLs, tried in order.
    md5 : str
        Expected MD5 (hex) of the file, or of its decompressed content if
        ``gunzip_md5``.
    progress : bool
        Show a progress line on stderr (tqdm if installed).

    Returns
    -------
    path : pathlib.Path
        ``folder / name``, complete and verified.

    Raises
    ------
    ChecksumError
        If a mirror served a file with the wrong MD5 and no mirror a good one.
    DownloadError
        If no mirror could serve the file, or ``folder`` is not writable.
    """
    folder = ensure_writable(folder)
    final, part = folder / name, folder / f"{name}.part"
    if not mirrors:
        raise DownloadError(f"no mirror is configured for {name}")
    failures, bad_md5 = [], None
    for base in mirrors:
        url = base if base.endswith("/" + name) else base.rstrip("/") + "/" + name
        misses = 0  # failed attempts in a row that brought no new bytes
        while misses < RETRIES:
            if misses:
                time.sleep(BACKOFF * 2 ** (misses - 1))
            before = _size(part)
            try:
                whole = _transfer(url, part, name, progress)
            except _Permanent as exc:
                failures.append(f"{url}: {exc}")
                break
            except _Transient as exc:
                failures.append(f"{url}: {exc}")
                # A dropped connection that delivered bytes is progress, not a
                # miss: a big file on a flaky line still gets there.
                misses = 0 if _size(part) > before else misses + 1
                continue
            actual = file_md5(part, gunzip=gunzip_md5)
            if actual == md5:
                os.replace(part, final)
                fsync_dir(folder)
                return final
            part.unlink()
            what = "decompressed content" if gunzip_md5 else "file"
            bad_md5 = actual
            failures.append(f"checksum mismatch for {name} from {url}: expected MD5 "
                            f"{md5} of the {what}, got {actual}")
            if whole:
                break  # this mirror serves bad bytes; a resumed file may just be stale
            misses += 1
    resumable = (f" The partial file {part} is kept, and the next call resumes it."
                 if part.exists() else "")
    shown = failures[-12:]
    which = f", the last {len(shown)}" if len(shown) < len(failures) else ""
    message = (f"could not download {name} into {folder}; {len(failures)} failed "
               f"attempt(s){which}: " + "; ".join(shown) + "." + resumable +
               " Check the network connection, or download the file yourself "
               f"into {folder}.")
    if bad_md5 is not None:
        raise ChecksumError(message, name=name, expected=md5, actual=bad_md5)
    raise DownloadError(message)


def _size(path):
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _transfer(url, part, name, progress):
    """One attempt: bring ``part`` up to the whole file; True if the body
    came in one response from the first byte (nothing resumed)."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "cnet (Python urllib)"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:  # the .part is not a prefix of this file
            part.unlink()
            raise _Transient(f"HTTP 416 for a resume at byte {offset}; restarting") from None
        if exc.code in (408, 425, 429) or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise _Permanent(f"HTTP {exc.code} {exc.reason}") from None
    except ValueError as exc:  # not a URL urllib can open
        raise _Permanent(str(exc)) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(exc, urllib.error.URLError) and not isinstance(reason, OSError):
            raise _Permanent(str(reason)) from None  # e.g. unknown URL scheme
        raise _Transient(str(reason)) from None

    with response:
        status = getattr(response, "status", None) or 200  # file: URLs have none
        length = response.headers.get("Content-Length")
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink()
                raise _Transient(f"server resumed at byte {start}, not {offset}; restarting")
        else:  # the whole file: a server without Range support, or a fresh start
            offset, total = 0, None
        end = offset + int(length) if length and length.isdigit() else total
        bar = _Progress(name, url, end, offset, progress)
        received = 0
        try:
            with open(part, "ab" if offset else "wb") as out:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (http.client.HTTPException, OSError) as exc:
                        raise _Transient(f"connection lost after {offset + received} "
                                         f"bytes: {exc!r}") from None
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except OSError as exc:  # disk full: no mirror helps
                        raise DownloadError(f"cannot write {part}: {exc.strerror}") from exc
                    received += len(chunk)
                    bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        finally:
            bar.close()
    size = offset + received
    if end is not None and size != end:
        raise _Transient(f"connection closed after {size} of {end} bytes")
    return offset == 0


def _content_range(value):
    """``(first byte, total or None)`` from ``bytes first-last/total``."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not match:
        raise _Transient(f"unreadable Content-Range {value!r}")
    total = match.group(3)
    return int(match.group(1)), (int(total) if total != "*" else None)


class _Progress:
    """Download progress on stderr. On a terminal: tqdm if installed, else one
    line rewritten with ``\\r``. Elsewhere (logs, pipes): a line when the
    download starts and one when it ends, never a stream of carriage returns."""

    def __init__(self, name, url, total, initial, enabled):
        self.enabled, self.name, self.total = enabled, name, total
        self.done, self.last = initial, 0.0
        self.tqdm, self.live = None, False
        if not enabled:
            return
        resumed = f" (resuming at byte {initial})" if initial else ""
        print(f"Downloading {url}{resumed}", file=sys.stderr, flush=True)
        self.live = _is_terminal(sys.stderr)
        if self.live:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.tqdm = tqdm(total=total, initial=initial, unit="B", unit_scale=True,
                             desc=name, file=sys.stderr, leave=True)

    def update(self, n):
        self.done += n
        if self.tqdm is not None:
            self.tqdm.update(n)
        elif self.enabled and self.live and time.monotonic() - self.last > 0.25:
            self.last = time.monotonic()
            print("\r" + self._line(), end="", file=sys.stderr, flush=True)

    def close(self):
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.enabled:
            print(("\r" if self.live else "") + self._line(), file=sys.stderr, flush=True)

    def _line(self):
        if self.total:
            return (f"{self.name}: {self.done / 1e6:.1f} / {self.total / 1e6:.1f} MB "
                    f"({100 * self.done / self.total:.0f}%)")
        return f"{self.name}: {self.done / 1e6:.1f} MB"


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def extract_members(archive, folder, members):
    """Extract exactly the listed regular files of a tar archive, atomically.

    Parameters
    ----------
    archive : pathlib.Path
        A tar file, compressed or not.
    folder : pathlib.Path
        Where the files go (created if needed).
    members : dict of str to str
        Member name in the archive -> file name in ``folder``. Output names
        come from this dict, never from the archive, so no member can write
        outside ``folder``; all other members (and any link or device with a
        listed name) are refused or ignored.

    Raises
    ------
    ValueError
        If the archive is unreadable, a listed member is missing or is not a
        regular file. Nothing is renamed into ``folder`` then.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                for info in tar:
                    member = info.name[2:] if info.name.startswith("./") else info.name
                    if member not in members or member in written:
                        continue
                    if not info.isreg():
                        raise ValueError(f"{archive}: member {info.name} is not a regular "
                                         "file; refusing to extract it")
                    tmp = folder / f"{members[member]}.part"
                    written[member] = tmp
                    with tar.extractfile(info) as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
                        dst.flush()
                        os.fsync(dst.fileno())
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise ValueError(f"{archive} is not a valid tar archive: {exc}") from exc
        missing = sorted(set(members) - set(written))
        if missing:
            raise ValueError(f"{archive} lacks {', '.join(missing)}")
    except BaseException:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        raise
    for member, tmp in written.items():
        os.replace(tmp, folder / members[member])
    fsync_dir(folder)
