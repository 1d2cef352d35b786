"""Regenerate the MNIST sample shipped in ``cnet/datasets/data/mnist_sample/``.

The sample is the first 10,000 training and the first 2,000 test examples of
MNIST, byte for byte: each output file is the source IDX header with the
count changed, followed by the source's first records unchanged. Files are
gzipped with mtime=0, so rerunning on the same Python and zlib gives
identical bytes.

Usage::

    python tools/make_mnist_sample.py [MNIST_DIR] [--out OUT_DIR]

``MNIST_DIR`` holds the four full MNIST files (raw or ``.gz``); it defaults to
the ``CNET_DATA_DIR`` environment variable. This script uses the standard
library only, so it runs without building cnet.
"""

import argparse
import gzip
import os
import struct
import sys
from pathlib import Path

# file name -> number of leading records kept in the sample
SAMPLE_SIZES = {
    "train-images-idx3-ubyte": 10_000,
    "train-labels-idx1-ubyte": 10_000,
    "t10k-images-idx3-ubyte": 2_000,
    "t10k-labels-idx1-ubyte": 2_000,
}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "cnet" / "datasets" / "data" / "mnist_sample"


def read_source(directory, name):
    """Return the uncompressed bytes of ``directory/name`` or ``name.gz``."""
    for path in (directory / name, directory / f"{name}.gz"):
        if path.is_file():
            raw = path.read_bytes()
            return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    sys.exit(f"error: {directory} holds neither {name} nor {name}.gz")


def head_records(raw, n_keep, name):
    """IDX bytes of the first ``n_keep`` records of the ubyte IDX file ``raw``."""
    if raw[:3] != b"\x00\x00\x08":
        sys.exit(f"error: {name} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    record_size = 1
    for d in dims[1:]:
        record_size *= d
    header_size = 4 + 4 * ndim
    if len(raw) != header_size + dims[0] * record_size:
        sys.exit(f"error: {name} does not match its header (truncated or padded)")
    if dims[0] < n_keep:
        sys.exit(f"error: {name} holds {dims[0]} records, fewer than {n_keep}")
    header = raw[:4] + struct.pack(f">{ndim}I", n_keep, *dims[1:])
    return header + raw[header_size : header_size + n_keep * record_size]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mnist_dir",
        nargs="?",
        default=os.environ.get("CNET_DATA_DIR"),
        help="folder with the full MNIST IDX files (default: $CNET_DATA_DIR)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    if not args.mnist_dir:
        parser.error("give MNIST_DIR or set CNET_DATA_DIR")

    source = Path(args.mnist_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, n_keep in SAMPLE_SIZES.items():
        data = head_records(read_source(source, name), n_keep, name)
        out = args.out / f"{name}.gz"
        out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        total += out.stat().st_size
        print(f"{out}: {n_keep} records, {out.stat().st_size} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
