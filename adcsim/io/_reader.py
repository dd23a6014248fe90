"""Reading audio block by block from a file or a WAV stream on stdin.

Responsible for checking input paths, refusing truncated WAV/AIFF files,
yielding ``(frames, channels)`` blocks and translating libsndfile's read errors
into `AdcsimError` naming the file. Not responsible for writing
(`adcsim.io._writer`) or for any signal processing.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.io import _wavstream as wavstream
from adcsim.io._containers import FLOAT_SUBTYPES, PCM_BITS, error_reason
from adcsim.io._files import STDIO, check_input_path, is_stream, open_stream
from adcsim.io._quiet import quiet_stderr

BLOCKSIZE = 65536


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


class AudioReader:
    """Open an audio file (or ``-`` for a WAV stream on stdin) for block reading.

    A FIFO or a character device (``<(sox ...)``, a named pipe) is read as a
    WAV stream like ``-`` (libsndfile cannot seek it), and ``stdin``, when
    given, is the stream of any path. A file that ends before its header says
    is read as far as it goes, with a warning (`warnings`); a file that
    shrinks while it is read is an error.

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
        self._owned: BinaryIO | None = None  # a stream this reader opened
        if stdin is None and path != STDIO:
            check_input_path(path)
            if is_stream(path):
                stdin = self._owned = open_stream(path, "r")
        if stdin is not None or path == STDIO:
            self._stream = stdin if stdin is not None else sys.stdin.buffer
            self._name = "<stdin>" if path == STDIO else path
            try:
                self._wav = wavstream.read_header(self._stream, self._name)
            except BaseException:
                self.close()
                raise
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
        try:
            # (bytes: a POSIX name need not be UTF-8; soundfile cannot encode
            # the surrogate escapes of such a name itself)
            with quiet_stderr():  # (libmpg123's notes on a damaged MP3)
                self._file = sf.SoundFile(os.fsencode(path))
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise AdcsimError(f"cannot read {path!r}: {error_reason(exc)}") from exc
        f = self._file
        if f.frames == 0:
            f.close()
            raise AdcsimError(f"cannot read {path!r}: no audio frames")
        self.warnings += _check_complete(path, f)
        #: The file's size on opening: less later means it shrank under us.
        self._size = os.stat(path).st_size
        self.info = AudioInfo(
            path, f.samplerate, f.channels, f.frames, f.format, f.subtype
        )

    @property
    def dtype(self) -> str:
        """The dtype `blocks` yields with ``native=True``.

        int16 for PCM files of at most 16 bits (a sample is ``x / 2**15``),
        int32 for deeper ones (``x / 2**31``): libsndfile left-justifies PCM,
        so the values are exact. float32 for FLOAT files, float64 for
        anything else (and for a stream on stdin).
        """
        bits = self.info.bits
        if self._file is None:
            return "float64"
        if bits is not None:
            return "int16" if bits <= 16 else "int32"
        return "float32" if self.info.subtype == "FLOAT" else "float64"

    def read_frames(self, frames: int) -> NDArray[np.float64]:
        """The next ``frames`` frames of a file as float64 (fewer at its end)."""
        assert self._file is not None, "read_frames needs a file, not a stream"
        try:
            with quiet_stderr():
                return self._file.read(frames, dtype="float64", always_2d=True)
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AdcsimError(
                f"cannot read {self.path!r}: {error_reason(exc)}"
            ) from exc

    def blocks(
        self, blocksize: int = BLOCKSIZE, *, native: bool = False
    ) -> Iterator[NDArray[Any]]:
        """Yield ``(frames, channels)`` blocks: float64 full scale, or native.

        ``native`` yields the file's own sample type (see `dtype`), which the
        chain's stages take as they are; the values are the same.

        Raises
        ------
        AdcsimError
            Non-finite samples (NaN or Inf) in a float file.
        """
        check_finite = self.info.subtype in FLOAT_SUBTYPES
        position = 0
        self.frames_read = 0
        for block in self._raw_blocks(blocksize, self.dtype if native else "float64"):
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

    def _raw_blocks(self, blocksize: int, dtype: str) -> Iterator[NDArray[Any]]:
        if self._stream is not None:
            yield from wavstream.read_blocks(
                self._stream, self._wav, blocksize, self._name, self.warnings
            )
            return
        assert self._file is not None
        if dtype == "int32" and self._raw_pcm24:
            yield from self._pcm24_blocks(blocksize)
            return
        mp3 = self._file.format == "MP3"  # (only libmpg123 chatters)
        position = 0
        try:
            while True:
                if mp3:
                    with quiet_stderr():
                        block = self._file.read(blocksize, dtype=dtype, always_2d=True)
                else:
                    block = self._file.read(blocksize, dtype=dtype, always_2d=True)
                position += block.shape[0]
                self._check_not_shrunk(position, block.shape[0] == 0)
                if block.shape[0] == 0:
                    return
                yield block
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AdcsimError(
                f"cannot read {self.path!r}: {error_reason(exc)}"
            ) from exc

    @property
    def _raw_pcm24(self) -> bool:
        """Whether the file is little-endian 24-bit PCM (RIFF WAV) read raw."""
        if self.info.subtype != "PCM_24" or self.info.format not in ("WAV", "WAVEX"):
            return False
        with open(self.path, "rb") as f:
            return f.read(4) == b"RIFF"  # (RIFX is big-endian)

    def _pcm24_blocks(self, blocksize: int) -> Iterator[NDArray[np.int32]]:
        """Blocks of a 24-bit WAV as int32, from its bytes (libsndfile's raw read).

        The same values as libsndfile's int32 read (the sample in the top 24
        bits), made in one numpy pass: each sample's 3 bytes and the next
        byte read as one little-endian int32 (a view with a stride of 3 bytes
        over a buffer one byte longer) and shifted left by 8, which drops that
        next byte. libsndfile's own conversion loop took three times as long
        (0.27 s of a 1-s 10-minute 24 -> 16 bit run).
        """
        assert self._file is not None
        channels = self.info.channels
        frame_bytes = 3 * channels
        buf = np.zeros(blocksize * frame_bytes + 1, dtype=np.uint8)
        pointer = sf._ffi.from_buffer(buf)
        position, total = 0, self.info.frames or 0
        while True:
            # whole frames, at most those libsndfile found on opening: the raw
            # read does not stop at the end of a cut-off file's last frame
            want = min(blocksize, total - position) * frame_bytes
            got = (
                int(sf._snd.sf_read_raw(self._file._file, pointer, want)) // frame_bytes
            )
            position += max(got, 0)
            self._check_not_shrunk(position, got <= 0)
            if got <= 0:
                error = sf._snd.sf_error(self._file._file)
                if error:
                    reason = sf._ffi.string(sf._snd.sf_error_number(error)).decode()
                    raise AdcsimError(f"cannot read {self.path!r}: {reason.lower()}")
                return
            samples = got * channels
            view = np.ndarray((samples,), dtype="<i4", buffer=buf, strides=(3,))
            yield np.left_shift(view, 8).reshape(got, channels)

    def _check_not_shrunk(self, position: int, at_end: bool) -> None:
        """Refuse a file that got shorter while it was read (truncated under us).

        Its size is checked at every block. A file of unchanged size that gives
        fewer frames than libsndfile announced on opening (a damaged file whose
        decoder stops early) is read as far as it goes, with a warning, so a
        shorter output never passes silently for the whole input.
        """
        try:
            size = os.stat(self.path).st_size
        except OSError:
            size = self._size  # (removed: the open file is still whole)
        expected = self.info.frames or 0
        if size < self._size:
            raise AdcsimError(
                f"cannot read {self.path!r}: the file shrank while it was read "
                f"({self._size} bytes on opening, {size} now; {position} of "
                f"{expected} frames read)"
            )
        if at_end and position < expected:
            # The same bytes, fewer frames than announced: a damaged file whose
            # decoder stopped early (a spliced MP3), not one cut under us.
            self.warnings.append(
                f"{self.path}: the decoder gave {position} of the {expected} "
                "frames the file announces (read as far as it goes)"
            )

    def close(self) -> None:
        """Close the file (stdin is left open)."""
        if self._file is not None:
            self._file.close()
        if self._owned is not None:
            self._owned.close()

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


def _check_complete(path: str, f: sf.SoundFile) -> list[str]:
    """A warning for a WAV or AIFF file holding fewer frames than its header says.

    libsndfile silently shortens such a file to the frames present; a cut-off
    copy or download would then pass for a shorter recording. It is read as
    far as it goes, like a cut-off pipe, and the warning goes into the report
    and onto stderr (issue 19).
    """
    sample_bytes = _SAMPLE_BYTES.get(f.subtype)
    if f.format not in ("WAV", "WAVEX", "AIFF") or sample_bytes is None:
        return []
    frame_bytes = sample_bytes * f.channels
    declared = _declared_data_bytes(path)
    if declared is None or (
        f.format != "AIFF" and wavstream.is_unknown_size(declared, frame_bytes)
    ):
        return []
    if declared // frame_bytes > f.frames:
        return [
            f"{path}: truncated file: the header declares "
            f"{declared // frame_bytes} frames, {f.frames} are present (read "
            "as far as it goes)"
        ]
    return []


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
