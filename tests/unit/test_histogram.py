"""The sine-wave histogram test against transfers built and digitized here.

Every record is made in the test: a transition-level array with known
non-idealities, a long coherent overdriven sine, and ``np.searchsorted`` as the
converter. The references (DNL, INL, missing codes) are computed here from
those levels with the textbook definitions, not by adcsim.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.analysis._histogram import (
    codes_from_samples,
    histogram_counts,
    histogram_sine,
    histogram_test,
    required_samples,
)
from adcsim.errors import AdcsimError

BITS = 10
M = 1 << BITS
D = 2.0 / M


def _ideal(levels: int = M) -> np.ndarray:
    k = np.arange(1, levels)
    return (k - levels / 2 - 0.5) * (2.0 / levels)


def _coherent_sine(frames: int, amplitude: float, cycles: int) -> np.ndarray:
    assert math.gcd(frames, cycles) == 1
    return amplitude * np.sin(
        2 * np.pi * ((cycles * np.arange(frames)) % frames) / frames
    )


def _reference(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Endpoint DNL (inner codes), endpoint INL and best-fit INL (codes 1..M-1)."""
    q = (t[-1] - t[0]) / (t.size - 1)
    dnl = np.diff(t) / q - 1
    inl = (t - (t[0] + q * np.arange(t.size))) / q
    slope, intercept = np.polyfit(np.arange(1, t.size + 1), t, 1)
    best = (t - (intercept + slope * np.arange(1, t.size + 1))) / slope
    return dnl, inl, best


@pytest.fixture
def nonideal(rng) -> tuple[np.ndarray, list[int]]:
    """10-bit levels: +-0.3 LSB random DNL, a 1.5 LSB bow and three missing codes."""
    t = _ideal()
    u = (t - (t[0] + t[-1]) / 2) / ((t[-1] - t[0]) / 2)
    t = t + D * (rng.uniform(-0.3, 0.3, t.size) + 1.5 * (1 - u * u))
    missing = [100, 517, 901]
    for code in missing:
        # code index c lies between T[c] and T[c+1] (t[c-1], t[c]): close it
        t[code] = t[code - 1]
    assert np.all(np.diff(t) >= 0)
    return t, missing


def test_recovers_injected_dnl_and_inl_within_a_tenth_lsb_and_every_missing_code(
    nonideal,
):
    t, missing = nonideal
    frames = 2 * required_samples(BITS, amplitude=1.03)
    x = _coherent_sine(frames, 1.03, 10007)
    result = histogram_test(np.searchsorted(t, x, side="right"), bits=BITS)
    dnl, inl, best = _reference(t)
    lin = result.linearity
    assert np.max(np.abs(lin.dnl_lsb[1:-1] - dnl)) < 0.1
    assert np.max(np.abs(lin.inl_lsb[1:] - inl)) < 0.1
    assert np.max(np.abs(lin.inl_best_fit_lsb[1:] - best)) < 0.1
    assert list(lin.missing_codes) == missing
    assert np.all(lin.dnl_lsb[missing] == -1.0)
    assert abs(lin.max_abs_dnl_lsb - np.max(np.abs(dnl))) < 0.1
    assert abs(lin.max_abs_inl_lsb - np.max(np.abs(inl))) < 0.1
    assert abs(lin.rms_dnl_lsb - np.sqrt(np.mean(dnl**2))) < 0.01
    assert np.isnan(lin.dnl_lsb[0]) and np.isnan(lin.dnl_lsb[-1])
    assert np.isnan(lin.inl_lsb[0])
    assert result.samples == frames


def test_the_sine_amplitude_and_offset_come_from_the_end_bins():
    # An ideal converter and a sine of amplitude 1.05 centred 3 LSB up.
    frames = required_samples(BITS, amplitude=1.05) + 1000
    x = _coherent_sine(frames, 1.05, 7919) + 3 * D
    result = histogram_test(np.searchsorted(_ideal(), x, side="right"), bits=BITS)
    assert result.amplitude_fs == pytest.approx(1.05, abs=0.2 * D)
    assert result.offset_fs == pytest.approx(3 * D, abs=0.2 * D)


def test_a_known_stimulus_gives_absolute_levels_and_the_offset_and_gain_errors():
    # A converter with a 0.8 % gain error and a 2.5 LSB offset, the sine known.
    t = 1.008 * _ideal() + 2.5 * D
    frames = 2 * required_samples(BITS, amplitude=1.03)
    x = _coherent_sine(frames, 1.03, 10007)
    codes = np.searchsorted(t, x, side="right")
    result = histogram_test(codes, bits=BITS, stimulus_amplitude_fs=1.03)
    ideal = _ideal()
    offset = (t[0] - ideal[0]) / D
    gain = ((t[-1] - ideal[-1]) - (t[0] - ideal[0])) / D  # 0.008 * (2 - 2 D) / D
    assert gain == pytest.approx(0.008 * (M - 2))
    assert result.offset_error_lsb == pytest.approx(offset, abs=0.05)
    assert result.gain_error_lsb == pytest.approx(gain, abs=0.05)
    assert np.max(np.abs(result.transitions_fs - t)) < 0.05 * D
    assert result.linearity.max_abs_dnl_lsb < 0.05
    # without the stimulus, C and A absorb both errors
    plain = histogram_test(codes, bits=BITS)
    assert plain.offset_error_lsb is None and plain.gain_error_lsb is None
    assert plain.linearity.max_abs_inl_lsb < 0.05
    with pytest.raises(AdcsimError, match="stimulus_amplitude_fs=0"):
        histogram_test(codes, bits=BITS, stimulus_amplitude_fs=0)


def test_an_ideal_quantizer_at_the_stated_record_size_has_dnl_below_the_resolution():
    frames = required_samples(BITS, amplitude=1.02)
    x = _coherent_sine(frames, 1.02, 4999)
    # An independent converter: mid-tread rounding, clipped to the N-bit range.
    codes = np.clip(np.round(x / D), -M // 2, M // 2 - 1).astype(int) + M // 2
    lin = histogram_test(codes, bits=BITS).linearity
    assert lin.max_abs_dnl_lsb < 0.1
    assert lin.max_abs_inl_lsb < 0.1
    assert lin.missing_codes == ()


def test_the_record_bound_holds_for_random_sampling_at_its_confidence(rng):
    # Random phases are the case the bound is derived for: at S = bound, a DNL
    # error beyond the resolution has probability at most 5 % at mid-scale
    # (less elsewhere); with a quarter of the samples, about 33 % at mid-scale.
    def share_beyond(frames: int, resolution: float) -> float:
        x = 1.02 * np.sin(2 * np.pi * rng.random(frames))
        counts = np.bincount(np.searchsorted(_ideal(), x, side="right"), minlength=M)
        result = histogram_counts(counts, dnl_resolution_lsb=resolution)
        middle = result.linearity.dnl_lsb[M // 4 : 3 * M // 4]
        return float(np.mean(np.abs(middle) > 0.1))

    full = required_samples(BITS, amplitude=1.02)
    assert share_beyond(full, 0.1) < 0.06
    # (the short record passes the bound only for a coarser resolution)
    assert share_beyond(full // 4, 0.21) > 0.2


def test_a_record_too_short_for_the_resolution_is_refused_with_one_line():
    frames = required_samples(BITS, amplitude=1.02) // 2
    x = _coherent_sine(frames, 1.02, 4999)
    codes = np.searchsorted(_ideal(), x, side="right")
    with pytest.raises(AdcsimError, match="too few for 10 bits") as info:
        histogram_test(codes, bits=BITS)
    assert "\n" not in str(info.value)
    assert str(required_samples(BITS, amplitude=1.02))[:3] in str(info.value)
    # a coarser resolution accepts the same record
    histogram_test(codes, bits=BITS, dnl_resolution_lsb=0.15)


def test_a_sine_that_does_not_reach_an_end_code_is_refused():
    frames = required_samples(BITS) * 2
    x = _coherent_sine(frames, 0.9, 4999)
    with pytest.raises(AdcsimError, match="no sample in end code 0"):
        histogram_test(np.searchsorted(_ideal(), x, side="right"), bits=BITS)


@pytest.mark.parametrize(
    ("codes", "match"),
    [([0, 1, 4], r"in \[0, 3\]"), ([-1, 0], r"in \[0, 3\]"), ([0.5, 1], "integers")],
)
def test_codes_outside_the_range_are_refused(codes, match):
    with pytest.raises(AdcsimError, match=match):
        histogram_test(codes, bits=2)


def test_bad_resolution_and_confidence_are_refused():
    with pytest.raises(AdcsimError, match="dnl_resolution_lsb=0"):
        required_samples(8, dnl_resolution_lsb=0)
    with pytest.raises(AdcsimError, match="confidence=1.0"):
        required_samples(8, confidence=1.0)


def test_required_samples_is_doernbergs_bound():
    # pi 2**(N-1) z**2 / B**2 with z = 1.959964 (95 %), B = 0.1: 12 bits.
    assert required_samples(12) == math.ceil(math.pi * 2048 * 1.959964**2 / 0.01)
    assert required_samples(12, amplitude=1.1) == math.ceil(
        1.1 * math.pi * 2048 * 1.959964**2 / 0.01
    )


def test_codes_from_samples_is_the_arithmetic_shift_of_the_stored_integer(rng):
    v = rng.integers(-32768, 32768, 10000)
    codes = codes_from_samples(v / 32768.0, bits=12)
    assert np.array_equal(codes, (v >> 4) + 2048)
    assert codes_from_samples([1.7, -3.0], bits=12).tolist() == [4095, 0]


def test_histogram_sine_is_coherent_overdriven_and_long_enough():
    x = histogram_sine(bits=8, rate=48000, freq_hz=1000.0, overdrive_db=0.5)
    assert x.size >= required_samples(8, amplitude=10 ** (0.5 / 20))
    assert np.max(np.abs(x)) == pytest.approx(10 ** (0.5 / 20), rel=1e-6)
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    peak = int(np.argmax(spectrum))
    # coherent: all the power in one bin (no leakage), at the prime J nearest
    # to 1000 Hz
    assert spectrum[peak] / spectrum.sum() > 1 - 1e-12
    assert peak * 48000 / x.size == pytest.approx(1000.0, rel=0.01)
    assert math.gcd(peak, x.size) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bits": 1}, "bits=1"),
        ({"bits": 8, "overdrive_db": 0}, "overdrive_db=0"),
        ({"bits": 8, "freq_hz": 30000.0}, "freq_hz=30000"),
    ],
)
def test_histogram_sine_refuses_bad_values(kwargs, match):
    with pytest.raises(AdcsimError, match=match):
        histogram_sine(**kwargs)
