"""``--metric`` on quantize, compare and sweep (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from adcsim.cli import main
from adcsim.cli._options import METRIC_NAMES
from adcsim.metrics._distortion import si_sdr
from adcsim.metrics._perceptual import METRICS
from adcsim.metrics._stoi import stoi

SPEECH = Path(__file__).resolve().parents[2] / "samples" / "speech-mono-16k.wav"
MUSIC = Path(__file__).resolve().parents[2] / "samples" / "music-stereo-44k.wav"
KEYS = ["value", "rate_hz", "mode", "package", "version", "mix", "channels", "notes"]


def test_the_help_names_the_registry_metrics():
    assert tuple(METRICS) == METRIC_NAMES


def test_quantize_reports_each_metric_at_its_own_rate(runner, tmp_path):
    out = tmp_path / "q.wav"
    result = runner.invoke(
        main,
        [
            "quantize",
            str(SPEECH),
            "-b",
            "6",
            "--metric",
            "stoi,si-sdr",
            "--no-plot",
            "-o",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    section = json.loads(out.with_suffix(".json").read_text())["perceptual"]
    assert list(section) == ["stoi", "si-sdr"]
    assert list(section["stoi"]) == KEYS
    assert section["stoi"]["rate_hz"] == 10000
    assert section["si-sdr"]["rate_hz"] == 16000
    # against the library on the files themselves
    ref, _ = sf.read(SPEECH)
    test, _ = sf.read(out)
    assert section["stoi"]["value"] == pytest.approx(
        stoi(ref, test, rate=16000), abs=1e-6
    )
    assert section["si-sdr"]["value"] == pytest.approx(si_sdr(ref, test), abs=1e-9)


def test_quantize_of_stereo_reports_the_mix_and_each_channel(runner, tmp_path):
    out = tmp_path / "m.wav"
    result = runner.invoke(
        main,
        ["quantize", str(MUSIC), "-b", "8", "--metric", "lsd", "--no-plot"]
        + ["-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lsd = json.loads(out.with_suffix(".json").read_text())["perceptual"]["lsd"]
    assert lsd["mix"].startswith("mean of the channels")
    assert len(lsd["channels"]) == 2
    assert lsd["rate_hz"] == 44100


def test_more_bits_give_better_metrics_on_the_bundled_speech(runner, tmp_path):
    values = []
    for bits in (3, 5, 8):
        out = tmp_path / f"b{bits}.wav"
        result = runner.invoke(
            main,
            ["quantize", str(SPEECH), "-b", str(bits), "--metric", "stoi,estoi"]
            + ["--no-plot", "-o", str(out)],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        section = json.loads(out.with_suffix(".json").read_text())["perceptual"]
        values.append((section["stoi"]["value"], section["estoi"]["value"]))
    assert values == sorted(values)


def test_an_unknown_metric_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(
        main, ["quantize", str(SPEECH), "--metric", "stoi,nope", "-o", "x.wav"]
    )
    assert result.exit_code == 2
    assert "metric 'nope' is not one of" in result.output
    assert "Traceback" not in result.output


def test_a_too_short_input_gives_null_and_a_note(runner, tmp_path, wav_file):
    path = wav_file(tmp_path, 0.3 * np.sin(np.arange(800) / 5), 16000)
    out = tmp_path / "s.wav"
    result = runner.invoke(
        main,
        ["quantize", str(path), "--metric", "stoi,lsd", "--no-plot", "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    section = json.loads(out.with_suffix(".json").read_text())["perceptual"]
    assert section["stoi"]["value"] is None and section["stoi"]["notes"]
    assert section["lsd"]["value"] is None and section["lsd"]["notes"]


def test_compare_reports_the_perceptual_section(runner, tmp_path, wav_file):
    ref, rate = sf.read(SPEECH)
    noisy = ref + np.random.default_rng(3).normal(0, 0.01, ref.size)
    test = wav_file(tmp_path, noisy, rate, subtype="FLOAT", name="t.wav")
    report = tmp_path / "c.json"
    result = runner.invoke(
        main,
        ["compare", str(SPEECH), str(test), "--metric", "si-sdr,stoi"]
        + ["--report", str(report)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    section = json.loads(report.read_text())["perceptual"]
    assert section["si-sdr"]["value"] == pytest.approx(
        si_sdr(ref, sf.read(test)[0]), abs=1e-9
    )
    assert "stoi 0." in result.output


def test_sweep_adds_a_column_per_metric(runner, tmp_path):
    csv = tmp_path / "s.csv"
    result = runner.invoke(
        main,
        ["sweep", str(SPEECH), "--bits", "4,8", "-s", "uniform", "--levels", "-20"]
        + ["--metric", "si-sdr,stoi", "--csv", str(csv)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = csv.read_text().splitlines()
    assert lines[0].endswith(",si-sdr,stoi")
    stoi_4, stoi_8 = (float(line.split(",")[-1]) for line in lines[1:])
    assert 0 < stoi_4 < stoi_8 <= 1
