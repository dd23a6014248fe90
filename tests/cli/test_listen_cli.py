"""The listen and listen-results commands through Click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adcsim.cli._listen import listen, listen_results
from adcsim.io._reader import read as read_audio
from adcsim.io._writer import write as write_audio

RATE = 16000


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def reference(tmp_path: Path) -> str:
    t = np.arange(RATE) / RATE
    path = str(tmp_path / "ref.wav")
    write_audio(path, 0.3 * np.sin(2 * np.pi * 440 * t), RATE)
    return path


@pytest.mark.parametrize("command", [listen, listen_results])
def test_help_exits_0_with_examples(runner, command):
    result = runner.invoke(command, ["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_session_is_built_from_the_cross_product(runner, reference, tmp_path):
    out = tmp_path / "s"
    result = runner.invoke(
        listen,
        [
            reference,
            "-o",
            str(out),
            "--scheme",
            "uniform,mulaw",
            "--bits",
            "4,8",
            "--condition",
            "tel=scheme=alaw,bits=8,rate=8000",
            "--trials",
            "2",
            "--seed",
            "1",
            "--mid-anchor",
            "--export",
            "webmushra",
            "--subtype",
            "PCM_24",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    key = json.loads((out / "key.json").read_text())
    assert [c["name"] for c in key["conditions"]] == [
        "uniform-4bit",
        "uniform-8bit",
        "mulaw-4bit",
        "mulaw-8bit",
        "tel",
    ]
    assert sum(t["design"] == "abx" for t in key["trials"]) == 5 * 2
    assert (out / "index.html").is_file() and (out / "README.txt").is_file()
    assert (out / "webmushra" / "adcsim.yaml").is_file()
    name = next(iter(key["stimuli"]))
    assert read_audio(str(out / "audio" / f"{name}.wav"))[1].subtype == "PCM_24"
    assert "session" in result.stderr and result.stdout == ""


def test_file_condition_compares_another_file(runner, reference, tmp_path):
    other = str(tmp_path / "other.wav")
    x, _ = read_audio(reference)
    write_audio(other, np.round(x * 64) / 64, RATE)
    out = tmp_path / "s"
    result = runner.invoke(
        listen,
        [
            reference,
            "-o",
            str(out),
            "--file",
            f"tool={other}",
            "--design",
            "abx",
            "--trials",
            "3",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    key = json.loads((out / "key.json").read_text())
    assert key["conditions"][0]["path"] == other
    assert {t["condition"] for t in key["trials"]} == {"tool"}


def test_file_of_another_length_is_one_error_line_unless_pad(
    runner, reference, tmp_path
):
    short = str(tmp_path / "short.wav")
    x, _ = read_audio(reference)
    write_audio(short, x[:-100], RATE)
    args = [reference, "-o", str(tmp_path / "s"), "--file", f"cut={short}"]
    result = runner.invoke(listen, [*args, "--design", "mushra"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and "--pad" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.wav", "short.wav"]
    result = runner.invoke(listen, [*args, "--pad"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "MB in" in result.stderr and "warning" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--bits", "8,x"],
        ["--condition", "bad"],
        ["--excerpt", "2"],
        ["--design", "ab"],
        ["--scheme", "nope", "--bits", "8"],
        ["--dither", "tpdf"],
        ["--trials", "0"],
    ],
)
def test_bad_options_are_usage_errors(runner, reference, tmp_path, args):
    result = runner.invoke(listen, [reference, "-o", str(tmp_path / "s"), *args])
    assert result.exit_code == 2


def test_missing_reference_is_one_error_line(runner, tmp_path):
    result = runner.invoke(
        listen, [str(tmp_path / "nope.wav"), "-o", str(tmp_path / "s"), "--bits", "8"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def fake_results(key: dict) -> dict:
    mushra = [
        {
            "trial": t["id"],
            "ratings": {
                n: (100 if lab == "hidden-reference" else 30)
                for n, lab in t["stimuli"].items()
            },
        }
        for t in key["trials"]
        if t["design"] == "mushra"
    ]
    abx = [
        {"trial": t["id"], "x": t["x"], "answer": t["x_is"]}
        for t in key["trials"]
        if t["design"] == "abx"
    ]
    return {
        "format": "adcsim-listening-results",
        "schema_version": 1,
        "session_id": key["session_id"],
        "listener": "ann",
        "mushra": mushra,
        "abx": abx,
    }


def test_results_are_scored_to_table_report_csv_and_plot(runner, reference, tmp_path):
    out = tmp_path / "s"
    runner.invoke(
        listen,
        [reference, "-o", str(out), "--bits", "6", "--trials", "5"],
        catch_exceptions=False,
    )
    key = json.loads((out / "key.json").read_text())
    results = tmp_path / "ann.json"
    results.write_text(json.dumps(fake_results(key)))
    args = [str(results), "--key", str(out / "key.json")]
    table = runner.invoke(listen_results, args, catch_exceptions=False)
    assert table.exit_code == 0 and "uniform-6bit" in table.stdout
    report = runner.invoke(
        listen_results, [*args, "--report", "-"], catch_exceptions=False
    )
    data = json.loads(report.stdout)
    # 5 of 5 right: p = 1/32.
    assert data["abx"][0]["correct"] == 5 and data["abx"][0]["p_value"] == 1 / 32
    files = [
        *args,
        "--csv",
        str(tmp_path / "s.csv"),
        "--plot",
        str(tmp_path / "s.png"),
        "--report",
        str(tmp_path / "r.json"),
    ]
    assert runner.invoke(listen_results, files, catch_exceptions=False).exit_code == 0
    assert (tmp_path / "s.csv").read_text().startswith("design,label")
    assert (tmp_path / "s.png").stat().st_size > 1000
    again = runner.invoke(listen_results, files)
    assert again.exit_code == 1 and "Error:" in again.stderr
    assert runner.invoke(listen_results, [*files, "--force"]).exit_code == 0


def test_results_of_another_session_are_refused(runner, reference, tmp_path):
    for name, seed in [("a", "1"), ("b", "2")]:
        runner.invoke(
            listen,
            [reference, "-o", str(tmp_path / name), "--bits", "6", "--seed", seed],
            catch_exceptions=False,
        )
    key_a = json.loads((tmp_path / "a" / "key.json").read_text())
    results = tmp_path / "r.json"
    results.write_text(json.dumps(fake_results(key_a)))
    result = runner.invoke(
        listen_results, [str(results), "--key", str(tmp_path / "b" / "key.json")]
    )
    assert result.exit_code == 1
    assert "do not match the key" in result.stderr and "Traceback" not in result.output
