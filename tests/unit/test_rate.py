"""check_rate: the one rate check, and the library entry points that use it."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim._rate import MAX_RATE, MIN_RATE, check_rate, check_real_rate
from adcsim.analysis._generate import generate
from adcsim.errors import AdcsimError
from adcsim.run._config import QuantizeConfig
from adcsim.stages._resample import Resampler, resample


def test_bounds_are_100_hz_and_10_mhz_inclusive():
    assert (MIN_RATE, MAX_RATE) == (100, 10_000_000)
    assert check_rate(100) == 100 and check_rate(10_000_000) == 10_000_000
    for bad in (99, 0, -8000, 10_000_001, 2**31):
        with pytest.raises(AdcsimError, match=rf"rate={bad} must be an integer"):
            check_rate(bad)


@pytest.mark.parametrize("bad", [8000.0, "8000", True, None, np.float64(8000)])
def test_non_integers_are_refused_by_value(bad):
    with pytest.raises(AdcsimError, match="must be an integer number of Hz"):
        check_rate(bad)


def test_numpy_integers_are_integers():
    value = check_rate(np.int64(44100))
    assert value == 44100 and type(value) is int


def test_fractional_rates_where_allowed():
    assert check_real_rate(0.5) == 0.5
    for bad in (0.0, -1.0, float("nan"), float("inf"), "1"):
        with pytest.raises(AdcsimError, match=r"must be a number of Hz in \(0, "):
            check_real_rate(bad)


@pytest.mark.parametrize(
    "call",
    [
        lambda: Resampler(out_rate=1),
        lambda: resample(np.zeros(8), in_rate=1, out_rate=8000),
        lambda: generate("sine", rate=1, duration_s=0.1),
        lambda: QuantizeConfig(rate=1).validate(),
    ],
)
def test_library_entry_points_refuse_1_hz_with_the_same_message(call):
    with pytest.raises(AdcsimError, match=r"rate=1 must be an integer number of Hz "):
        call()
