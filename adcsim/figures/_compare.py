"""The ``compare`` figure: two signals, their difference and their spectra.

Responsible for `CompareFigure`, the bounded-memory data of the figure fed
with the compared blocks of any length, and `compare_chart`, a
`adcsim.figures._chart.Chart` drawn with the conventions of the quantize
figure (`adcsim.figures._quantize`), by its own parts: the waveform window
(`PlotTap` and `waveform_span`: 10 ms around the loudest point of the
loudest second, or the ``--plot-window``), the difference over the same
window, and the spectra of the channel means averaged over the whole
signals (`adcsim.metrics._meters.SpectrumMeter`: Hann, `NFFT` points, at
most 256 evenly spread segments) as PSD per Hz on a log frequency axis. Not
responsible for aligning the signals (`adcsim.analysis._compare_files`) or
writing files (`save_chart`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from adcsim.figures._chart import Chart, Line, Panel
from adcsim.figures._quantize import NFFT, PlotTap, spectra_panel, waveform_span
from adcsim.metrics._meters import BlockPair, SpectrumMeter, channel_means


class CompareFigure:
    """The figure's data of an aligned pair fed block by block.

    Parameters
    ----------
    rate : int
    channels : int
    frames : int
        Length of the compared pair (spreads the spectra's segments).
    window : (start, duration) in seconds, optional
        The waveform span instead of the loudest 10 ms (``--plot-window``).

    Examples
    --------
    >>> t = np.arange(8000)[:, None] / 8000
    >>> figure = CompareFigure(rate=8000, channels=1, frames=8000)
    >>> figure.update(np.sin(2e3 * t), np.sin(2e3 * t) + 1e-3)
    >>> chart = figure.chart("b.wav vs a.wav")
    >>> chart.title, [p.title.split(" ")[0] for p in chart.panels]
    ('b.wav vs a.wav', ['waveform', 'difference', 'spectra'])
    """

    def __init__(
        self,
        *,
        rate: int,
        channels: int,
        frames: int,
        window: tuple[float, float] | None = None,
    ) -> None:
        self.plot = PlotTap(
            rate=rate, channels=channels, error_scale=1.0, frames=frames, window=window
        )
        self.spectrum = SpectrumMeter(rate=rate, channels=3, nfft=NFFT, frames=frames)

    def update(self, ref: NDArray[np.float64], test: NDArray[np.float64]) -> None:
        """Add one aligned block pair, ``(frames, channels)`` each."""
        self.plot.update(BlockPair(ref, test), histogram=False)
        self.spectrum.update(channel_means(ref, test))

    def chart(self, title: str) -> Chart:
        """The three-panel figure (`compare_chart`)."""
        tap = self.plot
        tap.finish()
        tap.set_spectra(self.spectrum.spectrum(), self.spectrum.segments)
        rate = tap.rate
        lo, hi, where = waveform_span(tap)
        wave = Panel(
            (0.085, 0.70, 0.895, 0.22),
            title=f"waveform {where}, channel 1 of {tap.channels}",
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
            ref, test = tap.best_ref[lo:hi, 0], tap.best_out[lo:hi, 0]
            t_s = (np.arange(lo, hi, dtype=np.float64) + tap.best_start) / rate
            # ref drawn last and thinner: it shows where test covers it
            wave.lines.append(Line(t_s, test, "C1", 0.9, "test"))
            wave.lines.append(Line(t_s, ref, "C0", 0.6, "ref"))
            diff.lines.append(Line(t_s, test - ref, "C3", 0.8))
        spectra = spectra_panel(
            tap, (0.085, 0.06, 0.895, 0.24), "signals", ("ref", "test", "test - ref")
        )
        return Chart(11.0, 8.0, title, [wave, diff, spectra])


def compare_chart(
    ref: NDArray[np.float64],
    test: NDArray[np.float64],
    *,
    rate: int,
    title: str,
    span: tuple[float, float] | None = None,
) -> Chart:
    """The figure of TEST against REF (aligned, same shape ``(frames, channels)``).

    `CompareFigure` fed with the whole pair as one block.

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
    ...                       title="b.wav vs a.wav", span=(0.5, 0.01))
    >>> chart.panels[0].title
    'waveform 0.5-0.51 s (--plot-window), channel 1 of 1'
    """
    r = np.asarray(ref, dtype=np.float64).reshape(ref.shape[0], -1)
    t = np.asarray(test, dtype=np.float64).reshape(test.shape[0], -1)
    figure = CompareFigure(
        rate=rate, channels=r.shape[1], frames=r.shape[0], window=span
    )
    figure.update(r, t)
    return figure.chart(title)


__all__ = ["CompareFigure", "compare_chart"]
