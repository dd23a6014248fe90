"""Streaming A-weighting and band-power meters: a time-domain reference for tests.

These filter the signal itself (a bilinear A-weighting of IEC 61672-1, a
windowed-FFT band meter) where adcsim weights the error spectrum
(``adcsim.run._taps``); the tests use them to check the report's weighted
figures by another method. Moved here from ``adcsim.metrics._weighting``,
where nothing but tests used them (issue 12).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError
from adcsim.metrics._weighting import F1_HZ, F2_HZ, F3_HZ, F4_HZ

#: Lowest rate `a_weighting_sos` designs for: the 737.9 Hz pole must sit well
#: below Nyquist for the bilinear transform.
MIN_RATE = 4000


def _check_channels(channels: object) -> int:
    if (
        isinstance(channels, bool)
        or not isinstance(channels, (int, np.integer))
        or channels < 1
    ):
        raise AdcsimError(f"channels={channels!r} must be an integer >= 1")
    return int(channels)


@functools.lru_cache(maxsize=32)
def _a_weighting_sos_cached(rate: int) -> tuple[tuple[float, ...], ...]:
    from scipy import optimize, signal

    # Low part (4 zeros at DC, poles at f1, f1, f2, f3): the plain bilinear
    # transform. Its frequency warping is negligible this far below Nyquist;
    # prewarping each pole would fix its corner but shift the low-frequency
    # asymptote (by 0.3 dB at 8 kHz).
    poles = [-2.0 * math.pi * f for f in (F1_HZ, F1_HZ, F2_HZ, F3_HZ)]
    z_low, p_low, k_low = signal.bilinear_zpk([0.0] * 4, poles, 1.0, rate)

    # High part, the double pole at f4 (12.2 kHz, near or above Nyquist): the
    # bilinear transform squeezes it against Nyquist, so a real biquad (two
    # zeros, two poles, unit DC gain) is fitted in log magnitude to
    # -20 lg(1 + (f/f4)^2) from 100 Hz to 0.98 Nyquist instead. Deterministic:
    # fixed grid and starting point.
    grid = np.geomspace(100.0, 0.98 * rate / 2, 400)
    target = -20.0 * np.log10(1.0 + (grid / F4_HZ) ** 2)
    zinv = np.exp(-2j * np.pi * grid / rate)

    def residual(p: NDArray[np.float64]) -> NDArray[np.float64]:
        a1, a2, b1, b2 = np.tanh(p)
        h = (1 - b1 * zinv) * (1 - b2 * zinv) / ((1 - a1 * zinv) * (1 - a2 * zinv))
        dc = (1 - b1) * (1 - b2) / ((1 - a1) * (1 - a2))
        return np.asarray(20.0 * np.log10(np.abs(h / dc)) - target)

    fit = optimize.least_squares(residual, np.array([0.0, 0.0, -0.5, -0.5]))
    a1, a2, b1, b2 = (float(v) for v in np.tanh(fit.x))
    k_high = (1 - a1) * (1 - a2) / ((1 - b1) * (1 - b2))

    zeros = np.concatenate([z_low, [b1, b2]])
    poles_d = np.concatenate([p_low, [a1, a2]])
    sos = signal.zpk2sos(zeros, poles_d, k_low * k_high)
    _, h1k = signal.sosfreqz(sos, worN=[1000.0], fs=rate)
    sos[0, :3] /= abs(h1k[0])
    return tuple(tuple(float(v) for v in row) for row in sos)


def a_weighting_sos(rate: int) -> NDArray[np.float64]:
    """Design a digital IEC 61672-1 A-weighting filter for ``rate`` (sections).

    Parameters
    ----------
    rate : int >= 4000
        Sample rate, Hz.

    Returns
    -------
    ndarray of float64, shape (n_sections, 6)
        ``scipy.signal.sosfilt`` sections, 0 dB at 1 kHz.

    Raises
    ------
    AdcsimError
        ``rate`` not an integer >= 4000.

    See Also
    --------
    a_weighting_db : the analog curve it approximates.
    AWeightedPowerMeter : streams a signal through it.

    Notes
    -----
    The low-frequency part (four zeros at DC, poles at f1, f1, f2, f3) is the
    bilinear transform; the double pole at f4 = 12.2 kHz
    is replaced by a least-squares fitted real biquad, because the bilinear
    transform bends it against Nyquist (plain bilinear is -1.5 dB off at 10 kHz
    and -8 dB at 16 kHz for 44.1 kHz). Measured deviation from `a_weighting_db`
    at the IEC 61672-1 one-third-octave frequencies below Nyquist: at most
    0.04 dB at 44.1 kHz, 0.07 dB at 48 kHz, 0.09 dB at 88.2/96 kHz, 0.17 dB at
    8-32 kHz; anywhere up to 0.98 Nyquist: 0.17 dB at rates <= 48 kHz, 0.65 dB
    at 88.2/96 kHz (only above 40 kHz, where the curve is below -20 dB). Below
    ~40 kHz the curve is truncated at Nyquist: the filter matches the analog
    weighting up to 0.98 Nyquist and goes to its own value at Nyquist; the
    standard's values above Nyquist (10-20 kHz at rates up to 40 kHz) have no
    counterpart in the sampled signal, which has no energy there.

    Examples
    --------
    >>> from scipy.signal import sosfreqz
    >>> sos = a_weighting_sos(48000)
    >>> _, h = sosfreqz(sos, worN=[100.0, 1000.0, 10000.0], fs=48000)
    >>> (20 * np.log10(np.abs(h))).round(1)
    array([-19.1,   0. ,  -2.5])
    """
    rate = check_rate(rate, low=MIN_RATE)
    return np.array(_a_weighting_sos_cached(rate))


class AWeightedPowerMeter:
    """Streaming mean square of the A-weighted signal, per channel.

    Parameters
    ----------
    rate : int >= 4000
        Sample rate, Hz.
    channels : int >= 1
        Channel count of the blocks.

    Notes
    -----
    The filter state is kept between blocks (``sosfilt`` ``zi``/``zf``), so any
    split of the signal gives the same power up to rounding. The filter starts
    from rest: its 20.6 Hz poles settle within about 50 ms, negligible over a
    record of seconds.

    Examples
    --------
    >>> meter = AWeightedPowerMeter(48000, 1)
    >>> t = np.arange(48000) / 48000
    >>> meter.update(np.sin(2 * np.pi * 1000 * t)[:, None])
    >>> round(meter.power(), 3)
    0.5
    """

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = check_rate(rate, low=MIN_RATE)
        self.channels = _check_channels(channels)
        self._sos = a_weighting_sos(self.rate)
        self.reset()

    def reset(self) -> None:
        """Forget the signal seen so far."""
        self._zi = np.zeros((self._sos.shape[0], 2, self.channels))
        self._sum_sq = np.zeros(self.channels)
        self._frames = 0

    def update(self, block: ArrayLike) -> None:
        """Add one ``(frames, channels)`` block."""
        from scipy.signal import sosfilt

        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise AdcsimError(
                f"a-weighting: block shape={x.shape} must be (frames, {self.channels})"
            )
        if x.shape[0] == 0:
            return
        y, self._zi = sosfilt(self._sos, x, axis=0, zi=self._zi)
        self._sum_sq += np.einsum("ij,ij->j", y, y)
        self._frames += x.shape[0]

    def channel_powers(self) -> list[float]:
        """Mean square of the weighted signal of each channel (NaN if empty)."""
        if self._frames == 0:
            return [math.nan] * self.channels
        return [float(v) for v in self._sum_sq / self._frames]

    def power(self) -> float:
        """Mean square of the weighted signal, averaged over channels."""
        return float(np.mean(self.channel_powers()))


def _blackman_harris(n: int) -> NDArray[np.float64]:
    # 4-term Blackman-Harris (Harris 1978, Proc. IEEE 66(1), Table 1): highest
    # sidelobe -92 dB, main lobe +-4 bins.
    k = 2.0 * np.pi * np.arange(n) / n
    return np.asarray(
        0.35875
        - 0.48829 * np.cos(k)
        + 0.14128 * np.cos(2 * k)
        - 0.01168 * np.cos(3 * k),
        dtype=np.float64,
    )


class BandPowerMeter:
    """Streaming power of the part of a signal inside ``[low_hz, high_hz]``.

    Parameters
    ----------
    rate : int >= 1
        Sample rate, Hz.
    channels : int >= 1
        Channel count of the blocks.
    low_hz, high_hz : float, 0 <= low_hz < high_hz <= rate / 2
        The band, Hz (default 0-4000 Hz, capped at Nyquist).

    Raises
    ------
    AdcsimError
        A bad rate, channel count or band.

    Notes
    -----
    Welch's method: frames of ``N = 2**ceil(log2(rate / 8))`` samples (about
    0.1-0.2 s), hop N/2, 4-term Blackman-Harris window; each frame's in-band
    power is ``sum_k c_k |X_k|^2 / (N sum w^2)`` over the rfft bins, bin k
    weighted by the fraction of ``[f_k - df/2, f_k + df/2]`` inside the band
    (``c_k`` = 2 except at DC and Nyquist). It is unbiased for white noise and
    for any spectrum that is smooth over +-4 bins (+-4 rate/N Hz) of the band
    edges; a tone closer than that to an edge is split between inside and
    outside. Window sidelobes are below -92 dB, so strong out-of-band noise (a
    shaped error's +30 dB treble) does not leak in. Samples after the last
    complete frame (fewer than N/2) are not counted, unless no frame is complete:
    then the buffered samples form one shorter windowed frame. A band covering
    0 to Nyquist is the exact running mean square instead.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> meter = BandPowerMeter(8000, 1, low_hz=0, high_hz=2000)
    >>> meter.update(rng.standard_normal((80000, 1)))
    >>> round(meter.power(), 2)
    0.5
    """

    def __init__(
        self,
        rate: int,
        channels: int,
        *,
        low_hz: float = 0.0,
        high_hz: float = 4000.0,
    ) -> None:
        self.rate = check_rate(rate, low=1)
        self.channels = _check_channels(channels)
        nyquist = self.rate / 2
        high = min(float(high_hz), nyquist)
        low = float(low_hz)
        if not (math.isfinite(low) and 0.0 <= low < high):
            raise AdcsimError(
                f"band: low_hz={low_hz!r} and high_hz={high_hz!r} must satisfy "
                f"0 <= low_hz < high_hz, with low_hz below Nyquist {nyquist:g} Hz"
            )
        self.low_hz = low
        self.high_hz = high
        self._full_band = low == 0.0 and high >= nyquist
        self.frame = 1 << max(4, math.ceil(math.log2(self.rate / 8)))
        self.hop = self.frame // 2
        self._window = _blackman_harris(self.frame)
        self._bin_weights = self._weights(self.frame)
        self.reset()

    def _weights(self, nfft: int) -> NDArray[np.float64]:
        df = self.rate / nfft
        centers = np.arange(nfft // 2 + 1) * df
        lo = np.maximum(centers - df / 2, 0.0)
        hi = np.minimum(centers + df / 2, self.rate / 2)
        inside = np.clip(
            np.minimum(hi, self.high_hz) - np.maximum(lo, self.low_hz), 0.0, None
        )
        # Fraction of the bin's one-sided interval inside the band, times the
        # one-sided factor (1 at DC and Nyquist, whose interval is half a bin).
        fraction = inside / (hi - lo)
        factor = np.full(centers.shape, 2.0)
        factor[0] = 1.0
        if nfft % 2 == 0:
            factor[-1] = 1.0
        return np.asarray(fraction * factor, dtype=np.float64)

    def reset(self) -> None:
        """Forget the signal seen so far."""
        self._pending = np.zeros((0, self.channels))
        self._sum = np.zeros(self.channels)
        self._count = 0

    def update(self, block: ArrayLike) -> None:
        """Add one ``(frames, channels)`` block."""
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise AdcsimError(
                f"band power: block shape={x.shape} must be (frames, {self.channels})"
            )
        if self._full_band:
            self._sum += np.einsum("ij,ij->j", x, x)
            self._count += x.shape[0]
            return
        buf = np.concatenate([self._pending, x]) if self._pending.size else x
        if buf.shape[0] < self.frame:
            self._pending = buf.copy()
            return
        n_frames = 1 + (buf.shape[0] - self.frame) // self.hop
        views = np.lib.stride_tricks.sliding_window_view(buf, self.frame, axis=0)
        frames = views[: n_frames * self.hop : self.hop]  # (n, channels, frame)
        self._sum += self._frame_powers(frames, self._window, self._bin_weights)
        self._count += n_frames
        self._pending = buf[n_frames * self.hop :].copy()

    def _frame_powers(
        self,
        frames: NDArray[np.float64],
        window: NDArray[np.float64],
        weights: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        nfft = 2 * (weights.shape[0] - 1)
        spectrum = np.fft.rfft(frames * window, n=nfft, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2) @ weights
        scale = nfft * float(np.dot(window, window))
        return np.asarray(power.sum(axis=0) / scale, dtype=np.float64)

    def channel_powers(self) -> list[float]:
        """In-band power of each channel (NaN if nothing was seen)."""
        if self._count:
            return [float(v) for v in self._sum / self._count]
        n = self._pending.shape[0]
        if n == 0:
            return [math.nan] * self.channels
        # No complete frame: one shorter windowed frame, zero-padded to `frame`.
        window = _blackman_harris(n)
        frames = self._pending.T[None, :, :]
        powers = self._frame_powers(frames, window, self._bin_weights)
        return [float(v) for v in powers]

    def power(self) -> float:
        """In-band power, averaged over channels."""
        return float(np.mean(self.channel_powers()))
