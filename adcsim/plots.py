"""Figures of a run; the only module importing matplotlib (inside functions).

`PlotTap` collects, block by block and in bounded memory, what the figure needs:
the loudest one-second window of reference and output, spectra averaged over
the whole stream, and the error histogram. `draw_quantize_figure` turns that
into a `matplotlib.figure.Figure` (never pyplot) and `save_figure` writes it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.metrics import SPECTRUM_NFFT, BlockPair

#: Frames per spectrum segment: `adcsim.taps.Taps` analyses the plot's
#: spectra in the same pass as the error spectrum (`SpectrumMeter`).
NFFT = SPECTRUM_NFFT
HIST_BINS = 101
HIST_SAMPLES = 1 << 21
#: The loudest window is chosen by the power of every POWER_STRIDE-th frame:
#: where the figure looks is a display choice, and measuring every frame cost
#: more than all the rest of the plot data.
POWER_STRIDE = 32
#: Resolution of the figures (pixels per inch).
DPI = 100
#: Tick objects made per axis with the figure's frame (`QuantizeFigure`).
TICKS_AHEAD = 10


class PlotTap:
    """Bounded-memory plot data of a stream of aligned (reference, output) blocks.

    Keeps the loudest one-second window (all channels, found by the power
    of every ``POWER_STRIDE``-th frame) and the error histogram (from up to
    ``HIST_SAMPLES`` evenly spread frames, or exact from value counts:
    `set_histogram`). The spectra of the channel means of input, output and
    error are measured by `adcsim.taps.Taps` in its spectrum pass
    (`adcsim.metrics.channel_means`) and set with `set_spectra`.

    Parameters
    ----------
    rate : int
        Sample rate of the blocks.
    channels : int
    error_scale : float
        Half-width of the histogram's range (e.g. D for uniform schemes).
    frames : int or None
        Stream length when known (to spread the sampled segments).
    """

    def __init__(
        self, *, rate: int, channels: int, error_scale: float, frames: int | None = None
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
        #: Summed power spectra of input, output and error (channel means),
        #: and how many segments they sum.
        self.spectra = np.zeros((3, NFFT // 2 + 1))
        self.segments = 1
        self._hist_stride = 1
        if frames is not None:
            self._hist_stride = max(1, frames * channels // HIST_SAMPLES)
        edges = np.linspace(-1.5, 1.5, HIST_BINS + 1) * self.error_scale
        self.hist_edges = edges
        self.hist_counts = np.zeros(HIST_BINS, dtype=np.int64)

    def update(self, pair: BlockPair, *, histogram: bool = True) -> None:
        """Add one aligned block of reference and output (`BlockPair`).

        ``histogram=False`` leaves the error histogram to `set_histogram`.
        """
        self._update_window(pair)
        if histogram:
            first = -self._position % self._hist_stride
            stride = self._hist_stride
            sample = pair.out(first, None, stride) - pair.ref(first, None, stride)
            counts, _ = np.histogram(sample, bins=self.hist_edges)
            self.hist_counts += counts
        self._position += pair.frames

    def set_histogram(
        self, errors: NDArray[np.float64], counts: NDArray[np.integer[Any]]
    ) -> None:
        """The exact error histogram: ``counts[v]`` samples had error ``errors[v]``."""
        hist, _ = np.histogram(errors, bins=self.hist_edges, weights=counts)
        self.hist_counts = np.round(hist).astype(np.int64)

    def set_spectra(self, spectra: NDArray[np.float64], segments: int) -> None:
        """The summed spectra of input, output and error means (see the class)."""
        self.spectra, self.segments = spectra, max(1, segments)

    def _update_window(self, pair: BlockPair) -> None:
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
            self.best_ref = np.concatenate([p.ref(a, b) for p, a, b in self._pieces])
            self.best_out = np.concatenate([p.out(a, b) for p, a, b in self._pieces])
            self.best_start = self._seg_start
        self._pieces, self._seg_frames = [], 0
        self._seg_power, self._seg_samples = 0.0, 0

    def finish(self) -> None:
        """Close the last partial window."""
        if self._seg_frames:
            self._close_segment()


def preload() -> None:
    """Import the parts of matplotlib a figure needs (e.g. on a spare thread)."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401


def _db(power: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(10 * np.log10(np.maximum(power, 1e-30)))


def draw_quantize_figure(
    tap: PlotTap,
    *,
    quantizer: Any,
    title: str,
) -> Any:
    """The five-panel figure of a quantize run (a matplotlib ``Figure``).

    Panels: waveform of reference and output around the loudest point (first
    channel), the error over the same window, the error histogram (with the
    +-D/2 bounds of uniform schemes), averaged spectra (Hann, ``NFFT`` points)
    of input, output and error, and the transfer characteristic drawn from the
    quantizer's own codebook.
    """
    figure = QuantizeFigure(quantizer=quantizer, title=title)
    figure.fill(tap)
    return figure.fig


class QuantizeFigure:
    """`draw_quantize_figure` in two steps: the frame, then the run's data.

    The frame (layout, titles, labels, transfer characteristic) needs only
    the quantizer, so a plot child (`adcsim.plot_child`) builds it while the
    audio is still being processed.
    """

    def __init__(self, *, quantizer: Any, title: str) -> None:
        from matplotlib.figure import Figure

        self.quantizer = quantizer
        # Fixed margins: matplotlib's constrained layout would double the time
        # it takes to save the figure.
        self.fig = fig = Figure(figsize=(11, 10))
        self.axes = axes = fig.subplot_mosaic(
            [["wave", "wave"], ["err", "err"], ["hist", "xfer"], ["spec", "spec"]],
            gridspec_kw={
                "left": 0.085,
                "right": 0.98,
                "top": 0.93,
                "bottom": 0.05,
                "hspace": 0.45,
                "wspace": 0.2,
            },
        )
        fig.suptitle(title, fontsize=10)
        axes["wave"].set(xlabel="time (ms)", ylabel="amplitude (full scale)")
        axes["err"].set(xlabel="time (ms)", ylabel="error (full scale)")
        _title(axes["err"], "error = output - input")
        step = quantizer.step
        if step is not None:
            for bound in (-step / 2, step / 2):
                axes["hist"].axvline(bound, color="k", ls="--", lw=0.8)
        axes["hist"].set(xlabel="error (full scale)", ylabel="samples")
        _title(axes["hist"], "error histogram" + (" (dashed: +-D/2)" if step else ""))
        axes["spec"].set(
            xlabel="frequency (Hz, log scale)", ylabel="PSD (dB full scale / Hz)"
        )
        _title(axes["spec"], "spectra (channel mean, averaged over the whole stream)")
        _draw_transfer(axes["xfer"], quantizer)
        # Tick objects take a third of the time the figure takes to draw:
        # made now, they are reused when the data's ticks are laid out.
        for ax in fig.axes:
            ax.xaxis.get_major_ticks(TICKS_AHEAD)
            ax.yaxis.get_major_ticks(TICKS_AHEAD)

    def fill(self, tap: PlotTap) -> None:
        """Draw the run's data (`PlotTap`) into the frame."""
        from matplotlib.ticker import FuncFormatter, NullLocator

        axes = self.axes
        ref, out = tap.best_ref[:, :1], tap.best_out[:, :1]
        rate = tap.rate
        if ref.shape[0]:
            centre = int(np.argmax(np.abs(ref[:, 0])))
            half = max(1, min(ref.shape[0], max(64, rate // 100)) // 2)
            lo, hi = max(0, centre - half), min(ref.shape[0], centre + half)
            t_ms = (np.arange(lo, hi) + tap.best_start) / rate * 1e3
            axes["wave"].plot(t_ms, ref[lo:hi, 0], label="input (resampled)", lw=1.0)
            axes["wave"].step(t_ms, out[lo:hi, 0], where="mid", label="output", lw=1.0)
            axes["err"].plot(t_ms, out[lo:hi, 0] - ref[lo:hi, 0], color="C3", lw=0.8)
        _title(axes["wave"], f"waveform, channel 1 of {tap.channels}")
        axes["wave"].legend(loc="upper right", fontsize=8)
        # one step patch: a hundred bar rectangles took longer to draw
        axes["hist"].stairs(tap.hist_counts, tap.hist_edges, fill=True, color="C2")
        freqs = np.fft.rfftfreq(NFFT, 1.0 / rate)
        norm = max(tap.segments, 1) * np.sum(np.hanning(NFFT) ** 2) * rate / 2
        # Log frequency, as audio people read spectra; DC has no place on it.
        for row, label in enumerate(("input", "output", "error")):
            psd = _db(tap.spectra[row][1:] / norm)
            axes["spec"].semilogx(freqs[1:], psd, label=label, lw=0.8)
        # Decade ticks labelled 10, 100, 1000...: the minor ticks of a log
        # axis and its mathtext labels (10^n) cost a quarter of the drawing.
        axes["spec"].xaxis.set_minor_locator(NullLocator())
        axes["spec"].xaxis.set_major_formatter(FuncFormatter(lambda f, _: f"{f:g}"))
        axes["spec"].legend(loc="upper right", fontsize=8)


def _title(ax: Any, text: str, **options: Any) -> None:
    """Set an axes title at a fixed height.

    Left to itself, matplotlib places each title by measuring every tick
    label under it, a fifth of the time it takes to save the figure.
    """
    ax.set_title(text, y=1.0, **options)


def _draw_transfer(ax: Any, quantizer: Any) -> None:
    """Q(x) over full scale from the codebook, and the steps around zero inset.

    Past 64 levels the steps are too fine to see at full scale, so an inset
    zooms on the eight codebook levels either side of zero.
    """
    # Past 128 levels the steps are finer than the panel's pixels.
    points = min(8192, max(4096, 64 * quantizer.levels))
    x = np.linspace(-1.0, 1.0, points, endpoint=False)
    ax.plot(x, quantizer.quantize(x), lw=0.8, drawstyle="steps-post", label="Q(x)")
    ax.plot([-1, 1], [-1, 1], color="0.6", lw=0.6, ls=":", label="y = x")
    ax.set(xlabel="input (full scale)", ylabel="output (full scale)")
    _title(ax, f"transfer characteristic, {quantizer.name} {quantizer.bits} bit")
    ax.legend(loc="upper left", fontsize=8)
    book = np.unique(quantizer.codebook)
    if book.size > 64:
        middle = int(np.searchsorted(book, 0.0))
        low, high = book[max(0, middle - 8)], book[min(book.size - 1, middle + 8)]
        zoom = np.linspace(low, high, 4096)
        inset = ax.inset_axes((0.58, 0.08, 0.4, 0.4))
        inset.plot(zoom, quantizer.quantize(zoom), lw=0.8, drawstyle="steps-post")
        inset.plot([low, high], [low, high], color="0.6", lw=0.6, ls=":")
        _title(inset, "around zero", fontsize=7)
        inset.tick_params(labelsize=6)
        inset.locator_params(nbins=3)


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
    from adcsim.audio_io import AtomicFile

    ext = check_plot_path(path)
    with AtomicFile(path) as tmp:
        try:
            if ext == "png":
                with open(tmp.tmp, "wb") as f:
                    f.write(_png_bytes(fig))
            else:
                fig.savefig(tmp.tmp, format=ext, dpi=DPI)
        except OSError as exc:
            raise AdcsimError(
                f"cannot write plot {path!r}: {exc.strerror or exc}"
            ) from exc
        tmp.commit()


def _png_bytes(fig: Any) -> bytes:
    """``fig`` rendered by Agg at `DPI` and encoded by `adcsim.png`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from adcsim.png import encode_png

    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    return encode_png(np.asarray(pixels), dpi=DPI)
