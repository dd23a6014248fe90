"""Quantizers against their defining formulas and against theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.quantizers._companders import AlawQuantizer, MulawQuantizer
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._stage import quantize
from adcsim.quantizers._uniform import (
    FloorQuantizer,
    MidriseQuantizer,
    UniformQuantizer,
)

RNG = np.random.default_rng(20261130)


def _signal(n: int = 20000) -> np.ndarray:
    return RNG.uniform(-1.2, 1.2, n)


@pytest.mark.parametrize("bits", [1, 2, 3, 8, 12, 16, 24])
def test_uniform_matches_its_formula_bit_for_bit(bits):
    x = _signal()
    d = 2.0 / 2**bits
    k = np.clip(np.round(x / d), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    np.testing.assert_array_equal(UniformQuantizer(bits=bits).quantize(x), k * d)


@pytest.mark.parametrize("bits", [1, 4, 8, 16])
def test_midrise_and_floor_match_their_formulas(bits):
    x = _signal()
    d = 2.0 / 2**bits
    k = np.clip(np.floor(x / d), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    np.testing.assert_array_equal(
        MidriseQuantizer(bits=bits).quantize(x), (k + 0.5) * d
    )
    np.testing.assert_array_equal(FloorQuantizer(bits=bits).quantize(x), k * d)


@pytest.mark.parametrize("bits", [2, 5, 8, 13, 20, 24])
def test_uniform_quantizer_error_is_at_most_half_a_step_in_range(bits):
    d = 2.0 / 2**bits
    x = RNG.uniform(-1.0, 1.0 - d / 2, 50000)
    err = UniformQuantizer(bits=bits).quantize(x) - x
    assert np.max(np.abs(err)) <= d / 2


def test_uniform_ties_round_half_to_even_so_the_error_is_unbiased():
    q = UniformQuantizer(bits=3)  # D = 0.25
    ties = np.array([0.125, 0.375, -0.125, -0.375])
    np.testing.assert_array_equal(q.encode(ties), [0, 2, 0, -2])


def test_floor_is_biased_by_minus_half_a_step():
    bits = 10
    d = 2.0 / 2**bits
    x = RNG.uniform(-0.9, 0.9, 200000)
    err = FloorQuantizer(bits=bits).quantize(x) - x
    assert abs(err.mean() + d / 2) < 0.01 * d
    assert err.max() <= 0 and err.min() > -d


def test_midrise_levels_are_symmetric_without_zero():
    book = MidriseQuantizer(bits=3).codebook
    np.testing.assert_array_equal(book, -book[::-1])
    assert 0.0 not in book


@pytest.mark.parametrize("mu", [1.0, 100.0, 255.0])
def test_mulaw_compressor_is_the_textbook_law_and_expand_inverts_it(mu):
    q = MulawQuantizer(bits=8, mu=mu)
    x = np.linspace(-1, 1, 1001)
    expected = np.sign(x) * np.log(1 + mu * np.abs(x)) / np.log(1 + mu)
    np.testing.assert_allclose(q.compress(x), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(q.expand(q.compress(x)), x, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("a", [1.0, 87.6, 200.0])
def test_alaw_compressor_is_the_textbook_law_and_expand_inverts_it(a):
    q = AlawQuantizer(bits=8, a=a)
    x = np.linspace(-1, 1, 1001)
    ax = np.abs(x)
    small = a * ax / (1 + math.log(a))
    large = (1 + np.log(np.maximum(a * ax, 1e-300))) / (1 + math.log(a))
    expected = np.sign(x) * np.where(ax < 1 / a, small, large)
    np.testing.assert_allclose(q.compress(x), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(q.expand(q.compress(x)), x, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scheme", ["mulaw", "alaw"])
def test_companded_quantizer_is_uniform_on_the_compressed_value(scheme):
    q = make_quantizer(scheme, bits=6)
    x = _signal()
    d = 2.0 / 64
    k = np.clip(np.round(q.compress(x) / d), -32, 31)
    np.testing.assert_allclose(q.quantize(x), q.expand(k * d), rtol=0, atol=0)


def test_mulaw_snr_is_nearly_flat_over_40_db_of_level_while_uniform_falls():
    t = np.arange(48000) / 48000
    sine = np.sin(2 * np.pi * 997.0 * t)
    snr = {}
    for scheme in ("mulaw", "uniform"):
        for level_db in (-40, -20, -1):
            x = sine * 10 ** (level_db / 20)
            e = quantize(x, bits=8, scheme=scheme) - x
            snr[scheme, level_db] = 10 * np.log10(np.sum(x**2) / np.sum(e**2))
    mu = [snr["mulaw", lv] for lv in (-40, -20, -1)]
    assert max(mu) - min(mu) < 6.0  # textbook: about 38 dB, within a few dB
    assert all(30 < v < 42 for v in mu)
    assert snr["uniform", -1] - snr["uniform", -40] == pytest.approx(39, abs=1.5)


@pytest.mark.parametrize("bits", range(6, 17))
def test_full_scale_sine_snr_matches_theory_within_0_3_db(bits):
    d = 2.0 / 2**bits
    amplitude = 1.0 - d  # largest sine that never reaches the overload region
    t = np.arange(96000) / 48000
    x = amplitude * np.sin(2 * np.pi * 997.0 * t + 0.3)
    e = UniformQuantizer(bits=bits).quantize(x) - x
    measured = 10 * np.log10(np.sum(x**2) / np.sum(e**2))
    theory = 10 * np.log10((amplitude**2 / 2) / (d**2 / 12))
    assert measured == pytest.approx(theory, abs=0.3)


def test_overload_is_counted_per_sample():
    q = UniformQuantizer(bits=4)
    _, clipped = q.encode_counting(np.array([0.0, 0.9, 0.95, 1.5, -1.0, -1.2]))
    # D = 0.125: 0.95 rounds to code 8 > 7 and is clamped; -1.0 is code -8.
    assert clipped == 3


@pytest.mark.parametrize(
    ("scheme", "params", "match"),
    [
        ("uniform", {"bits": 0}, "bits=0"),
        ("uniform", {"bits": 25}, "bits=25"),
        ("mulaw", {"bits": 8, "mu": 0}, "mu=0"),
        ("alaw", {"bits": 8, "a": 0.5}, "a=0.5"),
        ("nosuch", {"bits": 8}, "scheme='nosuch'"),
        ("uniform", {"bits": 8, "mu": 3}, "no parameter 'mu'"),
    ],
)
def test_bad_parameters_raise_one_clear_error(scheme, params, match):
    with pytest.raises(AdcsimError, match=match):
        make_quantizer(scheme, **params)


@pytest.mark.parametrize("bits", [3, 6, 24])
def test_compander_decode_is_the_closed_form_inverse(bits: int) -> None:
    # decode no longer looks codes up in the 2**N codebook (issue 12: at 24 bits
    # building it for every block took minutes); checked against Python floats
    mu, a = 255.0, 87.6
    half = 1 << (bits - 1)
    codes = np.array([-half, -half + 1, -1, 0, 1, 5, half - 1])
    ys = [k / half for k in codes.tolist()]
    want_mu = [math.copysign(((1 + mu) ** abs(y) - 1) / mu, y) for y in ys]
    c = 1 + math.log(a)
    want_a = [
        math.copysign(
            abs(y) * c / a if abs(y) * c < 1 else math.exp(abs(y) * c - 1) / a, y
        )
        for y in ys
    ]
    np.testing.assert_allclose(
        make_quantizer("mulaw", bits=bits).decode(codes),
        want_mu,
        rtol=1e-12,
        atol=1e-16,
    )
    np.testing.assert_allclose(
        make_quantizer("alaw", bits=bits).decode(codes), want_a, rtol=1e-12, atol=1e-16
    )
    if bits <= 6:
        for scheme in ("mulaw", "alaw"):
            q = make_quantizer(scheme, bits=bits)
            every = np.arange(-half, half)
            np.testing.assert_array_equal(q.decode(every), q.codebook)
