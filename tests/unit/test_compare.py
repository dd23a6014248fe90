"""compare(): known delays, gains and noise are recovered; bad pairs are errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.analysis._compare import analyze, compare, find_delay
from adcsim.analysis._compare_files import compare_files
from adcsim.errors import AdcsimError

RATE = 48000


def _noise(frames: int, channels: int = 1, seed: int = 1) -> np.ndarray:
    return 0.3 * np.random.default_rng(seed).standard_normal((frames, channels))


@pytest.mark.parametrize("delay", [0, 1, 37, -12, 480])
def test_known_delay_is_found_in_broadband_noise(delay):
    x = _noise(6000, channels=2)
    # test[n + delay] = ref[n]: a delayed (or advanced) copy of ref.
    test = np.roll(x, delay, axis=0)
    assert find_delay(x, test) == delay


def test_delay_gain_and_noise_are_recovered_together():
    frames, delay, gain = 20000, 23, 0.5
    ref = _noise(frames + delay)
    noise = 1e-3 * np.random.default_rng(7).standard_normal((frames + delay, 1))
    test = np.zeros_like(ref)
    test[delay:] = gain * ref[:-delay]
    test += noise
    m = compare(ref, test, rate=RATE, align=True, gain_match=True)
    assert m["delay_frames"] == delay
    assert m["frames"] == frames
    assert m["gain"] == pytest.approx(gain, rel=1e-4)
    assert m["gain_db"] == pytest.approx(20 * math.log10(gain), abs=1e-3)
    # After dividing by the gain the error is the noise / gain: its power
    # (independent reference: the known noise) sets the SNR.
    ref_power = float(np.mean(ref[:frames] ** 2))
    noise_power = float(np.mean(noise[delay:] ** 2)) / gain**2
    assert m["snr_db"] == pytest.approx(
        10 * math.log10(ref_power / noise_power), abs=0.05
    )
    assert m["mse"] == pytest.approx(noise_power, rel=0.01)


def test_without_align_and_gain_match_the_raw_error_is_reported():
    ref = _noise(1000)
    m = compare(ref, 0.5 * ref, rate=RATE)
    # e = -0.5 ref: SNR = 10 log10(1 / 0.25) = 6.02 dB exactly.
    assert m["snr_db"] == pytest.approx(20 * math.log10(2), abs=1e-9)
    assert "delay_frames" not in m and "gain" not in m


def test_tone_figures_of_a_quantized_sine_match_the_ideal_quantizer():
    n = np.arange(8192)
    ref = 0.9 * np.sin(2 * np.pi * 1000.3 * n / RATE)
    test = np.round(ref * 2**11) / 2**11  # ideal 12-bit mid-tread uniform
    m = compare(ref, test, rate=RATE)
    assert m["enob_bits"] == pytest.approx(12.0, abs=0.1)
    assert m["tone_hz"] == pytest.approx(1000.3, abs=1e-3)
    assert m["channels"][0]["enob_bits"] == pytest.approx(m["enob_bits"])


def test_noise_reference_has_no_tone_figures():
    m = compare(_noise(4096), _noise(4096, seed=2), rate=RATE)
    assert m["enob_bits"] is None and m["sinad_db"] is None


def test_different_channel_counts_are_an_error():
    with pytest.raises(AdcsimError, match="ref has 2 channels, test has 1"):
        compare(_noise(100, 2), _noise(100, 1), rate=RATE)


def test_different_lengths_are_an_error_unless_trimmed():
    ref, test = _noise(100), _noise(120)
    with pytest.raises(AdcsimError, match="ref has 100 frames, test has 120"):
        compare(ref, test, rate=RATE)
    assert compare(ref, test, rate=RATE, trim=True)["frames"] == 100


def test_gain_match_against_silence_is_an_error():
    with pytest.raises(AdcsimError, match="gain"):
        compare(np.zeros(64), _noise(64), rate=RATE, gain_match=True)


def test_max_delay_limits_the_search():
    x = _noise(4000)
    assert find_delay(x, np.roll(x, 300, axis=0), max_delay_frames=1000) == 300
    assert find_delay(x, np.roll(x, 300, axis=0), max_delay_frames=100) != 300
    with pytest.raises(AdcsimError, match="max_delay_frames=-1"):
        find_delay(x, x, max_delay_frames=-1)


def test_analyze_reports_level_of_a_full_scale_sine():
    n = np.arange(4800)
    m = analyze(np.sin(2 * np.pi * 1000 * n / RATE), RATE)
    assert m["signal_rms_dbfs"] == pytest.approx(-3.0103, abs=1e-3)
    assert m["peak_dbfs"] == pytest.approx(0.0, abs=1e-3)


def test_compare_files_rejects_mismatched_rates(tmp_path, wav_file):
    a = wav_file(tmp_path, _noise(100), 48000, name="a.wav")
    b = wav_file(tmp_path, _noise(100), 44100, name="b.wav")
    with pytest.raises(AdcsimError, match="sample rates differ.*48000.*44100"):
        compare_files(str(a), str(b))


def test_compare_files_rejects_mismatched_channels_and_lengths(tmp_path, wav_file):
    a = wav_file(tmp_path, _noise(100, 2), name="a.wav")
    b = wav_file(tmp_path, _noise(100, 1), name="b.wav")
    c = wav_file(tmp_path, _noise(90, 2), name="c.wav")
    with pytest.raises(AdcsimError, match="channel counts differ"):
        compare_files(str(a), str(b))
    with pytest.raises(AdcsimError, match="lengths differ"):
        compare_files(str(a), str(c))
    report = compare_files(str(a), str(c), trim=True)
    assert report["metrics"]["frames"] == 90
    assert report["input"]["path"] == str(a) and report["test"]["channels"] == 2


def _delayed_pair(tmp_path, frames=30000, delay=37, gain=0.5):
    """ref.wav and test.wav = gain x ref delayed by ``delay`` plus noise (doubles)."""
    import soundfile as sf

    n = np.arange(frames + delay)
    tone = 0.4 * np.sin(2 * np.pi * 997 * n / RATE)
    ref = np.stack([tone, 0.5 * tone], axis=1) + 0.01 * _noise(frames + delay, 2)
    noise = 1e-3 * _noise(frames + delay, 2, seed=5)
    test = np.zeros_like(ref)
    test[delay:] = gain * ref[:-delay]
    test += noise
    sf.write(str(tmp_path / "ref.wav"), ref, RATE, "DOUBLE")
    sf.write(str(tmp_path / "test.wav"), test, RATE, "DOUBLE")
    return ref, test


def test_compare_files_streams_in_blocks_and_matches_the_whole_arrays(
    tmp_path, monkeypatch
):
    # compare read both files whole (9.5 GB for a 6-hour file), and refused
    # files over 2**25 samples; in blocks it never holds a whole file.
    from adcsim.analysis import _compare_files, _records

    ref, test = _delayed_pair(tmp_path)

    def whole(*args, **kwargs):
        raise AssertionError("read a file whole")

    monkeypatch.setattr(_records, "read_record", whole)
    monkeypatch.setattr(_records, "MAX_RECORD_SAMPLES", 1000)
    monkeypatch.setattr(_compare_files, "BLOCK_FRAMES", 777)
    report = compare_files(
        str(tmp_path / "ref.wav"),
        str(tmp_path / "test.wav"),
        align=True,
        gain_match=True,
    )
    m = report["metrics"]
    assert m["delay_frames"] == 37 and m["frames"] == 30000
    # independent: the error of the known alignment, by numpy on the arrays
    r, t = ref[:30000], test[37:] / m["gain"]
    assert m["gain"] == pytest.approx(0.5, rel=1e-3)
    assert m["mse"] == pytest.approx(np.mean((t - r) ** 2), rel=1e-9)
    assert m["max_abs_error"] == pytest.approx(np.abs(t - r).max(), rel=1e-12)
    assert m["snr_db"] == pytest.approx(
        10 * np.log10(np.sum(r**2) / np.sum((t - r) ** 2)), abs=1e-9
    )
    # and the figures of the one-shot compare (the windows cover the files)
    whole_m = compare(ref, test, rate=RATE, align=True, gain_match=True)
    for key in ("mse", "snr_db", "gain", "sinad_db", "enob_bits", "tone_hz"):
        assert m[key] == pytest.approx(whole_m[key], rel=1e-9), key
    assert m["tone_hz"] == pytest.approx(997, abs=0.01)


def test_compare_files_finds_the_delay_in_its_window_only(tmp_path, monkeypatch):
    from adcsim.analysis import _compare_files

    _delayed_pair(tmp_path, frames=20000, delay=300)
    monkeypatch.setattr(_compare_files, "ALIGN_SAMPLES", 2 * 4096)  # 4096 frames
    report = compare_files(
        str(tmp_path / "ref.wav"), str(tmp_path / "test.wav"), align=True
    )
    assert report["metrics"]["delay_frames"] == 300
    assert report["metrics"]["frames"] == 20000
