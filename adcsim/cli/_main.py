"""The ``adcsim`` command group: its commands, ``--debug``, ``--version``, the exit.

Responsible for the group (`main`) and the commands it holds (each defined in
its own module: ``_quantize``, ``_analysis``, ``_listen``, ``_tensors``;
``schemes`` here),
for the one BLAS thread set before numpy loads, and for `run`, the console
script, which exits without interpreter teardown. Not responsible for any
command's options or work, or for mapping errors: `AdcsimError` becomes
``Error: <message>`` and exit code 1 in one place, `adcsim.cli._boundary`
(`AdcsimCommand`, every command's class); bad option values are usage errors
(2). Imports only click, the standard library and numpy-free adcsim modules.
"""

from __future__ import annotations

import contextlib
import os
import sys

# Before numpy is imported: one BLAS thread. adcsim's vector sums are short
# and run block by block, where waking BLAS threads cost more than they give
# (measured: a default run took 5.0 s with them, 2.8 s without); batches use
# processes (--jobs). A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from adcsim._version import __version__
from adcsim.cli._boundary import DEBUG, AdcsimCommand


class AdcsimGroup(click.Group):
    """The ``adcsim`` group: its commands run in the one error boundary.

    `AdcsimCommand` (`adcsim.cli._boundary`) is every command's class, so an
    `AdcsimError` becomes one ``Error:`` line, or a traceback with ``--debug``,
    alike for every command.
    """

    command_class = AdcsimCommand


@click.group(
    cls=AdcsimGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  adcsim quantize speech.wav --bits 8
  adcsim quantize music.flac -s mulaw -b 8 -r 8000 -o phone.wav
  adcsim schemes
""",
)
@click.version_option(__version__, "-V", "--version", prog_name="adcsim")
@click.option(
    "--debug", is_flag=True, help="Show tracebacks instead of one-line errors."
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Simulate the digitization of audio: resample, dither, quantize, measure.

    Each command has its own --help with examples.
    """
    ctx.meta[DEBUG] = debug


def run() -> None:
    """The ``adcsim`` command: `main`, then exit without interpreter teardown.

    Freeing every module and object at exit took about 40 ms, a tenth of a
    short run and more in a shell loop over a corpus. By the time `main`
    returns, every file adcsim writes is complete and closed and its worker
    threads have ended; stdout and stderr are flushed here. Other exceptions
    than SystemExit, and runs under a profiler, take Python's usual way out.
    """
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:  # between Click's own handling and here
        sys.stderr.write("Aborted!\n")
        code = 1
    if (code is not None and not isinstance(code, int)) or sys.getprofile():
        raise SystemExit(code)  # a message, or a profiler's report to print
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed reader
            stream.flush()
    os._exit(code or 0)


@main.command(
    epilog="""\b
Examples:
  adcsim schemes
"""
)
def schemes() -> None:
    """List the quantizer schemes with their parameters."""
    from adcsim.quantizers._registry import SCHEMES

    for name, cls in SCHEMES.items():
        params = ", ".join(
            f"--{k.replace('_', '-')} (default {v})"
            for k, v in cls.PARAMS.items()
            if v is not None
        )
        click.echo(f"{name:12s} {cls.summary}" + (f"; {params}" if params else ""))


def _register_commands() -> None:
    """Commands defined in their own modules (each imports only click at the top)."""
    from adcsim.cli._analysis import analyze, compare, sweep
    from adcsim.cli._generate import generate
    from adcsim.cli._listen import listen, listen_results
    from adcsim.cli._merge import merge_summaries
    from adcsim.cli._quantize import quantize
    from adcsim.cli._tensors import tensors

    commands = (
        quantize,
        merge_summaries,
        analyze,
        compare,
        sweep,
        generate,
        listen,
        listen_results,
        tensors,
    )
    for command in commands:
        main.add_command(command)


_register_commands()
