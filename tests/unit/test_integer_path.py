"""Native integer blocks through the one chain write exactly what floats write.

The reader yields int16/int32 blocks for PCM; the quantize stage picks a
look-up table (int16), integer arithmetic (int32) or float code by the dtype.
Each is checked against independent formulas, and whole runs on native blocks
against the same runs with the reader forced to float64.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf

from adcsim.io._reader import AudioReader
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import plan_outputs
from adcsim.stages._chain import StreamInfo

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
    ("mulaw", 8),
    ("alaw", 6),
    ("lloydmax", 4),
]


def _run(tmp_path, src, config, name, monkeypatch, native):
    """``native=False``: the reader yields float64 blocks (the float code)."""
    if not native:
        monkeypatch.setattr(AudioReader, "dtype", property(lambda self: "float64"))
    out = str(tmp_path / f"{name}.wav")
    paths = plan_outputs(str(src), config, output=out, no_plot=True)
    pipeline.process_file(str(src), config, paths)
    monkeypatch.undo()
    report = json.loads((tmp_path / f"{name}.json").read_text())
    return (tmp_path / f"{name}.wav").read_bytes(), report


@pytest.mark.parametrize("source_subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32"])
@pytest.mark.parametrize(("scheme", "bits"), CASES)
def test_native_blocks_equal_float_blocks(
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


@pytest.mark.parametrize("subtype", ["PCM_24", "PCM_32", "ULAW", "ALAW", "FLOAT"])
def test_native_blocks_into_other_containers(tmp_path, monkeypatch, subtype):
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


def _round_half_even(value: Fraction) -> int:
    return round(value)  # Python rounds Fractions half to even


def _stage_codes(scheme, bits, block):
    stage = QuantizeStage(make_quantizer(scheme, bits=bits))
    stage.start(StreamInfo(rate=8000, channels=block.shape[1], dtype=str(block.dtype)))
    return stage.process(block), stage.counters["clipped_samples"]


@pytest.mark.parametrize("bits", [1, 2, 5, 8, 12, 16])
def test_int16_table_is_round_half_even_of_x_over_d(bits):
    # every int16 value: code = clip(round(x / 2**15 / D)), D = 2 / 2**N
    every = np.arange(-32768, 32768, dtype=np.int16).reshape(-1, 1)
    codes, clipped = _stage_codes("uniform", bits, every)
    half = 1 << (bits - 1)
    want, over = [], 0
    for v in range(-32768, 32768):
        k = _round_half_even(Fraction(v, 32768) / Fraction(2, 1 << bits))
        over += k > half - 1 or k < -half
        want.append(min(max(k, -half), half - 1))
    assert codes.ravel().tolist() == want
    assert clipped == over


@pytest.mark.parametrize("bits", [1, 4, 8, 16, 24])
def test_int32_arithmetic_is_round_half_even_of_x_over_d(bits):
    # ties, their neighbours and both ends, for every 2**(32-N) cell edge
    shift = 32 - bits
    edges = [k << shift for k in (-(1 << (bits - 1)), -3, -1, 0, 1, 2, 5)]
    values = sorted(
        {
            min(max(e + d, -(2**31)), 2**31 - 1)
            for e in edges
            for d in (-(1 << (shift - 1)) - 1, -(1 << (shift - 1)), -1, 0, 1)
            + ((1 << (shift - 1)), (1 << (shift - 1)) + 1)
        }
        | {2**31 - 1, -(2**31)}
    )
    block = np.array(values, dtype=np.int32).reshape(-1, 1)
    codes, _ = _stage_codes("uniform", bits, block)
    half = 1 << (bits - 1)
    want = [
        min(
            max(_round_half_even(Fraction(v, 2**31) / Fraction(2, 1 << bits)), -half),
            half - 1,
        )
        for v in values
    ]
    assert codes.ravel().tolist() == want


@pytest.mark.parametrize("dtype", ["int16", "int32", "float32", "float64"])
@pytest.mark.parametrize(
    ("scheme", "bits"),
    [
        ("uniform", 7),
        ("midrise", 4),
        ("floor", 6),
        ("mulaw", 8),
        ("g711-mulaw", 8),
        ("g711-alaw", 8),
    ],
)
def test_every_dtype_gives_the_float_codes(scheme, bits, dtype):
    rng = np.random.default_rng(3)
    x = np.clip(rng.standard_normal((5000, 2)) * 0.6, -1, 1 - 2**-15)
    pcm16 = np.round(x * 32768).astype(np.int16)  # on the int16 grid: exact in all
    full = {"int16": 1, "int32": 1 << 16}[dtype] if dtype.startswith("int") else None
    block = pcm16.astype(dtype) * full if full else (pcm16 / 32768).astype(dtype)
    codes, clipped = _stage_codes(scheme, bits, np.asarray(block, dtype=dtype))
    q = make_quantizer(scheme, bits=bits)
    want = np.stack([q.encode(pcm16[:, c] / 32768.0) for c in range(2)], axis=1)
    np.testing.assert_array_equal(codes, want)
    assert clipped == sum(q.encode_counting(pcm16[:, c] / 32768.0)[1] for c in range(2))


def test_g711_int32_overload_is_judged_before_clipping_to_16_bits():
    # +1 - 2**-16 rounds to 32768: beyond A-law's last decision value (4096 x 8)
    block = np.array([[2**31 - 1], [(2**31 - 1) - (1 << 16)]], dtype=np.int32)
    _, clipped = _stage_codes("g711-alaw", 8, block)
    assert clipped == 1


@pytest.mark.parametrize(
    ("scheme", "bits", "subtype"),
    [
        ("uniform", 8, None),
        ("g711-mulaw", 8, "ULAW"),
        ("g711-alaw", 8, None),
        ("mulaw", 6, "PCM_16"),
        ("uniform", 12, "FLOAT"),
    ],
)
def test_value_counts_give_the_figures_of_the_samples(
    tmp_path, monkeypatch, scheme, bits, subtype
):
    # a memoryless run on int16 is measured from value counts: same file, same
    # counts, sums equal up to rounding (another order of the same additions)
    rng = np.random.default_rng(7)
    src = tmp_path / "in.wav"
    sf.write(src, rng.uniform(-1, 1, (5000, 2)) ** 3, 8000, subtype="PCM_16")
    config = QuantizeConfig(bits=bits, scheme=scheme, subtype=subtype)
    reports = {}
    for counting, threshold in ((True, 0), (False, 10**12)):
        monkeypatch.setattr(pipeline, "COUNT_MIN_SAMPLES", threshold)
        name = f"c{counting}"
        out = str(tmp_path / f"{name}.wav")
        paths = plan_outputs(str(src), config, output=out)
        pipeline.process_file(str(src), config, paths)
        reports[counting] = (
            (tmp_path / f"{name}.wav").read_bytes(),
            json.loads((tmp_path / f"{name}.json").read_text()),
        )
    (audio, counted), (float_audio, floats) = reports[True], reports[False]
    assert audio == float_audio
    for got, want in zip(
        [counted["metrics"], *counted["channels"]],
        [floats["metrics"], *floats["channels"]],
        strict=True,
    ):
        assert got.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-15), key
            else:
                assert got[key] == value, key
    assert counted["metrics"]["levels_used"] > 10
