"""Streaming error meters: running sums over aligned (reference, output) blocks.

Responsible for the error figures of the report (MSE, SNR, max error, levels
used); not for tone analysis (``adcsim.metrics._tone``) or for formatting (``report``).
Meters keep float64 running sums per channel and return plain floats, with
None where a figure is undefined or infinite (silence, zero error).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.stages._chain import as_block

Metrics = dict[str, Any]
#: ``rows_of(start, stop)``: rows of a block's frames start..stop, on demand.
Rows = Callable[[int, int], NDArray[np.floating[Any]]]
Block = NDArray[np.float64]
#: Frames of the stream per partial sum of `ErrorMeter`: fixed, so that the
#: floating-point sums do not depend on how the stream is cut into blocks.
SUM_CHUNK = 1 << 16
#: Frames per segment of the averaged spectra (`SpectrumMeter`).
SPECTRUM_NFFT = 4096


def db10(ratio: float) -> float | None:
    """``10 log10(ratio)``, None when the ratio is 0, infinite or NaN.

    Examples
    --------
    >>> db10(100.0), db10(0.0), db10(float("inf"))
    (20.0, None, None)
    """
    if not (ratio > 0 and math.isfinite(ratio)):
        return None
    return 10.0 * math.log10(ratio)


def _safe_div(num: float, den: float) -> float:
    return num / den if den > 0 else (math.inf if num > 0 else math.nan)


class BlockPair:
    """One aligned block of reference and written values, ``(frames, channels)``.

    Taps read it through `ref` and `out`, which take a frame range and a
    stride.
    """

    def __init__(
        self, reference: NDArray[np.floating[Any]], output: NDArray[np.floating[Any]]
    ) -> None:
        self._ref, self._out = reference, output
        self.frames, self.channels = reference.shape

    def ref(self, start: int = 0, stop: int | None = None, step: int = 1) -> Block:
        """Reference samples of frames ``start:stop:step``."""
        return np.asarray(self._ref[start:stop:step], dtype=np.float64)

    def out(self, start: int = 0, stop: int | None = None, step: int = 1) -> Block:
        """Written samples of frames ``start:stop:step``."""
        return np.asarray(self._out[start:stop:step], dtype=np.float64)


class ErrorMeter:
    """Error figures of ``e = output - reference``, accumulated block by block.

    Parameters
    ----------
    channels : int
        Channel count of the blocks.

    Notes
    -----
    Figures, in full-scale units (full scale is [-1, 1)):

    - ``mse`` = mean(e^2), ``rmse`` = sqrt(mse), ``max_abs_error`` = max|e|,
      ``mean_error`` = mean(e);
    - ``signal_rms_dbfs`` = 10 log10(mean(r^2)): 0 dBFS is an RMS of 1, so a
      full-scale sine is -3.01 dBFS;
    - ``snr_db`` = 10 log10(sum r^2 / sum e^2);
    - ``psnr_db`` = 10 log10(1 / mse): peak (full scale 1.0) over error power.

    Examples
    --------
    >>> meter = ErrorMeter(channels=1)
    >>> error = meter.update(np.array([[0.5], [-0.5]]), np.array([[0.25], [-0.5]]))
    >>> total, per_channel = meter.result()
    >>> total["mse"], round(total["snr_db"], 3)
    (0.03125, 9.031)
    """

    def __init__(self, *, channels: int) -> None:
        self.channels = channels
        self.frames = 0
        self._sum_r2 = np.zeros(channels)
        self._sum_e2 = np.zeros(channels)
        self._sum_e = np.zeros(channels)
        self._max_e = np.zeros(channels)
        # the frames of the chunk being filled, (reference, error) pieces
        self._pending: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
        self._pending_frames = 0

    def update(
        self, reference: NDArray[np.floating[Any]], output: NDArray[np.floating[Any]]
    ) -> NDArray[np.float64]:
        """Add one aligned pair of ``(frames, channels)`` blocks.

        Returns the error ``output - reference`` (same shape). The sums are
        taken over fixed chunks of `SUM_CHUNK` frames of the stream, whatever
        the blocks, so the figures do not depend on the block size.
        """
        assert reference.shape == output.shape, (reference.shape, output.shape)
        e = np.subtract(output, reference, dtype=np.float64)
        r = np.asarray(reference, dtype=np.float64)
        frames = e.shape[0]
        self.frames += frames
        start = 0
        if self._pending_frames:
            start = min(SUM_CHUNK - self._pending_frames, frames)
            self._pending.append((r[:start], e[:start]))
            self._pending_frames += start
            if self._pending_frames == SUM_CHUNK:
                self._add_pending()
        while frames - start >= SUM_CHUNK:
            self._add(r[start : start + SUM_CHUNK], e[start : start + SUM_CHUNK])
            start += SUM_CHUNK
        if start < frames:
            self._pending.append((r[start:], e[start:]))
            self._pending_frames += frames - start
        return e

    def _add_pending(self) -> None:
        if len(self._pending) == 1:
            self._add(*self._pending[0])
        else:
            self._add(
                np.concatenate([r for r, _ in self._pending]),
                np.concatenate([e for _, e in self._pending]),
            )
        self._pending, self._pending_frames = [], 0

    def _add(self, r: NDArray[np.float64], e: NDArray[np.float64]) -> None:
        """Add the sums of one chunk (or of the stream's last, partial one)."""
        # Column by column: BLAS dot products and 1-D reductions on strided
        # columns are several times faster than numpy's reductions along the
        # short channel axis of a (frames, channels) block.
        for channel in range(self.channels):
            ref, err = r[:, channel], e[:, channel]
            self._sum_r2[channel] += np.dot(ref, ref)
            self._sum_e2[channel] += np.dot(err, err)
            self._sum_e[channel] += err.sum()
            if err.size:
                peak = np.abs(err).max()
                self._max_e[channel] = max(self._max_e[channel], peak)

    def update_counts(
        self,
        counts: NDArray[np.integer[Any]],
        reference: NDArray[np.float64],
        error: NDArray[np.float64],
    ) -> None:
        """Add samples given by how often each of a set of values occurs.

        ``counts[c, v]`` samples of channel ``c`` had reference ``reference[v]``
        and error ``error[v]``. When the output is a function of the input (a
        memoryless quantizer on int16 PCM), the sums follow exactly from the
        65536 counts, with no pass over the samples as floats.

        Examples
        --------
        >>> meter = ErrorMeter(channels=1)
        >>> meter.update_counts(np.array([[1, 1]]), np.array([0.5, -0.5]),
        ...                     np.array([-0.25, 0.0]))
        >>> meter.result()[0]["mse"]
        0.03125
        """
        weights = np.asarray(counts, dtype=np.float64)
        self.frames += int(counts[0].sum()) if counts.shape[0] else 0
        self._sum_r2 += weights @ (reference * reference)
        self._sum_e2 += weights @ (error * error)
        self._sum_e += weights @ error
        magnitude = np.abs(error)
        for channel in range(self.channels):
            peak = float(magnitude[counts[channel] > 0].max(initial=0.0))
            self._max_e[channel] = max(self._max_e[channel], peak)

    def _figures(
        self, n: int, sum_r2: float, sum_e2: float, sum_e: float, max_e: float
    ) -> Metrics:
        if n == 0:
            keys = (
                "mse",
                "rmse",
                "max_abs_error",
                "mean_error",
                "signal_rms_dbfs",
                "snr_db",
                "psnr_db",
            )
            return dict.fromkeys(keys)
        mse = sum_e2 / n
        return {
            "mse": mse,
            "rmse": math.sqrt(mse),
            "max_abs_error": max_e,
            "mean_error": sum_e / n,
            "signal_rms_dbfs": db10(sum_r2 / n),
            "snr_db": db10(_safe_div(sum_r2, sum_e2)),
            "psnr_db": db10(_safe_div(1.0, mse)),
        }

    def result(self) -> tuple[Metrics, list[Metrics]]:
        """All channels together, and each channel alone (ends the stream)."""
        if self._pending_frames:
            self._add_pending()
        n = self.frames
        per_channel = [
            self._figures(
                n,
                float(self._sum_r2[c]),
                float(self._sum_e2[c]),
                float(self._sum_e[c]),
                float(self._max_e[c]),
            )
            for c in range(self.channels)
        ]
        total = self._figures(
            n * self.channels,
            float(self._sum_r2.sum()),
            float(self._sum_e2.sum()),
            float(self._sum_e.sum()),
            float(self._max_e.max(initial=0.0)),
        )
        return total, per_channel


class LevelCounter:
    """Which of a quantizer's codes occur in the output, per channel.

    ``levels_used`` counts distinct codes; codes are counted with a presence
    table (2**N booleans per channel) updated by ``np.bincount``, not
    ``np.unique``.
    """

    def __init__(self, quantizer: Any, *, channels: int) -> None:
        self.quantizer = quantizer
        self._offset = quantizer.levels // 2
        self._seen = np.zeros((channels, quantizer.levels), dtype=bool)

    def update(
        self, output: NDArray[np.floating[Any]], codes: NDArray[np.int32] | None = None
    ) -> None:
        """Mark the codes of one output block (``codes`` when already known)."""
        if codes is None:
            codes = self.quantizer.encode(output)
        channels, levels = self._seen.shape
        for channel in range(channels):
            column = codes[:, channel] + self._offset
            if levels <= 1 << 16:
                # faster than a fancy-indexed store while the counts stay small
                self._seen[channel] |= np.bincount(column, minlength=levels) > 0
            else:
                self._seen[channel, column] = True

    def mark(self, channel: int, codes: NDArray[np.integer[Any]]) -> None:
        """Mark ``codes`` as used in ``channel`` (each once is enough)."""
        self._seen[channel, codes + self._offset] = True

    def result(self) -> tuple[int, list[int]]:
        """Levels used in all channels together, and per channel."""
        per_channel = [int(n) for n in self._seen.sum(axis=1)]
        return int(self._seen.any(axis=0).sum()), per_channel


class SegmentPicker:
    """Cut channel-major rows into ``nfft``-frame segments; keep every stride-th.

    Segment ``i`` is kept when ``i % stride == 0``: which segments are kept
    depends only on their position in the stream, so any split into blocks
    gives the same segments. `tail` is the partial
    segment left at the end when the stream is shorter than one segment.

    Examples
    --------
    >>> picker = SegmentPicker(channels=1, nfft=4, stride=2)
    >>> picker.feed(np.arange(10.0)[None, :]).tolist()
    [[[0.0, 1.0, 2.0, 3.0]]]
    >>> picker.feed(np.arange(10.0, 14.0)[None, :]).tolist()
    [[[8.0, 9.0, 10.0, 11.0]]]
    """

    def __init__(self, *, channels: int, nfft: int, stride: int = 1) -> None:
        self.nfft, self.stride = nfft, max(1, stride)
        self._buffer = np.zeros((channels, nfft))
        self._fill = 0
        self.index = 0  # of the segment being filled

    def feed(self, rows: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Add ``(channels, frames)`` rows; return the kept segments completed."""
        return self.feed_lazy(rows.shape[1], lambda start, stop: rows[:, start:stop])

    def feed_lazy(self, frames: int, rows_of: Rows) -> NDArray[np.float64]:
        """`feed` for a block whose rows are computed on demand.

        ``rows_of(start, stop)`` returns the ``(channels, stop - start)`` rows
        of the block's frames ``start`` to ``stop``; it is called only for
        the parts of kept segments, so a long stream's rows never need to
        exist in full.
        """
        done = []
        position = 0
        while position < frames:
            take = min(self.nfft - self._fill, frames - position)
            keep = self.index % self.stride == 0
            if keep:
                self._buffer[:, self._fill : self._fill + take] = rows_of(
                    position, position + take
                )
            self._fill += take
            position += take
            if self._fill == self.nfft:
                if keep:
                    done.append(self._buffer.copy())
                self.index += 1
                self._fill = 0
        if not done:
            return np.zeros((0, *self._buffer.shape))
        return np.stack(done)

    def tail(self) -> NDArray[np.float64]:
        """The partial first segment of a stream shorter than ``nfft``, else empty."""
        if self.index == 0:
            return self._buffer[:, : self._fill]
        return self._buffer[:, :0]


@functools.lru_cache(maxsize=8)
def hann(n: int) -> NDArray[np.float64]:
    """``np.hanning(n)``, computed once per length (batches make many meters).

    Examples
    --------
    >>> hann(3).tolist()
    [0.0, 1.0, 0.0]
    """
    window = np.hanning(n)
    window.flags.writeable = False
    return window


def stride_for(frames: int | None, nfft: int, segments: int) -> int:
    """Every how many segments to analyse so about ``segments`` are used.

    Examples
    --------
    >>> [stride_for(frames, 4096, 256) for frames in (None, 10**6, 10**8)]
    [1, 1, 96]
    """
    if frames is None:
        return 1
    return max(1, -(-frames // (nfft * segments)))


class SpectrumMeter:
    """Averaged power spectra of channel-major rows (e.g. the error signal).

    Used for the error's weighted and in-band powers and for the plot's
    spectra. Each row is cut into non-overlapping Hann-windowed
    segments of ``nfft`` frames whose power spectra are summed (Welch's
    method without overlap). For long streams of known length only
    ``segments`` of them, evenly spread, are analysed (`SegmentPicker`). A
    weighted or band-limited power is then the exact total error power (from
    `ErrorMeter`) times the fraction of the spectrum's power the weighting
    keeps, so the estimate never drifts from the total and needs no scipy. A
    record shorter than ``nfft`` is analysed as one zero-padded segment.

    Examples
    --------
    >>> meter = SpectrumMeter(rate=8000, channels=1, nfft=256)
    >>> meter.update(np.random.default_rng(0).standard_normal((1, 8000)))
    >>> round(meter.band_fractions(0, 2000)[0], 1)  # white noise: half the band
    0.5
    """

    def __init__(
        self,
        *,
        rate: int,
        channels: int,
        nfft: int = SPECTRUM_NFFT,
        frames: int | None = None,
        segments: int = 256,
    ) -> None:
        self.rate, self.channels, self.nfft = rate, channels, nfft
        self.power = np.zeros((channels, nfft // 2 + 1))
        self._window = hann(nfft)
        self._picker = SegmentPicker(
            channels=channels, nfft=nfft, stride=stride_for(frames, nfft, segments)
        )
        self.segments = 0

    def update(self, error_rows: NDArray[np.floating[Any]]) -> None:
        """Add one ``(channels, frames)`` block."""
        self.update_lazy(
            error_rows.shape[1], lambda start, stop: error_rows[:, start:stop]
        )

    def update_lazy(self, frames: int, rows_of: Rows) -> None:
        """Add one block of ``frames`` whose rows ``rows_of(start, stop)`` gives.

        Only the analysed segments are asked for (`SegmentPicker.feed_lazy`).
        """
        segs = self._picker.feed_lazy(frames, rows_of)
        if segs.shape[0]:
            spec = np.fft.rfft(segs * self._window, axis=2)
            # one segment at a time, in stream order: the sum does not depend
            # on how many segments a block completed
            for power in spec.real**2 + spec.imag**2:
                self.power += power
            self.segments += segs.shape[0]

    @property
    def freqs_hz(self) -> NDArray[np.float64]:
        """Bin frequencies."""
        return np.fft.rfftfreq(self.nfft, 1.0 / self.rate).astype(np.float64)

    def spectrum(self) -> NDArray[np.float64]:
        """Summed power spectra, ``(channels, nfft // 2 + 1)``."""
        tail = self._picker.tail()
        if self.segments or not tail.shape[1]:
            return self.power
        n = tail.shape[1]
        window = np.hanning(n) if n > 2 else np.ones(n)
        spec = np.fft.rfft(tail * window, n=self.nfft, axis=1)
        return np.asarray(spec.real**2 + spec.imag**2)

    def weighted_fractions(self, weight: NDArray[np.float64]) -> list[float | None]:
        """Per channel, sum(weight * P) / sum(P) (None for a zero error)."""
        spectrum = self.spectrum()
        total = spectrum.sum(axis=1)
        kept = spectrum @ weight
        return [float(k / t) if t > 0 else None for k, t in zip(kept, total)]

    def band_fractions(self, low_hz: float, high_hz: float) -> list[float | None]:
        """Per channel, the fraction of the error power in [low_hz, high_hz)."""
        f = self.freqs_hz
        return self.weighted_fractions(((f >= low_hz) & (f < high_hz)).astype(float))


def channel_means(
    ref: NDArray[np.float64], out: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Rows of the channel means of input, output and error, ``(3, frames)``.

    ``ref`` and ``out`` are ``(frames, channels)``.

    Examples
    --------
    >>> channel_means(np.array([[0.5, 0.25]]), np.array([[0.5, 0.5]])).ravel().tolist()
    [0.375, 0.5, 0.125]
    """
    # Matrix-vector products: numpy's mean over the short channel axis of a
    # (frames, channels) block is several times slower.
    weights = np.full(ref.shape[1], 1.0 / ref.shape[1])
    means = np.empty((3, ref.shape[0]))
    np.dot(ref, weights, out=means[0])
    np.dot(out, weights, out=means[1])
    np.subtract(means[1], means[0], out=means[2])
    return means


def measure(reference: ArrayLike, test: ArrayLike) -> Metrics:
    """Error figures of ``test`` against ``reference`` (same shape).

    Parameters
    ----------
    reference, test : array_like
        Samples, frames or (frames, channels), full scale.

    Returns
    -------
    dict
        ``mse``, ``rmse``, ``max_abs_error``, ``mean_error``,
        ``signal_rms_dbfs``, ``snr_db``, ``psnr_db`` (see `ErrorMeter`), plus
        ``channels``: the same keys per channel.

    Raises
    ------
    AdcsimError
        Shapes differ.

    Examples
    --------
    >>> m = measure([0.5, -0.5, 0.25, 0.0], [0.5, -0.5, 0.25, 0.125])
    >>> m["max_abs_error"], round(m["snr_db"], 2)
    (0.125, 15.56)
    """
    r = np.asarray(reference, dtype=np.float64)
    t = np.asarray(test, dtype=np.float64)
    if r.shape != t.shape:
        raise AdcsimError(
            f"reference shape {r.shape} differs from test shape {t.shape}"
        )
    r2 = as_block(np.atleast_1d(r), name="reference", owner="measure")
    t2 = as_block(np.atleast_1d(t), name="test", owner="measure")
    meter = ErrorMeter(channels=r2.shape[1])
    meter.update(r2, t2)
    total, per_channel = meter.result()
    return {**total, "channels": per_channel}
