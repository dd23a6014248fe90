"""Command-line options shared by several commands, each defined once.

`quantize` and `sweep` run the same chain (resampling, dither, companders), so
they take the same ``--rate``, ``--dither``, ``--seed``, ``--mu`` and ``--a``.
This module imports only click and the (numpy-free) config; it parses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from adcsim.run._config import QuantizeConfig

F = TypeVar("F", bound=Callable[..., Any])

#: The dither kinds, spelled here so that --help needs no numpy; a test checks
#: them against ``adcsim.stages._dither.DITHER_KINDS``.
DITHER_KINDS = ("none", "rpdf", "tpdf")
_DEFAULTS = QuantizeConfig()


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
                type=click.IntRange(1, 10_000_000),
                default=None,
                help="Resample to HZ before quantizing [default: input rate].",
            ),
            click.option(
                "--dither",
                type=click.Choice(DITHER_KINDS),
                default=_DEFAULTS.dither,
                show_default=True,
                help="Dither before the quantizer: rpdf +-1/2 LSB, tpdf +-1 LSB.",
            ),
            click.option(
                "--seed",
                type=click.IntRange(0),
                default=_DEFAULTS.seed,
                show_default=True,
                help="Seed of the dither noise.",
            ),
        ],
    )
