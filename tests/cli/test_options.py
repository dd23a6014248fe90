"""The command line's defaults and choices are the library's, not copies."""

from __future__ import annotations

import dataclasses

from adcsim.cli._main import main
from adcsim.cli._options import DITHER_KINDS
from adcsim.run._config import QuantizeConfig
from adcsim.stages._dither import DITHER_KINDS as LIBRARY_DITHER_KINDS


def test_dither_choices_are_the_library_kinds():
    assert DITHER_KINDS == LIBRARY_DITHER_KINDS


def test_quantize_defaults_are_the_config_defaults():
    params = {p.name: p.default for p in main.commands["quantize"].params}
    config = QuantizeConfig()
    for field in dataclasses.fields(QuantizeConfig):
        if field.name in params:
            assert params[field.name] == getattr(config, field.name), field.name
    assert {"bits", "scheme", "dither", "seed", "noise_shaping", "blocksize"} <= set(
        params
    )


def test_sweep_and_quantize_share_their_chain_options():
    def options(command: str) -> dict[str, tuple[object, object]]:
        return {
            p.name: (p.default, getattr(p, "help", None))
            for p in main.commands[command].params
            if p.name in ("mu", "a", "rate", "dither", "seed")
        }

    assert options("sweep") == options("quantize")
    assert len(options("sweep")) == 5
