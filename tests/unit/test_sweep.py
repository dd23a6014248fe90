"""sweep(): the textbook curves of quantization, the grid parsers, the theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.analysis._sweep import parse_bits, parse_levels, sweep, theory_snr_db
from adcsim.errors import AdcsimError
from adcsim.quantizers._registry import make_quantizer

RATE = 48000
# 0.5 s of a 997 Hz sine: not a submultiple of the rate, so the quantization
# error is spread over many codes (the textbook noise model holds).
SINE = np.sin(2 * np.pi * 997 * np.arange(RATE // 2) / RATE)


def _snr(rows, scheme, bits):
    pts = sorted(
        (r["level_dbfs"], r["snr_db"])
        for r in rows
        if r["scheme"] == scheme and r["bits"] == bits
    )
    return np.array(pts)


@pytest.fixture(scope="module")
def level_rows():
    return sweep(
        SINE,
        RATE,
        schemes=["uniform", "mulaw", "alaw"],
        bits=[8],
        levels_dbfs=parse_levels("-40:-4:2"),
    )


def test_mulaw_8_bits_stays_near_38_db_from_minus_40_to_full_scale(level_rows):
    # Textbook: mu = 255, 8 bits keeps ~38 dB over a wide range (Jayant & Noll
    # §5.6; 6.02 N + 4.77 - 20 log10 ln 256 = 38.05 dB for large signals).
    snr = _snr(level_rows, "mulaw", 8)[:, 1]
    assert np.all(np.abs(snr - 38.0) < 3.0), snr
    # Theory: 35.4 dB at -40 dBFS rising to 38.0 at full scale (2.7 dB); uniform
    # coding at 8 bits loses 1 dB per dB over the same 36 dB.
    assert snr.max() - snr.min() < 4.0


def test_alaw_8_bits_is_flat_in_its_log_segment(level_rows):
    # The logarithmic segment gives 6.02 N + 4.77 - 20 log10(1 + ln 87.6) = 38.2 dB.
    pts = _snr(level_rows, "alaw", 8)
    assert np.all(np.abs(pts[pts[:, 0] >= -30, 1] - 38.2) < 1.5)


def test_uniform_falls_one_db_per_db_of_input_level():
    rows = sweep(
        SINE, RATE, schemes=["uniform"], bits=[12], levels_dbfs=parse_levels("-50:-4:2")
    )
    pts = _snr(rows, "uniform", 12)
    slope, intercept = np.polyfit(pts[:, 0], pts[:, 1], 1)
    assert slope == pytest.approx(1.0, abs=0.05)
    # 6.02 N + 1.76 at -3.01 dBFS, i.e. intercept 6.02 * 12 + 1.76 + 3.01.
    assert intercept == pytest.approx(6.0206 * 12 + 1.7609 + 3.0103, abs=0.5)


def test_uniform_gains_6_02_db_per_bit():
    rows = sweep(
        SINE, RATE, schemes=["uniform"], bits=list(range(6, 17)), levels_dbfs=[-4.0]
    )
    bits = np.array([r["bits"] for r in rows])
    snr = np.array([r["snr_db"] for r in rows])
    slope, _ = np.polyfit(bits, snr, 1)
    assert slope == pytest.approx(20 * math.log10(2), abs=0.1)


def test_enob_of_the_ideal_uniform_quantizer_is_n():
    rows = sweep(
        SINE, RATE, schemes=["uniform"], bits=[6, 10, 16], levels_dbfs=[-4.0, -10.0]
    )
    for r in rows:
        assert r["enob_bits"] == pytest.approx(r["bits"], abs=0.1)


def test_measured_points_follow_theory_where_it_holds(level_rows):
    for r in level_rows:
        expected = theory_snr_db(r["scheme"], r["bits"], r["level_dbfs"])
        # Bennett's integral is an approximation at 8 bits: within 1 dB.
        assert r["snr_db"] == pytest.approx(expected, abs=1.0), r


def test_rows_match_the_quantizer_applied_directly():
    # Independent straightforward computation: scale, quantize, measure.
    rows = sweep(
        SINE,
        RATE,
        schemes=["uniform", "mulaw", "alaw"],
        bits=[4, 8],
        levels_dbfs=[-20.0, 0.0],
    )
    unit = SINE / np.sqrt(np.mean(SINE**2))
    for r in rows:
        x = unit * 10 ** (r["level_dbfs"] / 20)
        q = make_quantizer(r["scheme"], bits=r["bits"])
        codes, clipped = q.encode_counting(x)
        e = q.decode(codes) - x
        assert r["clipped_samples"] == clipped
        assert r["mse"] == pytest.approx(np.mean(e**2), rel=1e-12)
        assert r["snr_db"] == pytest.approx(
            10 * np.log10(np.sum(x**2) / np.sum(e**2)), abs=1e-9
        )


def test_a_full_scale_sine_does_not_clip_and_louder_clips():
    rows = sweep(SINE, RATE, schemes=["uniform"], bits=[8], levels_dbfs=[-3.2, -1.0])
    assert rows[0]["clipped_samples"] == 0
    assert rows[1]["clipped_samples"] > 0


def test_dither_is_seeded_and_raises_the_noise():
    kwargs = dict(schemes=["uniform"], bits=[8], levels_dbfs=[-10.0])
    plain = sweep(SINE, RATE, **kwargs)[0]
    a = sweep(SINE, RATE, dither="tpdf", seed=3, **kwargs)[0]
    b = sweep(SINE, RATE, dither="tpdf", seed=3, **kwargs)[0]
    assert a == b
    # TPDF adds D^2/6 to the D^2/12 of the quantizer: 3x the noise, -4.77 dB.
    assert a["snr_db"] == pytest.approx(plain["snr_db"] - 10 * math.log10(3), abs=0.3)


def test_noise_input_has_no_enob():
    noise = np.random.default_rng(0).standard_normal(4096)
    row = sweep(noise, RATE, schemes=["uniform"], bits=[8], levels_dbfs=[-20])[0]
    assert row["enob_bits"] is None and row["snr_db"] > 0


def test_silent_input_is_an_error():
    with pytest.raises(AdcsimError, match="silent"):
        sweep(np.zeros(100), RATE, schemes=["uniform"], bits=[8], levels_dbfs=[-6])


def test_theory_mulaw_matches_the_closed_form():
    mu, bits = 255.0, 8
    for level in (-50.0, -30.0, -10.0, -4.0):
        sigma = 10 ** (level / 20)
        closed = (
            6.0206 * bits
            + 4.7712
            - 20 * math.log10(math.log(1 + mu))
            - 10
            * math.log10(
                1
                + 2 * (2 * math.sqrt(2) / math.pi) / (mu * sigma)
                + 1 / (mu * sigma) ** 2
            )
        )
        assert theory_snr_db("mulaw", bits, level) == pytest.approx(closed, abs=0.01)


def test_theory_uniform_is_6_02_n_plus_1_76_at_full_scale():
    for bits in (8, 16):
        assert theory_snr_db("uniform", bits, -3.0103) == pytest.approx(
            6.0206 * bits + 1.7609, abs=0.01
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-4", [1, 2, 3, 4]),
        ("4,8,12", [4, 8, 12]),
        ("8, 2-3", [2, 3, 8]),
        ("16", [16]),
    ],
)
def test_parse_bits_reads_ranges_and_lists(text, expected):
    assert parse_bits(text) == expected


@pytest.mark.parametrize("text", ["", "a", "1-", "8-4", "0-3", "1-25", "4;8", "1.5"])
def test_parse_bits_rejects_bad_text(text):
    with pytest.raises(AdcsimError, match="bits="):
        parse_bits(text)


def test_parse_levels_is_inclusive():
    assert parse_levels("-60:0:2")[0] == -60.0
    assert parse_levels("-60:0:2")[-1] == 0.0
    assert len(parse_levels("-60:0:2")) == 31
    assert parse_levels("-1:0:0.1")[-1] == 0.0


@pytest.mark.parametrize(
    "text",
    ["-60:0", "a:b:c", "-60:0:0", "0:-60:2", "-1:0:1e-9", "x", "-60:0:2:1", "nan"],
)
def test_parse_levels_rejects_bad_text(text):
    with pytest.raises(AdcsimError, match="levels="):
        parse_levels(text)
