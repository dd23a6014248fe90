"""WAV streams over pipes: a reader and a writer that never seek.

libsndfile needs a seekable file to parse and to finish a WAV, but ``sox`` and
``ffmpeg`` write WAVs to pipes with unknown sizes (0 or 0xFFFFFFFF in the RIFF
and data headers). This module reads such streams block by block until end of
input and writes WAV to a pipe the same way sox does. It handles PCM (8 to 32
bits) and IEEE float (32 and 64 bits), plain or WAVE_FORMAT_EXTENSIBLE. It does
not do files (``adcsim.io._reader`` and ``_writer`` use libsndfile there).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
#: The "magic length" SoX writes when it cannot seek back to fix the header
#: (``MS_UNSPEC`` in SoX's ``src/wav.c``), rounded down to whole frames there.
SOX_UNSPECIFIED = 0x7FFFF000


def is_unknown_size(size: int, frame_bytes: int) -> bool:
    """Whether a ``data`` chunk size means "until end of stream".

    0 and 0xFFFFFFFF (ffmpeg and others), and SoX's magic length
    ``0x7FFFF000`` rounded down to a multiple of the frame size.

    Examples
    --------
    >>> is_unknown_size(0xFFFFFFFF, 4), is_unknown_size(0x7FFFF000 // 6 * 6, 6)
    (True, True)
    >>> is_unknown_size(96000, 4)
    False
    """
    if size in _UNKNOWN_SIZES:
        return True
    return frame_bytes > 0 and size == SOX_UNSPECIFIED // frame_bytes * frame_bytes


@dataclass(frozen=True)
class WavFormat:
    """The ``fmt `` chunk essentials: rate, channels, container and its size."""

    rate: int
    channels: int
    bits: int
    is_float: bool
    data_bytes: int | None  # None when the header does not say

    @property
    def subtype(self) -> str:
        """The libsndfile subtype name of this container."""
        if self.is_float:
            return "FLOAT" if self.bits == 32 else "DOUBLE"
        return "PCM_U8" if self.bits == 8 else f"PCM_{self.bits}"

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame."""
        return self.channels * self.bits // 8


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_header(stream: BinaryIO, name: str = "<stdin>") -> WavFormat:
    """Parse RIFF/WAVE headers up to the start of the sample data."""
    head = _read_exact(stream, 12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AdcsimError(f"cannot read {name!r}: not a WAV stream (RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    while True:
        chunk_head = _read_exact(stream, 8)
        if len(chunk_head) < 8:
            raise AdcsimError(f"cannot read {name!r}: WAV stream ends before its data")
        chunk_id, size = chunk_head[:4], struct.unpack("<I", chunk_head[4:])[0]
        if chunk_id == b"data":
            break
        if size == 0xFFFFFFFF:
            raise AdcsimError(f"cannot read {name!r}: chunk {chunk_id!r} has no size")
        body = _read_exact(stream, size + (size & 1))
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise AdcsimError(f"cannot read {name!r}: short fmt chunk")
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
    if fmt is None:
        raise AdcsimError(f"cannot read {name!r}: WAV stream has no fmt chunk")
    tag, channels, rate, bits = fmt
    supported = (tag == _PCM and bits in (8, 16, 24, 32)) or (
        tag == _FLOAT and bits in (32, 64)
    )
    if not supported or channels < 1 or rate < 1:
        raise AdcsimError(
            f"cannot read {name!r}: unsupported WAV encoding "
            f"(format tag {tag:#06x}, {bits} bits, {channels} channels)"
        )
    frame_bytes = channels * bits // 8
    data_bytes = None if is_unknown_size(size, frame_bytes) else size
    return WavFormat(rate, channels, bits, tag == _FLOAT, data_bytes)


def decode_samples(raw: bytes, fmt: WavFormat) -> NDArray[np.float64]:
    """Little-endian WAV sample bytes -> float ``(frames, channels)``, full scale."""
    if fmt.is_float:
        dtype = "<f4" if fmt.bits == 32 else "<f8"
        values = np.frombuffer(raw, dtype=dtype).astype(np.float64)
    elif fmt.bits == 8:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif fmt.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
        values = ints / 2.0**31
    else:
        dtype = "<i2" if fmt.bits == 16 else "<i4"
        values = np.frombuffer(raw, dtype=dtype) / 2.0 ** (fmt.bits - 1)
    return values.reshape(-1, fmt.channels)


def read_blocks(
    stream: BinaryIO,
    fmt: WavFormat,
    blocksize: int,
    name: str = "<stdin>",
    warnings: list[str] | None = None,
) -> Iterator[NDArray[np.float64]]:
    """Yield blocks until the data chunk's size, or end of input if unknown.

    A stream that ends before the size its header declares (cut off, or a
    header that lies) is read as far as it goes, and a warning naming the
    shortfall is appended to ``warnings``. A trailing partial frame is dropped.
    """
    remaining = fmt.data_bytes
    want = blocksize * fmt.frame_bytes
    pending = b""
    while remaining is None or remaining >= fmt.frame_bytes:
        size = want if remaining is None else min(want, remaining)
        raw = pending + _read_exact(stream, size - len(pending))
        usable = len(raw) - len(raw) % fmt.frame_bytes
        if usable:
            yield decode_samples(raw[:usable], fmt)
        pending = raw[usable:]
        if remaining is not None:
            remaining -= usable
        if len(raw) < size:
            break
    if remaining is not None and remaining >= fmt.frame_bytes and warnings is not None:
        declared = fmt.data_bytes // fmt.frame_bytes  # type: ignore[operator]
        present = declared - remaining // fmt.frame_bytes
        warnings.append(
            f"{name}: WAV stream ended early: the header declares {declared} "
            f"frames, {present} were read"
        )


def header_bytes(rate: int, channels: int, bits: int, is_float: bool) -> bytes:
    """A 44-byte WAV header with unknown sizes (0xFFFFFFFF), as sox writes to pipes."""
    block_align = channels * bits // 8
    tag = _FLOAT if is_float else _PCM
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH", 16, tag, channels, rate, rate * block_align, block_align, bits
        )
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )


def sample_bytes(ints: NDArray[np.int32], bits: int) -> NDArray[np.uint8]:
    """Signed integer codes at ``bits`` (8, 16, 24, 32) as WAV sample bytes.

    Little-endian; 8-bit WAV is unsigned (offset 128).

    Examples
    --------
    >>> sample_bytes(np.array([-1, 1]), 16).tolist()
    [255, 255, 1, 0]
    """
    if bits == 8:
        return (ints + 128).astype(np.uint8)
    if bits == 16:
        return ints.astype("<i2").view(np.uint8)
    if bits == 24:
        as32 = ints.astype("<i4").reshape(-1, 1).view(np.uint8)
        return np.ascontiguousarray(as32[:, :3])
    return ints.astype("<i4").view(np.uint8)


def encode_samples(ints: NDArray[np.int32], bits: int) -> bytes:
    """`sample_bytes` as a ``bytes`` object (for a stream)."""
    return sample_bytes(ints, bits).tobytes()
