"""The converter model's settings (issue 13) and what its stages share.

Responsible for `ConverterConfig` (every option of the converter model, with
defaults that mean "an ideal converter", its validation and its report
settings), the seeding of the converter's random stages (`stage_generators`)
and `AdcFigures`, the measured figures each converter stage turns into its
entry of the report's ``adc`` section (``adc_entry``). Not responsible for
the stages themselves (``adcsim.stages._front``, ``_sampler``,
``_sigma_delta``; ``adcsim.quantizers._transfer``) nor for putting them in
the chain (``adcsim.run._adc``). Imports only the standard library.

The model, in the order of a real converter: input gain and offset error,
input-referred noise, sampling (with or without the anti-alias filter, with
aperture jitter), then a sigma-delta modulator or a quantizer with a static
transfer curve, then the container.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from adcsim.errors import AdcsimError

if TYPE_CHECKING:
    import numpy as np

    from adcsim.metrics._sinefit import SineFit

INL_SHAPES = ("bow", "s")
#: Schemes whose levels are a uniform grid with an LSB of 2 / 2**bits: the
#: options in LSB (noise, offset, gain, INL, DNL, a transfer curve) mean
#: something only for them.
LSB_SCHEMES = ("uniform", "midrise", "floor")
#: Largest RMS aperture jitter accepted, seconds (one millisecond: far past
#: any clock; the sampler refuses what its evaluation cannot follow).
MAX_JITTER_S = 1e-3
#: Largest input noise, offset and gain error, in LSB of the chosen depth, as
#: a fraction of the 2**bits LSB of full scale: beyond it the converter sees
#: mostly its own error.
MAX_LSB_FRACTION = 1.0
#: Sigma-delta bounds.
MAX_SIGMA_DELTA_ORDER = 5
MAX_OSR = 1024
MAX_MODULATOR_BITS = 16

#: Depths a static transfer curve can have (adcsim.quantizers._transfer).
TRANSFER_BITS = (2, 16)


#: Every option of the converter model as the command line spells it (without
#: the dashes: the keys of ``listen --condition``), and its field.
OPTION_FIELDS = {
    "anti-alias": "anti_alias",
    "jitter": "jitter",
    "noise-lsb": "noise_lsb",
    "offset-lsb": "offset_lsb",
    "gain-error-lsb": "gain_error_lsb",
    "inl-lsb": "inl_lsb",
    "inl-shape": "inl_shape",
    "dnl-lsb": "dnl_lsb",
    "transfer": "transfer",
    "transfer-out": "transfer_out",
    "sigma-delta": "sigma_delta",
    "osr": "osr",
    "modulator-bits": "modulator_bits",
}
_TEXT_FIELDS = ("inl_shape", "transfer", "transfer_out")
_INT_FIELDS = ("sigma_delta", "osr", "modulator_bits")


def option_value(key: str, text: str) -> tuple[str, Any]:
    """The field and value of one converter option given as text (``--condition``).

    ``anti-alias`` takes ``on`` or ``off``; ``inl-shape``, ``transfer`` and
    ``transfer-out`` text; ``sigma-delta``, ``osr`` and ``modulator-bits``
    integers; the others numbers.

    Raises
    ------
    AdcsimError
        Not a converter option, or a value of the wrong kind.

    Examples
    --------
    >>> option_value("anti-alias", "off"), option_value("jitter", "5e-9")
    (('anti_alias', False), ('jitter', 5e-09))
    """
    name = OPTION_FIELDS.get(key)
    if name is None:
        raise AdcsimError(f"{key!r} is not a converter option")
    if name == "anti_alias":
        if text not in ("on", "off"):
            raise AdcsimError(f"anti-alias={text!r} must be on or off")
        return name, text == "on"
    if name in _TEXT_FIELDS:
        return name, text
    try:
        return name, int(text) if name in _INT_FIELDS else float(text)
    except ValueError:
        kind = "an integer" if name in _INT_FIELDS else "a number"
        raise AdcsimError(f"{key}={text!r} is not {kind}") from None


def _finite(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AdcsimError(f"{name}={value!r} must be a number in [{low:g}, {high:g}]")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise AdcsimError(f"{name}={value!r} must be a number in [{low:g}, {high:g}]")
    return number


@dataclass(frozen=True)
class ConverterConfig:
    """The converter model's options; the defaults are an ideal converter.

    Attributes
    ----------
    anti_alias : bool
        ``--anti-alias on|off``: with a rate change, False samples the input's
        band-limited reconstruction at the new instants without a low-pass
        filter, so that content above the new Nyquist folds back.
    jitter : float
        ``--jitter SECONDS``: RMS white Gaussian aperture jitter, >= 0.
    noise_lsb : float
        ``--noise-lsb``: RMS of the white Gaussian input-referred noise, LSB.
    offset_lsb : float
        ``--offset-lsb``: offset at zero input, LSB.
    gain_error_lsb : float
        ``--gain-error-lsb``: change of the full-scale range, LSB (after the
        offset is corrected, the top code's centre moves by this much).
    inl_lsb, inl_shape, dnl_lsb, transfer, transfer_out
        The static transfer curve (``--inl-lsb X --inl-shape bow|s``,
        ``--dnl-lsb X`` or ``--transfer FILE``; ``--transfer-out FILE``).
    sigma_delta, osr, modulator_bits
        ``--sigma-delta ORDER --osr K [--modulator-bits B]``.

    Examples
    --------
    >>> ConverterConfig()
    ConverterConfig()
    >>> c = ConverterConfig(noise_lsb=0.5, jitter=1e-9)
    >>> c.active, c.settings()
    (True, {'jitter_s': 1e-09, 'noise_lsb': 0.5})
    >>> ConverterConfig(noise_lsb=1.0).validate(scheme="mulaw", bits=8, rate=None)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: --noise-lsb is in LSB of a uniform grid: it \
needs scheme uniform, midrise or floor, not scheme='mulaw'
    """

    anti_alias: bool = True
    jitter: float = 0.0
    noise_lsb: float = 0.0
    offset_lsb: float = 0.0
    gain_error_lsb: float = 0.0
    inl_lsb: float = 0.0
    inl_shape: str = "bow"
    dnl_lsb: float = 0.0
    transfer: str | None = None
    transfer_out: str | None = None
    sigma_delta: int | None = None
    osr: int | None = None
    modulator_bits: int | None = None

    def __repr__(self) -> str:
        """Only the options that differ from an ideal converter."""
        default = _IDEAL
        parts = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return f"ConverterConfig({', '.join(parts)})"

    @property
    def active(self) -> bool:
        """Whether any option departs from the ideal converter."""
        return bool(self.settings())

    @property
    def lsb_options(self) -> list[str]:
        """The options given in LSB that are set, as the command line names them."""
        named = (
            ("noise_lsb", "--noise-lsb"),
            ("offset_lsb", "--offset-lsb"),
            ("gain_error_lsb", "--gain-error-lsb"),
            ("inl_lsb", "--inl-lsb"),
            ("dnl_lsb", "--dnl-lsb"),
            ("transfer", "--transfer"),
        )
        return [flag for name, flag in named if getattr(self, name) not in (0.0, None)]

    def settings(self) -> dict[str, Any]:
        """The report's ``settings.converter``: only the options that are set.

        Keys carry their units (``jitter_s``); empty for an ideal converter.
        """
        out: dict[str, Any] = {}
        if not self.anti_alias:
            out["anti_alias"] = "off"
        if self.jitter:
            out["jitter_s"] = self.jitter
        for name in ("noise_lsb", "offset_lsb", "gain_error_lsb"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.inl_lsb:
            out["inl_lsb"] = self.inl_lsb
            out["inl_shape"] = self.inl_shape
        if self.dnl_lsb:
            out["dnl_lsb"] = self.dnl_lsb
        for name in ("transfer", "transfer_out", "sigma_delta", "osr"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.modulator_bits is not None:
            out["modulator_bits"] = self.modulator_bits
        return out

    def validate(self, *, scheme: str, bits: int, rate: int | None) -> ConverterConfig:
        """Check every value and their combinations; return self.

        Parameters
        ----------
        scheme : str
            The quantizer scheme: options in LSB need a uniform grid.
        bits : int
            Its depth N (the LSB is 2 / 2**N of full scale).
        rate : int or None
            The rate the converter samples at (``--rate``), None for the
            input's own.

        Raises
        ------
        AdcsimError
            The first value out of range or combination that makes no sense,
            naming the option.
        """
        if not isinstance(self.anti_alias, bool):
            raise AdcsimError(f"anti_alias={self.anti_alias!r} must be on or off")
        if not self.anti_alias and rate is None:
            raise AdcsimError(
                "--anti-alias off needs --rate R: it samples the input at R "
                "without the anti-alias filter"
            )
        _finite("jitter", self.jitter, 0.0, MAX_JITTER_S)
        top = MAX_LSB_FRACTION * 2.0**bits
        _finite("noise_lsb", self.noise_lsb, 0.0, top)
        _finite("offset_lsb", self.offset_lsb, -top, top)
        # A gain error of -2**N LSB would make the slope zero.
        _finite("gain_error_lsb", self.gain_error_lsb, -top / 2, top)
        _finite("inl_lsb", self.inl_lsb, 0.0, top)
        _finite("dnl_lsb", self.dnl_lsb, 0.0, top)
        if self.inl_shape not in INL_SHAPES:
            raise AdcsimError(
                f"inl_shape={self.inl_shape!r} is not one of: {', '.join(INL_SHAPES)}"
            )
        if self.transfer is not None and (self.inl_lsb or self.dnl_lsb):
            raise AdcsimError(
                "--transfer FILE gives the whole static curve: not with "
                "--inl-lsb or --dnl-lsb"
            )
        if self.transfer_out is not None and not (
            self.transfer or self.inl_lsb or self.dnl_lsb
        ):
            raise AdcsimError(
                "--transfer-out writes the realized static curve: it needs "
                "--inl-lsb, --dnl-lsb or --transfer"
            )
        self._check_sigma_delta()
        self._check_static(scheme=scheme, bits=bits)
        lsb_options = self.lsb_options
        if lsb_options and scheme not in LSB_SCHEMES:
            verb = "is" if len(lsb_options) == 1 else "are"
            raise AdcsimError(
                f"{', '.join(lsb_options)} {verb} in LSB of a uniform grid: it "
                f"needs scheme uniform, midrise or floor, not scheme={scheme!r}"
            )
        return self

    @property
    def static_transfer(self) -> bool:
        """Whether the quantizer is a static transfer curve (INL, DNL or a file)."""
        return bool(self.inl_lsb or self.dnl_lsb or self.transfer is not None)

    def _check_static(self, *, scheme: str, bits: int) -> None:
        if not self.static_transfer:
            return
        flag = (
            "--transfer"
            if self.transfer is not None
            else ("--inl-lsb" if self.inl_lsb else "--dnl-lsb")
        )
        if self.sigma_delta is not None:
            raise AdcsimError(
                f"{flag} sets the static curve of a Nyquist-rate quantizer: not "
                "with --sigma-delta (its output quantizer is ideal)"
            )
        if scheme != "uniform":
            raise AdcsimError(
                f"{flag} moves the transitions of the mid-tread grid: it needs "
                f"scheme uniform, not scheme={scheme!r}"
            )
        low, high = TRANSFER_BITS
        if not low <= bits <= high:
            raise AdcsimError(
                f"{flag}: a static transfer curve has {low} to {high} bits, "
                f"not --bits {bits}"
            )

    def _check_sigma_delta(self) -> None:
        order = self.sigma_delta
        if order is None:
            if self.osr is not None or self.modulator_bits is not None:
                raise AdcsimError(
                    "--osr and --modulator-bits set up the sigma-delta "
                    "modulator: they need --sigma-delta ORDER"
                )
            return
        _check_int("sigma_delta", order, 1, MAX_SIGMA_DELTA_ORDER)
        if self.osr is None:
            raise AdcsimError("--sigma-delta ORDER needs --osr K (oversampling ratio)")
        _check_int("osr", self.osr, 2, MAX_OSR)
        if self.modulator_bits is not None:
            _check_int("modulator_bits", self.modulator_bits, 1, MAX_MODULATOR_BITS)


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise AdcsimError(f"{name}={value!r} must be an integer in [{low}, {high}]")
    return value


_IDEAL = ConverterConfig()


def stage_generators(seed: int, name: str, channels: int) -> list[np.random.Generator]:
    """Independent generators of one stage, one per channel, from the run's seed.

    Each stage draws from its own `numpy.random.SeedSequence` branch, keyed
    by a CRC-32 of its name, so that adding or removing one impairment leaves
    the others' noise unchanged; the channels are spawned from it (as the
    dither's are from the bare seed). A generator drawn block by block gives
    the same numbers as in one draw, so the output does not depend on the
    block size.

    Examples
    --------
    >>> a = stage_generators(7, "noise", 2)
    >>> b = stage_generators(7, "jitter", 2)
    >>> bool(a[0].random() != b[0].random())
    True
    """
    import numpy as np

    key = zlib.crc32(name.encode())
    root = np.random.SeedSequence(seed, spawn_key=(key,))
    return [np.random.Generator(np.random.PCG64(c)) for c in root.spawn(channels)]


@dataclass(frozen=True)
class AdcFigures:
    """What a converter stage's ``adc_entry`` may use: the run's measurements.

    Attributes
    ----------
    rate : int
        The output's rate, Hz.
    bits : int
        The quantizer's depth N; ``lsb`` is 2 / 2**N.
    metrics : dict
        The report's ``metrics`` (all channels): ``snr_db``, ``mse``, ...
    ref_fits, out_fits : list of SineFit or None
        Per channel, the four-parameter sine fits of the reference and of the
        output over the tone window, None where the channel is not tonal.
    regressions : list of (float, float) or None
        Per channel, ``(offset, gain)`` of the least-squares line
        ``out = gain * ref + offset`` over the same window (any input).
    residual_powers : list of float or None
        Per channel, the mean square of what that line leaves.
    out_harmonics_db : list of dict or None
        Per tonal channel, each harmonic of the output relative to its
        fundamental, dBc, by order (`adcsim.metrics._tone.harmonic_ratios_db`).
    out_window : ndarray or None
        The output's ``(frames, channels)`` samples over that window (for
        figures a stage measures itself, such as aliased tones).
    quantization_lsb2 : float
        The error power, LSB**2, of the quantizer and dither alone, as theory
        has it for a busy signal (1/12 for a uniform quantizer without dither,
        2/12 with RPDF, 3/12 with TPDF).
    """

    rate: int
    bits: int
    metrics: dict[str, Any]
    ref_fits: list[SineFit | None]
    out_fits: list[SineFit | None]
    regressions: list[tuple[float, float] | None]
    residual_powers: list[float | None]
    quantization_lsb2: float = 1.0 / 12.0
    out_harmonics_db: list[dict[int, float] | None] = field(default_factory=list)
    out_window: Any = None

    @property
    def lsb(self) -> float:
        """One LSB of the N-bit grid, full-scale units."""
        return 2.0 / 2.0**self.bits
