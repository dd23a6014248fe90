"""SI-SDR, segmental SNR and log-spectral distance as streaming meters.

Responsible for three full-reference distortion measures at the stream's own
rate, fed block by block so that no whole signal is kept; not for STOI
(`adcsim.metrics._stoi`) nor for the report section
(`adcsim.metrics._perceptual`). Each meter takes aligned float
``(frames, columns)`` blocks and returns one value (or None) per column.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

#: segSNR frame and hop, seconds: 30 ms frames every 7.5 ms (75% overlap).
SEGSNR_FRAME_S = 0.030
SEGSNR_HOPS_PER_FRAME = 4
#: segSNR clamps each frame's SNR to [MIN, MAX] dB before averaging.
SEGSNR_MIN_DB = -10.0
SEGSNR_MAX_DB = 35.0
#: LSD: Hann frames of this many samples at the stream's rate, hop a quarter.
LSD_FRAME = 2048
LSD_HOP = 512
#: LSD power floor per bin (periodogram normalized so that a full-scale
#: white noise has power 1 per bin on average): -100 dB.
LSD_FLOOR = 1e-10

Block = NDArray[np.float64]
Values = list[tuple[float | None, str | None]]


def _pair(reference: ArrayLike, test: ArrayLike) -> tuple[Block, Block]:
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(test, dtype=np.float64)
    if x.shape != y.shape or x.ndim not in (1, 2):
        raise AdcsimError(
            f"reference {x.shape} and test {y.shape} must have the same 1-D "
            "or (frames, channels) shape"
        )
    return x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)


class SiSdrMeter:
    """Scale-invariant signal-to-distortion ratio, dB (Le Roux et al. 2019).

    ``SI-SDR = 10 log10(|a s|^2 / |a s - y|^2)`` with ``a = <y, s> / <s, s>``:
    the test ``y`` projected on the reference ``s``; no mean is removed
    (J. Le Roux, S. Wisdom, H. Erdogan, J. R. Hershey, "SDR - half-baked or
    well done?", ICASSP 2019, eq. 5). Kept as running sums of ``s.s``,
    ``s.d`` and ``d.d`` with ``d = y - s``, so the residual
    ``|d + (1 - a) s|^2`` is exact even at 100 dB and more.
    """

    def __init__(self, columns: int) -> None:
        self.ss = np.zeros(columns)
        self.sd = np.zeros(columns)
        self.dd = np.zeros(columns)

    def update(self, ref: Block, test: Block) -> None:
        """Add one aligned block pair."""
        d = test - ref
        self.ss += np.einsum("ij,ij->j", ref, ref)
        self.sd += np.einsum("ij,ij->j", ref, d)
        self.dd += np.einsum("ij,ij->j", d, d)

    def result(self) -> Values:
        """SI-SDR of each column, dB (None and a note where undefined)."""
        out: Values = []
        for ss, sd, dd in zip(self.ss.tolist(), self.sd.tolist(), self.dd.tolist()):
            if ss <= 0:
                out.append((None, "si-sdr: the reference is silent"))
                continue
            a = 1.0 + sd / ss
            residual = dd + 2.0 * (1.0 - a) * sd + (1.0 - a) ** 2 * ss
            residual = max(residual, 0.0)
            target = a * a * ss
            if residual == 0.0 or target == 0.0:
                what = "identical to the reference" if residual == 0.0 else "no"
                note = f"si-sdr: the test is {what}" + (
                    "" if residual == 0.0 else " projection on the reference"
                )
                out.append((None, note))
                continue
            out.append((10.0 * math.log10(target / residual), None))
        return out


class _Hops:
    """Cuts a stream into whole hops, carrying the rest to the next block."""

    def __init__(self, hop: int, columns: int) -> None:
        self.hop = hop
        self.rest = np.zeros((0, 2, columns))

    def take(self, ref: Block, test: Block) -> NDArray[np.float64]:
        """Whole hops so far, ``(hops, hop, 2, columns)`` (reference, test)."""
        data = np.concatenate([self.rest, np.stack([ref, test], axis=1)])
        whole = data.shape[0] // self.hop * self.hop
        self.rest = data[whole:]
        return data[:whole].reshape(-1, self.hop, *data.shape[1:])


class SegSnrMeter:
    """Segmental SNR, dB: the mean of clamped frame SNRs.

    Frames of 30 ms every 7.5 ms (rectangular); each frame's
    ``10 log10(sum s^2 / sum (y - s)^2)`` is clamped to [-10, 35] dB
    (the bounds of Hansen and Pellom 1998 and of P. C. Loizou, *Speech
    Enhancement: Theory and Practice*, 2007, section 10.5.1; a frame with no
    error counts 35 dB, a silent frame with error -10 dB). A trailing part
    frame is not counted. Streams keep only per-hop energies (16 bytes a hop
    and column).
    """

    def __init__(self, columns: int, *, rate: int) -> None:
        self.hop = max(1, round(SEGSNR_FRAME_S * rate / SEGSNR_HOPS_PER_FRAME))
        self.frame = self.hop * SEGSNR_HOPS_PER_FRAME
        self._hops = _Hops(self.hop, columns)
        self._energies: list[NDArray[np.float64]] = []

    def update(self, ref: Block, test: Block) -> None:
        """Add one aligned block pair."""
        hops = self._hops.take(ref, test)
        signal = np.einsum("hkc,hkc->hc", hops[:, :, 0], hops[:, :, 0])
        error = hops[:, :, 1] - hops[:, :, 0]
        noise = np.einsum("hkc,hkc->hc", error, error)
        self._energies.append(np.stack([signal, noise], axis=1))

    def result(self) -> Values:
        """Segmental SNR of each column, dB (None when shorter than one frame)."""
        energies = np.concatenate(self._energies) if self._energies else None
        columns = self._hops.rest.shape[2]
        if energies is None or energies.shape[0] < SEGSNR_HOPS_PER_FRAME:
            note = f"segsnr: shorter than one {self.frame}-sample frame"
            return [(None, note)] * columns
        framed = sliding_window_view(energies, SEGSNR_HOPS_PER_FRAME, axis=0).sum(-1)
        signal, noise = framed[:, 0], framed[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = 10.0 * np.log10(signal / noise)
        snr[noise == 0] = SEGSNR_MAX_DB
        snr = np.clip(snr, SEGSNR_MIN_DB, SEGSNR_MAX_DB)
        return [(float(v), None) for v in snr.mean(axis=0)]


class LsdMeter:
    """Log-spectral distance, dB, between reference and test.

    ``LSD = mean over frames of sqrt(mean over bins of (10 log10 P_s -
    10 log10 P_y)^2)``, with ``P`` the periodogram of 2048-sample Hann
    frames every 512 samples at the stream's rate (all 1025 bins, DC to
    Nyquist), each power floored at 1e-10 (-100 dB, full-scale white noise
    being 0 dB a bin). This is the frame-wise root-mean-square form used in
    bandwidth-extension work (e.g. Kuleshov et al. 2017; definitions differ
    between papers: this one is stated so that it can be compared). A gain
    ``g`` gives exactly ``|20 log10 g|`` wherever both powers clear the floor.
    A trailing part frame is not counted.
    """

    def __init__(self, columns: int) -> None:
        # (reference/test, column, frames): each frame a contiguous run
        self._rest = np.zeros((2, columns, 0))
        self._sum = np.zeros(columns)
        self._frames = 0
        self._window = np.hanning(LSD_FRAME + 1)[:-1]  # periodic Hann
        self._norm = 1.0 / np.sum(self._window**2)

    def update(self, ref: Block, test: Block) -> None:
        """Add one aligned block pair (frames overlap across blocks)."""
        data = np.concatenate([self._rest, np.stack([ref.T, test.T])], axis=2)
        length = data.shape[2]
        count = 0 if length < LSD_FRAME else (length - LSD_FRAME) // LSD_HOP + 1
        step = 256  # frames per FFT call
        floor = LSD_FLOOR / self._norm  # (the floor on the unscaled power)
        for start in range(0, count, step):
            stop = min(count, start + step)
            span = data[:, :, start * LSD_HOP : (stop - 1) * LSD_HOP + LSD_FRAME]
            frames = sliding_window_view(span, LSD_FRAME, axis=2)[:, :, ::LSD_HOP]
            spectrum = np.fft.rfft(frames * self._window, axis=-1)
            power = spectrum.real**2 + spectrum.imag**2
            np.maximum(power, floor, out=power)
            # one logarithm: the level difference is that of the power ratio
            diff = 10.0 * np.log10(power[0] / power[1])
            self._sum += np.sqrt(np.mean(diff * diff, axis=-1)).sum(axis=1)
        self._frames += count
        self._rest = data[:, :, count * LSD_HOP :].copy()

    def result(self) -> Values:
        """LSD of each column, dB (None when shorter than one frame)."""
        if self._frames == 0:
            note = f"lsd: shorter than one {LSD_FRAME}-sample frame"
            return [(None, note)] * self._sum.size
        return [(float(v), None) for v in self._sum / self._frames]


def _one(meter: Any, reference: ArrayLike, test: ArrayLike) -> float:
    x, y = _pair(reference, test)
    meter.update(x, y)
    value, note = meter.result()[0]
    if value is None:
        from adcsim.metrics._stoi import UndefinedMetric

        raise UndefinedMetric(str(note))
    return float(value)


def si_sdr(reference: ArrayLike, test: ArrayLike) -> float:
    """SI-SDR of ``test`` against ``reference`` (1-D), dB; see `SiSdrMeter`.

    Raises
    ------
    UndefinedMetric
        A silent reference, or a test identical to it (infinite).

    Examples
    --------
    Three times the reference plus a residual of a ninth of the target's power:

    >>> round(si_sdr([1.0, 0.0, 1.0, 0.0], [3.0, 1.0, 3.0, -1.0]), 4)
    9.5424
    """
    return _one(SiSdrMeter(1), reference, test)


def segsnr(reference: ArrayLike, test: ArrayLike, *, rate: int) -> float:
    """Segmental SNR of ``test`` against ``reference`` (1-D), dB; see `SegSnrMeter`.

    Raises
    ------
    UndefinedMetric
        A signal shorter than one 30 ms frame.

    Examples
    --------
    >>> x = np.sin(np.linspace(0, 200, 8000))
    >>> segsnr(x, x, rate=8000), segsnr(x, -x, rate=8000)
    (35.0, -6.020599913279624)
    """
    return _one(SegSnrMeter(1, rate=rate), reference, test)


def lsd(reference: ArrayLike, test: ArrayLike) -> float:
    """Log-spectral distance of ``test`` against ``reference`` (1-D), dB.

    See `LsdMeter`.

    Raises
    ------
    UndefinedMetric
        A signal shorter than one 2048-sample frame.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(0, 0.1, 8192)
    >>> round(lsd(x, 0.5 * x), 6)
    6.0206
    """
    return _one(LsdMeter(1), reference, test)
