"""Golden tests: fixed `adcsim quantize` runs over samples/, against frozen results.

Each case in ``cases/*.toml`` runs through ``python -m adcsim quantize`` in a
subprocess; its audio files (by SHA-256), figure names and normalized JSON
report are compared with ``cases/<name>.json``: floats to rtol=1e-9 (atol
1e-15 near zero), everything else exactly, extra or missing keys included.
``make golden`` rewrites the expected files (see ``regenerate.py``); review
the diff and say in the commit why it changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import golden_cases
import pytest

NAMES = golden_cases.case_names()


def test_every_expected_file_has_a_case_and_every_case_one() -> None:
    expected = sorted(p.stem for p in golden_cases.CASES_DIR.glob("*.json"))
    assert expected == NAMES, "run `make golden` after adding or removing a case"
    assert len(NAMES) >= 25


@pytest.mark.parametrize("name", NAMES)
def test_case_matches_its_frozen_result(name: str, tmp_path: Path) -> None:
    path = golden_cases.expected_path(name)
    assert path.exists(), f"no {path.name}: run `make golden` and review it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    actual = golden_cases.run_case(name, tmp_path)
    for plot in actual["plots"]:
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    diff = golden_cases.differences(expected, actual)
    if diff:
        shown = "\n".join(diff[:60])
        more = f"\n... and {len(diff) - 60} more" if len(diff) > 60 else ""
        pytest.fail(f"{name}: {len(diff)} differences\n{shown}{more}", pytrace=False)


# --- the comparison itself ----------------------------------------------------


def test_differences_name_the_key_path_of_each_change() -> None:
    expected = {"a": {"b": [1, 2.0, "x"], "c": None}, "d": True}
    actual = {"a": {"b": [1, 2.5, "y"], "e": 1}, "d": 1}
    assert golden_cases.differences(expected, actual) == [
        ".a.c: missing",
        ".a.e: unexpected key",
        ".a.b[1]: expected 2.0, got 2.5 (rel 0.25)",
        ".a.b[2]: expected 'x', got 'y'",
        ".d: expected bool True, got int 1",
    ]


def test_floats_agree_to_rtol_1e_9_and_atol_1e_15() -> None:
    close = golden_cases.floats_close
    assert close(1.0, 1.0 + 9e-10) and not close(1.0, 1.0 + 2e-9)
    assert close(-3e5, -3e5 * (1 + 5e-10)) and not close(-3e5, -3e5 * (1 + 5e-9))
    assert close(0.0, 1e-15) and not close(0.0, 1e-14)
    diff = golden_cases.differences
    assert diff([1.0], [1]) == ["[0]: expected float 1.0, got int 1"]
    assert diff({"n": 7}, {"n": 8}) == [".n: expected 7, got 8"]
    assert diff([None], [0.0]) == ["[0]: expected null None, got float 0.0"]
    assert diff([1, 2], [1]) == ["<top>: length 1, expected 2"]
    assert diff({"a": 1, "b": 2}, {"b": 2, "a": 1}) == [
        "<top>: key order ['b', 'a'], expected ['a', 'b']"
    ]


def test_normalized_reports_keep_hashes_and_drop_versions_and_paths(
    tmp_path: Path,
) -> None:
    report = {
        "schema_version": 1,
        "adcsim_version": "9.9",
        "provenance": {
            "command_line": "adcsim quantize ...",
            "versions": {"numpy": "9.9"},
            "input_sha256": "ab",
            "output_sha256": "cd",
        },
        "input": {"path": str(tmp_path / "in.wav")},
        "output": {"path": "out.wav", "report_path": str(tmp_path / "r.json")},
    }
    assert golden_cases.normalize_report(report, roots=(tmp_path,)) == {
        "schema_version": 1,
        "provenance": {"input_sha256": "ab", "output_sha256": "cd"},
        "input": {"path": "in.wav"},
        "output": {"path": "out.wav", "report_path": "r.json"},
    }
    report["notes"] = [f"wrote {tmp_path / 'x.wav'}"]
    with pytest.raises(AssertionError, match="path under"):
        golden_cases.normalize_report(report, roots=(tmp_path,))
