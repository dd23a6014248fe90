"""The IEEE Std 1241 sine-wave histogram test, and the stimulus it needs.

`histogram_test` takes a captured record of N-bit code indices (0 .. 2**N - 1)
from a converter driven by a slightly overdriven sine and returns its code
density, transition levels, DNL and INL per code (endpoint and best fit) and
missing codes (`HistogramResult`); `histogram_counts` does the same from a code
density accumulated elsewhere (block by block). `codes_from_samples` reduces
full-scale samples (a file's values) to N-bit code indices; `histogram_sine`
makes the stimulus, of the length `required_samples` asks for. Pure numpy: this
module reads and writes no files (`adcsim.cli._histogram` does) and draws
nothing (`adcsim.figures._histogram`). The DNL/INL arithmetic on transition
levels is `adcsim.quantizers._transfer.linearity`, shared with the static curves
the converter model designs.

References
----------
IEEE Std 1241-2010, *Standard for Terminology and Test Methods for
Analog-to-Digital Converters*: the code transition level test by the histogram
method with a sine-wave input (transition levels from the cumulative
histogram, ``T[k] = C - A cos(pi CH[k-1] / S)``) and the terminal-based DNL and
INL built on them.

J. Doernberg, H.-S. Lee and D. A. Hodges, "Full-speed testing of A/D
converters", IEEE J. Solid-State Circuits, vol. SC-19, no. 6, pp. 820-827,
Dec. 1984: the record size for a DNL resolution at a confidence level.

J. Blair, "Histogram measurement of ADC nonlinearities using sine waves",
IEEE Trans. Instrum. Meas., vol. 43, no. 3, pp. 373-383, June 1994: the same
bound with overdrive and noise, and the effect of coherent sampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._transfer import (
    Linearity,
    check_transfer_bits,
    ideal_transitions,
    linearity,
)

#: Default DNL resolution (LSB) and confidence of the record-size bound.
DNL_RESOLUTION_LSB = 0.1
CONFIDENCE = 0.95
#: Default overdrive of `histogram_sine`: 0.2 dB puts the peaks 2.3 % beyond
#: full scale (3 LSB at 8 bits, 47 at 12), so both end codes are hit.
OVERDRIVE_DB = 0.2
#: `histogram_sine` makes this many times the bound's samples, so that a
#: converter whose gain error makes the sine look a little larger still passes.
LENGTH_MARGIN = 1.1


def _check_resolution(dnl_resolution_lsb: object, confidence: object) -> None:
    for name, value, low, high in (
        ("dnl_resolution_lsb", dnl_resolution_lsb, 0.0, math.inf),
        ("confidence", confidence, 0.0, 1.0),
    ):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not (
            isinstance(value, bool)
        )
        if not ok or not low < float(value) < high:  # type: ignore[arg-type]
            bound = "> 0" if high == math.inf else "in (0, 1)"
            raise AdcsimError(f"histogram: {name}={value!r} must be a number {bound}")


def required_samples(
    bits: int,
    *,
    amplitude: float = 1.0,
    dnl_resolution_lsb: float = DNL_RESOLUTION_LSB,
    confidence: float = CONFIDENCE,
) -> int:
    """Samples a sine-wave histogram test needs for a DNL resolution.

    ``ceil(pi * A * 2**(N-1) * z**2 / B**2)`` with ``B`` the resolution in LSB,
    ``z`` the two-sided normal quantile of the confidence and ``A`` the sine's
    amplitude over full scale.

    Parameters
    ----------
    bits : int in [2, 16]
    amplitude : float, default 1.0
        Peak of the sine over the converter's full scale (>= 1: overdriven).
    dnl_resolution_lsb : float > 0, default 0.1
    confidence : float in (0, 1), default 0.95

    Returns
    -------
    int

    Notes
    -----
    Doernberg, Lee and Hodges (1984) give ``pi 2**(N-1) z**2 / B**2`` for a
    sine that just spans the range: its least-hit code, at mid-scale, has
    probability ``2 / (pi 2**N)``, and the relative error of a count ``n`` is
    ``1 / sqrt(n)``. Overdrive spreads the samples over ``A`` times the range,
    so the mid-scale code gets ``1 / A`` of that: hence the factor ``A`` (Blair
    1994 derives the bound with overdrive and noise). It assumes random
    sampling; a coherent record (`histogram_sine`) does better, so the bound
    is conservative there.

    Examples
    --------
    >>> required_samples(8)
    154475
    >>> required_samples(12, dnl_resolution_lsb=0.2)
    617897
    """
    levels = 1 << check_transfer_bits(bits)
    _check_resolution(dnl_resolution_lsb, confidence)
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    need = math.pi * max(amplitude, 1.0) * levels / 2 * z * z / dnl_resolution_lsb**2
    return math.ceil(need)


@dataclass(frozen=True)
class HistogramResult:
    """What the histogram test found (see `histogram_test`).

    Attributes
    ----------
    bits : int
    counts : ndarray of int64, 2**N
        Code density: samples per code index.
    transitions_fs : ndarray of float64, 2**N - 1
        ``T[1] .. T[2**N - 1]``, full scale: the endpoints at their ideal
        levels, or absolute when the stimulus was known.
    offset_fs, amplitude_fs : float
        C and A of the sine, full scale: as the end bins imply, or the known
        stimulus (C = 0).
    offset_error_lsb, gain_error_lsb : float or None
        With a known stimulus: ``(T[1] - Ti[1]) / D`` and the full-scale gain
        error ``((T[2**N-1] - Ti[2**N-1]) - (T[1] - Ti[1])) / D`` (ideal levels
        Ti, ideal step D = 2 / 2**N); None otherwise (they are zero by
        construction when C and A come from the end bins).
    required_samples : int
        The record-size bound for the resolution asked for.
    dnl_resolution_lsb, confidence : float
        The resolution and confidence of that bound.
    linearity : Linearity
        DNL, INL, missing codes and their figures.
    """

    bits: int
    counts: NDArray[np.int64]
    transitions_fs: NDArray[np.float64]
    offset_fs: float
    amplitude_fs: float
    required_samples: int
    dnl_resolution_lsb: float
    confidence: float
    linearity: Linearity
    offset_error_lsb: float | None = None
    gain_error_lsb: float | None = None

    @property
    def samples(self) -> int:
        """Record length S."""
        return int(self.counts.sum())

    def to_dict(self) -> dict[str, Any]:
        """The report's ``histogram`` section (NaN where a figure does not exist).

        Keys: ``bits``, ``samples``, ``required_samples``,
        ``dnl_resolution_lsb``, ``confidence``, ``stimulus_offset_fs``,
        ``stimulus_amplitude_fs``, ``offset_error_lsb``, ``gain_error_lsb``
        (None unless the stimulus was known), ``lsb_fs``, ``max_abs_dnl_lsb``,
        ``max_abs_inl_lsb``, ``max_abs_inl_best_fit_lsb``, ``rms_dnl_lsb``,
        ``missing_codes`` (code indices), then the per-code lists ``counts``,
        ``transitions_fs`` (2**N - 1), ``dnl_lsb``, ``inl_lsb`` (endpoint) and
        ``inl_best_fit_lsb`` (2**N each, indexed by code index).
        """
        lin = self.linearity
        return {
            "bits": self.bits,
            "samples": self.samples,
            "required_samples": self.required_samples,
            "dnl_resolution_lsb": self.dnl_resolution_lsb,
            "confidence": self.confidence,
            "stimulus_offset_fs": self.offset_fs,
            "stimulus_amplitude_fs": self.amplitude_fs,
            "offset_error_lsb": self.offset_error_lsb,
            "gain_error_lsb": self.gain_error_lsb,
            "lsb_fs": lin.lsb_fs,
            "max_abs_dnl_lsb": lin.max_abs_dnl_lsb,
            "max_abs_inl_lsb": lin.max_abs_inl_lsb,
            "max_abs_inl_best_fit_lsb": lin.max_abs_inl_best_fit_lsb,
            "rms_dnl_lsb": lin.rms_dnl_lsb,
            "missing_codes": list(lin.missing_codes),
            "counts": self.counts.tolist(),
            "transitions_fs": self.transitions_fs.tolist(),
            "dnl_lsb": lin.dnl_lsb.tolist(),
            "inl_lsb": lin.inl_lsb.tolist(),
            "inl_best_fit_lsb": lin.inl_best_fit_lsb.tolist(),
        }


def codes_from_samples(x: ArrayLike, *, bits: int) -> NDArray[np.int64]:
    """N-bit code indices 0 .. 2**N - 1 of full-scale samples (a file's values).

    ``floor(x * 2**(N-1))``, clipped to the N-bit range, plus ``2**(N-1)``. For
    a PCM file of M >= N bits, ``x * 2**(M-1)`` is the stored integer ``v`` and
    this is ``(v >> (M - N)) + 2**(N-1)``: the arithmetic shift that keeps the
    top N bits, and exactly the code of a file quantized to N bits on adcsim's
    mid-tread two's complement grid. Values beyond full scale (float files)
    go to the end codes.

    Examples
    --------
    >>> codes_from_samples([-1.0, -0.5, 0.0, 0.25, 0.99, 1.5], bits=2)
    array([0, 1, 2, 2, 3, 3])
    """
    levels = 1 << check_transfer_bits(bits)
    half = levels // 2
    v = np.floor(np.asarray(x, dtype=np.float64) * half)
    np.clip(v, -half, half - 1, out=v)
    return v.astype(np.int64) + half


def histogram_test(
    codes: ArrayLike,
    *,
    bits: int,
    dnl_resolution_lsb: float = DNL_RESOLUTION_LSB,
    confidence: float = CONFIDENCE,
    stimulus_amplitude_fs: float | None = None,
) -> HistogramResult:
    """The sine-wave histogram test of a record of N-bit code indices.

    Parameters
    ----------
    codes : array_like of int
        Code indices 0 .. 2**N - 1 of one record (any shape; flattened).
    bits : int in [2, 16]
        Resolution N.
    dnl_resolution_lsb : float > 0, default 0.1
        DNL resolution the record must support (`required_samples`).
    confidence : float in (0, 1), default 0.95
        Confidence of that resolution.
    stimulus_amplitude_fs : float > 0, optional
        The peak of the sine, full scale, when it is known (a generated
        stimulus, centred on zero): the transition levels are then absolute
        and the offset and gain errors are measured. Without it, C and A come
        from the end bins.

    Returns
    -------
    HistogramResult

    Raises
    ------
    AdcsimError
        Codes outside 0 .. 2**N - 1 or not integers, an end code never hit
        (the sine did not overdrive the converter), or fewer samples than
        `required_samples` (the message gives the bound).

    See Also
    --------
    histogram_counts : the same from a code density.
    histogram_sine : the stimulus.

    Notes
    -----
    With ``H[k]`` the code density, ``S`` the record length and ``CH[k]`` the
    cumulative histogram, a sine ``C - A cos(phase)`` with uniformly spread
    phases crosses transition ``k`` at ``T[k] = C - A cos(pi CH[k-1] / S)``
    (IEEE Std 1241-2010, histogram method with a sine wave). C and A are not
    known in the converter's units; as the standard's terminal-based
    definitions allow, they are taken from the two outermost bins: the ones
    the overdriven peaks fill, which set ``CH[0]`` and ``CH[2**N - 2]``, and
    so ``T[1]`` and ``T[2**N - 1]``, which are placed at their ideal levels.
    Gain and offset errors therefore do not show, unless the stimulus is known
    (``stimulus_amplitude_fs``, C = 0): then the levels are the sine's own, in
    full scale, and the end transitions give the offset and the full-scale gain
    error (the endpoint convention of datasheets). DNL and INL follow from the
    levels (`adcsim.quantizers._transfer.linearity`). A code never hit between
    the end codes is missing (DNL exactly -1).

    Examples
    --------
    >>> n = np.arange(40000)
    >>> x = 1.02 * np.sin(2 * np.pi * 997 * n / 40000)
    >>> result = histogram_test(codes_from_samples(x, bits=6), bits=6)
    >>> result.linearity.max_abs_dnl_lsb < 0.01, result.linearity.missing_codes
    (True, ())
    """
    levels = 1 << check_transfer_bits(bits)
    c = np.asarray(codes).ravel()
    if c.dtype.kind not in "iu":
        if c.size and not np.array_equal(c, np.round(c)):
            raise AdcsimError("histogram: codes must be integers")
        c = c.astype(np.int64)
    if c.size and (int(c.min()) < 0 or int(c.max()) >= levels):
        raise AdcsimError(
            f"histogram: codes must be code indices in [0, {levels - 1}] for "
            f"bits={bits}, found {int(c.min())} .. {int(c.max())}"
        )
    counts = np.bincount(c.astype(np.intp), minlength=levels)
    return histogram_counts(
        counts,
        dnl_resolution_lsb=dnl_resolution_lsb,
        confidence=confidence,
        stimulus_amplitude_fs=stimulus_amplitude_fs,
    )


def histogram_counts(
    counts: ArrayLike,
    *,
    dnl_resolution_lsb: float = DNL_RESOLUTION_LSB,
    confidence: float = CONFIDENCE,
    stimulus_amplitude_fs: float | None = None,
) -> HistogramResult:
    """`histogram_test` from a code density ``counts`` (2**N non-negative integers).

    Examples
    --------
    >>> histogram_counts([2, 1, 1, 2])
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: histogram: 6 samples are too few for 2 bits: a DNL \
resolution of 0.1 LSB at 95% confidence needs at least 2414 (pi A 2**(N-1) z**2 / \
resolution**2, Doernberg et al. 1984, Blair 1994)
    """
    h = np.asarray(counts)
    if h.ndim != 1 or h.dtype.kind not in "iu" or (h.size and int(h.min()) < 0):
        raise AdcsimError("histogram: counts must be a flat list of integers >= 0")
    levels = h.size
    bits = levels.bit_length() - 1
    if levels & (levels - 1) or levels < 4:
        raise AdcsimError(f"histogram: {levels} counts is not 2**N for an N >= 2")
    bits = check_transfer_bits(bits)
    h = h.astype(np.int64)
    _check_resolution(dnl_resolution_lsb, confidence)
    total = int(h.sum())
    for end in (0, levels - 1):
        if h[end] == 0:
            raise AdcsimError(
                f"histogram: no sample in end code {end}: the sine must overdrive "
                "the converter slightly at both ends (adcsim generate histogram-sine)"
            )
    # CH[k-1] for k = 1 .. 2**N - 1; the raw levels of a unit sine about 0.
    raw = -np.cos(np.pi * np.cumsum(h)[:-1] / total)
    ideal = ideal_transitions(bits)
    if stimulus_amplitude_fs is None:
        amplitude = float((ideal[-1] - ideal[0]) / (raw[-1] - raw[0]))
        offset = float(ideal[0] - amplitude * raw[0])
    else:
        amplitude = _check_amplitude(stimulus_amplitude_fs)
        offset = 0.0
    need = required_samples(
        bits,
        amplitude=amplitude,
        dnl_resolution_lsb=dnl_resolution_lsb,
        confidence=confidence,
    )
    if total < need:
        raise AdcsimError(
            f"histogram: {total} samples are too few for {bits} bits: a DNL "
            f"resolution of {dnl_resolution_lsb:g} LSB at {confidence * 100:g}% "
            f"confidence needs at least {need} (pi A 2**(N-1) z**2 / "
            "resolution**2, Doernberg et al. 1984, Blair 1994)"
        )
    # An empty bin repeats CH, so its two transitions are equal: zero width.
    transitions = offset + amplitude * raw
    errors: tuple[float | None, float | None] = (None, None)
    if stimulus_amplitude_fs is not None:
        step = 2.0 / levels
        low, high = transitions[0] - ideal[0], transitions[-1] - ideal[-1]
        errors = (float(low / step), float((high - low) / step))
    return HistogramResult(
        bits,
        h,
        transitions,
        offset,
        amplitude,
        need,
        float(dnl_resolution_lsb),
        float(confidence),
        linearity(transitions),
        *errors,
    )


def _check_amplitude(value: object) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not (
        isinstance(value, bool)
    )
    if not ok or not 0 < float(value) < math.inf:  # type: ignore[arg-type]
        raise AdcsimError(
            f"histogram: stimulus_amplitude_fs={value!r} must be a number > 0"
        )
    return float(value)  # type: ignore[arg-type]


def histogram_sine(
    *,
    bits: int,
    rate: int = 48000,
    freq_hz: float = 1000.0,
    overdrive_db: float = OVERDRIVE_DB,
    dnl_resolution_lsb: float = DNL_RESOLUTION_LSB,
    confidence: float = CONFIDENCE,
) -> NDArray[np.float64]:
    """The stimulus of the histogram test for N bits: an overdriven coherent sine.

    Parameters
    ----------
    bits : int in [2, 16]
        The resolution the record is for.
    rate : int > 0, default 48000
    freq_hz : float in (0, rate/2), default 1000
        Moved to the nearest prime number J of cycles in the record
        (`adcsim.analysis._generate.coherent_cycles`), so every sample has its
        own phase and the phases are spread evenly.
    overdrive_db : float > 0, default 0.2
        Peak over full scale, dB: amplitude ``10**(overdrive_db / 20)``.
    dnl_resolution_lsb, confidence : float
        The record has ``ceil(1.1 * required_samples(...))`` frames.

    Returns
    -------
    ndarray of float64, shape (frames,)
        Peaks beyond [-1, 1): a PCM writer or the quantizer clips them, as the
        converter's end codes do.

    Raises
    ------
    AdcsimError
        A bad value, naming it.

    Examples
    --------
    >>> x = histogram_sine(bits=8)
    >>> x.size, float(x.max()).__round__(4)
    (173881, 1.0233)
    """
    check_transfer_bits(bits)
    ok = isinstance(overdrive_db, (int, float)) and not isinstance(overdrive_db, bool)
    if not ok or not 0 < overdrive_db <= 20 or not math.isfinite(overdrive_db):
        raise AdcsimError(
            f"histogram-sine: overdrive_db={overdrive_db!r} must be in (0, 20] dB"
        )
    from adcsim.analysis._generate import coherent_cycles

    if isinstance(rate, bool) or not (isinstance(rate, int) and rate > 0):
        raise AdcsimError(f"histogram-sine: rate={rate!r} must be an integer > 0")
    if not isinstance(freq_hz, (int, float)) or not 0 < freq_hz < rate / 2:
        raise AdcsimError(
            f"histogram-sine: freq_hz={freq_hz!r} must be in (0, {rate / 2:g}), "
            "below rate/2"
        )
    amplitude = 10.0 ** (overdrive_db / 20.0)
    frames = math.ceil(
        LENGTH_MARGIN
        * required_samples(
            bits,
            amplitude=amplitude,
            dnl_resolution_lsb=dnl_resolution_lsb,
            confidence=confidence,
        )
    )
    cycles = coherent_cycles(freq_hz, rate=rate, frames=frames)
    # Exact phase per sample: (cycles * n) mod frames is an integer.
    phase = (cycles * np.arange(frames, dtype=np.int64)) % frames
    return amplitude * np.sin(2.0 * math.pi * phase / frames)


__all__ = [
    "CONFIDENCE",
    "DNL_RESOLUTION_LSB",
    "OVERDRIVE_DB",
    "HistogramResult",
    "codes_from_samples",
    "histogram_counts",
    "histogram_sine",
    "histogram_test",
    "required_samples",
]
