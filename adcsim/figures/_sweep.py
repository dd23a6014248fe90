"""Figures of ``adcsim sweep`` and ``adcsim compare`` (matplotlib, inside functions).

Builds `matplotlib.figure.Figure` objects, never pyplot, so no GUI backend is
needed; `adcsim.figures._quantize.save_figure` writes them. Computes no figures of merit
itself: the rows come from `adcsim.analysis._sweep.sweep`, the theory lines from
`adcsim.analysis._sweep.theory_snr_db`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

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


def plot_compare(ref: ArrayLike, test: ArrayLike, *, rate: int) -> Any:
    """Reference, test and error of the first channel, and their spectra.

    Parameters
    ----------
    ref, test : array_like, frames or (frames, channels)
        The aligned pair `adcsim.analysis._compare.compare` measured (same shape).
    rate : int
        Sample rate, Hz.

    Returns
    -------
    matplotlib.figure.Figure
        Top: the first 20 ms (or the whole record) of both and the error.
        Bottom: Hann-windowed power spectra of ref, test and error, dBFS.
    """
    from matplotlib.figure import Figure

    r = np.asarray(ref, dtype=np.float64).reshape(len(ref), -1)[:, 0]  # type: ignore[arg-type]
    t = np.asarray(test, dtype=np.float64).reshape(len(test), -1)[:, 0]  # type: ignore[arg-type]
    if r.shape != t.shape or r.size == 0:
        raise AdcsimError("compare plot: ref and test must be non-empty and aligned")
    e = t - r
    fig = Figure(figsize=(9.0, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1)
    shown = min(r.size, max(2, rate // 50))
    time_ms = np.arange(shown) / rate * 1e3
    top.plot(time_ms, r[:shown], label="ref")
    top.plot(time_ms, t[:shown], label="test", alpha=0.8)
    top.plot(time_ms, e[:shown], label="test - ref")
    top.set(xlabel="time (ms)", ylabel="amplitude (full scale)")
    top.legend(fontsize="small")
    nfft = min(8192, r.size)
    window = np.hanning(nfft)
    segments = max(1, r.size // nfft)
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    for name, sig in (("ref", r), ("test", t), ("test - ref", e)):
        power = np.zeros(freqs.size)
        for k in range(segments):
            seg = sig[k * nfft : (k + 1) * nfft] * window
            power += np.abs(np.fft.rfft(seg)) ** 2
        power *= 2.0 / (segments * np.sum(window**2) * nfft)
        bottom.plot(freqs, 10 * np.log10(np.maximum(power, 1e-30)), label=name, lw=0.8)
    bottom.set(xlabel="frequency (Hz)", ylabel="power per bin (dBFS)", ylim=(-200, 10))
    bottom.legend(fontsize="small")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    return fig


__all__ = ["plot_compare", "plot_sweep"]
