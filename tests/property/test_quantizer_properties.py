"""Properties every registered quantizer must have, over random signals."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adcsim.quantizers._registry import SCHEMES, make_quantizer

# Lloyd-Max needs a designed codebook; it has its own property tests.
SIMPLE = sorted(name for name in SCHEMES if name != "lloydmax")
signals = arrays(
    np.float64, st.integers(1, 200), elements=st.floats(-1.5, 1.5, allow_nan=False)
)


def _make(scheme: str, bits: int):
    return make_quantizer(scheme, bits=8 if scheme.startswith("g711") else bits)


@given(scheme=st.sampled_from(SIMPLE), bits=st.integers(1, 16), x=signals)
def test_quantizing_twice_changes_nothing(scheme, bits, x):
    q = _make(scheme, bits)
    y = q.quantize(x)
    np.testing.assert_array_equal(q.quantize(y), y)


@given(scheme=st.sampled_from(SIMPLE), bits=st.integers(1, 16), x=signals)
def test_output_is_monotone_in_the_input(scheme, bits, x):
    q = _make(scheme, bits)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(q.quantize(x[order])) >= 0)
    assert np.all(np.diff(q.encode(x[order])) >= 0)


@given(scheme=st.sampled_from(SIMPLE), bits=st.integers(1, 16), x=signals)
def test_outputs_are_codebook_levels_and_codes_are_in_range(scheme, bits, x):
    q = _make(scheme, bits)
    codes = q.encode(x)
    assert codes.min() >= -(q.levels // 2) and codes.max() < q.levels // 2
    assert np.isin(q.quantize(x), q.codebook).all()
    assert len(np.unique(q.codebook)) <= 2**q.bits
