"""24-bit WAV read from its bytes gives libsndfile's int32 values exactly."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from adcsim.io._reader import AudioReader


def _pcm24(path, frames, channels, *, trailing_chunk=False, fmt="WAV"):
    rng = np.random.default_rng(frames + channels)
    data = rng.integers(-(2**23), 2**23, (frames, channels), endpoint=False)
    data[:3] = [[-(2**23)] * channels, [2**23 - 1] * channels, [0] * channels]
    sf.write(path, (data << 8).astype(np.int32), 8000, subtype="PCM_24", format=fmt)
    if trailing_chunk:  # a LIST chunk after the data: not samples
        with open(path, "ab") as f:
            f.write(b"LIST" + struct.pack("<I", 8) + b"INFOabcd")
        with open(path, "r+b") as f:
            size = f.seek(0, 2)
            f.seek(4)
            f.write(struct.pack("<I", size - 8))
    return data.astype(np.int32) << 8


@pytest.mark.parametrize(
    ("frames", "channels", "blocksize", "trailing"),
    [(3, 1, 2, False), (1000, 2, 333, True), (4097, 3, 4096, False), (50, 2, 64, True)],
)
def test_raw_24_bit_blocks_equal_libsndfiles_int32(
    tmp_path, frames, channels, blocksize, trailing
):
    path = str(tmp_path / "in.wav")
    want = _pcm24(path, frames, channels, trailing_chunk=trailing)
    with sf.SoundFile(path) as f:
        np.testing.assert_array_equal(f.read(dtype="int32", always_2d=True), want)
    with AudioReader(path) as reader:
        assert reader.dtype == "int32" and reader._raw_pcm24
        blocks = list(reader.blocks(blocksize, native=True))
    assert all(b.dtype == np.int32 and b.shape[1] == channels for b in blocks)
    assert [b.shape[0] for b in blocks[:-1]] == [blocksize] * (len(blocks) - 1)
    np.testing.assert_array_equal(np.concatenate(blocks), want)


def test_big_endian_and_other_formats_use_libsndfiles_read(tmp_path):
    for name, fmt in (("in.aiff", "AIFF"), ("in.flac", "FLAC")):
        path = str(tmp_path / name)
        want = _pcm24(path, 300, 2, fmt=fmt)
        with AudioReader(path) as reader:
            assert not reader._raw_pcm24
            got = np.concatenate(list(reader.blocks(128, native=True)))
        np.testing.assert_array_equal(got, want)
