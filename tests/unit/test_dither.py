"""The dither stage's noise, checked against numpy's generators used directly.

The reference draws each channel's values straight from a PCG64 generator
spawned from the seed, as ``rng.random((frames, 2))`` pairs for TPDF (the
documented form of the noise), so the stage's way of drawing them (flat
buffers, channels on threads, integer input) cannot change them unseen.
"""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.stages._chain import Chain, StreamInfo
from adcsim.stages._dither import PARALLEL_FRAMES, DitherStage


def _reference_noise(kind, seed, channels, sizes, step):
    children = np.random.SeedSequence(seed).spawn(channels)
    gens = [np.random.Generator(np.random.PCG64(c)) for c in children]
    blocks = []
    for frames in sizes:
        noise = np.empty((frames, channels))
        for c, rng in enumerate(gens):
            if kind == "tpdf":
                pair = rng.random((frames, 2))
                noise[:, c] = (pair[:, 0] - pair[:, 1]) * step
            else:
                noise[:, c] = (rng.random(frames) - 0.5) * step
        blocks.append(noise)
    return blocks


@pytest.mark.parametrize("kind", ["tpdf", "rpdf"])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_noise_equals_the_generators_draws_in_any_block_sizes(kind, channels):
    # block sizes on both sides of the threaded draw's threshold
    sizes = [PARALLEL_FRAMES * 2, 5, PARALLEL_FRAMES, 1000, PARALLEL_FRAMES + 3]
    rng = np.random.default_rng(7)
    blocks = [rng.uniform(-1, 1, (n, channels)) for n in sizes]
    stage = DitherStage(kind=kind, bits=8, seed=11)
    stage.start(StreamInfo(rate=8000, channels=channels))
    want = _reference_noise(kind, 11, channels, sizes, 2.0 / 256)
    for block, noise in zip(blocks, want):
        got = stage.process(block)
        np.testing.assert_array_equal(got, block + noise)
    stage.reset()
    np.testing.assert_array_equal(stage.process(blocks[0]), blocks[0] + want[0])


@pytest.mark.parametrize("dtype", ["int16", "int32"])
def test_integer_pcm_is_dithered_as_its_float_samples(dtype):
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    pcm = rng.integers(info.min, info.max, (PARALLEL_FRAMES + 9, 2), endpoint=True)
    pcm = pcm.astype(dtype)
    floats = pcm / float(-info.min)  # x / 2**15, x / 2**31
    outs = []
    for block, block_info in (
        (pcm, StreamInfo(rate=8000, channels=2, bits=None, dtype=dtype)),
        (floats, StreamInfo(rate=8000, channels=2)),
    ):
        chain = Chain([DitherStage(kind="tpdf", bits=8, seed=5)])
        assert chain.start(block_info).dtype == "float64"
        (out,) = chain.run([block])
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])
    want = _reference_noise("tpdf", 5, 2, [pcm.shape[0]], 2.0 / 256)[0]
    np.testing.assert_array_equal(outs[0], floats + want)
