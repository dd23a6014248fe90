"""``adcsim tensors``: the table, the JSON report and CSV, bad inputs and options."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adcsim.cli import _tensors
from adcsim.cli._main import main
from adcsim.tensors._report import ROW_KEYS, TensorsConfig


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "m.npz"
    np.savez(
        path,
        **{
            "layer.weight": rng.standard_normal((64, 256)).astype(np.float32),
            "layer.bias": np.zeros(64, np.float32),
            "embed.weight": rng.laplace(size=(32, 128)).astype(np.float16),
            "steps": np.arange(2048, dtype=np.int64),
        },
    )
    return path


def run(args: list[str]):
    return CliRunner().invoke(main, ["tensors", *args], catch_exceptions=False)


def test_cli_defaults_are_the_configs() -> None:
    d = TensorsConfig()
    assert d.schemes == (_tensors._SCHEMES,)
    assert d.granularity == _tensors._GRANULARITY
    assert d.group_size == _tensors._GROUP_SIZE
    assert d.calibration == _tensors._CALIBRATION
    assert d.percentile == _tensors._PERCENTILE
    assert d.min_size == _tensors._MIN_SIZE


def test_help_has_examples() -> None:
    result = run(["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_report_holds_every_tensor_and_scheme_with_the_issues_keys(
    checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    result = run([str(checkpoint), "-s", "int8,uint4", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "layer.weight" in result.output and "total" in result.output
    report = json.loads(out.read_text())
    rows = report["tensors"]
    assert len(rows) == 8
    for row in rows:
        assert list(row) == list(ROW_KEYS)
        for key in (
            "name",
            "scheme",
            "shape",
            "sqnr_db",
            "mse",
            "max_abs_error",
            "cosine",
            "bits_per_weight",
        ):
            assert key in row
    by = {(r["name"], r["scheme"]): r for r in rows}
    w = by[("layer.weight", "int8-channel")]
    assert w["quantized"] and w["shape"] == [64, 256]
    assert w["sqnr_db"] == pytest.approx(w["theory_sqnr_db"], abs=0.3)
    assert w["bits_per_weight"] == pytest.approx(8 + 32 / 256)
    assert by[("layer.bias", "int8-channel")]["left_in_float"] == "min-size"
    assert by[("layer.bias", "int8-channel")]["sqnr_db"] is None
    assert by[("steps", "uint4-channel")]["left_in_float"] == "not floating"
    (ck,) = report["checkpoints"]
    totals = {t["scheme"]: t for t in ck["totals"]}
    before = 64 * 256 * 4 + 64 * 4 + 32 * 128 * 2 + 2048 * 8
    assert totals["int8-channel"]["size_before_bytes"] == before
    after = 64 * 256 * (8 + 32 / 256) / 8 + 32 * 128 * (8 + 32 / 128) / 8
    assert totals["int8-channel"]["size_after_bytes"] == math.ceil(
        after + 64 * 4 + 2048 * 8
    )
    assert totals["int8-channel"]["quantized_tensors"] == 2


def test_report_to_stdout_moves_the_table_to_stderr_and_csv_has_a_line_per_row(
    checkpoint: Path, tmp_path: Path
) -> None:
    csv_path = tmp_path / "t.csv"
    result = CliRunner().invoke(
        main,
        [
            "tensors",
            str(checkpoint),
            "--exclude",
            "embed.*",
            "--report",
            "-",
            "--csv",
            str(csv_path),
            "--granularity",
            "group",
            "--group-size",
            "64",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    rows = {r["name"]: r for r in report["tensors"]}
    assert rows["embed.weight"]["left_in_float"] == "excluded"
    assert rows["layer.weight"]["scheme"] == "int8-g64"
    lines = csv_path.read_text().splitlines()
    assert lines[0].split(",") == list(ROW_KEYS) and len(lines) == 5


def test_existing_output_needs_force_and_bad_inputs_give_one_error(
    checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    out.write_text("{}")
    runner = CliRunner()
    for args, match in (
        ([str(checkpoint), "--report", str(out)], "file exists"),
        ([str(checkpoint), "--report", str(checkpoint), "--force"], "is the input"),
        ([str(tmp_path / "none.npz")], "no such file"),
        ([str(checkpoint), "-s", "int99"], "bits=99"),
        ([str(checkpoint), "-s", "fp9"], "scheme='fp9'"),
    ):
        result = runner.invoke(main, ["tensors", *args])
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.count("Error:") == 1 and match in result.stderr
        assert "Traceback" not in result.stderr
    assert out.read_text() == "{}"
    bad = runner.invoke(main, ["tensors", str(checkpoint), "--granularity", "row"])
    assert bad.exit_code == 2
