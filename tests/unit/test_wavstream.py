"""WAV streams over pipes, checked against libsndfile and the RIFF layout."""

from __future__ import annotations

import io
import struct

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
    assert riff[0] == b"RIFF" and riff[1] == 0xFFFFFFFF and wave == b"WAVE"
    assert struct.unpack("<I", fmt_size)[0] == 16
    tag, ch, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", head[20:36])
    assert (tag, ch, rate, byte_rate, align, bits) == (1, 2, 44100, 176400, 4, 16)
    assert head[36:40] == b"data" and struct.unpack("<I", head[40:44])[0] == 0xFFFFFFFF
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
