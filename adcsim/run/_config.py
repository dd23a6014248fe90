"""Frozen configuration of a quantize run, and its validation.

The CLI builds a `QuantizeConfig` from its options (its defaults are read from
here) and the pipeline runs it. Validation happens once, in `validate`, and
raises `AdcsimError`; nothing here touches files or signals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from adcsim.errors import AdcsimError
from adcsim.stages._converter import ConverterConfig

LLOYDMAX = "lloydmax"
#: Longest span the figure's waveform panels show (seconds).
PLOT_WINDOW_MAX_S = 1.0
#: Latest start of a time span an option names (--plot-window, listen
#: --excerpt): 1e7 s, 116 days; at 10 MHz still far from the int64 frame range
#: (1e308 overflowed the conversion to a frame number).
MAX_START_S = 1e7


def check_plot_window(window: tuple[float, float]) -> None:
    """Refuse a figure window (start, duration) in seconds out of its bounds.

    The start in [0, `MAX_START_S`], the duration in (0, `PLOT_WINDOW_MAX_S`]
    (``quantize`` and ``compare`` share it).

    Examples
    --------
    >>> check_plot_window((12.5, 0.02))
    >>> check_plot_window((1e308, 1.0))
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: plot window start=1e+308 must be in [0, 1e+07] s
    """
    start, duration = window
    if not 0 <= start <= MAX_START_S:
        raise AdcsimError(
            f"plot window start={start:g} must be in [0, {MAX_START_S:g}] s"
        )
    if not 0 < duration <= PLOT_WINDOW_MAX_S:
        raise AdcsimError(
            f"plot window duration={duration} must be > 0 and at most "
            f"{PLOT_WINDOW_MAX_S:g} s"
        )


@dataclass(frozen=True)
class QuantizeConfig:
    """What to do to each input.

    Attributes
    ----------
    bits : int
        Bit depth N of the quantizer.
    scheme : str
        Registry key of the quantizer (``uniform``, ``mulaw``, ...).
    rate : int or None
        Resample to this rate (Hz) before quantizing; None keeps the input rate.
    dither : str
        ``none``, ``rpdf`` or ``tpdf``.
    seed : int
        Seed of every random generator of the run.
    noise_shaping : str
        ``none``, ``first-order``, a published filter, or ``weighted``
        (see ``adcsim.stages._shaping``); uniform schemes only.
    train : str or None
        ``lloydmax``: design the codebook on this file instead of the input.
    codebook : str or None
        ``lloydmax``: JSON codebook to load if it exists (and no ``train``),
        else where the design is saved.
    params : dict
        The scheme's own parameters (``mu``, ``a``), only those it takes.
    subtype : str or None
        Output container; None picks the smallest exact one.
    error_gain_db : float
        Gain applied to the error signal written by ``--error-out``.
    blocksize : int
        Frames per block.
    plot_window : (float, float) or None
        (start, duration) in seconds of the quantized stream that the
        figure's waveform panels show; None shows 10 ms around the loudest
        point of the loudest second.
    converter : ConverterConfig
        The converter model's impairments (issue 13); the default is an
        ideal converter, which leaves the chain and the report as they are.
    metrics : tuple of str
        Objective metrics for the report's ``perceptual`` section (keys of
        ``adcsim.metrics._perceptual.METRICS``); empty for none.

    Examples
    --------
    >>> QuantizeConfig(bits=8, scheme="mulaw", params={"mu": 255.0}).validate()
    QuantizeConfig(bits=8, scheme='mulaw', rate=None, dither='none', seed=0, \
noise_shaping='none', train=None, codebook=None, params={'mu': 255.0}, \
subtype=None, error_gain_db=0.0, blocksize=65536, plot_window=None, \
converter=ConverterConfig(), metrics=())
    """

    bits: int = 8
    scheme: str = "uniform"
    rate: int | None = None
    dither: str = "none"
    seed: int = 0
    noise_shaping: str = "none"
    train: str | None = None
    codebook: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    subtype: str | None = None
    error_gain_db: float = 0.0
    blocksize: int = 65536
    plot_window: tuple[float, float] | None = None
    converter: ConverterConfig = field(default_factory=ConverterConfig)
    metrics: tuple[str, ...] = ()

    def validate(self) -> QuantizeConfig:
        """Check every value (building the quantizer once); return self.

        Raises
        ------
        AdcsimError
            The first value out of range, named ``name=value``.
        """
        from adcsim._rate import check_rate
        from adcsim.quantizers._registry import make_quantizer
        from adcsim.stages._dither import check_dither, check_seed

        if self.scheme == LLOYDMAX:
            from adcsim.quantizers._base import check_bits

            # The quantizer needs a designed codebook: built per input.
            check_bits(self.bits, high=16)
            quantizer_step = None
        else:
            if self.train is not None or self.codebook is not None:
                raise AdcsimError(
                    f"--train and --codebook apply to scheme={LLOYDMAX!r} "
                    f"only, not scheme={self.scheme!r}"
                )
            quantizer_step = make_quantizer(
                self.scheme, bits=self.bits, **self.params
            ).step
        if self.noise_shaping != "none":
            from adcsim.stages._shaping_filters import SHAPING_NAMES

            if self.noise_shaping not in SHAPING_NAMES:
                allowed = ", ".join(SHAPING_NAMES)
                raise AdcsimError(
                    f"noise_shaping={self.noise_shaping!r} is not one of: {allowed}"
                )
            if quantizer_step is None:
                raise AdcsimError(
                    f"noise shaping needs a uniform scheme, not scheme={self.scheme!r}"
                )
        if self.rate is not None:
            check_rate(self.rate)
        check_dither(self.dither)
        check_seed(self.seed)
        self.converter.validate(scheme=self.scheme, bits=self.bits, rate=self.rate)
        if self.converter.static_transfer and self.noise_shaping != "none":
            raise AdcsimError(
                "a static transfer curve (--inl-lsb, --dnl-lsb, --transfer) is "
                "the quantizer: not with --noise-shaping, whose loop has its own"
            )
        if not -200.0 <= self.error_gain_db <= 200.0:
            raise AdcsimError(
                f"error_gain_db={self.error_gain_db} must be in [-200, 200]"
            )
        if self.blocksize < 1:
            raise AdcsimError(f"blocksize={self.blocksize} must be >= 1")
        if self.plot_window is not None:
            check_plot_window(self.plot_window)
        if self.metrics:
            from adcsim.metrics._perceptual import check_metrics

            object.__setattr__(self, "metrics", check_metrics(list(self.metrics)))
        return self

    def settings(self) -> dict[str, Any]:
        """The report's ``settings``: bits, scheme, rate, dither, seed, params.

        ``dither_domain`` says where the dither is added: ``linear`` (to the
        signal itself, before any compressor, sized for the uniform N-bit
        LSB), or None without dither. ``converter`` holds the converter
        model's options that are set, and is absent for an ideal converter.
        """
        d = asdict(self)
        keys = ("bits", "scheme", "rate", "dither", "seed", "noise_shaping")
        out = {k: d[k] for k in keys}
        out["dither_domain"] = None if self.dither == "none" else "linear"
        out.update(self.params)
        if self.converter.active:
            out["converter"] = self.converter.settings()
        return out

    def check_plot_window(self, duration_s: float, path: str) -> None:
        """Refuse a ``--plot-window`` that starts at or after ``duration_s``.

        Raises
        ------
        AdcsimError
            The window starts after the end of the input ``path``.

        Examples
        --------
        >>> QuantizeConfig(plot_window=(2.0, 0.01)).check_plot_window(1.5, "a.wav")
        Traceback (most recent call last):
        ...
        adcsim.errors.AdcsimError: --plot-window starts at 2 s, after the end of \
'a.wav' (1.5 s long)
        """
        if self.plot_window is not None and self.plot_window[0] >= duration_s:
            raise AdcsimError(
                f"--plot-window starts at {self.plot_window[0]:g} s, after the end "
                f"of {path!r} ({duration_s:.4g} s long)"
            )

    def notes(self, *, uniform: bool, rate: int, frames: int) -> list[str]:
        """The report's notes about these settings for a stream of ``frames``.

        ``uniform``: the quantizer's levels are evenly spaced (it has a step).

        Examples
        --------
        >>> QuantizeConfig(scheme="mulaw", dither="tpdf").notes(
        ...     uniform=False, rate=8000, frames=8000)[0][:40]
        'dither: tpdf of the uniform 8-bit LSB wa'
        """
        notes = []
        if self.dither != "none" and not uniform:
            notes.append(
                f"dither: {self.dither} of the uniform {self.bits}-bit LSB was "
                f"added to the linear signal, not in {self.scheme}'s own domain: "
                "it is much larger than the local step near zero and much "
                "smaller near full scale, so it lowers the SNR instead of only "
                "decorrelating the error (settings.dither_domain)"
            )
        if self.plot_window is not None and self.plot_window[0] * rate >= frames:
            notes.append(
                f"--plot-window starts at {self.plot_window[0]:g} s, after the "
                f"end of the stream ({frames / rate:.4g} s): the figure's "
                "waveform panels are empty"
            )
        return notes
