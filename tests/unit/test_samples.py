"""The committed samples in samples/ match their documentation (samples/README.md)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile as sf

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

# What samples/README.md promises: rate, channels, libsndfile subtype, seconds.
EXPECTED: dict[str, tuple[int, int, str, float]] = {
    "speech-mono-16k.wav": (16000, 1, "PCM_16", 3.5),
    "speech-mono-44k.wav": (44100, 1, "PCM_16", 3.5),
    "speech-mono-16k-float.wav": (16000, 1, "FLOAT", 3.5),
    "music-stereo-44k.wav": (44100, 2, "PCM_16", 4.0),
    "music-mono-48k-24bit.wav": (48000, 1, "PCM_24", 2.0),
}
FORMAT_WORDS = {"PCM_16": "16-bit PCM", "PCM_24": "24-bit PCM", "FLOAT": "32-bit float"}
TWO_MEGABYTES = 2_000_000


def _read(name: str) -> tuple[np.ndarray, int]:
    data, rate = sf.read(SAMPLES / name, dtype="float64", always_2d=True)
    return data, rate


def _dbfs(value: float) -> float:
    return float(20 * np.log10(value))


def _load_recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", SAMPLES / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses in the recipe look their module up in sys.modules
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_samples_directory_holds_exactly_the_documented_wavs() -> None:
    assert {p.name for p in SAMPLES.glob("*.wav")} == set(EXPECTED)


def test_samples_total_size_is_under_two_megabytes() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.iterdir() if p.is_file())
    assert total < TWO_MEGABYTES


def test_readme_table_documents_every_sample_as_stored() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name, (rate, channels, subtype, duration_s) in EXPECTED.items():
        row = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", readme, re.MULTILINE)
        assert row is not None, name
        cells = [c.strip() for c in row.group(1).split("|")]
        assert cells[1] == f"{rate:,} Hz".replace(",", " ")
        assert cells[2] == str(channels)
        assert cells[3] == FORMAT_WORDS[subtype]
        assert cells[4] == f"{duration_s} s"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_has_documented_rate_channels_format_and_length(name: str) -> None:
    rate, channels, subtype, duration_s = EXPECTED[name]
    info = sf.info(SAMPLES / name)
    assert info.format == "WAV"
    assert info.samplerate == rate
    assert info.channels == channels
    assert info.subtype == subtype
    assert info.frames == round(duration_s * rate)
    data, _ = _read(name)
    assert data.shape == (info.frames, channels)
    assert np.all(np.isfinite(data))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_peaks_at_minus_one_dbfs_so_nothing_is_clipped(name: str) -> None:
    data, _ = _read(name)
    assert _dbfs(np.max(np.abs(data))) == pytest.approx(-1.0, abs=0.01)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_channel_of_sample_is_audible(name: str) -> None:
    data, rate = _read(name)
    rms = np.sqrt(np.mean(data**2, axis=0))
    assert np.all(rms > 10 ** (-25 / 20)), rms
    # Sound all along, not one burst: every half second has signal in it.
    half = rate // 2
    for start in range(0, data.shape[0] - half + 1, half):
        assert np.max(np.abs(data[start : start + half])) > 10 ** (-40 / 20), start


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("speech")))
def test_speech_sample_starts_with_the_documented_silence(name: str) -> None:
    data, rate = _read(name)
    lead = data[: int(0.15 * rate)]
    assert np.max(np.abs(lead)) < 10 ** (-60 / 20)


def test_stereo_music_has_two_different_channels() -> None:
    data, _ = _read("music-stereo-44k.wav")
    corr = np.corrcoef(data[:, 0], data[:, 1])[0, 1]
    assert 0.2 < corr < 0.95


def test_float_speech_rounds_to_the_16_bit_speech_within_half_an_lsb() -> None:
    # The PCM file must hold round(x * 2**15), not a truncation (up to 1 LSB).
    as_float, _ = _read("speech-mono-16k-float.wav")
    codes, _ = sf.read(SAMPLES / "speech-mono-16k.wav", dtype="int16", always_2d=True)
    error = np.abs(as_float * 32768 - codes)
    assert np.max(error) <= 0.5
    # Where there is signal, rounding errors spread evenly over [0, 1/2] LSB.
    loud = np.abs(as_float) > 1e-3
    assert np.mean(error[loud]) == pytest.approx(0.25, abs=0.01)


def test_music_samples_are_what_the_committed_recipe_makes() -> None:
    recipe = _load_recipe()
    for name, bits in (("music-stereo-44k.wav", 16), ("music-mono-48k-24bit.wav", 24)):
        rate, channels, _, duration_s = EXPECTED[name]
        made = recipe.render_music(rate=rate, channels=channels, duration_s=duration_s)
        stored, _ = _read(name)
        # One LSB of slack: another numpy build may differ in the last bit of sin/exp.
        lsb = 2.0 ** (1 - bits)
        assert np.max(np.abs(made - stored)) <= lsb, name
