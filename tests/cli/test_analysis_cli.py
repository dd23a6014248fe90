"""The analyze, compare, sweep and generate commands through Click's test runner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from adcsim.cli._analysis import analyze, compare, sweep
from adcsim.cli._generate import generate

RATE = 8000
COMMANDS = [analyze, compare, sweep, generate]


@pytest.fixture
def cli() -> click.Group:
    """The commands in a bare group, as the lead registers them in ``adcsim``."""
    return click.Group("adcsim", commands=COMMANDS)


@pytest.fixture
def tone_file(tmp_path: Path, wav_file) -> str:
    n = np.arange(RATE)
    x = 0.5 * np.sin(2 * np.pi * 997 * n / RATE)
    return str(wav_file(tmp_path, x, RATE, name="tone.wav", subtype="FLOAT"))


def _one_error_line(result) -> None:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0_with_examples(command):
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_generate_then_analyze_reports_the_tone(cli, tmp_path):
    out = str(tmp_path / "s.wav")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "generate",
            "sine",
            "-o",
            out,
            "--freq",
            "997",
            "--level-dbfs",
            "-6.0206",
            "--rate",
            "48000",
            "--duration",
            "0.5",
            "--subtype",
            "PCM_16",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    data, rate = sf.read(out)
    assert rate == 48000 and data.shape == (24000,)
    report = str(tmp_path / "a.json")
    result = runner.invoke(
        cli, ["analyze", out, "--report", report], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert "ENOB" in result.stdout
    m = json.loads(Path(report).read_text())["metrics"]
    assert m["tone_hz"] == pytest.approx(997.0, abs=1e-3)
    assert m["tone_amplitude_dbfs"] == pytest.approx(-6.02, abs=0.01)
    # A 16-bit file of a half-scale sine: ENOB of an ideal 16-bit quantizer.
    assert m["enob_bits"] == pytest.approx(16.0, abs=0.1)


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("multitone", ["--freqs", "100,1000,3000"]),
        ("chirp", ["--f0", "100", "--f1", "3000", "--method", "linear"]),
        ("noise", ["--color", "pink", "--distribution", "uniform", "--channels", "2"]),
        ("ramp", ["--bits", "8"]),
        ("silence", []),
        ("sine", ["--coherent"]),
    ],
)
def test_generate_every_kind(cli, tmp_path, kind, extra):
    out = str(tmp_path / f"{kind}.wav")
    result = CliRunner().invoke(
        cli,
        ["generate", kind, "-o", out, "--rate", "8000", "--duration", "0.1", *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    data, rate = sf.read(out, always_2d=True)
    assert rate == RATE
    if kind == "ramp":
        # Every 8-bit code once, stored exactly: 256 distinct ascending levels.
        assert data.shape == (256, 1)
        assert np.array_equal(data[:, 0], (np.arange(256) - 128) / 128)


def test_generate_rejects_an_option_of_another_kind(cli, tmp_path):
    result = CliRunner().invoke(
        cli, ["generate", "noise", "-o", str(tmp_path / "n.wav"), "--freq", "3"]
    )
    assert result.exit_code == 2 and "--freq" in result.stderr


def test_generate_bad_frequency_is_a_usage_error(cli, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            "sine",
            "-o",
            str(tmp_path / "n.wav"),
            "--rate",
            "8000",
            "--freq",
            "5000",
        ],
    )
    assert result.exit_code == 2 and "freq_hz=5000" in result.stderr


def test_generate_refuses_to_overwrite_without_force(cli, tone_file):
    result = CliRunner().invoke(cli, ["generate", "silence", "-o", tone_file])
    assert result.exit_code == 1
    _one_error_line(result)


def test_compare_align_and_gain_match(cli, tmp_path, wav_file):
    x = 0.3 * np.random.default_rng(5).standard_normal(4000)
    ref = wav_file(tmp_path, x, RATE, name="ref.wav", subtype="FLOAT")
    y = np.concatenate((np.zeros(17), 0.5 * x))[:4000]
    test = wav_file(tmp_path, y, RATE, name="test.wav", subtype="FLOAT")
    plot = tmp_path / "c.png"
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            str(ref),
            str(test),
            "--align",
            "--gain-match",
            "--report",
            "-",
            "--plot",
            str(plot),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["metrics"]["delay_frames"] == 17
    assert report["metrics"]["gain_db"] == pytest.approx(-6.0206, abs=1e-3)
    # Halving is exact in float32: nothing is left after removing the gain.
    assert report["metrics"]["max_abs_error"] < 1e-9
    assert plot.stat().st_size > 1000


def test_compare_mismatched_rates_exit_1(cli, tmp_path, wav_file):
    a = wav_file(tmp_path, np.zeros(100) + 0.1, 8000, name="a.wav")
    b = wav_file(tmp_path, np.zeros(100) + 0.1, 16000, name="b.wav")
    result = CliRunner().invoke(cli, ["compare", str(a), str(b)])
    assert result.exit_code == 1 and "sample rates differ" in result.stderr
    _one_error_line(result)


def test_compare_different_lengths_need_trim(cli, tmp_path, wav_file):
    a = wav_file(tmp_path, np.full(100, 0.1), RATE, name="a.wav")
    b = wav_file(tmp_path, np.full(90, 0.1), RATE, name="b.wav")
    result = CliRunner().invoke(cli, ["compare", str(a), str(b)])
    assert result.exit_code == 1 and "--trim" in result.stderr
    _one_error_line(result)
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--trim"])
    assert result.exit_code == 0, result.stderr


def test_empty_file_exit_1(cli, tmp_path, wav_file, tone_file):
    empty = wav_file(tmp_path, np.zeros((0, 1)), RATE, name="empty.wav")
    for args in (
        ["analyze", str(empty)],
        ["compare", tone_file, str(empty)],
        ["sweep", str(empty)],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, args
        _one_error_line(result)


def test_missing_file_exit_1(cli, tmp_path):
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path / "nope.wav")])
    assert result.exit_code == 1
    _one_error_line(result)


def test_sweep_writes_csv_json_and_plot(cli, tmp_path, tone_file):
    out_csv, out_json, plot = (
        tmp_path / "s.csv",
        tmp_path / "s.json",
        tmp_path / "s.png",
    )
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            tone_file,
            "--bits",
            "6,8",
            "--scheme",
            "uniform,mulaw",
            "--levels",
            "-40:-4:4",
            "--csv",
            str(out_csv),
            "--report",
            str(out_json),
            "--plot",
            str(plot),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 2 * 2 * 10
    data = json.loads(out_json.read_text())
    assert len(data["rows"]) == 40 and data["input"]["rate"] == RATE
    u8 = [r for r in data["rows"] if r["scheme"] == "uniform" and r["bits"] == 8]
    assert u8[-1]["snr_db"] == pytest.approx(6.02 * 8 + 1.76 - 0.99, abs=0.7)
    assert plot.stat().st_size > 1000


def test_sweep_prints_csv_without_outputs(cli, tone_file):
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            tone_file,
            "--bits",
            "8",
            "--scheme",
            "uniform",
            "--levels",
            "-10,-6",
            "-r",
            "16000",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("scheme,bits,level_dbfs") and len(lines) == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--bits", "one-16"],
        ["--bits", "0-8"],
        ["--levels", "-60:zero:2"],
        ["--levels", "-60:0:0"],
        ["--scheme", "nope"],
        ["--scheme", "uniform,"],
        ["--dither", "blue"],
    ],
)
def test_sweep_bad_ranges_are_usage_errors(cli, tone_file, args):
    result = CliRunner().invoke(cli, ["sweep", tone_file, *args])
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_sweep_lloydmax_designs_a_codebook_per_depth(cli, tmp_path, wav_file):
    # Gaussian noise at -20 dBFS: at its own level each depth's codebook is
    # Max's (1960) Gaussian quantizer: MSE / sigma^2 = 0.1175 (2 bits) and
    # 0.009497 (4 bits), i.e. 9.30 and 20.22 dB.
    x = 0.1 * np.random.default_rng(5).standard_normal(100_000)
    path = str(wav_file(tmp_path, x, RATE, name="noise.wav", subtype="FLOAT"))
    out_csv = tmp_path / "x.csv"
    result = CliRunner().invoke(
        cli,
        ["sweep", path, "--bits", "2,4", "--scheme", "lloydmax", "--levels", "-20"]
        + ["--csv", str(out_csv)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    snr = {int(r["bits"]): float(r["snr_db"]) for r in rows}
    # Tolerance 0.1 dB: a design on 1e5 samples fits them slightly better
    # than the Gaussian it was drawn from (measured 0.04 dB at 4 bits).
    assert snr[2] == pytest.approx(-10 * np.log10(0.1175), abs=0.1)
    assert snr[4] == pytest.approx(-10 * np.log10(0.009497), abs=0.1)


def test_sweep_lloydmax_past_16_bits_is_a_usage_error(cli, tone_file):
    result = CliRunner().invoke(
        cli, ["sweep", tone_file, "--bits", "8-17", "--scheme", "lloydmax"]
    )
    assert result.exit_code == 2, result.stderr
    assert "lloydmax: bits=17 must be an integer in [1, 16]" in result.stderr
    assert "Traceback" not in result.stderr


def test_generate_quiet_prints_nothing(cli, tmp_path):
    out = str(tmp_path / "q.wav")
    loud = CliRunner().invoke(cli, ["generate", "silence", "-o", out])
    assert loud.exit_code == 0 and loud.stderr.startswith("wrote ")
    quiet = CliRunner().invoke(cli, ["generate", "silence", "-o", out, "-q", "--force"])
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr == "" and quiet.stdout == ""


def _captured_chart(monkeypatch) -> list:
    from adcsim.figures import _quantize

    charts: list = []
    monkeypatch.setattr(
        _quantize, "save_chart", lambda chart, path: charts.append(chart)
    )
    return charts


def test_compare_plot_window_shows_that_span_under_a_title_naming_both_files(
    cli, tmp_path, wav_file, monkeypatch
):
    # The compare figure showed the first 20 ms and had no title (issue 18).
    x = 0.3 * np.random.default_rng(5).standard_normal(4000)
    ref = wav_file(tmp_path, x, RATE, name="ref.wav", subtype="FLOAT")
    test = wav_file(tmp_path, np.round(x * 64) / 64, RATE, name="test.wav")
    charts = _captured_chart(monkeypatch)
    args = ["compare", str(ref), str(test), "--plot", str(tmp_path / "c.svg")]
    result = CliRunner().invoke(cli, [*args, "--plot-window", "0.3:0.01"])
    assert result.exit_code == 0, result.stderr
    (chart,) = charts
    assert chart.title == f"{test} vs {ref}"
    wave = chart.panels[0]
    assert "0.3-0.31 s (--plot-window)" in wave.title
    (ref_line,) = [line for line in wave.lines if line.label == "ref"]
    np.testing.assert_allclose(ref_line.x, np.arange(2400, 2480) / RATE)
    np.testing.assert_array_equal(ref_line.y, x[2400:2480].astype(np.float32))


def test_compare_plot_default_window_is_the_loudest_point(
    cli, tmp_path, wav_file, monkeypatch
):
    x = 0.01 * np.random.default_rng(6).standard_normal(3 * RATE)
    x[RATE : 2 * RATE] *= 5  # the second second is the loudest,
    x[RATE + 777] = 0.9  # and this its loudest point
    ref = wav_file(tmp_path, x, RATE, name="ref.wav", subtype="FLOAT")
    charts = _captured_chart(monkeypatch)
    args = ["compare", str(ref), str(ref), "--plot", str(tmp_path / "c.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    (ref_line,) = [line for line in charts[0].panels[0].lines if line.label == "ref"]
    assert ref_line.x[0] < (RATE + 777) / RATE < ref_line.x[-1]
    assert ref_line.x[-1] - ref_line.x[0] < 0.011
    assert charts[0].panels[2].xlog


@pytest.mark.parametrize(
    ("extra", "code", "says"),
    [
        (["--plot-window", "5:0.01"], 1, "after the end of the compared signals"),
        (["--plot-window", "1e308:1"], 2, "[0, 1e+07] s"),
        (["--plot-window", "0:2"], 2, "at most 1 s"),
        (["--plot-window", "x"], 2, "START:DUR"),
    ],
)
def test_compare_bad_plot_windows_are_one_error_and_no_plot(
    cli, tmp_path, tone_file, extra, code, says
):
    plot = tmp_path / "c.png"
    result = CliRunner().invoke(
        cli, ["compare", tone_file, tone_file, "--plot", str(plot), *extra]
    )
    assert result.exit_code == code, result.stderr
    _one_error_line(result)
    assert says in result.stderr
    assert not plot.exists()


def test_compare_plot_window_needs_a_plot(cli, tone_file):
    result = CliRunner().invoke(
        cli, ["compare", tone_file, tone_file, "--plot-window", "0:0.01"]
    )
    assert result.exit_code == 2 and "--plot" in result.stderr
