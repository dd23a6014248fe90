"""Provenance of a run for its report: SHA-256 of inputs and outputs, versions.

Responsible for hashing files and the stdin/stdout streams as they pass, and
for the versions of adcsim and of the libraries that shape its output. Not
responsible for what the report holds otherwise (`adcsim.run._process`).
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import numpy as np

from adcsim.io._writer import libsndfile_version, soundfile_version


def _sha256() -> Any:
    """A new SHA-256 hash (hashlib is imported only by runs that report one)."""
    import hashlib

    return hashlib.sha256()


class HashingReader:
    """A binary stream that hashes what is read through it (stdin)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.hash = _sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.hash.update(data)
        return data


class HashingWriter:
    """A binary stream that hashes what is written through it (stdout)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.hash = _sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


def sha256_file(path: str) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = _sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Versions of adcsim and the libraries that shape its output."""
    from adcsim import __version__

    return {
        "adcsim": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "soundfile": soundfile_version(),
        "libsndfile": libsndfile_version(),
    }
