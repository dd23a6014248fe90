"""WAV streams over pipes, checked against libsndfile and the RIFF layout."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.io import _wavstream as wavstream


class OneByteAtATime(io.RawIOBase):
    """A pipe that returns at most ``chunk`` bytes per read, like a slow writer."""

    def __init__(self, data: bytes, chunk: int = 7) -> None:
        self.data, self.pos, self.chunk = data, 0, chunk

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self.chunk if size < 0 else min(size, self.chunk)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out


def soundfile_wav(data: np.ndarray, rate: int, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def with_unknown_sizes(wav: bytes) -> bytes:
    """Overwrite the RIFF and data sizes with 0xFFFFFFFF, as a pipe writer does."""
    pos = wav.index(b"data")
    size = struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
    out = bytearray(wav[: pos + 8 + size])  # no pad byte, no trailing chunk
    out[4:8] = b"\xff\xff\xff\xff"
    out[pos + 4 : pos + 8] = b"\xff\xff\xff\xff"
    return bytes(out)


def read_all(
    data: bytes, blocksize: int = 100
) -> tuple[wavstream.WavFormat, np.ndarray]:
    stream = OneByteAtATime(data)
    fmt = wavstream.read_header(stream)  # type: ignore[arg-type]
    blocks = list(wavstream.read_blocks(stream, fmt, blocksize))  # type: ignore[arg-type]
    return fmt, np.concatenate(blocks)


@pytest.mark.parametrize(
    "subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]
)
@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("unknown", [False, True])
def test_streams_decode_like_libsndfile(
    noise,
    subtype: str,
    channels: int,
    unknown: bool,  # type: ignore[no-untyped-def]
) -> None:
    x = noise(frames=777, channels=channels, amplitude=0.99)
    wav = soundfile_wav(x, 22050, subtype)
    want, _ = sf.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    fmt, got = read_all(with_unknown_sizes(wav) if unknown else wav)
    assert (fmt.rate, fmt.channels, fmt.subtype) == (22050, channels, subtype)
    assert fmt.data_bytes == (None if unknown else 777 * fmt.frame_bytes)
    np.testing.assert_array_equal(got, want)


def test_reading_stops_at_the_declared_size_before_trailing_chunks(noise) -> None:  # type: ignore[no-untyped-def]
    wav = soundfile_wav(noise(frames=50), 8000, "PCM_16")
    _, got = read_all(wav + b"LIST" + struct.pack("<I", 4) + b"abcd")
    assert got.shape == (50, 1)


def test_a_stream_shorter_than_declared_is_read_as_far_as_it_goes(noise) -> None:  # type: ignore[no-untyped-def]
    # Issue 5: truncated or lying pipe headers give a warning, not a crash.
    data = noise(frames=50)
    wav = soundfile_wav(data, 8000, "PCM_16")
    cut = wav[: len(wav) - 61]  # 39 of 100 data bytes: 19 whole frames
    stream = OneByteAtATime(cut)
    fmt = wavstream.read_header(stream)  # type: ignore[arg-type]
    warnings: list[str] = []
    got = np.concatenate(list(wavstream.read_blocks(stream, fmt, 7, warnings=warnings)))  # type: ignore[arg-type]
    assert got.shape == (19, 1)
    _, whole = read_all(wav)
    np.testing.assert_array_equal(got, whole[:19])
    assert len(warnings) == 1 and "50 frames, 19 were read" in warnings[0]


def test_an_unknown_size_stream_drops_a_partial_last_frame(noise) -> None:  # type: ignore[no-untyped-def]
    wav = with_unknown_sizes(
        soundfile_wav(noise(frames=50, channels=2), 8000, "PCM_16")
    )
    _, got = read_all(wav[:-3])
    assert got.shape == (49, 2)


@pytest.mark.parametrize("channels", [1, 2, 3, 6])
def test_sox_magic_length_means_unknown(channels: int) -> None:
    align = channels * 2
    magic = 0x7FFFF000 // align * align
    assert wavstream.is_unknown_size(magic, align)
    assert not wavstream.is_unknown_size(magic - align, align)
    assert wavstream.is_unknown_size(0, align)
    assert wavstream.is_unknown_size(0xFFFFFFFF, align)


def test_chunks_before_data_are_skipped_with_their_pad_byte() -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    samples = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    data = (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVE"
        + b"LIST"
        + struct.pack("<I", 3)
        + b"abc\x00"  # odd size, padded
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"junk"
        + struct.pack("<I", 0)  # an empty chunk is valid
        + b"data"
        + struct.pack("<I", len(samples))
        + samples
    )
    _, got = read_all(data)
    np.testing.assert_array_equal(got.ravel(), [0, 0.5, -1, 32767 / 32768])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "not a WAV"),
        (b"RIFF\x10\x00\x00\x00AIFF", "not a WAV"),
        (b"RIFF\xff\xff\xff\xffWAVE", "ends before"),
        (b"RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff", "no fmt chunk"),
        (
            b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"
            + struct.pack("<HHIIHH", 2, 1, 8000, 4000, 1, 4)
            + b"data\0\0\0\0",
            "unsupported",
        ),
    ],
)
def test_bad_streams_raise_one_line_errors(data: bytes, match: str) -> None:
    with pytest.raises(AdcsimError, match=match) as info:
        read_all(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_written_streams_read_back_in_libsndfile(bits: int) -> None:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    ints = np.array([[lo, hi], [0, -1], [1, lo + 1], [hi - 1, 0]], dtype=np.int32)
    stream = wavstream.header_bytes(16000, 2, bits, False) + wavstream.encode_samples(
        ints, bits
    )
    assert len(wavstream.header_bytes(16000, 2, bits, False)) == 44
    got, rate = sf.read(io.BytesIO(stream), dtype="float64", always_2d=True)
    assert rate == 16000
    np.testing.assert_array_equal(got, ints / 2.0 ** (bits - 1))


def test_header_says_unknown_sizes_as_sox_does() -> None:
    head = wavstream.header_bytes(44100, 2, 16, False)
    riff, wave, fmt_size = struct.unpack("<4sI4s", head[:12]), head[8:12], head[16:20]
    assert riff[0] == b"RIFF" and riff[1] == 0x7FFFF000 + 36 and wave == b"WAVE"
    assert struct.unpack("<I", fmt_size)[0] == 16
    tag, ch, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", head[20:36])
    assert (tag, ch, rate, byte_rate, align, bits) == (1, 2, 44100, 176400, 4, 16)
    assert head[36:40] == b"data" and struct.unpack("<I", head[40:44])[0] == 0x7FFFF000
    float_head = wavstream.header_bytes(8000, 1, 32, True)
    assert struct.unpack("<H", float_head[20:22])[0] == 3


def test_a_declared_size_that_is_not_whole_frames_reads_the_whole_frames() -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    samples = np.array([100, -100, 200], dtype="<i2").tobytes()
    data = (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", len(samples) + 1) + samples + b"\x00"
    )  # fmt: skip
    _, got = read_all(data)
    np.testing.assert_array_equal(got.ravel(), np.array([100, -100, 200]) / 32768)


# --- hostile headers (issue 19): bounded reads, one-line errors -----------------


class BoundedReads(OneByteAtATime):
    """A pipe that fails like a real one would on a huge read.

    ``sys.stdin.buffer.read(n)`` allocates ``n`` bytes before reading: a chunk
    size of 4 GB in a header ended in ``MemoryError``. Any read asking for
    more than ``limit`` bytes fails here the same way.
    """

    def __init__(self, data: bytes, limit: int = 1 << 20) -> None:
        super().__init__(data, chunk=1 << 30)
        self.limit = limit

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.limit:
            raise MemoryError(f"read({size})")
        return super().read(size)


def riff(*chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"".join(chunks)


def chunk(name: bytes, body: bytes, size: int | None = None) -> bytes:
    declared = len(body) if size is None else size
    return name + struct.pack("<I", declared) + body + b"\x00" * (len(body) & 1)


def fmt_chunk(
    tag: int = 1, channels: int = 1, rate: int = 8000, bits: int = 16
) -> bytes:
    align = channels * bits // 8
    body = struct.pack(
        "<HHIIHH",
        tag,
        channels,
        rate,
        (rate * align) & 0xFFFFFFFF,
        align & 0xFFFF,
        bits,
    )
    return chunk(b"fmt ", body)


SAMPLES = np.array([0, 16384, -32768], dtype="<i2").tobytes()


def test_a_huge_unknown_chunk_is_skipped_in_bounded_reads() -> None:
    junk = b"j" * 200_000  # more than one skip piece, fewer than declared would be
    data = riff(fmt_chunk(), chunk(b"LIST", junk), chunk(b"data", SAMPLES))
    stream = BoundedReads(data, limit=1 << 16)
    fmt = wavstream.read_header(stream)  # type: ignore[arg-type]
    got = np.concatenate(list(wavstream.read_blocks(stream, fmt, 10)))  # type: ignore[arg-type]
    np.testing.assert_array_equal(got.ravel(), [0, 0.5, -1])


@pytest.mark.parametrize("name", [b"LIST", b"fmt "])
def test_a_chunk_declaring_gigabytes_is_an_error_not_a_memory_error(
    name: bytes,
) -> None:
    body = fmt_chunk()[8:] if name == b"fmt " else b"abcd"
    head = fmt_chunk() if name != b"fmt " else b""
    data = riff(head, name + struct.pack("<I", 0xFFFFFFF0) + body)
    with pytest.raises(AdcsimError, match="ends before its data") as info:
        wavstream.read_header(BoundedReads(data))  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_a_large_fmt_chunk_is_read_only_as_far_as_it_matters() -> None:
    body = fmt_chunk(channels=2)[8:] + b"\x00" * 100_000  # extra bytes, ignored
    data = riff(chunk(b"fmt ", body), chunk(b"data", SAMPLES + SAMPLES[:2]))
    stream = BoundedReads(data, limit=1 << 16)
    fmt = wavstream.read_header(stream)  # type: ignore[arg-type]
    assert (fmt.rate, fmt.channels, fmt.bits) == (8000, 2, 16)


@pytest.mark.parametrize(
    ("fmt", "match"),
    [
        (
            fmt_chunk(rate=2**31),
            "sample rate=2147483648 .* outside \\[1, 2147483647\\]",
        ),
        (fmt_chunk(rate=2**32 - 1), "sample rate=4294967295"),
        (fmt_chunk(rate=0), "sample rate=0 "),
        (fmt_chunk(channels=0), "channels=0 .* outside \\[1, 1024\\]"),
        (fmt_chunk(channels=1025), "channels=1025 "),
        (fmt_chunk(channels=65535), "channels=65535 "),
        (fmt_chunk(bits=12), "unsupported WAV encoding .*12 bits"),
        (fmt_chunk(bits=0), "unsupported WAV encoding .*0 bits"),
        (fmt_chunk(tag=3, bits=16), "unsupported WAV encoding"),
    ],
)
def test_absurd_header_values_are_one_line_errors(fmt: bytes, match: str) -> None:
    data = riff(fmt, chunk(b"data", SAMPLES))
    with pytest.raises(AdcsimError, match=match) as info:
        read_all(data)
    assert "\n" not in str(info.value)


# --- the headers WavWriter writes (issue 18) ------------------------------------


def parse_chunks(wav: bytes) -> dict[bytes, bytes]:
    """Chunk id -> body of a RIFF/WAVE file with true sizes (the spec's layout)."""
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert struct.unpack("<I", wav[4:8])[0] == len(wav) - 8
    chunks, pos = {}, 12
    while pos < len(wav):
        name, size = wav[pos : pos + 4], struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        chunks[name] = wav[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    assert pos == len(wav)
    return chunks


def write_wav(
    subtype: str, frames: int, *, declare: bool, rewrite: bool = False
) -> bytes:
    tag, bits = wavstream.WRITE_SUBTYPES[subtype]
    out = io.BytesIO()
    w = wavstream.WavWriter(
        out, rate=8000, channels=1, subtype=subtype, frames=frames if declare else None
    )
    w.write(b"\x10" * (frames * bits // 8))
    w.finish(rewrite=rewrite)
    return out.getvalue()


@pytest.mark.parametrize(
    ("subtype", "tag", "bits"),
    [("FLOAT", 3, 32), ("DOUBLE", 3, 64), ("ULAW", 7, 8), ("ALAW", 6, 8)],
)
@pytest.mark.parametrize("how", ["declared", "rewritten"])
def test_non_pcm_headers_have_cbsize_and_a_fact_chunk(
    subtype: str, tag: int, bits: int, how: str
) -> None:
    frames = 7  # odd: the 8-bit data chunks need their pad byte
    wav = write_wav(subtype, frames, declare=how == "declared", rewrite=True)
    chunks = parse_chunks(wav)
    fmt = chunks[b"fmt "]
    assert len(fmt) == 18  # WAVEFORMATEX
    got_tag, channels, rate, byte_rate, align, got_bits, cb_size = struct.unpack(
        "<HHIIHHH", fmt
    )
    assert (got_tag, channels, rate, got_bits, cb_size) == (tag, 1, 8000, bits, 0)
    assert (align, byte_rate) == (bits // 8, 8000 * bits // 8)
    assert struct.unpack("<I", chunks[b"fact"])[0] == frames
    assert len(chunks[b"data"]) == frames * bits // 8
    assert sf.info(io.BytesIO(wav)).frames == frames


def test_pcm_headers_stay_16_byte_fmt_without_fact() -> None:
    chunks = parse_chunks(write_wav("PCM_16", 5, declare=True))
    assert len(chunks[b"fmt "]) == 16 and b"fact" not in chunks


def test_an_unknown_length_keeps_the_streaming_sizes_and_no_pad_byte() -> None:
    wav = write_wav("PCM_U8", 7, declare=False)
    pos = wav.index(b"data")
    data_size = struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
    assert wavstream.is_unknown_size(data_size, 1)
    assert len(wav) == pos + 8 + 7  # a pad byte would read as an eighth sample
    stream = OneByteAtATime(wav)
    fmt = wavstream.read_header(stream)  # type: ignore[arg-type]
    assert fmt.data_bytes is None  # read until the end, as sox writes it


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
@pytest.mark.parametrize(
    ("sox_args", "channels", "subtype"),
    [
        ("-e signed -b 16", 2, "PCM_16"),
        ("-e unsigned -b 8", 1, "PCM_U8"),
        ("-e u-law", 1, "ULAW"),
        ("-e a-law", 1, "ALAW"),
        ("-e floating-point -b 32", 1, "FLOAT"),
        ("-e floating-point -b 64", 2, "DOUBLE"),
    ],
)
def test_an_unknown_length_header_is_byte_for_byte_what_sox_writes_to_a_pipe(
    sox_args: str, channels: int, subtype: str
) -> None:
    command = ["sox", "-q", "-n", "-r", "8000", "-c", str(channels)]
    command += [*sox_args.split(), "-t", "wav", "-", "trim", "0", "0"]
    sox = subprocess.run(command, capture_output=True, check=True).stdout
    assert wavstream.wav_header(8000, channels, subtype) == sox


def test_a_writer_that_falls_short_of_its_declared_frames_raises() -> None:
    w = wavstream.WavWriter(
        io.BytesIO(), rate=8000, channels=2, subtype="PCM_16", frames=10, name="x.wav"
    )
    w.write(b"\x00" * 4 * 9)
    with pytest.raises(AdcsimError, match="'x.wav': 9 frames written, .* declares 10"):
        w.finish()


def test_sizes_too_large_for_riff_fall_back_to_the_streaming_header() -> None:
    head = wavstream.wav_header(48000, 2, "PCM_16", frames=2**30)  # 4 GiB of data
    assert wavstream.is_unknown_size(struct.unpack("<I", head[-4:])[0], 4)
    assert struct.unpack("<I", head[4:8])[0] == 0x7FFFF000 + 36


def test_a_subtype_wav_cannot_stream_is_refused_naming_it() -> None:
    with pytest.raises(AdcsimError, match="subtype='PCM_S8' cannot be streamed"):
        wavstream.WavWriter(io.BytesIO(), rate=8000, channels=1, subtype="PCM_S8")


def _sox(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=False
    )


needs_sox = pytest.mark.skipif(
    shutil.which("sox") is None,
    reason="sox is not installed (used as a reference reader)",
)


@needs_sox
@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE", "ULAW", "ALAW", "PCM_U8"])
@pytest.mark.parametrize("declare", [True, False])
def test_sox_reads_written_headers_without_a_warning(
    tmp_path: Path, subtype: str, declare: bool
) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(write_wav(subtype, 101, declare=declare, rewrite=True))
    done = _sox(path)
    assert done.returncode == 0, done.stderr
    assert "WARN" not in done.stderr, done.stderr
    assert re.search(r"Samples read: +101\n", done.stderr), done.stderr
