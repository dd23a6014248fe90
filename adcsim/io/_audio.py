"""Reading and writing audio block by block; the only module importing soundfile.

Responsible for: checking paths, opening files and stdin/stdout streams,
yielding float ``(frames, channels)`` blocks, storing float levels in a
container (integer PCM written by adcsim itself, so that N bits means exactly
2**N levels), and atomic output (a temporary file beside the target, renamed
when complete). Third-party errors are translated here, once, into
`AdcsimError` naming the file. Not responsible for any signal processing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.io import _wavstream as wavstream
from adcsim.io._files import STDIO, AtomicFile, check_output_path

BLOCKSIZE = 65536

#: Container bits of the integer PCM subtypes.
PCM_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
G711_SUBTYPES: dict[str, Literal["mulaw", "alaw"]] = {"ULAW": "mulaw", "ALAW": "alaw"}
_UNSIGNED_8_FORMATS = ("WAV", "WAVEX", "RF64", "W64")
_EXTENSION_FORMATS = {"aif": "AIFF", "aiff": "AIFF", "aifc": "AIFF", "oga": "OGG"}


@dataclass(frozen=True)
class AudioInfo:
    """What a reader found in an input.

    Attributes
    ----------
    path : str
        The path as given (``-`` for stdin).
    rate : int
        Sample rate, Hz.
    channels : int
    frames : int or None
        Length, None for a stream whose header does not say.
    format : str
        libsndfile major format (``WAV``, ``FLAC``, ...).
    subtype : str
        libsndfile subtype (``PCM_16``, ``FLOAT``, ...).
    """

    path: str
    rate: int
    channels: int
    frames: int | None
    format: str
    subtype: str

    @property
    def bits(self) -> int | None:
        """Integer PCM depth of the source, None for float or compressed data."""
        return PCM_BITS.get(self.subtype)


def _check_input_path(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise AdcsimError(f"cannot read {path!r}: no such file")
    if p.is_dir():
        raise AdcsimError(f"cannot read {path!r}: is a directory")
    if not os.access(p, os.R_OK):
        raise AdcsimError(f"cannot read {path!r}: permission denied")
    if p.stat().st_size == 0:
        raise AdcsimError(f"cannot read {path!r}: empty file")
    return p


class AudioReader:
    """Open an audio file (or ``-`` for a WAV stream on stdin) for block reading.

    Raises
    ------
    AdcsimError
        Missing, unreadable, empty or unsupported input.
    """

    def __init__(self, path: str, *, stdin: BinaryIO | None = None) -> None:
        self.path = path
        self._file: sf.SoundFile | None = None
        self._stream: BinaryIO | None = None
        #: Problems that did not stop the reading (e.g. a cut-off pipe).
        self.warnings: list[str] = []
        #: Frames yielded so far by `blocks`.
        self.frames_read = 0
        if path == STDIO:
            self._stream = stdin if stdin is not None else sys.stdin.buffer
            self._wav = wavstream.read_header(self._stream)
            frames = None
            if self._wav.data_bytes is not None:
                frames = self._wav.data_bytes // self._wav.frame_bytes
            self.info = AudioInfo(
                path,
                self._wav.rate,
                self._wav.channels,
                frames,
                "WAV",
                self._wav.subtype,
            )
            return
        _check_input_path(path)
        try:
            self._file = sf.SoundFile(path)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise AdcsimError(f"cannot read {path!r}: {_reason(exc)}") from exc
        f = self._file
        if f.frames == 0:
            f.close()
            raise AdcsimError(f"cannot read {path!r}: no audio frames")
        try:
            _check_complete(path, f)
        except AdcsimError:
            f.close()
            raise
        self.info = AudioInfo(
            path, f.samplerate, f.channels, f.frames, f.format, f.subtype
        )

    @property
    def has_pcm(self) -> bool:
        """Whether `pcm_blocks` works: an integer PCM file (not a stream)."""
        return self._file is not None and self.info.bits is not None

    def pcm_blocks(
        self, blocksize: int = BLOCKSIZE
    ) -> Iterator[NDArray[np.integer[Any]]]:
        """Yield integer ``(frames, channels)`` blocks of an integer PCM file.

        int16 for sources of at most 16 bits (a sample is ``x / 2**15``),
        else int32 (``x / 2**31``): libsndfile left-justifies PCM, so the
        values are exact, as in `blocks`.
        """
        assert self._file is not None and self.has_pcm
        dtype = "int16" if (self.info.bits or 32) <= 16 else "int32"
        position = 0
        try:
            while True:
                block = self._file.read(blocksize, dtype=dtype, always_2d=True)
                if block.shape[0] == 0:
                    break
                position += block.shape[0]
                yield block
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AdcsimError(f"cannot read {self.path!r}: {_reason(exc)}") from exc
        if position == 0:
            raise AdcsimError(f"cannot read {self.path!r}: no audio frames")

    def read_frames(self, frames: int) -> NDArray[np.float64]:
        """The next ``frames`` frames of a file as float64 (fewer at its end)."""
        assert self._file is not None, "read_frames needs a file, not a stream"
        try:
            return self._file.read(frames, dtype="float64", always_2d=True)
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AdcsimError(f"cannot read {self.path!r}: {_reason(exc)}") from exc

    def blocks(self, blocksize: int = BLOCKSIZE) -> Iterator[NDArray[np.float64]]:
        """Yield float64 ``(frames, channels)`` blocks, full scale.

        Raises
        ------
        AdcsimError
            Non-finite samples (NaN or Inf) in a float file.
        """
        check_finite = self.info.subtype in FLOAT_SUBTYPES
        position = 0
        self.frames_read = 0
        for block in self._raw_blocks(blocksize):
            if check_finite and not np.isfinite(block).all():
                bad = int(np.argmin(np.isfinite(block).all(axis=1)))
                raise AdcsimError(
                    f"cannot use {self.path!r}: non-finite sample (NaN or Inf) "
                    f"at frame {position + bad}"
                )
            position += block.shape[0]
            self.frames_read = position
            yield block
        if position == 0:
            raise AdcsimError(f"cannot read {self.path!r}: no audio frames")

    def _raw_blocks(self, blocksize: int) -> Iterator[NDArray[np.float64]]:
        if self._stream is not None:
            yield from wavstream.read_blocks(
                self._stream, self._wav, blocksize, warnings=self.warnings
            )
            return
        assert self._file is not None
        try:
            while True:
                block = self._file.read(blocksize, dtype="float64", always_2d=True)
                if block.shape[0] == 0:
                    return
                yield block
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AdcsimError(f"cannot read {self.path!r}: {_reason(exc)}") from exc

    def close(self) -> None:
        """Close the file (stdin is left open)."""
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Bytes per sample of the uncompressed subtypes whose data size a header states.
_SAMPLE_BYTES = {
    "PCM_S8": 1,
    "PCM_U8": 1,
    "PCM_16": 2,
    "PCM_24": 3,
    "PCM_32": 4,
    "FLOAT": 4,
    "DOUBLE": 8,
    "ULAW": 1,
    "ALAW": 1,
}


def _declared_data_bytes(path: str) -> int | None:
    """Sample-data bytes a WAV or AIFF header declares, None if not stated.

    Walks the RIFF/RIFX/FORM chunks up to ``data`` (WAV) or ``SSND`` (AIFF,
    minus its 8-byte offset and block-size fields). Sizes that mean "unknown"
    in a pipe-written WAV (see `wavstream.is_unknown_size`) give None.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            endian, data_id, skip = ("<" if head[:4] == b"RIFF" else ">"), b"data", 0
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            endian, data_id, skip = ">", b"SSND", 8
        else:
            return None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            size = int(struct.unpack(endian + "I", chunk[4:])[0])
            if chunk[:4] == data_id:
                return max(size - skip, 0)
            f.seek(size + (size & 1), os.SEEK_CUR)


def _check_complete(path: str, f: sf.SoundFile) -> None:
    """Refuse a WAV or AIFF file holding fewer frames than its header declares.

    libsndfile silently shortens such a file to the frames present; a cut-off
    copy or download would then pass for a shorter recording (issue 2 lists
    truncated files among the bad inputs).
    """
    sample_bytes = _SAMPLE_BYTES.get(f.subtype)
    if f.format not in ("WAV", "WAVEX", "AIFF") or sample_bytes is None:
        return
    frame_bytes = sample_bytes * f.channels
    declared = _declared_data_bytes(path)
    if declared is None or (
        f.format != "AIFF" and wavstream.is_unknown_size(declared, frame_bytes)
    ):
        return
    if declared // frame_bytes > f.frames:
        raise AdcsimError(
            f"cannot read {path!r}: truncated file, the header declares "
            f"{declared // frame_bytes} frames but only {f.frames} are present"
        )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # soundfile prefixes messages with the path in various forms; keep the reason.
    if "Error opening" in text and ": " in text:
        text = text.rsplit(": ", 1)[-1]
    return text.rstrip(".").lower() or "unreadable"


def format_for_path(path: str) -> str:
    """The libsndfile major format chosen by an output path's extension.

    Examples
    --------
    >>> format_for_path("a.flac"), format_for_path("b.aif"), format_for_path("-")
    ('FLAC', 'AIFF', 'WAV')
    """
    if path == STDIO:
        return "WAV"
    ext = Path(path).suffix.lower().lstrip(".")
    if not ext:
        return "WAV"
    fmt = _EXTENSION_FORMATS.get(ext, ext.upper())
    if fmt not in _formats():
        raise AdcsimError(f"cannot write {path!r}: unknown audio format {ext!r}")
    return fmt


@functools.cache
def _formats() -> frozenset[str]:
    """The major formats libsndfile knows (asking it builds a dict each time)."""
    return frozenset(sf.available_formats())


@functools.cache
def _subtypes(fmt: str | None = None) -> frozenset[str]:
    """The subtypes libsndfile knows, of ``fmt`` or of any format."""
    return frozenset(sf.available_subtypes(fmt))


def choose_subtype(fmt: str, grid_bits: int | None) -> str:
    """The smallest standard container of ``fmt`` that holds the levels exactly.

    Parameters
    ----------
    fmt : str
        libsndfile major format.
    grid_bits : int or None
        Bits of the power-of-two grid holding every output level, None when the
        levels are on no such grid (they are then stored as float32).

    Examples
    --------
    >>> choose_subtype("WAV", 8), choose_subtype("AIFF", 8), choose_subtype("WAV", 12)
    ('PCM_U8', 'PCM_S8', 'PCM_16')
    >>> choose_subtype("WAV", None), choose_subtype("FLAC", None)
    ('FLOAT', 'PCM_24')
    """
    if grid_bits is not None:
        # 8-bit WAV is unsigned by definition; AIFF (and FLAC) store it signed,
        # and their unsigned variant is a non-standard extension.
        eight: tuple[str, ...] = ("PCM_S8",)
        if fmt in _UNSIGNED_8_FORMATS:
            eight = ("PCM_U8", "PCM_S8")
        for subtype in (*eight, "PCM_16", "PCM_24", "PCM_32"):
            if PCM_BITS[subtype] >= grid_bits and sf.check_format(fmt, subtype):
                return subtype
    for subtype in ("FLOAT", "PCM_32", "PCM_24", "PCM_16"):
        if sf.check_format(fmt, subtype):
            return subtype
    return str(sf.default_subtype(fmt))


def check_subtype(fmt: str, subtype: str) -> str:
    """Return ``subtype`` upper-cased if ``fmt`` can hold it, else raise."""
    subtype = subtype.upper()
    if subtype not in _subtypes() or not sf.check_format(fmt, subtype):
        allowed = ", ".join(sorted(_subtypes(fmt)))
        raise AdcsimError(f"subtype={subtype!r} is not valid for {fmt}: use {allowed}")
    return subtype


def is_exact_subtype(subtype: str) -> bool:
    """Whether values stored in ``subtype`` are known exactly (no lossy codec)."""
    return subtype in PCM_BITS or subtype in FLOAT_SUBTYPES or subtype in G711_SUBTYPES


class Container:
    """Stores float levels in a subtype and says exactly what was stored.

    ``store(y)`` returns the array handed to libsndfile and the float values a
    reader will get back, so that metrics see the values actually written.
    Integer PCM is rounded half to even and clipped by adcsim, never by
    libsndfile (whose float-to-int conversion floors).

    Examples
    --------
    >>> raw, written = Container("PCM_U8").store(np.array([[0.5], [-1.0], [1.0]]))
    >>> raw.ravel().tolist(), written.ravel().tolist()
    ([16384, -32768, 32512], [0.5, -1.0, 0.9921875])
    """

    def __init__(self, subtype: str) -> None:
        self.subtype = subtype
        self.bits = PCM_BITS.get(subtype)
        #: Depth of the integer levels `store_ints` takes (G.711: 16-bit linear).
        self.int_bits = 16 if subtype in G711_SUBTYPES else self.bits
        #: The law whose G.711 levels `store_ints` may take as they are (set by
        #: a caller whose levels come from that law's decoder).
        self.trusted_g711_law: str | None = None

    def wav_bytes(
        self, ints: NDArray[np.int32]
    ) -> tuple[NDArray[Any] | None, NDArray[Any]]:
        """WAV sample bytes of integer levels, and the levels as written.

        None when the subtype has no simple byte form here (FLOAT, ...).
        """
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            codes = g711.encode(ints.astype(np.int16), law)
            levels = ints if law == self.trusted_g711_law else g711.decode(codes, law)
            return codes, levels
        if self.bits is None:
            return None, ints
        return wavstream.sample_bytes(ints, self.bits), ints

    def store_ints(self, ints: NDArray[np.int32]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Store integer levels on the `int_bits` grid; return (raw, read-back ints).

        The integer fast path of `store`: no rounding, the levels are exact.
        """
        assert self.int_bits is not None
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            if law == self.trusted_g711_law:
                levels16 = ints.astype(np.int16)
                return levels16, levels16
            levels = g711.decode(g711.encode(ints.astype(np.int16), law), law)
            return levels, levels
        # one pass each: shift into a new array of the type libsndfile takes
        if self.int_bits <= 16:
            raw = np.left_shift(
                ints, 16 - self.int_bits, dtype=np.int16, casting="unsafe"
            )
        else:
            raw = np.left_shift(
                ints, 32 - self.int_bits, dtype=np.int32, casting="unsafe"
            )
        return raw, ints

    def store(
        self, y: NDArray[np.floating[Any]]
    ) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """Convert levels to the container; return (raw for soundfile, read-back)."""
        if self.bits is not None:
            ints = self.to_ints(y)
            written = ints / float(1 << (self.bits - 1))
            if self.bits <= 16:
                return (ints << (16 - self.bits)).astype(np.int16), written
            return (ints << (32 - self.bits)).astype(np.int32), written
        if self.subtype == "FLOAT":
            raw32 = np.asarray(y, dtype=np.float32)
            return raw32, raw32.astype(np.float64)
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            ints16 = np.clip(np.round(np.asarray(y) * 32768.0), -32768, 32767)
            # libsndfile's own encoder differs from G.191 on 127 negative inputs
            # per law; handed G.711 levels, it writes the reference's bytes.
            levels = g711.decode(g711.encode(ints16.astype(np.int16), law), law)
            return levels, levels / 32768.0
        y64 = np.asarray(y, dtype=np.float64)
        return y64, y64

    def to_ints(self, y: NDArray[np.floating[Any]]) -> NDArray[np.int32]:
        """Round half to even to the container's integer grid and clip."""
        assert self.bits is not None
        scale = float(1 << (self.bits - 1))
        ints = np.clip(np.round(np.asarray(y) * scale), -scale, scale - 1)
        return ints.astype(np.int32)


class AudioWriter:
    """Write blocks of stored values to a file (atomically) or to stdout.

    Parameters
    ----------
    path : str
        Output path, ``-`` for a WAV stream on stdout.
    rate, channels : int
    subtype : str
        A subtype valid for the path's format (see `check_subtype`).
    stdout : binary stream, optional
        Where ``-`` writes (default ``sys.stdout.buffer``).
    """

    def __init__(
        self,
        path: str,
        *,
        rate: int,
        channels: int,
        subtype: str,
        stdout: BinaryIO | None = None,
    ) -> None:
        self.path = path
        self.format = format_for_path(path)
        self.subtype = subtype
        self.container = Container(subtype)
        self._atomic: AtomicFile | None = None
        self._file: sf.SoundFile | None = None
        self._stored_bytes = False  # what `lookup_table` made
        self._stream: BinaryIO | None = None
        if path == STDIO:
            bits = self.container.bits
            if bits is None and subtype not in FLOAT_SUBTYPES:
                raise AdcsimError(f"subtype={subtype!r} cannot be streamed to stdout")
            self._stream = stdout if stdout is not None else sys.stdout.buffer
            is_float = bits is None
            width = bits if bits is not None else (32 if subtype == "FLOAT" else 64)
            self._stream.write(wavstream.header_bytes(rate, channels, width, is_float))
            return
        self._atomic = AtomicFile(path)
        try:
            self._file = sf.SoundFile(
                self._atomic.tmp,
                "w",
                samplerate=rate,
                channels=channels,
                subtype=subtype,
                format=self.format,
            )
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            self._atomic.discard()
            raise AdcsimError(f"cannot write {path!r}: {_reason(exc)}") from exc
        if subtype in FLOAT_SUBTYPES:
            _disable_peak_chunk(self._file)

    def write(self, y: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Store one block of levels; return the values as written."""
        raw, written = self.container.store(y)
        self._write_raw(raw)
        return written

    def write_ints(self, ints: NDArray[np.int32]) -> NDArray[Any]:
        """Store integer levels (see `Container.store_ints`); return them as written."""
        if self._file is not None and self.format == "WAV":
            data, written = self.container.wav_bytes(ints)
            if data is not None:
                self._write_bytes(data)
                return written
        raw, written = self.container.store_ints(ints)
        self._write_raw(raw)
        return written

    def lookup_table(
        self, levels: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """What this writer stores for each of ``levels``, and the values read back.

        ``levels`` is 1-D: integers on the container's `Container.int_bits`
        grid (as `write_ints` takes them) or floats (as `write` does). For
        the look-up path (`adcsim.run._lookup`): ``write_stored(np.take(table, i,
        axis=0))`` then writes what `write_ints` or `write` would write for
        ``levels[i]``. The values read back are full scale.
        """
        column = levels.reshape(-1, 1)
        self._stored_bytes = False
        if levels.dtype.kind == "f":
            raw, written = self.container.store(column)
            return raw.ravel(), written.ravel()
        assert self.container.int_bits is not None
        scale = 1.0 / (1 << (self.container.int_bits - 1))
        if self.format == "WAV" and (self._file is not None or self.container.bits):
            data, ints = self.container.wav_bytes(column)
            if data is not None:
                self._stored_bytes = True
                table: NDArray[Any] = np.ascontiguousarray(data)
                table = table.reshape(levels.size, -1)
                if table.shape[1] != 3:  # one sample, one unsigned integer
                    table = table.view(f"<u{table.shape[1]}").ravel()
                return table, ints.ravel() * scale
        raw, ints = self.container.store_ints(column)
        return raw.ravel(), ints.ravel() * scale

    def write_stored(self, data: NDArray[Any]) -> None:
        """Write a block looked up in `lookup_table`."""
        if not self._stored_bytes:
            self._write_raw(data)
        elif self._stream is not None:
            try:
                self._stream.write(np.ascontiguousarray(data).data)
            except OSError as exc:
                raise AdcsimError(
                    f"cannot write {self.path!r}: {_reason(exc)}"
                ) from exc
        else:
            self._write_bytes(data)

    def _write_bytes(self, data: NDArray[Any]) -> None:
        """Append sample bytes as they are to a WAV's data chunk.

        libsndfile's ``sf_write_raw`` (which soundfile does not wrap) skips
        its per-sample conversion loop, the largest cost of plain
        requantization; it still counts the frames and finishes the header.
        """
        assert self._file is not None
        data = np.ascontiguousarray(data)
        written = _sf_snd().sf_write_raw(
            self._file._file, _sf_ffi().from_buffer(data), data.nbytes
        )
        if written != data.nbytes:
            raise AdcsimError(f"cannot write {self.path!r}: disk full or write error")

    def _write_raw(self, raw: NDArray[Any]) -> None:
        try:
            if self._stream is not None:
                self._write_stream(raw)
            else:
                assert self._file is not None
                self._file.write(raw)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise AdcsimError(f"cannot write {self.path!r}: {_reason(exc)}") from exc

    def _write_stream(self, raw: NDArray[Any]) -> None:
        assert self._stream is not None
        bits = self.container.bits
        if bits is None:
            dtype = "<f4" if self.subtype == "FLOAT" else "<f8"
            self._stream.write(np.asarray(raw, dtype=dtype).tobytes())
        else:
            ints = raw.astype(np.int32) >> ((16 if bits <= 16 else 32) - bits)
            self._stream.write(wavstream.encode_samples(ints, bits))

    def commit(self) -> None:
        """Finish the file and move it into place (flush stdout)."""
        if self._stream is not None:
            self._stream.flush()
            return
        assert self._file is not None and self._atomic is not None
        try:
            _close_unsynced(self._file)
            self._atomic.commit()
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            self.discard()
            raise AdcsimError(f"cannot write {self.path!r}: {_reason(exc)}") from exc

    def discard(self) -> None:
        """Abandon the output: nothing is left at the target path."""
        if self._file is not None and not self._file.closed:
            with contextlib.suppress(sf.SoundFileError, RuntimeError, OSError):
                self._file.close()
        if self._atomic is not None:
            self._atomic.discard()


#: libsndfile's sf_command code SFC_SET_ADD_PEAK_CHUNK (sndfile.h).
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def _sf_snd() -> Any:
    """The cffi handle of libsndfile inside soundfile (calls it does not wrap)."""
    return sf._snd


def _sf_ffi() -> Any:
    """The cffi FFI object inside soundfile."""
    return sf._ffi


def _close_unsynced(f: sf.SoundFile) -> None:
    """Close a file being written without soundfile's fsync.

    ``SoundFile.close`` first calls libsndfile's ``sf_write_sync``, an fsync
    that cost more than writing the file. An output is complete when it is
    renamed into place either way (`AtomicFile`); like sox and ffmpeg,
    adcsim leaves writing it to disk to the operating system.
    """
    if f.closed:
        return
    handle, f._file = f._file, None
    sf._error_check(sf._snd.sf_close(handle))


def _disable_peak_chunk(f: sf.SoundFile) -> None:
    """Stop libsndfile writing a PEAK chunk into float WAV/AIFF files.

    The PEAK chunk carries a time stamp, which would make two runs with the
    same input and settings write different bytes. soundfile has no public
    call for this, so the C function is called through its handle.
    """
    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)


def read(path: str) -> tuple[NDArray[np.float64], AudioInfo]:
    """Read a whole file as float64 ``(frames, channels)``, full scale.

    Raises
    ------
    AdcsimError
        Missing, unreadable or unsupported file, non-finite samples.
    """
    with AudioReader(path) as reader:
        data = np.concatenate(list(reader.blocks()))
        return data, reader.info


def write(
    path: str,
    data: NDArray[np.floating[Any]],
    rate: int,
    *,
    subtype: str = "PCM_16",
    force: bool = False,
) -> None:
    """Write ``data`` (frames, or frames x channels) atomically.

    Raises
    ------
    AdcsimError
        Existing output without ``force``, bad subtype, unwritable path.
    """
    check_output_path(path, force=force)
    block = np.asarray(data, dtype=np.float64)
    block = block.reshape(block.shape[0], -1)
    subtype = check_subtype(format_for_path(path), subtype)
    writer = AudioWriter(path, rate=rate, channels=block.shape[1], subtype=subtype)
    try:
        writer.write(block)
        writer.commit()
    except BaseException:
        writer.discard()
        raise


def libsndfile_version() -> str:
    """The version of the libsndfile soundfile uses."""
    return str(sf.__libsndfile_version__)


def soundfile_version() -> str:
    """The soundfile package version."""
    return str(sf.__version__)
