"""The ``compare`` figure: two signals, their difference and their spectra.

Responsible for `compare_chart`, a `adcsim.figures._chart.Chart` drawn with
the conventions of the quantize figure (`adcsim.figures._quantize`): the
waveforms over 10 ms around the loudest point of the loudest second (or the
span asked for), the difference over the same span, and spectra averaged
over the whole signals as PSD per Hz (Hann window, `NFFT` points) on a log
frequency axis. Not responsible for aligning the signals
(`adcsim.analysis._compare`) or writing files (`save_chart`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from adcsim.figures._chart import Chart, Line, Panel
from adcsim.figures._quantize import NFFT, POWER_STRIDE
from adcsim.metrics._windows import window

#: Most segments the spectra average (evenly spread), as the quantize figure.
MAX_SEGMENTS = 256


def loudest_span(ref: NDArray[np.float64], rate: int) -> tuple[int, int]:
    """Frames [lo, hi) of 10 ms around the loudest point of the loudest second.

    The loudest second is judged on every `POWER_STRIDE`-th frame of all
    channels, as the quantize figure judges it; the span is at least 64 frames.

    Examples
    --------
    >>> x = np.zeros((30000, 1))
    >>> x[20000:, 0] = 0.1  # the third second is the loudest,
    >>> x[25000, 0] = 1.0  # and this its loudest point
    >>> loudest_span(x, 10000)
    (24950, 25050)
    """
    frames = ref.shape[0]
    second = max(1, rate)
    best, best_power = 0, -1.0
    for start in range(0, frames, second):
        first = start + (-start) % POWER_STRIDE
        probe = ref[first : start + second : POWER_STRIDE]
        power = float(np.mean(probe**2)) if probe.size else 0.0
        if power > best_power:
            best, best_power = start, power
    piece = ref[best : best + second]
    if not piece.size:
        return 0, 0
    centre = best + int(np.argmax(np.abs(piece[:, 0])))
    half = max(1, min(frames, max(64, rate // 100)) // 2)
    return max(0, centre - half), min(frames, centre + half)


def _psd_db(x: NDArray[np.float64], rate: int) -> tuple[NDArray[np.float64], ...]:
    """Frequencies (no DC) and averaged PSD of ``x``'s channel mean, dB FS / Hz."""
    mono = x.mean(axis=1)
    nfft = min(NFFT, mono.size)
    w = window(nfft)
    count = max(1, mono.size // nfft)
    starts = np.linspace(0, mono.size - nfft, min(count, MAX_SEGMENTS)).astype(int)
    power = np.zeros(nfft // 2 + 1)
    for s in starts:
        spectrum = np.fft.rfft(mono[s : s + nfft] * w)
        power += spectrum.real**2 + spectrum.imag**2
    # One-sided PSD: |X|^2 / (sum w^2 * rate / 2), the quantize figure's scale.
    psd = power / (starts.size * np.sum(w**2) * rate / 2)
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate).astype(np.float64)
    db = 10 * np.log10(np.maximum(psd[1:], 1e-30))
    return freqs[1:], np.asarray(db, dtype=np.float64)


def compare_chart(
    ref: NDArray[np.float64],
    test: NDArray[np.float64],
    *,
    rate: int,
    title: str,
    span: tuple[float, float] | None = None,
) -> Chart:
    """The figure of TEST against REF (aligned, same shape ``(frames, channels)``).

    Parameters
    ----------
    ref, test : ndarray, (frames, channels)
    rate : int
    title : str
        The figure's title (the CLI names both files).
    span : (start, duration) in seconds, optional
        The waveform span instead of the loudest 10 ms.

    Examples
    --------
    >>> t = np.arange(8000)[:, None] / 8000
    >>> chart = compare_chart(np.sin(2e3 * t), np.sin(2e3 * t) + 1e-3, rate=8000,
    ...                       title="b.wav vs a.wav")
    >>> chart.title, [p.title.split(" ")[0] for p in chart.panels]
    ('b.wav vs a.wav', ['waveform', 'difference', 'spectra'])
    """
    ref = np.asarray(ref, dtype=np.float64).reshape(ref.shape[0], -1)
    test = np.asarray(test, dtype=np.float64).reshape(test.shape[0], -1)
    frames = ref.shape[0]
    if span is None:
        lo, hi = loudest_span(ref, rate)
        where = "around the loudest point of the loudest second"
    else:
        lo = min(frames, round(span[0] * rate))
        hi = min(frames, lo + max(1, round(span[1] * rate)))
        where = f"{lo / rate:.4g}-{hi / rate:.4g} s"
    channels = ref.shape[1]
    wave = Panel(
        (0.085, 0.70, 0.895, 0.22),
        title=f"waveform {where}, channel 1 of {channels}",
        xlabel="time (s)",
        ylabel="amplitude (full scale)",
        legend="best",
    )
    diff = Panel(
        (0.085, 0.41, 0.895, 0.20),
        title="difference = test - ref",
        xlabel="time (s)",
        ylabel="difference (full scale)",
    )
    if hi > lo:
        t_s = np.arange(lo, hi, dtype=np.float64) / rate
        wave.lines.append(Line(t_s, test[lo:hi, 0], "C1", 0.9, "test"))
        wave.lines.append(Line(t_s, ref[lo:hi, 0], "C0", 0.6, "ref"))
        diff.lines.append(Line(t_s, test[lo:hi, 0] - ref[lo:hi, 0], "C3", 0.8))
    spectra = Panel(
        (0.085, 0.06, 0.895, 0.24),
        title="spectra (channel mean, averaged over the whole signals)",
        xlabel="frequency (Hz, log scale)",
        ylabel="PSD (dB full scale / Hz)",
        xlog=True,
        legend="best",
    )
    if frames >= 2:
        for colour, width, label, sig in (
            ("C1", 0.9, "test", test),
            ("C2", 0.9, "test - ref", test - ref),
            ("C0", 0.6, "ref", ref),
        ):
            freqs, psd = _psd_db(sig, rate)
            spectra.lines.append(Line(freqs, psd, colour, width, label))
    return Chart(11.0, 8.0, title, [wave, diff, spectra])


__all__ = ["compare_chart", "loudest_span"]
