"""Tests of the noise-shaping stage: dither theory, shaped error, stability."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import freqz

import adcsim.stages._shaping as shaping
from adcsim.errors import AdcsimError
from adcsim.metrics._weighting import AWeightedPowerMeter, BandPowerMeter
from adcsim.quantizers._companders import MulawQuantizer
from adcsim.quantizers._stage import quantize
from adcsim.quantizers._uniform import UniformQuantizer
from adcsim.stages._chain import StreamInfo
from adcsim.stages._dither import dither
from adcsim.stages._shaping import NoiseShapingStage, noise_shape
from adcsim.stages._shaping_filters import (
    FIRST_ORDER,
    NONE,
    design_weighted,
    get_filter,
)


def _shape(x, filt, *, bits=16, rate=44100, kind="tpdf", seed=0):
    stage = NoiseShapingStage(
        UniformQuantizer(bits=bits), filter=filt, dither=kind, seed=seed
    )
    stage.start(StreamInfo(rate=rate, channels=x.shape[1]))
    return stage.process(x), stage


# --- plain TPDF dither (DitherStage + a uniform quantizer, no shaping) ---


@pytest.mark.parametrize("bits", [3, 8, 16])
def test_tpdf_error_has_zero_mean_and_power_d2_over_4(bits):
    step = 2.0 / 2**bits
    x = np.linspace(-0.5, 0.5, 200_000)
    err = quantize(dither(x, bits=bits, kind="tpdf", seed=1), bits=bits) - x
    assert abs(err.mean()) < 0.01 * step
    assert np.mean(err**2) == pytest.approx(step**2 / 4, rel=0.03)


@pytest.mark.parametrize("bits", [4, 12])
def test_tpdf_error_power_does_not_depend_on_the_signal_level(bits):
    step = 2.0 / 2**bits
    # A slow ramp across 3 steps: each segment sits at a different offset
    # within a step. Without dither the error power would follow the offset.
    x = np.linspace(0, 3 * step, 400_000)
    for kind, varies in [("tpdf", False), ("none", True)]:
        err = quantize(dither(x, bits=bits, kind=kind, seed=2), bits=bits) - x
        seg = np.mean(err.reshape(40, -1) ** 2, axis=1) / (step**2 / 4)
        if varies:
            assert seg.max() / max(seg.min(), 1e-12) > 10  # the test can fail
        else:
            assert np.all(np.abs(seg - 1) < 0.1)


def test_tpdf_error_power_is_the_same_for_sines_at_several_levels():
    bits, step = 8, 2.0 / 256
    t = np.arange(100_000)
    for amplitude in [0.3 * step, 2.5 * step, 0.5]:
        x = amplitude * np.sin(2 * np.pi * t / 997)
        err = quantize(dither(x, bits=bits, kind="tpdf", seed=3), bits=bits) - x
        assert np.mean(err**2) == pytest.approx(step**2 / 4, rel=0.05)


def test_a_sub_lsb_sine_vanishes_without_dither_and_is_recovered_with_tpdf():
    bits, step = 10, 2.0 / 1024
    n = 1 << 18
    carrier = np.sin(2 * np.pi * np.arange(n) * 1001 / n)
    x = 0.3 * step * carrier
    assert np.all(quantize(x, bits=bits) == 0)
    y = quantize(dither(x, bits=bits, kind="tpdf", seed=4), bits=bits)
    # Amplitude by correlation with the carrier; its noise std is ~0.003 LSB.
    amplitude = 2 * np.dot(y, carrier) / n
    assert amplitude / step == pytest.approx(0.3, abs=0.02)


# --- shaping: theory ----------------------------------------------------------


def test_first_order_lowers_the_0_4_khz_error_by_over_6_db():
    rate, bits = 44100, 12
    t = np.arange(4 * rate) / rate
    x = (0.4 * np.sin(2 * np.pi * 440 * t))[:, None]
    powers = []
    for filt in (NONE, FIRST_ORDER):
        y, _ = _shape(x, filt, bits=bits, rate=rate)
        meter = BandPowerMeter(rate, 1, low_hz=0, high_hz=4000)
        meter.update(y - x)
        powers.append(meter.power())
    gain_db = 10 * np.log10(powers[1] / powers[0])
    assert gain_db < -6
    # Theory: mean of |1 - e^-jw|^2 = 2 - 2 sin(w0)/w0 over [0, w0], w0 = 2 pi 4k/fs.
    w0 = 2 * np.pi * 4000 / rate
    assert gain_db == pytest.approx(10 * np.log10(2 - 2 * np.sin(w0) / w0), abs=0.3)


@pytest.mark.parametrize("name", ["f-weighted", "lipshitz", "shibata"])
def test_shaped_error_power_is_d2_over_4_times_ntf_energy(name):
    rate, bits = 44100, 16
    step = 2.0 / 2**bits
    filt = get_filter(name, rate)
    t = np.arange(2 * rate) / rate
    x = (0.5 * np.sin(2 * np.pi * 1000 * t))[:, None]
    y, stage = _shape(x, filt, bits=bits, rate=rate)
    expected = step**2 / 4 * (1 + sum(c * c for c in filt.coefficients))
    assert np.mean((y - x) ** 2) == pytest.approx(expected, rel=0.05)
    # In-band 0-4 kHz power against the NTF integrated over 0-4 kHz.
    meter = BandPowerMeter(rate, 1)
    meter.update(y - x)
    fb = np.linspace(0, 4000, 4001)
    _, ntf = freqz([1.0, *(-c for c in filt.coefficients)], worN=fb, fs=rate)
    in_band = step**2 / 4 * np.mean(np.abs(ntf) ** 2)
    assert 10 * np.log10(meter.power() / (in_band * 4000 / (rate / 2))) == (
        pytest.approx(0, abs=0.5)
    )
    assert stage.counters == {"clipped_samples": 0, "feedback_limited": 0}


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 32000, 48000, 96000])
def test_designed_filter_is_minimum_phase_and_lowers_the_a_weighted_error(rate):
    filt = design_weighted(rate)
    assert filt.rate == rate and filt.name == "weighted"
    assert np.abs(np.roots([1.0, *(-c for c in filt.coefficients)])).max() < 1
    t = np.arange(rate // 2) / rate
    x = (0.5 * np.sin(2 * np.pi * 1000 * t))[:, None]
    powers = []
    for f in (NONE, filt):
        y, _ = _shape(x, f, bits=16, rate=rate)
        meter = AWeightedPowerMeter(rate, 1)
        meter.update(y - x)
        powers.append(meter.power())
    assert powers[1] < powers[0] * 10 ** (-0.2 / 10)


# --- names and rates ----------------------------------------------------------


def test_stage_start_refuses_a_stream_at_another_rate():
    stage = NoiseShapingStage(
        UniformQuantizer(bits=16), filter=get_filter("lipshitz", 44100)
    )
    with pytest.raises(AdcsimError, match="not 48000 Hz"):
        stage.start(StreamInfo(rate=48000, channels=1))


def test_non_uniform_scheme_is_refused():
    with pytest.raises(AdcsimError, match="scheme='mulaw'"):
        NoiseShapingStage(MulawQuantizer(bits=8), filter=FIRST_ORDER)


# --- stage behaviour ----------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 16])
def test_full_scale_square_and_clipped_input_stay_bounded_and_recover(bits):
    rate, step = 44100, 2.0 / 2**bits
    filt = get_filter("improved-e-weighted", rate)  # 9 taps, NTF peak +32 dB
    n = rate // 4
    t = np.arange(n) / rate
    square = np.where(np.sin(2 * np.pi * 100 * t) >= 0, 1.0, -1.0)
    clipped = 1.5 * np.sin(2 * np.pi * 300 * t)
    quiet = 0.25 * np.sin(2 * np.pi * 1000 * t)
    x = np.concatenate([square, clipped, quiet])[:, None]
    y, stage = _shape(x, filt, bits=bits, rate=rate)
    assert np.all(np.abs(y) <= 1)
    assert stage.counters["feedback_limited"] > 0
    assert stage.counters["clipped_samples"] > 0
    # After the overload the loop recovers: the quiet part's error power is the
    # theoretical D^2/4 (1 + sum h^2) (skipping 20 ms of settling).
    tail = (y - x)[2 * n + rate // 50 :]
    expected = step**2 / 4 * (1 + sum(c * c for c in filt.coefficients))
    assert np.mean(tail**2) == pytest.approx(expected, rel=0.1)


def test_without_the_limit_the_feedback_runs_away(monkeypatch):
    # The test above can fail: with the limit removed the same input does not
    # recover (the fed-back error grows without bound while clipping).
    monkeypatch.setattr(shaping, "ERROR_LIMIT_STEPS", float("inf"))
    rate = 44100
    x = np.concatenate([np.full(2000, 1.5), 0.25 * np.ones(8000)])[:, None]
    with np.errstate(all="ignore"):
        try:
            y, _ = _shape(x, get_filter("improved-e-weighted", rate), bits=8)
        except (OverflowError, ValueError):
            return  # the error grew to inf/NaN: runaway
    step = 2.0 / 256
    assert np.mean((y - x)[4000:] ** 2) > 100 * step**2


def test_first_order_shaping_keeps_the_long_run_average():
    # NTF(1) = 0: the shaped error has no DC, so a constant is reproduced on
    # average far below one step.
    x = np.full((50_000, 1), 0.3 / 256)
    y, _ = _shape(x, FIRST_ORDER, bits=8, kind="none")
    assert abs(np.mean(y) - x[0, 0]) < 1e-3 / 256


def test_no_taps_equals_plain_dither_then_quantize():
    rng = np.random.default_rng(7)
    x = rng.uniform(-0.9, 0.9, (1000, 1))
    y, _ = _shape(x, NONE, bits=8, kind="tpdf", seed=11)
    plain = quantize(dither(x, bits=8, kind="tpdf", seed=11), bits=8)
    np.testing.assert_array_equal(y, plain)


def test_fast_path_equals_the_quantizers_own_encoder():
    class SlowUniform(UniformQuantizer):
        name = "slow-uniform"  # not in the fast-path table: generic path

    rng = np.random.default_rng(8)
    x = rng.uniform(-1.1, 1.1, (3000, 2))
    outs = []
    for q in (UniformQuantizer(bits=6), SlowUniform(bits=6)):
        stage = NoiseShapingStage(q, filter=get_filter("f-weighted", 44100), seed=3)
        stage.start(StreamInfo(rate=44100, channels=2))
        outs.append((stage.process(x), dict(stage.counters)))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]


def test_pcm_source_already_on_the_grid_gets_no_dither():
    stage = NoiseShapingStage(UniformQuantizer(bits=16), filter=FIRST_ORDER)
    stage.start(StreamInfo(rate=44100, channels=1, bits=8))
    assert not stage.dither_active
    x = (np.arange(-128, 128) / 128.0)[:, None]
    np.testing.assert_array_equal(stage.process(x), x)


def test_reset_restarts_the_same_output():
    x = np.linspace(-0.5, 0.5, 500)[:, None]
    stage = NoiseShapingStage(UniformQuantizer(bits=8), filter=FIRST_ORDER, seed=9)
    stage.start(StreamInfo(rate=8000, channels=1))
    first = stage.process(x)
    stage.reset()
    np.testing.assert_array_equal(stage.process(x), first)


def test_function_form_equals_the_stage():
    x = np.random.default_rng(10).uniform(-0.5, 0.5, (700, 2))
    y, _ = _shape(x, get_filter("lipshitz", 44100), bits=12, seed=5)
    got = noise_shape(x, bits=12, filter="lipshitz", rate=44100, seed=5)
    np.testing.assert_array_equal(got, y)
    one = noise_shape(x[:, 0], bits=12, filter=FIRST_ORDER, seed=5)
    assert one.shape == (700,)


def test_non_finite_input_is_an_error():
    stage = NoiseShapingStage(UniformQuantizer(bits=8), filter=FIRST_ORDER)
    stage.start(StreamInfo(rate=8000, channels=1))
    with pytest.raises(AdcsimError, match="NaN"):
        stage.process(np.array([[0.0], [np.nan]]))
