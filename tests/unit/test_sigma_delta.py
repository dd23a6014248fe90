"""Tests of the sigma-delta stage against the ideal MOD-L SQNR formula."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.stages._chain import StreamInfo
from adcsim.stages._sigma_delta import SigmaDeltaStage, sigma_delta

RATE = 8000
FRAMES = 16384
TRIM = 1000  # frames trimmed at each end: the filters' edges


def _formula_db(order, osr, bits, level_db):
    # Schreier & Temes 2005 (issue 13), written out here independently.
    return (
        6.02 * bits
        + 1.76
        - 10 * np.log10(np.pi ** (2 * order) / (2 * order + 1))
        + (2 * order + 1) * 10 * np.log10(osr)
        + level_db
    )


def _sine(amplitude):
    k = np.arange(FRAMES)
    return amplitude * np.sin(2 * np.pi * (RATE * 101 / FRAMES) * k / RATE)


def _sqnr_db(x, y):
    e = (y - x)[TRIM:-TRIM]
    s = x[TRIM:-TRIM]
    return 10 * np.log10(np.mean(s**2) / np.mean(e**2))


@pytest.mark.parametrize(
    ("order", "osr", "tolerance_db"),
    [
        (1, 16, 3.0),
        (1, 128, 3.0),
        (2, 16, 2.0),
        (2, 128, 2.0),
        (3, 16, 2.0),
        (3, 64, 2.0),
    ],
)
def test_multibit_in_band_sqnr_matches_the_ideal_formula(order, osr, tolerance_db):
    x = _sine(0.5)
    y = sigma_delta(x, rate=RATE, order=order, osr=osr, modulator_bits=4)
    expected = _formula_db(order, osr, 4, 20 * np.log10(0.5))
    assert abs(_sqnr_db(x, y) - expected) < tolerance_db


def test_one_bit_second_order_modulator_stays_stable_at_minus_6_dbfs():
    x = _sine(0.5)[:, None]
    stage = SigmaDeltaStage(order=2, osr=64)
    stage.start(StreamInfo(rate=RATE, channels=1))
    y = np.concatenate([stage.process(x), stage.flush()])
    # Occasional quantizer overload, but the fed-back error never needed limiting.
    assert stage.counters["modulator_error_limited"] == 0
    # Measured 71.2 dB against the formula's 79.2 (see the stage's notes).
    assert _sqnr_db(x[:, 0], y[:, 0]) > 65.0


def test_any_block_split_gives_identical_output():
    rng = np.random.default_rng(1)
    x = np.stack([_sine(0.5)[:6000], 0.3 * rng.standard_normal(6000)], axis=1)

    def run(sizes):
        stage = SigmaDeltaStage(order=3, osr=8)
        stage.start(StreamInfo(rate=RATE, channels=2))
        out, first = [], 0
        for size in sizes:
            out.append(stage.process(x[first : first + size]))
            first += size
        out.append(stage.process(x[first:]))
        out.append(stage.flush())
        return np.concatenate(out)

    whole = run([])
    assert whole.shape == x.shape
    for sizes in ([1, 2, 3, 4097], [5000], [999, 1, 4096, 1]):
        np.testing.assert_array_equal(run(sizes), whole)


def test_full_scale_third_order_input_overloads_but_stays_bounded():
    x = _sine(1.0)[:4000, None]
    stage = SigmaDeltaStage(order=3, osr=16)
    stage.start(StreamInfo(rate=RATE, channels=1))
    y = np.concatenate([stage.process(x), stage.flush()])
    assert stage.counters["modulator_overload"] > 0
    assert np.max(np.abs(y)) < 1.5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"order": 0, "osr": 64}, "order=0 must be an integer in"),
        ({"order": 6, "osr": 64}, "order=6"),
        ({"order": 2, "osr": 1}, "osr=1"),
        ({"order": 2, "osr": 512}, "osr=512"),
        ({"order": 2, "osr": 64, "modulator_bits": 0}, "modulator_bits=0"),
        ({"order": 2.5, "osr": 64}, "order=2.5"),
    ],
)
def test_bad_parameters_raise_one_line_errors(params, message):
    with pytest.raises(AdcsimError, match=message):
        SigmaDeltaStage(**params)
