"""Property tests of the g711-mulaw and g711-alaw quantizers (derandomized)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adcsim.quantizers import g711
from adcsim.quantizers._g711_schemes import G711AlawQuantizer, G711MulawQuantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.stages._chain import Chain, StreamInfo

QUANTIZERS = [G711MulawQuantizer, G711AlawQuantizer]
CI = settings(derandomize=True, deadline=None, max_examples=50)

# Full-scale samples, a little beyond full scale, in float64 and float32.
samples = arrays(
    dtype=st.sampled_from([np.float64, np.float32]),
    shape=st.integers(1, 64),
    elements=st.floats(-1.25, 1.25, width=32),
)
pcm16 = arrays(dtype=np.int16, shape=st.integers(1, 300))


@pytest.mark.parametrize("cls", QUANTIZERS)
@CI
@given(x=samples)
def test_quantizing_twice_changes_nothing(
    cls: type[G711MulawQuantizer], x: np.ndarray
) -> None:
    q = cls()
    once = q.quantize(x)
    np.testing.assert_array_equal(q.quantize(once), once)


@pytest.mark.parametrize("cls", QUANTIZERS)
@CI
@given(x=samples)
def test_codes_and_levels_are_monotone(
    cls: type[G711MulawQuantizer], x: np.ndarray
) -> None:
    q = cls()
    xs = np.sort(x)
    codes = q.encode(xs)
    assert np.all(np.diff(codes) >= 0)
    assert np.all(np.diff(q.decode(codes)) >= 0)
    assert codes.min() >= -128 and codes.max() <= 127


@pytest.mark.parametrize("cls", QUANTIZERS)
@CI
@given(x=samples)
def test_outputs_are_at_most_256_codebook_levels(
    cls: type[G711MulawQuantizer], x: np.ndarray
) -> None:
    q = cls()
    y = q.quantize(x)
    assert np.unique(y).size <= 256
    assert np.isin(y, q.codebook).all()


@pytest.mark.parametrize("cls", QUANTIZERS)
@CI
@given(x=samples, cuts=st.lists(st.integers(0, 64), max_size=5))
def test_any_block_split_gives_the_same_output(
    cls: type[G711MulawQuantizer], x: np.ndarray, cuts: list[int]
) -> None:
    q = cls()
    block = x.reshape(-1, 1)
    bounds = sorted({min(c, len(block)) for c in cuts})
    pieces = np.split(block, bounds)
    chain = Chain([QuantizeStage(q)])
    chain.start(StreamInfo(rate=8000, channels=1))
    out = list(chain.run(pieces))
    streamed = np.concatenate(out) if out else np.zeros((0, 1))
    np.testing.assert_array_equal(streamed, q.encode(block))


@pytest.mark.parametrize("law", g711.LAWS)
@CI
@given(v=pcm16)
def test_codec_roundtrip_is_a_fixed_point(law: g711.Law, v: np.ndarray) -> None:
    decoded = g711.decode(g711.encode(v, law), law)
    np.testing.assert_array_equal(g711.decode(g711.encode(decoded, law), law), decoded)
    # Error at most half an interval (Tables 1 and 2/G.711): <= 1/15.5 of the
    # magnitude from mu-law's second segment up (1/32 for A-law), 4 (mu) or 8 (A)
    # LSBs in the first segment; overload errors (<= 644) are inside this bound.
    magnitude = np.abs(v.astype(np.int64))
    err = np.abs(decoded.astype(np.int64) - v)
    assert np.all(15 * err <= magnitude + 15 * 8)
