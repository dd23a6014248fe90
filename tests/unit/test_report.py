"""The JSON report: plain types, null for NaN and infinities, stable order."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import adcsim
from adcsim.run._report import SCHEMA_VERSION, Report, plain


def refuse_constants(name: str) -> None:
    raise AssertionError(f"{name} in JSON")


def sample_report(**metrics: Any) -> Report:
    return Report(
        input={
            "path": "in.wav",
            "sample_rate": 8000,
            "channels": 1,
            "frames": 3,
            "subtype": "PCM_16",
        },
        output={"path": "out.wav", "sample_rate": 8000, "subtype": "PCM_U8"},
        settings={
            "bits": 8,
            "scheme": "uniform",
            "rate": None,
            "dither": "none",
            "seed": 0,
        },
        metrics=metrics,
        channels=[dict(metrics)],
    )


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        np.float64("nan"),
        np.float32("inf"),
        np.array(np.nan),
    ],
)
def test_non_finite_values_become_null(bad: Any) -> None:
    text = sample_report(snr_db=bad, mse=0.0).to_json()
    data = json.loads(text, parse_constant=refuse_constants)
    assert data["metrics"]["snr_db"] is None
    assert data["channels"][0]["snr_db"] is None


def test_numpy_values_become_plain_json_numbers() -> None:
    report = sample_report(
        levels_used=np.int64(129),
        mse=np.float32(0.25),
        per_level=np.array([1, 2]),
        flag=np.bool_(True),
    )
    data = json.loads(report.to_json(), parse_constant=refuse_constants)
    assert data["metrics"] == {
        "levels_used": 129,
        "mse": 0.25,
        "per_level": [1, 2],
        "flag": True,
    }
    assert type(data["metrics"]["levels_used"]) is int


def test_plain_keeps_finite_floats_exactly() -> None:
    values = [0.1, 1e-300, -2.5e300, 5e-324, 49.92571189679381]
    assert plain(values) == values
    assert json.loads(json.dumps(plain(values))) == values


def test_top_level_keys_in_stable_order() -> None:
    data = json.loads(sample_report(mse=1.0).to_json())
    keys = list(data)
    assert keys[:2] == ["schema_version", "adcsim_version"]
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["adcsim_version"] == adcsim.__version__
    for key in ("provenance", "input", "output", "settings", "metrics", "channels"):
        assert key in keys
    assert keys.index("input") < keys.index("output") < keys.index("metrics")


def test_indent_none_is_one_line_ending_in_a_newline() -> None:
    text = sample_report(mse=math.nan).to_json(indent=None)
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text)["metrics"]["mse"] is None


def test_same_report_same_text() -> None:
    a = sample_report(mse=0.5, snr_db=3.0).to_json()
    b = sample_report(mse=0.5, snr_db=3.0).to_json()
    assert a == b
