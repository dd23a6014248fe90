"""Closed-form quantization noise: each scheme's theoretical SQNR.

Responsible for the textbook figures a run or a sweep is compared with:
`sqnr_theory_db`, the large-signal SQNR of one scheme (the report's
``sqnr_theory_db``), and `theory_snr_db`, Bennett's integral for a sine at
any level (the sweep's theory lines). Functions of the scheme's name and
parameters only: not responsible for measuring anything, and imports no
quantizer (the formulas are stated here, from the laws the quantizers
document).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Phases of the quarter period averaged by `theory_snr_db` (midpoint rule).
_THEORY_PHASES = 8192

_DB_PER_BIT = 20.0 * math.log10(2.0)
#: Defaults of the compander parameters (``--mu``, ``--a``; G.711's values).
_MU = 255.0
_A = 87.6


def sqnr_theory_db(
    scheme: str, bits: int, params: Mapping[str, Any] | None = None
) -> float | None:
    """The theoretical SQNR of ``scheme`` at ``bits`` for large signals, dB.

    Parameters
    ----------
    scheme : str
        A registry key (``uniform``, ``mulaw``, ...).
    bits : int >= 1
        Depth N; the step of the (compressed) uniform grid is D = 2 / 2**N.
    params : mapping, optional
        The scheme's parameters as its quantizer reports them (``mu``, ``a``);
        missing ones take the defaults 255 and 87.6.

    Returns
    -------
    float or None
        None for ``lloydmax`` (its levels follow the signal: no closed form
        for an arbitrary one) and for unknown schemes.

    Notes
    -----
    With D = 2 / 2**N and Bennett's granular noise ``(D^2 / 12) E[1 / F'(x)^2]``
    for a compressor F followed by a uniform quantizer (Bennett, BSTJ 27, 1948;
    B. Smith, "Instantaneous companding of quantized signals", BSTJ 36, 1957,
    for mu-law; Jayant and Noll, *Digital Coding of Waveforms*, Prentice-Hall
    1984, whose log-PCM formulas these are, derived here in one line each):

    * ``uniform``, ``midrise``: a full-scale sine (power 1/2) over D^2 / 12,
      ``20 log10(2**N) + 10 log10(3/2)`` = 6.02 N + 1.76 dB;
    * ``floor`` (truncation): the error is uniform on [-D, 0), power D^2 / 3
      (its variance D^2 / 12 plus its mean squared, D^2 / 4), so a full-scale
      sine gives 6.02 N - 4.26 dB;
    * ``mulaw``: for ``mu |x| >> 1``, ``1 / F'(x) = ln(1 + mu) |x|``, so the
      noise is proportional to the signal power and the SQNR is the same for
      every large signal: ``20 log10(2**N) + 10 log10(3) - 20 log10(ln(1 + mu))``
      = 6.02 N + 4.77 - 20 log10 ln(1 + mu), 38.06 dB at N = 8, mu = 255
      (Smith's large-signal limit);
    * ``alaw``: in the logarithmic segment, ``|x| >= 1/A``,
      ``1 / F'(x) = (1 + ln A) |x|``: 6.02 N + 4.77 - 20 log10(1 + ln A),
      38.17 dB at N = 8, A = 87.6 (the A-law's constant-SNR region);
    * ``g711-mulaw``, ``g711-alaw``: the continuous law's value at N = 8 with
      mu = 255 and A = 87.6. The segmented codecs approximate those curves by
      chords (16 uniform steps per segment, the step doubling from segment to
      segment), so their SNR lies a little below it and ripples more: on a
      Laplacian (speech-like) signal from -26 to -12 dBFS RMS, measured
      0.6-1.0 dB below; on sines, up to 3 dB below.

    These are large-signal values: smaller signals fall below them (the
    companders' linear region, a uniform quantizer's level dependence; see
    `theory_snr_db`), and signals beyond full scale add overload noise.

    Examples
    --------
    >>> round(sqnr_theory_db("uniform", 16), 2)
    98.09
    >>> round(sqnr_theory_db("mulaw", 8, {"mu": 255.0}), 2)
    38.06
    >>> round(sqnr_theory_db("alaw", 8), 2)
    38.17
    >>> sqnr_theory_db("lloydmax", 8) is None
    True
    """
    given = dict(params or {})
    mu = float(given.get("mu", _MU))
    a = float(given.get("a", _A))
    large = _DB_PER_BIT * bits + 10.0 * math.log10(3.0)
    if scheme in ("uniform", "midrise"):
        return _DB_PER_BIT * bits + 10.0 * math.log10(1.5)
    if scheme == "floor":
        return _DB_PER_BIT * bits + 10.0 * math.log10(3.0 / 8.0)
    if scheme == "mulaw":
        return large - 20.0 * math.log10(math.log1p(mu))
    if scheme == "alaw":
        return large - 20.0 * math.log10(1.0 + math.log(a))
    if scheme == "g711-mulaw":
        return large - 20.0 * math.log10(math.log1p(_MU))
    if scheme == "g711-alaw":
        return large - 20.0 * math.log10(1.0 + math.log(_A))
    return None


def _inverse_slope_squared(
    scheme: str, x: NDArray[np.float64], mu: float, a: float
) -> NDArray[np.float64]:
    """``1 / F'(x)**2`` of the compressor F, on ``0 <= x <= 1``."""
    if scheme in ("uniform", "midrise"):
        return np.ones_like(x)
    if scheme == "mulaw":
        return (math.log1p(mu) / mu * (1.0 + mu * x)) ** 2
    # A-law: F(x) = A x / (1 + ln A) below 1/A, (1 + ln(A x)) / (1 + ln A) above.
    k = 1.0 + math.log(a)
    return np.where(x < 1.0 / a, (k / a) ** 2, (k * x) ** 2)


def theory_snr_db(
    scheme: str, bits: int, level_dbfs: float, *, mu: float = _MU, a: float = _A
) -> float | None:
    """Textbook SNR of a sine of RMS ``level_dbfs`` on an ideal N-bit quantizer.

    Parameters
    ----------
    scheme : {'uniform', 'midrise', 'mulaw', 'alaw'}
        Other schemes have no curve here: None.
    bits : int >= 1
        Bit depth N; the step of the (compressed) uniform grid is
        ``D = 2 / 2**N``.
    level_dbfs : float
        RMS level of the sine (0 dBFS = RMS 1; full scale is -3.01 dBFS).
    mu, a : float
        The companding parameters.

    Returns
    -------
    float or None
        ``10 log10(S / (N_g + N_o))``, S the sine power.

    See Also
    --------
    sqnr_theory_db : the large-signal limit, for any scheme.

    Notes
    -----
    The granular noise is Bennett's integral for a compander F followed by a
    uniform quantizer of step D (Jayant and Noll, *Digital Coding of
    Waveforms*, 1984, §5.5-5.6; Bennett, BSTJ 1948): ``N_g = (D^2 / 12)
    E[1 / F'(x)^2]`` over ``|x| <= 1``; the overload noise is ``N_o =
    E[(|x| - 1)^2]`` over ``|x| > 1`` (clipping at full scale). Both are
    averaged over the sine's phase (midpoint rule, 8192 phases of a quarter
    period). Without overload this gives the closed forms, with sigma the RMS
    and ``E|x| = (2 sqrt(2) / pi) sigma`` for a sine:

    * uniform and midrise: ``SNR = 6.02 N + 1.76 + (level_dbfs + 3.01)``;
    * mu-law, ``1/F'(x) = ln(1 + mu) (1 + mu|x|) / mu``:
      ``SNR = 6.02 N + 4.77 - 20 log10(ln(1 + mu))
      - 10 log10(1 + 2 E|x| / (mu sigma^2) + 1 / (mu sigma)^2)``,
      about 38 dB at 8 bits and mu = 255 over a wide range of levels;
    * A-law: ``1/F'(x) = (1 + ln A) / A`` below ``|x| = 1/A`` (uniform, the
      linear segment) and ``(1 + ln A) |x|`` above (logarithmic segment,
      constant SNR ``6.02 N + 4.77 - 20 log10(1 + ln A)``, 38.2 dB at 8 bits).

    Bennett's integral assumes many levels across the signal; at a few bits or
    a signal of a few steps the measured SNR departs from it.

    Examples
    --------
    >>> round(theory_snr_db("uniform", 16, -3.0103), 2)
    98.09
    >>> round(theory_snr_db("mulaw", 8, -3.0103), 1)
    38.0
    >>> round(theory_snr_db("alaw", 8, -20.0), 1)
    38.2
    >>> theory_snr_db("floor", 8, -6.0) is None
    True
    """
    if scheme not in ("uniform", "midrise", "mulaw", "alaw"):
        return None
    step = 2.0 / 2.0**bits
    amplitude = math.sqrt(2.0) * 10.0 ** (level_dbfs / 20.0)
    phase = (np.arange(_THEORY_PHASES) + 0.5) * (0.5 * math.pi / _THEORY_PHASES)
    x = amplitude * np.sin(phase)
    inside = x <= 1.0
    granular = (
        step**2
        / 12.0
        * np.where(
            inside, _inverse_slope_squared(scheme, np.minimum(x, 1.0), mu, a), 0.0
        )
    )
    overload = np.where(inside, 0.0, (x - 1.0) ** 2)
    noise = float(np.mean(granular + overload))
    return 10.0 * math.log10(amplitude**2 / 2.0 / noise)


__all__ = ["sqnr_theory_db", "theory_snr_db"]
