"""Streaming output equals one-shot output bit for bit, whatever the block size."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf

from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import plan_outputs
from adcsim.run._process import process_file


@pytest.mark.parametrize(
    "config",
    [
        QuantizeConfig(bits=8),
        QuantizeConfig(
            bits=6, scheme="mulaw", params={"mu": 255.0}, dither="tpdf", seed=3
        ),
        QuantizeConfig(bits=10, rate=16000, dither="rpdf", seed=1),
    ],
    ids=["uniform", "mulaw-tpdf", "resample-rpdf"],
)
def test_any_blocksize_gives_the_same_audio_and_report(tmp_path, config):
    rng = np.random.default_rng(11)
    src = tmp_path / "in.wav"
    sf.write(src, rng.uniform(-0.9, 0.9, (6000, 2)), 44100, subtype="FLOAT")
    outputs = {}
    for blocksize in (65536, 4096, 333, 1):
        if blocksize == 1 and config.rate:
            continue  # per-sample resampling is correct but needlessly slow here
        cfg = dataclasses.replace(config, blocksize=blocksize)
        out = str(tmp_path / f"out{blocksize}.wav")
        paths = plan_outputs(str(src), cfg, output=out, no_plot=True)
        process_file(str(src), cfg, paths)
        report = json.loads((tmp_path / f"out{blocksize}.json").read_text())
        outputs[blocksize] = (
            (tmp_path / f"out{blocksize}.wav").read_bytes(),
            report["metrics"],
            report["channels"],
        )
    first_audio, first_metrics, first_channels = outputs.pop(65536)
    for audio, metrics, channels in outputs.values():
        assert audio == first_audio  # bit for bit
        # Running sums see the blocks in another grouping: last-ulp differences.
        for got, want in zip([metrics, *channels], [first_metrics, *first_channels]):
            assert got.keys() == want.keys()
            for key, value in want.items():
                if isinstance(value, float):
                    assert got[key] == pytest.approx(value, rel=1e-9), key
                else:
                    assert got[key] == value, key
