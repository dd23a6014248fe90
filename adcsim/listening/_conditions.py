"""Listening-test conditions: parsing, rendering, anchors and fades.

Responsible for `Condition` (one processing under test, or an existing file),
parsing ``--condition``, ``--file`` and ``--excerpt``, the cross product of
``--scheme``/``--bits``/``--rate``/``--dither``, rendering an ideal condition
(resample, dither, quantize, resample back: `render_condition`; converter
impairments go through `adcsim.listening._render`), the BS.1534-3 low-pass
anchors and the stimuli's fades. Not responsible for the session (blinding,
loudness matching, key and page: `adcsim.listening._session`) or for scoring.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.stages._converter import OPTION_FIELDS, ConverterConfig, option_value

#: Labels of the stimuli that are not user conditions (reserved names).
HIDDEN_REFERENCE = "hidden-reference"
ANCHOR_LOW = "anchor-3.5k"
ANCHOR_MID = "anchor-7k"
RESERVED = (HIDDEN_REFERENCE, ANCHOR_LOW, ANCHOR_MID, "reference")
ANCHOR_CUTOFF_HZ = {ANCHOR_LOW: 3500.0, ANCHOR_MID: 7000.0}

FADE_S = 0.02
#: Longest start and duration of ``--excerpt`` (116 days): 1e308 overflowed
#: the conversion to frames.
EXCERPT_MAX_S = 1e7
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_CONDITION_KEYS = ("scheme", "bits", "rate", "dither")


@dataclass(frozen=True)
class Condition:
    """One processing under test, or an existing file to compare.

    Parameters
    ----------
    name : str
        Label in the key and the results (letters, digits, ``_.+-``).
    scheme : str
        Quantizer scheme (`adcsim.quantizers._registry.SCHEMES`).
    bits : int or None
        Quantizer depth; None skips quantizing (a rate-only condition).
    rate : int or None
        Rate to process at (resampled there and back); None keeps the reference's.
    dither : str
        ``none``, ``rpdf`` or ``tpdf``.
    params : mapping
        Scheme parameters (``mu``, ``a``).
    path : str or None
        An existing file to use instead of processing (``--file NAME=PATH``).
    converter : ConverterConfig
        The converter model's impairments (the options of ``quantize``);
        a condition with any needs ``bits`` and is rendered through the
        quantize chain (`adcsim.listening._render`).
    """

    name: str
    scheme: str = "uniform"
    bits: int | None = None
    rate: int | None = None
    dither: str = "none"
    params: Mapping[str, float] = field(default_factory=dict)
    path: str | None = None
    converter: ConverterConfig = field(default_factory=ConverterConfig)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or self.name in RESERVED:
            raise AdcsimError(
                f"condition name={self.name!r} must be letters, digits or _.+- "
                f"and not one of: {', '.join(RESERVED)}"
            )
        if self.path is None and self.bits is None and self.rate is None:
            raise AdcsimError(f"condition {self.name!r} sets neither bits nor rate")
        if self.converter.active and (self.bits is None or self.path is not None):
            raise AdcsimError(
                f"condition {self.name!r}: the converter options "
                f"({', '.join(self.converter.settings())}) need bits=N"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the condition as a dict for the key file."""
        return {
            "name": self.name,
            "scheme": None if self.path else self.scheme,
            "bits": self.bits,
            "rate": self.rate,
            "dither": None if self.path else self.dither,
            "params": dict(self.params),
            "path": self.path,
            # (absent for an ideal converter: key files stay as they were)
            **(
                {"converter": self.converter.settings()}
                if self.converter.active
                else {}
            ),
        }


def parse_condition(
    text: str, *, converter: ConverterConfig | None = None
) -> Condition:
    """Parse ``NAME=key=value,key=value`` (``--condition``).

    Keys are ``scheme``, ``bits``, ``rate``, ``dither``, the converter
    options of ``quantize`` without their dashes (``jitter=5e-9``,
    ``anti-alias=off``, ``noise-lsb=0.5``, ...) and the scheme's own
    parameters (``mu``, ``a``). The converter options not given are those
    of ``converter`` (the command's own), else an ideal converter's.

    Raises
    ------
    AdcsimError
        Missing ``=``, an unknown or repeated key, a value that is not a number.

    Examples
    --------
    >>> parse_condition("tel=scheme=mulaw,bits=8,rate=8000")
    Condition(name='tel', scheme='mulaw', bits=8, rate=8000, dither='none', \
params={}, path=None, converter=ConverterConfig())
    >>> parse_condition("cheap=bits=12,jitter=5e-9,noise-lsb=0.5").converter
    ConverterConfig(jitter=5e-09, noise_lsb=0.5)
    """
    name, sep, options = text.partition("=")
    if not sep or not options:
        raise AdcsimError(f"condition={text!r} must be NAME=key=value,...")
    values: dict[str, Any] = {}
    params: dict[str, float] = {}
    own: dict[str, Any] = {}
    for item in options.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not value or key in values or key in params or key in own:
            raise AdcsimError(f"condition {name!r}: {item!r} must be a new key=value")
        if key in OPTION_FIELDS:
            try:
                _, own[key] = option_value(key, value)
            except AdcsimError as exc:
                raise AdcsimError(f"condition {name!r}: {exc}") from None
            continue
        try:
            if key in ("bits", "rate"):
                values[key] = int(value)
            elif key in ("scheme", "dither"):
                values[key] = value
            else:
                params[key] = float(value)
        except ValueError:
            raise AdcsimError(
                f"condition {name!r}: {key}={value!r} is not a number"
            ) from None
    fields_given = {OPTION_FIELDS[k]: v for k, v in own.items()}
    base = converter if converter is not None else ConverterConfig()
    return Condition(
        name=name, params=params, converter=replace(base, **fields_given), **values
    )


def parse_file_condition(text: str) -> Condition:
    """Parse ``NAME=PATH`` (``--file``): an existing file as a condition.

    Examples
    --------
    >>> parse_file_condition("other=out/take1.wav").path
    'out/take1.wav'
    """
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise AdcsimError(f"file={text!r} must be NAME=PATH")
    return Condition(name=name, path=path)


def cross_conditions(
    *,
    schemes: Sequence[str] = ("uniform",),
    bits: Sequence[int | None] = (None,),
    rates: Sequence[int | None] = (None,),
    dithers: Sequence[str] = ("none",),
) -> list[Condition]:
    """Return the cross product of scheme, bits, rate and dither lists, named.

    Examples
    --------
    >>> [c.name for c in cross_conditions(schemes=["uniform", "mulaw"], bits=[8])]
    ['uniform-8bit', 'mulaw-8bit']
    >>> [c.name for c in cross_conditions(bits=[6], rates=[8000], dithers=["tpdf"])]
    ['uniform-6bit-8000Hz-tpdf']
    """
    out = []
    for scheme, depth, rate, kind in itertools.product(schemes, bits, rates, dithers):
        parts = [scheme] if depth is not None else []
        parts += [f"{depth}bit"] if depth is not None else []
        parts += [f"{rate}Hz"] if rate is not None else []
        parts += [kind] if kind != "none" else []
        out.append(
            Condition(
                name="-".join(parts), scheme=scheme, bits=depth, rate=rate, dither=kind
            )
        )
    return out


def parse_excerpt(text: str) -> tuple[float, float]:
    """Parse ``START:DUR`` in seconds (``--excerpt``).

    Examples
    --------
    >>> parse_excerpt("1.5:4")
    (1.5, 4.0)
    """
    start, sep, duration = text.partition(":")
    try:
        values = (float(start), float(duration))
    except ValueError:
        values = (math.nan, math.nan)
    if not sep or not all(0 <= v <= EXCERPT_MAX_S for v in values):
        raise AdcsimError(
            f"excerpt={text!r} must be START:DUR in seconds, each in "
            f"[0, {EXCERPT_MAX_S:g}]"
        )
    if values[1] < 0.5:
        raise AdcsimError(f"excerpt duration={values[1]:g} s must be at least 0.5 s")
    return values


def render_condition(
    x: NDArray[np.float64], *, rate: int, condition: Condition, seed: int
) -> NDArray[np.float64]:
    """Process ``x`` (frames, channels) at ``rate`` as ``condition`` says.

    Resample to the condition's rate, dither, quantize, resample back; the
    output has the input's shape. ``lloydmax`` designs its codebook on the
    signal it quantizes. File conditions are not rendered here.

    Examples
    --------
    >>> x = np.linspace(-0.5, 0.5, 8).reshape(-1, 1)
    >>> c = Condition(name="q2", bits=2)
    >>> render_condition(x, rate=8000, condition=c, seed=0).ravel()
    array([-0.5, -0.5, -0. , -0. ,  0. ,  0. ,  0.5,  0.5])
    """
    from adcsim.quantizers._stage import quantize
    from adcsim.stages._dither import dither
    from adcsim.stages._resample import resample

    if condition.converter.active:
        from adcsim.listening._render import render_converted

        return render_converted(x, rate=rate, condition=condition, seed=seed)
    y = x
    work_rate = rate if condition.rate is None else condition.rate
    resampled = work_rate != rate
    if resampled:
        y = resample(y, in_rate=rate, out_rate=work_rate)
    if condition.bits is not None:
        if condition.dither != "none":
            y = dither(y, bits=condition.bits, kind=condition.dither, seed=seed)
        params: dict[str, Any] = dict(condition.params)
        if condition.scheme == "lloydmax":
            # Lloyd-Max levels follow the signal: designed on this stimulus
            # (after resampling and dither), as quantize does by default.
            from adcsim.quantizers._lloydmax import design_lloyd_max

            params["codebook"] = design_lloyd_max(y, bits=condition.bits)
        y = quantize(y, bits=condition.bits, scheme=condition.scheme, **params)
    if resampled:
        y = resample(y, in_rate=work_rate, out_rate=rate)
    return fit_length(np.asarray(y, dtype=np.float64), x.shape[0])


def lowpass_anchor(
    x: NDArray[np.float64], *, rate: int, cutoff_hz: float
) -> NDArray[np.float64]:
    """Low-pass ``x`` at ``cutoff_hz`` with zero phase: the BS.1534-3 anchor.

    Notes
    -----
    A 12th-order Butterworth run forwards and backwards (`sosfiltfilt`): zero
    phase, so the anchor stays time-aligned with the other stimuli for instant
    switching, and -6 dB at the cutoff falling at 144 dB per octave.

    Examples
    --------
    >>> t = np.arange(4800) / 48000
    >>> x = np.column_stack([np.sin(2 * np.pi * 10000 * t)])
    >>> y = lowpass_anchor(x, rate=48000, cutoff_hz=3500)
    >>> float(np.abs(y[1000:-1000]).max()) < 1e-4
    True
    """
    from scipy.signal import butter, sosfiltfilt

    if cutoff_hz >= rate / 2:
        raise AdcsimError(
            f"anchor cutoff_hz={cutoff_hz:g} needs a rate above {2 * cutoff_hz:g} Hz"
        )
    sos = butter(12, cutoff_hz, fs=rate, output="sos")
    return np.asarray(sosfiltfilt(sos, x, axis=0), dtype=np.float64)


def apply_fades(
    x: NDArray[np.float64], *, rate: int, fade_s: float = FADE_S
) -> NDArray[np.float64]:
    """Raised-cosine fade-in and fade-out of ``fade_s`` seconds (a new array).

    Examples
    --------
    >>> apply_fades(np.ones((6, 1)), rate=100, fade_s=0.03).ravel()
    array([0.  , 0.25, 0.75, 0.75, 0.25, 0.  ])
    """
    n = min(round(fade_s * rate), x.shape[0] // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n) if n else np.zeros(0)
    y: NDArray[np.float64] = np.array(x, dtype=np.float64)
    y[:n] *= ramp[:, None]
    y[x.shape[0] - n :] *= ramp[::-1, None]
    return y


def fit_length(y: NDArray[np.float64], frames: int) -> NDArray[np.float64]:
    if y.shape[0] >= frames:
        return y[:frames]
    return np.concatenate([y, np.zeros((frames - y.shape[0], *y.shape[1:]))])
