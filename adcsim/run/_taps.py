"""What one run measures: every tap fed with aligned (reference, written) blocks.

`Taps` bundles the error meter, the level counter, the error spectrum, the
window kept for the tone figures and the plot data, feeds them one block at a
time, and turns them into the report's figures. Blocks of 16-bit PCM written
through a look-up table (`adcsim.run._lookup`) are measured from how often each
value occurs, counted on a second thread (`ValueCounter`: one large
``np.bincount`` per block; feeding all the taps from a thread was measured and
gained nothing, their many small numpy calls pass the GIL back and forth).
This module neither reads nor writes audio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from adcsim.metrics._meters import (
    BlockPair,
    ErrorMeter,
    LevelCounter,
    Metrics,
    Pcm16Pair,
    SpectrumMeter,
    channel_means,
    db10,
)
from adcsim.metrics._theory import sqnr_theory_db
from adcsim.quantizers._base import Quantizer

if TYPE_CHECKING:
    from adcsim.run._lookup import Pcm16Lookup

#: Frames (from the start) the tone metrics are computed on: about 6 s at
#: 44.1 kHz, plenty for a four-parameter sine fit, and bounded for long files.
TONE_FRAMES = 1 << 18


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
        self._counts: NDArray[np.int64] | None = None
        self._lookup: Pcm16Lookup | None = None
        self._counter: ValueCounter | None = None
        self._folded = False

    def update(
        self,
        ref: NDArray[np.float64],
        written: NDArray[np.float64],
        codes: NDArray[np.int32] | None = None,
    ) -> None:
        """Feed one aligned pair of ``(frames, channels)`` blocks."""
        self.meter.update(ref, written)
        self.levels.update(written, codes)
        self._feed(BlockPair(ref, written))

    def update_pcm16(self, pcm: NDArray[np.int16], lookup: Pcm16Lookup) -> None:
        """Feed one block of 16-bit PCM written through a `Pcm16Lookup`.

        The exact figures come from how often each of the 65536 values occurs
        in each channel (`ErrorMeter.update_histogram`); the other taps turn
        into floats only the frames they keep.
        """
        if self._counter is None:
            self._counts = np.zeros((self.channels, 65536), dtype=np.int64)
            self._lookup = lookup
            self._counter = ValueCounter(self._counts)
        self._counter.add(pcm)
        self._feed(Pcm16Pair(pcm, lookup.written))

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
            # value counts give the exact error histogram (finish_plot)
            self.plot.update(pair, histogram=self._counts is None)

    def _value_counts(self) -> tuple[NDArray[np.int64], Pcm16Lookup] | None:
        """The complete counts of `update_pcm16` and its tables (None: unused)."""
        if self._counts is None:
            return None
        assert self._counter is not None and self._lookup is not None
        self._counter.close()
        return self._counts, self._lookup

    def _fold_counts(self) -> None:
        """Turn the value counts of `update_pcm16` into the exact figures."""
        counted = self._value_counts()
        if counted is None or self._folded:
            return
        counts, lookup = counted
        self.meter.update_histogram(counts, lookup.reference, lookup.error)
        self.levels.update_histogram(counts, lookup.codes)
        self._folded = True

    def finish_plot(self) -> None:
        """Complete the plot data: last window, spectra, exact histogram."""
        if self.plot is None:
            return
        self.plot.finish()
        spectra = self.spectrum.spectrum()
        self.plot.set_spectra(spectra[self.channels :], self.spectrum.segments)
        counted = self._value_counts()
        if counted is not None:
            counts, lookup = counted
            self.plot.set_histogram(lookup.error, counts.sum(axis=0))

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


class ValueCounter:
    """Adds how often each int16 value occurs, per channel, on a second thread.

    ``np.bincount`` releases the GIL, so the counting of one block overlaps
    the look-up, writing and other taps of the next (`adcsim.run._background`).

    Examples
    --------
    >>> counts = np.zeros((1, 65536), dtype=np.int64)
    >>> counter = ValueCounter(counts)
    >>> counter.add(np.array([[3], [3], [-1]], dtype=np.int16))
    >>> counter.close()
    >>> int(counts[0, 3]), int(counts[0, 65535])
    (2, 1)
    """

    def __init__(self, counts: NDArray[np.int64]) -> None:
        from adcsim.run._background import InOrder

        self.counts = counts
        self._worker = InOrder()

    def add(self, pcm: NDArray[np.int16]) -> None:
        """Count one ``(frames, channels)`` block (which must not change after)."""
        self._worker.submit(self._count, pcm)

    def _count(self, pcm: NDArray[np.int16]) -> None:
        for channel in range(self.counts.shape[0]):
            self.counts[channel] += np.bincount(
                pcm[:, channel].view(np.uint16), minlength=65536
            )

    def close(self) -> None:
        """Wait until every block is counted."""
        self._worker.drain()
