"""Where one input's results go: output paths and their default names.

Responsible for `OutputPaths`, `plan_outputs` and `default_audio_name`. Not
responsible for checking or writing the files (`adcsim.io._files`,
`adcsim.run._process`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from adcsim.io import _files as files
from adcsim.run._config import QuantizeConfig

STDIO = files.STDIO


@dataclass(frozen=True)
class OutputPaths:
    """Where one input's results go (None: not written; ``-``: stdout)."""

    audio: str
    report: str | None = None
    plot: str | None = None
    error: str | None = None

    def files(self) -> list[str]:
        """The output paths that are files (not stdout, not skipped)."""
        return [
            p
            for p in (self.audio, self.report, self.plot, self.error)
            if p is not None and p != STDIO
        ]


def default_audio_name(input_path: str, config: QuantizeConfig) -> str:
    """``<input stem>.<scheme>-<N>bit.wav``.

    Examples
    --------
    >>> default_audio_name("takes/voice.flac", QuantizeConfig(bits=8))
    'voice.uniform-8bit.wav'
    """
    stem = "stdin" if input_path == STDIO else Path(input_path).stem
    return f"{stem}.{config.scheme}-{config.bits}bit.wav"


def plan_outputs(
    input_path: str,
    config: QuantizeConfig,
    *,
    output: str | None = None,
    out_dir: str = ".",
    report: str | None = None,
    plot: str | None = None,
    no_plot: bool = False,
    no_report: bool = False,
    error_out: str | None = None,
) -> OutputPaths:
    """Resolve the default output names of one input.

    Report and plot default to the audio path with ``.json`` and ``.png``,
    except when the audio goes to stdout, a FIFO or a device (``/dev/null``):
    then they are written only where asked (never ``/dev/null.png``).
    """
    audio = (
        output
        if output is not None
        else os.path.normpath(
            os.path.join(out_dir, default_audio_name(input_path, config))
        )
    )
    base = None if files.is_stream(audio) else os.path.splitext(audio)[0]
    report_path = (
        report
        if report is not None
        else (None if base is None or no_report else base + ".json")
    )
    plot_path = (
        plot
        if plot is not None
        else (None if base is None or no_plot else base + ".png")
    )
    if no_plot and plot is None:
        plot_path = None
    return OutputPaths(audio, report_path, plot_path, error_out)
