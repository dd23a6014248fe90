"""STOI and ESTOI: short-time objective intelligibility of a test signal.

Responsible for the two intelligibility measures at their 10 kHz internal
rate, vectorized over frames and segments; not for the report section
(`adcsim.metrics._perceptual`) nor for choosing which signals to compare.

Written from the papers: C. H. Taal, R. C. Hendriks, R. Heusdens and
J. Jensen, "An algorithm for intelligibility prediction of time-frequency
weighted noisy speech", IEEE Trans. Audio, Speech, Lang. Process. 19(7),
2011 (STOI), and J. Jensen and C. H. Taal, "An algorithm for predicting the
intelligibility of speech masked by modulated noise maskers", IEEE/ACM
Trans. Audio, Speech, Lang. Process. 24(11), 2016 (ESTOI). The framing
conventions the papers leave open (frame starts, band edges on FFT bins,
overlap-add of the kept frames) follow the authors' reference MATLAB code as
`pystoi` (used only in the tests) reproduces it, so the values agree with it
to 1e-4 when both see the same 10 kHz signal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

#: The measures' internal rate (Taal et al. 2011, section III).
RATE = 10000
#: Frame (Hann window) length, hop and FFT size at `RATE`: 25.6 ms frames,
#: 50% overlap, zero-padded to 512 points.
FRAME = 256
HOP = 128
NFFT = 512
#: One-third-octave bands: 15 of them, the first centred on 150 Hz.
BANDS = 15
LOW_HZ = 150.0
#: Frames per short-time segment (384 ms).
SEGMENT = 30
#: Lower signal-to-distortion bound of the clipping, dB (beta in eq. 3).
BETA_DB = -15.0
#: Frames more than this far below the loudest reference frame are silence.
DYNAMIC_RANGE_DB = 40.0
#: Guard against division by zero (the reference code's machine epsilon).
EPS = float(np.finfo(np.float64).eps)
#: Segments processed at a time: bounds the working memory on long files.
CHUNK = 4096


class UndefinedMetric(AdcsimError):
    """A metric that has no value for this input (silence, too short).

    Batches record it as ``null`` with the message as a note, never a crash.
    """


def _window() -> NDArray[np.float64]:
    # MATLAB's hanning(256): the symmetric Hann window without its zero ends.
    return np.hanning(FRAME + 2)[1:-1]


def _band_matrix() -> NDArray[np.float64]:
    """Which FFT bins each one-third-octave band sums (bands x bins)."""
    freqs = np.arange(NFFT // 2 + 1) * RATE / NFFT
    k = np.arange(BANDS)
    # edges a sixth of an octave either side of 150 * 2**(k/3), each moved to
    # its nearest bin; a band holds bins [low, high)
    low = LOW_HZ * 2.0 ** ((2 * k - 1) / 6)
    high = LOW_HZ * 2.0 ** ((2 * k + 1) / 6)
    low_bin = np.abs(freqs[None, :] - low[:, None]).argmin(axis=1)
    high_bin = np.abs(freqs[None, :] - high[:, None]).argmin(axis=1)
    bins = np.arange(freqs.size)
    inside = (bins >= low_bin[:, None]) & (bins < high_bin[:, None])
    return inside.astype(np.float64)


BAND_MATRIX = _band_matrix()


def _frames(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Frames starting every `HOP` samples while a full frame and more remain.

    The reference code's starts ``0, HOP, ... < len(x) - FRAME`` (a view).
    """
    if x.size <= FRAME:
        return np.zeros((0, FRAME))
    count = -(-(x.size - FRAME) // HOP)
    return sliding_window_view(x, FRAME)[::HOP][:count]


def _drop_silence(
    x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Remove frames of both signals where ``x`` is 40 dB below its loudest.

    The kept windowed frames are overlap-added back into two signals.
    """
    w = _window()
    fx, fy = _frames(x) * w, _frames(y) * w
    energy_db = 20.0 * np.log10(np.linalg.norm(fx, axis=1) + EPS)
    keep = energy_db > energy_db.max(initial=-np.inf) - DYNAMIC_RANGE_DB
    return _overlap_add(fx[keep]), _overlap_add(fy[keep])


def _overlap_add(frames: NDArray[np.float64]) -> NDArray[np.float64]:
    """Frames at hop `HOP` = FRAME / 2 summed into one signal."""
    count = frames.shape[0]
    if count == 0:
        return np.zeros(0)
    out = np.zeros((count + 1) * HOP)
    out[: count * HOP] += frames[:, :HOP].reshape(-1)
    out[HOP:] += frames[:, HOP:].reshape(-1)
    return out


def band_envelopes(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """One-third-octave band amplitudes of each frame, ``(BANDS, frames)``."""
    w = _window()
    frames = _frames(x)
    out = np.empty((BANDS, frames.shape[0]))
    step = 8192  # frames per FFT call: bounded memory on long signals
    for start in range(0, frames.shape[0], step):
        spectrum = np.fft.rfft(frames[start : start + step] * w, n=NFFT)
        power = spectrum.real**2 + spectrum.imag**2
        out[:, start : start + step] = np.sqrt(BAND_MATRIX @ power.T)
    return out


def _stoi_sum(xs: NDArray[np.float64], ys: NDArray[np.float64]) -> float:
    """Sum of the band correlations of segments ``(BANDS, segments, SEGMENT)``."""
    # normalize the test envelope to the reference's energy, then clip it at
    # the lower SDR bound (eq. 3)
    scale = np.linalg.norm(xs, axis=2, keepdims=True) / (
        np.linalg.norm(ys, axis=2, keepdims=True) + EPS
    )
    yp = np.minimum(ys * scale, xs * (1.0 + 10.0 ** (-BETA_DB / 20.0)))
    xc = xs - xs.mean(axis=2, keepdims=True)
    yc = yp - yp.mean(axis=2, keepdims=True)
    xc /= np.linalg.norm(xc, axis=2, keepdims=True) + EPS
    yc /= np.linalg.norm(yc, axis=2, keepdims=True) + EPS
    return float(np.sum(xc * yc))


def _normalized(s: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows (over time) then columns (over bands) to zero mean, unit norm."""
    s = s - s.mean(axis=2, keepdims=True)
    s /= np.linalg.norm(s, axis=2, keepdims=True) + EPS
    s -= s.mean(axis=0, keepdims=True)
    s /= np.linalg.norm(s, axis=0, keepdims=True) + EPS
    return s


def _estoi_sum(xs: NDArray[np.float64], ys: NDArray[np.float64]) -> float:
    """Sum over segments of the mean spectral correlation (Jensen, Taal eq. 7)."""
    return float(np.sum(_normalized(xs) * _normalized(ys)) / SEGMENT)


def stoi_at_rate(
    x: NDArray[np.float64], y: NDArray[np.float64], *, extended: bool = False
) -> float:
    """STOI (or ESTOI) of ``y`` against ``x``, both 1-D at `RATE`.

    Raises
    ------
    UndefinedMetric
        A silent reference, or fewer than 30 frames left after silence removal.
    """
    if x.shape != y.shape:
        raise ValueError(f"stoi: shapes {x.shape} and {y.shape} differ")
    name = "estoi" if extended else "stoi"
    if not np.any(x):
        raise UndefinedMetric(f"{name}: the reference is silent")
    xk, yk = _drop_silence(x, y)
    ex, ey = band_envelopes(xk), band_envelopes(yk)
    if ex.shape[1] < SEGMENT:
        raise UndefinedMetric(
            f"{name}: {ex.shape[1]} frames of speech after removing silence, "
            f"needs {SEGMENT} (about 0.4 s)"
        )
    # every segment of SEGMENT consecutive frames: (BANDS, segments, SEGMENT)
    sx = sliding_window_view(ex, SEGMENT, axis=1)
    sy = sliding_window_view(ey, SEGMENT, axis=1)
    count = sx.shape[1]
    measure = _estoi_sum if extended else _stoi_sum
    total = 0.0
    for start in range(0, count, CHUNK):
        total += measure(sx[:, start : start + CHUNK], sy[:, start : start + CHUNK])
    if extended:
        return total / count
    return total / (BANDS * count)


def stoi(
    reference: ArrayLike,
    test: ArrayLike,
    *,
    rate: int,
    extended: bool = False,
) -> float:
    """Short-time objective intelligibility of ``test`` against ``reference``.

    Both are resampled to 10 kHz with adcsim's resampler (soxr VHQ), frames
    quieter than the loudest reference frame by 40 dB are removed, and the
    correlation of 384 ms one-third-octave band envelopes (15 bands from
    150 Hz) is averaged (Taal et al. 2011); ``extended=True`` gives ESTOI,
    the mean spectral correlation of row- and column-normalized segments
    (Jensen and Taal 2016).

    Parameters
    ----------
    reference, test : array_like, 1-D, same length
        Clean and processed signal, full scale.
    rate : int
        Their rate, Hz.
    extended : bool
        ESTOI instead of STOI.

    Returns
    -------
    float
        STOI in about [0, 1] (ESTOI in [-1, 1]); higher is more intelligible.

    Raises
    ------
    UndefinedMetric
        A silent reference, or less than 30 frames (0.4 s) of speech.
    AdcsimError
        Signals of different shapes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20000) / 10000
    >>> x = np.sin(2 * np.pi * 500 * t) * (1 + np.sin(2 * np.pi * 4 * t))
    >>> round(stoi(x, x, rate=10000), 6)
    1.0
    >>> noisy = x + rng.normal(0, 1.0, x.size)
    >>> 0.0 < stoi(x, noisy, rate=10000) < 0.9
    True
    """
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(test, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise AdcsimError(
            f"stoi: reference {x.shape} and test {y.shape} must be 1-D, same length"
        )
    if rate != RATE:
        x, y = _to_rate(x, rate), _to_rate(y, rate)
    return stoi_at_rate(x, y, extended=extended)


def _to_rate(x: NDArray[np.float64], rate: int) -> NDArray[np.float64]:
    from adcsim.stages._resample import resample

    out: Any = resample(x, in_rate=rate, out_rate=RATE)
    return np.asarray(out, dtype=np.float64)
