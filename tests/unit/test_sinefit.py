"""Tests of adcsim.metrics._sinefit against independent least-squares references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.metrics._sinefit import SineFit, fit_sine


def _sine(frames, rate, freq, amp=0.7, phase=0.4, offset=0.01):
    n = np.arange(frames)
    return amp * np.cos(2 * np.pi * freq * n / rate + phase) + offset


def _lstsq_three(x, rate, freq):
    """Straight from IEEE 1241's three-parameter fit: explicit design matrix."""
    n = np.arange(x.size)
    w = 2 * np.pi * freq / rate
    design = np.column_stack([np.cos(w * n), np.sin(w * n), np.ones(x.size)])
    (a, b, c), *_ = np.linalg.lstsq(design, x, rcond=None)
    resid = x - design @ np.array([a, b, c])
    return math.hypot(a, b), math.atan2(-b, a), c, float(np.sqrt(np.mean(resid**2)))


@pytest.mark.parametrize(
    ("frames", "rate", "freq"),
    [
        (64, 8000, 1000.3),  # short record
        (1000, 48000, 3.3 * 48),  # 3.3 cycles in the record
        (4096, 48000, 23900.37),  # near Nyquist
        (48000, 48000, 997.123456),  # many cycles
        (4096, 44100, 100 * 44100 / 4096),  # coherent: exactly 100 cycles
    ],
)
def test_four_parameter_fit_recovers_a_clean_sine(frames, rate, freq):
    fit = fit_sine(_sine(frames, rate, freq), rate)
    assert abs(fit.freq_hz / freq - 1) < 1e-6
    assert fit.amplitude == pytest.approx(0.7, abs=1e-9)
    assert fit.phase_rad == pytest.approx(0.4, abs=1e-7)
    assert fit.offset == pytest.approx(0.01, abs=1e-9)
    assert fit.residual_rms < 1e-9
    assert fit.iterations >= 1


def test_four_parameter_fit_recovers_frequency_on_a_million_samples():
    freq = 1234.56789
    fit = fit_sine(_sine(1 << 20, 48000, freq, phase=-2.0), 48000)
    assert abs(fit.freq_hz / freq - 1) < 1e-9
    assert fit.phase_rad == pytest.approx(-2.0, abs=1e-6)


def test_three_parameter_fit_matches_an_explicit_least_squares_solution():
    rng = np.random.default_rng(3)
    rate, freq = 48000, 1000.7
    x = _sine(3000, rate, freq) + 0.05 * rng.standard_normal(3000)
    fit = fit_sine(x, rate, freq_hz=freq)
    amp, phase, offset, rms = _lstsq_three(x, rate, freq)
    assert fit.iterations == 0
    assert fit.freq_hz == freq
    assert fit.amplitude == pytest.approx(amp, rel=1e-12)
    assert fit.phase_rad == pytest.approx(phase, abs=1e-10)
    assert fit.offset == pytest.approx(offset, abs=1e-12)
    assert fit.residual_rms == pytest.approx(rms, rel=1e-10)


def test_four_parameter_fit_reaches_the_least_squares_minimum_on_noisy_data():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(11)
    rate, freq, frames = 8000, 437.77, 800
    x = _sine(frames, rate, freq) + 0.2 * rng.standard_normal(frames)
    n = np.arange(frames)

    def residual(p):
        a, b, c, f = p
        arg = 2 * np.pi * f * n / rate
        return x - (a * np.cos(arg) + b * np.sin(arg) + c)

    start = [0.6 * math.cos(0.4), -0.6 * math.sin(0.4), 0.0, freq + 0.3]
    ref = scipy_optimize.least_squares(residual, start, xtol=1e-15, ftol=1e-15)
    fit = fit_sine(x, rate)
    assert fit.freq_hz == pytest.approx(ref.x[3], rel=1e-9)
    assert fit.amplitude == pytest.approx(math.hypot(ref.x[0], ref.x[1]), rel=1e-8)
    ref_rms = math.sqrt(np.mean(ref.fun**2))
    assert fit.residual_rms <= ref_rms * (1 + 1e-12)


def test_initial_frequency_is_used_as_the_start_of_the_iteration():
    rng = np.random.default_rng(5)
    rate, frames = 48000, 4800
    n = np.arange(frames)
    # Two tones: the spectral start picks the stronger, a given start the weaker.
    x = np.sin(2 * np.pi * 1000.2 * n / rate) + 0.5 * np.sin(
        2 * np.pi * 5000.7 * n / rate
    )
    x += 1e-3 * rng.standard_normal(frames)
    assert fit_sine(x, rate).freq_hz == pytest.approx(1000.2, abs=0.05)
    fit = fit_sine(x, rate, initial_freq_hz=5000.0)
    assert fit.freq_hz == pytest.approx(5000.7, abs=0.05)
    assert fit.amplitude == pytest.approx(0.5, abs=0.01)


def test_evaluate_reproduces_the_fitted_model():
    rate, freq = 16000, 1234.5
    x = _sine(500, rate, freq, amp=0.3, phase=2.5, offset=-0.2)
    fit = fit_sine(x, rate)
    assert np.max(np.abs(fit.evaluate(500, rate) - x)) < 1e-10


def test_silence_fits_a_zero_amplitude_sine_without_error():
    fit = fit_sine(np.zeros(256), 48000)
    assert fit.amplitude == 0.0
    assert fit.residual_rms == 0.0
    assert isinstance(fit, SineFit)


def test_results_are_plain_floats():
    fit = fit_sine(_sine(256, 8000, 700.0), 8000)
    for value in (
        fit.freq_hz,
        fit.amplitude,
        fit.phase_rad,
        fit.offset,
        fit.residual_rms,
    ):
        assert type(value) is float
    assert -math.pi < fit.phase_rad <= math.pi


@pytest.mark.parametrize(
    ("x", "kwargs", "match"),
    [
        (np.zeros((8, 2)), {}, "must be 1-D"),
        (np.array([0.0, np.nan] * 8), {}, "non-finite"),
        (np.zeros(7), {}, "frames=7"),
        (np.zeros(2), {"freq_hz": 100.0}, "frames=2"),
        (np.zeros(64), {"freq_hz": 4000.0}, "freq_hz=4000.0"),
        (np.zeros(64), {"freq_hz": 0.0}, "freq_hz=0.0"),
        (np.zeros(64), {"initial_freq_hz": -5.0}, "initial_freq_hz=-5.0"),
        (np.zeros(64), {"max_iterations": 0}, "max_iterations=0"),
    ],
)
def test_bad_input_raises_adcsim_error_naming_it(x, kwargs, match):
    with pytest.raises(AdcsimError, match=match):
        fit_sine(x, 8000, **kwargs)


def test_bad_rate_raises_adcsim_error():
    with pytest.raises(AdcsimError, match="rate=0"):
        fit_sine(np.zeros(64), 0)
