"""The static transfer curve end to end (issue 13): generate -> quantize with
--inl-lsb/--dnl-lsb or --transfer -> analyze --histogram, against the
realized curve the run wrote with --transfer-out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adcsim.cli._main import main as cli

BITS = 10
M = 1 << BITS


def _one_error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def _linearity(transitions):
    """Terminal-based DNL/INL and missing codes, written out from IEEE Std 1241
    here (not adcsim's `linearity`)."""
    t = np.asarray(transitions)
    q = (t[-1] - t[0]) / (t.size - 1)
    dnl = np.diff(t) / q - 1
    inl = (t - t[0]) / q - np.arange(t.size)
    missing = [int(k) + 1 for k in np.flatnonzero(np.diff(t) == 0)]
    return dnl, inl, missing


@pytest.fixture(scope="module")
def stimulus(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("stim") / "stim.wav"
    result = CliRunner().invoke(
        cli,
        ["generate", "histogram-sine", "--bits", str(BITS), "-q", "-o", str(path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return path


def _histogram(runner, tmp_path, stimulus, *converter):
    out, curve, hist = (tmp_path / n for n in ("adc.wav", "t.json", "h.json"))
    args = ["quantize", str(stimulus), "--bits", str(BITS), "-o", str(out)]
    args += [*converter, "--transfer-out", str(curve), "--no-plot", "-q"]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    args = ["analyze", str(out), "--histogram", "--bits", str(BITS)]
    result = runner.invoke(cli, [*args, "--report", str(hist)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    realized = json.loads(curve.read_text())
    assert realized["bits"] == BITS and len(realized["transitions"]) == M - 1
    report = json.loads(out.with_suffix(".json").read_text())
    return realized, json.loads(hist.read_text())["histogram"], report


@pytest.mark.parametrize(
    "converter",
    [
        ["--inl-lsb", "1.5", "--inl-shape", "bow"],
        ["--inl-lsb", "2", "--inl-shape", "s", "--dnl-lsb", "0.25", "--seed", "4"],
        ["--dnl-lsb", "0.6", "--seed", "7"],  # many missing codes
    ],
)
def test_the_histogram_test_recovers_the_injected_curve(
    runner, tmp_path, stimulus, converter
):
    realized, measured, report = _histogram(runner, tmp_path, stimulus, *converter)
    dnl, inl, missing = _linearity(realized["transitions"])
    # Issue 13: within 0.1 LSB per code, every missing code found.
    got_dnl = np.array(measured["dnl_lsb"][1:-1], dtype=float)
    got_inl = np.array(measured["inl_lsb"][1:], dtype=float)
    assert np.max(np.abs(got_dnl - dnl)) < 0.1
    assert np.max(np.abs(got_inl - inl)) < 0.1
    assert measured["missing_codes"] == missing
    entry = report["adc"]["static_transfer"]
    assert entry["missing_codes"] == missing
    assert entry["max_abs_inl_lsb"] == pytest.approx(np.max(np.abs(inl)))
    if "--dnl-lsb" in converter and "0.6" in converter:
        assert len(missing) > 10


def test_a_transfer_file_is_applied_as_given(runner, tmp_path, stimulus):
    rng = np.random.default_rng(11)
    k = np.arange(1, M)
    t = (k - M / 2 - 0.5) * (2.0 / M) + rng.normal(0, 0.2, M - 1) * (2.0 / M)
    t = np.maximum.accumulate(t)
    t[100] = t[99]  # a missing code, 100
    given = tmp_path / "part.json"
    given.write_text(json.dumps({"bits": BITS, "transitions": t.tolist()}))
    realized, measured, report = _histogram(
        runner, tmp_path, stimulus, "--transfer", str(given)
    )
    assert realized["transitions"] == t.tolist()
    dnl, inl, missing = _linearity(t)
    assert 100 in measured["missing_codes"] == missing
    assert np.max(np.abs(np.array(measured["dnl_lsb"][1:-1], float) - dnl)) < 0.1
    assert report["adc"]["static_transfer"]["transfer"] == str(given)


def test_a_bow_inl_reports_the_predicted_and_measured_second_harmonic(
    runner, tmp_path, wav_file
):
    n = np.arange(1 << 16)
    x = 0.9 * np.sin(2 * np.pi * 997.0 * n / 48000)
    src = wav_file(tmp_path, x, 48000, subtype="PCM_24")
    out = tmp_path / "o.wav"
    args = ["quantize", str(src), "--bits", "12", "--inl-lsb", "2", "-o", str(out)]
    result = runner.invoke(cli, [*args, "--no-plot", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    entry = json.loads(out.with_suffix(".json").read_text())["adc"]["static_transfer"]
    # HD2 = a2 A / 2, a2 = 2 D / (1 - D)**2 (issue 13), written out here
    d = 2.0 / 4096
    expected = 20 * np.log10(2 * d / (1 - d) ** 2 * 0.9 / 2)
    assert entry["predicted_hd2_dbc"] == pytest.approx(expected, abs=0.05)
    assert abs(entry["measured_hd2_dbc"] - expected) < 0.5


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "not valid JSON"),
        ('{"bits": 10}', "missing key 'transitions'"),
        ('{"bits": 8, "transitions": [0.1, 0.0, 0.2]}', "needs 255 transitions"),
        ('{"bits": 2, "transitions": [0.5, 0.1, 0.6]}', "non-decreasing"),
        ('{"bits": 2, "transitions": [-0.5, 0.0, 0.5]}', "bits=2"),  # not --bits 10
    ],
)
def test_a_bad_transfer_file_exits_1_with_one_line_and_no_output(
    runner, tmp_path, wav_file, content, match
):
    src = wav_file(tmp_path, np.zeros(64), 8000)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "o.wav"
    args = [
        "quantize",
        str(src),
        "--bits",
        "10",
        "--transfer",
        str(bad),
        "-o",
        str(out),
    ]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert match in _one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "in.wav"]


def test_transfer_out_never_names_an_input_or_another_output(
    runner, tmp_path, wav_file
):
    src = wav_file(tmp_path, np.zeros(64), 8000)
    before = src.read_bytes()
    out = tmp_path / "o.wav"
    base = ["quantize", str(src), "--bits", "10", "--inl-lsb", "1", "-o", str(out)]
    for target in (src, out, out.with_suffix(".json")):
        result = runner.invoke(cli, [*base, "--transfer-out", str(target), "--force"])
        assert result.exit_code == 1, result.stderr
        _one_error_line(result)
    assert src.read_bytes() == before
    assert not out.exists()
