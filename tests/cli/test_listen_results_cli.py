"""``adcsim listen-results``: the new options and its refusals, one line each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adcsim.cli._listen import listen, listen_results
from adcsim.io._writer import write as write_audio


@pytest.fixture
def session(runner, tmp_path: Path):
    t = np.arange(16000) / 16000
    write_audio(str(tmp_path / "item.wav"), 0.4 * np.sin(2 * np.pi * 300 * t), 16000)
    out = tmp_path / "s"
    runner.invoke(
        listen,
        [str(tmp_path / "item.wav"), "-o", str(out), "--bits", "6", "--trials", "3"],
        catch_exceptions=False,
    )
    return out / "key.json", json.loads((out / "key.json").read_text())


def results(key: dict, name: str, *, drop: int = 0) -> dict:
    mushra, abx = [], []
    for t in key["trials"][drop:]:
        if t["design"] == "mushra":
            mushra.append(
                {"trial": t["id"], "ratings": dict.fromkeys(t["stimuli"], 100)}
            )
        else:
            abx.append({"trial": t["id"], "x": t["x"], "answer": t["x_is"]})
    return {
        "format": "adcsim-listening-results",
        "schema_version": 1,
        "session_id": key["session_id"],
        "listener": name,
        "mushra": mushra,
        "abx": abx,
    }


def test_by_item_and_listener_reach_table_and_report(runner, session, tmp_path):
    key_path, key = session
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(results(key, "ann")))
    args = [str(path), "--key", str(key_path), "--by", "item", "--by", "listener"]
    table = runner.invoke(listen_results, args, catch_exceptions=False)
    assert table.exit_code == 0
    assert "MUSHRA item item" in table.stdout and "ABX listener ann" in table.stdout
    report = runner.invoke(listen_results, [*args, "--report", "-"])
    data = json.loads(report.stdout)
    assert [g["item"] for g in data["by_item"]] == ["item"]
    assert [g["listener"] for g in data["by_listener"]] == ["ann"]
    bad = runner.invoke(listen_results, [*args, "--by", "day"])
    assert bad.exit_code == 2


def test_allow_incomplete_says_what_is_missing(runner, session, tmp_path):
    key_path, key = session
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(results(key, "ann", drop=2)))
    args = [str(path), "--key", str(key_path)]
    refused = runner.invoke(listen_results, args)
    assert refused.exit_code == 1 and "--allow-incomplete" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.output
    scored = runner.invoke(listen_results, [*args, "--allow-incomplete"])
    assert scored.exit_code == 0
    first = key["trials"][0]["id"]
    assert f"misses 2 of {len(key['trials'])} trials ({first}" in scored.stdout


@pytest.mark.parametrize(
    "content",
    [
        '{"a": ' + "9" * 5000 + "}",
        "[" * 100000 + "]" * 100000,
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00",
        bytes(range(256)) * 8,
    ],
)
@pytest.mark.parametrize("role", ["results", "key"])
def test_hostile_results_or_key_is_one_error_line(
    runner, session, tmp_path, content, role
):
    key_path, key = session
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    good = tmp_path / "ann.json"
    good.write_text(json.dumps(results(key, "ann")))
    args = [str(bad), "--key", str(key_path)]
    if role == "key":
        args = [str(good), "--key", str(bad)]
    result = runner.invoke(listen_results, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_same_results_twice_and_one_listener_twice(runner, session, tmp_path):
    key_path, key = session
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(results(key, "ann")))
    b.write_text(json.dumps(results(key, "ann")) + "\n")
    twice = runner.invoke(listen_results, [str(a), str(a), "--key", str(key_path)])
    assert twice.exit_code == 1 and "given twice" in twice.stderr
    same = runner.invoke(listen_results, [str(a), str(b), "--key", str(key_path)])
    assert same.exit_code == 1 and "both listener 'ann'" in same.stderr
