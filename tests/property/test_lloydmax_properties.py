"""Property tests for the Lloyd-Max design and LloydMaxQuantizer.

The same properties as for the other schemes (outputs in the codebook,
idempotence, monotonicity, at most 2**N levels, block-size invariance), plus
the design's own: well-formed codebooks, an MSE that is at most the variance,
exact streaming (any split of the training data gives the same codebook) and an
exact JSON round trip.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adcsim.quantizers._codebook import Codebook
from adcsim.quantizers._lloydmax import LloydMaxTrainer, design_lloyd_max
from adcsim.quantizers._lloydmax_scheme import LloydMaxQuantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.stages._chain import Chain, StreamInfo

# Deterministic regardless of the hypothesis profile in use.
SETTINGS = settings(derandomize=True, deadline=None, max_examples=60)

# Training data: full scale and a little beyond, with repeated values likely
# (few distinct values exercise the degenerate designs).
samples = st.one_of(
    st.floats(-1.25, 1.25, allow_nan=False),
    st.sampled_from([0.0, -0.5, 0.25, 1.0, -1.0]),
)
training = hnp.arrays(np.float64, st.integers(1, 120), elements=samples)
probes = hnp.arrays(
    np.float64, st.integers(1, 60), elements=st.floats(-2, 2, allow_nan=False)
)
depths = st.integers(1, 6)


@SETTINGS
@given(x=training, bits=depths, probe=probes)
def test_outputs_are_levels_and_requantizing_changes_nothing(x, bits, probe) -> None:
    q = LloydMaxQuantizer(bits=bits, codebook=design_lloyd_max(x, bits=bits))
    y = q.quantize(probe)
    assert np.isin(y, q.codebook).all()
    np.testing.assert_array_equal(q.quantize(y), y)


@SETTINGS
@given(x=training, bits=depths, probe=probes)
def test_quantizer_is_monotone_with_at_most_2_to_the_n_levels(x, bits, probe) -> None:
    q = LloydMaxQuantizer(bits=bits, codebook=design_lloyd_max(x, bits=bits))
    ordered = np.sort(probe)
    codes = q.encode(ordered)
    assert np.all(np.diff(codes) >= 0)
    assert np.all(np.diff(q.decode(codes)) >= 0)
    assert codes.min() >= -(1 << (bits - 1))
    assert codes.max() <= (1 << (bits - 1)) - 1
    assert np.unique(q.quantize(probe)).size <= 1 << bits


@SETTINGS
@given(x=training, bits=depths)
def test_designs_are_well_formed_with_mse_at_most_the_variance(x, bits) -> None:
    cb = design_lloyd_max(x, bits=bits)
    assert cb.levels.shape == (1 << bits,)
    assert np.all(np.diff(cb.levels) > 0)
    np.testing.assert_array_equal(cb.thresholds, (cb.levels[:-1] + cb.levels[1:]) / 2)
    assert cb.converged
    # The design sees samples beyond full scale as +-1, rounded to 2**-30.
    clipped = np.clip(x, -1.0, 1.0)
    cell = np.searchsorted(cb.thresholds, clipped, side="right")
    mse = float(np.mean((clipped - cb.levels[cell]) ** 2))
    # Sample-by-sample nearest-level cells can only do better than the
    # design's histogram cells (up to the 2**-30 rounding of the samples).
    assert mse <= cb.design_mse + 1e-8
    # Levels at their cells' means: at most the variance (total variance law).
    assert cb.design_mse <= float(np.var(clipped)) + 1e-8


@SETTINGS
@given(
    x=training,
    bits=depths,
    cuts=st.lists(st.integers(0, 120), max_size=6),
)
def test_any_split_of_the_training_data_gives_the_same_codebook(x, bits, cuts) -> None:
    trainer = LloydMaxTrainer()
    for block in np.split(x, sorted(c for c in cuts if c <= x.size)):
        trainer.update(block)
    assert trainer.design(bits) == design_lloyd_max(x, bits=bits)


@SETTINGS
@given(x=training, bits=depths, probe=probes, cuts=st.lists(st.integers(0, 60)))
def test_chain_output_does_not_depend_on_the_block_split(x, bits, probe, cuts) -> None:
    cb = design_lloyd_max(x, bits=bits)
    chain = Chain([QuantizeStage(LloydMaxQuantizer(bits=bits, codebook=cb))])
    chain.start(StreamInfo(rate=8000, channels=1))
    column = probe.reshape(-1, 1)
    whole = np.concatenate(list(chain.run([column])))
    chain.reset()
    split = np.split(column, sorted(c for c in cuts if c <= column.shape[0]))
    parts = np.concatenate(list(chain.run(split)))
    np.testing.assert_array_equal(parts, whole)


@SETTINGS
@given(x=training, bits=depths)
def test_codebooks_survive_a_json_round_trip_exactly(x, bits) -> None:
    cb = design_lloyd_max(x, bits=bits)
    assert Codebook.from_dict(json.loads(json.dumps(cb.to_dict()))) == cb
