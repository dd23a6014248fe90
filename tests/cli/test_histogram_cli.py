"""``adcsim analyze --histogram`` and ``generate histogram-sine`` through Click."""

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

from adcsim.analysis._histogram import required_samples
from adcsim.cli._analysis import analyze
from adcsim.cli._generate import generate

BITS = 8
M = 1 << BITS
D = 2.0 / M
CONTRACT = (
    "bits",
    "dnl_lsb",
    "inl_lsb",
    "missing_codes",
    "max_abs_dnl_lsb",
    "max_abs_inl_lsb",
    "rms_dnl_lsb",
)


@pytest.fixture
def cli() -> click.Group:
    return click.Group("adcsim", commands=[analyze, generate])


def _one_error_line(result) -> None:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr


def _record(tmp_path: Path, *, missing=(), frames=None, subtype="PCM_16") -> str:
    """An 8-bit converter with ``missing`` codes, digitizing an overdriven sine,
    its codes stored as 16-bit PCM (code k at integer k * 256) by soundfile."""
    k = np.arange(1, M)
    t = (k - M / 2 - 0.5) * D
    for code in missing:
        t[code] = t[code - 1]
    frames = frames or 2 * required_samples(BITS, amplitude=1.03)
    n = np.arange(frames)
    x = 1.03 * np.sin(2 * np.pi * ((1009 * n) % frames) / frames)
    codes = np.searchsorted(t, x, side="right") - M // 2
    path = tmp_path / "rec.wav"
    sf.write(str(path), (codes * 256).astype(np.int16), 48000, subtype=subtype)
    return str(path)


def test_histogram_report_csv_and_plot(cli, tmp_path):
    record = _record(tmp_path, missing=(40, 200))
    report, table, plot = (str(tmp_path / n) for n in ("r.json", "c.csv", "p.png"))
    args = ["analyze", record, "--histogram", "--bits", "8", "--report", report]
    args += ["--csv", table, "--plot", plot]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "missing codes       2: 40, 200" in result.stdout
    data = json.loads(Path(report).read_text())
    h = data["histogram"]
    assert set(CONTRACT) <= set(h)
    assert h["bits"] == 8 and h["missing_codes"] == [40, 200]
    assert len(h["dnl_lsb"]) == M and len(h["inl_lsb"]) == M
    assert h["dnl_lsb"][0] is None and h["dnl_lsb"][40] == -1.0
    assert h["max_abs_dnl_lsb"] == pytest.approx(1.0, abs=0.01)
    assert data["settings"]["bits"] == 8 and data["input"]["subtype"] == "PCM_16"
    rows = list(csv.DictReader(io.StringIO(Path(table).read_text())))
    assert len(rows) == M
    assert [int(r["code_index"]) for r in rows] == list(range(M))
    assert rows[40]["missing"] == "1" and rows[41]["missing"] == "0"
    assert rows[0]["code"] == "-128" and rows[0]["dnl_lsb"] == ""
    assert Path(plot).read_bytes()[1:4] == b"PNG"


def test_histogram_report_to_stdout_puts_the_table_on_stderr(cli, tmp_path):
    record = _record(tmp_path)
    args = ["analyze", record, "--histogram", "--bits", "8", "--report", "-"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["histogram"]["missing_codes"] == []
    assert "max |DNL|" in result.stderr


def test_the_channel_asked_for_is_tested_and_svg_plots_are_written(cli, tmp_path):
    one = sf.read(_record(tmp_path), dtype="int16")[0]
    two = sf.read(_record(tmp_path, missing=(77,)), dtype="int16")[0]
    path = tmp_path / "stereo.wav"
    sf.write(str(path), np.stack([one, two], axis=1), 48000, subtype="PCM_16")
    plot = str(tmp_path / "p.svg")
    args = ["analyze", str(path), "--histogram", "--bits", "8", "--report", "-"]
    result = CliRunner().invoke(cli, [*args, "--channel", "2", "--plot", plot])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["histogram"]["missing_codes"] == [77]
    assert "channel 2 of 2" in result.stderr
    assert Path(plot).read_text().lstrip().startswith("<?xml")
    result = CliRunner().invoke(cli, args)
    assert json.loads(result.stdout)["histogram"]["missing_codes"] == []


def test_bits_default_to_the_container_depth(cli, tmp_path):
    k = np.arange(1, M)
    t = (k - M / 2 - 0.5) * D
    frames = 2 * required_samples(BITS, amplitude=1.03)
    x = 1.03 * np.sin(2 * np.pi * ((1009 * np.arange(frames)) % frames) / frames)
    codes = np.searchsorted(t, x, side="right") - M // 2
    path = tmp_path / "u8.wav"
    sf.write(str(path), (codes * 256).astype(np.int16), 8000, subtype="PCM_U8")
    result = CliRunner().invoke(cli, ["analyze", str(path), "--histogram"])
    assert result.exit_code == 0, result.output
    assert ": 8 bits," in result.stdout


def test_generate_then_analyze_the_float_stimulus_end_to_end(cli, tmp_path):
    stimulus = str(tmp_path / "s.wav")
    result = CliRunner().invoke(
        cli, ["generate", "histogram-sine", "-o", stimulus, "--bits", "8"]
    )
    assert result.exit_code == 0, result.output
    x, _ = sf.read(stimulus)
    assert x.size >= required_samples(8, amplitude=10 ** (0.2 / 20))
    args = ["analyze", stimulus, "--histogram", "--bits", "8", "--report", "-"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    h = json.loads(result.stdout)["histogram"]
    # the float file's top 8 bits: a floor quantizer, linear to 0.05 LSB
    assert h["max_abs_dnl_lsb"] < 0.05 and h["missing_codes"] == []
    assert h["offset_error_lsb"] is None
    # told the stimulus, the test sees floor's transitions at k D, half an LSB
    # above the mid-tread ones: offset +0.5 LSB, no gain error
    result = CliRunner().invoke(cli, [*args, "--stimulus-dbfs", "0.2"])
    assert result.exit_code == 0, result.output
    h = json.loads(result.stdout)["histogram"]
    assert h["offset_error_lsb"] == pytest.approx(0.5, abs=0.01)
    assert h["gain_error_lsb"] == pytest.approx(0.0, abs=0.01)
    assert "offset error        +0.500 LSB" in result.stderr


def test_a_too_short_record_exits_1_with_one_line(cli, tmp_path):
    record = _record(tmp_path, frames=required_samples(BITS, amplitude=1.03) // 3)
    args = ["analyze", record, "--histogram", "--bits", "8"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    _one_error_line(result)
    assert "too few for 8 bits" in result.stderr


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--bits", "1"], "--bits"),
        (["--bits", "17"], "--bits"),
        (["--bits", "12"], "more than the 8 bits"),
        (["--channel", "2"], "has 1 channel"),
        (["--channel", "0"], "--channel"),
        (["--dnl-resolution", "0"], "--dnl-resolution"),
        (["--plot", "x.gif"], None),
    ],
)
def test_bad_histogram_values_exit_2_with_one_line(cli, tmp_path, extra, match):
    k = np.arange(-(M // 2), M // 2)
    path = tmp_path / "pcm8.wav"
    sf.write(
        str(path), (np.repeat(k, 2000) * 256).astype(np.int16), 8000, subtype="PCM_U8"
    )
    result = CliRunner().invoke(cli, ["analyze", str(path), "--histogram", *extra])
    if match is None:
        assert result.exit_code == 1
        _one_error_line(result)
        return
    assert result.exit_code == 2, result.output
    assert match in result.stderr
    assert len([ln for ln in result.stderr.splitlines() if "Error" in ln]) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ["--bits", "8"],
        ["--csv", "x.csv"],
        ["--plot", "x.png"],
        ["--channel", "2"],
        ["--stimulus-dbfs", "0.2"],
    ],
)
def test_histogram_options_without_histogram_exit_2(cli, tmp_path, extra):
    record = _record(tmp_path, frames=1000)
    result = CliRunner().invoke(cli, ["analyze", record, *extra])
    assert result.exit_code == 2
    assert "needs --histogram" in result.stderr


def test_a_float_record_needs_bits(cli, tmp_path):
    path = tmp_path / "f.wav"
    sf.write(str(path), np.zeros(100), 8000, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["analyze", str(path), "--histogram"])
    assert result.exit_code == 2
    assert "--bits N" in result.stderr


def test_a_companded_record_is_refused(cli, tmp_path):
    path = tmp_path / "mu.wav"
    sf.write(str(path), np.zeros(100), 8000, subtype="ULAW")
    result = CliRunner().invoke(
        cli, ["analyze", str(path), "--histogram", "--bits", "8"]
    )
    assert result.exit_code == 1
    _one_error_line(result)
    assert "not linear PCM or float" in result.stderr


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--bits", "1"], "bits=1"),
        ([], "bits is required"),
        (["--bits", "8", "--overdrive-db", "0"], "--overdrive-db"),
        (["--bits", "8", "--level-dbfs", "-1"], "--level-dbfs does not apply"),
    ],
)
def test_generate_histogram_sine_bad_values_exit_2(cli, tmp_path, args, match):
    out = str(tmp_path / "s.wav")
    result = CliRunner().invoke(cli, ["generate", "histogram-sine", "-o", out, *args])
    assert result.exit_code == 2, result.output
    assert match in result.stderr
    assert not Path(out).exists()


def test_overdrive_does_not_apply_to_a_plain_sine(cli, tmp_path):
    out = str(tmp_path / "s.wav")
    args = ["generate", "sine", "-o", out, "--overdrive-db", "0.5"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--overdrive-db does not apply to sine" in result.stderr
