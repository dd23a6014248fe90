"""window(): the one window helper, against scipy.signal's windows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import get_window
from scipy.signal.windows import general_cosine

from adcsim.metrics._windows import window

# Solomon (1994), Table I: the 7-term Blackman-Harris coefficients.
BH7 = [
    0.27105140069342,
    0.43329793923448,
    0.21812299954311,
    0.06592544638803,
    0.01081174209837,
    0.00077658482522,
    0.00001388721735,
]


@pytest.mark.parametrize("n", [2, 7, 64, 4096])
def test_windows_are_scipy_s(n):
    np.testing.assert_allclose(window(n), get_window("hann", n, fftbins=False))
    np.testing.assert_allclose(window(n, "periodic-hann"), get_window("hann", n))
    np.testing.assert_allclose(
        window(n, "blackman-harris-7"), general_cosine(n, BH7, sym=False), atol=1e-15
    )


def test_windows_are_cached_and_read_only():
    assert window(256) is window(256)
    with pytest.raises(ValueError, match="read-only"):
        window(256)[0] = 1.0
