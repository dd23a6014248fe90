"""Command-line options shared by several commands, each defined once.

`quantize` and `sweep` run the same chain (resampling, dither, companders), so
they take the same ``--rate``, ``--dither``, ``--seed``, ``--mu`` and ``--a``;
every rate option (also ``generate --rate`` and ``listen --rate``) parses
with `RATE`, which calls the library's one rate check (`adcsim._rate`) and
makes its message a usage error. This module imports only click, the
(numpy-free) config and that check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError
from adcsim.run._config import QuantizeConfig
from adcsim.stages._converter import OPTION_FIELDS

F = TypeVar("F", bound=Callable[..., Any])

#: The dither kinds, spelled here so that --help needs no numpy; a test checks
#: them against ``adcsim.stages._dither.DITHER_KINDS``.
DITHER_KINDS = ("none", "rpdf", "tpdf")
_DEFAULTS = QuantizeConfig()


if TYPE_CHECKING:  # generic from click 8.2; the project supports 8.1
    _ParamType = click.ParamType[int, Any]
    _TextParamType = click.ParamType[str, Any]
else:
    _ParamType = _TextParamType = click.ParamType


class RateType(_ParamType):
    """A rate in Hz, checked by `adcsim._rate.check_rate` (usage error, exit 2).

    Examples
    --------
    >>> RATE.convert("8000", None, None)
    8000
    >>> RATE.convert("1", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: rate=1 must be an integer number of Hz in \
[100, 10000000]
    """

    name = "HZ"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        """Parse ``value`` as an integer and check it."""
        # Text that is not an integer goes on as given: check_rate names it.
        with contextlib.suppress(ValueError):
            value = int(str(value).strip())
        try:
            return check_rate(value)
        except AdcsimError as exc:
            self.fail(str(exc), param, ctx)


#: The parser of every ``--rate`` option.
RATE = RateType()


class PathType(_TextParamType):
    """A file or directory path: not empty and without NUL bytes (exit 2).

    An empty ``--report ''`` used to reach the atomic rename and fail with a
    ``FileNotFoundError`` traceback after the audio was written; a NUL byte
    can name no file. Other checks (exists, writable) stay with the outputs.

    Examples
    --------
    >>> PATH.convert("out/a.wav", None, None)
    'out/a.wav'
    >>> PATH.convert("", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: '' is not a path: it is empty
    """

    name = "PATH"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        """Check that ``value`` can name a file."""
        text = str(value)
        if not text:
            self.fail(f"{text!r} is not a path: it is empty", param, ctx)
        if "\0" in text:
            self.fail(f"{text!r} is not a path: it holds a NUL byte", param, ctx)
        return text


#: The parser of every path option.
PATH = PathType()


def _path_option(
    name: str, help: str, metavar: str | None = "PATH"
) -> Callable[[F], F]:
    """``--NAME`` into the parameter ``NAME_path``: a path or None."""
    return click.option(
        f"--{name}", f"{name}_path", type=PATH, default=None, metavar=metavar, help=help
    )


def report_option(help: str, metavar: str | None = "PATH|-") -> Callable[[F], F]:
    """``--report`` (parameter ``report_path``): where the JSON goes."""
    return _path_option("report", help, metavar)


def plot_option(help: str, metavar: str | None = "PATH") -> Callable[[F], F]:
    """``--plot`` (parameter ``plot_path``): where the figure goes."""
    return _path_option("plot", help, metavar)


def csv_option(help: str, metavar: str = "PATH") -> Callable[[F], F]:
    """``--csv`` (parameter ``csv_path``): where the table goes."""
    return _path_option("csv", help, metavar)


def force_option(help: str = "Overwrite existing outputs.") -> Callable[[F], F]:
    """``--force``: replace existing outputs (never inputs)."""
    return click.option("--force", is_flag=True, help=help)


def seed_option(help: str, default: int = 0) -> Callable[[F], F]:
    """``--seed``: a non-negative integer seed, shown with its default."""
    return click.option(
        "--seed", type=click.IntRange(0), default=default, show_default=True, help=help
    )


#: The built-in metrics, spelled here so that --help needs no numpy; a test
#: checks them against ``adcsim.metrics._perceptual.METRICS``.
METRIC_NAMES = ("si-sdr", "segsnr", "lsd", "stoi", "estoi")


def _metric_names(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...]:
    if value is None:
        return ()
    from adcsim.metrics._perceptual import check_metrics

    try:
        return check_metrics(value)
    except AdcsimError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def metric_option(func: F) -> F:
    """``--metric NAME,...`` (parameter ``metric``): objective metrics to report."""
    return click.option(
        "--metric",
        default=None,
        metavar="NAME,...",
        callback=_metric_names,
        help="Also report these objective metrics in the report's perceptual "
        "section, each at its own rate: " + ", ".join(METRIC_NAMES) + ".",
    )(func)


def _apply(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def chain_options(func: F) -> F:
    """``--mu``, ``--a``, ``-r/--rate``, ``--dither``, ``--seed``."""
    return _apply(
        func,
        [
            click.option(
                "--mu",
                type=float,
                default=None,
                help="mu of the mulaw scheme (> 0) [default: 255].",
            ),
            click.option(
                "--a",
                "a",
                type=float,
                default=None,
                help="A of the alaw scheme (>= 1) [default: 87.6].",
            ),
            click.option(
                "-r",
                "--rate",
                type=RATE,
                default=None,
                help="Resample to HZ (100 to 10000000) before quantizing "
                "[default: input rate].",
            ),
            click.option(
                "--dither",
                type=click.Choice(DITHER_KINDS),
                default=_DEFAULTS.dither,
                show_default=True,
                help="Dither before the quantizer: rpdf +-1/2 LSB, tpdf +-1 LSB.",
            ),
            seed_option("Seed of the dither noise.", _DEFAULTS.seed),
        ],
    )


#: The converter model's options (issue 13), spelled as on the command line.
CONVERTER_OPTIONS = OPTION_FIELDS
_IDEAL = _DEFAULTS.converter


def _on_off(ctx: click.Context, param: click.Parameter, value: str) -> bool:
    return value == "on"


def converter_options(func: F) -> F:
    """The converter model's options: sampling, jitter, noise, static errors.

    Shared by ``quantize``, ``sweep`` and ``listen``; their values build a
    `adcsim.stages._converter.ConverterConfig` (`converter_config`).
    """
    lsb = "LSB of the chosen --bits"
    return _apply(
        func,
        [
            click.option(
                "--anti-alias",
                "anti_alias",
                type=click.Choice(["on", "off"]),
                default="on" if _IDEAL.anti_alias else "off",
                show_default=True,
                callback=_on_off,
                help="off: with --rate, sample the input at the new rate without "
                "the low-pass filter, so content above the new Nyquist folds "
                "back (e.g. -r 16000 --anti-alias off).",
            ),
            click.option(
                "--jitter",
                type=float,
                default=_IDEAL.jitter,
                metavar="SECONDS",
                help="RMS aperture jitter of the sampling clock, white Gaussian "
                "(e.g. 1e-9) [default: none].",
            ),
            click.option(
                "--noise-lsb",
                type=float,
                default=_IDEAL.noise_lsb,
                metavar="X",
                help=f"Input-referred white Gaussian noise, RMS in {lsb} "
                "(e.g. 0.5) [default: none].",
            ),
            click.option(
                "--offset-lsb",
                type=float,
                default=_IDEAL.offset_lsb,
                metavar="X",
                help=f"Offset error at zero input, in {lsb} (e.g. 2.5).",
            ),
            click.option(
                "--gain-error-lsb",
                type=float,
                default=_IDEAL.gain_error_lsb,
                metavar="X",
                help=f"Full-scale gain error, in {lsb}: the full-scale range "
                "grows by X LSB (e.g. -3).",
            ),
            click.option(
                "--inl-lsb",
                type=float,
                default=_IDEAL.inl_lsb,
                metavar="X",
                help="Smooth endpoint INL of peak X LSB (see --inl-shape).",
            ),
            click.option(
                "--inl-shape",
                type=click.Choice(["bow", "s"]),
                default=_IDEAL.inl_shape,
                show_default=True,
                help="Shape of --inl-lsb: bow (second order) or s (third order).",
            ),
            click.option(
                "--dnl-lsb",
                type=float,
                default=_IDEAL.dnl_lsb,
                metavar="X",
                help="Random transition-level errors of RMS X LSB (missing codes "
                "when large).",
            ),
            click.option(
                "--transfer",
                type=PATH,
                default=None,
                metavar="FILE",
                help='The static curve of a part: JSON {"bits": N, '
                '"transitions": [...]} in full-scale units.',
            ),
            click.option(
                "--transfer-out",
                type=PATH,
                default=None,
                metavar="FILE",
                help="Write the realized static curve (same JSON form).",
            ),
            click.option(
                "--sigma-delta",
                type=int,
                default=None,
                metavar="ORDER",
                help="Oversampling sigma-delta modulator of this order (with --osr).",
            ),
            click.option(
                "--osr",
                type=int,
                default=None,
                metavar="K",
                help="Oversampling ratio of --sigma-delta (e.g. 64).",
            ),
            click.option(
                "--modulator-bits",
                type=int,
                default=None,
                metavar="B",
                help="Bits of the modulator's internal quantizer [default: 1 "
                "for order <= 2, multi-bit above].",
            ),
        ],
    )


def converter_config(values: dict[str, Any]) -> Any:
    """Pop the converter options out of a command's ``values``; their config.

    Not validated here: `QuantizeConfig.validate` checks it with the scheme,
    depth and rate it serves.
    """
    from adcsim.stages._converter import ConverterConfig

    given = {field: values.pop(field) for field in OPTION_FIELDS.values()}
    return ConverterConfig(**given)


def parse_plot_window(value: str | None) -> tuple[float, float] | None:
    """``START:DUR`` in seconds as two floats (their range is checked later).

    Examples
    --------
    >>> parse_plot_window("12.5:0.02")
    (12.5, 0.02)
    """
    if value is None:
        return None
    start, _, duration = value.partition(":")
    try:
        return float(start), float(duration)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not START:DUR in seconds, such as 12.5:0.02"
        ) from None
