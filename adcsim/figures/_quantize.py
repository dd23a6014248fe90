"""Figures of a run, and writing figures to files.

`PlotTap` collects, block by block and in bounded memory, what the figure needs:
the loudest one-second window of reference and output, spectra averaged over
the whole stream, and the error histogram. `quantize_chart` turns that into a
`adcsim.figures._chart.Chart` and `save_chart` writes it (PNG with Pillow, SVG and PDF
with matplotlib); `save_figure` writes the matplotlib figures of the other
commands. Imports no plotting library at module level.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.figures._chart import Chart, Fill, Line, Panel
from adcsim.figures._histogram import linearity_panels
from adcsim.metrics._meters import SPECTRUM_NFFT, BlockPair
from adcsim.metrics._windows import window

#: Frames per spectrum segment: `adcsim.run._taps.Taps` analyses the plot's
#: spectra in the same pass as the error spectrum (`SpectrumMeter`).
NFFT = SPECTRUM_NFFT
HIST_BINS = 101
#: The histogram counts errors out to this many error scales (noise-shaped
#: errors reach +-6 LSB, Lloyd-Max ones the width of an outer cell), in fine
#: bins; errors beyond land in the end bins. `quantize_chart` shows the
#: occupied range only, merging bins to about `HIST_BINS`.
HIST_REACH = 64.0
HIST_SAMPLES = 1 << 21
#: The loudest window is chosen by the power of every POWER_STRIDE-th frame:
#: where the figure looks is a display choice, and measuring every frame cost
#: more than all the rest of the plot data.
POWER_STRIDE = 32
#: Resolution of the figures (pixels per inch).
DPI = 100


class PlotTap:
    """Bounded-memory plot data of a stream of aligned (reference, output) blocks.

    Keeps the loudest one-second window (all channels, found by the power
    of every ``POWER_STRIDE``-th frame), or the ``window`` asked for, and the
    error histogram (from up to ``HIST_SAMPLES`` evenly spread frames, or
    exact from value counts: `set_histogram`). The spectra of the channel
    means of input, output and error are measured by `adcsim.run._taps.Taps` in
    its spectrum pass (`adcsim.metrics._meters.channel_means`) and set with
    `set_spectra`.

    Parameters
    ----------
    rate : int
        Sample rate of the blocks.
    channels : int
    error_scale : float
        Half-width of the histogram's range (e.g. D for uniform schemes).
    frames : int or None
        Stream length when known (to spread the sampled segments).
    window : (float, float) or None
        (start, duration) in seconds to keep instead of the loudest second.
    """

    def __init__(
        self,
        *,
        rate: int,
        channels: int,
        error_scale: float,
        frames: int | None = None,
        window: tuple[float, float] | None = None,
    ) -> None:
        self.rate = rate
        self.channels = channels
        self.window = max(1, rate)  # one second
        self.error_scale = error_scale if error_scale > 0 else 1.0
        self._pieces: list[tuple[BlockPair, int, int]] = []
        self._seg_frames = 0
        self._seg_power, self._seg_samples = 0.0, 0
        self._seg_start = 0
        self.best_ref = np.zeros((0, channels))
        self.best_out = np.zeros((0, channels))
        self.best_start = 0
        self._best_power = -1.0
        self._position = 0
        #: The frames [first, stop) asked for (None: the loudest second).
        self.span: tuple[int, int] | None = None
        if window is not None:
            first = round(window[0] * rate)
            self.span = (first, first + max(1, round(window[1] * rate)))
        #: Summed power spectra of input, output and error (channel means),
        #: and how many segments they sum.
        self.spectra = np.zeros((3, NFFT // 2 + 1))
        self.segments = 1
        self._hist_stride = 1
        if frames is not None:
            self._hist_stride = max(1, frames * channels // HIST_SAMPLES)
        self.hist_edges = _histogram_edges(self.error_scale)
        self.hist_counts = np.zeros(self.hist_edges.size - 1, dtype=np.int64)

    def update(self, pair: BlockPair, *, histogram: bool = True) -> None:
        """Add one aligned block of reference and output (`BlockPair`).

        ``histogram=False`` leaves the error histogram to `set_histogram`.
        """
        self._update_window(pair)
        if histogram:
            first = -self._position % self._hist_stride
            stride = self._hist_stride
            sample = pair.out(first, None, stride) - pair.ref(first, None, stride)
            sample = np.clip(sample, self.hist_edges[0], self.hist_edges[-1])
            counts, _ = np.histogram(sample, bins=self.hist_edges)
            self.hist_counts += counts
        self._position += pair.frames

    def set_histogram(
        self, errors: NDArray[np.float64], counts: NDArray[np.integer[Any]]
    ) -> None:
        """The exact error histogram: ``counts[v]`` samples had error ``errors[v]``.

        Examples
        --------
        >>> tap = PlotTap(rate=8000, channels=1, error_scale=2**-7)
        >>> errors = np.arange(-128, 128) / 32768.0  # uniform, 8 bits of 16
        >>> tap.set_histogram(errors, np.ones(256, dtype=np.int64))
        >>> sorted(set(tap.hist_counts.tolist()))  # 8 values a bin, or none
        [0, 8]
        """
        inside = np.clip(errors, self.hist_edges[0], self.hist_edges[-1])
        hist, _ = np.histogram(inside, bins=self.hist_edges, weights=counts)
        self.hist_counts = np.round(hist).astype(np.int64)

    @property
    def frames_seen(self) -> int:
        """Frames fed so far (``frames`` is the length announced, if any)."""
        return self._position

    def set_spectra(self, spectra: NDArray[np.float64], segments: int) -> None:
        """The summed spectra of input, output and error means (see the class)."""
        self.spectra, self.segments = spectra, max(1, segments)

    def _update_window(self, pair: BlockPair) -> None:
        if self.span is not None:
            lo = max(self.span[0] - self._position, 0)
            hi = min(self.span[1] - self._position, pair.frames)
            if lo < hi:
                self._pieces.append((pair, lo, hi))
            return
        start = 0
        while start < pair.frames:
            take = min(self.window - self._seg_frames, pair.frames - start)
            stop = start + take
            if self._seg_frames == 0:
                self._seg_start = self._position + start
            # every POWER_STRIDE-th frame of the stream, whatever the blocks
            first = start + (-(self._position + start)) % POWER_STRIDE
            probe = pair.ref(first, stop, POWER_STRIDE)
            # (einsum, not BLAS: its threads cost more than they give here)
            self._seg_power += float(np.einsum("ij,ij->", probe, probe))
            self._seg_samples += probe.size
            self._pieces.append((pair, start, stop))
            self._seg_frames += take
            start = stop
            if self._seg_frames == self.window:
                self._close_segment()

    def _close_segment(self) -> None:
        power = self._seg_power / self._seg_samples if self._seg_samples else 0.0
        if power > self._best_power:
            self._best_power = power
            self.best_start = self._seg_start
            self._keep_pieces()
        self._pieces, self._seg_frames = [], 0
        self._seg_power, self._seg_samples = 0.0, 0

    def finish(self) -> None:
        """Close the last partial window."""
        if self.span is not None:
            if self._pieces:
                self.best_start = self.span[0]
                self._keep_pieces()
        elif self._seg_frames:
            self._close_segment()

    def _keep_pieces(self) -> None:
        self.best_ref = np.concatenate([p.ref(a, b) for p, a, b in self._pieces])
        self.best_out = np.concatenate([p.out(a, b) for p, a, b in self._pieces])
        self._pieces = []


#: Errors of 16-bit sources lie on this grid, often (no dither or resampling).
HIST_QUANTUM = 2.0**-15


def _histogram_edges(scale: float) -> NDArray[np.float64]:
    """Bins of about 3 ``scale`` / `HIST_BINS`, out to +-`HIST_REACH` ``scale``.

    A histogram of errors on the `HIST_QUANTUM` grid in bins of unequal
    numbers of grid values would show a comb. So each bin holds a power of
    two of them, which fits the power-of-two error ranges of uniform
    quantizers exactly, and the edges sit halfway between grid values. An
    error scale finer than the grid gets equal bins, zero at a bin's centre.
    """
    if 3.0 * scale < HIST_BINS * HIST_QUANTUM:
        width = 3.0 * scale / HIST_BINS
        half = math.ceil(HIST_REACH * scale / width)
        return (np.arange(-half, half + 2, dtype=np.float64) - 0.5) * width
    per_bin = 2.0 ** round(math.log2(3.0 * scale / (HIST_BINS * HIST_QUANTUM)))
    width = per_bin * HIST_QUANTUM
    half = math.ceil(HIST_REACH * scale / width)
    return np.arange(-half, half + 1, dtype=np.float64) * width - HIST_QUANTUM / 2


def _shown_histogram(
    edges: NDArray[np.float64], counts: NDArray[np.int64], step: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The occupied part of the fine histogram, in at most about `HIST_BINS` bins.

    The range shown covers every counted error (and +-3/4 D around the bound
    of a uniform scheme), symmetric about zero; neighbouring bins are summed
    in groups of a power of two (keeping each bin a power of two of grid
    quanta).
    """
    used = np.flatnonzero(counts)
    reach = 0.75 * step if step else 0.0
    if used.size:
        reach = max(reach, abs(edges[used[0]]), abs(edges[used[-1] + 1]))
    if not reach > 0:
        reach = abs(edges[-1])
    lo = max(0, int(np.searchsorted(edges, -reach, side="right")) - 1)
    hi = min(counts.size, int(np.searchsorted(edges, reach, side="left")))
    hi = max(hi, lo + 1)
    group = 1 << max(0, math.ceil(math.log2((hi - lo) / HIST_BINS)))
    pad = -(hi - lo) % group  # empty bins past the right end: whole groups
    width = edges[hi] - edges[hi - 1]
    shown = np.concatenate(
        [edges[lo : hi + 1], edges[hi] + width * np.arange(1, pad + 1)]
    )
    take = np.concatenate([counts[lo:hi], np.zeros(pad, dtype=counts.dtype)])
    merged = take.reshape(-1, group).sum(axis=1)
    return shown[::group], merged.astype(np.float64)


def preload(path: str) -> None:
    """Import the renderer of a figure saved at ``path`` (e.g. on a spare thread)."""
    if check_plot_path(path) == "png":
        import adcsim.figures._png  # noqa: F401
    else:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401

        import adcsim.figures._mpl  # noqa: F401


def _db(power: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(10 * np.log10(np.maximum(power, 1e-30)))


# The figure's layout, in figure fractions: four rows of panels, the third
# split in two (histogram, transfer characteristic); a fifth row, split in
# DNL and INL, when the quantizer has a static transfer curve.
_LEFT, _RIGHT, _TOP, _BOTTOM = 0.085, 0.98, 0.93, 0.05
_ROW_GAP, _COLUMN_GAP = 0.45, 0.2  # as fractions of a panel's height, width
_HALF_WIDTH = (_RIGHT - _LEFT) / (2 + _COLUMN_GAP)
#: Height of the figure (inches) per row of panels.
_INCHES_PER_ROW = 2.5


def _box(
    row: int, column: int | None = None, *, rows: int = 4
) -> tuple[float, float, float, float]:
    """The (left, bottom, width, height) of a panel; ``column`` 0/1 for half width."""
    height = (_TOP - _BOTTOM) / (rows + (rows - 1) * _ROW_GAP)
    bottom = _TOP - (row + 1) * height - row * _ROW_GAP * height
    if column is None:
        return (_LEFT, bottom, _RIGHT - _LEFT, height)
    left = _LEFT + column * _HALF_WIDTH * (1 + _COLUMN_GAP)
    return (left, bottom, _HALF_WIDTH, height)


def waveform_span(tap: PlotTap) -> tuple[int, int, str]:
    """The frames [lo, hi) of ``tap.best_ref`` the waveform shows, and where.

    10 ms (at least 64 frames) around the loudest point of the first channel
    in the loudest second, or the ``--plot-window`` kept. Shared by the
    quantize and compare figures, so both show the same window.

    Examples
    --------
    >>> tap = PlotTap(rate=8000, channels=1, error_scale=1.0)
    >>> x = np.zeros((16000, 1)); x[12000, 0] = 0.5
    >>> tap.update(BlockPair(x, x)); tap.finish()
    >>> waveform_span(tap)[:2], tap.best_start
    ((3960, 4040), 8000)
    """
    ref, rate = tap.best_ref, tap.rate
    lo, hi = 0, ref.shape[0]
    if tap.span is None:
        where = "around the loudest point of the loudest second"
        if hi:
            centre = int(np.argmax(np.abs(ref[:, 0])))
            half = max(1, min(ref.shape[0], max(64, rate // 100)) // 2)
            lo, hi = max(0, centre - half), min(ref.shape[0], centre + half)
    elif hi:
        first, stop = tap.best_start, tap.best_start + hi
        where = f"{first / rate:.4g}-{stop / rate:.4g} s (--plot-window)"
    else:
        where = f"(--plot-window starts after the end, {tap.frames_seen / rate:.4g} s)"
    return lo, hi, where


def spectra_panel(
    tap: PlotTap,
    box: tuple[float, float, float, float],
    averaged_over: str,
    labels: tuple[str, str, str],
) -> Panel:
    """The averaged spectra of ``tap`` as one-sided PSD per Hz on a log axis.

    ``|X|^2 / (segments sum(w^2) rate / 2)`` for Hann-windowed segments;
    ``labels`` name the reference, output and error rows. Shared by the
    quantize and compare figures, so both read alike.
    """
    freqs = np.fft.rfftfreq(NFFT, 1.0 / tap.rate).astype(np.float64)
    norm = max(tap.segments, 1) * float(np.sum(window(NFFT) ** 2)) * tap.rate / 2
    ref, out, err = labels
    # Log frequency, as audio people read spectra; DC has no place on it.
    return Panel(
        box,
        title=f"spectra (channel mean, averaged over the whole {averaged_over})",
        xlabel="frequency (Hz, log scale)",
        ylabel="PSD (dB full scale / Hz)",
        xlog=True,
        legend="best",
        lines=[
            Line(freqs[1:], _db(tap.spectra[row][1:] / norm), colour, width, label)
            for row, colour, width, label in (
                (1, "C1", 0.9, out),
                (2, "C2", 0.9, err),
                (0, "C0", 0.6, ref),  # drawn last and thinner
            )
        ],
    )


def quantize_chart(
    tap: PlotTap, *, quantizer: Any, title: str, resampled: bool = False
) -> Chart:
    """The five-panel figure of a quantize run (a `adcsim.figures._chart.Chart`).

    Panels: waveform of reference and output around the loudest point (first
    channel) or over the window asked for, the error over the same window, the
    error histogram (with the +-D/2 bounds of uniform schemes), averaged
    spectra (Hann, ``NFFT`` points) of input, output and error, and the
    transfer characteristic drawn from the quantizer's own codebook. The
    input is drawn last and thinner, so that it shows where the output covers
    it (high SNR); ``resampled`` names it "input (resampled)". The histogram
    covers every error; its dashed bounds (uniform schemes) are the outer
    edges of the bins holding -D/2 and +D/2, so ties at +-D/2 fall inside.
    A quantizer with a static transfer curve (``quantizer.curve``, issue 13)
    adds a row: the realized curve's DNL and INL per code
    (`adcsim.figures._histogram.linearity_panels`).

    Examples
    --------
    >>> from adcsim.quantizers._registry import make_quantizer
    >>> tap = PlotTap(rate=8000, channels=1, error_scale=2**-7)
    >>> chart = quantize_chart(tap, quantizer=make_quantizer("uniform", bits=8),
    ...                        title="a -> b")
    >>> [p.title.split(",")[0] for p in chart.panels][1:3]
    ['error = output - input', 'error histogram (dashed: +-D/2)']
    """
    ref, out = tap.best_ref[:, :1], tap.best_out[:, :1]
    rate = tap.rate
    curve = getattr(quantizer, "curve", None)
    rows = 4 if curve is None else 5

    def box(row: int, column: int | None = None) -> tuple[float, float, float, float]:
        return _box(row, column, rows=rows)

    lo, hi, where = waveform_span(tap)
    wave = Panel(
        box(0),
        title=f"waveform {where}, channel 1 of {tap.channels}",
        xlabel="time (s)",
        ylabel="amplitude (full scale)",
        legend="best",
    )
    error = Panel(
        box(1),
        title="error = output - input",
        xlabel="time (s)",
        ylabel="error (full scale)",
    )
    if hi > lo:
        t_s = (np.arange(lo, hi, dtype=np.float64) + tap.best_start) / rate
        wave.lines.append(Line(t_s, out[lo:hi, 0], "C1", label="output", steps="mid"))
        label = "input (resampled)" if resampled else "input"
        wave.lines.append(Line(t_s, ref[lo:hi, 0], "C0", 0.7, label=label))
        error.lines.append(Line(t_s, out[lo:hi, 0] - ref[lo:hi, 0], "C3", width=0.8))
    step = quantizer.step
    histogram = Panel(
        box(2, 0),
        title="error histogram" + (" (dashed: +-D/2)" if step else ""),
        xlabel="error (full scale)",
        ylabel="samples",
    )
    edges, counts = _shown_histogram(tap.hist_edges, tap.hist_counts, step)
    histogram.fills.append(Fill(edges, counts, "C2"))
    if step is not None:
        # The outer edges of the bins holding -D/2 and +D/2: inclusive bounds.
        inner = np.searchsorted(edges, [-step / 2, step / 2], side="right")
        low = edges[max(0, int(inner[0]) - 1)]
        high = edges[min(edges.size - 1, int(inner[1]))]
        for bound in (low, high):
            histogram.vlines.append(
                Line(np.array([bound]), np.zeros(1), "k", 0.8, style="--")
            )
    spectra = spectra_panel(tap, box(3), "stream", ("input", "output", "error"))
    panels = [wave, error, histogram, *_transfer_panels(quantizer, box(2, 1)), spectra]
    if curve is not None:
        # the curve the run applied (its realized transitions), not a measurement
        panels += linearity_panels(
            curve.linearity(), box(4, 0), box(4, 1), prefix="static "
        )
    return Chart(11.0, _INCHES_PER_ROW * rows, title, panels, dpi=DPI)


def _transfer_panels(
    quantizer: Any, box: tuple[float, float, float, float]
) -> list[Panel]:
    """Q(x) over full scale from the codebook, and the steps around zero inset.

    Past 64 levels the steps are too fine to see at full scale, so an inset
    zooms on the eight codebook levels either side of zero.
    """
    # Past 128 levels the steps are finer than the panel's pixels.
    points = min(8192, max(4096, 64 * quantizer.levels))
    x = np.linspace(-1.0, 1.0, points, endpoint=False)
    identity = np.array([-1.0, 1.0])
    panel = Panel(
        box,
        title=f"transfer characteristic, {quantizer.name} {quantizer.bits} bit",
        xlabel="input (full scale)",
        ylabel="output (full scale)",
        legend="upper left",
        lines=[
            Line(x, quantizer.quantize(x), "C0", 0.8, "Q(x)", steps="post"),
            Line(identity, identity, "grey", 0.6, "y = x", style=":"),
        ],
    )
    book = np.unique(quantizer.codebook)
    if book.size <= 64:
        return [panel]
    middle = int(np.searchsorted(book, 0.0))
    low, high = book[max(0, middle - 8)], book[min(book.size - 1, middle + 8)]
    zoom = np.linspace(low, high, 4096)
    left, bottom, width, height = box
    inset = Panel(
        # High enough that its tick labels clear the panel's own x axis.
        (left + 0.58 * width, bottom + 0.17 * height, 0.4 * width, 0.36 * height),
        title="around zero",
        title_size=7.0,
        tick_size=6.0,
        max_ticks=3,
        lines=[
            Line(zoom, quantizer.quantize(zoom), "C0", 0.8, steps="post"),
            Line(np.array([low, high]), np.array([low, high]), "grey", 0.6, style=":"),
        ],
    )
    return [panel, inset]


def check_plot_path(path: str) -> str:
    """Return the image format of ``path`` (png, svg, pdf), else raise `AdcsimError`.

    Examples
    --------
    >>> check_plot_path("fig.SVG")
    'svg'
    """
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    if ext not in ("png", "svg", "pdf"):
        raise AdcsimError(f"cannot write plot {path!r}: use a .png, .svg or .pdf name")
    return ext


def save_figure(fig: Any, path: str) -> None:
    """Write ``fig`` atomically; the format follows the extension (png, svg, pdf).

    Raises
    ------
    AdcsimError
        Unknown image format or unwritable path.
    """
    ext = check_plot_path(path)
    if ext == "png":
        _write_plot(path, _png_bytes(fig))
    else:
        _write_plot(path, lambda tmp: fig.savefig(tmp, format=ext, dpi=DPI))


def save_chart(chart: Chart, path: str) -> None:
    """Write ``chart`` atomically: PNG by Pillow, SVG and PDF by matplotlib.

    Raises
    ------
    AdcsimError
        Unknown image format or unwritable path.
    """
    if check_plot_path(path) == "png":
        from adcsim.figures._png import render_png

        _write_plot(path, render_png(chart))
    else:
        from adcsim.figures._mpl import chart_figure

        save_figure(chart_figure(chart), path)


def _write_plot(path: str, content: bytes | Callable[[str], None]) -> None:
    """Write ``content`` (bytes, or a writer of a named file) atomically to ``path``."""
    from adcsim.io._files import AtomicFile

    with AtomicFile(path) as tmp:
        try:
            if isinstance(content, bytes):
                with open(tmp.tmp, "wb") as f:
                    f.write(content)
            else:
                content(tmp.tmp)
        except OSError as exc:
            raise AdcsimError(
                f"cannot write plot {path!r}: {exc.strerror or exc}"
            ) from exc
        tmp.commit()


def _png_bytes(fig: Any) -> bytes:
    """``fig`` rendered by Agg at `DPI` and encoded by Pillow (`png_bytes`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from adcsim.figures._png import png_bytes

    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
    return png_bytes(Image.fromarray(pixels, "RGBA"), dpi=DPI)
