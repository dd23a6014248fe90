"""Block reading and writing, containers, paths and atomic outputs.

References: libsndfile (through soundfile) for what a file holds, and Python's
built-in ``round`` (round half to even) for the integer codes adcsim writes.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.io._containers import (
    Container,
    check_subtype,
    choose_subtype,
    format_for_path,
)
from adcsim.io._reader import AudioReader
from adcsim.io._reader import read as read_audio
from adcsim.io._writer import AudioWriter
from adcsim.io._writer import write as write_audio


def pyround_codes(y: np.ndarray, bits: int) -> np.ndarray:
    """Container codes with Python's round (half to even) and clipping."""
    scale = 2 ** (bits - 1)
    return np.array([min(max(round(v * scale), -scale), scale - 1) for v in y.ravel()])


# --- containers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtype", "bits"),
    [("PCM_U8", 8), ("PCM_S8", 8), ("PCM_16", 16), ("PCM_24", 24), ("PCM_32", 32)],
)
def test_container_rounds_half_to_even_and_libsndfile_reads_the_same(
    tmp_path: Path, subtype: str, bits: int
) -> None:
    scale = 2.0 ** (bits - 1)
    k = np.array([-scale, -3, -2, -1, 0, 1, 2, 3, scale - 2, scale - 1])
    # ties, just below and above ties, and beyond full scale
    y = np.concatenate(
        [
            (k + 0.5) / scale,
            (k + 0.4999) / scale,
            (k + 0.5001) / scale,
            [-1.5, -1.0, 0.999999999, 1.0, 2.0],
        ]
    ).reshape(-1, 1)
    fmt = "FLAC" if subtype in ("PCM_S8",) else "WAV"
    path = tmp_path / f"c.{fmt.lower()}"
    writer = AudioWriter(str(path), rate=8000, channels=1, subtype=subtype)
    written = writer.write(y)
    writer.commit()
    want = pyround_codes(y, bits) / scale
    np.testing.assert_array_equal(written.ravel(), want)
    back, _ = sf.read(str(path), dtype="float64")
    np.testing.assert_array_equal(back, want)


def test_every_8_bit_and_16_bit_code_survives_exactly(tmp_path: Path) -> None:
    for subtype, bits in (("PCM_U8", 8), ("PCM_16", 16)):
        codes = np.arange(-(2 ** (bits - 1)), 2 ** (bits - 1))
        y = (codes / 2.0 ** (bits - 1)).reshape(-1, 1)
        path = tmp_path / f"{subtype}.wav"
        write_audio(str(path), y, 8000, subtype=subtype)
        back, _ = sf.read(str(path), dtype="float64", always_2d=True)
        np.testing.assert_array_equal(back, y)


def test_float_container_reports_float32_values() -> None:
    y = np.array([[0.1], [1 / 3], [1.5]])
    raw, written = Container("FLOAT").store(y)
    np.testing.assert_array_equal(written, y.astype(np.float32).astype(np.float64))
    assert raw.dtype == np.float32


@pytest.mark.parametrize(
    ("fmt", "grid_bits", "expected"),
    [
        ("WAV", 1, "PCM_U8"),
        ("WAV", 8, "PCM_U8"),
        ("WAV", 9, "PCM_16"),
        ("WAV", 16, "PCM_16"),
        ("WAV", 17, "PCM_24"),
        ("WAV", 25, "PCM_32"),
        ("WAV", None, "FLOAT"),
        ("FLAC", 8, "PCM_S8"),
        ("FLAC", 20, "PCM_24"),
        ("AIFF", 8, "PCM_S8"),
        ("AIFF", None, "FLOAT"),
    ],
)
def test_choose_subtype_is_the_smallest_standard_exact_container(
    fmt: str, grid_bits: int | None, expected: str
) -> None:
    assert choose_subtype(fmt, grid_bits) == expected


def test_format_for_path_and_check_subtype() -> None:
    assert format_for_path("x.FLAC") == "FLAC"
    assert format_for_path("x.ogg") == "OGG"
    assert format_for_path("x") == "WAV"
    with pytest.raises(AdcsimError, match="'x.mp9'"):
        format_for_path("x.mp9")
    assert check_subtype("WAV", "pcm_24") == "PCM_24"
    with pytest.raises(AdcsimError, match="subtype='FLOAT'.*FLAC"):
        check_subtype("FLAC", "FLOAT")


# --- reading ------------------------------------------------------------------


@pytest.mark.parametrize("blocksize", [1, 7, 1000, 65536])
def test_blocks_concatenate_to_what_libsndfile_reads(
    tmp_path: Path, noise: Any, wav_file: Any, blocksize: int
) -> None:
    path = wav_file(tmp_path, noise(frames=2500, channels=3), 16000, subtype="PCM_24")
    with AudioReader(str(path)) as reader:
        blocks = list(reader.blocks(blocksize))
        info = reader.info
    assert all(b.ndim == 2 and b.shape[0] <= blocksize for b in blocks)
    want, _ = sf.read(str(path), dtype="float64", always_2d=True)
    np.testing.assert_array_equal(np.concatenate(blocks), want)
    assert (info.rate, info.channels, info.frames, info.subtype, info.bits) == (
        16000,
        3,
        2500,
        "PCM_24",
        24,
    )


def test_reader_reads_a_stdin_stream(noise: Any) -> None:
    x = noise(frames=300, channels=2)
    buf = io.BytesIO()
    sf.write(buf, x, 8000, format="WAV", subtype="PCM_16")
    data = buf.getvalue()
    with AudioReader("-", stdin=io.BytesIO(data)) as reader:  # type: ignore[arg-type]
        got = np.concatenate(list(reader.blocks(64)))
        assert reader.info.frames == 300 and reader.info.path == "-"
    want, _ = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    np.testing.assert_array_equal(got, want)


def _make(tmp_path: Path, kind: str, tone_wav: Path) -> Path:
    if kind == "missing":
        return tmp_path / "nope.wav"
    if kind == "directory":
        (tmp_path / "d.wav").mkdir()
        return tmp_path / "d.wav"
    path = tmp_path / f"{kind}.wav"
    data = tone_wav.read_bytes()
    contents = {
        "empty": b"",
        "text": b"not audio at all\n",
        "header only": data[:44],
        "truncated": data[: len(data) // 2],
        "odd cut": data[:-1],
    }
    path.write_bytes(contents[kind])
    return path


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty", "empty"),
        ("text", "cannot read"),
        ("header only", "cannot read"),
    ],
)
def test_bad_inputs_raise_one_line_naming_the_file(
    tmp_path: Path, tone: Any, wav_file: Any, kind: str, match: str
) -> None:
    tone_wav = wav_file(tmp_path, tone(440.0), 8000, name="tone.wav")
    path = _make(tmp_path, kind, tone_wav)
    with (
        pytest.raises(AdcsimError, match=match) as info,
        AudioReader(str(path)) as reader,
    ):
        list(reader.blocks())
    assert path.name in str(info.value) and "\n" not in str(info.value)


def test_truncated_aiff_is_read_with_a_warning_and_a_complete_one_without(
    tmp_path: Path, tone: Any, wav_file: Any
) -> None:
    path = wav_file(tmp_path, tone(440.0), 8000, name="a.aiff", format="AIFF")
    with AudioReader(str(path)) as reader:
        assert reader.info.frames == 4800 and reader.warnings == []
    cut = tmp_path / "cut.aiff"
    cut.write_bytes(path.read_bytes()[:3000])
    with AudioReader(str(cut)) as reader:  # issue 19: as far as it goes, warned
        present = reader.info.frames
        assert present is not None and 0 < present < 4800
        assert sum(b.shape[0] for b in reader.blocks()) == present
        (warning,) = reader.warnings
        assert f"header declares 4800 frames, {present} are present" in warning


def test_a_wav_with_sox_magic_length_is_read_to_its_end(
    tmp_path: Path, tone: Any, wav_file: Any
) -> None:
    path = wav_file(tmp_path, tone(440.0), 8000, name="sox.wav")
    data = bytearray(path.read_bytes())
    pos = data.index(b"data")
    data[pos + 4 : pos + 8] = (0x7FFFF000 // 2 * 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    x, info = read_audio(str(path))
    assert x.shape == (4800, 1)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_float_samples_are_refused_with_their_frame(
    tmp_path: Path, wav_file: Any, value: float
) -> None:
    x = np.zeros((500, 2), dtype=np.float32)
    x[321, 1] = value
    path = wav_file(tmp_path, x, 8000, subtype="FLOAT")
    with pytest.raises(AdcsimError, match="frame 321"):
        read_audio(str(path))


# --- output paths and atomic files --------------------------------------------


def test_check_output_path_refuses_inputs_existing_files_and_missing_dirs(
    tmp_path: Path,
) -> None:
    src = tmp_path / "in.wav"
    src.write_bytes(b"x")
    (tmp_path / "link.wav").symlink_to(src)
    (tmp_path / "sub").mkdir()
    for spelling in (src, tmp_path / "link.wav", tmp_path / "sub" / ".." / "in.wav"):
        with pytest.raises(AdcsimError, match="input"):
            files.check_output_path(str(spelling), force=True, inputs=(str(src),))
    with pytest.raises(AdcsimError, match="exists"):
        files.check_output_path(str(src), force=False)
    files.check_output_path(str(src), force=True)
    with pytest.raises(AdcsimError, match="does not exist"):
        files.check_output_path(str(tmp_path / "no" / "x.wav"), force=False)
    with pytest.raises(AdcsimError, match="is a directory"):
        files.check_output_path(str(tmp_path / "sub"), force=True)
    files.check_output_path("-", force=False, inputs=("-",))


def test_atomic_file_appears_only_on_commit(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with files.AtomicFile(str(target)) as tmp:
        Path(tmp.tmp).write_text("{}")
        assert not target.exists()
        assert Path(tmp.tmp).parent == tmp_path
        tmp.commit()
    assert target.read_text() == "{}"
    with files.AtomicFile(str(tmp_path / "gone.json")) as tmp:
        Path(tmp.tmp).write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_atomic_file_gets_the_permissions_of_an_ordinary_file(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic = files.AtomicFile(str(tmp_path / "x.wav"))
        atomic.commit()
    finally:
        os.umask(old)
    assert (tmp_path / "x.wav").stat().st_mode & 0o777 == 0o640


def test_atomic_file_in_an_uncreatable_place_is_an_adcsim_error(tmp_path: Path) -> None:
    with pytest.raises(AdcsimError, match="cannot write"):
        files.AtomicFile(str(tmp_path / "missing" / "x.wav"))


def test_discarded_writer_leaves_nothing(tmp_path: Path) -> None:
    writer = AudioWriter(
        str(tmp_path / "x.flac"), rate=8000, channels=2, subtype="PCM_16"
    )
    writer.write(np.zeros((100, 2)))
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_stdout_writer_streams_a_wav_libsndfile_reads(noise: Any) -> None:
    x = noise(frames=300, channels=2)
    out = io.BytesIO()
    writer = AudioWriter("-", rate=8000, channels=2, subtype="PCM_24", stdout=out)  # type: ignore[arg-type]
    written = np.concatenate([writer.write(x[:100]), writer.write(x[100:])])
    writer.commit()
    back, rate = sf.read(io.BytesIO(out.getvalue()), dtype="float64", always_2d=True)
    assert rate == 8000
    np.testing.assert_array_equal(back, written)
    np.testing.assert_array_equal(written.ravel(), pyround_codes(x, 24) / 2.0**23)


def test_write_refuses_an_existing_file_without_force(
    tmp_path: Path, noise: Any
) -> None:
    path = tmp_path / "x.wav"
    write_audio(str(path), noise(frames=10), 8000)
    with pytest.raises(AdcsimError, match="exists"):
        write_audio(str(path), noise(frames=10), 8000)
    write_audio(str(path), np.zeros(20), 8000, force=True)
    assert sf.info(str(path)).frames == 20


def test_a_block_in_fortran_order_is_written_as_its_values(tmp_path):
    # a transposed (channels, frames) array: integer PCM goes to the WAV as bytes
    y = np.asfortranarray(np.array([[0.5, -0.25], [0.125, -1.0], [0.0, 0.75]]))
    path = tmp_path / "f.wav"
    write_audio(str(path), y, 8000, subtype="PCM_16")
    back, _ = sf.read(path, always_2d=True)
    np.testing.assert_array_equal(back, y)
