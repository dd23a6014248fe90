"""Frequency-weighted noise figures: A, F and ITU-R 468 weighting, in-band power.

Responsible for the weighting curves behind the report's
``error_a_weighted_dbfs`` (IEC 61672 A-weighting) and, for noise-shaped runs,
``error_f_weighted_dbfs`` (Wannamaker's F-weighting), ``error_itu468_dbfs``
(ITU-R BS.468-4) and the in-band band (`in_band_high_hz`), applied to the
error spectrum by ``adcsim.run._taps``. Not responsible for the unweighted
error meters (``_meters``), for choosing what is measured (``adcsim.run``) or
for the conversion to dB (the report's convention). (Streaming time-domain
A-weighting and band meters, which only tests used, live in the tests as an
independent check: ``tests/unit/weighting_meters.py``.)

The meters return mean-square values (full scale 1.0, so a full-scale square
wave has power 1 and a full-scale sine 1/2), averaged over channels.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

# IEC 61672-1:2013 Annex E: the A-weighting's pole frequencies, Hz (E.3-E.5 give
# f1 = 20.60, f2 = 107.7, f3 = 737.9, f4 = 12194 rounded; these are the
# unrounded values of the Annex E formulas).
F1_HZ = 20.598997
F2_HZ = 107.65265
F3_HZ = 737.86223
F4_HZ = 12194.217


def _a_weighting_raw_db(f: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        f2 = f * f
        num = (F4_HZ**2) * f2 * f2
        den = (
            (f2 + F1_HZ**2)
            * np.sqrt((f2 + F2_HZ**2) * (f2 + F3_HZ**2))
            * (f2 + F4_HZ**2)
        )
        return np.asarray(20.0 * np.log10(num / den), dtype=np.float64)


_RawCurve = Callable[[NDArray[np.float64]], NDArray[np.float64]]


@functools.cache
def _db_at_1khz(raw: _RawCurve) -> float:
    # A1000 of IEC 61672-1 Annex E is -2.000 dB rounded; every curve here is
    # normalized there, the reference frequency of all three standards.
    return float(raw(np.array([1000.0]))[0])


def _relative_to_1khz(raw: _RawCurve, freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """``raw(|f|) - raw(1 kHz)``: a weighting curve in dB, 0 dB at 1 kHz."""
    f = np.abs(np.asarray(freqs_hz, dtype=np.float64))
    return np.asarray(raw(f) - _db_at_1khz(raw), dtype=np.float64)


def a_weighting_db(freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """Return the analog A-weighting of IEC 61672-1, in dB (0 dB at 1 kHz).

    Parameters
    ----------
    freqs_hz : array_like of float >= 0
        Frequencies, Hz.

    Returns
    -------
    ndarray of float64
        ``A(f)`` in dB; ``-inf`` at 0 Hz.

    Notes
    -----
    IEC 61672-1 Annex E, formula (E.6):
    ``A(f) = 20 lg[f4^2 f^4 / ((f^2 + f1^2) (f^2 + f2^2)^1/2 (f^2 + f3^2)^1/2
    (f^2 + f4^2))] - A1000`` with the pole frequencies above.

    Examples
    --------
    >>> a_weighting_db([100.0, 1000.0, 10000.0]).round(1)
    array([-19.1,   0. ,  -2.5])
    """
    return _relative_to_1khz(_a_weighting_raw_db, freqs_hz)


# Wannamaker's F-weighting (R. A. Wannamaker, "Psychoacoustically optimal
# noise shaping", J. Audio Eng. Soc. 40(7/8), 1992): an analog filter fitted
# to the inverse of the threshold of hearing at low levels, given as zeros and
# poles in kHz with their multiplicities. The f-weighted and e-weighted
# noise-shaping filters (Wannamaker 1992; Lipshitz, Vanderkooy and Wannamaker,
# "Minimally audible noise shaping", JAES 39(11), 1991) minimize noise power
# under curves of this family.
_F_ZEROS_KHZ = ((0.0, 3), (-0.58 + 1.03j, 1), (-3.18 + 8.75j, 3))
_F_POLES_KHZ = (
    (-0.18, 3),
    (-1.63, 2),
    (-2.51 + 3.85j, 4),
    (-6.62 + 14.29j, 20),
)


def _log_gain_db(
    f_khz: NDArray[np.float64], roots: tuple[tuple[complex, int], ...]
) -> NDArray[np.float64]:
    """``20 log10 prod |j f - r|^m`` over the roots (and their conjugates)."""
    s = 1j * f_khz
    out = np.zeros_like(f_khz)
    with np.errstate(divide="ignore"):
        for root, times in roots:
            term = np.log10(np.abs(s - root))
            if root.imag:
                term = term + np.log10(np.abs(s - np.conj(root)))
            out += 20.0 * times * term
    return out


def _f_weighting_raw_db(f_hz: NDArray[np.float64]) -> NDArray[np.float64]:
    f_khz = f_hz / 1000.0
    return _log_gain_db(f_khz, _F_ZEROS_KHZ) - _log_gain_db(f_khz, _F_POLES_KHZ)


def f_weighting_db(freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """Return Wannamaker's F-weighting, in dB (0 dB at 1 kHz).

    Takes and returns what `a_weighting_db` does (``-inf`` at 0 Hz).

    Notes
    -----
    ``|H(j 2 pi f)|`` of the zeros 0 (triple), -0.58 +- 1.03j and
    -3.18 +- 8.75j (triple) and the poles -0.18 (triple), -1.63 (double),
    -2.51 +- 3.85j (quadruple) and -6.62 +- 14.29j (twentyfold), in kHz
    (Wannamaker, JAES 40(7/8), 1992), normalized to 0 dB at 1 kHz. It rises
    to about +12 dB near 3-4 kHz, where hearing is most sensitive, and falls
    steeply above 12 kHz.

    Examples
    --------
    >>> f_weighting_db([1000.0]).round(6)
    array([0.])
    """
    return _relative_to_1khz(_f_weighting_raw_db, freqs_hz)


def itu468_db(freqs_hz: ArrayLike) -> NDArray[np.float64]:
    """Return the ITU-R BS.468-4 noise weighting, in dB (0 dB at 1 kHz).

    Takes and returns what `a_weighting_db` does.

    Notes
    -----
    The response of the standard's weighting network (ITU-R BS.468-4, 1986,
    Fig. 1 and Table 1: +12.2 dB at 6.3 kHz) in closed form,
    ``R(f) = 1.246332637532143e-4 f / sqrt(h1^2 + h2^2)`` with
    ``h1 = -4.737338981378384e-24 f^6 + 2.043828333606125e-15 f^4
    - 1.363894795463638e-7 f^2 + 1`` and ``h2 = 1.306612257412824e-19 f^5
    - 2.118150887518656e-11 f^3 + 5.559488023498642e-4 f``, and
    ``ITU(f) = 18.2 + 20 log10 R(f)`` (the network's 1 kHz gain is -18.2 dB
    before the standard's +18.2 dB; here normalized exactly to 0 dB there).

    Examples
    --------
    >>> itu468_db([1000.0, 6300.0]).round(1)
    array([ 0. , 12.2])
    """
    return _relative_to_1khz(_itu468_raw_db, freqs_hz)


def _itu468_raw_db(f: NDArray[np.float64]) -> NDArray[np.float64]:
    f2 = f * f
    h1 = (
        -4.737338981378384e-24 * f2**3
        + 2.043828333606125e-15 * f2**2
        - 1.363894795463638e-07 * f2
        + 1.0
    )
    h2 = (
        1.306612257412824e-19 * f2**2 * f
        - 2.118150887518656e-11 * f2 * f
        + 5.559488023498642e-04 * f
    )
    with np.errstate(divide="ignore"):
        r = 1.246332637532143e-04 * f / np.sqrt(h1 * h1 + h2 * h2)
        return np.asarray(20.0 * np.log10(r), dtype=np.float64)


#: The report keys of a noise-shaped run's weighted error, each the weighting
#: its shaping filters were designed for (F-weighting: the f-weighted and
#: e-weighted filters; ITU-R 468: the broadcast noise measure).
SHAPING_WEIGHTINGS = {
    "error_f_weighted_dbfs": f_weighting_db,
    "error_itu468_dbfs": itu468_db,
}
#: Top of the in-band figure, Hz, at most: see `in_band_high_hz`.
IN_BAND_HZ = 4000.0


def in_band_high_hz(rate: int) -> float:
    """Top of the in-band error band of a noise-shaped run: min(4 kHz, rate / 5).

    Shaping moves noise out of the band where hearing is most sensitive, up
    towards Nyquist; a fixed 0-4 kHz band would be the whole spectrum at
    8 kHz. So the band stops at 40% of Nyquist below 20 kHz.

    Examples
    --------
    >>> in_band_high_hz(44100), in_band_high_hz(8000)
    (4000.0, 1600.0)
    """
    return min(IN_BAND_HZ, 0.2 * rate)


def shaping_weights(freqs_hz: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Power weights of `SHAPING_WEIGHTINGS` at ``freqs_hz`` (0 at 0 Hz).

    Examples
    --------
    >>> w = shaping_weights([0.0, 1000.0])
    >>> sorted(w), w["error_itu468_dbfs"].tolist()
    (['error_f_weighted_dbfs', 'error_itu468_dbfs'], [0.0, 1.0])
    """
    f = np.asarray(freqs_hz, dtype=np.float64)
    return {
        key: np.asarray(10.0 ** (curve(f) / 10.0), dtype=np.float64)
        for key, curve in SHAPING_WEIGHTINGS.items()
    }


__all__ = [
    "SHAPING_WEIGHTINGS",
    "a_weighting_db",
    "f_weighting_db",
    "in_band_high_hz",
    "itu468_db",
    "shaping_weights",
]
