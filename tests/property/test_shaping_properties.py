"""Property tests of the noise-shaping stage: block-size invariance and grid."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adcsim.quantizers._uniform import UniformQuantizer
from adcsim.stages._chain import StreamInfo
from adcsim.stages._shaping import NoiseShapingStage
from adcsim.stages._shaping_filters import FIRST_ORDER, get_filter

CI = settings(derandomize=True, deadline=None, max_examples=60)
SAMPLES = arrays(
    np.float64,
    st.tuples(st.integers(1, 300), st.integers(1, 2)),
    elements=st.floats(-1.5, 1.5, allow_nan=False),
)
FILTERS = st.sampled_from(
    [FIRST_ORDER, get_filter("f-weighted", 44100), get_filter("high-shibata", 44100)]
)


def _run(x, filt, bits, seed, splits):
    stage = NoiseShapingStage(UniformQuantizer(bits=bits), filter=filt, seed=seed)
    stage.start(StreamInfo(rate=44100, channels=x.shape[1]))
    edges = [0, *sorted(splits), x.shape[0]]
    out = [stage.process(x[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    # (the stage hands on codes: the levels they stand for)
    codes = np.concatenate([*out, stage.flush()])
    return stage.quantizer.decode(codes), dict(stage.counters)


@CI
@given(
    x=SAMPLES,
    filt=FILTERS,
    bits=st.integers(2, 16),
    seed=st.integers(0, 2**32),
    cuts=st.lists(st.floats(0, 1), max_size=5),
)
def test_any_block_split_gives_bit_identical_output(x, filt, bits, seed, cuts):
    splits = [int(c * x.shape[0]) for c in cuts]
    whole, counters = _run(x, filt, bits, seed, [])
    parts, counters_split = _run(x, filt, bits, seed, splits)
    np.testing.assert_array_equal(parts, whole)
    assert counters_split == counters


@CI
@given(x=SAMPLES, filt=FILTERS, bits=st.integers(2, 16), seed=st.integers(0, 99))
def test_output_is_on_the_quantizer_grid_and_in_range(x, filt, bits, seed):
    y, _ = _run(x, filt, bits, seed, [])
    q = UniformQuantizer(bits=bits)
    assert np.all(np.isin(y, q.codebook))
    assert np.all(np.abs(y) <= 1)


@CI
@given(x=SAMPLES, seed=st.integers(0, 99))
def test_channels_are_processed_independently_of_each_other(x, seed):
    # Channel 0's output does not depend on what channel 1 carries.
    two = np.stack([x[:, 0], np.zeros(x.shape[0])], axis=1)
    a, _ = _run(two, FIRST_ORDER, 8, seed, [])
    b, _ = _run(np.stack([x[:, 0], -x[:, 0]], axis=1), FIRST_ORDER, 8, seed, [])
    np.testing.assert_array_equal(a[:, 0], b[:, 0])
