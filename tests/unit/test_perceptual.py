"""Objective metrics against closed forms and against pystoi (tests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.metrics import _distortion as dist
from adcsim.metrics._perceptual import PerceptualMeter, check_metrics, perceptual
from adcsim.metrics._stoi import UndefinedMetric, stoi
from adcsim.stages._resample import resample

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="module")
def speech() -> tuple[np.ndarray, int]:
    x, rate = sf.read(SAMPLES / "speech-mono-16k.wav", dtype="float64")
    return x, rate


# --- closed forms -----------------------------------------------------------


@pytest.mark.parametrize("gain", [0.25, 0.5, 2.0, 3.0])
def test_a_gain_gives_lsd_of_twenty_log_gain_and_leaves_si_sdr_unchanged(gain, rng):
    x = rng.normal(0, 0.05, 48000)
    y = x + rng.normal(0, 0.005, x.size)  # about 20 dB SNR
    assert dist.lsd(x, gain * x) == pytest.approx(abs(20 * np.log10(gain)), abs=1e-9)
    assert dist.si_sdr(x, gain * y) == pytest.approx(dist.si_sdr(x, y), abs=1e-9)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 30.0, 60.0, 100.0])
def test_white_noise_at_a_known_snr_gives_that_si_sdr_within_a_tenth_db(snr_db, rng):
    x = np.sin(2 * np.pi * 440 * np.arange(96000) / 48000)
    noise = rng.normal(0, 1, x.size)
    noise -= x * (noise @ x) / (x @ x)  # orthogonal: the SNR is exactly snr_db
    noise *= np.sqrt(np.mean(x**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
    assert dist.si_sdr(x, x + noise) == pytest.approx(snr_db, abs=0.1)
    # independent (not orthogonalized) noise: the expected value, within 0.1 dB
    raw = rng.normal(0, np.sqrt(np.mean(x**2)) * 10 ** (-snr_db / 20), x.size)
    assert dist.si_sdr(x, x + raw) == pytest.approx(snr_db, abs=0.1)


def test_segsnr_clamps_at_its_stated_bounds(rng):
    rate = 16000
    x = rng.normal(0, 0.1, rate)
    assert dist.segsnr(x, x, rate=rate) == dist.SEGSNR_MAX_DB == 35.0
    assert dist.segsnr(x, x + 1e-6 * rng.normal(size=x.size), rate=rate) == 35.0
    assert dist.segsnr(x, 100 * x, rate=rate) == dist.SEGSNR_MIN_DB == -10.0
    # in between: a constant 10 dB in every frame gives 10 dB
    assert dist.segsnr(x, x * (1 + 10 ** (-0.5)), rate=rate) == pytest.approx(10.0)
    # half the frames silent with error (-10), half clean (35)
    half = x.copy()
    half[: rate // 2] = 0.0
    test = half.copy()
    test[: rate // 2] = 0.01
    value = dist.segsnr(half, test, rate=rate)
    assert -10.0 < value < 35.0


def test_segsnr_frames_are_thirty_ms_every_seven_and_a_half():
    meter = dist.SegSnrMeter(1, rate=16000)
    assert (meter.frame, meter.hop) == (480, 120)


def test_streamed_meters_equal_one_block(rng):
    x = rng.normal(0, 0.1, (30011, 2))
    y = x + rng.normal(0, 0.01, x.shape)
    whole = perceptual(x, y, rate=16000)
    meter = PerceptualMeter(tuple(whole), rate=16000, channels=2)
    for start in range(0, x.shape[0], 4097):
        meter.update(x[start : start + 4097], y[start : start + 4097])
    parts = meter.result()
    for name, entry in whole.items():
        assert parts[name]["value"] == pytest.approx(entry["value"], rel=1e-9)
        assert parts[name]["channels"] == pytest.approx(entry["channels"], rel=1e-9)


def test_the_mix_is_the_mean_of_the_channels(rng):
    x = rng.normal(0, 0.1, (20000, 2))
    y = x + rng.normal(0, 0.01, x.shape)
    section = perceptual(x, y, rate=16000, metrics="si-sdr")["si-sdr"]
    mix = dist.si_sdr(x.mean(axis=1), y.mean(axis=1))
    assert section["value"] == pytest.approx(mix, rel=1e-12)
    assert section["channels"][1] == pytest.approx(dist.si_sdr(x[:, 1], y[:, 1]))
    assert section["mix"].startswith("mean of the channels")


def test_undefined_inputs_give_null_with_a_note_never_an_error():
    silent = np.zeros(20000)
    section = perceptual(silent, silent + 0.01, rate=16000)
    for name in ("si-sdr", "stoi", "estoi"):
        assert section[name]["value"] is None
        assert "silent" in section[name]["notes"][0]
    short = perceptual(np.ones(100), np.ones(100), rate=16000)
    assert all(entry["value"] is None for entry in short.values())
    assert all(entry["notes"] for entry in short.values())


def test_unknown_metric_and_bad_shapes_are_user_errors():
    with pytest.raises(AdcsimError, match="metric 'pesq2' is not one of"):
        check_metrics("stoi,pesq2")
    with pytest.raises(AdcsimError, match="same"):
        perceptual(np.zeros(10), np.zeros(11), rate=8000)
    with pytest.raises(UndefinedMetric, match="silent"):
        dist.si_sdr(np.zeros(10), np.ones(10))


# --- STOI and ESTOI against pystoi ------------------------------------------


def _degraded(x: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "clean":
        return x.copy()
    if kind == "noise-5db":
        return x + rng.normal(0, np.std(x) * 10 ** (-5 / 20), x.size)
    if kind == "noise-minus5db":
        return x + rng.normal(0, np.std(x) * 10 ** (5 / 20), x.size)
    if kind == "4bit":
        return np.round(x * 8) / 8
    raise AssertionError(kind)


KINDS = ["clean", "noise-5db", "noise-minus5db", "4bit"]


@pytest.mark.parametrize("extended", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_stoi_matches_pystoi_at_its_10_khz_rate(speech, kind, extended, rng):
    pystoi = pytest.importorskip("pystoi", reason="pystoi is in the dev extra")
    x16, rate = speech
    x = resample(x16, in_rate=rate, out_rate=10000)
    y = _degraded(x, kind, rng)
    expected = pystoi.stoi(x, y, 10000, extended=extended)
    assert stoi(x, y, rate=10000, extended=extended) == pytest.approx(
        expected, abs=1e-4
    )


@pytest.mark.parametrize("in_rate", [8000, 16000, 48000])
@pytest.mark.parametrize("extended", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_stoi_at_8_16_48_khz_matches_pystoi_on_the_same_10_khz_signal(
    speech, in_rate, kind, extended, rng
):
    # pystoi resamples with its own MATLAB-like polyphase filter, adcsim with
    # soxr VHQ: fed the same 10 kHz signal (adcsim's resampling), the two agree
    # to 1e-4; with each its own resampler they differ by up to about 4e-3
    # (measured on this speech: see the README).
    pystoi = pytest.importorskip("pystoi", reason="pystoi is in the dev extra")
    x16, rate = speech
    x = resample(x16, in_rate=rate, out_rate=in_rate)
    y = _degraded(x, kind, rng)
    x10 = resample(x, in_rate=in_rate, out_rate=10000)
    y10 = resample(y, in_rate=in_rate, out_rate=10000)
    expected = pystoi.stoi(x10, y10, 10000, extended=extended)
    got = stoi(x, y, rate=in_rate, extended=extended)
    assert got == pytest.approx(expected, abs=1e-4)
    # and against pystoi's own resampling, the gap the resamplers make
    assert got == pytest.approx(pystoi.stoi(x, y, in_rate, extended=extended), abs=1e-2)


def test_stoi_falls_as_the_noise_rises(speech, rng):
    x, rate = speech
    values = [
        stoi(x, x + rng.normal(0, np.std(x) * 10 ** (-snr / 20), x.size), rate=rate)
        for snr in (20, 10, 0, -10)
    ]
    assert values == sorted(values, reverse=True)
