"""WAV streams over pipes: a reader and a writer that never seek.

libsndfile needs a seekable file to parse and to finish a WAV, but ``sox`` and
``ffmpeg`` write WAVs to pipes with unknown sizes (0 or 0xFFFFFFFF in the RIFF
and data headers). This module reads such streams block by block until end of
input and writes WAV to a pipe the same way sox does. It reads PCM (8 to 32 bits)
and IEEE float (32 and 64 bits), plain or WAVE_FORMAT_EXTENSIBLE, and writes
those and G.711 u-law and A-law (`WavWriter`), with the headers the WAV
specification asks for: an 18-byte ``fmt `` chunk (``cbSize`` = 0) and a
``fact`` chunk for every non-PCM format, true sizes when the length is known
up front and 0xFFFFFFFF ("until end of stream") when not. A header is read in
bounded pieces whatever sizes it declares, and absurd values in it (rate,
channels, bits) are one-line errors. It does not open files or decide what is
a stream (``adcsim.io._reader`` and ``_writer`` do, with libsndfile for files).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

#: WAVE_FORMAT_* tags (Microsoft's mmreg.h, RFC 2361).
_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
#: libsndfile subtype -> (format tag, bits per sample) of what `WavWriter` writes.
WRITE_SUBTYPES = {
    "PCM_U8": (_PCM, 8),
    "PCM_16": (_PCM, 16),
    "PCM_24": (_PCM, 24),
    "PCM_32": (_PCM, 32),
    "FLOAT": (_FLOAT, 32),
    "DOUBLE": (_FLOAT, 64),
    "ULAW": (_MULAW, 8),
    "ALAW": (_ALAW, 8),
}
#: Bounds on what a header may declare. The rate is a C ``int`` in libsndfile
#: (and in soundfile's ``SF_INFO``), and libsndfile opens at most 1024
#: channels (``SF_MAX_CHANNELS``); a stream beyond either could not be written.
MAX_RATE = 2**31 - 1
MAX_CHANNELS = 1024
#: The ``fmt `` chunk holds at most this much that matters (WAVE_FORMAT_EXTENSIBLE
#: is 40 bytes); the rest of a larger one is skipped, never held in memory.
_FMT_BYTES = 40
#: Chunks that are not needed are read and dropped in pieces of this size.
_SKIP_PIECE = 1 << 16
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


def _skip(stream: BinaryIO, size: int) -> int:
    """Read and drop ``size`` bytes in bounded pieces; return how many there were."""
    skipped = 0
    while skipped < size:
        piece = stream.read(min(_SKIP_PIECE, size - skipped))
        if not piece:
            break
        skipped += len(piece)
    return skipped


def read_header(stream: BinaryIO, name: str = "<stdin>") -> WavFormat:
    """Parse RIFF/WAVE headers up to the start of the sample data.

    Memory stays bounded whatever the header declares: the ``fmt `` chunk is
    read up to what it can hold, other chunks are read and dropped in pieces.

    Raises
    ------
    AdcsimError
        Not a WAV stream, no ``fmt `` chunk before ``data``, an encoding other
        than PCM (8 to 32 bits) or IEEE float (32, 64 bits), a rate outside
        [1, `MAX_RATE`] or channels outside [1, `MAX_CHANNELS`].
    """
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
        body = b""
        if chunk_id == b"fmt ":
            body = _read_exact(stream, min(size, _FMT_BYTES))
        if _skip(stream, size + (size & 1) - len(body)) < size - len(body):
            raise AdcsimError(f"cannot read {name!r}: WAV stream ends before its data")
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
    if not 1 <= rate <= MAX_RATE:
        raise AdcsimError(
            f"cannot read {name!r}: sample rate={rate} in the WAV header is "
            f"outside [1, {MAX_RATE}]"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AdcsimError(
            f"cannot read {name!r}: channels={channels} in the WAV header is "
            f"outside [1, {MAX_CHANNELS}]"
        )
    if not supported:
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
    """A WAV header of unknown length, as sox writes to pipes.

    `wav_header` of the PCM or float subtype of ``bits``.
    """
    if is_float:
        subtype = "FLOAT" if bits == 32 else "DOUBLE"
    else:
        subtype = "PCM_U8" if bits == 8 else f"PCM_{bits}"
    return wav_header(rate, channels, subtype)


def fits_riff(frames: int | None, align: int, overhead: int = 58) -> bool:
    """Whether a WAV of ``frames`` frames can state its true sizes (32-bit RIFF).

    False for an unknown length, and for sizes too large for the header (or
    equal to what readers take for "unknown", see `is_unknown_size`).

    Examples
    --------
    >>> fits_riff(48000, 4), fits_riff(None, 4), fits_riff(2**30, 4)
    (True, False, False)
    """
    if frames is None:
        return False
    data = frames * align
    return overhead + data + (data & 1) <= 0xFFFFFFFF and not (
        data > 0 and is_unknown_size(data, align)
    )


def wav_header(
    rate: int, channels: int, subtype: str, frames: int | None = None
) -> bytes:
    """The bytes of a WAV file up to its sample data.

    Parameters
    ----------
    rate, channels : int
    subtype : str
        A key of `WRITE_SUBTYPES`.
    frames : int, optional
        The length, when known before the first sample is written. Without it,
        or when the sizes would not fit the 32-bit fields, the ``data`` size
        is SoX's "unspecified length" 0x7FFFF000 (rounded down to whole
        frames) with the RIFF and ``fact`` sizes to match, as sox writes to
        a pipe: readers take it for "until end of stream".

    Notes
    -----
    PCM has a 16-byte ``fmt `` chunk (WAVEFORMAT plus wBitsPerSample). Every
    other format tag (IEEE float, A-law, u-law) has the 18-byte WAVEFORMATEX
    with ``cbSize`` = 0 and a ``fact`` chunk holding the frames per channel,
    as the WAV specification requires of non-PCM data (Microsoft, "Multimedia
    Standards Update", 1994, "New WAVE Types": *fact* chunk; RFC 2361). sox
    warns "wave header missing extended part of fmt chunk" without ``cbSize``.
    The byte rate, a 32-bit field, is clamped for rates too high for it.

    Examples
    --------
    >>> head = wav_header(8000, 1, "ULAW", frames=3)
    >>> len(head), head[38:42], head[-8:-4]
    (58, b'fact', b'data')
    >>> import struct; struct.unpack("<I", head[4:8])[0]  # 4 + 26 + 12 + 8 + 3 + pad
    54
    """
    tag, bits = WRITE_SUBTYPES[subtype]
    align = channels * bits // 8
    data_bytes = None if frames is None else frames * align
    fmt = struct.pack(
        "<HHIIHH",
        tag,
        channels,
        rate,
        min(rate * align, 0xFFFFFFFF),
        align,
        bits,
    )
    fact = b""
    if tag != _PCM:
        fmt += struct.pack("<H", 0)  # cbSize: no extra format bytes
        fact = b"fact" + struct.pack("<I", 4) + struct.pack("<I", frames or 0)
    overhead = 4 + 8 + len(fmt) + len(fact) + 8
    if not fits_riff(frames, align, overhead):
        # SoX's "unspecified length" (MS_UNSPEC): sox reads it to the end of
        # the stream without the "Premature EOF" warning it gives 0xFFFFFFFF.
        data_bytes = SOX_UNSPECIFIED // align * align
        if fact:
            fact = fact[:8] + struct.pack("<I", data_bytes // align)
    assert data_bytes is not None
    riff = overhead + data_bytes + (data_bytes & 1)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + fact
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class WavWriter:
    """Write a WAV to a binary stream that need not seek (a pipe, a device).

    The header goes out first: with true sizes when ``frames`` is given (then
    exactly that many frames must be written), else with unknown sizes, which
    `finish` rewrites if asked to and the stream can seek.

    Parameters
    ----------
    stream : binary stream
        Anything with ``write``; ``seek`` only for ``rewrite=True``.
    rate, channels : int
    subtype : str
        A key of `WRITE_SUBTYPES`.
    frames : int, optional
        The length, when known before writing.
    name : str
        The output's name in messages.

    Raises
    ------
    AdcsimError
        A subtype WAV cannot stream.

    Examples
    --------
    >>> import io
    >>> out = io.BytesIO()
    >>> w = WavWriter(out, rate=8000, channels=1, subtype="PCM_16", frames=2)
    >>> w.write(encode_samples(np.array([1, -1]), 16)); w.finish()
    >>> import soundfile; soundfile.info(io.BytesIO(out.getvalue())).frames
    2
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        rate: int,
        channels: int,
        subtype: str,
        frames: int | None = None,
        name: str = "-",
    ) -> None:
        if subtype not in WRITE_SUBTYPES:
            allowed = ", ".join(WRITE_SUBTYPES)
            raise AdcsimError(
                f"cannot write {name!r}: subtype={subtype!r} cannot be streamed "
                f"(use {allowed})"
            )
        self.stream, self.name = stream, name
        self.rate, self.channels, self.subtype = rate, channels, subtype
        self.frame_bytes = channels * WRITE_SUBTYPES[subtype][1] // 8
        head = wav_header(rate, channels, subtype, frames)
        #: The frames the header declares, None for "until end of stream".
        self.frames_declared = (
            frames if fits_riff(frames, self.frame_bytes, len(head) - 8) else None
        )
        self.data_bytes = 0
        self._head_bytes = len(head)
        stream.write(head)

    def write(self, data: bytes | memoryview | NDArray[Any]) -> None:
        """Append sample bytes (whole frames, little-endian, as WAV stores them)."""
        if isinstance(data, np.ndarray):
            data = np.ascontiguousarray(data).data
        view = memoryview(data).cast("B")
        self.stream.write(view)
        self.data_bytes += view.nbytes

    def finish(self, *, rewrite: bool = False) -> None:
        """End the data: its pad byte, and true sizes if ``rewrite`` and unknown.

        Raises
        ------
        AdcsimError
            Fewer or more frames were written than the header declares (the
            stream is then invalid: its reader gets a warning or extra data).
        """
        frames = self.data_bytes // self.frame_bytes
        if self.frames_declared is not None:
            if frames != self.frames_declared:
                raise AdcsimError(
                    f"cannot write {self.name!r}: {frames} frames written, "
                    f"the WAV header declares {self.frames_declared}"
                )
            if self.data_bytes & 1:
                self.stream.write(b"\0")  # RIFF chunks are padded to even sizes
            return
        if not rewrite:
            return  # a reader of an unknown size reads to the end: no pad byte
        if self.data_bytes & 1:
            self.stream.write(b"\0")
        head = wav_header(self.rate, self.channels, self.subtype, frames)
        if len(head) != self._head_bytes:  # pragma: no cover - same layout
            raise AssertionError("WAV header changed size")
        self.stream.seek(0)
        self.stream.write(head)
        self.stream.seek(0, 2)


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
