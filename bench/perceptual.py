"""Bench case 14: the built-in objective metrics of issue 17 (see bench.py).

Times ``quantize -b 8`` with its default report and figure on the 10-minute
16-bit stereo file, with and without ``--metric si-sdr,segsnr,lsd,stoi,estoi``
(issue 17: the metrics within 2x the default report's time), and records the
peak memory of both (STOI keeps both signals at 10 kHz in float32).
"""

from __future__ import annotations

import sys
from typing import Any

METRICS = "si-sdr,segsnr,lsd,stoi,estoi"


def _adcsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "adcsim", *args]


def metrics_case(bench: Any, minutes: float, api: Any) -> Any:
    """Case 14: quantize with all built-in metrics vs the default report."""
    outcome = api.Outcome("14", f"built-in objective metrics, {minutes:g} min")
    if bench.args.sox_vs_sox:
        outcome.skipped = "not applicable with --sox-vs-sox (no sox side)"
        return outcome
    source = bench._source(minutes, 16)
    plain = ["-b", "8", "--force", "-q"]
    for label, args in (
        ("default report", plain),
        ("with --metric", [*plain, "--metric", METRICS]),
    ):
        out = bench.out / f"metrics-{label.split()[-1].strip('-')}.wav"
        cmd = _adcsim("quantize", str(source), *args, "-o", str(out))
        outcome.series.append(
            api.Series(
                label,
                cmd,
                api._clear(out),
            )
        )
    api.alternate(bench.spawner, outcome.series, runs=bench.runs)
    ratio = api.pairwise_median(outcome.series[1], outcome.series[0])
    outcome.checks.append(
        ("time ratio --metric / default report", f"{ratio:.2f}x", "<= 2.0x",
         ratio <= 2.0)
    )  # fmt: skip
    for s in outcome.series:
        peak = max(x.rss_mib for x in s.samples)
        outcome.checks.append((f"peak resident memory, {s.label}", f"{peak:.0f} MiB",
                               "(recorded)", None))  # fmt: skip
    return outcome
