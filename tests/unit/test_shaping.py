"""Tests of the noise-shaping stage: dither theory, shaped error, stability."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import freqz
from weighting_meters import AWeightedPowerMeter, BandPowerMeter

import adcsim.stages._shaping as shaping
from adcsim.errors import AdcsimError
from adcsim.quantizers._companders import MulawQuantizer
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._stage import quantize
from adcsim.quantizers._uniform import (
    FloorQuantizer,
    MidriseQuantizer,
    UniformQuantizer,
)
from adcsim.stages._chain import StreamInfo
from adcsim.stages._dither import channel_generators, dither, make_noise
from adcsim.stages._shaping import NoiseShapingStage, noise_shape
from adcsim.stages._shaping_filters import (
    FIRST_ORDER,
    NONE,
    design_weighted,
    get_filter,
)


def _shape(x, filt, *, bits=16, rate=44100, kind="tpdf", seed=0):
    stage = NoiseShapingStage(
        UniformQuantizer(bits=bits), filter=filt, dither=kind, seed=seed
    )
    stage.start(StreamInfo(rate=rate, channels=x.shape[1]))
    # (the stage hands on codes; the tests compare the levels they stand for)
    return stage.quantizer.decode(stage.process(x)), stage


# --- the reference: the stage's Python loop before the compiled kernel --------
#
# REFERENCE IMPLEMENTATION, used only by these tests. A transcription of
# NoiseShapingStage._shape_fast as it was before adcsim.kernels (commit b7f4426),
# one channel at a time, with the dither drawn as the stage draws it. One change:
# it summed the taps with sum(map(mul, taps, history)), which Python 3.11 adds
# one float at a time but Python >= 3.12 adds with compensation (gh-100425);
# the explicit loop below is the 3.11 sum, which the golden files were made with.

_REFERENCE_RULES = {"uniform": round, "midrise": math.floor, "floor": math.floor}


def _reference(x, filt, *, scheme, bits, kind, seed, source_bits=None):
    q = make_quantizer(scheme, bits=bits)
    step = float(q.step)
    offset = float(q.decode(np.array([0]))[0]) / step
    lowest, highest = int(q.encode([-np.inf])[0]), int(q.encode([np.inf])[0])
    if source_bits is not None and source_bits <= bits:
        kind = "none"
    rule, taps = _REFERENCE_RULES[scheme], filt.coefficients
    limit = 2.0 * step
    out = np.empty_like(x)
    clipped = limited = 0
    gens = channel_generators(seed, x.shape[1])
    for c, gen in enumerate(gens):
        noise = make_noise(kind, gen, x.shape[0], step)
        history = [0.0] * len(taps)  # history[0] is e[n-1]
        for n, (xn, dn) in enumerate(zip(x[:, c].tolist(), noise.tolist())):
            acc = 0
            for t, h in zip(taps, history):
                acc = acc + t * h
            v = xn - acc
            code = rule((v + dn) / step)
            if code > highest:
                code = highest
                clipped += 1
            elif code < lowest:
                code = lowest
                clipped += 1
            y = (code + offset) * step
            e = y - v
            if e > limit:
                e = limit
                limited += 1
            elif e < -limit:
                e = -limit
                limited += 1
            history = [e, *history[:-1]]
            out[n, c] = y
    return out, {"clipped_samples": clipped, "feedback_limited": limited}


def _staged(x, filt, *, scheme, bits, kind, seed, cuts=(), source_bits=None):
    stage = NoiseShapingStage(
        make_quantizer(scheme, bits=bits), filter=filt, dither=kind, seed=seed
    )
    rate = filt.rate or 44100
    stage.start(StreamInfo(rate=rate, channels=x.shape[1], bits=source_bits))
    edges = [0, *sorted(cuts), x.shape[0]]
    parts = [stage.process(x[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    codes = np.concatenate([*parts, stage.flush()])
    return stage.quantizer.decode(codes), dict(stage.counters)


def _bits_of(y):
    # Bit patterns, so that even the sign of a zero must match.
    return np.ascontiguousarray(y, dtype=np.float64).view(np.uint64)


def _signal(kind, frames, channels, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    x = np.sin(2 * np.pi * 0.013 * t + np.arange(channels))
    x = x + 0.1 * rng.standard_normal((frames, channels))
    # normal: in range; overload: clips and limits the feedback; tiny: a few
    # steps at 8 bits, below one at 16; exact: on the 12-bit grid and its
    # half-steps (ties of the rounding rule).
    if kind == "exact":
        return np.round(x * 4096) / 8192
    return {"normal": 0.5, "overload": 1.4, "tiny": 3e-4}[kind] * x


REFERENCE_FILTERS = [
    ("first-order", None),
    ("lipshitz", 44100),
    ("f-weighted", 44100),
    ("modified-e-weighted", 44100),
    ("improved-e-weighted", 44100),
    ("shibata", 44100),
    ("shibata", 48000),
    ("low-shibata", 44100),
    ("high-shibata", 44100),
    ("weighted", 8000),
    ("weighted", 16000),
    ("weighted", 44100),
]


@pytest.mark.parametrize(
    ("name", "rate"), REFERENCE_FILTERS, ids=[f"{n}-{r}" for n, r in REFERENCE_FILTERS]
)
@pytest.mark.parametrize("bits", [8, 12, 16])
def test_the_stage_equals_the_reference_loop_bit_for_bit(name, rate, bits):
    filt = get_filter(name, rate)
    cases = [
        (scheme, kind, channels, signal)
        for scheme in ("uniform", "midrise", "floor")
        for kind in ("none", "rpdf", "tpdf")
        for channels in (1, 2)
        for signal in ("normal", "overload", "tiny", "exact")
        if scheme == "uniform" or (channels == 2 and signal == "overload")
    ]
    limited_somewhere = False
    for scheme, kind, channels, signal in cases:
        x = _signal(signal, 1200, channels, seed=bits + channels)
        args = {"scheme": scheme, "bits": bits, "kind": kind, "seed": 17}
        want, want_counters = _reference(x, filt, **args)
        got, counters = _staged(x, filt, cuts=(1, 2, 500, 501, 777), **args)
        case = (scheme, kind, channels, signal)
        np.testing.assert_array_equal(_bits_of(got), _bits_of(want), err_msg=str(case))
        assert counters == want_counters, case
        limited_somewhere |= counters["feedback_limited"] > 0
    assert limited_somewhere  # the overload cases do reach the limit


@settings(derandomize=True, deadline=None, max_examples=60)
@given(
    x=arrays(
        np.float64,
        st.tuples(st.integers(1, 400), st.integers(1, 2)),
        elements=st.floats(-1.6, 1.6, allow_nan=False),
    ),
    which=st.sampled_from(REFERENCE_FILTERS),
    scheme=st.sampled_from(["uniform", "midrise", "floor"]),
    bits=st.integers(1, 24),
    kind=st.sampled_from(["none", "rpdf", "tpdf"]),
    seed=st.integers(0, 2**32),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_any_input_and_block_split_equal_the_reference(
    x, which, scheme, bits, kind, seed, cuts
):
    filt = get_filter(*which)
    args = {"scheme": scheme, "bits": bits, "kind": kind, "seed": seed}
    want, want_counters = _reference(x, filt, **args)
    got, counters = _staged(x, filt, cuts=[min(c, len(x)) for c in cuts], **args)
    np.testing.assert_array_equal(_bits_of(got), _bits_of(want))
    assert counters == want_counters


def test_a_pcm_source_on_the_grid_equals_the_reference_without_dither():
    filt = get_filter("shibata", 44100)
    x = np.round(_signal("normal", 800, 2, seed=3) * 128) / 128
    args = {"scheme": "uniform", "bits": 16, "kind": "tpdf", "seed": 4}
    want, _ = _reference(x, filt, source_bits=8, **args)
    got, _ = _staged(x, filt, source_bits=8, **args)
    np.testing.assert_array_equal(_bits_of(got), _bits_of(want))


@pytest.mark.parametrize("cls", [UniformQuantizer, MidriseQuantizer, FloorQuantizer])
def test_the_kernels_rounding_and_clamp_are_the_quantizers_own(cls):
    # With one tap of 0 the loop feeds back nothing: its output must be the
    # quantizer's own vectorized encoder and decoder, ties and overload included.
    q = cls(bits=6)
    step = q.step
    k = np.arange(-40, 40)
    x = np.concatenate([k * step, (k + 0.5) * step, (k + 0.25) * step])
    x = np.concatenate([x, [-1e9, -1.0, 1.0, 1e9, 0.0, -0.0]])[:, None]
    stage = NoiseShapingStage(
        q, filter=shaping.ShapingFilter("zero", None, (0.0,), "test"), dither="none"
    )
    stage.start(StreamInfo(rate=8000, channels=1))
    got = stage.process(x)
    codes, clipped = q.encode_counting(x)
    np.testing.assert_array_equal(got, codes)
    assert stage.counters["clipped_samples"] == clipped > 0


# --- plain TPDF dither (DitherStage + a uniform quantizer, no shaping) ---


@pytest.mark.parametrize("bits", [3, 8, 16])
def test_tpdf_error_has_zero_mean_and_power_d2_over_4(bits):
    step = 2.0 / 2**bits
    x = np.linspace(-0.5, 0.5, 200_000)
    err = quantize(dither(x, bits=bits, kind="tpdf", seed=1), bits=bits) - x
    assert abs(err.mean()) < 0.01 * step
    assert np.mean(err**2) == pytest.approx(step**2 / 4, rel=0.03)


@pytest.mark.parametrize("bits", [4, 12])
def test_tpdf_error_power_does_not_depend_on_the_signal_level(bits):
    step = 2.0 / 2**bits
    # A slow ramp across 3 steps: each segment sits at a different offset
    # within a step. Without dither the error power would follow the offset.
    x = np.linspace(0, 3 * step, 400_000)
    for kind, varies in [("tpdf", False), ("none", True)]:
        err = quantize(dither(x, bits=bits, kind=kind, seed=2), bits=bits) - x
        seg = np.mean(err.reshape(40, -1) ** 2, axis=1) / (step**2 / 4)
        if varies:
            assert seg.max() / max(seg.min(), 1e-12) > 10  # the test can fail
        else:
            assert np.all(np.abs(seg - 1) < 0.1)


def test_tpdf_error_power_is_the_same_for_sines_at_several_levels():
    bits, step = 8, 2.0 / 256
    t = np.arange(100_000)
    for amplitude in [0.3 * step, 2.5 * step, 0.5]:
        x = amplitude * np.sin(2 * np.pi * t / 997)
        err = quantize(dither(x, bits=bits, kind="tpdf", seed=3), bits=bits) - x
        assert np.mean(err**2) == pytest.approx(step**2 / 4, rel=0.05)


def test_a_sub_lsb_sine_vanishes_without_dither_and_is_recovered_with_tpdf():
    bits, step = 10, 2.0 / 1024
    n = 1 << 18
    carrier = np.sin(2 * np.pi * np.arange(n) * 1001 / n)
    x = 0.3 * step * carrier
    assert np.all(quantize(x, bits=bits) == 0)
    y = quantize(dither(x, bits=bits, kind="tpdf", seed=4), bits=bits)
    # Amplitude by correlation with the carrier; its noise std is ~0.003 LSB.
    amplitude = 2 * np.dot(y, carrier) / n
    assert amplitude / step == pytest.approx(0.3, abs=0.02)


# --- shaping: theory ----------------------------------------------------------


def test_first_order_lowers_the_0_4_khz_error_by_over_6_db():
    rate, bits = 44100, 12
    t = np.arange(4 * rate) / rate
    x = (0.4 * np.sin(2 * np.pi * 440 * t))[:, None]
    powers = []
    for filt in (NONE, FIRST_ORDER):
        y, _ = _shape(x, filt, bits=bits, rate=rate)
        meter = BandPowerMeter(rate, 1, low_hz=0, high_hz=4000)
        meter.update(y - x)
        powers.append(meter.power())
    gain_db = 10 * np.log10(powers[1] / powers[0])
    assert gain_db < -6
    # Theory: mean of |1 - e^-jw|^2 = 2 - 2 sin(w0)/w0 over [0, w0], w0 = 2 pi 4k/fs.
    w0 = 2 * np.pi * 4000 / rate
    assert gain_db == pytest.approx(10 * np.log10(2 - 2 * np.sin(w0) / w0), abs=0.3)


@pytest.mark.parametrize("name", ["f-weighted", "lipshitz", "shibata"])
def test_shaped_error_power_is_d2_over_4_times_ntf_energy(name):
    rate, bits = 44100, 16
    step = 2.0 / 2**bits
    filt = get_filter(name, rate)
    t = np.arange(2 * rate) / rate
    x = (0.5 * np.sin(2 * np.pi * 1000 * t))[:, None]
    y, stage = _shape(x, filt, bits=bits, rate=rate)
    expected = step**2 / 4 * (1 + sum(c * c for c in filt.coefficients))
    assert np.mean((y - x) ** 2) == pytest.approx(expected, rel=0.05)
    # In-band 0-4 kHz power against the NTF integrated over 0-4 kHz.
    meter = BandPowerMeter(rate, 1)
    meter.update(y - x)
    fb = np.linspace(0, 4000, 4001)
    _, ntf = freqz([1.0, *(-c for c in filt.coefficients)], worN=fb, fs=rate)
    in_band = step**2 / 4 * np.mean(np.abs(ntf) ** 2)
    assert 10 * np.log10(meter.power() / (in_band * 4000 / (rate / 2))) == (
        pytest.approx(0, abs=0.5)
    )
    assert stage.counters == {"clipped_samples": 0, "feedback_limited": 0}


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 32000, 48000, 96000])
def test_designed_filter_is_minimum_phase_and_lowers_the_a_weighted_error(rate):
    filt = design_weighted(rate)
    assert filt.rate == rate and filt.name == "weighted"
    assert np.abs(np.roots([1.0, *(-c for c in filt.coefficients)])).max() < 1
    t = np.arange(rate // 2) / rate
    x = (0.5 * np.sin(2 * np.pi * 1000 * t))[:, None]
    powers = []
    for f in (NONE, filt):
        y, _ = _shape(x, f, bits=16, rate=rate)
        meter = AWeightedPowerMeter(rate, 1)
        meter.update(y - x)
        powers.append(meter.power())
    assert powers[1] < powers[0] * 10 ** (-0.2 / 10)


# --- names and rates ----------------------------------------------------------


def test_stage_start_refuses_a_stream_at_another_rate():
    stage = NoiseShapingStage(
        UniformQuantizer(bits=16), filter=get_filter("lipshitz", 44100)
    )
    with pytest.raises(AdcsimError, match="not 48000 Hz"):
        stage.start(StreamInfo(rate=48000, channels=1))


def test_non_uniform_scheme_is_refused():
    with pytest.raises(AdcsimError, match="scheme='mulaw'"):
        NoiseShapingStage(MulawQuantizer(bits=8), filter=FIRST_ORDER)


# --- stage behaviour ----------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 16])
def test_full_scale_square_and_clipped_input_stay_bounded_and_recover(bits):
    rate, step = 44100, 2.0 / 2**bits
    filt = get_filter("improved-e-weighted", rate)  # 9 taps, NTF peak +32 dB
    n = rate // 4
    t = np.arange(n) / rate
    square = np.where(np.sin(2 * np.pi * 100 * t) >= 0, 1.0, -1.0)
    clipped = 1.5 * np.sin(2 * np.pi * 300 * t)
    quiet = 0.25 * np.sin(2 * np.pi * 1000 * t)
    x = np.concatenate([square, clipped, quiet])[:, None]
    y, stage = _shape(x, filt, bits=bits, rate=rate)
    assert np.all(np.abs(y) <= 1)
    assert stage.counters["feedback_limited"] > 0
    assert stage.counters["clipped_samples"] > 0
    # After the overload the loop recovers: the quiet part's error power is the
    # theoretical D^2/4 (1 + sum h^2) (skipping 20 ms of settling).
    tail = (y - x)[2 * n + rate // 50 :]
    expected = step**2 / 4 * (1 + sum(c * c for c in filt.coefficients))
    assert np.mean(tail**2) == pytest.approx(expected, rel=0.1)


def test_without_the_limit_the_feedback_runs_away(monkeypatch):
    # The test above can fail: with the limit removed the same input does not
    # recover (the fed-back error grows without bound while clipping).
    monkeypatch.setattr(shaping, "ERROR_LIMIT_STEPS", float("inf"))
    rate = 44100
    x = np.concatenate([np.full(2000, 1.5), 0.25 * np.ones(8000)])[:, None]
    y, _ = _shape(x, get_filter("improved-e-weighted", rate), bits=8)
    step = 2.0 / 256
    with np.errstate(all="ignore"):
        err = np.mean((y - x)[4000:] ** 2)
    # The error grows to inf and NaN, or at least far beyond the limited loop's.
    assert not np.isfinite(err) or err > 100 * step**2


def test_first_order_shaping_keeps_the_long_run_average():
    # NTF(1) = 0: the shaped error has no DC, so a constant is reproduced on
    # average far below one step.
    x = np.full((50_000, 1), 0.3 / 256)
    y, _ = _shape(x, FIRST_ORDER, bits=8, kind="none")
    assert abs(np.mean(y) - x[0, 0]) < 1e-3 / 256


def test_no_taps_equals_plain_dither_then_quantize():
    rng = np.random.default_rng(7)
    x = rng.uniform(-0.9, 0.9, (1000, 1))
    y, _ = _shape(x, NONE, bits=8, kind="tpdf", seed=11)
    plain = quantize(dither(x, bits=8, kind="tpdf", seed=11), bits=8)
    np.testing.assert_array_equal(y, plain)


def test_a_non_uniform_quantizer_with_a_step_is_refused():
    class Odd(MulawQuantizer):
        step = 0.25  # has a step, but no uniform rounding rule

    with pytest.raises(AdcsimError, match="scheme='mulaw'"):
        NoiseShapingStage(Odd(bits=8), filter=FIRST_ORDER)


def test_pcm_source_already_on_the_grid_gets_no_dither():
    stage = NoiseShapingStage(UniformQuantizer(bits=16), filter=FIRST_ORDER)
    stage.start(StreamInfo(rate=44100, channels=1, bits=8))
    assert not stage.dither_active
    x = (np.arange(-128, 128) / 128.0)[:, None]
    np.testing.assert_array_equal(stage.quantizer.decode(stage.process(x)), x)


def test_reset_restarts_the_same_output():
    x = np.linspace(-0.5, 0.5, 500)[:, None]
    stage = NoiseShapingStage(UniformQuantizer(bits=8), filter=FIRST_ORDER, seed=9)
    stage.start(StreamInfo(rate=8000, channels=1))
    first = stage.process(x)
    stage.reset()
    np.testing.assert_array_equal(stage.process(x), first)


def test_function_form_equals_the_stage():
    x = np.random.default_rng(10).uniform(-0.5, 0.5, (700, 2))
    y, _ = _shape(x, get_filter("lipshitz", 44100), bits=12, seed=5)
    got = noise_shape(x, bits=12, filter="lipshitz", rate=44100, seed=5)
    np.testing.assert_array_equal(got, y)
    one = noise_shape(x[:, 0], bits=12, filter=FIRST_ORDER, seed=5)
    assert one.shape == (700,)


def test_non_finite_input_is_an_error():
    stage = NoiseShapingStage(UniformQuantizer(bits=8), filter=FIRST_ORDER)
    stage.start(StreamInfo(rate=8000, channels=1))
    with pytest.raises(AdcsimError, match="NaN"):
        stage.process(np.array([[0.0], [np.nan]]))


# --- the compiled kernel: imported only when shaping runs ---------------------

_IMPORT_SCRIPT = """
import sys
from click.testing import CliRunner
import adcsim.cli._main

def run(*args):
    result = CliRunner().invoke(adcsim.cli._main.main, list(args))
    assert result.exit_code == 0, (args, result.output)

wav, out = sys.argv[1], sys.argv[2]
run("--help")
run("quantize", "--help")
plain = ["quantize", wav, "-b", "8", "-o", out, "--no-plot", "--no-report"]
run(*plain, "--force")
run(*plain, "--force", "--dither", "tpdf", "--noise-shaping", "none")
print("numba" in sys.modules, end=" ")
run(*plain, "--force", "--dither", "tpdf", "--noise-shaping", "first-order")
print("numba" in sys.modules)
"""


def test_numba_is_imported_only_by_a_run_that_shapes(tmp_path):
    import soundfile as sf

    wav = tmp_path / "in.wav"
    sf.write(wav, 0.25 * np.sin(np.arange(4000) / 9.0), 8000, subtype="PCM_16")
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_SCRIPT, str(wav), str(tmp_path / "out.wav")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


def test_the_kernel_compiles_where_numba_cannot_cache():
    # A function without a source file has no cache directory (numba: "no
    # locator available"): the kernel decorator compiles it anyway.
    from adcsim.kernels._jit import kernel

    namespace: dict[str, object] = {}
    exec("def double(x):\n    return 2.0 * x\n", namespace)
    compiled = kernel("float64(float64)")(namespace["double"])
    assert compiled(1.25) == 2.5
