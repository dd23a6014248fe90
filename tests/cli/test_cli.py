"""``adcsim quantize`` through Click's test runner, checked against issue 2.

Every expected value here is computed from the issue's formulas by the test
itself: the quantizers are re-implemented from the issue's text, the input is
read with soundfile, and the output file is read back with soundfile, so the
report must describe "the values actually written to the file".
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner, Result

import adcsim
from adcsim.cli._main import main
from adcsim.errors import AdcsimError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- independent references, written from the issue's text -------------------


def ref_uniform(x: np.ndarray, bits: int, scheme: str = "uniform") -> tuple[Any, int]:
    """Levels of the uniform schemes and how many samples were clipped."""
    step = 2.0 / 2**bits
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    raw = np.round(x / step) if scheme == "uniform" else np.floor(x / step)
    codes = np.clip(raw, lo, hi)
    offset = 0.5 if scheme == "midrise" else 0.0
    return (codes + offset) * step, int(np.count_nonzero(codes != raw))


def mulaw_f(x: np.ndarray, mu: float) -> np.ndarray:
    return np.sign(x) * np.log(1 + mu * np.abs(x)) / np.log(1 + mu)


def mulaw_finv(y: np.ndarray, mu: float) -> np.ndarray:
    return np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu


def alaw_f(x: np.ndarray, a: float) -> np.ndarray:
    ax = a * np.abs(x)
    small = ax / (1 + math.log(a))
    big = (1 + np.log(np.maximum(ax, 1.0))) / (1 + math.log(a))
    return np.sign(x) * np.where(ax < 1, small, big)


def alaw_finv(y: np.ndarray, a: float) -> np.ndarray:
    v = np.abs(y) * (1 + math.log(a))
    return np.sign(y) * np.where(v < 1, v / a, np.exp(v - 1) / a)


def ref_companded(x: np.ndarray, bits: int, scheme: str, param: float) -> np.ndarray:
    f, finv = (mulaw_f, mulaw_finv) if scheme == "mulaw" else (alaw_f, alaw_finv)
    fx, _ = ref_uniform(f(x, param), bits)
    return finv(fx, param)


def ref_metrics(r: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The issue's figures of e = y - r (None where undefined or infinite)."""
    e = y - r
    n = e.size
    sum_r2, sum_e2 = float(np.sum(r * r)), float(np.sum(e * e))
    mse = sum_e2 / n

    def db(num: float, den: float) -> float | None:
        if num == 0 or den == 0:
            return None
        return 10 * math.log10(num / den)

    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "max_abs_error": float(np.max(np.abs(e))),
        "mean_error": float(np.sum(e)) / n,
        "signal_rms_dbfs": db(sum_r2 / n, 1.0),
        "snr_db": db(sum_r2, sum_e2),
        "psnr_db": db(1.0, mse),
    }


def assert_metrics(report: dict[str, Any], r: np.ndarray, y: np.ndarray) -> None:
    """Report metrics (total and per channel) equal the reference figures."""
    cases = [(report["metrics"], r, y)]
    cases += [(report["channels"][c], r[:, c], y[:, c]) for c in range(r.shape[1])]
    for got, rr, yy in cases:
        for key, want in ref_metrics(rr, yy).items():
            if want is None:
                assert got[key] is None, key
            else:
                assert got[key] == pytest.approx(want, rel=1e-9, abs=1e-15), key


def sqnr_theory(bits: int) -> float:
    step = 2.0 / 2**bits
    return 10 * math.log10((1 / 2) / (step**2 / 12))


def read2d(path: Path | str) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    return data, rate


def strict_json(text: str) -> Any:
    """Parse JSON, failing on NaN, Infinity and -Infinity."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the JSON report")

    return json.loads(text, parse_constant=refuse)


def load_report(path: Path | str) -> Any:
    return strict_json(Path(path).read_text(encoding="utf-8"))


def sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(runner: CliRunner, *args: Any) -> Result:
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_quiet(runner: CliRunner, *args: Any) -> Result:
    return runner.invoke(main, [str(a) for a in args])


def assert_one_error_line(result: Result, *names: str) -> None:
    """Exit 1, exactly one ``Error:`` line naming the file, no traceback."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for name in names:
        assert name in errors[0]


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


@pytest.fixture
def tone_wav(tmp_path: Path, tone: Any, wav_file: Any) -> Path:
    """A 0.1 s, 48 kHz, 16-bit mono 1 kHz sine at half full scale."""
    return wav_file(tmp_path, tone(1000.0), 48000, name="tone.wav")


@pytest.fixture
def float_wav(tmp_path: Path, noise: Any, wav_file: Any) -> Path:
    """Float32 stereo noise with exact ties and values beyond full scale."""
    x = noise(frames=3000, channels=2, amplitude=0.9)
    ties = (np.arange(-40, 40) + 0.5) / 128  # exact halfway points at 8 bits
    x[: ties.size, 0] = ties
    x[: ties.size, 1] = -ties
    x[100:110, 0] = [1.0, 1.2, -1.0, -1.3, 0.999, -0.9999, 2.0, -2.0, 0.0, -0.0]
    return wav_file(
        tmp_path, x.astype(np.float32), 48000, name="f.wav", subtype="FLOAT"
    )


# --- help and version ---------------------------------------------------------


def test_main_help_lists_the_commands_with_examples(runner: CliRunner) -> None:
    result = run(runner, "--help")
    assert result.exit_code == 0
    assert "quantize" in result.stdout and "schemes" in result.stdout
    assert "Examples:" in result.stdout


QUANTIZE_OPTIONS = [
    "-b", "--bits", "-s", "--scheme", "--mu", "--a", "-r", "--rate", "--dither",
    "--seed", "-o", "--output", "--out-dir", "--subtype", "--report", "--plot",
    "--no-plot", "--no-report", "--force", "--error-out", "--error-gain", "-q",
    "--quiet",
]  # fmt: skip


def test_quantize_help_names_every_option_of_the_issue_with_examples(
    runner: CliRunner,
) -> None:
    result = run(runner, "quantize", "--help")
    assert result.exit_code == 0
    words = result.stdout.replace(",", " ").replace("/", " ").split()
    missing = [opt for opt in QUANTIZE_OPTIONS if opt not in words]
    assert not missing
    assert "Examples:" in result.stdout
    assert "adcsim quantize" in result.stdout.split("Examples:")[1]


def test_schemes_lists_every_scheme_of_the_issue(runner: CliRunner) -> None:
    result = run(runner, "schemes")
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"uniform", "midrise", "floor", "mulaw", "alaw"} <= names
    help_result = run(runner, "schemes", "--help")
    assert help_result.exit_code == 0 and "Examples:" in help_result.stdout


def test_version_prints_the_package_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert adcsim.__version__ in result.stdout


# --- defaults and names -------------------------------------------------------


def test_default_run_writes_named_audio_report_and_plot_in_the_current_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    runner: CliRunner,
    tone: Any,
    wav_file: Any,
) -> None:
    (tmp_path / "takes").mkdir()
    src = wav_file(tmp_path / "takes", tone(440.0), 48000, name="voice.wav")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    result = run(runner, "quantize", src)
    assert result.exit_code == 0, result.stderr
    assert files_in(tmp_path / "work") == {
        "voice.uniform-8bit.wav",
        "voice.uniform-8bit.json",
        "voice.uniform-8bit.png",
    }
    x, _ = read2d(src)
    y, rate = read2d(tmp_path / "work" / "voice.uniform-8bit.wav")
    assert rate == 48000
    np.testing.assert_array_equal(y, ref_uniform(x, 8)[0])
    assert (
        sf.info(str(tmp_path / "work" / "voice.uniform-8bit.wav")).subtype == "PCM_U8"
    )
    png = (tmp_path / "work" / "voice.uniform-8bit.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert result.stdout == ""


def test_out_dir_receives_the_default_names_of_every_input(
    tmp_path: Path, runner: CliRunner, tone: Any, wav_file: Any
) -> None:
    a = wav_file(tmp_path, tone(300.0), 8000, name="a.wav")
    b = wav_file(tmp_path, tone(500.0), 8000, name="b.flac")
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        runner,
        "quantize",
        a,
        b,
        "-s",
        "mulaw",
        "-b",
        "6",
        "--out-dir",
        out,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert files_in(out) == {
        "a.mulaw-6bit.wav",
        "a.mulaw-6bit.json",
        "b.mulaw-6bit.wav",
        "b.mulaw-6bit.json",
    }


# --- the schemes, checked sample by sample ------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 12, 16, 23])
@pytest.mark.parametrize("flags", [("-b", "-s"), ("--bits", "--scheme")])
def test_uniform_writes_round_half_even_levels_and_reports_them(
    tmp_path: Path,
    runner: CliRunner,
    float_wav: Path,
    bits: int,
    flags: tuple[str, str],
) -> None:
    out = tmp_path / "u.wav"
    result = run(
        runner,
        "quantize",
        float_wav,
        flags[0],
        bits,
        flags[1],
        "uniform",
        "-o",
        out,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(float_wav)
    y, _ = read2d(out)
    want, clipped = ref_uniform(x, bits)
    np.testing.assert_array_equal(y, want)
    report = load_report(tmp_path / "u.json")
    assert_metrics(report, x, y)
    m = report["metrics"]
    assert m["step"] == 2.0 / 2**bits
    assert m["levels_available"] == 2**bits
    assert m["levels_used"] == np.unique(np.round(y / m["step"])).size
    assert m["clipped_samples"] == clipped > 0
    assert m["sqnr_theory_db"] == pytest.approx(sqnr_theory(bits), rel=1e-12)
    assert m["sqnr_theory_db"] == pytest.approx(6.02 * bits + 1.76, abs=0.005 * bits)


@pytest.mark.parametrize("scheme", ["midrise", "floor"])
@pytest.mark.parametrize("bits", [1, 3, 8, 15])
def test_midrise_and_floor_write_their_levels(
    tmp_path: Path, runner: CliRunner, float_wav: Path, scheme: str, bits: int
) -> None:
    out = tmp_path / "m.wav"
    result = run(
        runner,
        "quantize",
        float_wav,
        "-b",
        bits,
        "-s",
        scheme,
        "-o",
        out,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(float_wav)
    y, _ = read2d(out)
    want, clipped = ref_uniform(x, bits, scheme)
    np.testing.assert_array_equal(y, want)
    report = load_report(tmp_path / "m.json")
    assert_metrics(report, x, y)
    assert report["metrics"]["clipped_samples"] == clipped
    assert report["metrics"]["levels_available"] == 2**bits
    if scheme == "midrise":
        assert not np.any(y == 0)  # no level at zero
        assert np.array_equal(np.unique(np.abs(y)), np.unique(np.abs(-y)))
    else:
        e = (y - x)[np.abs(x) < 0.99]
        assert np.all((e <= 0) & (e > -2.0 / 2**bits))  # truncation, biased


@pytest.mark.parametrize(
    ("scheme", "option", "value", "default"),
    [("mulaw", "--mu", 100.0, 255.0), ("alaw", "--a", 50.0, 87.6)],
)
@pytest.mark.parametrize("bits", [4, 8, 12])
def test_companders_follow_the_issue_laws_with_default_and_given_parameters(
    tmp_path: Path,
    runner: CliRunner,
    float_wav: Path,
    scheme: str,
    option: str,
    value: float,
    default: float,
    bits: int,
) -> None:
    x, _ = read2d(float_wav)
    for name, extra, param in [("d", [], default), ("g", [option, value], value)]:
        out = tmp_path / f"{name}.wav"
        result = run(
            runner,
            "quantize",
            float_wav,
            "-s",
            scheme,
            "-b",
            bits,
            *extra,
            "-o",
            out,
            "--no-plot",
            "-q",
        )
        assert result.exit_code == 0, result.stderr
        y, _ = read2d(out)
        assert sf.info(str(out)).subtype == "FLOAT"
        want = ref_companded(x, bits, scheme, param).astype(np.float32)
        np.testing.assert_allclose(y, want, rtol=2e-7, atol=1e-12)
        report = load_report(tmp_path / f"{name}.json")
        assert report["settings"][option.lstrip("-")] == pytest.approx(param)
        assert report["settings"]["scheme"] == scheme
        assert report["metrics"]["step"] is None
        assert report["metrics"]["levels_available"] == 2**bits
        assert_metrics(report, x, y)
        used = np.unique(
            np.round(
                ref_uniform((mulaw_f if scheme == "mulaw" else alaw_f)(y, param), bits)[
                    0
                ]
                * 2**bits
            )
        )
        assert report["metrics"]["levels_used"] == used.size


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-b", "8"], "PCM_U8"),
        (["-b", "1"], "PCM_U8"),
        (["-b", "12"], "PCM_16"),
        (["-b", "16"], "PCM_16"),
        (["-b", "17"], "PCM_24"),
        (["-b", "24"], "PCM_24"),
        (["-b", "8", "-s", "floor"], "PCM_U8"),
        (["-b", "8", "-s", "midrise"], "PCM_16"),  # levels sit on the 9-bit grid
        (["-b", "8", "-s", "mulaw"], "FLOAT"),
        (["-b", "8", "-s", "alaw"], "FLOAT"),
    ],
)
def test_default_container_is_the_smallest_exact_one_and_the_report_names_it(
    tmp_path: Path, runner: CliRunner, float_wav: Path, args: list[str], expected: str
) -> None:
    out = tmp_path / "c.wav"
    result = run(runner, "quantize", float_wav, *args, "-o", out, "--no-plot", "-q")
    assert result.exit_code == 0, result.stderr
    assert sf.info(str(out)).subtype == expected
    assert load_report(tmp_path / "c.json")["output"]["subtype"] == expected


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT", "pcm_24"])
def test_subtype_option_picks_the_container_and_keeps_the_levels_exact(
    tmp_path: Path, runner: CliRunner, float_wav: Path, subtype: str
) -> None:
    out = tmp_path / "s.wav"
    result = run(
        runner,
        "quantize",
        float_wav,
        "-b",
        "8",
        "--subtype",
        subtype,
        "-o",
        out,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert sf.info(str(out)).subtype == subtype.upper()
    x, _ = read2d(float_wav)
    y, _ = read2d(out)
    np.testing.assert_array_equal(y, ref_uniform(x, 8)[0])
    assert load_report(tmp_path / "s.json")["output"]["subtype"] == subtype.upper()


@pytest.mark.parametrize(
    ("args", "subtype"),
    [
        (["-b", "12"], "PCM_U8"),
        (["-s", "midrise", "-b", "8"], "PCM_U8"),
        (["-s", "g711-alaw", "-b", "8"], "PCM_U8"),
        (["-s", "mulaw", "-b", "10"], "PCM_U8"),
    ],
)
def test_a_container_narrower_than_the_grid_is_a_usage_error(
    tmp_path: Path, runner: CliRunner, float_wav: Path, args: list[str], subtype: str
) -> None:
    # issue 12: 12 bits in PCM_U8 used to store 8-bit values while the report
    # counted 12-bit levels
    out = tmp_path / "small.wav"
    result = run(runner, "quantize", float_wav, *args, "--subtype", subtype, "-o", out)
    assert result.exit_code == 2, result.stderr
    assert "subtype=PCM_U8" in result.stderr and "bits=" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [float_wav]


def test_the_run_refuses_a_narrow_container_before_any_output(
    tmp_path: Path, float_wav: Path
) -> None:
    from adcsim.run._config import QuantizeConfig
    from adcsim.run._outputs import plan_outputs
    from adcsim.run._process import process_file

    config = QuantizeConfig(bits=12, subtype="PCM_U8")
    paths = plan_outputs(str(float_wav), config, out_dir=str(tmp_path))
    with pytest.raises(AdcsimError, match="subtype=PCM_U8 holds 8 bits"):
        process_file(str(float_wav), config, paths)
    assert list(tmp_path.iterdir()) == [float_wav]


@pytest.mark.parametrize(
    ("args", "subtype"),
    [(["-b", "12"], "PCM_16"), (["-s", "mulaw", "-b", "10"], "PCM_16")],
)
def test_report_describes_the_values_written_in_a_smaller_container(
    tmp_path: Path, runner: CliRunner, float_wav: Path, args: list[str], subtype: str
) -> None:
    out = tmp_path / "small.wav"
    result = run(
        runner,
        "quantize",
        float_wav,
        *args,
        "--subtype",
        subtype,
        "-o",
        out,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(float_wav)
    y, _ = read2d(out)
    report = load_report(tmp_path / "small.json")
    assert_metrics(report, x, y)


# --- resampling and dither ----------------------------------------------------


@pytest.mark.parametrize("flag", ["-r", "--rate"])
def test_rate_resamples_before_quantizing_without_time_shift(
    tmp_path: Path, runner: CliRunner, tone: Any, wav_file: Any, flag: str
) -> None:
    src = wav_file(
        tmp_path,
        tone(1000.0, rate=48000, frames=9600).astype(np.float32),
        48000,
        subtype="FLOAT",
    )
    out = tmp_path / "r.wav"
    result = run(
        runner, "quantize", src, flag, "16000", "-b", "16", "-o", out, "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    y, rate = read2d(out)
    assert rate == 16000 and y.shape == (3200, 1)
    ideal = tone(1000.0, rate=16000, frames=3200)
    inner = slice(200, -200)  # trim the resampler's edges
    err = y[inner] - ideal[inner]
    snr = 10 * math.log10(np.sum(ideal[inner] ** 2) / np.sum(err**2))
    # 16-bit quantization of a half-scale sine: theory minus 6.02 dB.
    assert snr > sqnr_theory(16) - 6.02 - 1.0
    report = load_report(tmp_path / "r.json")
    assert report["settings"]["rate"] == 16000
    assert report["output"]["sample_rate"] == 16000
    assert report["input"]["sample_rate"] == 48000


def test_same_seed_gives_the_same_dither_and_another_seed_another(
    tmp_path: Path, runner: CliRunner, float_wav: Path
) -> None:
    outs = {}
    for name, kind, seed in [
        ("a", "tpdf", 7),
        ("b", "tpdf", 7),
        ("c", "tpdf", 8),
        ("d", "rpdf", 7),
        ("n", "none", 7),
    ]:
        out = tmp_path / f"{name}.wav"
        result = run(
            runner,
            "quantize",
            float_wav,
            "-b",
            "8",
            "--dither",
            kind,
            "--seed",
            seed,
            "-o",
            out,
            "--no-plot",
            "-q",
        )
        assert result.exit_code == 0, result.stderr
        outs[name] = out
        settings = load_report(tmp_path / f"{name}.json")["settings"]
        assert (settings["dither"], settings["seed"]) == (kind, seed)
    assert outs["a"].read_bytes() == outs["b"].read_bytes()
    assert outs["a"].read_bytes() != outs["c"].read_bytes()
    x, _ = read2d(float_wav)
    step = 2.0 / 256
    inside = np.abs(x) < 1 - 2 * step
    err = {k: (read2d(p)[0] - x)[inside] for k, p in outs.items()}
    np.testing.assert_array_equal(read2d(outs["n"])[0], ref_uniform(x, 8)[0])
    assert np.max(np.abs(err["d"])) <= step  # RPDF +-1/2 LSB, then +-1/2 LSB
    assert np.max(np.abs(err["a"])) <= 1.5 * step  # TPDF +-1 LSB, then +-1/2 LSB
    assert np.max(np.abs(err["a"])) > 0.5 * step  # the dither did something


# --- outputs: formats, stdout, report, plot, error signal ---------------------


@pytest.mark.parametrize(
    ("name", "fmt", "subtype"),
    [
        ("o.flac", "FLAC", "PCM_S8"),
        ("o.aiff", "AIFF", "PCM_S8"),
        ("o.aif", "AIFF", "PCM_S8"),
        ("o.wav", "WAV", "PCM_U8"),
    ],
)
def test_output_extension_picks_the_format(
    tmp_path: Path,
    runner: CliRunner,
    float_wav: Path,
    name: str,
    fmt: str,
    subtype: str,
) -> None:
    out = tmp_path / name
    result = run(
        runner, "quantize", float_wav, "-b", "8", "--output", out, "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    info = sf.info(str(out))
    assert (info.format, info.subtype) == (fmt, subtype)
    x, _ = read2d(float_wav)
    np.testing.assert_array_equal(read2d(out)[0], ref_uniform(x, 8)[0])
    assert load_report(tmp_path / "o.json")["output"]["subtype"] == subtype


def test_ogg_output_is_written_as_vorbis(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out = tmp_path / "o.ogg"
    result = run(runner, "quantize", tone_wav, "-o", out, "--no-plot", "-q")
    assert result.exit_code == 0, result.stderr
    assert sf.info(str(out)).format == "OGG"
    assert load_report(tmp_path / "o.json")["output"]["subtype"] == "VORBIS"


def test_ogg_report_describes_the_decoded_values_actually_written(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out = tmp_path / "o.ogg"
    result = run(runner, "quantize", tone_wav, "-o", out, "--no-plot", "-q")
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(tone_wav)
    y, _ = read2d(out)
    assert_metrics(load_report(tmp_path / "o.json"), x, y)


def test_dash_output_writes_a_wav_stream_to_stdout_and_no_side_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    runner: CliRunner,
    float_wav: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run(runner, "quantize", float_wav, "-b", "8", "-o", "-", "-q")
    assert result.exit_code == 0, result.stderr
    assert files_in(work) == set()  # report and plot only where asked
    data = result.stdout_bytes
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    # 8-bit WAV data is unsigned, offset 128; the header is 44 bytes.
    assert data[36:40] == b"data"
    codes = np.frombuffer(data[44:], dtype=np.uint8).astype(np.int64) - 128
    x, _ = read2d(float_wav)
    np.testing.assert_array_equal(codes.reshape(-1, 2) / 128, ref_uniform(x, 8)[0])


def test_dash_output_with_report_and_plot_paths_writes_them(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run(
        runner,
        "quantize",
        tone_wav,
        "-o",
        "-",
        "--report",
        tmp_path / "r.json",
        "--plot",
        tmp_path / "p.png",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    report = load_report(tmp_path / "r.json")
    assert report["output"]["path"] == "-"
    assert (
        report["provenance"]["output_sha256"]
        == hashlib.sha256(result.stdout_bytes).hexdigest()
    )
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_SIGNATURE)


def test_report_dash_prints_one_json_object_per_input_line_by_line(
    tmp_path: Path, runner: CliRunner, tone: Any, wav_file: Any
) -> None:
    a = wav_file(tmp_path, tone(300.0), 8000, name="a.wav")
    b = wav_file(tmp_path, tone(700.0, channels=2), 8000, name="b.wav")
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        runner, "quantize", a, b, "--out-dir", out, "--report", "-", "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    reports = [strict_json(line) for line in lines]
    assert [r["input"]["path"] for r in reports] == [str(a), str(b)]
    assert [r["input"]["channels"] for r in reports] == [1, 2]
    assert files_in(out) == {"a.uniform-8bit.wav", "b.uniform-8bit.wav"}


def test_report_path_and_no_report(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run(
        runner,
        "quantize",
        tone_wav,
        "-o",
        tmp_path / "x.wav",
        "--report",
        tmp_path / "custom.json",
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert load_report(tmp_path / "custom.json")["output"]["path"] == str(
        tmp_path / "x.wav"
    )
    assert not (tmp_path / "x.json").exists()
    result = run(
        runner,
        "quantize",
        tone_wav,
        "-o",
        tmp_path / "y.wav",
        "--no-report",
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert files_in(tmp_path) == {"tone.wav", "x.wav", "custom.json", "y.wav"}


@pytest.mark.parametrize(
    ("name", "signature"),
    [("p.png", PNG_SIGNATURE), ("p.svg", b"<svg"), ("p.pdf", b"%PDF")],
)
def test_plot_path_extension_picks_the_image_format(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, name: str, signature: bytes
) -> None:
    result = run(
        runner,
        "quantize",
        tone_wav,
        "-o",
        tmp_path / "x.wav",
        "--plot",
        tmp_path / name,
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    data = (tmp_path / name).read_bytes()
    assert len(data) > 1000
    assert data[:1024].find(signature) >= 0
    assert not (tmp_path / "x.png").exists() or name == "x.png"


def test_no_plot_writes_no_figure(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run(
        runner, "quantize", tone_wav, "-o", tmp_path / "x.wav", "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    assert files_in(tmp_path) == {"tone.wav", "x.wav", "x.json"}


@pytest.mark.parametrize("gain", [0.0, 24.0, -6.0])
def test_error_out_writes_the_error_signal_with_its_gain_recorded(
    tmp_path: Path, runner: CliRunner, float_wav: Path, gain: float
) -> None:
    err_path = tmp_path / "err.wav"
    result = run(
        runner,
        "quantize",
        float_wav,
        "-b",
        "6",
        "-o",
        tmp_path / "x.wav",
        "--error-out",
        err_path,
        "--error-gain",
        gain,
        "--no-plot",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(float_wav)
    y, _ = read2d(tmp_path / "x.wav")
    e, rate = read2d(err_path)
    assert rate == 48000
    want = (y - x) * 10 ** (gain / 20)
    np.testing.assert_allclose(e, want, rtol=1e-6, atol=1e-9)
    report = load_report(tmp_path / "x.json")
    gains = [v for k, v in _walk(report) if "gain" in k]
    assert gains and all(g == gain for g in gains)


def _walk(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        out: list[tuple[str, Any]] = []
        for k, v in obj.items():
            out += _walk(v, f"{prefix}.{k}")
        return out
    return [(prefix, obj)]


def test_quiet_prints_nothing_and_the_default_prints_a_summary_on_stderr(
    tmp_path: Path, runner: CliRunner, float_wav: Path
) -> None:
    result = run(
        runner, "quantize", float_wav, "-o", tmp_path / "a.wav", "--no-plot", "-q"
    )
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout == ""
    result = run(
        runner, "quantize", float_wav, "-o", tmp_path / "b.wav", "--no-plot", "--quiet"
    )
    assert result.stderr == "" and result.stdout == ""
    result = run(runner, "quantize", float_wav, "-o", tmp_path / "c.wav", "--no-plot")
    assert result.exit_code == 0 and result.stdout == ""
    report = load_report(tmp_path / "c.json")
    summary = result.stderr
    for word in ("SNR", "MSE", "max error", "levels", "clipped"):
        assert word in summary
    assert f"{report['metrics']['snr_db']:.2f}" in summary
    assert str(report["metrics"]["clipped_samples"]) in summary


def test_force_overwrites_an_existing_output(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out = tmp_path / "x.wav"
    out.write_bytes(b"old")
    result = run(runner, "quantize", tone_wav, "-o", out, "--force", "--no-plot", "-q")
    assert result.exit_code == 0, result.stderr
    assert sf.info(str(out)).subtype == "PCM_U8"


def test_outputs_get_the_usual_permissions(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    mask = os.umask(0o022)
    try:
        result = run(
            runner, "quantize", tone_wav, "-o", tmp_path / "x.wav", "--no-plot", "-q"
        )
    finally:
        os.umask(mask)
    assert result.exit_code == 0, result.stderr
    for name in ("x.wav", "x.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


# --- the report ---------------------------------------------------------------


def test_report_has_the_issue_keys_provenance_and_hashes(
    tmp_path: Path, runner: CliRunner, float_wav: Path
) -> None:
    out = tmp_path / "x.wav"
    result = run(
        runner, "quantize", float_wav, "-b", "10", "-o", out, "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    report = load_report(tmp_path / "x.json")
    for key in (
        "adcsim_version",
        "provenance",
        "input",
        "output",
        "settings",
        "metrics",
        "channels",
    ):
        assert key in report
    assert report["adcsim_version"] == adcsim.__version__
    prov = report["provenance"]
    assert isinstance(prov["command_line"], str)  # its text: test_cli_subprocess
    versions = prov["versions"]
    assert versions["adcsim"] == adcsim.__version__
    assert versions["numpy"] == np.__version__
    assert versions["soundfile"] == sf.__version__
    assert versions["libsndfile"] == sf.__libsndfile_version__
    assert prov["input_sha256"] == sha256(float_wav)
    assert prov["output_sha256"] == sha256(out)
    info = sf.info(str(float_wav))
    assert report["input"]["path"] == str(float_wav)
    assert report["input"]["sample_rate"] == info.samplerate
    assert report["input"]["channels"] == info.channels
    assert report["input"]["frames"] == info.frames
    assert report["input"]["subtype"] == info.subtype
    assert report["output"]["path"] == str(out)
    assert report["output"]["sample_rate"] == 48000
    assert report["output"]["subtype"] == sf.info(str(out)).subtype
    assert {"bits", "scheme", "rate", "dither", "seed"} <= set(report["settings"])
    assert report["settings"]["bits"] == 10
    keys = {
        "mse",
        "rmse",
        "max_abs_error",
        "mean_error",
        "signal_rms_dbfs",
        "snr_db",
        "psnr_db",
        "sqnr_theory_db",
        "step",
        "levels_available",
        "levels_used",
        "clipped_samples",
    }
    assert keys <= set(report["metrics"])
    assert len(report["channels"]) == 2
    for channel in report["channels"]:
        assert keys <= set(channel)


def test_report_of_silence_has_null_for_undefined_figures(
    tmp_path: Path, runner: CliRunner, wav_file: Any
) -> None:
    src = wav_file(tmp_path, np.zeros((1000, 1)), 8000, name="quiet.wav")
    result = run(runner, "quantize", src, "-o", tmp_path / "x.wav", "-q")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "x.json").read_text()
    report = strict_json(text)
    m = report["metrics"]
    assert m["mse"] == 0 and m["max_abs_error"] == 0
    assert m["snr_db"] is None and m["psnr_db"] is None
    assert m["signal_rms_dbfs"] is None
    assert m["levels_used"] == 1
    assert (tmp_path / "x.png").read_bytes().startswith(PNG_SIGNATURE)


# --- usage errors: exit 2 -----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["-b", "0"],
        ["-b", "25"],
        ["--bits", "eight"],
        ["-b", "2.5"],
        ["-s", "mulaw", "--mu", "0"],
        ["-s", "mulaw", "--mu", "-5"],
        ["-s", "mulaw", "--mu", "nan"],
        ["-s", "alaw", "--a", "0.5"],
        ["-s", "nonesuch"],
        ["--scheme", "Uniform"],
        ["--dither", "white"],
        ["--rate", "0"],
        ["--seed", "-1"],
        ["--error-gain", "inf"],
    ],
)
def test_bad_option_values_are_usage_errors(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, args: list[str]
) -> None:
    result = run_quiet(runner, "quantize", tone_wav, *args, "--out-dir", tmp_path)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Error" in result.stderr
    assert files_in(tmp_path) == {"tone.wav"}


def test_output_with_several_inputs_is_a_usage_error(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(runner, "quantize", tone_wav, tone_wav, "-o", tmp_path / "x.wav")
    assert result.exit_code == 2
    assert files_in(tmp_path) == {"tone.wav"}


def test_report_dash_with_output_dash_is_a_usage_error(
    runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(runner, "quantize", tone_wav, "-o", "-", "--report", "-")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_unknown_subtype_is_a_usage_error(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(
        runner, "quantize", tone_wav, "--subtype", "PCM_99", "--out-dir", tmp_path
    )
    assert result.exit_code == 2


def test_unknown_plot_extension_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(
        runner,
        "quantize",
        tone_wav,
        "-o",
        tmp_path / "x.wav",
        "--plot",
        tmp_path / "x.jpg",
    )
    assert files_in(tmp_path) == {"tone.wav"}
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("1", "is not START:DUR in seconds"),
        ("a:0.1", "is not START:DUR in seconds"),
        ("-1:0.1", "plot window start=-1 must be in [0, 1e+07] s"),
        ("0:0", "plot window duration=0.0 must be > 0 and at most 1 s"),
        ("0:1.5", "plot window duration=1.5 must be > 0 and at most 1 s"),
        ("nan:0.1", "plot window start=nan must be in [0, 1e+07] s"),
    ],
)
def test_a_bad_plot_window_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, window: str, message: str
) -> None:
    out = tmp_path / "x.wav"
    result = run_quiet(runner, "quantize", tone_wav, "-o", out, "--plot-window", window)
    assert result.exit_code == 2
    assert message in result.stderr
    assert files_in(tmp_path) == {"tone.wav"}


def test_a_plot_window_draws_the_figure(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out = tmp_path / "x.wav"
    result = run_quiet(
        runner, "quantize", tone_wav, "-o", out, "--plot-window", "0.05:0.01"
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_plot_window_with_no_plot_is_a_usage_error(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(
        runner, "quantize", tone_wav, "--no-plot", "--plot-window", "0:0.1"
    )
    assert result.exit_code == 2
    assert "not with --no-plot" in result.stderr


def test_missing_option_value_and_missing_input_are_usage_errors(
    runner: CliRunner, tone_wav: Path
) -> None:
    assert run_quiet(runner, "quantize").exit_code == 2
    assert run_quiet(runner, "quantize", tone_wav, "-b").exit_code == 2
    assert run_quiet(runner, "quantize", tone_wav, "--frobnicate").exit_code == 2


# --- bad inputs and outputs: exit 1, one line, nothing left behind ------------


def _nan_wav(tmp_path: Path, tone_wav: Path, value: float) -> Path:
    x = np.full((5000, 1), 0.25, dtype=np.float32)
    x[4321, 0] = value
    tone_wav.unlink()
    path = tmp_path / "bad.wav"
    sf.write(str(path), x, 8000, subtype="FLOAT")
    return path


BAD_INPUTS = {
    "missing": lambda tmp, w: tmp / "nope.wav",
    "directory": lambda tmp, w: (tmp / "adir").mkdir() or tmp / "adir",
    "not audio": lambda tmp, w: (
        (tmp / "notes.wav").write_text("hello") and (tmp / "notes.wav")
    ),
    "empty": lambda tmp, w: (tmp / "empty.wav").write_bytes(b"") or tmp / "empty.wav",
    "header only": lambda tmp, w: (
        (tmp / "head.wav").write_bytes(w.read_bytes()[:44]) and tmp / "head.wav"
    ),
    "nan": lambda tmp, w: _nan_wav(tmp, w, float("nan")),
    "inf": lambda tmp, w: _nan_wav(tmp, w, float("inf")),
    "-inf": lambda tmp, w: _nan_wav(tmp, w, -float("inf")),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_fails_with_one_error_line_and_leaves_nothing(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, kind: str
) -> None:
    src = BAD_INPUTS[kind](tmp_path, tone_wav)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    out = tmp_path / "out"
    out.mkdir()
    result = run_quiet(runner, "quantize", src, "--out-dir", out, "--blocksize", "256")
    assert_one_error_line(result, src.name)
    assert files_in(out) == set()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before


def test_missing_directory_of_an_output_path_is_an_error(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    # (a missing --out-dir is created: test_batch_cli)
    result = run_quiet(runner, "quantize", tone_wav, "-o", tmp_path / "no" / "x.wav")
    assert_one_error_line(result, "x.wav")
    assert files_in(tmp_path) == {"tone.wav"}


def _unwritable_dir(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        return d
    # root writes through permission bits; sysfs refuses new files even to root
    if os.path.isdir("/sys") and not _can_create("/sys"):
        return Path("/sys")
    pytest.skip("no unwritable directory available to this user")


def _can_create(directory: str) -> bool:
    try:
        fd = os.open(os.path.join(directory, ".adcsim-probe"), os.O_CREAT | os.O_WRONLY)
    except OSError:
        return False
    os.close(fd)
    os.unlink(os.path.join(directory, ".adcsim-probe"))
    return True


def test_unwritable_output_directory_is_an_error(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    target = _unwritable_dir(tmp_path)
    result = run_quiet(runner, "quantize", tone_wav, "-o", target / "x.wav")
    assert_one_error_line(result, "x.wav")
    assert not (target / "x.wav").exists()
    result = run_quiet(runner, "quantize", tone_wav, "--out-dir", target)
    assert_one_error_line(result, "tone.uniform-8bit.wav")


def test_existing_output_without_force_is_an_error_and_stays_untouched(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out = tmp_path / "x.wav"
    out.write_bytes(b"precious")
    stamp = out.stat().st_mtime_ns
    result = run_quiet(runner, "quantize", tone_wav, "-o", out)
    assert_one_error_line(result, "x.wav")
    assert out.read_bytes() == b"precious" and out.stat().st_mtime_ns == stamp
    assert files_in(tmp_path) == {"tone.wav", "x.wav"}


def test_existing_report_without_force_is_an_error_and_nothing_is_written(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    (tmp_path / "x.json").write_text("{}")
    result = run_quiet(runner, "quantize", tone_wav, "-o", tmp_path / "x.wav")
    assert_one_error_line(result, "x.json")
    assert files_in(tmp_path) == {"tone.wav", "x.json"}
    assert (tmp_path / "x.json").read_text() == "{}"


def _same_file_spellings(tmp_path: Path, src: Path) -> dict[str, tuple[Path, Path]]:
    link = tmp_path / "link.wav"
    link.symlink_to(src)
    sub = tmp_path / "sub"
    sub.mkdir()
    return {
        "same path": (src, src),
        "via symlink input": (link, src),
        "via symlink output": (src, link),
        "via ..": (src, sub / ".." / src.name),
    }


@pytest.mark.parametrize(
    "spelling", ["same path", "via symlink input", "via symlink output", "via .."]
)
def test_writing_over_the_input_is_refused_even_with_force(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, spelling: str
) -> None:
    original = tone_wav.read_bytes()
    src, out = _same_file_spellings(tmp_path, tone_wav)[spelling]
    result = run_quiet(runner, "quantize", src, "-o", out, "--force", "--no-plot")
    assert_one_error_line(result)
    assert tone_wav.read_bytes() == original
    assert not any(p.name.endswith(".part") for p in tmp_path.rglob("*"))


def test_a_report_path_over_the_input_is_refused_even_with_force(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    original = tone_wav.read_bytes()
    result = run_quiet(
        runner,
        "quantize",
        tone_wav,
        "-o",
        tmp_path / "x.wav",
        "--report",
        tone_wav,
        "--force",
    )
    assert_one_error_line(result)
    assert tone_wav.read_bytes() == original
    assert files_in(tmp_path) == {"tone.wav"}


def test_batch_with_a_bad_file_in_the_middle_processes_the_others(
    tmp_path: Path, runner: CliRunner, tone: Any, wav_file: Any
) -> None:
    a = wav_file(tmp_path, tone(300.0), 8000, name="a.wav")
    c = wav_file(tmp_path, tone(500.0), 8000, name="c.wav")
    out = tmp_path / "out"
    out.mkdir()
    result = run_quiet(
        runner, "quantize", a, tmp_path / "b.wav", c, "--out-dir", out, "--no-plot"
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "b.wav" in errors[0]
    assert "2 files quantized, 1 failed" in result.stderr.splitlines()[-1]
    assert files_in(out) == {
        "a.uniform-8bit.wav",
        "a.uniform-8bit.json",
        "c.uniform-8bit.wav",
        "c.uniform-8bit.json",
    }


def test_failure_after_some_blocks_leaves_no_partial_output(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    src = _nan_wav(tmp_path, tone_wav, float("nan"))  # NaN at frame 4321
    result = run_quiet(
        runner,
        "quantize",
        src,
        "-o",
        tmp_path / "x.wav",
        "--error-out",
        tmp_path / "e.wav",
        "--blocksize",
        "100",
    )
    assert_one_error_line(result, "bad.wav")
    assert "4321" in result.stderr
    assert files_in(tmp_path) == {"bad.wav"}


# --- valid but odd inputs -----------------------------------------------------


def test_one_frame_input_is_processed_with_a_plot(
    tmp_path: Path, runner: CliRunner, wav_file: Any
) -> None:
    src = wav_file(tmp_path, np.array([[0.3]]), 8000, name="one.wav")
    result = run(runner, "quantize", src, "-b", "4", "-o", tmp_path / "x.wav", "-q")
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(src)
    y, _ = read2d(tmp_path / "x.wav")
    np.testing.assert_array_equal(y, ref_uniform(x, 4)[0])
    assert_metrics(load_report(tmp_path / "x.json"), x, y)
    assert (tmp_path / "x.png").read_bytes().startswith(PNG_SIGNATURE)


def test_float_samples_beyond_full_scale_are_clipped_and_counted(
    tmp_path: Path, runner: CliRunner, wav_file: Any
) -> None:
    x = np.array(
        [[0.0, 1.5], [1.0, -1.0], [-1.2, 0.99], [3.0, -0.5], [0.2, -1.01]],
        dtype=np.float32,
    )
    src = wav_file(tmp_path, x, 8000, name="hot.wav", subtype="FLOAT")
    result = run(
        runner, "quantize", src, "-b", "8", "-o", tmp_path / "x.wav", "--no-plot"
    )
    assert result.exit_code == 0, result.stderr
    x64, _ = read2d(src)
    y, _ = read2d(tmp_path / "x.wav")
    want, clipped = ref_uniform(x64, 8)
    np.testing.assert_array_equal(y, want)
    assert y.max() == 127 / 128 and y.min() == -1.0
    report = load_report(tmp_path / "x.json")
    # 1.5, 1.0, 3.0 (above 127.5/128) and -1.2, -1.01 (below -128.5/128)
    assert report["metrics"]["clipped_samples"] == clipped == 5
    per_channel = [ref_uniform(x64[:, c], 8)[1] for c in range(2)]
    assert [c["clipped_samples"] for c in report["channels"]] == per_channel
    assert "clipped" in result.stderr


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_24", "PCM_32"])
def test_8_24_and_32_bit_pcm_inputs_are_processed(
    tmp_path: Path, runner: CliRunner, noise: Any, wav_file: Any, subtype: str
) -> None:
    src = wav_file(tmp_path, noise(frames=2000), 22050, subtype=subtype)
    result = run(
        runner, "quantize", src, "-b", "6", "-o", tmp_path / "x.wav", "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(src)
    y, _ = read2d(tmp_path / "x.wav")
    np.testing.assert_array_equal(y, ref_uniform(x, 6)[0])
    report = load_report(tmp_path / "x.json")
    assert report["input"]["subtype"] == subtype
    assert_metrics(report, x, y)


@pytest.mark.parametrize(
    ("name", "fmt", "subtype"),
    [
        ("in.flac", "FLAC", "PCM_16"),
        ("in.aiff", "AIFF", "PCM_16"),
        ("in.ogg", "OGG", "VORBIS"),
    ],
)
def test_flac_aiff_and_ogg_inputs_are_processed(
    tmp_path: Path,
    runner: CliRunner,
    tone: Any,
    wav_file: Any,
    name: str,
    fmt: str,
    subtype: str,
) -> None:
    src = wav_file(
        tmp_path,
        tone(440.0, rate=16000, frames=3200),
        16000,
        name=name,
        subtype=subtype,
        format=fmt,
    )
    result = run(
        runner, "quantize", src, "-b", "8", "-o", tmp_path / "x.wav", "--no-plot", "-q"
    )
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(src)
    y, _ = read2d(tmp_path / "x.wav")
    np.testing.assert_array_equal(y, ref_uniform(x, 8)[0])
    report = load_report(tmp_path / "x.json")
    assert report["input"]["subtype"] == subtype
    assert report["input"]["frames"] == sf.info(str(src)).frames
    assert_metrics(report, x, y)


def test_six_channels_are_processed_with_a_plot_and_per_channel_figures(
    tmp_path: Path, runner: CliRunner, tone: Any, wav_file: Any
) -> None:
    x = tone(440.0, rate=16000, frames=3000, channels=6)
    x[:, 5] = 0.0  # one silent channel
    src = wav_file(tmp_path, x, 16000, name="six.wav", subtype="PCM_24")
    result = run(runner, "quantize", src, "-b", "5", "-o", tmp_path / "x.wav", "-q")
    assert result.exit_code == 0, result.stderr
    x, _ = read2d(src)
    y, _ = read2d(tmp_path / "x.wav")
    assert y.shape == (3000, 6)
    np.testing.assert_array_equal(y, ref_uniform(x, 5)[0])
    report = load_report(tmp_path / "x.json")
    assert len(report["channels"]) == 6
    assert_metrics(report, x, y)
    assert report["channels"][5]["snr_db"] is None
    assert (tmp_path / "x.png").read_bytes().startswith(PNG_SIGNATURE)


def test_same_input_settings_and_seed_give_the_same_audio_and_json(
    tmp_path: Path, runner: CliRunner, float_wav: Path
) -> None:
    args = [
        "quantize",
        float_wav,
        "-b",
        "7",
        "--dither",
        "rpdf",
        "--seed",
        "11",
        "-r",
        "32000",
        "-o",
        tmp_path / "x.wav",
        "--no-plot",
        "-q",
        "--force",
    ]
    assert run(runner, *args).exit_code == 0
    first = ((tmp_path / "x.wav").read_bytes(), (tmp_path / "x.json").read_bytes())
    assert run(runner, *args).exit_code == 0
    second = ((tmp_path / "x.wav").read_bytes(), (tmp_path / "x.json").read_bytes())
    assert first == second


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 10 log10(3 * 4**N / c**2): c = ln(1 + mu), or 1 + ln A (large signals).
        (["-s", "mulaw"], 10 * math.log10(3 * 4**8 / math.log(256) ** 2)),
        (
            ["-s", "mulaw", "--mu", "100"],
            10 * math.log10(3 * 4**8 / math.log(101) ** 2),
        ),
        (["-s", "alaw"], 10 * math.log10(3 * 4**8 / (1 + math.log(87.6)) ** 2)),
        (["-s", "g711-mulaw"], 10 * math.log10(3 * 4**8 / math.log(256) ** 2)),
        (["-s", "floor"], 10 * math.log10(0.5 / ((2 / 256) ** 2 / 3))),
        (["-s", "lloydmax"], None),
    ],
)
def test_sqnr_theory_is_the_scheme_s_own_large_signal_value(
    tmp_path: Path, runner: CliRunner, tone_wav: Path, args: list[str], expected: Any
) -> None:
    result = run_quiet(
        runner, "quantize", tone_wav, "-b", "8", *args, "-o", tmp_path / "q.wav", "-q"
    )
    assert result.exit_code == 0, result.stderr
    m = load_report(tmp_path / "q.json")["metrics"]
    if expected is None:
        assert m["sqnr_theory_db"] is None
    else:
        assert m["sqnr_theory_db"] == pytest.approx(expected, rel=1e-12)


def test_plot_window_past_the_end_of_a_file_is_an_error_before_any_output(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    result = run_quiet(
        runner, "quantize", tone_wav, "--plot-window", "12.5:0.02", "--out-dir",
        tmp_path,
    )  # fmt: skip
    assert_one_error_line(result, "tone.wav")
    assert "--plot-window starts at 12.5 s, after the end of" in result.stderr
    assert "(0.1 s long)" in result.stderr
    assert files_in(tmp_path) == {"tone.wav"}


def test_plot_window_past_the_end_of_a_stream_is_noted_and_svg_stays_quiet(
    tmp_path: Path, runner: CliRunner, tone_wav: Path
) -> None:
    out, plot = tmp_path / "s.wav", tmp_path / "s.svg"
    result = runner.invoke(
        main,
        ["quantize", "-", "-o", str(out), "--plot", str(plot)]
        + ["--plot-window", "5:0.01"],
        input=tone_wav.read_bytes(),
    )
    assert result.exit_code == 0, result.stderr
    # No matplotlib "No artists with labels" UserWarning (the suite turns
    # warnings into errors, and the stderr of a run must hold only notices).
    assert "Warning" not in result.stderr
    note = "--plot-window starts at 5 s, after the end of the stream (0.1 s)"
    assert f"notice: {note}" in result.stderr
    notes = load_report(tmp_path / "s.json")["notes"]
    assert any(n.startswith(note) for n in notes)
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("scheme", "dither", "domain", "noted"),
    [
        ("mulaw", "tpdf", "linear", True),
        ("g711-alaw", "rpdf", "linear", True),
        ("uniform", "tpdf", "linear", False),
        ("mulaw", "none", None, False),
    ],
)
def test_the_report_says_where_dither_was_added_and_notes_it_for_companders(
    tmp_path: Path,
    runner: CliRunner,
    tone_wav: Path,
    scheme: str,
    dither: str,
    domain: str | None,
    noted: bool,
) -> None:
    result = run_quiet(
        runner, "quantize", tone_wav, "-b", "8", "-s", scheme, "--dither", dither,
        "-o", tmp_path / "d.wav", "--no-plot", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = load_report(tmp_path / "d.json")
    assert report["settings"]["dither_domain"] == domain
    dither_notes = [n for n in report["notes"] if n.startswith("dither: ")]
    assert bool(dither_notes) == noted
    if noted:
        assert "uniform 8-bit LSB was added to the linear signal" in dither_notes[0]


def test_shaped_runs_report_the_weightings_their_filters_were_designed_for(
    tmp_path: Path, runner: CliRunner
) -> None:
    t = np.arange(44100) / 44100
    source = tmp_path / "tone24.wav"
    sf.write(str(source), 0.5 * np.sin(2 * np.pi * 997 * t), 44100, subtype="PCM_24")
    figures = {}
    for shaping in ("none", "f-weighted"):
        out = tmp_path / f"{shaping}.wav"
        result = run_quiet(
            runner, "quantize", source, "-b", "16", "--dither", "tpdf",
            "--noise-shaping", shaping, "-o", out, "--no-plot", "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        figures[shaping] = load_report(tmp_path / f"{shaping}.json")["metrics"]
    shaped = figures["f-weighted"]
    # Under the weighting it was designed for, the shaped error is far below
    # the unshaped one (here -110.6 against about -98.7 dBFS A-weighted, and
    # -95.3 dBFS in total), while its total power is higher.
    assert (
        shaped["error_f_weighted_dbfs"] < figures["none"]["error_a_weighted_dbfs"] - 6
    )
    assert shaped["error_total_dbfs"] > shaped["error_f_weighted_dbfs"] + 20
    assert shaped["error_itu468_dbfs"] is not None
    assert "error_f_weighted_dbfs" not in figures["none"]


def test_the_in_band_error_band_scales_with_the_rate(
    tmp_path: Path, runner: CliRunner
) -> None:
    rng = np.random.default_rng(3)
    source = tmp_path / "n8k.wav"
    sf.write(str(source), 0.1 * rng.standard_normal(16000), 8000, subtype="PCM_24")
    result = run_quiet(
        runner, "quantize", source, "-b", "8", "--dither", "tpdf",
        "--noise-shaping", "first-order", "-o", tmp_path / "s.wav", "--no-plot", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    m = load_report(tmp_path / "s.json")["metrics"]
    # 0-1.6 kHz at 8 kHz: first-order shaping (1 - z^-1) keeps that band
    # about 10 dB below the total (it was 0-4 kHz: the total itself).
    assert m["error_in_band_dbfs"] < m["error_total_dbfs"] - 6
