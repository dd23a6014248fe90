"""Tone detection and the single-tone figures of merit of IEEE Std 1241.

`is_tonal` decides whether a channel is dominated by one sinusoid;
`tone_metrics` measures a tonal channel the way an ADC test bench does: fitted
frequency and amplitude, SINAD, ENOB, THD, SFDR and noise floor;
`tone_metrics_channels` does it per channel of a ``(frames, channels)`` block
and pools the channels. Sine fitting itself lives in `adcsim.metrics._sinefit`. This
module does not read files, stream, or compute the error meters of
`adcsim.metrics._meters`; a caller with a long file passes a window of it (up to about
2**20 frames: memory is a few times the record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim._rate import check_real_rate
from adcsim.errors import AdcsimError
from adcsim.metrics._samples import check_samples
from adcsim.metrics._sinefit import SineFit, fit_sine
from adcsim.metrics._windows import window
from adcsim.stages._chain import as_block

#: Keys of the tone metrics, in report order.
TONE_KEYS = (
    "tone_hz",
    "tone_amplitude_dbfs",
    "sinad_db",
    "enob_bits",
    "thd_db",
    "sfdr_db",
    "noise_floor_dbfs",
)

#: Fraction of the AC power the fitted sine must carry for a channel to be tonal.
TONAL_POWER_FRACTION = 0.9

#: A tonal frequency lies at least this many spectral bins (rate / frames) from
#: DC and from Nyquist: at least three cycles in the record.
TONAL_MARGIN_BINS = 3.0

#: Spectral screen before the fit (see `_peak_fraction`): below this share
#: of power around the spectral peak, the 90 % test cannot pass.
_PRESCREEN_FRACTION = 0.8

#: Fewest frames for which a channel can be tonal.
TONAL_MIN_FRAMES = 16

#: Harmonics entering THD (IEEE Std 1241 counts the 2nd to the 10th).
HARMONICS = range(2, 11)

#: A folded harmonic closer than this many bins to DC, to the fundamental or to
#: a lower harmonic cannot be told apart from it over the record.
_HARMONIC_GUARD_BINS = 2.0

#: Bins on each side of the fundamental (and above DC) covered by the window's
#: main lobe (+-7 bins) plus one of margin: not searched for spurs.
_MAIN_LOBE_BINS = 8.0

#: Samples per chunk when accumulating the harmonic least-squares problem.
_CHUNK = 1 << 16


@dataclass(frozen=True)
class _Measurement:
    """Raw powers of one tonal channel (mean squares, full scale 1.0)."""

    fit: SineFit
    fundamental_power: float
    residual_power: float
    harmonic_power: float | None
    harmonic_fundamental_power: float
    noise_power: float
    spur_power: float | None


def _check_channel(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise AdcsimError(f"tone metrics: {name} has shape {arr.shape}, must be 1-D")
    check_samples(arr, f"tone metrics: {name}")
    return arr


def _check_rate(rate: float) -> float:
    return check_real_rate(rate, prefix="tone metrics: ")


def _peak_fraction(x: NDArray[np.float64]) -> float:
    """Share of the Hann-windowed spectral power within +-3 bins of its peak.

    A sine's Hann spectrum keeps more than 99.9 % of its power within +-2 bins
    of the peak, and broadband power is weighted alike by the window, so this
    share is about the sine's share of the AC power: a cheap screen that
    spares the iterative fit on speech, music and noise.
    """
    windowed = (x - x.mean()) * window(x.size, "periodic-hann")
    power = np.abs(np.fft.rfft(windowed)) ** 2
    total = float(power.sum())
    if not total > 0.0:
        return 0.0
    k = int(np.argmax(power))
    return float(power[max(k - 3, 0) : k + 4].sum()) / total


def _detect(x: NDArray[np.float64], rate: float) -> SineFit | None:
    """Return the four-parameter fit of ``x`` if ``x`` is tonal, else None."""
    frames = x.size
    if frames < TONAL_MIN_FRAMES:
        return None
    ac_power = float(np.var(x))
    if not ac_power > 0.0:
        return None
    if _peak_fraction(x) < _PRESCREEN_FRACTION:
        return None
    fit = fit_sine(x, rate)
    bins = fit.freq_hz * frames / rate
    if not TONAL_MARGIN_BINS <= bins <= frames / 2 - TONAL_MARGIN_BINS:
        return None
    if fit.amplitude**2 / 2 < TONAL_POWER_FRACTION * ac_power:
        return None
    return fit


def is_tonal(x: ArrayLike, rate: float) -> bool:
    """Whether one sinusoid dominates the channel ``x``.

    Parameters
    ----------
    x : array_like, 1-D
        One channel, finite samples.
    rate : float > 0
        Sample rate, Hz.

    Returns
    -------
    bool
        True when all of these hold:

        * at least 16 samples and non-zero AC power (``var(x) > 0``);
        * the four-parameter sine fit (`adcsim.metrics._sinefit.fit_sine`) carries at
          least 90 % of the AC power: ``A**2 / 2 >= 0.9 * var(x)``, i.e. the
          rest (noise, distortion, other tones) is at least 9.5 dB below it;
        * the fitted frequency is at least 3 spectral bins (``rate / frames``)
          from DC and from Nyquist: three or more cycles in the record, and a
          tone the fit can tell from its own image.

        Silence, noise, speech, music, chirps and a sum of two equal tones fail
        the power test (a square wave too: its fundamental carries 81 %).

    Raises
    ------
    AdcsimError
        ``x`` not 1-D or with non-finite samples, or a bad ``rate``.

    Examples
    --------
    >>> n = np.arange(256)
    >>> is_tonal(np.sin(2 * np.pi * 1000 * n / 48000), 48000)
    True
    >>> is_tonal(np.zeros(256), 48000)
    False
    >>> rng = np.random.default_rng(0)
    >>> is_tonal(rng.standard_normal(256), 48000)
    False
    """
    return _detect(_check_channel(x, "x"), _check_rate(rate)) is not None


def _fold(freq_hz: float, rate: float) -> float:
    """Alias a frequency into [0, rate / 2]."""
    folded = math.fmod(freq_hz, rate)
    return rate - folded if folded > rate / 2 else folded


def _harmonic_orders(fit: SineFit, rate: float, frames: int) -> list[int]:
    """List the harmonic orders measured by THD, after folding.

    Harmonics folding to within 2 bins of DC or of the fundamental are skipped
    (the offset or the fundamental absorbs them); one folding onto a lower
    harmonic already kept is measured once, with it.
    """
    guard = _HARMONIC_GUARD_BINS * rate / frames
    kept: list[float] = []
    orders: list[int] = []
    for order in HARMONICS:
        folded = _fold(order * fit.freq_hz, rate)
        if folded < guard or abs(folded - fit.freq_hz) < guard:
            continue
        if any(abs(folded - other) < guard for other in kept):
            continue
        kept.append(folded)
        orders.append(order)
    return orders


def _harmonic_columns(
    w: float, orders: list[int], n: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Columns [1, cos w n, sin w n, cos k w n, sin k w n, ...] for a chunk."""
    cols = np.empty((3 + 2 * len(orders), n.size))
    cols[0] = 1.0
    base = np.exp(1j * w * n)
    cols[1] = base.real
    cols[2] = base.imag
    # At integer n, cos(k w n) equals the cosine at the folded frequency (and
    # sin(k w n) the folded sine up to sign), so aliasing needs no special case.
    # Powers of exp(i w n) lose about k ulp, far below any measurable harmonic.
    power = base
    done = 1
    for i, order in enumerate(orders):
        while done < order:
            power = power * base
            done += 1
        cols[3 + 2 * i] = power.real
        cols[4 + 2 * i] = power.imag
    return cols


def _harmonic_fit(
    x: NDArray[np.float64], rate: float, fit: SineFit
) -> tuple[float, dict[int, float], float]:
    """Joint least squares of offset, fundamental and harmonics at known frequencies.

    Returns the fundamental's power, the power of each harmonic measured (by
    order; empty when none can be) and the mean square of what is left (noise).

    The fit is weighted by the 7-term Blackman-Harris window: components in the
    model are still fitted exactly, and a component outside it (a spur, hum,
    another tone) leaks into the harmonic estimates through the window's
    sidelobes (below -180 dB beyond 7 bins) instead of the rectangular
    window's (-6 dB per octave). Accumulated in chunks so that memory stays
    bounded for long records.
    """
    frames = x.size
    orders = _harmonic_orders(fit, rate, frames)
    w = 2.0 * math.pi * fit.freq_hz / rate
    k = 3 + 2 * len(orders)
    centre = (frames - 1) / 2.0
    weights = window(frames, "blackman-harris-7")
    gram = np.zeros((k, k))
    weighted_gram = np.zeros((k, k))
    rhs = np.zeros(k)
    for start in range(0, frames, _CHUNK):
        stop = min(start + _CHUNK, frames)
        cols = _harmonic_columns(
            w, orders, np.arange(start, stop, dtype=np.float64) - centre
        )
        weighted = cols * weights[start:stop]
        gram += cols @ cols.T
        weighted_gram += weighted @ cols.T
        rhs += weighted @ x[start:stop]
    norms = np.sqrt(np.diag(weighted_gram))
    scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 1.0)
    scaled = weighted_gram * scale[:, None] * scale[None, :]
    coef = scale * np.linalg.lstsq(scaled, scale * rhs, rcond=1e-13)[0]
    noise = 0.0
    for start in range(0, frames, _CHUNK):
        stop = min(start + _CHUNK, frames)
        cols = _harmonic_columns(
            w, orders, np.arange(start, stop, dtype=np.float64) - centre
        )
        resid = x[start:stop] - coef @ cols
        noise += float(resid @ resid)

    def component_power(i: int) -> float:
        # Mean square of the fitted component over the record, exact even at
        # Nyquist, where sin(pi n) vanishes and the power is a**2, not a**2 / 2.
        pair = coef[i : i + 2]
        return float(pair @ gram[i : i + 2, i : i + 2] @ pair) / frames

    powers = {order: component_power(3 + 2 * i) for i, order in enumerate(orders)}
    return component_power(1), powers, noise / frames


def _spur_power(x: NDArray[np.float64], rate: float, fit: SineFit) -> float | None:
    """Power of the largest spectral component other than DC and the fundamental.

    The spur is located on the 7-term Blackman-Harris spectrum of ``x`` outside
    +-8 bins of the fundamental and the first 8 bins; its frequency is refined by
    a parabola through the log magnitudes of its bin and the two neighbours
    (better than 0.01 bin for this window), and its power measured by least
    squares at that frequency on the fit residual, which is free of the window's
    scalloping loss (up to 0.5 dB). None when no bin is left to search.
    """
    frames = x.size
    spectrum = np.abs(np.fft.rfft(x * window(frames, "blackman-harris-7")))
    bins = np.arange(spectrum.size, dtype=np.float64)
    centre_bin = fit.freq_hz * frames / rate
    allowed = (bins >= _MAIN_LOBE_BINS) & (np.abs(bins - centre_bin) >= _MAIN_LOBE_BINS)
    if not np.any(allowed):
        return None
    k = int(np.argmax(np.where(allowed, spectrum, -1.0)))
    if spectrum[k] == 0.0:
        return 0.0
    delta = 0.0
    if 0 < k < spectrum.size - 1:
        tiny = np.finfo(np.float64).tiny
        lo, mid, hi = np.log(np.maximum(spectrum[k - 1 : k + 2], tiny))
        curvature = lo - 2.0 * mid + hi
        if curvature < 0:
            delta = float(np.clip(0.5 * (lo - hi) / curvature, -0.5, 0.5))
    w = 2.0 * math.pi * (k + delta) / frames
    resid = x - fit.evaluate(frames, rate)
    n = np.arange(frames, dtype=np.float64) - (frames - 1) / 2.0
    cols = np.stack([np.cos(w * n), np.sin(w * n)])
    gram = cols @ cols.T
    coef = np.linalg.lstsq(gram, cols @ resid, rcond=1e-13)[0]
    return float(coef @ gram @ coef) / frames


def _measure(
    x: NDArray[np.float64], rate: float, reference: NDArray[np.float64] | None
) -> _Measurement | None:
    if reference is None:
        fit = _detect(x, rate)
        if fit is None:
            return None
    else:
        detected = _detect(reference, rate)
        if detected is None:
            return None
        fit = fit_sine(x, rate, initial_freq_hz=detected.freq_hz)
    fundamental_h, powers, noise = _harmonic_fit(x, rate, fit)
    harmonic = sum(powers.values()) if powers else None
    return _Measurement(
        fit=fit,
        fundamental_power=fit.amplitude**2 / 2,
        residual_power=fit.residual_rms**2,
        harmonic_power=harmonic,
        harmonic_fundamental_power=fundamental_h,
        noise_power=noise,
        spur_power=_spur_power(x, rate, fit),
    )


def _db(ratio: float | None, factor: float = 10.0) -> float | None:
    """``factor * log10(ratio)``, None when the ratio is missing, zero or infinite."""
    if ratio is None or not 0.0 < ratio < math.inf:
        return None
    return factor * math.log10(ratio)


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den <= 0.0:
        return None
    return num / den


def _enob(residual_power: float) -> float | None:
    if not residual_power > 0.0:
        return None
    return math.log2(2.0 / (math.sqrt(residual_power) * math.sqrt(12.0)))


def _empty() -> dict[str, float | None]:
    return dict.fromkeys(TONE_KEYS)


def _metrics(m: _Measurement | None) -> dict[str, float | None]:
    if m is None:
        return _empty()
    return {
        "tone_hz": m.fit.freq_hz,
        "tone_amplitude_dbfs": _db(m.fit.amplitude, 20.0),
        "sinad_db": _db(_ratio(m.fundamental_power, m.residual_power)),
        "enob_bits": _enob(m.residual_power),
        "thd_db": _db(_ratio(m.harmonic_power, m.harmonic_fundamental_power)),
        "sfdr_db": _db(_ratio(m.fundamental_power, m.spur_power)),
        "noise_floor_dbfs": _db(m.noise_power),
    }


def tone_metrics(
    x: ArrayLike, rate: float, *, reference: ArrayLike | None = None
) -> dict[str, float | None]:
    """Single-tone figures of merit of one channel (IEEE Std 1241).

    The channel is first tested with `is_tonal` (on ``reference`` when given,
    e.g. the clean signal entering a quantizer; on ``x`` otherwise). If it is
    not tonal every figure is None; else the figures are measured on ``x``.

    Parameters
    ----------
    x : array_like, 1-D
        The channel to measure, full scale [-1, 1), finite samples.
    rate : float > 0
        Sample rate, Hz.
    reference : array_like, 1-D, optional
        The signal on which the tone is detected, same length as ``x``.

    Returns
    -------
    dict
        The keys of `TONE_KEYS`, in that order; None where not tonal or where a
        figure is undefined (zero residual, no harmonic or spur to measure), as
        JSON has no infinity:

        ``tone_hz``
            Frequency of the four-parameter sine fit of ``x`` (IEEE Std 1241-2000
            §4.1.3.3), started from the reference's fitted frequency if given.
        ``tone_amplitude_dbfs``
            ``20 log10(A)``, A the fitted peak amplitude: a full-scale sine
            (peak 1.0) is 0 dBFS.
        ``sinad_db``
            ``10 log10((A**2 / 2) / mean(r**2))``, ``r = x - fitted sine``
            (offset included): the standard's signal to noise-and-distortion
            ratio, residual of the sine fit.
        ``enob_bits``
            ``log2(FSR / (rms(r) sqrt(12)))`` with ``FSR = 2``: the standard's
            effective number of bits. An ideal N-bit uniform quantizer gives N
            (its error rms is ``D / sqrt(12)``, ``D = FSR / 2**N``) at any
            non-clipping amplitude, unlike ``(SINAD - 1.76) / 6.02``.
        ``thd_db``
            ``10 log10(sum_{k=2..10} P_k / P_1)``, negative: harmonic power over
            fundamental power. Harmonic ``k`` is looked for at ``k f`` folded into
            ``[0, rate / 2]``; one folding within 2 bins of DC or of the
            fundamental is skipped (it cannot be told from the offset or the
            tone), one folding onto a lower harmonic is counted once. The
            amplitudes come from one joint least-squares fit of offset,
            fundamental and harmonics at their known frequencies, weighted by
            a 7-term Blackman-Harris window: exact amplitudes at any
            frequency, coherent or not, with no scalloping loss (unlike
            reading bins of a spectrum), while components outside the model
            (spurs, hum) leak into the estimates only through the window's
            sidelobes, below -180 dB.
        ``sfdr_db``
            ``10 log10(P_1 / P_spur)``, dBc, positive: the fundamental over the
            largest other spectral component, harmonic or not, DC excluded.
            Located on a 7-term Blackman-Harris spectrum (sidelobes below
            -180 dB) outside +-8 bins of the tone and the first 8 bins, measured
            by least squares at the refined spur frequency.
        ``noise_floor_dbfs``
            ``10 log10(mean(e**2))``, ``e`` what is left of ``x`` after the
            joint fit removes offset, fundamental and measured harmonics: the
            total noise power (not per bin), in dBFS where 0 dBFS is an RMS of
            1.0, adcsim's power convention (a full-scale sine is -3.01 dBFS).

    Raises
    ------
    AdcsimError
        ``x`` or ``reference`` not 1-D, non-finite or of different lengths, or
        a bad ``rate``.

    See Also
    --------
    is_tonal : the detection rule.
    tone_metrics_channels : the same for every channel, with pooled figures.

    Examples
    --------
    >>> n = np.arange(4096)
    >>> x = 0.5 * np.sin(2 * np.pi * 997.3 * n / 48000)
    >>> y = np.round(x * 128) / 128
    >>> m = tone_metrics(y, 48000, reference=x)
    >>> list(m) == list(TONE_KEYS)
    True
    >>> round(m["tone_hz"], 3), round(m["tone_amplitude_dbfs"], 2)
    (997.3, -6.02)
    >>> round(m["enob_bits"], 1)
    8.0
    >>> tone_metrics(np.zeros(64), 48000)["sinad_db"] is None
    True
    """
    rate = _check_rate(rate)
    arr = _check_channel(x, "x")
    ref = None
    if reference is not None:
        ref = _check_channel(reference, "reference")
        if ref.size != arr.size:
            raise AdcsimError(
                f"tone metrics: reference has {ref.size} frames, x has {arr.size}"
            )
    return _metrics(_measure(arr, rate, ref))


def _tone_block(x: ArrayLike, name: str) -> NDArray[np.float64]:
    return as_block(x, name=name, owner="tone metrics")


def harmonic_ratios_db(x: ArrayLike, rate: float, fit: SineFit) -> dict[int, float]:
    """Each harmonic's amplitude relative to the fundamental, dBc, by order.

    The same joint least-squares fit as THD in `tone_metrics` (offset,
    fundamental and harmonics 2 to 10 at the frequencies of ``fit``, weighted
    by the 7-term Blackman-Harris window), reported per harmonic: ``10
    log10(P_k / P_1)``. Orders that fold onto DC, the fundamental or a lower
    harmonic are left out; a harmonic fitted as exactly zero is ``-inf``.

    Parameters
    ----------
    x : array_like, 1-D
        The channel, full scale, finite.
    rate : float > 0
        Sample rate, Hz.
    fit : SineFit
        The fundamental (`adcsim.metrics.fit_sine` of ``x``).

    Examples
    --------
    >>> n = np.arange(4096)
    >>> s = 0.5 * np.sin(2 * np.pi * 1000.3 * n / 48000)
    >>> x = s + 0.01 * (s / 0.5) ** 2
    >>> ratios = harmonic_ratios_db(x, 48000, fit_sine(x, 48000))
    >>> round(ratios[2], 2)  # 0.005 cos 2wt against 0.5: -40 dBc
    -40.0
    """
    samples = _check_channel(x, "x")
    fundamental, powers, _ = _harmonic_fit(samples, _check_rate(rate), fit)
    return {
        order: 10.0 * math.log10(power / fundamental) if power > 0 else -math.inf
        for order, power in powers.items()
    }


def tone_metrics_channels(
    x: ArrayLike, rate: float, *, reference: ArrayLike | None = None
) -> tuple[dict[str, float | None], list[dict[str, float | None]]]:
    """Tone metrics of every channel of a block, and of all channels pooled.

    Parameters
    ----------
    x : array_like, (frames, channels)
        The block to measure (a 1-D array is one channel).
    rate : float > 0
        Sample rate, Hz.
    reference : array_like, (frames, channels), optional
        Detection signal, same shape as ``x`` (see `tone_metrics`).

    Returns
    -------
    pooled : dict
        The `TONE_KEYS` over the tonal channels; all None if none is tonal.
    per_channel : list of dict
        `tone_metrics` of each channel.

    Raises
    ------
    AdcsimError
        Bad shapes, non-finite samples or a bad ``rate``.

    Notes
    -----
    Pooling runs over the tonal channels only, powers being summed (channels
    have equal lengths, so summed mean squares weight samples equally):

    * ``sinad_db`` = 10 log10(sum of fitted sine powers / sum of residual powers);
    * ``enob_bits`` from the pooled residual rms, sqrt(mean of residual powers);
    * ``thd_db`` = 10 log10(sum of harmonic powers / sum of fundamental powers);
    * ``noise_floor_dbfs`` from the mean of the noise powers;
    * ``sfdr_db`` = the worst (smallest) channel value;
    * ``tone_hz`` and ``tone_amplitude_dbfs`` of the loudest tonal channel.

    Examples
    --------
    >>> n = np.arange(2048)[:, None]
    >>> x = np.sin(2 * np.pi * 1000.7 * n / 48000) * [0.5, 0.25]
    >>> pooled, channels = tone_metrics_channels(np.round(x * 512) / 512, 48000)
    >>> round(pooled["tone_amplitude_dbfs"], 2), len(channels)
    (-6.02, 2)
    >>> round(pooled["enob_bits"], 1)
    10.0
    """
    rate = _check_rate(rate)
    block = _tone_block(x, "x")
    ref_block = None
    if reference is not None:
        ref_block = _tone_block(reference, "reference")
        if ref_block.shape != block.shape:
            raise AdcsimError(
                f"tone metrics: reference has shape {ref_block.shape}, "
                f"x has {block.shape}"
            )
    measured: list[_Measurement | None] = []
    for c in range(block.shape[1]):
        arr = _check_channel(block[:, c], "x")
        ref = (
            None if ref_block is None else _check_channel(ref_block[:, c], "reference")
        )
        measured.append(_measure(arr, rate, ref))
    return _pool([m for m in measured if m is not None]), [
        _metrics(m) for m in measured
    ]


def _pool(tonal: list[_Measurement]) -> dict[str, float | None]:
    if not tonal:
        return _empty()
    loudest = max(tonal, key=lambda m: m.fit.amplitude)
    signal = sum(m.fundamental_power for m in tonal)
    residual = sum(m.residual_power for m in tonal)
    harmonics = [m.harmonic_power for m in tonal if m.harmonic_power is not None]
    harmonic_fundamental = sum(
        m.harmonic_fundamental_power for m in tonal if m.harmonic_power is not None
    )
    sfdrs = [_db(_ratio(m.fundamental_power, m.spur_power)) for m in tonal]
    finite_sfdrs = [s for s in sfdrs if s is not None]
    return {
        "tone_hz": loudest.fit.freq_hz,
        "tone_amplitude_dbfs": _db(loudest.fit.amplitude, 20.0),
        "sinad_db": _db(_ratio(signal, residual)),
        "enob_bits": _enob(residual / len(tonal)),
        "thd_db": _db(
            _ratio(sum(harmonics), harmonic_fundamental) if harmonics else None
        ),
        "sfdr_db": min(finite_sfdrs) if finite_sfdrs else None,
        "noise_floor_dbfs": _db(sum(m.noise_power for m in tonal) / len(tonal)),
    }


__all__ = [
    "TONE_KEYS",
    "harmonic_ratios_db",
    "is_tonal",
    "tone_metrics",
    "tone_metrics_channels",
]
