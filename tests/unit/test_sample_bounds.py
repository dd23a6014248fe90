"""Measurements refuse samples they cannot work with, before computing anything."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.analysis._compare import analyze, compare
from adcsim.errors import AdcsimError
from adcsim.metrics._loudness import integrated_loudness
from adcsim.metrics._samples import MAX_ABS_SAMPLE, check_samples
from adcsim.metrics._sinefit import fit_sine
from adcsim.metrics._tone import tone_metrics

RATE = 8000


def huge_tone(scale: float, frames: int = 740) -> np.ndarray:
    return scale * np.sin(2 * np.pi * 440 * np.arange(frames) / RATE)


def test_the_bound_itself_is_accepted_and_the_next_double_is_not():
    check_samples(np.array([MAX_ABS_SAMPLE, -MAX_ABS_SAMPLE]), "x")
    above = np.nextafter(MAX_ABS_SAMPLE, np.inf)
    for bad in (above, -above):
        with pytest.raises(AdcsimError, match=r"at most 1e\+06 times full scale"):
            check_samples(np.array([0.0, bad]), "x")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_named_so(bad):
    with pytest.raises(AdcsimError, match="non-finite"):
        check_samples(np.array([0.0, bad, 0.5]), "x")


@pytest.mark.parametrize(
    "measure",
    [
        lambda x: fit_sine(x, RATE),
        lambda x: tone_metrics(x, RATE),
        lambda x: analyze(x, RATE),
        lambda x: compare(x, x, rate=RATE),
        lambda x: integrated_loudness(np.tile(x, 10), rate=RATE),
    ],
)
@pytest.mark.parametrize("scale", [1e7, 1e298, 1e300])
def test_huge_samples_are_an_error_not_an_overflow_or_a_hang(measure, scale):
    # 1e298-1e300 made the sine fit's lstsq print LAPACK errors and fail with
    # "SVD did not converge" (or spin); numpy must not even warn: the suite
    # turns warnings into errors.
    with pytest.raises(AdcsimError, match="has a sample of"):
        measure(huge_tone(scale))


def test_a_loud_but_sane_float_signal_is_still_measured():
    fit = fit_sine(huge_tone(1e5, 4000), RATE)
    assert fit.freq_hz == pytest.approx(440.0, rel=1e-9)
    assert fit.amplitude == pytest.approx(1e5, rel=1e-9)
