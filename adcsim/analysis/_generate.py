"""Test signals: sine, multitone, chirp, noise, code ramp and silence.

`generate` returns a float64 ``(frames, channels)`` block at full scale, for
the ``adcsim generate`` command or for tests. Levels follow one convention:
``level_dbfs`` is the PEAK level of deterministic signals (0 dBFS is a
full-scale sine, peak 1.0) and the RMS level of noise (0 dBFS is an RMS of 1.0,
adcsim's power convention). Samples are never clipped here: a signal reaching
beyond [-1, 1) is left for the writer or the quantizer to clip and count.
This module writes no files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError
from adcsim.quantizers._base import check_bits

#: Signal kinds and their options with defaults.
KINDS: dict[str, dict[str, Any]] = {
    "sine": {
        "freq_hz": 1000.0,
        "level_dbfs": -1.0,
        "coherent": False,
        "phase_rad": 0.0,
    },
    "multitone": {"freqs_hz": (250.0, 1000.0, 3150.0), "level_dbfs": -1.0},
    "chirp": {"f0_hz": 20.0, "f1_hz": None, "method": "log", "level_dbfs": -1.0},
    "noise": {
        "color": "white",
        "distribution": "gaussian",
        "level_dbfs": -20.0,
    },
    "ramp": {"bits": 16},
    "silence": {},
    "histogram-sine": {"bits": None, "freq_hz": 1000.0, "overdrive_db": 0.2},
}

COLORS = ("white", "pink")
DISTRIBUTIONS = ("gaussian", "uniform", "laplacian")
CHIRP_METHODS = ("linear", "log")
#: Most samples (frames x channels) one signal may have: it is built in memory
#: as float64, 512 MiB a copy (12 min of 44.1 kHz stereo); --duration 1e9
#: asked for 349 TiB.
MAX_SAMPLES = 1 << 26


def _number(value: object) -> float | None:
    """``float(value)`` for a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _check_level(kind: str, level: object) -> float:
    number = _number(level)
    if number is None or number > 0.0:
        raise AdcsimError(f"{kind}: level_dbfs={level!r} must be a number <= 0")
    return number


def _check_freq(kind: str, name: str, value: object, rate: int, *, zero: bool) -> float:
    nyquist = rate / 2
    number = _number(value)
    if (
        number is None
        or not (number >= 0.0 if zero else number > 0.0)
        or (number >= nyquist)
    ):
        low = "[0" if zero else "(0"
        raise AdcsimError(
            f"{kind}: {name}={value!r} must be in {low}, {nyquist:g}), below rate/2"
        )
    return number


def _check_choice(kind: str, name: str, value: object, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise AdcsimError(
            f"{kind}: {name}={value!r} is not one of: {', '.join(allowed)}"
        )
    return str(value)


def _is_prime(p: int) -> bool:
    if p < 2:
        return False
    if p % 2 == 0:
        return p == 2
    return all(p % d for d in range(3, math.isqrt(p) + 1, 2))


def coherent_cycles(freq_hz: float, *, rate: int, frames: int) -> int:
    """Return the prime cycle count nearest to ``freq_hz`` for a coherent record.

    Coherent sampling (IEEE Std 1241's condition for an unwindowed DFT) puts a
    whole number J of cycles in the record; J prime and not a divisor of
    ``frames`` makes ``gcd(J, frames) = 1``, so every sample falls on a
    different phase of the sine and the record exercises as many codes as it
    can. The frequency is then ``J * rate / frames``.

    Parameters
    ----------
    freq_hz : float in (0, rate / 2)
        Wanted frequency.
    rate : int > 0
        Sample rate, Hz.
    frames : int > 0
        Record length.

    Returns
    -------
    int
        The prime J, not dividing ``frames``, with ``J < frames / 2``, nearest to
        ``freq_hz * frames / rate`` (the lower one on a tie).

    Raises
    ------
    AdcsimError
        If no such prime exists (a record of a few frames).

    Examples
    --------
    >>> coherent_cycles(1000.0, rate=48000, frames=48000)
    997
    >>> coherent_cycles(1000.0, rate=48000, frames=4096)
    83
    """
    target = freq_hz * frames / rate

    def usable(p: int) -> bool:
        return 2 * p < frames and frames % p != 0 and _is_prime(p)

    below = math.floor(target)
    above = below + 1
    while below >= 2 or 2 * above < frames:
        candidates = [p for p in (below, above) if usable(p)]
        if candidates:
            return min(candidates, key=lambda p: (abs(p - target), p))
        below -= 1
        above += 1
    raise AdcsimError(
        f"sine: frames={frames} is too short for a prime number of cycles below rate/2"
    )


def _sine(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    freq = _check_freq("sine", "freq_hz", options["freq_hz"], rate, zero=False)
    level = _check_level("sine", options["level_dbfs"])
    coherent = options["coherent"]
    if not isinstance(coherent, bool):
        raise AdcsimError(f"sine: coherent={coherent!r} must be true or false")
    phase = options["phase_rad"]
    if _number(phase) is None:
        raise AdcsimError(f"sine: phase_rad={phase!r} must be a finite number")
    n = np.arange(frames, dtype=np.float64)
    if coherent:
        cycles = coherent_cycles(freq, rate=rate, frames=frames)
        # Exact phase per sample: (cycles * n) mod frames is an integer.
        arg = 2.0 * math.pi * ((cycles * np.arange(frames)) % frames) / frames
    else:
        arg = 2.0 * math.pi * freq * n / rate
    x = 10.0 ** (level / 20.0) * np.sin(arg + float(phase))
    return np.repeat(x[:, None], channels, axis=1)


def _multitone(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    freqs_opt = options["freqs_hz"]
    if isinstance(freqs_opt, (str, bytes)) or not isinstance(freqs_opt, Sequence):
        raise AdcsimError(
            f"multitone: freqs_hz={freqs_opt!r} must be a list of frequencies"
        )
    if not freqs_opt:
        raise AdcsimError("multitone: freqs_hz=[] must name at least one frequency")
    freqs = [
        _check_freq("multitone", "freqs_hz", f, rate, zero=False) for f in freqs_opt
    ]
    if len(set(freqs)) != len(freqs):
        raise AdcsimError(f"multitone: freqs_hz={list(freqs_opt)!r} has duplicates")
    level = _check_level("multitone", options["level_dbfs"])
    n = np.arange(frames, dtype=np.float64)
    count = len(freqs)
    x = np.zeros(frames)
    for k, freq in enumerate(freqs):
        # Schroeder phases keep the crest factor of the sum low.
        phase = -math.pi * k * (k - 1) / count
        x += np.sin(2.0 * math.pi * freq * n / rate + phase)
    x *= 10.0 ** (level / 20.0) / float(np.max(np.abs(x)))
    return np.repeat(x[:, None], channels, axis=1)


def _chirp(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    method = _check_choice("chirp", "method", options["method"], CHIRP_METHODS)
    log = method == "log"
    f0 = _check_freq("chirp", "f0_hz", options["f0_hz"], rate, zero=not log)
    f1_opt = options["f1_hz"]
    if f1_opt is None:
        f1_opt = min(20000.0, 0.45 * rate)
    f1 = _check_freq("chirp", "f1_hz", f1_opt, rate, zero=not log)
    level = _check_level("chirp", options["level_dbfs"])
    if frames < 2:
        raise AdcsimError(f"chirp: frames={frames} must be at least 2")
    span = (frames - 1) / rate
    t = np.arange(frames, dtype=np.float64) / rate
    if log and f1 != f0:
        k = math.log(f1 / f0) / span
        phase = 2.0 * math.pi * f0 * np.expm1(k * t) / k
    else:
        phase = 2.0 * math.pi * (f0 * t + (f1 - f0) * t * t / (2.0 * span))
    x = 10.0 ** (level / 20.0) * np.sin(phase)
    return np.repeat(x[:, None], channels, axis=1)


def _white(
    rng: np.random.Generator, frames: int, distribution: str
) -> NDArray[np.float64]:
    """Unit-variance white noise of the given distribution."""
    if distribution == "gaussian":
        return rng.standard_normal(frames)
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), frames)
    return rng.laplace(0.0, 1.0 / math.sqrt(2.0), frames)


def _pink(white: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shape a white record to a power spectrum exactly proportional to 1/f.

    Every DFT bin k > 0 is scaled by 1/sqrt(k) and DC is removed, so the
    expected periodogram is exactly c/f at the bin frequencies (-3.01 dB per
    octave); the shaping is circular, so the record loops without a seam.
    """
    spectrum = np.fft.rfft(white)
    k = np.arange(spectrum.size, dtype=np.float64)
    k[0] = 1.0
    spectrum /= np.sqrt(k)
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, white.size)


def _noise(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    color = _check_choice("noise", "color", options["color"], COLORS)
    distribution = _check_choice(
        "noise", "distribution", options["distribution"], DISTRIBUTIONS
    )
    level = _check_level("noise", options["level_dbfs"])
    if color == "pink" and frames < 2:
        raise AdcsimError(f"noise: frames={frames} must be at least 2 for pink noise")
    rms = 10.0 ** (level / 20.0)
    out = np.empty((frames, channels))
    for c, child in enumerate(np.random.SeedSequence(seed).spawn(channels)):
        x = _white(np.random.default_rng(child), frames, distribution)
        if color == "pink":
            x = _pink(x)
        power = float(np.mean(x * x))
        out[:, c] = x * (rms / math.sqrt(power)) if power > 0 else x
    return out


def _ramp(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    bits = check_bits(options["bits"])
    step = 2.0 / (1 << bits)
    codes = np.arange(-(1 << (bits - 1)), 1 << (bits - 1), dtype=np.float64)
    return np.repeat((codes * step)[:, None], channels, axis=1)


def _silence(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    return np.zeros((frames, channels))


def _histogram_sine(
    frames: int, channels: int, rate: int, seed: int, options: Mapping[str, Any]
) -> NDArray[np.float64]:
    from adcsim.analysis._histogram import histogram_sine

    if options["bits"] is None:
        raise AdcsimError("histogram-sine: bits is required (the resolution to test)")
    x = histogram_sine(
        bits=options["bits"],
        rate=rate,
        freq_hz=options["freq_hz"],
        overdrive_db=options["overdrive_db"],
    )
    return np.repeat(x[:, None], channels, axis=1)


_MAKERS: dict[
    str, Callable[[int, int, int, int, Mapping[str, Any]], NDArray[np.float64]]
] = {
    "sine": _sine,
    "multitone": _multitone,
    "chirp": _chirp,
    "noise": _noise,
    "ramp": _ramp,
    "silence": _silence,
    "histogram-sine": _histogram_sine,
}


def generate(
    kind: str,
    *,
    rate: int = 48000,
    duration_s: float = 1.0,
    channels: int = 1,
    seed: int = 0,
    **kind_options: Any,
) -> NDArray[np.float64]:
    """Generate a test signal as a ``(frames, channels)`` float64 block.

    Parameters
    ----------
    kind : {'sine', 'multitone', 'chirp', 'noise', 'ramp', 'silence', \
'histogram-sine'}
        The signal (options below, defaults in `KINDS`).
    rate : int > 0, default 48000
        Sample rate, Hz.
    duration_s : float > 0, default 1.0
        Length: ``frames = round(duration_s * rate)``, at least 1. Ignored by
        ``ramp``, whose length is set by ``bits``.
    channels : int >= 1, default 1
        Deterministic kinds repeat the same signal on every channel; noise
        channels are independent.
    seed : int >= 0, default 0
        Seed of the noise; ``np.random.SeedSequence(seed).spawn(channels)``
        gives one generator per channel. Same seed, same output.
    **kind_options
        ``sine``: ``freq_hz`` in (0, rate/2) (1000), ``level_dbfs`` peak <= 0
        (-1), ``coherent`` (False), ``phase_rad`` (0): ``A sin(2 pi f n / rate +
        phase)``. With ``coherent=True`` the frequency becomes ``J rate /
        frames`` with J the nearest prime cycle count (see `coherent_cycles`),
        so that a DFT of the whole record needs no window.

        ``multitone``: ``freqs_hz`` list of distinct frequencies in (0, rate/2),
        ``level_dbfs`` (-1): equal-amplitude sines with Schroeder phases
        ``-pi k (k - 1) / K``, scaled so the PEAK of their sum is the level.

        ``chirp``: ``f0_hz``, ``f1_hz`` in [0, rate/2) ((0, rate/2) for ``log``)
        (20; f1 defaults to 20000 or 0.45 rate, whichever is lower),
        ``method`` ``linear`` or ``log`` (log), ``level_dbfs``
        peak (-1): a sine whose instantaneous frequency goes from f0 at the first
        sample to f1 at the last, linearly or exponentially in time.

        ``noise``: ``color`` ``white`` or ``pink``, ``distribution``
        ``gaussian``, ``uniform`` or ``laplacian``, ``level_dbfs`` RMS <= 0
        (-20): each channel scaled so its RMS is exactly the level. Pink noise
        is white noise with each DFT bin k > 0 scaled by 1/sqrt(k) and DC
        removed: an exact 1/f power spectrum. The shaping sums many samples, so
        pink noise is close to Gaussian whatever the source distribution.

        ``ramp``: ``bits`` in [1, 24] (16): every level of the ``bits``-deep
        mid-tread uniform quantizer, ``k * 2 / 2**bits`` for ``k = -2**(bits-1)
        .. 2**(bits-1) - 1``, once each in ascending order (``2**bits`` frames).

        ``silence``: no options; zeros.

        ``histogram-sine``: ``bits`` in [2, 16] (required), ``freq_hz`` (1000),
        ``overdrive_db`` > 0 (0.2): the stimulus of the sine-wave histogram
        test of an N-bit converter, a coherent sine whose peaks are
        ``overdrive_db`` beyond full scale, as long as the test needs for a
        0.1 LSB DNL resolution at 95 % confidence, plus 10 %
        (`adcsim.analysis._histogram.histogram_sine`); ``duration_s`` is
        ignored.

    Returns
    -------
    ndarray of float64, shape (frames, channels)

    Raises
    ------
    AdcsimError
        Unknown kind or option, or a bad value (frequency not below rate/2,
        ``duration_s <= 0``, positive level, ...), naming it and what is allowed.

    Notes
    -----
    The ramp is the noise-free limit of the histogram (code density) test of
    IEEE Std 1241: there a slow ramp or a sine drives the converter with many
    samples per code, and the code counts give the transition levels (DNL,
    INL). This ramp hits the centre of each code once, so an ideal quantizer of
    the same depth returns it unchanged with exactly one count per code. To
    probe the transition levels of an N-bit quantizer, generate the ramp with
    more bits, N + m: the discrete version of the slow ramp, 2**m evenly spaced
    samples per N-bit code. One in 2**m of them falls exactly on an ideal
    mid-tread decision level, a tie that ``uniform`` rounds half to even, so an
    ideal quantizer's counts alternate 2**m - 1 and 2**m + 1 (pairs sum to
    2**(m+1)); a converter's departures from that pattern are its DNL.

    Examples
    --------
    >>> generate("ramp", bits=2).ravel()
    array([-1. , -0.5,  0. ,  0.5])
    >>> generate("sine", rate=800, duration_s=0.01, freq_hz=200, level_dbfs=0).ravel()
    array([ 0.,  1.,  0., -1.,  0.,  1.,  0., -1.])
    >>> x = generate("noise", rate=1000, duration_s=0.5, channels=2, seed=7)
    >>> x.shape, np.sqrt(np.mean(x**2, axis=0)).round(3)
    ((500, 2), array([0.1, 0.1]))
    >>> generate("sine", rate=8000, freq_hz=5000)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: sine: freq_hz=5000 must be in (0, 4000), below rate/2
    """
    try:
        defaults = KINDS[kind]
    except (KeyError, TypeError):
        raise AdcsimError(f"kind={kind!r} is not one of: {', '.join(KINDS)}") from None
    rate = check_rate(rate)
    if isinstance(channels, bool) or not (
        isinstance(channels, (int, np.integer)) and channels >= 1
    ):
        raise AdcsimError(f"channels={channels!r} must be an integer >= 1")
    if isinstance(seed, bool) or not (
        isinstance(seed, (int, np.integer)) and seed >= 0
    ):
        raise AdcsimError(f"seed={seed!r} must be an integer >= 0")
    duration = _number(duration_s)
    if duration is None or duration <= 0:
        raise AdcsimError(f"duration_s={duration_s!r} must be a number > 0")
    unknown = sorted(set(kind_options) - set(defaults))
    if unknown:
        allowed = ", ".join(defaults) or "none"
        raise AdcsimError(f"{kind}: unknown option {unknown[0]!r} (allowed: {allowed})")
    options = {**defaults, **kind_options}
    # frames x channels, before round() meets an infinite duration x rate
    wanted = 1 << check_bits(options["bits"]) if kind == "ramp" else duration * rate
    if wanted * channels > MAX_SAMPLES:
        size = (
            f"bits={options['bits']}"
            if kind == "ramp"
            else f"duration_s={duration:g} at rate={rate}"
        )
        raise AdcsimError(
            f"{kind} of {size} x channels={channels} has more than {MAX_SAMPLES} "
            "samples (2**26, held in memory): generate shorter pieces or fewer "
            "channels"
        )
    if kind == "ramp":
        frames = 1 << check_bits(options["bits"])
    else:
        frames = round(duration * rate)
        if frames < 1:
            raise AdcsimError(
                f"duration_s={duration_s!r} gives no frame at rate={rate}"
            )
    return _MAKERS[kind](frames, int(channels), int(rate), int(seed), options)


__all__ = [
    "CHIRP_METHODS",
    "COLORS",
    "DISTRIBUTIONS",
    "KINDS",
    "coherent_cycles",
    "generate",
]
