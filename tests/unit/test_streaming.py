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
        # the sums are taken over fixed chunks of the stream: equal, not close
        assert metrics == first_metrics
        assert channels == first_channels


@pytest.mark.parametrize(
    "config",
    [
        QuantizeConfig(bits=10, rate=16000, dither="tpdf", seed=5),
        QuantizeConfig(bits=8, scheme="mulaw", params={"mu": 255.0}, subtype="FLOAT"),
        QuantizeConfig(bits=3, scheme="lloydmax"),
        QuantizeConfig(bits=8),
        QuantizeConfig(bits=8, noise_shaping="first-order", dither="tpdf", seed=2),
        QuantizeConfig(bits=8, noise_shaping="f-weighted", dither="tpdf", seed=2),
    ],
    ids=[
        "resampled",
        "float-output",
        "lloydmax",
        "uniform-int16",
        "first-order",
        "weighted",
    ],
)
def test_the_json_report_does_not_depend_on_the_blocksize(tmp_path, config):
    # issue 19: longer than two sum chunks, so blocks straddle chunk edges
    rng = np.random.default_rng(19)
    src = tmp_path / "in.wav"
    sf.write(src, rng.uniform(-0.9, 0.9, (150_001, 2)), 44100, subtype="PCM_16")
    outputs = {}
    for blocksize in (1000, 4096, 65536):
        cfg = dataclasses.replace(config, blocksize=blocksize)
        work = tmp_path / f"b{blocksize}"
        work.mkdir()
        # the outputs are named alike: the reports hold their paths
        out = str(work / "out.wav")
        paths = plan_outputs(str(src), cfg, output=out, no_plot=True)
        process_file(str(src), cfg, paths)
        report = (work / "out.json").read_text().replace(str(work), "DIR")
        outputs[blocksize] = (report, (work / "out.wav").read_bytes())
    assert outputs[1000] == outputs[4096] == outputs[65536]
