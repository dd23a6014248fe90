"""The ``adcsim generate`` command (Click): test signals written to a file.

Thin: parses options into `adcsim.analysis._generate.generate` (sine,
multitone, chirp, noise, ramp, histogram sine, silence) and writes the file;
each kind's own options are checked against the kind (a usage error, exit 2,
names the option that does not apply). Not responsible for the signals
themselves (`adcsim.analysis._generate`) or for measuring them
(``adcsim.cli._analysis``). Imports nothing heavy at start-up.
"""

from __future__ import annotations

from typing import Any

import click

from adcsim.cli._boundary import AdcsimCommand
from adcsim.cli._boundary import user_errors as _errors
from adcsim.cli._options import PATH, RATE, force_option, seed_option
from adcsim.errors import AdcsimError

GENERATE_EPILOG = """\b
Examples:
  adcsim generate sine -o tone.wav --freq 997 --level-dbfs -1 --coherent
  adcsim generate multitone -o mt.wav --freqs 100,1000,5000
  adcsim generate chirp -o chirp.flac --f0 20 --f1 20000 --method log
  adcsim generate noise -o pink.wav --color pink --level-dbfs -20 --channels 2
  adcsim generate ramp -o ramp.wav --bits 12 --subtype PCM_16
  adcsim generate histogram-sine -o hist12.wav --bits 12
  adcsim generate silence -o pad.wav --duration 2 -q
"""


_KIND_OPTIONS = {
    "sine": {"freq": "freq_hz", "level_dbfs": "level_dbfs", "coherent": "coherent"},
    "multitone": {"freqs": "freqs_hz", "level_dbfs": "level_dbfs"},
    "chirp": {
        "f0": "f0_hz",
        "f1": "f1_hz",
        "method": "method",
        "level_dbfs": "level_dbfs",
    },
    "noise": {
        "color": "color",
        "distribution": "distribution",
        "level_dbfs": "level_dbfs",
    },
    "ramp": {"bits": "bits"},
    "silence": {},
    "histogram-sine": {
        "bits": "bits",
        "freq": "freq_hz",
        "overdrive_db": "overdrive_db",
    },
}

_OPTION_NAMES = {
    "freq": "--freq",
    "level_dbfs": "--level-dbfs",
    "coherent": "--coherent",
    "freqs": "--freqs",
    "f0": "--f0",
    "f1": "--f1",
    "method": "--method",
    "color": "--color",
    "distribution": "--distribution",
    "bits": "--bits",
    "overdrive_db": "--overdrive-db",
}


def _freq_list(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is None:
        return None
    try:
        items = [float(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a comma-separated list of frequencies"
        ) from None
    return tuple(items)


@click.command("generate", cls=AdcsimCommand, epilog=GENERATE_EPILOG)
@click.argument("kind", type=click.Choice(list(_KIND_OPTIONS)), metavar="KIND")
@click.option(
    "-o",
    "--output",
    type=PATH,
    required=True,
    metavar="PATH",
    help="Output audio; the extension picks the format; - for stdout (WAV).",
)
@click.option(
    "--freq",
    type=float,
    default=None,
    help="sine, histogram-sine: frequency, Hz [1000].",
)
@click.option(
    "--level-dbfs",
    type=float,
    default=None,
    help="Peak level of sine, multitone, chirp (0 = full-scale sine) "
    "[-1]; RMS level of noise (0 = RMS 1.0) [-20].",
)
@click.option(
    "--coherent",
    is_flag=True,
    default=None,
    help="sine: move to a prime number of cycles in the record.",
)
@click.option(
    "--freqs",
    callback=_freq_list,
    default=None,
    metavar="LIST",
    help="multitone: frequencies, Hz, comma-separated [250,1000,3150].",
)
@click.option("--f0", type=float, default=None, help="chirp: start frequency, Hz [20].")
@click.option(
    "--f1",
    type=float,
    default=None,
    help="chirp: end frequency, Hz [min(20000, 0.45 rate)].",
)
@click.option(
    "--method",
    type=click.Choice(["linear", "log"]),
    default=None,
    help="chirp: frequency law [log].",
)
@click.option(
    "--color",
    type=click.Choice(["white", "pink"]),
    default=None,
    help="noise: spectrum [white].",
)
@click.option(
    "--distribution",
    type=click.Choice(["gaussian", "uniform", "laplacian"]),
    default=None,
    help="noise: amplitude distribution [gaussian].",
)
@click.option(
    "--bits",
    type=click.IntRange(1, 24),
    default=None,
    help="ramp: every code of this depth once [16]; histogram-sine: the "
    "resolution N to test (2-16, required).",
)
@click.option(
    "--overdrive-db",
    type=click.FloatRange(0, 20, min_open=True),
    default=None,
    help="histogram-sine: peak beyond full scale, dB [0.2].",
)
@click.option(
    "--rate",
    type=RATE,
    default=48000,
    show_default=True,
    help="Sample rate, Hz (100 to 10000000).",
)
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="Length, s (ramp: set by --bits).",
)
@click.option(
    "--channels",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="Channels (noise: independent).",
)
@click.option(
    "--subtype",
    default=None,
    help="PCM_16, PCM_24, FLOAT, ... [default: exact for ramp and "
    "silence, else FLOAT or the format's best].",
)
@seed_option("Seed of the noise.")
@force_option("Overwrite an existing output.")
@click.option("-q", "--quiet", is_flag=True, help="No 'wrote ...' line on stderr.")
def generate(
    kind: str,
    output: str,
    rate: int,
    duration: float,
    channels: int,
    subtype: str | None,
    seed: int,
    force: bool,
    quiet: bool,
    **given: Any,
) -> None:
    """Write a test signal: sine, multitone, chirp, noise, ramp, silence, ...

    KIND histogram-sine is the stimulus of `analyze --histogram`: a coherent
    sine overdriven by --overdrive-db, as long as the test needs for --bits N
    (0.1 LSB DNL resolution at 95 %, plus 10 %; --duration is ignored).
    Options that do not belong to KIND are usage errors. Samples beyond full
    scale are clipped by the file's format (PCM), never here.
    """
    allowed = _KIND_OPTIONS[kind]
    extra = [
        name
        for name, value in given.items()
        if value is not None and name not in allowed
    ]
    if extra:
        raise click.UsageError(f"{_OPTION_NAMES[extra[0]]} does not apply to {kind}")
    options = {
        allowed[name]: value
        for name, value in given.items()
        if value is not None and name in allowed
    }
    with _errors():
        from adcsim.analysis._generate import generate as make_signal
        from adcsim.io import _files as files
        from adcsim.io._containers import choose_subtype, format_for_path
        from adcsim.io._writer import write as write_audio

        files.check_output_path(output, force=force)
        fmt = format_for_path(output)
        try:
            data = make_signal(
                kind,
                rate=rate,
                duration_s=duration,
                channels=channels,
                seed=seed,
                **options,
            )
        except AdcsimError as exc:
            raise click.UsageError(str(exc)) from None
        if subtype is None:
            grid = options.get("bits", 16) if kind == "ramp" else None
            subtype = choose_subtype(fmt, 1 if kind == "silence" else grid)
        write_audio(output, data, rate, subtype=subtype, force=force)
        if output != "-" and not quiet:
            click.echo(
                f"wrote {output}: {kind}, {data.shape[0]} frames x "
                f"{data.shape[1]} channels at {rate} Hz, {subtype}",
                err=True,
            )


__all__ = ["generate"]
