"""Tests of the noise-shaping filters: published shapes, designs, names, rates."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.metrics._weighting import a_weighting_db
from adcsim.stages._shaping_filters import (
    FIRST_ORDER,
    FIXED_FILTERS,
    NONE,
    ShapingFilter,
    design_weighted,
    get_filter,
)


def _ntf_db(coefficients, freqs, rate):
    # Independent evaluation: |1 - sum_k h_k exp(-j 2 pi f k / rate)| in dB.
    k = np.arange(1, len(coefficients) + 1)
    phase = np.exp(-2j * np.pi * np.outer(freqs, k) / rate)
    return 20 * np.log10(np.abs(1 - phase @ np.asarray(coefficients)))


ALL_FIXED = [f for designs in FIXED_FILTERS.values() for f in designs]


@pytest.mark.parametrize("filt", ALL_FIXED, ids=lambda f: f"{f.name}-{f.rate}")
def test_fixed_filter_has_the_published_noise_transfer_shape(filt):
    rate = filt.rate
    f = np.linspace(0, rate / 2, 4097)[:-1]
    db = _ntf_db(filt.coefficients, f, rate)
    # Psychoacoustic designs: least noise where the ear is most sensitive,
    # around 3-4 kHz (the threshold-of-hearing minimum) ...
    assert 2500 <= f[np.argmin(db)] <= 4500
    assert _ntf_db(filt.coefficients, [3500.0], rate)[0] < -5
    if rate >= 32000:
        # ... and the noise pushed above ~10 kHz, rising steeply.
        assert (
            db[f >= 0.8 * rate / 2].max()
            - _ntf_db(filt.coefficients, [10000.0], rate)[0]
            > 10
        )
    else:
        # At low rates there is no treble: the noise goes to the low bass.
        assert _ntf_db(filt.coefficients, [100.0], rate)[0] > db.min() + 10
    # Minimum phase (roots of z^K (1 - H(z)) inside the unit circle) and, as
    # Gerzon and Craven's theorem then requires, a log-NTF averaging to 0 dB.
    assert np.abs(np.roots([1.0, *(-c for c in filt.coefficients)])).max() < 1
    assert abs(db.mean()) < 0.05


@pytest.mark.parametrize(("rate", "gain_db"), [(16000, -1), (44100, -6), (96000, -6)])
def test_threshold_design_lowers_its_own_weighted_noise(rate, gain_db):
    filt = design_weighted(rate, weighting="threshold", order=16)
    assert np.abs(np.roots([1.0, *(-c for c in filt.coefficients)])).max() < 1
    f = np.linspace(20, rate / 2, 8000)
    k = f / 1000
    ath = 3.64 * k**-0.8 - 6.5 * np.exp(-0.6 * (k - 3.3) ** 2) + 1e-3 * k**4
    w = 10 ** (-np.minimum(ath, ath.min() + 30) / 10)
    shaped = np.mean(w * 10 ** (_ntf_db(filt.coefficients, f, rate) / 10))
    assert 10 * np.log10(shaped / np.mean(w)) < gain_db


def test_design_is_cached_and_deterministic():
    assert design_weighted(22050) is design_weighted(22050)
    assert design_weighted(22050, order=4).coefficients == pytest.approx(
        design_weighted(22050, order=4).coefficients, abs=0
    )


def test_a_weighted_design_is_optimal_against_a_perturbed_filter():
    # The prediction-error filter minimizes the weighted NTF energy: any
    # perturbation of its taps must raise it (floor of 30 dB as designed).
    rate = 48000
    filt = design_weighted(rate, order=6)
    f = np.linspace(0, rate / 2, 8193)
    a = a_weighting_db(f)
    w = 10 ** (np.maximum(a, a.max() - 30) / 10)

    def energy(h):
        return np.mean(w * 10 ** (_ntf_db(h, f, rate) / 10))

    best = energy(filt.coefficients)
    rng = np.random.default_rng(6)
    for _ in range(20):
        h = np.asarray(filt.coefficients) + 0.01 * rng.standard_normal(6)
        assert energy(h) > best


def test_fixed_filter_at_another_rate_is_a_clear_error():
    with pytest.raises(AdcsimError) as info:
        get_filter("f-weighted", 22050)
    assert str(info.value) == (
        "noise-shaping 'f-weighted' is designed for 44100 Hz, not 22050 Hz; "
        "use 'weighted' to design one for this rate"
    )
    with pytest.raises(AdcsimError, match="8000, 11025, 16000, .*48000 Hz, not 96000"):
        get_filter("shibata", 96000)


def test_unknown_name_lists_the_allowed_ones():
    with pytest.raises(AdcsimError, match="none, first-order, lipshitz, .*weighted"):
        get_filter("e-weighted", 44100)


def test_none_first_order_and_weighted_names():
    assert get_filter("none", 8000) is NONE and NONE.coefficients == ()
    assert get_filter("first-order") is FIRST_ORDER
    assert get_filter("weighted", 32000) is design_weighted(32000)
    with pytest.raises(AdcsimError, match="needs the sample rate"):
        get_filter("weighted")


def test_design_rejects_bad_arguments():
    with pytest.raises(AdcsimError, match="order=0"):
        design_weighted(44100, order=0)
    with pytest.raises(AdcsimError, match="weighting='c'"):
        design_weighted(44100, weighting="c")
    with pytest.raises(AdcsimError, match="rate=500"):
        design_weighted(500)


def test_filter_reports_as_plain_values():
    d = get_filter("f-weighted", 44100).to_dict()
    assert d["name"] == "f-weighted" and d["rate"] == 44100
    assert len(d["coefficients"]) == 9 and "Wannamaker" in d["source"]
    assert isinstance(ShapingFilter("x", None, (), "s").order, int)
