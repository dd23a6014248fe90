"""The converter model's framework: config, chain, seeds, report; gain, offset, noise.

References are independent of the code under test: the textbook SINAD of a
sine with quantization and white noise, the offset and gain put into the
signal, numpy's own Gaussian draws for the seed tests.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import OutputPaths
from adcsim.stages._chain import Chain, StreamInfo, Tap, Tee, _Lookahead
from adcsim.stages._converter import ConverterConfig
from adcsim.stages._dither import DitherStage
from adcsim.stages._resample import Resampler


def run_file(
    tmp_path: Path, src: Path, config: QuantizeConfig, name: str = "o"
) -> tuple[dict[str, Any], np.ndarray]:
    paths = OutputPaths(str(tmp_path / f"{name}.wav"), str(tmp_path / f"{name}.json"))
    pipeline.process_file(str(src), config.validate(), paths)
    report = json.loads(Path(paths.report or "").read_text())
    y, _ = sf.read(paths.audio, dtype="float64", always_2d=True)
    return report, y


def sine(freq: float, rate: int, frames: int, amplitude: float) -> np.ndarray:
    n = np.arange(frames)
    return (amplitude * np.sin(2 * np.pi * freq * n / rate + 0.3))[:, None]


# -- the config ---------------------------------------------------------------


def test_an_ideal_converter_adds_nothing_to_the_settings() -> None:
    assert not ConverterConfig().active
    assert ConverterConfig().settings() == {}
    assert "converter" not in QuantizeConfig().validate().settings()


def test_set_options_appear_in_the_settings_with_units() -> None:
    config = QuantizeConfig(
        bits=12, converter=ConverterConfig(noise_lsb=0.5, offset_lsb=-1.0)
    ).validate()
    assert config.settings()["converter"] == {"noise_lsb": 0.5, "offset_lsb": -1.0}


@pytest.mark.parametrize(
    ("converter", "scheme", "rate", "message"),
    [
        (ConverterConfig(noise_lsb=-1.0), "uniform", None, "noise_lsb=-1.0"),
        (ConverterConfig(noise_lsb=math.nan), "uniform", None, "noise_lsb=nan"),
        (ConverterConfig(offset_lsb=1e9), "uniform", None, "offset_lsb="),
        (ConverterConfig(gain_error_lsb=-200.0), "uniform", None, "gain_error_lsb"),
        (ConverterConfig(noise_lsb=1.0), "mulaw", None, "need.*uniform.*mulaw"),
        (ConverterConfig(offset_lsb=1.0), "lloydmax", None, "scheme='lloydmax'"),
        (ConverterConfig(jitter=-1e-9), "uniform", None, "jitter"),
        (ConverterConfig(inl_shape="w"), "uniform", None, "inl_shape='w'"),
    ],
)
def test_bad_converter_values_are_refused_by_name(
    converter: ConverterConfig, scheme: str, rate: int | None, message: str
) -> None:
    with pytest.raises(AdcsimError, match=message):
        converter.validate(scheme=scheme, bits=8, rate=rate)


@pytest.mark.parametrize(
    ("converter", "rate", "message"),
    [
        (ConverterConfig(anti_alias=False), None, "--anti-alias off needs --rate"),
        (
            ConverterConfig(transfer="t.json", inl_lsb=1.0),
            None,
            "not with --inl-lsb",
        ),
        (ConverterConfig(transfer_out="t.json"), None, "--transfer-out.*needs"),
        (ConverterConfig(osr=64), None, "need --sigma-delta"),
        (ConverterConfig(sigma_delta=2), None, "needs --osr"),
        (ConverterConfig(sigma_delta=9, osr=64), None, "sigma_delta=9"),
    ],
)
def test_combinations_that_make_no_sense_are_refused(
    converter: ConverterConfig,
    rate: int | None,
    message: str,
) -> None:
    with pytest.raises(AdcsimError, match=message):
        converter.validate(scheme="uniform", bits=8, rate=rate)


# -- the chain ----------------------------------------------------------------


def test_an_ideal_converter_leaves_the_chain_as_it_was() -> None:
    quantizer = make_quantizer("uniform", bits=8)
    source = StreamInfo(rate=44100, channels=2, bits=16, dtype="int16")
    config = QuantizeConfig(rate=16000).validate()
    chain, tap, named = pipeline.build_chain(config, quantizer, source)
    kinds = [type(s) for s in chain.stages]
    assert kinds == [Resampler, Tap, DitherStage, QuantizeStage]
    assert chain.stages[1] is tap
    assert [n for n, _ in named] == ["resample", "dither", "quantize"]


def test_static_errors_sit_after_the_reference_tap_in_the_converter_order() -> None:
    quantizer = make_quantizer("uniform", bits=8)
    source = StreamInfo(rate=8000, channels=1)
    conv = ConverterConfig(noise_lsb=1.0, offset_lsb=1.0)
    config = QuantizeConfig(converter=conv).validate()
    chain, tap, named = pipeline.build_chain(config, quantizer, source)
    assert [n for n, _ in named] == ["gain_offset", "noise", "dither", "quantize"]
    assert chain.stages[0] is tap


@pytest.mark.parametrize("blocksize", [1, 3, 7, 64])
def test_a_tee_keeps_reference_and_signal_aligned_for_any_blocks(
    blocksize: int,
) -> None:
    x = np.arange(50.0)[:, None]
    tap = Tap("reference")
    tee = Tee(Chain([_Lookahead(5)]), Chain([_Lookahead(2)]), tap)
    chain = Chain([tee])
    chain.start(StreamInfo(rate=8000, channels=1))
    blocks = [x[i : i + blocksize] for i in range(0, 50, blocksize)]
    out, ref = [], []
    for block in chain.run(blocks):
        out.append(block)
        ref.append(tap.pop())
        assert ref[-1].shape == block.shape
    np.testing.assert_array_equal(np.concatenate(out), x)
    np.testing.assert_array_equal(np.concatenate(ref), x)


def test_a_tee_drops_and_counts_frames_the_other_branch_lacks() -> None:
    class Shorter(_Lookahead):
        def flush(self) -> np.ndarray:
            return super().flush()[:-1]

    tap = Tap("reference")
    tee = Tee(Chain([]), Chain([Shorter(3)]), tap)
    tee.start(StreamInfo(rate=8000, channels=1))
    head = tee.process(np.ones((10, 1)))
    tail = tee.flush()
    assert head.shape[0] + tail.shape[0] == 9
    assert tee.counters == {"unmatched_frames": 1}


# -- gain and offset ------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset_lsb", "gain_error_lsb"), [(2.5, 0.0), (0.0, -3.0), (-1.25, 4.5)]
)
def test_offset_and_gain_error_are_recovered_by_the_sine_fit(
    tmp_path: Path, wav_file: Any, offset_lsb: float, gain_error_lsb: float
) -> None:
    bits = 12
    x = sine(997.0, 48000, 48000, 0.9)
    src = wav_file(tmp_path, x, 48000, subtype="FLOAT")
    conv = ConverterConfig(offset_lsb=offset_lsb, gain_error_lsb=gain_error_lsb)
    report, y = run_file(tmp_path, src, QuantizeConfig(bits=bits, converter=conv))
    entry = report["adc"]["gain_offset"]
    assert entry["measured_by"] == "sine fit"
    assert entry["predicted_offset_lsb"] == offset_lsb
    assert entry["measured_offset_lsb"] == pytest.approx(offset_lsb, abs=0.05)
    assert entry["measured_gain_error_lsb"] == pytest.approx(gain_error_lsb, abs=0.05)
    # independently: the written values follow (1 + G/2^N) x + O LSB
    x, _ = sf.read(str(src), dtype="float64", always_2d=True)
    lsb = 2.0 / 2**bits
    expected = (1 + gain_error_lsb / 2**bits) * x + offset_lsb * lsb
    assert np.max(np.abs(y - expected)) <= lsb / 2 + 1e-7  # (float32 rounding)


def test_offset_and_gain_of_a_non_tonal_input_come_from_the_line_fit(
    tmp_path: Path, wav_file: Any, noise: Any
) -> None:
    src = wav_file(tmp_path, noise(frames=40000, amplitude=0.8), 48000, subtype="FLOAT")
    conv = ConverterConfig(offset_lsb=1.5, gain_error_lsb=2.0)
    report, _ = run_file(tmp_path, src, QuantizeConfig(bits=10, converter=conv))
    entry = report["adc"]["gain_offset"]
    assert entry["measured_by"] == "line fit"
    assert entry["measured_offset_lsb"] == pytest.approx(1.5, abs=0.05)
    assert entry["measured_gain_error_lsb"] == pytest.approx(2.0, abs=0.05)


# -- input noise ----------------------------------------------------------------


def test_one_lsb_of_noise_gives_the_textbook_sinad_at_12_bits(
    tmp_path: Path, wav_file: Any
) -> None:
    bits, rate = 12, 48000
    lsb = 2.0 / 2**bits
    amplitude = 1.0 - 5 * lsb  # full scale, less room for the noise's peaks
    src = wav_file(
        tmp_path,
        sine(1001.0, rate, 4 * rate, amplitude),
        rate,
        subtype="FLOAT",
    )
    conv = ConverterConfig(noise_lsb=1.0)
    report, _ = run_file(tmp_path, src, QuantizeConfig(bits=bits, converter=conv))
    theory = 6.02 * bits + 1.76 - 10 * math.log10(12 * (1 / 12 + 1))
    theory += 20 * math.log10(amplitude)
    assert report["metrics"]["sinad_db"] == pytest.approx(theory, abs=0.2)
    entry = report["adc"]["noise"]
    assert entry["predicted_sinad_db"] == pytest.approx(theory, abs=0.02)
    assert entry["measured_noise_rms_lsb"] == pytest.approx(1.0, abs=0.03)
    assert report["metrics"]["clipped_samples"] == 0


def test_the_noise_is_numpy_gaussian_noise_of_its_own_seed_branch(
    tmp_path: Path, wav_file: Any
) -> None:
    src = wav_file(tmp_path, np.zeros((1000, 2)), 8000, subtype="FLOAT")
    conv = ConverterConfig(noise_lsb=1000.0)
    _, y = run_file(tmp_path, src, QuantizeConfig(bits=16, seed=5, converter=conv))
    lsb = 2.0 / 2**16
    root = np.random.SeedSequence(5, spawn_key=(_crc("noise"),))
    for channel, child in enumerate(root.spawn(2)):
        draws = np.random.Generator(np.random.PCG64(child)).standard_normal(1000)
        expected = np.round(draws * 1000.0) * lsb
        np.testing.assert_array_equal(y[:, channel], expected)


def _crc(name: str) -> int:
    import zlib

    return zlib.crc32(name.encode())


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_same_seed_same_bytes_whatever_the_blocksize(
    tmp_path: Path, wav_file: Any, tone: Any
) -> None:
    src = wav_file(tmp_path, tone(frames=20000, channels=2), 48000)
    conv = ConverterConfig(noise_lsb=0.7, offset_lsb=0.3, gain_error_lsb=1.0)
    digests = set()
    for i, blocksize in enumerate((65536, 1000, 77)):
        config = QuantizeConfig(bits=10, seed=3, blocksize=blocksize, converter=conv)
        run_file(tmp_path, src, config, name=f"b{i}")
        digests.add(_digest(str(tmp_path / f"b{i}.wav")))
    assert len(digests) == 1
    run_file(tmp_path, src, QuantizeConfig(bits=10, seed=4, converter=conv), "s4")
    assert _digest(str(tmp_path / "s4.wav")) not in digests


def test_the_report_has_no_adc_section_for_an_ideal_converter(
    tmp_path: Path, wav_file: Any, tone: Any
) -> None:
    src = wav_file(tmp_path, tone(), 48000)
    report, _ = run_file(tmp_path, src, QuantizeConfig(bits=8))
    assert "adc" not in report
    assert "converter" not in report["settings"]


def test_unmeasured_runs_still_name_their_impairments(
    tmp_path: Path, wav_file: Any, tone: Any
) -> None:
    src = wav_file(tmp_path, tone(), 48000)
    paths = OutputPaths(str(tmp_path / "o.wav"), None)
    conv = ConverterConfig(noise_lsb=1.0)
    config = QuantizeConfig(bits=8, converter=conv).validate()
    report = pipeline.process_file(str(src), config, paths, measure=False)
    assert report.extra["adc"]["noise"]["noise_lsb"] == 1.0
    assert report.extra["adc"]["noise"]["measured_noise_rms_lsb"] is None


# -- the command line: one set of options on quantize, sweep and listen ----------


def _converter_params(command: str) -> dict[str, tuple[object, str | None]]:
    from adcsim.cli._main import main
    from adcsim.cli._options import CONVERTER_OPTIONS

    names = set(CONVERTER_OPTIONS.values())
    return {
        p.name: (p.default, tuple(p.opts))
        for p in main.commands[command].params
        if p.name in names
    }


def test_quantize_sweep_and_listen_take_every_converter_option_alike() -> None:
    from adcsim.cli._options import CONVERTER_OPTIONS

    quantize = _converter_params("quantize")
    assert quantize == _converter_params("sweep") == _converter_params("listen")
    assert {opts[0] for _, opts in quantize.values()} == {
        f"--{name}" for name in CONVERTER_OPTIONS
    }


def test_converter_cli_defaults_are_the_ideal_converter() -> None:
    defaults = ConverterConfig()
    for name, (default, _) in _converter_params("quantize").items():
        if name == "anti_alias":
            assert default == "on" and defaults.anti_alias
        else:
            assert default == getattr(defaults, name), name


def test_quantize_with_noise_writes_the_adc_section(
    tmp_path: Path, wav_file: Any, tone: Any, runner: Any
) -> None:
    from adcsim.cli._main import main

    src = wav_file(tmp_path, tone(frames=48000), 48000)
    out = tmp_path / "o.wav"
    result = runner.invoke(
        main,
        ["quantize", str(src), "-b", "12", "--noise-lsb", "0.5", "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["settings"]["converter"] == {"noise_lsb": 0.5}
    assert report["adc"]["noise"]["predicted_noise_rms_lsb"] == 0.5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--noise-lsb", "1", "-s", "mulaw"], "scheme='mulaw'"),
        (["--noise-lsb", "-1"], "noise_lsb=-1.0"),
        (["--inl-lsb", "1", "-b", "20"], "not --bits 20"),
        (["--dnl-lsb", "1", "-s", "midrise"], "needs scheme uniform"),
        (["--inl-lsb", "1", "--sigma-delta", "2", "--osr", "8"], "not with --sigma"),
    ],
)
def test_bad_converter_options_are_usage_errors_before_any_output(
    tmp_path: Path, wav_file: Any, tone: Any, runner: Any, args: list[str], message: str
) -> None:
    from adcsim.cli._main import main

    src = wav_file(tmp_path, tone(), 48000)
    out = tmp_path / "o.wav"
    result = runner.invoke(main, ["quantize", str(src), "-o", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_sweep_with_noise_follows_the_textbook_snr(
    tmp_path: Path, wav_file: Any
) -> None:
    from adcsim.analysis._sweep import sweep

    x = sine(1001.0, 48000, 48000, 1.0)
    rows = sweep(
        x,
        48000,
        schemes=["uniform"],
        bits=[12],
        levels_dbfs=[-3.0103 - 0.05],
        converter=ConverterConfig(noise_lsb=1.0),
    )
    theory = 6.02 * 12 + 1.76 - 10 * math.log10(12 * (1 / 12 + 1)) - 0.05
    assert rows[0]["snr_db"] == pytest.approx(theory, abs=0.2)
    ideal = sweep(x, 48000, schemes=["uniform"], bits=[12], levels_dbfs=[-3.06])
    assert ideal[0]["snr_db"] > theory + 10


def test_a_listen_condition_takes_the_converter_keys_over_the_commands() -> None:
    from adcsim.listening._conditions import parse_condition

    base = ConverterConfig(noise_lsb=0.5, offset_lsb=1.0)
    c = parse_condition("cheap=bits=12,noise-lsb=2,gain-error-lsb=3", converter=base)
    assert c.converter == ConverterConfig(
        noise_lsb=2.0, offset_lsb=1.0, gain_error_lsb=3.0
    )
    assert c.to_dict()["converter"] == {
        "noise_lsb": 2.0,
        "offset_lsb": 1.0,
        "gain_error_lsb": 3.0,
    }
    with pytest.raises(AdcsimError, match="need bits=N"):
        parse_condition("r=rate=8000,noise-lsb=1")
    with pytest.raises(AdcsimError, match="anti-alias='maybe'"):
        parse_condition("r=bits=8,anti-alias=maybe")


def test_a_listen_stimulus_with_impairments_is_what_quantize_writes(
    tmp_path: Path, wav_file: Any, tone: Any
) -> None:
    from adcsim.listening._conditions import Condition, render_condition

    x = tone(frames=4000, channels=2)
    src = wav_file(tmp_path, x, 48000, subtype="FLOAT")
    conv = ConverterConfig(noise_lsb=0.8, offset_lsb=0.5)
    _, y = run_file(tmp_path, src, QuantizeConfig(bits=9, seed=11, converter=conv))
    x32, _ = sf.read(str(src), dtype="float64", always_2d=True)
    c = Condition(name="c", bits=9, converter=conv)
    stimulus = render_condition(x32, rate=48000, condition=c, seed=11)
    np.testing.assert_array_equal(stimulus, y)
