"""What one run measures: every tap fed with aligned (reference, written) blocks.

`Taps` bundles the error meter, the level counter, the error spectrum, the
window kept for the tone figures and the plot data, feeds them one block at a
time, and turns them into the report's figures. It is fed at the chain's two
named positions: the reference tap (after resampling, in the stream's native
dtype) and the values the writer stored. This module neither reads nor writes
audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim._background import InOrder
from adcsim.metrics._meters import (
    Block,
    BlockPair,
    ErrorMeter,
    LevelCounter,
    Metrics,
    SpectrumMeter,
    channel_means,
    db10,
)
from adcsim.metrics._theory import sqnr_theory_db
from adcsim.quantizers._base import Quantizer
from adcsim.stages._chain import as_float

#: Frames (from the start) the tone metrics are computed on: about 6 s at
#: 44.1 kHz, plenty for a four-parameter sine fit, and bounded for long files.
TONE_FRAMES = 1 << 18


#: Every int16 value, in the order of their uint16 views (the tables' index).
EVERY_INT16 = np.arange(65536, dtype=np.uint16).view(np.int16)


@dataclass(frozen=True)
class ValueTable:
    """What the chain after the reference tap makes of every int16 value.

    Indexed by the value's uint16 view: ``written`` the value stored (full
    scale), ``codes`` its code when the container holds the levels exactly
    (else None: levels are counted on the stored values). Valid only when the
    output is a function of the input sample (no dither, no shaping).
    """

    written: NDArray[np.float64]
    codes: NDArray[np.int32] | None


class _TablePair(BlockPair):
    """An int16 block whose written values are looked up in a `ValueTable`.

    Floats exist only for the frames a tap asks for.
    """

    def __init__(self, pcm: NDArray[np.int16], written: NDArray[np.float64]) -> None:
        self._pcm, self._written = pcm, written
        self.frames, self.channels = pcm.shape

    def ref(self, start: int = 0, stop: int | None = None, step: int = 1) -> Block:
        """The samples ``x / 2**15`` of frames ``start:stop:step``."""
        return as_float(self._pcm[start:stop:step])

    def out(self, start: int = 0, stop: int | None = None, step: int = 1) -> Block:
        """The written values of frames ``start:stop:step``, looked up."""
        return np.take(self._written, self._pcm[start:stop:step].view(np.uint16))


class Taps:
    """The meters of one run, fed with aligned blocks.

    Parameters
    ----------
    quantizer : Quantizer
        Counts levels used; sets the histogram's scale.
    rate, channels : int
    frames : int or None
        Stream length when known (spreads the sampled spectrum segments).
    plot : bool
        Also collect the figure's data (`adcsim.figures._quantize.PlotTap`).
    weighted_bands : bool
        Also report the in-band (0-4 kHz) and total error (noise shaping).
    plot_window : (float, float) or None
        The span the figure's waveform shows (see `adcsim.figures._quantize.PlotTap`).
    """

    def __init__(
        self,
        quantizer: Quantizer,
        *,
        rate: int,
        channels: int,
        frames: int | None,
        plot: bool,
        weighted_bands: bool = False,
        plot_window: tuple[float, float] | None = None,
    ) -> None:
        self.quantizer, self.rate, self.channels = quantizer, rate, channels
        self.weighted_bands = weighted_bands
        self.meter = ErrorMeter(channels=channels)
        self.levels = LevelCounter(quantizer, channels=channels)
        # One pass over the analysed segments: the error of each channel and,
        # for the plot, the channel means of input, output and error.
        rows = channels + (3 if plot else 0)
        self.spectrum = SpectrumMeter(rate=rate, channels=rows, frames=frames)
        self.plot: Any = None
        if plot:
            from adcsim.figures._quantize import PlotTap

            scale = quantizer.step
            if scale is None:
                book = quantizer.codebook
                scale = float(np.max(np.diff(book)) / 2) if book.size > 1 else 1.0
            self.plot = PlotTap(
                rate=rate,
                channels=channels,
                error_scale=scale,
                frames=frames,
                window=plot_window,
            )
        self._tone_ref: list[NDArray[np.float64]] = []
        self._tone_out: list[NDArray[np.float64]] = []
        self._tone_frames = 0
        self.table: ValueTable | None = None
        self._counts: NDArray[np.int64] | None = None
        self._counting: InOrder | None = None

    def count_values(self, table: ValueTable) -> None:
        """Measure int16 blocks from how often each value occurs (see `update`).

        The figures then follow exactly from the 65536 counts of each channel
        and ``table``; the counting (``np.bincount``, which releases the GIL)
        runs on a second thread beside the chain's reading and writing.
        """
        self.table = table
        self._counts = np.zeros((self.channels, 65536), dtype=np.int64)
        self._counting = InOrder()

    def update(
        self,
        ref: NDArray[Any],
        written: NDArray[np.float64] | None,
        codes: NDArray[np.int32] | None = None,
    ) -> None:
        """Feed one aligned pair of ``(frames, channels)`` blocks.

        ``ref`` in any dtype of the chain (`as_float` makes it full scale);
        ``codes``, when given, are the codes of the levels written. After
        `count_values`, int16 blocks need no ``written`` values: the meters
        count how often each value occurs instead.
        """
        if self._counting is not None and ref.dtype == np.int16:
            assert self.table is not None
            self._counting.submit(self._count, ref)
            self._feed(_TablePair(ref, self.table.written))
            return
        assert written is not None
        ref = as_float(ref)
        self.meter.update(ref, written)
        self.levels.update(written, codes)
        self._feed(BlockPair(ref, written))

    def _count(self, pcm: NDArray[np.int16]) -> None:
        assert self._counts is not None
        for channel in range(self.channels):
            self._counts[channel] += np.bincount(
                pcm[:, channel].view(np.uint16), minlength=65536
            )

    def _fold_counts(self) -> None:
        """Turn the value counts into the meters' figures (once, at the end)."""
        if self._counting is None:
            return
        counting, self._counting = self._counting, None
        counting.drain()
        assert self._counts is not None and self.table is not None
        reference = EVERY_INT16 / 32768.0
        error = self.table.written - reference
        self.meter.update_counts(self._counts, reference, error)
        for channel in range(self.channels):
            present = self._counts[channel] > 0
            codes = self.table.codes
            if codes is None:  # levels counted on the stored values
                codes = self.quantizer.encode(self.table.written[present])
            else:
                codes = codes[present]
            self.levels.mark(channel, codes)
        if self.plot is not None:
            self.plot.set_histogram(error, self._counts.sum(axis=0))

    def _feed(self, pair: BlockPair) -> None:
        """The taps that need samples: spectra, tone window, plot."""

        def spectrum_rows(start: int, stop: int) -> NDArray[np.float64]:
            ref, out = pair.ref(start, stop), pair.out(start, stop)
            error_rows = (out - ref).T
            if self.plot is None:
                return error_rows
            return np.concatenate([error_rows, channel_means(ref, out)])

        self.spectrum.update_lazy(pair.frames, spectrum_rows)
        room = TONE_FRAMES - self._tone_frames
        if room > 0:
            self._tone_ref.append(pair.ref(0, room).copy())
            self._tone_out.append(pair.out(0, room).copy())
            self._tone_frames += min(room, pair.frames)
        if self.plot is not None:
            # value counts give the exact histogram (`_fold_counts`)
            self.plot.update(pair, histogram=self._counting is None)

    def finish_plot(self) -> None:
        """Complete the plot data: last window, spectra, exact histogram."""
        if self.plot is None:
            return
        self.plot.finish()
        spectra = self.spectrum.spectrum()
        self.plot.set_spectra(spectra[self.channels :], self.spectrum.segments)
        self._fold_counts()

    def figures(self) -> tuple[Metrics, list[Metrics]]:
        """The report's figures: all channels together, and each channel.

        Error figures (`ErrorMeter`), the quantizer's constants, levels used,
        the weighted error powers and the tone figures (`adcsim.metrics._tone`).
        """
        self._fold_counts()
        total, per_channel = self.meter.result()
        used, used_per_channel = self.levels.result()
        q = self.quantizer
        common = {
            "sqnr_theory_db": sqnr_theory_db(q.name, q.bits, q.params),
            "step": q.step,
            "levels_available": q.levels,
        }
        weighted = self._weighted_errors(total, per_channel)
        tone, tone_per_channel = self._tone_metrics()
        metrics = {**total, **common, "levels_used": used, **weighted[0], **tone}
        channels = [
            {**m, **common, "levels_used": u, **w, **t}
            for m, u, w, t in zip(
                per_channel, used_per_channel, weighted[1:], tone_per_channel
            )
        ]
        return metrics, channels

    def tone_window(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """The aligned reference and output kept for the tone figures, or None.

        The first `TONE_FRAMES` frames, float64 ``(frames, channels)`` each.
        """
        if not self._tone_ref:
            return None
        return np.concatenate(self._tone_ref), np.concatenate(self._tone_out)

    def _tone_metrics(self) -> tuple[Metrics, list[Metrics]]:
        """IEEE 1241 tone figures of the kept window (see `adcsim.metrics._tone`)."""
        from adcsim.metrics._tone import TONE_KEYS, tone_metrics_channels

        if not self._tone_ref:
            empty = dict.fromkeys(TONE_KEYS)
            return empty, [dict(empty) for _ in range(self.channels)]
        ref, out = np.concatenate(self._tone_ref), np.concatenate(self._tone_out)
        return tone_metrics_channels(out, self.rate, reference=ref)

    def _weighted_errors(
        self, total: Metrics, per_channel: list[Metrics]
    ) -> list[dict[str, float | None]]:
        """A-weighted error (and in-band/total error with shaping), dBFS.

        Each is the exact error power times the share of the error spectrum
        the weighting keeps (`SpectrumMeter`); 0 dBFS is an RMS of 1.
        """
        from adcsim.metrics import _weighting as weighting

        keys = ["error_a_weighted_dbfs"]
        if self.weighted_bands:
            keys += ["error_in_band_dbfs", "error_total_dbfs"]
            keys += list(weighting.SHAPING_WEIGHTINGS)
        if not self.meter.frames:  # nothing measured (a report nobody reads)
            return [dict.fromkeys(keys) for _ in range(self.channels + 1)]
        a_weighting_db = weighting.a_weighting_db

        spec = self.spectrum
        a_weight = 10.0 ** (a_weighting_db(np.maximum(spec.freqs_hz, 1e-3)) / 10.0)
        # (the rows after the channels' are the plot's)
        shares = {
            "error_a_weighted_dbfs": spec.weighted_fractions(a_weight)[: self.channels]
        }
        if self.weighted_bands:
            top = weighting.in_band_high_hz(self.rate)
            shares["error_in_band_dbfs"] = spec.band_fractions(0.0, top)[
                : self.channels
            ]
            shares["error_total_dbfs"] = [1.0] * self.channels
            for key, weight in weighting.shaping_weights(spec.freqs_hz).items():
                shares[key] = spec.weighted_fractions(weight)[: self.channels]
        rows: list[dict[str, float | None]] = []
        for channel in [None, *range(self.channels)]:
            mse = (total if channel is None else per_channel[channel])["mse"]
            row = {}
            for key, fractions in shares.items():
                picked = [f for f in fractions if f is not None]
                if channel is None:
                    # all channels: pooled power, so average the kept shares
                    fraction = float(np.mean(picked)) if picked else None
                else:
                    fraction = fractions[channel]
                row[key] = (
                    None if fraction is None or mse is None else db10(mse * fraction)
                )
            rows.append(row)
        return rows
