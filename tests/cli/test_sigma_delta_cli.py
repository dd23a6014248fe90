"""``quantize --sigma-delta ORDER --osr K [--modulator-bits B]`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from adcsim.cli._main import main as cli


def _formula_db(order, osr, bits, level_db):
    # Schreier & Temes 2005 (issue 13), written out here.
    return (
        6.02 * bits
        + 1.76
        - 10 * np.log10(np.pi ** (2 * order) / (2 * order + 1))
        + (2 * order + 1) * 10 * np.log10(osr)
        + level_db
    )


def _run(runner, tmp_path, wav_file, *args, amplitude=0.5, blocksize=None):
    n = np.arange(48000)
    x = amplitude * np.sin(2 * np.pi * 997.0 * n / 48000)
    src = wav_file(tmp_path, x, 48000, subtype="PCM_24")
    out = tmp_path / "o.wav"
    extra = ["--blocksize", str(blocksize)] if blocksize else []
    cmd = ["quantize", str(src), "-b", "16", "-o", str(out), "--no-plot", "-q"]
    result = runner.invoke(cli, [*cmd, *args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(out.with_suffix(".json").read_text()), out


def test_one_bit_mod2_reports_predicted_and_measured_in_band_sqnr(
    runner, tmp_path, wav_file
):
    report, out = _run(runner, tmp_path, wav_file, "--sigma-delta", "2", "--osr", "64")
    entry = report["adc"]["sigma_delta"]
    assert report["output"]["frames"] == 48000
    assert entry["modulator_bits"] == 1 and entry["modulator_error_limited"] == 0
    formula = _formula_db(2, 64, 1, 20 * np.log10(0.5))
    assert entry["predicted_in_band_sqnr_db"] == pytest.approx(formula, abs=0.01)
    at_step = formula - 20 * np.log10(2)  # levels +-1: step 2 (see the stage)
    assert entry["predicted_in_band_sqnr_at_step_db"] == pytest.approx(at_step, 0.01)
    assert at_step - 3.0 < entry["measured_in_band_sqnr_db"] < at_step + 1.0
    assert not any("overloaded" in note for note in report["notes"])


def test_an_unstable_modulator_is_counted_and_noted(runner, tmp_path, wav_file):
    report, _ = _run(
        runner,
        tmp_path,
        wav_file,
        *("--sigma-delta", "3", "--osr", "32", "--modulator-bits", "1"),
    )
    entry = report["adc"]["sigma_delta"]
    assert entry["modulator_error_limited"] > 0
    assert any("sigma-delta modulator overloaded" in n for n in report["notes"])


def test_the_output_does_not_depend_on_the_block_size(runner, tmp_path, wav_file):
    args = ("--sigma-delta", "3", "--osr", "16")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, first = _run(runner, tmp_path / "a", wav_file, *args, blocksize=65536)
    _, second = _run(runner, tmp_path / "b", wav_file, *args, blocksize=1000)
    assert first.read_bytes() == second.read_bytes()
