"""The command line's defaults and choices are the library's, not copies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

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


RATE_MESSAGE = "must be an integer number of Hz in [100, 10000000]"


@pytest.mark.parametrize(
    "args",
    [
        ["quantize", "{wav}", "-r", "1"],
        ["quantize", "{wav}", "--rate", "99"],
        ["quantize", "{wav}", "--rate", "10000001"],
        ["quantize", "{wav}", "--rate", "8k"],
        ["sweep", "{wav}", "-r", "1"],
        ["generate", "sine", "-o", "{out}", "--rate", "1"],
        ["generate", "sine", "-o", "{out}", "--rate", "2147483648"],
        ["listen", "{wav}", "-o", "{out}", "--rate", "8000,50"],
    ],
)
def test_every_rate_option_refuses_rates_out_of_bounds_with_one_message(
    tmp_path, monkeypatch, args
):
    monkeypatch.chdir(tmp_path)  # default outputs land here, where they are seen
    wav = tmp_path / "in.wav"
    sf.write(str(wav), np.zeros(800), 8000, subtype="PCM_16")
    out = tmp_path / "out"
    args = [a.format(wav=wav, out=out) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and RATE_MESSAGE in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_rate_bounds_pass_at_their_ends(tmp_path):
    for rate in ("100", "10000000"):
        out = tmp_path / f"{rate}.wav"
        args = ["generate", "silence", "-o", str(out), "--rate", rate]
        result = CliRunner().invoke(main, [*args, "--duration", "0.01"])
        assert result.exit_code == 0, result.stderr
        assert sf.info(str(out)).samplerate == int(rate)
