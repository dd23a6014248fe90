"""Sampling without the anti-alias filter, and aperture jitter (issue 13).

References: the exact ``sin`` of a synthetic tone at the new (or jittered)
instants, where the folded frequency lands by the sampling theorem, the
jitter-limited SNR -20 log10(2 pi f sigma), and numpy least squares for
levels (not the code's own sine fit).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import OutputPaths
from adcsim.stages import _sampler
from adcsim.stages._chain import StreamInfo
from adcsim.stages._converter import ConverterConfig, stage_generators
from adcsim.stages._resample import resample
from adcsim.stages._sampler import Sampler


def run_stage(stage: Sampler, x: np.ndarray, rate: int, blocksize: int) -> np.ndarray:
    stage.start(StreamInfo(rate=rate, channels=x.shape[1]))
    parts = [stage.process(x[i : i + blocksize]) for i in range(0, len(x), blocksize)]
    return np.concatenate([*parts, stage.flush()])


def level(y: np.ndarray, freq: float, rate: int) -> float:
    """Peak amplitude of the ``freq`` component of ``y`` by least squares."""
    n = np.arange(y.size)
    w = 2 * np.pi * freq * n / rate
    basis = np.stack([np.cos(w), np.sin(w), np.ones_like(w)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return float(math.hypot(coef[0], coef[1]))


def run_file(tmp_path: Path, src: Path, config: QuantizeConfig, name: str = "o"):
    paths = OutputPaths(str(tmp_path / f"{name}.wav"), str(tmp_path / f"{name}.json"))
    pipeline.process_file(str(src), config.validate(), paths)
    report = json.loads(Path(paths.report or "").read_text())
    y, _ = sf.read(paths.audio, dtype="float64", always_2d=True)
    return report, y


# -- band-limited evaluation at new instants -------------------------------------


@pytest.mark.parametrize(
    ("in_rate", "out_rate"),
    [(44100, 16000), (48000, 44100), (44100, 48000), (16000, 8000)],
)
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.9])
def test_the_sampler_gives_the_exact_sine_at_the_new_instants(
    in_rate: int, out_rate: int, fraction: float
) -> None:
    f = fraction * in_rate / 2
    n = np.arange(in_rate // 2)
    x = 0.9 * np.sin(2 * np.pi * f * n / in_rate + 0.4)[:, None]
    y = run_stage(Sampler(out_rate=out_rate), x, in_rate, 4096)[:, 0]
    k = np.arange(y.size)
    exact = 0.9 * np.sin(2 * np.pi * f * k / out_rate + 0.4)
    inner = slice(out_rate // 100, -out_rate // 100)  # away from the ends' silence
    assert np.max(np.abs(y[inner] - exact[inner])) < 2e-5
    assert y.size == resample(x, in_rate=in_rate, out_rate=out_rate).shape[0]


@pytest.mark.parametrize("blocksize", [1, 37, 1000])
def test_the_sampled_stream_does_not_depend_on_the_blocks(blocksize: int) -> None:
    x = np.random.default_rng(1).standard_normal((3000, 2)) * 0.1
    one = run_stage(Sampler(out_rate=16000, jitter=1e-7, seed=3), x, 44100, 3000)
    split = run_stage(Sampler(out_rate=16000, jitter=1e-7, seed=3), x, 44100, blocksize)
    np.testing.assert_array_equal(one, split)
    same = run_stage(Sampler(out_rate=44100, jitter=1e-7, seed=3), x, 44100, 3000)
    again = run_stage(Sampler(out_rate=44100, jitter=1e-7, seed=3), x, 44100, blocksize)
    np.testing.assert_array_equal(same, again)


def test_a_12k_tone_folds_to_4k_without_the_filter_and_vanishes_with_it(
    tmp_path: Path, wav_file: Any
) -> None:
    rate, amplitude = 44100, 0.5
    n = np.arange(2 * rate)
    x = (amplitude * np.sin(2 * np.pi * 12000 * n / rate))[:, None]
    src = wav_file(tmp_path, x, rate, subtype="FLOAT")
    conv = ConverterConfig(anti_alias=False)
    config = QuantizeConfig(bits=24, rate=16000, converter=conv)
    report, y = run_file(tmp_path, src, config)
    inner = y[400:-400, 0]
    assert 20 * math.log10(level(inner, 4000, 16000) / amplitude) == pytest.approx(
        0, abs=0.2
    )
    (tone,) = report["adc"]["anti_alias"]["aliased_tones"]
    assert tone["input_hz"] == pytest.approx(12000, abs=0.5)
    assert tone["folded_hz"] == pytest.approx(4000, abs=0.5)
    assert tone["measured_level_dbfs"] == pytest.approx(
        20 * math.log10(amplitude), abs=0.2
    )
    _, filtered = run_file(tmp_path, src, QuantizeConfig(bits=24, rate=16000), "on")
    assert filtered.shape == y.shape
    # (24 bits: the filtered tone is below the LSB, the output silent)
    assert level(filtered[400:-400, 0], 4000, 16000) <= amplitude * 10 ** (-90 / 20)


def test_anti_alias_off_needs_a_rate_and_a_small_ratio() -> None:
    with pytest.raises(AdcsimError, match="needs --rate"):
        ConverterConfig(anti_alias=False).validate(scheme="uniform", bits=8, rate=None)
    with pytest.raises(AdcsimError, match="10001/44100"):
        Sampler(out_rate=10001).start(StreamInfo(rate=44100, channels=1))


# -- jitter ----------------------------------------------------------------------


def test_jitter_limits_the_snr_of_a_10k_tone_as_theory_says(
    tmp_path: Path, wav_file: Any
) -> None:
    rate, sigma, f = 48000, 10e-9, 10000.0
    n = np.arange(2 * rate)
    x = (0.9 * np.sin(2 * np.pi * f * n / rate + 0.2))[:, None]
    src = wav_file(tmp_path, x, rate, subtype="FLOAT")
    conv = ConverterConfig(jitter=sigma)
    report, _ = run_file(tmp_path, src, QuantizeConfig(bits=24, converter=conv))
    theory = -20 * math.log10(2 * math.pi * f * sigma)
    assert theory == pytest.approx(64.0, abs=0.05)
    assert report["metrics"]["snr_db"] == pytest.approx(theory, abs=0.5)
    entry = report["adc"]["jitter"]
    assert entry["predicted_snr_db"] == pytest.approx(theory, abs=0.01)
    # sigma^2 E[x'^2] for this sine: sigma^2 (2 pi f A)^2 / 2
    power = sigma**2 * (2 * math.pi * f * 0.9) ** 2 / 2
    assert entry["predicted_noise_power_dbfs"] == pytest.approx(
        10 * math.log10(power), abs=0.05
    )


@pytest.mark.parametrize(
    ("rate", "out_rate", "f"),
    [(48000, 48000, 20000.0), (48000, 48000, 1000.0), (44100, 16000, 9000.0)],
)
def test_first_order_jitter_is_within_a_tenth_of_a_db_of_exact_evaluation(
    rate: int, out_rate: int, f: float
) -> None:
    sigma = _sampler.FIRST_ORDER_LIMIT / (math.pi * rate)  # the largest accepted
    n = np.arange(rate)
    x = np.sin(2 * np.pi * f * n / rate + 0.7)[:, None]
    stage = Sampler(out_rate=out_rate, jitter=sigma, seed=9)
    y = run_stage(stage, x, rate, 5000)[:, 0]
    k = np.arange(y.size)
    dt = stage_generators(9, "jitter", 1)[0].standard_normal(y.size) * sigma
    ideal = np.sin(2 * np.pi * f * k / out_rate + 0.7)
    exact = np.sin(2 * np.pi * f * (k / out_rate + dt) + 0.7)
    inner = slice(out_rate // 50, -out_rate // 50)
    first_order = np.mean((y - ideal)[inner] ** 2)
    exact_power = np.mean((exact - ideal)[inner] ** 2)
    assert 10 * math.log10(first_order / exact_power) == pytest.approx(0, abs=0.1)


def test_too_much_jitter_is_refused_with_the_bound() -> None:
    with pytest.raises(AdcsimError, match=r"jitter=1e-05 s is too large.*1.99e-06"):
        Sampler(out_rate=48000, jitter=1e-5).start(StreamInfo(rate=48000, channels=1))


def test_jitter_after_the_ideal_resampler_and_at_the_input_rate(
    tmp_path: Path, wav_file: Any, tone: Any
) -> None:
    src = wav_file(tmp_path, tone(frames=20000, channels=2), 48000)
    conv = ConverterConfig(jitter=2e-9)
    for rate in (None, 16000):
        config = QuantizeConfig(bits=16, rate=rate, converter=conv, blocksize=999)
        report, y = run_file(tmp_path, src, config, name=f"r{rate}")
        names = [s["name"] for s in report["stages"]]
        assert names[:2] == (["resample", "sample"] if rate else ["sample", "dither"])
        assert report["adc"]["jitter"]["jitter_s"] == 2e-9
        _, ideal = run_file(
            tmp_path, src, QuantizeConfig(bits=16, rate=rate), f"i{rate}"
        )
        assert y.shape == ideal.shape
        assert 0 < np.max(np.abs(y - ideal)) < 0.01


def test_sweep_samples_as_quantize_does(tmp_path: Path, wav_file: Any) -> None:
    from adcsim.analysis._sweep import sweep_file

    rate = 44100
    t = np.arange(rate) / rate
    x = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.1 * np.sin(2 * np.pi * 12000 * t)
    src = wav_file(tmp_path, x[:, None], rate, subtype="FLOAT")
    grid: dict[str, Any] = {
        "rate": 16000,
        "schemes": ["uniform"],
        "bits": [16],
        "levels_dbfs": [-9.03],  # the 1 kHz tone's RMS: about unit gain
    }
    conv = ConverterConfig(anti_alias=False)
    (row,) = sweep_file(str(src), converter=conv, **grid)[0]
    # the 12 kHz tone folds to 4 kHz: error 0.1 against a 0.5 reference
    assert row["snr_db"] == pytest.approx(20 * math.log10(0.5 / 0.1), abs=0.2)
    (ideal,) = sweep_file(str(src), **grid)[0]
    assert ideal["snr_db"] > 80


def test_anti_alias_off_without_a_rate_is_a_usage_error(
    tmp_path: Path, wav_file: Any, tone: Any, runner: Any
) -> None:
    from adcsim.cli._main import main

    src = wav_file(tmp_path, tone(), 48000)
    result = runner.invoke(main, ["quantize", str(src), "--anti-alias", "off"])
    assert result.exit_code == 2
    assert "--anti-alias off needs --rate R" in result.output
    result = runner.invoke(
        main, ["quantize", str(src), "--jitter", "1", "-o", str(tmp_path / "o.wav")]
    )
    assert result.exit_code == 2 and "jitter=1.0" in result.output


def test_a_cheap_listen_condition_aliases_as_quantize_does() -> None:
    from adcsim.listening._conditions import parse_condition, render_condition

    rate = 44100
    n = np.arange(rate)
    x = (0.5 * np.sin(2 * np.pi * 12000 * n / rate))[:, None]
    cheap = parse_condition("cheap=bits=12,rate=16000,jitter=5e-9,anti-alias=off")
    y = render_condition(x, rate=rate, condition=cheap, seed=0)
    assert y.shape == x.shape
    inner = y[2000:-2000, 0]
    assert 20 * math.log10(level(inner, 4000, rate) / 0.5) == pytest.approx(0, abs=0.2)
    ideal = parse_condition("ideal=bits=12,rate=16000")
    quiet = render_condition(x, rate=rate, condition=ideal, seed=0)[2000:-2000, 0]
    assert level(quiet, 4000, rate) < 1e-3
