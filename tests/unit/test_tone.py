"""Tests of adcsim.metrics._tone against theory and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial import chebyshev, polynomial

from adcsim.errors import AdcsimError
from adcsim.metrics._tone import (
    TONE_KEYS,
    is_tonal,
    tone_metrics,
    tone_metrics_channels,
)

RATE = 48000
# Not a rational multiple of the rate with a small denominator: the quantization
# error of a non-coherent tone does not repeat, so it spreads over the spectrum
# like the uniform white noise of the D / sqrt(12) model instead of piling into
# a few harmonics whose power depends on the phase.
FREQ = 997.1234567


def _sine(frames, freq=FREQ, level_dbfs=-0.5, phase=0.3, rate=RATE):
    n = np.arange(frames)
    return 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq * n / rate + phase)


def _ideal_quantizer(x, bits):
    """Mid-tread N-bit quantizer written from its definition."""
    step = 2.0 / 2**bits
    return np.clip(np.round(x / step) * step, -1.0, 1.0 - step)


@pytest.mark.parametrize("bits", range(6, 17))
def test_enob_of_an_ideal_quantizer_is_its_bit_depth(bits):
    # -0.5 dBFS exercises nearly every code without reaching the clip level
    # (1 - D); IEEE 1241's ENOB is then N whatever the amplitude.
    x = _sine(1 << 14)
    y = _ideal_quantizer(x, bits)
    m = tone_metrics(y, RATE, reference=x)
    assert m["enob_bits"] == pytest.approx(bits, abs=0.1)
    # Same figure when the quantized signal is its own detection signal.
    assert tone_metrics(y, RATE)["enob_bits"] == pytest.approx(m["enob_bits"], abs=1e-6)


def _direct_sinad(x, rate):
    """SINAD by brute force: a dense frequency grid of three-parameter fits."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    n = np.arange(x.size)

    def fit(freq):
        arg = 2 * np.pi * freq * n / rate
        design = np.column_stack([np.cos(arg), np.sin(arg), np.ones(x.size)])
        coef, *_ = np.linalg.lstsq(design, x, rcond=None)
        return coef, x - design @ coef

    bin_hz = rate / x.size
    peak = np.argmax(np.abs(np.fft.rfft(x * np.hanning(x.size)))[1:]) + 1
    grid = (peak + np.linspace(-1.5, 1.5, 61)) * bin_hz
    best = grid[np.argmin([np.sum(fit(f)[1] ** 2) for f in grid])]
    res = scipy_optimize.minimize_scalar(
        lambda f: np.sum(fit(f)[1] ** 2),
        bounds=(best - bin_hz / 20, best + bin_hz / 20),
        method="bounded",
        options={"xatol": 1e-9},
    )
    coef, resid = fit(res.x)
    return 10 * np.log10((coef[0] ** 2 + coef[1] ** 2) / 2 / np.mean(resid**2))


@pytest.mark.parametrize(("bits", "noise"), [(8, 0.0), (12, 1e-3), (5, 0.0)])
def test_sinad_agrees_with_a_direct_sine_fit(bits, noise):
    rng = np.random.default_rng(bits)
    x = _sine(4096, level_dbfs=-3.0)
    y = _ideal_quantizer(x + 0.002 * x**2 + noise * rng.standard_normal(x.size), bits)
    m = tone_metrics(y, RATE, reference=x)
    assert m["sinad_db"] == pytest.approx(_direct_sinad(y, RATE), abs=0.2)


def _chebyshev_harmonics(coefficients, amplitude):
    """Harmonic amplitudes of p(A cos t): cos(k t) = T_k(cos t)."""
    scaled = np.asarray(coefficients) * amplitude ** np.arange(len(coefficients))
    return np.abs(chebyshev.poly2cheb(scaled))


@pytest.mark.parametrize(
    ("coefficients", "freq"),
    [
        ([0.0, 1.0, 0.01, 0.003], FREQ),
        ([0.0, 1.0, 1e-4, 2e-3, 5e-4, 3e-4], 1733.37),
        # Near Nyquist every harmonic aliases: folded back, none is lost.
        ([0.0, 1.0, 0.01, 0.003, 0.001], 21111.11),
        ([0.0, 1.0, 0.003, 0.002], 9876.54),  # 5th harmonic folds near 2.6 kHz
    ],
)
def test_thd_of_a_polynomial_distortion_matches_its_chebyshev_expansion(
    coefficients, freq
):
    amplitude = 10 ** (-1 / 20)
    n = np.arange(1 << 14)
    x = amplitude * np.cos(2 * np.pi * freq * n / RATE + 0.7)
    y = polynomial.polyval(x, coefficients)
    h = _chebyshev_harmonics(coefficients, amplitude)
    expected = 10 * np.log10(np.sum(h[2:11] ** 2) / h[1] ** 2)
    m = tone_metrics(y, RATE)
    assert m["thd_db"] == pytest.approx(expected, abs=0.5)
    assert m["thd_db"] == pytest.approx(expected, abs=0.01)
    # The largest spur is the largest harmonic.
    assert m["sfdr_db"] == pytest.approx(20 * np.log10(h[1] / np.max(h[2:])), abs=0.05)


def test_a_component_at_a_folded_harmonic_frequency_counts_as_that_harmonic():
    # 3 x 17 000 Hz = 51 000 Hz aliases to 3 000 Hz at 48 kHz.
    n = np.arange(1 << 14)
    x = 0.5 * np.sin(2 * np.pi * 17000.0 * n / RATE) + 5e-4 * np.cos(
        2 * np.pi * 3000.0 * n / RATE
    )
    m = tone_metrics(x, RATE)
    assert m["thd_db"] == pytest.approx(20 * np.log10(5e-4 / 0.5), abs=0.01)


def test_a_spur_elsewhere_is_not_counted_as_harmonic_distortion():
    n = np.arange(1 << 14)
    x = 0.5 * np.sin(2 * np.pi * 17000.0 * n / RATE) + 5e-4 * np.cos(
        2 * np.pi * 3500.0 * n / RATE
    )
    m = tone_metrics(x, RATE)
    assert m["thd_db"] < -150
    assert m["sfdr_db"] == pytest.approx(60.0, abs=0.01)


def test_harmonics_folding_onto_dc_or_the_fundamental_are_skipped():
    # At rate / 4 the 3rd, 5th, 7th, 9th harmonics fold onto the tone and the
    # 4th and 8th onto DC; the 2nd, 6th and 10th land on Nyquist.
    a, phase = 0.5, 0.3
    n = np.arange(4096)
    tone = a * np.sin(np.pi * n / 2 + phase)
    nyquist = 1e-3 * np.cos(np.pi * n)
    m = tone_metrics(tone + 0.01 * tone**3 + 0.02 * tone**4 + nyquist, RATE)
    # sin^3 = (3 sin t - sin 3t) / 4 and, at these samples, sin(3t) is the
    # fundamental at phase -sin(pi n / 2 - 3 phase): phasors add.
    c3 = 0.01 * a**3
    fundamental = abs(
        (a + 3 * c3 / 4) * np.exp(1j * phase) + c3 / 4 * np.exp(-3j * phase)
    )
    # sin^4 = (3 - 4 cos 2t + cos 4t) / 8: cos(2t) is (-1)^n cos(2 phase) at
    # Nyquist (power a**2, not a**2 / 2), cos(4t) a constant.
    nyquist_amp = 1e-3 - 0.02 * a**4 / 2 * np.cos(2 * phase)
    expected = 10 * np.log10(nyquist_amp**2 / (fundamental**2 / 2))
    assert m["thd_db"] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(("spur_dbc", "spur_hz"), [(-120.0, 7777.7), (-135.0, 1120.0)])
def test_sfdr_finds_an_injected_spur_at_its_level(spur_dbc, spur_hz):
    # 1120 Hz is about 6 bins above the window's main lobe around 997 Hz.
    amplitude = 10 ** (-1 / 20)
    n = np.arange(1 << 15)
    x = amplitude * np.sin(2 * np.pi * FREQ * n / RATE) + amplitude * 10 ** (
        spur_dbc / 20
    ) * np.cos(2 * np.pi * spur_hz * n / RATE + 1.0)
    m = tone_metrics(x, RATE)
    assert m["sfdr_db"] == pytest.approx(-spur_dbc, abs=0.1)


def test_sfdr_of_a_clean_sine_is_not_limited_by_window_leakage():
    m = tone_metrics(_sine(1 << 14), RATE)
    assert m["sfdr_db"] > 200


def test_noise_floor_is_the_total_noise_power_in_dbfs():
    rng = np.random.default_rng(1)
    frames = 1 << 15
    noise = rng.standard_normal(frames)
    noise *= 1e-4 / np.sqrt(np.mean(noise**2))  # -80 dBFS RMS
    harmonic = 0.01 * _sine(frames, freq=3 * FREQ, level_dbfs=0.0)  # -39.5 dBc
    m = tone_metrics(_sine(frames) + harmonic + noise, RATE)
    # Removing the fitted offset, tone and harmonics leaves the noise, less the
    # 21 of 32768 degrees of freedom the fit absorbs.
    assert m["noise_floor_dbfs"] == pytest.approx(-80.0, abs=0.05)
    assert m["tone_amplitude_dbfs"] == pytest.approx(-0.5, abs=0.001)
    assert m["thd_db"] == pytest.approx(-39.5, abs=0.05)
    # SINAD counts the harmonic and the noise.
    signal = 10**-0.05 / 2
    assert m["sinad_db"] == pytest.approx(
        10 * np.log10(signal / (0.5e-4 + 1e-8)), abs=0.05
    )


def test_full_scale_sine_reads_zero_dbfs_amplitude():
    m = tone_metrics(_sine(4096, level_dbfs=0.0), RATE)
    assert m["tone_amplitude_dbfs"] == pytest.approx(0.0, abs=1e-9)
    assert m["tone_hz"] == pytest.approx(FREQ, rel=1e-9)


def test_keys_are_in_order_and_values_are_plain_floats():
    m = tone_metrics(_ideal_quantizer(_sine(4096), 10), RATE)
    assert tuple(m) == TONE_KEYS
    assert all(type(v) is float for v in m.values())


def _non_tonal_signals():
    rng = np.random.default_rng(2024)
    frames = 1 << 13
    t = np.arange(frames) / RATE
    tone = lambda f: np.sin(2 * np.pi * f * t)  # noqa: E731
    chord = (
        0.3 * tone(220.0) + 0.25 * tone(277.18) + 0.2 * tone(329.63) + 0.1 * tone(440)
    )
    envelope = np.abs(np.sin(2 * np.pi * 3.0 * t)) ** 2
    speech_like = envelope * np.convolve(
        rng.standard_normal(frames), np.ones(8) / 8, "same"
    )
    sweep = np.sin(2 * np.pi * (100 * t + (10000 - 100) * t**2 / (2 * t[-1])))
    return {
        "silence": np.zeros(frames),
        "dc": np.full(frames, 0.25),
        "white noise": 0.1 * rng.standard_normal(frames),
        "two equal tones": 0.4 * tone(1000.0) + 0.4 * tone(1500.0),
        "chord": chord,
        "speech-like noise bursts": speech_like,
        "chirp": sweep,
        "square wave": np.sign(tone(1000.3)),
        "two cycles only": np.sin(2 * np.pi * 2.0 * np.arange(frames) / frames),
        "too short": tone(1000.0)[:15],
    }


@pytest.mark.parametrize("name", list(_non_tonal_signals()))
def test_non_tonal_signals_give_none_for_every_key(name):
    x = _non_tonal_signals()[name]
    assert not is_tonal(x, RATE)
    assert tone_metrics(x, RATE) == dict.fromkeys(TONE_KEYS)


def test_a_sine_in_moderate_noise_is_tonal():
    rng = np.random.default_rng(9)
    x = _sine(4096) + 0.1 * rng.standard_normal(4096)  # 17 dB SNR
    assert is_tonal(x, RATE)


def test_detection_uses_the_reference_when_given():
    rng = np.random.default_rng(4)
    clean = _sine(4096)
    noisy = clean + 0.5 * rng.standard_normal(4096)  # not tonal by itself
    assert not is_tonal(noisy, RATE)
    m = tone_metrics(noisy, RATE, reference=clean)
    assert m["tone_hz"] == pytest.approx(FREQ, rel=1e-3)
    assert m["sinad_db"] == pytest.approx(10 * np.log10(10**-0.05 / 2 / 0.25), abs=0.3)
    assert tone_metrics(clean, RATE, reference=noisy) == dict.fromkeys(TONE_KEYS)


def test_undefined_figures_are_none_not_infinite():
    clean = _sine(1024)
    m = tone_metrics(np.zeros(1024), RATE, reference=clean)
    assert m["tone_amplitude_dbfs"] is None
    assert m["sinad_db"] is None
    assert m["enob_bits"] is None
    assert m["noise_floor_dbfs"] is None


def test_channels_are_measured_separately_and_pooled_by_power():
    rng = np.random.default_rng(8)
    frames = 4096
    left = _ideal_quantizer(_sine(frames, level_dbfs=-1.0), 10)
    right = _ideal_quantizer(_sine(frames, freq=3001.7, level_dbfs=-7.0), 12)
    right = right + 0.003 * _sine(frames, freq=2 * 3001.7, level_dbfs=0)
    noise = 0.1 * rng.standard_normal(frames)
    block = np.column_stack([left, right, noise])
    pooled, per_channel = tone_metrics_channels(block, RATE)
    assert per_channel[0] == tone_metrics(left, RATE)
    assert per_channel[1] == tone_metrics(right, RATE)
    assert per_channel[2] == dict.fromkeys(TONE_KEYS)
    # Pool from the per-channel figures: P = A^2 / 2, residual = P / SINAD.
    signal = [10 ** (c["tone_amplitude_dbfs"] / 10) / 2 for c in per_channel[:2]]
    resid = [
        p / 10 ** (c["sinad_db"] / 10)
        for p, c in zip(signal, per_channel, strict=False)
    ]
    assert pooled["sinad_db"] == pytest.approx(10 * np.log10(sum(signal) / sum(resid)))
    enob = math.log2(2 / (math.sqrt(sum(resid) / 2) * math.sqrt(12)))
    assert pooled["enob_bits"] == pytest.approx(enob)
    harm = [
        p * 10 ** (c["thd_db"] / 10) for p, c in zip(signal, per_channel, strict=False)
    ]
    # THD divides by the joint fit's fundamental, within 1e-3 dB of A**2 / 2.
    assert pooled["thd_db"] == pytest.approx(
        10 * np.log10(sum(harm) / sum(signal)), abs=0.01
    )
    assert pooled["sfdr_db"] == min(c["sfdr_db"] for c in per_channel[:2])
    assert pooled["tone_hz"] == per_channel[0]["tone_hz"]
    floors = [10 ** (c["noise_floor_dbfs"] / 10) for c in per_channel[:2]]
    assert pooled["noise_floor_dbfs"] == pytest.approx(10 * np.log10(np.mean(floors)))


def test_pooled_figures_are_none_when_no_channel_is_tonal():
    rng = np.random.default_rng(0)
    pooled, per_channel = tone_metrics_channels(rng.standard_normal((2048, 2)), RATE)
    assert pooled == dict.fromkeys(TONE_KEYS)
    assert per_channel == [dict.fromkeys(TONE_KEYS)] * 2


def test_channels_use_the_reference_channel_by_channel():
    clean = np.column_stack([_sine(2048), np.zeros(2048)])
    out = _ideal_quantizer(clean, 8)
    pooled, per_channel = tone_metrics_channels(out, RATE, reference=clean)
    assert per_channel[0]["enob_bits"] == pytest.approx(8, abs=0.15)
    assert per_channel[1] == dict.fromkeys(TONE_KEYS)
    assert pooled["enob_bits"] == per_channel[0]["enob_bits"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tone_metrics(np.zeros((64, 2)), RATE), "must be 1-D"),
        (lambda: tone_metrics(np.full(64, np.inf), RATE), "non-finite"),
        (lambda: tone_metrics(np.zeros(64), RATE, reference=np.zeros(65)), "65 frames"),
        (lambda: tone_metrics(np.zeros(64), -1), "rate=-1"),
        (lambda: is_tonal(np.zeros(64), 0), "rate=0"),
        (lambda: tone_metrics_channels(np.zeros((4, 4, 4)), RATE), r"\(4, 4, 4\)"),
        (
            lambda: tone_metrics_channels(
                np.zeros((64, 2)), RATE, reference=np.zeros((64, 1))
            ),
            r"\(64, 1\)",
        ),
    ],
)
def test_bad_input_raises_adcsim_error(call, match):
    with pytest.raises(AdcsimError, match=match):
        call()
