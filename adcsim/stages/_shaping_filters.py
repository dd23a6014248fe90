"""Noise-shaping filters: published fixed designs and a designer for any rate.

Responsible for the error-feedback filters of noise shaping: the table of
published fixed designs (with their sources), the weighted design for any sample
rate, and choosing one by name and rate (`get_filter`). Not responsible for
applying them (`adcsim.stages._shaping`, the stage, and its compiled loop in
``adcsim.kernels``), for the dither noise or for measuring the weighted error
(``adcsim.metrics``).

Every filter is given as the taps ``h[1..K]`` of the error feedback: the stage
computes ``v[n] = x[n] - sum_k h[k] e[n-k]``, ``y[n] = Q(v[n] + d[n])``,
``e[n] = y[n] - v[n]``, so the output error is ``y - x = (1 - H(z)) e`` with
``H(z) = sum_k h[k] z^-k``: the noise transfer function (NTF) is ``1 - H(z)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError


@dataclass(frozen=True)
class ShapingFilter:
    """An error-feedback noise-shaping filter.

    Attributes
    ----------
    name : str
        Registry key (``--noise-shaping``), e.g. ``f-weighted``.
    rate : int or None
        Sample rate the filter is designed for, Hz; None if it suits any rate.
    coefficients : tuple of float
        The feedback taps ``h[1..K]``; the noise transfer function is
        ``1 - sum_k h[k] z^-k``. Empty for no shaping.
    source : str
        Where the design and its numbers come from.

    Examples
    --------
    >>> FIRST_ORDER.coefficients, FIRST_ORDER.order
    ((1.0,), 1)
    """

    name: str
    rate: int | None
    coefficients: tuple[float, ...]
    source: str

    @property
    def order(self) -> int:
        """The number of feedback taps K."""
        return len(self.coefficients)

    def to_dict(self) -> dict[str, Any]:
        """Return the filter as plain values, for the report.

        Examples
        --------
        >>> FIRST_ORDER.to_dict()["coefficients"]
        [1.0]
        """
        return {
            "name": self.name,
            "rate": self.rate,
            "coefficients": list(self.coefficients),
            "source": self.source,
        }


NONE = ShapingFilter("none", None, (), "no noise shaping: flat (white) error")

FIRST_ORDER = ShapingFilter(
    "first-order",
    None,
    (1.0,),
    "feedback of the previous error, NTF 1 - z^-1 (first-order highpass, "
    "+6 dB/octave; e.g. Lipshitz, Wannamaker and Vanderkooy, 'Quantization and "
    "dither: a theoretical survey', JAES 40(5), 1992)",
)

# Coefficients as published; read in SoX src/dither.c (github.com/chirlu/sox,
# commit 42b3557e, tables lip44, fwe44, mew44, iew44, shi*, shl*, shh44) and
# cross-checked against jniemann66/ReSampler noiseshape.h, which cites the same
# papers and appendices. SoX applies them with the same sign convention as here
# (its previous_errors = output - v, subtracted from the input), and the NTFs
# computed from them have the shapes the papers describe (tests check this).
_LVW_1991 = (
    "Lipshitz, Vanderkooy and Wannamaker, 'Minimally audible noise shaping', "
    "JAES 39(11):836-852, 1991"
)
_WANNAMAKER_1992 = (
    "Wannamaker, 'Psychoacoustically optimal noise shaping', JAES 40(7/8):611-620, 1992"
)
_SHIBATA = (
    "Naoki Shibata, SSRC noise-shaping filters (fitted to the absolute "
    "threshold of hearing), as tabulated in SoX src/dither.c"
)
_READ_IN = "; coefficients as tabulated in SoX src/dither.c (chirlu/sox)"

# The published numbers, kept in their compact published layout.
# fmt: off
_FIXED: tuple[ShapingFilter, ...] = (
    ShapingFilter(
        "lipshitz",
        44100,
        (2.033, -2.165, 1.959, -1.590, 0.6149),
        _LVW_1991 + ", improved E-weighted 5-tap design (appendix)" + _READ_IN,
    ),
    ShapingFilter(
        "f-weighted",
        44100,
        (2.412, -3.370, 3.937, -4.174, 3.353, -2.205, 1.281, -0.569, 0.0847),
        _WANNAMAKER_1992 + ", F-weighted 9-tap design (Table 3)" + _READ_IN,
    ),
    ShapingFilter(
        "modified-e-weighted",
        44100,
        (1.662, -1.263, 0.4827, -0.2913, 0.1268, -0.1124, 0.03252, -0.01265, -0.03524),
        _LVW_1991 + ", modified E-weighted 9-tap design (appendix)" + _READ_IN,
    ),
    ShapingFilter(
        "improved-e-weighted",
        44100,
        (2.847, -4.685, 6.214, -7.184, 6.639, -5.032, 3.263, -1.632, 0.4191),
        _LVW_1991 + ", improved E-weighted 9-tap design (appendix)" + _READ_IN,
    ),
    ShapingFilter(
        "shibata",
        48000,
        (
            2.8720729351043701172, -5.0413231849670410156, 6.2442994117736816406,
            -5.8483986854553222656, 3.7067542076110839844, -1.0495119094848632812,
            -1.1830236911773681641, 2.1126792430877685547, -1.9094531536102294922,
            0.99913084506988525391, -0.17090806365013122559, -0.32615602016448974609,
            0.39127644896507263184, -0.26876461505889892578, 0.097676105797290802002,
            -0.023473845794796943665,
        ),
        _SHIBATA + " (shi48)",
    ),
    ShapingFilter(
        "shibata",
        44100,
        (
            2.6773197650909423828, -4.8308925628662109375, 6.570110321044921875,
            -7.4572014808654785156, 6.7263274192810058594, -4.8481650352478027344,
            2.0412089824676513672, 0.7006359100341796875, -2.9537565708160400391,
            4.0800385475158691406, -4.1845216751098632812, 3.3311812877655029297,
            -2.1179926395416259766, 0.879302978515625, -0.031759146600961685181,
            -0.42382788658142089844, 0.47882103919982910156, -0.35490813851356506348,
            0.17496839165687561035, -0.060908168554306030273,
        ),
        _SHIBATA + " (shi44)",
    ),
    ShapingFilter(
        "shibata",
        37800,
        (
            1.6335992813110351562, -2.2615492343902587891, 2.4077029228210449219,
            -2.6341717243194580078, 2.1440362930297851562, -1.8153258562088012695,
            1.0816224813461303711, -0.70302653312683105469, 0.15991993248462677002,
            0.041549518704414367676, -0.29416576027870178223, 0.2518316805362701416,
            -0.27766478061676025391, 0.15785403549671173096, -0.10165894031524658203,
            0.016833892092108726501,
        ),
        _SHIBATA + " (shi38)",
    ),
    ShapingFilter(
        "shibata",
        32000,
        (
            0.82118552923202515, -1.0063692331314087, 0.62341964244842529,
            -1.0447187423706055, 0.64532512426376343, -0.87615132331848145,
            0.52219754457473755, -0.67434263229370117, 0.44954317808151245,
            -0.52557498216629028, 0.34567299485206604, -0.39618203043937683,
            0.26791760325431824, -0.28936097025871277, 0.1883765310049057,
            -0.19097308814525604, 0.10431359708309174, -0.10633844882249832,
            0.046832218766212463, -0.039653312414884567,
        ),
        _SHIBATA + " (shi32)",
    ),
    ShapingFilter(
        "shibata",
        22050,
        (
            0.056581053882837296, -0.56956905126571655, -0.40727734565734863,
            -0.33870288729667664, -0.29810553789138794, -0.19039161503314972,
            -0.16510021686553955, -0.13468159735202789, -0.096633769571781158,
            -0.081049129366874695, -0.064953058958053589, -0.054459091275930405,
            -0.043378707021474838, -0.03660014271736145, -0.026256965473294258,
            -0.018786206841468811, -0.013387725688517094, -0.0090983230620622635,
            -0.0026585909072309732, -0.00042083300650119781,
        ),
        _SHIBATA + " (shi22)",
    ),
    ShapingFilter(
        "shibata",
        16000,
        (
            -0.37251132726669312, -0.81423574686050415, -0.55010956525802612,
            -0.47405767440795898, -0.32624706625938416, -0.3161766529083252,
            -0.2286367267370224, -0.22916607558727264, -0.19565616548061371,
            -0.18160104751586914, -0.15423151850700378, -0.14104481041431427,
            -0.11844276636838913, -0.097583092749118805, -0.076493598520755768,
            -0.068106919527053833, -0.041881654411554337, -0.036922425031661987,
            -0.019364040344953537, -0.014994367957115173,
        ),
        _SHIBATA + " (shi16)",
    ),
    ShapingFilter(
        "shibata",
        11025,
        (
            -0.9264228343963623, -0.98695987462997437, -0.631156325340271,
            -0.51966935396194458, -0.39738872647285461, -0.35679301619529724,
            -0.29720726609230042, -0.26310476660728455, -0.21719355881214142,
            -0.18561814725399017, -0.15404847264289856, -0.12687471508979797,
            -0.10339745879173279, -0.083688631653785706, -0.05875682458281517,
            -0.046893671154975891, -0.027950936928391457, -0.020740609616041183,
            -0.009366452693939209, -0.0060260160826146603,
        ),
        _SHIBATA + " (shi11)",
    ),
    ShapingFilter(
        "shibata",
        8000,
        (
            -1.202863335609436, -0.94103097915649414, -0.67878556251525879,
            -0.57650017738342285, -0.50004476308822632, -0.44349345564842224,
            -0.37833768129348755, -0.34028723835945129, -0.29413089156150818,
            -0.24994957447052002, -0.21715600788593292, -0.18792112171649933,
            -0.15268312394618988, -0.12135542929172516, -0.099610626697540283,
            -0.075273610651493073, -0.048787496984004974, -0.042586319148540497,
            -0.028991291299462318, -0.011869125068187714,
        ),
        _SHIBATA + " (shi08)",
    ),
    ShapingFilter(
        "low-shibata",
        48000,
        (
            2.3925774097442626953, -3.4350297451019287109, 3.1853709220886230469,
            -1.8117271661758422852, -0.20124770700931549072, 1.4759907722473144531,
            -1.7210904359817504883, 0.97746700048446655273, -0.13790138065814971924,
            -0.38185903429985046387, 0.27421241998672485352, 0.066584214568138122559,
            -0.35223302245140075684, 0.37672343850135803223, -0.23964276909828186035,
            0.068674825131893157959,
        ),
        _SHIBATA + ", low-noise variant (shl48)",
    ),
    ShapingFilter(
        "low-shibata",
        44100,
        (
            2.0833916664123535156, -3.0418450832366943359, 3.2047898769378662109,
            -2.7571926116943359375, 1.4978630542755126953, -0.3427594602108001709,
            -0.71733748912811279297, 1.0737057924270629883, -1.0225815773010253906,
            0.56649994850158691406, -0.20968692004680633545, -0.065378531813621520996,
            0.10322438180446624756, -0.067442022264003753662, -0.00495197344571352005,
        ),
        _SHIBATA + ", low-noise variant (shl44)",
    ),
    ShapingFilter(
        "high-shibata",
        44100,
        (
            3.0259189605712890625, -6.0268716812133789062, 9.195003509521484375,
            -11.824929237365722656, 12.767142295837402344, -11.917946815490722656,
            9.1739168167114257812, -5.3712320327758789062, 1.1393624544143676758,
            2.4484779834747314453, -4.9719839096069335938, 6.0392003059387207031,
            -5.9359521865844726562, 4.903278350830078125, -3.5527443885803222656,
            2.1909697055816650391, -1.1672389507293701172, 0.4903914332389831543,
            -0.16519790887832641602, 0.023217858746647834778,
        ),
        _SHIBATA + ", high-shaping variant (shh44)",
    ),
)
# fmt: on

#: The fixed filters by name, each a tuple of designs at different rates.
FIXED_FILTERS: dict[str, tuple[ShapingFilter, ...]] = {}
for _f in _FIXED:
    FIXED_FILTERS[_f.name] = (*FIXED_FILTERS.get(_f.name, ()), _f)
del _f

#: Every ``--noise-shaping`` choice.
SHAPING_NAMES: tuple[str, ...] = ("none", "first-order", *FIXED_FILTERS, "weighted")

Weighting = Literal["a", "threshold"]
WEIGHTINGS: tuple[str, ...] = ("a", "threshold")


def _threshold_db(f_hz: NDArray[np.float64]) -> NDArray[np.float64]:
    # Terhardt's absolute threshold of hearing, dB SPL (Terhardt, 'Calculating
    # virtual pitch', Hearing Research 1:155-182, 1979; as used by Painter and
    # Spanias, 'Perceptual coding of digital audio', Proc. IEEE 88(4), 2000).
    k = np.maximum(f_hz, 20.0) / 1000.0
    return np.asarray(
        3.64 * k**-0.8 - 6.5 * np.exp(-0.6 * (k - 3.3) ** 2) + 1e-3 * k**4,
        dtype=np.float64,
    )


def _levinson(r: NDArray[np.float64], order: int) -> NDArray[np.float64]:
    """Prediction-error filter ``[1, a1..aK]`` of autocorrelation ``r``.

    Levinson-Durbin recursion; every reflection coefficient has |k| < 1 when
    the Toeplitz matrix of ``r`` is positive definite, which makes the
    prediction-error filter minimum phase.
    """
    a = np.zeros(order + 1)
    a[0] = 1.0
    err = float(r[0])
    for m in range(1, order + 1):
        k = -float(np.dot(a[:m], r[m:0:-1])) / err
        a[1 : m + 1] = a[1 : m + 1] + k * a[m - 1 :: -1][:m]
        err *= 1.0 - k * k
    return a


@functools.lru_cache(maxsize=64)
def _design_cached(
    rate: int, order: int, weighting: str, range_db: float
) -> tuple[float, ...]:
    from adcsim.metrics._weighting import a_weighting_db

    n = 8192
    # The weighting on [0, rate/2]; f = 0 is -inf dB for A and floored below.
    f = np.arange(n + 1, dtype=np.float64) * (rate / 2 / n)
    w_db = a_weighting_db(f) if weighting == "a" else -_threshold_db(f)
    w_db = np.maximum(w_db, float(np.max(w_db)) - range_db)
    w = 10.0 ** (w_db / 10.0)
    # Autocorrelation of the weighting spectrum (even, sampled on [0, rate/2]).
    r = np.fft.irfft(w)[: order + 1]
    a = _levinson(r, order)
    return tuple(float(-v) for v in a[1:])


def design_weighted(
    rate: int, *, order: int = 12, weighting: str = "a", range_db: float = 30.0
) -> ShapingFilter:
    """Design the optimal error-feedback filter of ``order`` taps for ``rate``.

    Parameters
    ----------
    rate : int >= 1000
        Sample rate, Hz.
    order : int in [1, 32]
        Number of feedback taps K.
    weighting : {"a", "threshold"}
        The ear's sensitivity W(f) to noise: ``a`` the IEC 61672-1 A-weighting
        (the same curve as the report's ``error_a_weighted_dbfs``); ``threshold``
        the inverse of Terhardt's absolute threshold of hearing (stronger
        shaping, pushes noise to 15-20 kHz, raises the total and A-weighted
        noise power).
    range_db : float in [3, 80]
        W is floored at ``max(W) - range_db`` dB, which bounds the NTF's gain
        where the ear is least sensitive.

    Returns
    -------
    ShapingFilter
        Named ``weighted``, for ``rate``; the same object for the same arguments.

    Raises
    ------
    AdcsimError
        An argument out of range.

    Notes
    -----
    Among monic FIR noise transfer functions ``A(z) = 1 + a1 z^-1 + ... + aK
    z^-K``, the weighted noise power ``integral |A|^2 W df`` is smallest for the
    prediction-error filter of the "spectrum" W: the solution of the Yule-Walker
    equations on W's autocorrelation (the inverse FFT of W), solved here by the
    Levinson-Durbin recursion. That filter is minimum phase, which is what makes
    it the optimal error-feedback filter (Gerzon and Craven, 'Optimal noise
    shaping and dither of digital signals', AES preprint 2822, 1989: the log of
    a minimum-phase monic NTF averages to 0 dB over frequency, and the weighted
    noise is minimized by making ``|A|^2 W`` as flat as the order allows).
    So the design never does worse on the W-weighted noise than flat dither (K=0
    is a candidate) and ``|1 - H|^2`` approximates ``c / W``. Then ``h = -a``.

    Examples
    --------
    >>> f = design_weighted(44100, order=4)
    >>> f.name, f.rate, len(f.coefficients)
    ('weighted', 44100, 4)
    >>> bool(np.all(np.abs(np.roots([1, *(-c for c in f.coefficients)])) < 1))
    True
    """
    rate = _check_rate(rate)
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise AdcsimError(
            f"noise-shaping: order={order!r} must be an integer in [1, 32]"
        )
    if not 1 <= order <= 32:
        raise AdcsimError(f"noise-shaping: order={order} must be an integer in [1, 32]")
    if weighting not in WEIGHTINGS:
        raise AdcsimError(
            f"noise-shaping: weighting={weighting!r} is not one of: "
            + ", ".join(WEIGHTINGS)
        )
    if not (isinstance(range_db, (int, float)) and 3.0 <= range_db <= 80.0):
        raise AdcsimError(f"noise-shaping: range_db={range_db!r} must be in [3, 80]")
    coefficients = _design_cached(rate, int(order), weighting, float(range_db))
    curve = "IEC 61672-1 A-weighting" if weighting == "a" else "Terhardt threshold"
    return _designed(rate, coefficients, curve, int(order), float(range_db))


@functools.lru_cache(maxsize=64)
def _designed(
    rate: int, coefficients: tuple[float, ...], curve: str, order: int, range_db: float
) -> ShapingFilter:
    return ShapingFilter(
        "weighted",
        rate,
        coefficients,
        f"designed for {rate} Hz: order-{order} prediction-error filter of the "
        f"{curve} (floored {range_db:g} dB below its peak), minimizing the "
        "weighted noise power (Gerzon and Craven, AES preprint 2822, 1989)",
    )


def _check_rate(rate: object) -> int:
    return check_rate(rate, low=1000, prefix="noise-shaping: ")


def get_filter(name: str, rate: int | None = None) -> ShapingFilter:
    """Return the noise-shaping filter ``name`` for a stream at ``rate`` Hz.

    Parameters
    ----------
    name : str
        One of `SHAPING_NAMES`: ``none``, ``first-order``, a fixed filter
        (``f-weighted``, ``shibata``, ...) or ``weighted`` (designed for ``rate``).
    rate : int or None
        The stream's sample rate; needed by every name but ``none`` and
        ``first-order``.

    Returns
    -------
    ShapingFilter
        ``none`` has no taps.

    Raises
    ------
    AdcsimError
        Unknown name; a fixed filter at a rate it was not designed for (never a
        silent fallback); no rate given where one is needed.

    Examples
    --------
    >>> get_filter("f-weighted", 44100).coefficients[:3]
    (2.412, -3.37, 3.937)
    >>> get_filter("f-weighted", 22050)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: noise-shaping 'f-weighted' is designed for 44100 Hz, \
not 22050 Hz; use 'weighted' to design one for this rate
    """
    if name == "none":
        return NONE
    if name == "first-order":
        return FIRST_ORDER
    if name == "weighted":
        if rate is None:
            raise AdcsimError("noise-shaping 'weighted' needs the sample rate")
        return design_weighted(rate)
    if name not in FIXED_FILTERS:
        allowed = ", ".join(SHAPING_NAMES)
        raise AdcsimError(f"noise-shaping={name!r} is not one of: {allowed}")
    designs = FIXED_FILTERS[name]
    for design in designs:
        if design.rate == rate:
            return design
    rates = ", ".join(str(d.rate) for d in sorted(designs, key=lambda d: d.rate or 0))
    if rate is None:
        raise AdcsimError(
            f"noise-shaping {name!r} is designed for {rates} Hz and needs the rate"
        )
    raise AdcsimError(
        f"noise-shaping {name!r} is designed for {rates} Hz, not {rate} Hz; "
        "use 'weighted' to design one for this rate"
    )
