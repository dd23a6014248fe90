"""Writing stored values to an audio file (atomically) or to stdout.

Responsible for `AudioWriter` (libsndfile's file, raw WAV bytes, the pipe
stream), the calls into libsndfile that soundfile does not wrap, the one-shot
`write`, and the library versions for reports. Which values a container
stores is `adcsim.io._containers`; atomic files are `adcsim.io._files`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.io import _wavstream as wavstream
from adcsim.io._containers import (
    FLOAT_SUBTYPES,
    Container,
    check_subtype,
    error_reason,
    format_for_path,
)
from adcsim.io._files import STDIO, AtomicFile, check_output_path, is_stream


class AudioWriter:
    """Write blocks of stored values to a file (atomically) or to stdout.

    Parameters
    ----------
    path : str
        Output path, ``-`` for a WAV stream on stdout.
    rate, channels : int
    subtype : str
        A subtype valid for the path's format (see `check_subtype`).
    quantizer : Quantizer, optional
        Whose codes integer blocks hold (see `write`).
    stdout : binary stream, optional
        Where ``-`` (or a stream path, see `is_stream`) writes (default
        ``sys.stdout.buffer`` for ``-``, the opened path for a FIFO or a
        device).
    frames : int, optional
        The number of frames that will be written, when known before the
        first: a streamed WAV then has true sizes in its header (sox warns
        "Premature EOF" on the 0xFFFFFFFF sizes of an unknown length).

    Notes
    -----
    WAV streams (stdout, FIFOs, devices) and float WAV files are written by
    `adcsim.io._wavstream.WavWriter`: libsndfile cannot finish a WAV without
    seeking, and its float WAVs lack the ``cbSize`` field the WAV
    specification requires of non-PCM formats. OGG files get a serial number
    derived from their contents (`adcsim.io._ogg`), so that they are
    reproducible.
    """

    def __init__(
        self,
        path: str,
        *,
        rate: int,
        channels: int,
        subtype: str,
        quantizer: Any = None,
        stdout: BinaryIO | None = None,
        frames: int | None = None,
    ) -> None:
        self.path = path
        self.format = format_for_path(path)
        self.subtype = subtype
        self.container = Container(subtype, quantizer)
        self._atomic: AtomicFile | None = None
        self._file: sf.SoundFile | None = None
        self._stream: BinaryIO | None = None
        self._wav: wavstream.WavWriter | None = None
        self._owned: BinaryIO | None = None  # a stream this writer opened
        streamed = path == STDIO or stdout is not None or is_stream(path)
        if streamed or (self.format == "WAV" and subtype in FLOAT_SUBTYPES):
            self._start_wav(rate, channels, frames, stdout, streamed=streamed)
            return
        self._atomic = AtomicFile(path)
        try:
            self._file = sf.SoundFile(
                os.fsencode(self._atomic.tmp),  # (names need not be UTF-8)
                "w",
                samplerate=rate,
                channels=channels,
                subtype=subtype,
                format=self.format,
            )
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            self._atomic.discard()
            raise AdcsimError(f"cannot write {path!r}: {error_reason(exc)}") from exc
        if subtype in FLOAT_SUBTYPES:
            _disable_peak_chunk(self._file)

    def _start_wav(
        self,
        rate: int,
        channels: int,
        frames: int | None,
        stdout: BinaryIO | None,
        *,
        streamed: bool,
    ) -> None:
        """Write a WAV stream, or a float WAV file, with `wavstream.WavWriter`."""
        if streamed and self.format != "WAV":
            raise AdcsimError(
                f"cannot write {self.path!r}: a stream can only be WAV, "
                f"not {self.format}"
            )
        stream: BinaryIO
        with self._discarded_on_error():
            if not streamed:
                self._atomic = AtomicFile(self.path)
                stream = self._owned = open(self._atomic.tmp, "wb")  # noqa: SIM115
            elif stdout is not None:
                stream = stdout
            elif self.path == STDIO:
                stream = sys.stdout.buffer
            else:  # a FIFO or a device, written into (never replaced)
                stream = self._owned = open(self.path, "wb")  # noqa: SIM115
            self._stream = stream
            self._wav = wavstream.WavWriter(
                stream,
                rate=rate,
                channels=channels,
                subtype=self.subtype,
                frames=frames,
                name=self.path,
            )

    def write(
        self, block: NDArray[Any], *, read_back: bool = True
    ) -> NDArray[np.float64] | None:
        """Store one block; return the values as written (full scale).

        Float blocks are levels (`Container.store`), integer blocks the codes
        of the writer's ``quantizer`` (`Container.store_codes`, which with
        ``read_back=False`` skips the values and returns None).
        """
        written: NDArray[np.float64] | None
        if block.dtype.kind in "iu":
            data, written = self.container.store_codes(block, read_back=read_back)
        else:
            data, written = self.container.store(block)
        self._write_data(data)
        return written

    def _write_data(self, data: NDArray[Any]) -> None:
        """Write what the container made: G.711 bytes, integer levels, floats."""
        bits = self.container.bits
        if self.container.law is not None:
            self._write_bytes(data)
        elif bits is not None and self._wav is not None:
            self._write_bytes(wavstream.sample_bytes(np.ascontiguousarray(data), bits))
        elif bits is not None and self.format == "WAV":
            # (bytes need C order: a caller's block may be a transposed view)
            ints = np.ascontiguousarray(data)
            self._write_bytes(wavstream.sample_bytes(ints, bits))
        elif bits is not None:
            # libsndfile takes integer PCM left-justified in int16 or int32
            width, dtype = (16, np.int16) if bits <= 16 else (32, np.int32)
            shifted = np.left_shift(data, width - bits, dtype=dtype, casting="unsafe")
            self._write_file(shifted)
        elif self._wav is not None:
            kind = "<f4" if self.subtype == "FLOAT" else "<f8"
            self._write_bytes(np.asarray(data, dtype=kind))
        else:
            self._write_file(data)

    def _write_bytes(self, data: NDArray[Any]) -> None:
        """Append sample bytes as they are to the file's data chunk.

        libsndfile's ``sf_write_raw`` (which soundfile does not wrap) skips
        its per-sample conversion loop, the largest cost of plain
        requantization; it still counts the frames and finishes the header.
        G.711 bytes go this way too: libsndfile's own encoder differs from
        G.191. A `wavstream.WavWriter` output takes the same bytes.
        """
        if self._wav is not None:
            try:
                self._wav.write(data)
            except OSError as exc:
                raise AdcsimError(
                    f"cannot write {self.path!r}: {error_reason(exc)}"
                ) from exc
            return
        assert self._file is not None
        data = np.ascontiguousarray(data)
        written = _sf_snd().sf_write_raw(
            self._file._file, _sf_ffi().from_buffer(data), data.nbytes
        )
        if written != data.nbytes:
            raise AdcsimError(f"cannot write {self.path!r}: disk full or write error")

    def _write_file(self, data: NDArray[Any]) -> None:
        assert self._file is not None
        try:
            self._file.write(data)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            raise AdcsimError(
                f"cannot write {self.path!r}: {error_reason(exc)}"
            ) from exc

    def commit(self) -> None:
        """Finish the file and move it into place (flush stdout)."""
        if self._wav is not None:
            self._commit_wav()
            return
        assert self._file is not None and self._atomic is not None
        try:
            _close_unsynced(self._file)
            if self.format == "OGG":
                from adcsim.io._ogg import set_serials

                set_serials(self._atomic.tmp, self.path)
            self._atomic.commit()
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            self.discard()
            raise AdcsimError(
                f"cannot write {self.path!r}: {error_reason(exc)}"
            ) from exc

    def _commit_wav(self) -> None:
        """Finish a `wavstream.WavWriter` stream (true sizes in a file)."""
        assert self._wav is not None and self._stream is not None
        with self._discarded_on_error():
            self._wav.finish(rewrite=self._atomic is not None)
            self._stream.flush()
            if self._owned is not None:
                self._owned.close()
            if self._atomic is not None:
                self._atomic.commit()

    @contextlib.contextmanager
    def _discarded_on_error(self) -> Iterator[None]:
        """Discard the output on any failure; an OSError becomes one clean line."""
        try:
            yield
        except OSError as exc:
            self.discard()
            raise AdcsimError(
                f"cannot write {self.path!r}: {error_reason(exc)}"
            ) from exc
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Abandon the output: nothing is left at the target path."""
        if self._owned is not None:
            with contextlib.suppress(OSError):
                self._owned.close()
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
