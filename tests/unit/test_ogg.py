"""Ogg serial numbers and page CRCs, checked against RFC 3533 and ffmpeg."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.io import _ogg


def rfc3533_crc(data: bytes) -> int:
    """The Ogg CRC bit by bit: polynomial 0x04C11DB7, MSB first, from 0, no XOR.

    RFC 3533 section 6 (and libogg's framing.c) as written, independent of
    the table-free zlib form under test.
    """
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def pages(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        segments = data[pos + 26]
        size = 27 + segments + sum(data[pos + 27 : pos + 27 + segments])
        out.append(data[pos : pos + size])
        pos += size
    return out


def vorbis(path: Path, x: np.ndarray, subtype: str = "VORBIS") -> bytes:
    sf.write(path, x, 16000, format="OGG", subtype=subtype)
    _ogg.set_serials(str(path))
    return path.read_bytes()


@pytest.fixture
def tone() -> np.ndarray:
    t = np.arange(16000) / 16000
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(t * 900)], 1)


def test_ogg_crc_is_rfc_3533s_crc(rng: np.random.Generator) -> None:
    assert _ogg.ogg_crc(b"123456789") == rfc3533_crc(b"123456789") == 0x89A1897F
    for size in (0, 1, 27, 1000):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert _ogg.ogg_crc(data) == rfc3533_crc(data)


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_two_writes_give_the_same_bytes_and_still_decode(
    tmp_path: Path, tone: np.ndarray, subtype: str
) -> None:
    sf.write(tmp_path / "plain.ogg", tone, 16000, format="OGG", subtype=subtype)
    first = vorbis(tmp_path / "a.ogg", tone, subtype)
    second = vorbis(tmp_path / "b.ogg", tone, subtype)
    assert first == second
    want, _ = sf.read(tmp_path / "plain.ogg")
    got, _ = sf.read(tmp_path / "a.ogg")
    np.testing.assert_array_equal(got, want)  # only the framing changed
    serials = set()
    for page in pages(first):
        stored = struct.unpack("<I", page[22:26])[0]
        assert stored == rfc3533_crc(page[:22] + bytes(4) + page[26:])
        serials.add(page[14:18])
    assert len(serials) == 1


def test_different_audio_gets_a_different_serial(
    tmp_path: Path, tone: np.ndarray
) -> None:
    a = vorbis(tmp_path / "a.ogg", tone)
    b = vorbis(tmp_path / "b.ogg", tone * 0.5)
    assert a[14:18] != b[14:18]


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (CRC check)"
)
def test_ffmpeg_finds_every_page_crc_valid(tmp_path: Path, tone: np.ndarray) -> None:
    path = tmp_path / "a.ogg"
    data = vorbis(path, tone)

    def check(p: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ffmpeg", "-v", "error", "-err_detect", "crccheck", "-i", str(p)]
            + ["-f", "null", "-"],
            capture_output=True,
            text=True,
            check=False,
        )

    done = check(path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    broken = tmp_path / "broken.ogg"  # the check can fail: one bit flipped
    flipped = bytearray(data)
    flipped[len(pages(data)[0]) + 40] ^= 1
    broken.write_bytes(bytes(flipped))
    assert "CRC mismatch" in check(broken).stderr


def test_a_cut_off_ogg_file_is_an_error(tmp_path: Path, tone: np.ndarray) -> None:
    path = tmp_path / "a.ogg"
    data = vorbis(path, tone)
    path.write_bytes(data[:-10])
    with pytest.raises(AdcsimError, match="Ogg page cut off"):
        _ogg.set_serials(str(path), "out.ogg")
    path.write_bytes(b"RIFF" + data)
    with pytest.raises(AdcsimError, match="not an Ogg page at 0"):
        _ogg.set_serials(str(path))
