"""Bench cases 12 and 13: the converter model of issue 13 (see bench.py).

Case 12 times ``quantize`` with the converter's impairments (jitter, input
noise, offset and a bow INL: a static transfer curve) at 16 bits on the
10-minute 24-bit stereo file against adcsim's own TPDF-dithered 16-bit
requantize of the same file (issue 13: at most 2x). Where adcsim refuses an
impairment (a stage not wired yet) the next smaller set runs, and the note
says which.

Case 13 times a second-order sigma-delta at OSR 64 (1-bit modulator, then 16
bits) on a 60-second 48 kHz mono file (184 M modulator steps): at least 6x
faster than real time; its peak memory is measured at 60 and 120 s (issue 13:
memory flat in the file's length).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from music import WORK

_QUIET = ["--no-plot", "--no-report", "--force", "-q"]

#: Case 12's impairment sets, largest first, each with what it leaves out.
_IMPAIRMENTS = (
    (
        ["--jitter", "1e-9", "--noise-lsb", "0.5", "--offset-lsb", "0.3"],
        "",
    ),
    (["--noise-lsb", "0.5", "--offset-lsb", "0.3"], "--jitter refused: without it"),
)
_INL = ["--inl-lsb", "1", "--inl-shape", "bow"]


def _adcsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "adcsim", *args]


def _accepted(cmd: list[str]) -> tuple[bool, str]:
    proc = subprocess.run(cmd, cwd=WORK, capture_output=True, text=True, check=False)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode == 0, (lines[-1] if lines else "")


def converter_case(bench: Any, minutes: float, api: Any) -> Any:
    """Case 12: jitter + noise + offset + INL at 16 bits vs TPDF 16-bit requantize."""
    outcome = api.Outcome("12", f"converter impairments at 16 bits, {minutes:g} min")
    if bench.args.sox_vs_sox:
        outcome.skipped = "not applicable with --sox-vs-sox (no sox side)"
        return outcome
    source = bench._source(minutes, 24)
    probe_in = bench._source(api.PROBE_S / 60, 24)
    probe_out = bench.out / "probe-converter.wav"
    chosen = None
    for extra, note in _IMPAIRMENTS:
        args = ["-b", "16", *extra, *_INL, *_QUIET]
        ok, line = _accepted(
            _adcsim("quantize", str(probe_in), *args, "-o", str(probe_out))
        )
        api._clear(probe_out)()
        if ok:
            chosen = args
            if note:
                outcome.notes.append(note)
            break
        outcome.notes.append(f"refused: {line}")
    if chosen is None:
        outcome.skipped = "; ".join(outcome.notes)
        return outcome
    tpdf = ["-b", "16", "--dither", "tpdf", *_QUIET]
    for label, args in (("tpdf 16", tpdf), ("converter 16", chosen)):
        out = bench.out / f"{label.replace(' ', '')}.wav"
        cmd = _adcsim("quantize", str(source), *args, "-o", str(out))
        outcome.series.append(api.Series(label, cmd, api._clear(out)))
    api.alternate(bench.spawner, outcome.series, runs=bench.runs)
    ratio = api.pairwise_median(outcome.series[1], outcome.series[0])
    outcome.checks.append(
        ("time ratio converter / tpdf 16", f"{ratio:.2f}x", "<= 2.0x", ratio <= 2.0)
    )
    return outcome


def _mono(seconds: int) -> Path:
    """A 48 kHz mono multitone of ``seconds`` (made once, with adcsim generate)."""
    path = WORK / f"multitone-{seconds}s-48000hz-mono.wav"
    if not path.exists():
        WORK.mkdir(exist_ok=True)
        cmd = _adcsim(
            "generate", "multitone", "--rate", "48000", "--duration", str(seconds),
            "--level-dbfs", "-6", "-q", "-o", str(path),
        )  # fmt: skip
        subprocess.run(cmd, cwd=WORK, check=True)
    return path


def sigma_delta_case(bench: Any, api: Any) -> Any:
    """Case 13: order-2 sigma-delta, OSR 64, on 60 s of 48 kHz mono; memory at 120 s."""
    outcome = api.Outcome("13", "sigma-delta order 2, OSR 64, 48 kHz mono")
    if bench.args.sox_vs_sox:
        outcome.skipped = "not applicable with --sox-vs-sox (no sox side)"
        return outcome
    args = ["-b", "16", "--sigma-delta", "2", "--osr", "64", *_QUIET]
    short, long = _mono(60), _mono(120)
    probe_out = bench.out / "probe-sd.wav"
    ok, line = _accepted(_adcsim("quantize", str(short), *args, "-o", str(probe_out)))
    api._clear(probe_out)()
    if not ok:
        outcome.skipped = f"refused: {line}"
        return outcome
    for label, source in (("60 s", short), ("120 s", long)):
        out = bench.out / f"sd-{label.replace(' ', '')}.wav"
        cmd = _adcsim("quantize", str(source), *args, "-o", str(out))
        outcome.series.append(api.Series(label, cmd, api._clear(out)))
    api.alternate(bench.spawner, outcome.series, runs=bench.runs)
    speed = 60.0 / outcome.series[0].median_s
    outcome.checks.append(
        ("real-time factor, 60 s", f"{speed:.1f}x", ">= 6x", speed >= 6.0)
    )
    peaks = [max(x.rss_mib for x in s.samples) for s in outcome.series]
    outcome.checks.append(
        (
            "peak memory 60 s -> 120 s",
            f"{peaks[0]:.0f} -> {peaks[1]:.0f} MiB",
            "grows < 10 %",
            peaks[1] < 1.1 * peaks[0],
        )
    )
    return outcome
