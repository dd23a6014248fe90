"""The figure of ``adcsim sweep`` (matplotlib, inside functions).

Builds `matplotlib.figure.Figure` objects, never pyplot, so no GUI backend is
needed; `adcsim.figures._quantize.save_figure` writes them. Computes no figures of merit
itself: the rows come from `adcsim.analysis._sweep.sweep`, the theory lines from
`adcsim.metrics._theory.theory_snr_db`. The ``compare`` figure is
`adcsim.figures._compare`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adcsim.errors import AdcsimError


def _finite(values: Sequence[float | None]) -> list[float]:
    return [np.nan if v is None else float(v) for v in values]


def plot_sweep(
    rows: Sequence[dict[str, Any]], theory: bool = True, *, bits: int | None = None
) -> Any:
    """SNR against bit depth and against input level, measured and in theory.

    Parameters
    ----------
    rows : sequence of dict
        Rows of `adcsim.analysis._sweep.sweep`.
    theory : bool, default True
        Draw `theory_snr_db` (a sine's curves) as lines beside the
        measured points (markers).
    bits : int, optional
        The depth of the SNR-against-level panel [default: see Notes].

    Returns
    -------
    matplotlib.figure.Figure
        Left: SNR against bits at the highest swept level at which the
        deepest quantizers do not clip (else the highest level).
        Right: SNR against level for each scheme.

    Raises
    ------
    AdcsimError
        No rows.

    Notes
    -----
    Without ``bits``, the right panel shows every swept depth when there are
    at most four, else only the one nearest to 8 bits.
    """
    from matplotlib.figure import Figure

    from adcsim.analysis._sweep import theory_snr_db

    if not rows:
        raise AdcsimError("sweep plot: no rows to draw")
    schemes = list(dict.fromkeys(r["scheme"] for r in rows))
    all_bits = sorted({int(r["bits"]) for r in rows})
    levels = sorted({float(r["level_dbfs"]) for r in rows})
    # The highest level that the deepest quantizers take without overload (a
    # 1-bit quantizer overloads far lower, which would hide the 6 dB/bit line).
    deepest = max(all_bits)
    unclipped = [
        lv
        for lv in levels
        if all(
            r["clipped_samples"] == 0
            for r in rows
            if r["level_dbfs"] == lv and r["bits"] == deepest
        )
    ]
    top = max(unclipped) if unclipped else max(levels)
    if bits is not None:
        panel_bits = [bits]
    elif len(all_bits) <= 4:
        panel_bits = all_bits
    else:
        panel_bits = [min(all_bits, key=lambda b: (abs(b - 8), b))]
    fig = Figure(figsize=(11.0, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    colors = [f"C{i % 10}" for i in range(len(schemes))]
    for scheme, color in zip(schemes, colors, strict=True):
        pts = sorted(
            (r["bits"], r["snr_db"])
            for r in rows
            if r["scheme"] == scheme and r["level_dbfs"] == top
        )
        if pts:
            xs, ys = zip(*pts, strict=True)
            left.plot(xs, _finite(ys), "o", color=color, label=f"{scheme}")
            if theory:
                line = _finite([theory_snr_db(scheme, b, top) for b in xs])
                left.plot(xs, line, "-", color=color, alpha=0.6)
        for k, b in enumerate(panel_bits):
            pts = sorted(
                (r["level_dbfs"], r["snr_db"])
                for r in rows
                if r["scheme"] == scheme and r["bits"] == b
            )
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            marker = "os^vD"[k % 5]
            right.plot(
                xs, _finite(ys), marker, color=color, ms=4, label=f"{scheme} {b} bits"
            )
            if theory:
                grid = np.linspace(min(xs), max(xs), 200)
                line = _finite([theory_snr_db(scheme, b, float(v)) for v in grid])
                right.plot(grid, line, "-", color=color, alpha=0.6)
    left.set(
        xlabel="bits N",
        ylabel="SNR (dB)",
        title=f"SNR vs bits at {top:g} dBFS (lines: sine theory)",
    )
    right.set(
        xlabel="input level (dBFS RMS; full-scale sine = -3.01)",
        ylabel="SNR (dB)",
        title="SNR vs input level (lines: sine theory)",
    )
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


__all__ = ["plot_sweep"]
