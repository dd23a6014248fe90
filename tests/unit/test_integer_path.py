"""The integer PCM path writes exactly what the float path writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import plan_outputs

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


def _run(tmp_path, src, config, name, monkeypatch, integer, lookup_from=0):
    """``integer=False``: the float path. ``lookup_from``: the shortest input
    (in samples) the look-up path takes; 0 makes every 16-bit source take it."""
    if not integer:
        monkeypatch.setattr(pipeline, "_integer_path", lambda *a: False)
    monkeypatch.setattr(pipeline, "LOOKUP_MIN_SAMPLES", lookup_from)
    out = str(tmp_path / f"{name}.wav")
    paths = plan_outputs(str(src), config, output=out, no_plot=True)
    pipeline.process_file(str(src), config, paths)
    monkeypatch.undo()
    report = json.loads((tmp_path / f"{name}.json").read_text())
    return (tmp_path / f"{name}.wav").read_bytes(), report


@pytest.mark.parametrize("lookup_from", [0, 10**9], ids=["lookup", "codes"])
@pytest.mark.parametrize("source_subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32"])
@pytest.mark.parametrize(("scheme", "bits"), CASES)
def test_integer_path_equals_float_path(
    tmp_path, monkeypatch, source_subtype, scheme, bits, lookup_from
):
    rng = np.random.default_rng(bits)
    # full scale, so overload at the top is exercised too
    data = np.clip(rng.standard_normal((3000, 2)) * 0.5, -1.0, 1.0 - 2**-31)
    src = tmp_path / "in.wav"
    sf.write(src, data, 8000, subtype=source_subtype)
    config = QuantizeConfig(bits=bits, scheme=scheme)
    fast_audio, fast = _run(
        tmp_path, src, config, "fast", monkeypatch, True, lookup_from
    )
    slow_audio, slow = _run(tmp_path, src, config, "slow", monkeypatch, False)
    assert fast_audio == slow_audio
    _assert_same_figures(fast["metrics"], slow["metrics"])
    for fast_channel, slow_channel in zip(
        fast["channels"], slow["channels"], strict=True
    ):
        _assert_same_figures(fast_channel, slow_channel)
    assert fast["stages"] == slow["stages"]


def _assert_same_figures(fast, slow):
    """Counts equal; sums equal up to rounding (16-bit sources are measured from
    value counts, a different order of the same additions)."""
    assert fast.keys() == slow.keys()
    for key, value in fast.items():
        if isinstance(value, float):
            assert value == pytest.approx(slow[key], rel=1e-12, abs=1e-15), key
        else:
            assert value == slow[key], key


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
        paths = plan_outputs(str(src), config, output=out, no_plot=True, no_report=True)
        pipeline.process_file(str(src), config, paths, force=True)
    # TPDF on a 16-bit source at 8 bits is active, so it takes the float path;
    # mu-law on int16 input has the table path.
    assert taken == [True, False, True]


@pytest.mark.parametrize(("scheme", "bits"), [("uniform", 8), ("g711-alaw", 8)])
def test_lookup_taps_equal_float_taps_with_plot_data(tmp_path, scheme, bits):
    """Value counts and on-demand floats give the float path's figures and plot."""
    from adcsim.io._writer import AudioWriter
    from adcsim.quantizers._registry import make_quantizer
    from adcsim.run._lookup import Pcm16Lookup
    from adcsim.run._taps import Taps

    rng = np.random.default_rng(3)
    frames = 3 * 8000 + 123
    loud = np.ones((frames, 2)) * 0.05
    loud[9000:17000] = 0.6  # the second second is the loudest
    pcm = np.clip(rng.standard_normal((frames, 2)) * loud * 32768, -32768, 32767)
    pcm = pcm.astype(np.int16)
    pcm[5, 0] = -32768  # overload and the ends of the table
    q = make_quantizer(scheme, bits=bits)
    writer = AudioWriter(
        str(tmp_path / "o.wav"), rate=8000, channels=2, subtype="PCM_16"
    )
    lookup = Pcm16Lookup.build(q, writer)
    writer.discard()
    assert lookup is not None
    kwargs = {"rate": 8000, "channels": 2, "frames": frames, "plot": True}
    by_value, by_float = Taps(q, **kwargs), Taps(q, **kwargs)
    for start in range(0, frames, 5000):
        block = pcm[start : start + 5000]
        by_value.update_pcm16(block, lookup)
        by_float.update(block / 32768.0, np.take(lookup.written, block.view(np.uint16)))
    fast, slow = by_value.figures(), by_float.figures()
    _assert_same_figures(fast[0], slow[0])
    for a, b in zip(fast[1], slow[1], strict=True):
        _assert_same_figures(a, b)
    assert fast[0]["levels_used"] > 10
    by_value.finish_plot()
    by_float.finish_plot()
    assert by_value.plot.best_start == by_float.plot.best_start == 8000
    np.testing.assert_array_equal(by_value.plot.best_out, by_float.plot.best_out)
    np.testing.assert_array_equal(by_value.plot.hist_counts, by_float.plot.hist_counts)
    np.testing.assert_allclose(by_value.plot.spectra, by_float.plot.spectra, rtol=1e-12)


def test_the_lookup_path_is_for_long_16_bit_sources(tmp_path, monkeypatch):
    built = []
    real = pipeline.Pcm16Lookup.build
    monkeypatch.setattr(
        pipeline.Pcm16Lookup,
        "build",
        lambda *a: built.append(1) or real(*a),
    )
    config = QuantizeConfig(bits=8)
    for frames in (pipeline.LOOKUP_MIN_SAMPLES // 2, 1000):
        src = tmp_path / f"in{frames}.wav"
        sf.write(src, np.zeros((frames, 2)), 8000, subtype="PCM_16")
        out = str(tmp_path / f"o{frames}.wav")
        paths = plan_outputs(str(src), config, output=out, no_plot=True)
        pipeline.process_file(str(src), config, paths)
    assert built == [1]  # the long file only
