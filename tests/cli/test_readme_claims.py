"""What the README says about errors, bit depths and noise shaping, run (issue 18).

Each test reads the claim from README.md and checks it against a real
``python -m adcsim`` process, so the text and the behaviour cannot drift apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

RUN_AS_ADCSIM = "import sys; sys.argv[0] = 'adcsim'; from adcsim.cli import run; run()"
README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def adcsim(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # (argv[0] 'adcsim', as the installed command: Click names it in usage)
        [sys.executable, "-c", RUN_AS_ADCSIM, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def sine(path: Path, *, subtype: str, rate: int = 44100) -> Path:
    t = np.arange(rate // 2) / rate
    sf.write(path, 0.5 * np.sin(2 * np.pi * 997.0 * t), rate, subtype=subtype)
    return path


def test_usage_errors_print_the_two_usage_lines_the_readme_quotes(
    tmp_path: Path,
) -> None:
    src = sine(tmp_path / "in.wav", subtype="PCM_16")
    proc = adcsim("quantize", src, "-b", "25")
    assert proc.returncode == 2
    usage, hint, blank, error = proc.stderr.splitlines()
    assert f"(`{usage}` and `{hint}`" in " ".join(README.split())
    assert blank == "" and error.startswith("Error: ")
    assert "Traceback" not in proc.stderr


def test_bits_go_from_1_to_24_and_lloydmax_stops_at_16(tmp_path: Path) -> None:
    assert "bit depth, 1 to 24" in README and "`lloydmax` stops at 16" in README
    src = sine(tmp_path / "in.wav", subtype="PCM_24")
    for bits in (1, 24):
        proc = adcsim("quantize", src, "-b", bits, "-o", tmp_path / f"{bits}.wav")
        assert proc.returncode == 0, proc.stderr
    for scheme, bits in (("uniform", 25), ("uniform", 0), ("lloydmax", 17)):
        proc = adcsim(
            "quantize", src, "-s", scheme, "-b", bits, "-o", tmp_path / "x.wav"
        )
        assert proc.returncode == 2, (scheme, bits, proc.stderr)
    out = tmp_path / "lloydmax16.wav"
    proc = adcsim("quantize", src, "-s", "lloydmax", "-b", 16, "-o", out, "--no-plot")
    assert proc.returncode == 0, proc.stderr


def shaped_report(src: Path, out: Path) -> dict[str, Any]:
    proc = adcsim(
        "quantize", src, "-b", 16, "--dither", "tpdf", "--noise-shaping",
        "f-weighted", "-o", out, "--report", "-", "--no-plot", "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_the_shaping_example_needs_its_24_bit_source(tmp_path: Path) -> None:
    example = "adcsim quantize in24.wav -b 16 --dither tpdf --noise-shaping f-weighted"
    assert example in README
    # From 16 bits: every sample is on the grid, the dither is bypassed (and
    # noted) and the shaping loop has no error to shape: output == input.
    src16 = sine(tmp_path / "in16.wav", subtype="PCM_16")
    report = shaped_report(src16, tmp_path / "out16.wav")
    assert any("dither bypassed" in note for note in report["notes"])
    assert report["stages"][0]["dither_active"] is False
    x16, _ = sf.read(src16, dtype="int16")
    y16, _ = sf.read(tmp_path / "out16.wav", dtype="int16")
    assert np.array_equal(x16, y16)
    # From 24 bits: dithered and shaped, so the output is not plain rounding.
    src24 = sine(tmp_path / "in24.wav", subtype="PCM_24")
    report = shaped_report(src24, tmp_path / "out24.wav")
    assert report["stages"][0]["dither_active"] is True
    x24, _ = sf.read(src24, dtype="int32")
    rounded = np.clip(np.round(x24 / 65536.0), -32768, 32767)
    y24, _ = sf.read(tmp_path / "out24.wav", dtype="int16")
    assert np.mean(y24 != rounded) > 0.5
