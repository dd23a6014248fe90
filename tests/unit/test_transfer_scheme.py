"""Tests of the static transfer curve as a quantizer and a chain stage (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._transfer import TransferCurve, design_transfer
from adcsim.quantizers._transfer_scheme import (
    TransferQuantizer,
    TransferStage,
    predicted_harmonic_dbc,
)
from adcsim.stages._chain import StreamInfo


def _reference_codes(transitions, x):
    # Independent of the kernel: numpy's bisection over all transitions.
    t = np.asarray(transitions)
    return np.searchsorted(t, x, side="right") - (t.size + 1) // 2


def _curves():
    rng = np.random.default_rng(3)
    yield design_transfer(bits=8, dnl_lsb=0.6, rng=rng)  # many missing codes
    yield design_transfer(bits=10, inl_lsb=7.0, inl_shape="s")
    yield design_transfer(bits=12, inl_lsb=3.0, dnl_lsb=0.2, rng=rng)
    clustered = np.sort(np.concatenate([np.full(200, 0.1), rng.uniform(-3, 3, 55)]))
    yield TransferCurve(clustered)  # far outside [-1, 1] and a 200-fold cluster


@pytest.mark.parametrize("curve", list(_curves()), ids=lambda c: repr(c))
def test_codes_are_the_number_of_transitions_at_or_below_the_input(curve):
    rng = np.random.default_rng(5)
    t = curve.transitions
    x = np.concatenate(
        [
            rng.uniform(-1.2, 1.2, 20000),
            rng.uniform(-4, 4, 2000),
            t,  # exactly on every transition: the upper code
            np.nextafter(t, -np.inf),
            np.nextafter(t, np.inf),
            [-np.inf, np.inf, -1e300, 1e300, np.nan],
        ]
    )
    codes, _ = TransferQuantizer(curve).encode_counting(x)
    np.testing.assert_array_equal(codes, _reference_codes(t, x))


def test_ideal_curve_encodes_and_counts_overload_as_the_uniform_quantizer():
    bits = 10
    step = 2.0 / 2**bits
    ideal = design_transfer(bits=bits)
    uniform = make_quantizer("uniform", bits=bits)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.05, 1.05, 50000)
    # away from the transitions, where the two round ties differently
    x = x[np.abs((x / step) % 1.0 - 0.5) > 1e-6]
    codes, clipped = TransferQuantizer(ideal).encode_counting(x)
    ucodes, uclipped = uniform.encode_counting(x)
    np.testing.assert_array_equal(codes, ucodes)
    assert clipped == uclipped > 0


def test_int16_int32_and_float_blocks_give_the_same_codes_and_counts():
    curve = design_transfer(
        bits=12, inl_lsb=2.0, dnl_lsb=0.3, rng=np.random.default_rng(1)
    )
    rng = np.random.default_rng(2)
    pcm16 = rng.integers(-32768, 32768, size=(30000, 2)).astype(np.int16)
    pcm32 = pcm16.astype(np.int32) << 16
    results = []
    for block in (pcm16, pcm32, pcm16 / 32768.0):
        stage = TransferStage(curve)
        stage.start(StreamInfo(rate=48000, channels=2))
        results.append((stage.process(block), stage.counters["clipped_samples"]))
    expected = _reference_codes(curve.transitions, pcm16 / 32768.0)
    for codes, clipped in results:
        np.testing.assert_array_equal(codes, expected)
        assert clipped == results[0][1]


def _harmonic_dbc(y, cycles, order):
    # Coherent record (prime cycle count), rectangular window: bins are exact.
    spectrum = np.abs(np.fft.rfft(y))
    return 20 * np.log10(spectrum[order * cycles] / spectrum[cycles])


@pytest.mark.parametrize(
    ("bits", "peak_lsb", "shape", "amplitude"),
    [
        (12, 2.0, "bow", 0.9),
        (12, 0.5, "bow", 0.7),
        (16, 8.0, "bow", 0.95),
        (12, 2.0, "s", 0.9),
        (14, 4.0, "s", 0.8),
    ],
)
def test_smooth_inl_gives_the_harmonic_its_polynomial_predicts(
    bits, peak_lsb, shape, amplitude
):
    # Issue 13: HD2 = a2 A / 2 of the bow's x**2 coefficient (HD3 = a3 A**2 / 4
    # of the s's x**3), within 0.5 dB. The coefficients are written out here
    # from the INL's definition, independently of predicted_harmonic_dbc.
    frames, cycles = 1 << 17, 1553
    x = amplitude * np.sin(2 * np.pi * cycles * np.arange(frames) / frames)
    stage = TransferStage(design_transfer(bits=bits, inl_lsb=peak_lsb, inl_shape=shape))
    stage.start(StreamInfo(rate=48000, channels=1))
    y = stage.process(x[:, None])[:, 0] * (2.0 / 2**bits)
    d = 2.0 / 2**bits
    if shape == "bow":
        order, ratio = 2, (peak_lsb * d / (1 - d) ** 2) * amplitude / 2
    else:
        s_peak = 2 / (3 * np.sqrt(3))
        order, ratio = 3, (peak_lsb * d / (s_peak * (1 - d) ** 3)) * amplitude**2 / 4
    expected = 20 * np.log10(ratio)
    assert abs(_harmonic_dbc(y, cycles, order) - expected) < 0.5
    assert predicted_harmonic_dbc(
        bits=bits, inl_lsb=peak_lsb, inl_shape=shape, amplitude=amplitude
    ) == (order, pytest.approx(expected, abs=1e-9))


def test_the_adc_entry_holds_the_realized_curves_static_figures():
    curve = design_transfer(bits=8, dnl_lsb=0.6, rng=np.random.default_rng(3))
    stage = TransferStage(curve, dnl_lsb=0.6)

    class Figures:
        ref_fits: list[object] = [None]
        out_harmonics_db: list[object] = [None]

    entry = stage.adc_entry(Figures())
    widths = np.diff(curve.transitions)
    q = (curve.transitions[-1] - curve.transitions[0]) / len(widths)
    dnl = widths / q - 1
    assert entry["max_abs_dnl_lsb"] == pytest.approx(np.max(np.abs(dnl)))
    assert entry["rms_dnl_lsb"] == pytest.approx(np.sqrt(np.mean(dnl**2)))
    assert entry["missing_codes"] == [int(k) + 1 for k in np.flatnonzero(widths == 0)]
    assert entry["missing_code_count"] == len(entry["missing_codes"]) > 0
    assert entry["predicted_hd2_dbc"] is None
