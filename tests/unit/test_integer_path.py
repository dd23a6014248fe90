"""The integer PCM path writes exactly what the float path writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from adcsim import pipeline
from adcsim.config import QuantizeConfig

CASES = [
    ("uniform", 1),
    ("uniform", 8),
    ("uniform", 12),
    ("uniform", 16),
    ("uniform", 20),
    ("midrise", 3),
    ("midrise", 16),
    ("floor", 5),
    ("floor", 24),
    ("g711-mulaw", 8),
    ("g711-alaw", 8),
    # int16 sources only: table path (other sources fall back to floats)
    ("mulaw", 8),
    ("alaw", 6),
    ("lloydmax", 4),
]


def _run(tmp_path, src, config, name, monkeypatch, integer):
    if not integer:
        monkeypatch.setattr(pipeline, "_integer_path", lambda *a: False)
    out = str(tmp_path / f"{name}.wav")
    paths = pipeline.plan_outputs(str(src), config, output=out, no_plot=True)
    pipeline.process_file(str(src), config, paths)
    monkeypatch.undo()
    report = json.loads((tmp_path / f"{name}.json").read_text())
    return (tmp_path / f"{name}.wav").read_bytes(), report


@pytest.mark.parametrize("source_subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32"])
@pytest.mark.parametrize(("scheme", "bits"), CASES)
def test_integer_path_equals_float_path(
    tmp_path, monkeypatch, source_subtype, scheme, bits
):
    rng = np.random.default_rng(bits)
    # full scale, so overload at the top is exercised too
    data = np.clip(rng.standard_normal((3000, 2)) * 0.5, -1.0, 1.0 - 2**-31)
    src = tmp_path / "in.wav"
    sf.write(src, data, 8000, subtype=source_subtype)
    config = QuantizeConfig(bits=bits, scheme=scheme)
    fast_audio, fast = _run(tmp_path, src, config, "fast", monkeypatch, True)
    slow_audio, slow = _run(tmp_path, src, config, "slow", monkeypatch, False)
    assert fast_audio == slow_audio
    assert fast["metrics"] == slow["metrics"]
    assert fast["channels"] == slow["channels"]
    assert fast["stages"] == slow["stages"]


@pytest.mark.parametrize("subtype", ["PCM_24", "PCM_32", "ULAW", "ALAW"])
def test_integer_path_into_other_containers(tmp_path, monkeypatch, subtype):
    rng = np.random.default_rng(1)
    src = tmp_path / "in.wav"
    sf.write(src, rng.uniform(-1, 1, (2000, 1)), 8000, subtype="PCM_16")
    config = QuantizeConfig(
        bits=8, scheme="g711-alaw" if subtype == "ALAW" else "uniform", subtype=subtype
    )
    assert (
        _run(tmp_path, src, config, "a", monkeypatch, True)[0]
        == _run(tmp_path, src, config, "b", monkeypatch, False)[0]
    )


def test_the_integer_path_is_taken_for_plain_pcm_requantization(tmp_path, monkeypatch):
    taken = []
    real = pipeline._integer_path
    monkeypatch.setattr(
        pipeline, "_integer_path", lambda *a: taken.append(real(*a)) or taken[-1]
    )
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros((10, 1)), 8000, subtype="PCM_16")
    for config in (
        QuantizeConfig(bits=8),
        QuantizeConfig(bits=8, dither="tpdf"),
        QuantizeConfig(bits=8, scheme="mulaw", params={"mu": 255.0}),
    ):
        out = str(tmp_path / "o.wav")
        paths = pipeline.plan_outputs(
            str(src), config, output=out, no_plot=True, no_report=True
        )
        pipeline.process_file(str(src), config, paths, force=True)
    # TPDF on a 16-bit source at 8 bits is active, so it takes the float path;
    # mu-law on int16 input has the table path.
    assert taken == [True, False, True]
