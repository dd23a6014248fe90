"""The inputs of ``quantize`` and the command line each report records.

Responsible for reading ``--from-list`` (`list_paths`) and for the command
line without inputs that `adcsim.run._batch.CommandLine` completes for each
input's report (`command_without_inputs`), built from Click's parameter
sources, never from a second parse of argv. Not responsible for the options
themselves (``adcsim.cli._quantize``) or for running the inputs
(``adcsim.run._batch``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from adcsim.run._batch import CommandLine


#: Options of where and in which part inputs run, never recorded in a report.
PLACEMENT = frozenset(
    (
        "from_list",
        "jobs",
        "shard_spec",
        "summary_path",
        "scheduler",
        "scheduler_file",
        "retries",
    )
)


def command_without_inputs(ctx: click.Context) -> CommandLine:
    """The running command's options given on its command line, without inputs.

    Click tells where each value came from (`click.Context.get_parameter_source`):
    only options given on the command line are recorded, each in its long
    spelling with the value Click parsed, so a default is never written down
    as a choice and ``-qb8``, ``-q -b 8`` and ``--bits=8 --quiet`` record the
    same line. Options that say which inputs run where, not what is made of
    one (`PLACEMENT`: ``--from-list``, ``--jobs``, ``--shard``, ``--summary``,
    the cluster's), are left out: a report is byte for byte the same from a
    local, sharded or cluster run.

    Examples
    --------
    >>> from adcsim.cli._quantize import quantize
    >>> args = ["a.wav", "-qb", "8", "--out-dir=o", "b.wav", "--from-list", "l",
    ...         "-j", "2", "--shard", "1/2"]
    >>> with quantize.make_context("quantize", args) as ctx:
    ...     command_without_inputs(ctx).options
    ('--bits', '8', '--out-dir', 'o', '--quiet')
    """
    from click.core import ParameterSource

    from adcsim.run._batch import CommandLine

    options: list[str] = []
    for param in ctx.command.params:
        name = param.name
        if not isinstance(param, click.Option) or name is None or name in PLACEMENT:
            continue
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            options += _option_words(param, ctx.params[name])
    return CommandLine(tuple(ctx.command_path.split(" ")), tuple(options))


def _option_words(option: click.Option, value: Any) -> list[str]:
    """``option`` and its parsed ``value`` as words a shell gives back to Click.

    Examples
    --------
    >>> _option_words(click.Option(["--plot-window"]), (12.5, 0.02))
    ['--plot-window', '12.5:0.02']
    >>> _option_words(click.Option(["-q", "--quiet"], is_flag=True), True)
    ['--quiet']
    >>> _option_words(click.Option(["--file"], multiple=True), ("a=x", "b=y"))
    ['--file', 'a=x', '--file', 'b=y']
    """
    spelled = max(option.opts, key=len)
    if option.is_flag:
        if not value and option.secondary_opts:
            return [max(option.secondary_opts, key=len)]
        return [spelled]
    values = value if option.multiple else (value,)
    return [word for item in values for word in (spelled, _option_text(item))]


def _option_text(value: Any) -> str:
    # The one tuple-valued option, --plot-window, is parsed from START:DUR;
    # str() of a float reads back as the same float.
    if isinstance(value, tuple):
        return ":".join(str(item) for item in value)
    return str(value)


def _read_list(stream: Iterable[str]) -> list[str]:
    """Paths of a --from-list file: one per line, stripped; blanks and # skipped.

    A NUL byte names no file: the file is binary, not a list (usage error).
    """
    paths = []
    for number, line in enumerate(stream, 1):
        text = line.strip()
        if "\0" in text:
            raise click.BadParameter(
                f"line {number} holds a NUL byte: not a list of paths",
                param_hint="--from-list",
            )
        if text and not text.startswith("#"):
            paths.append(text)
    return paths


def list_paths(path: str) -> list[str]:
    """The inputs of the --from-list file ``path`` (``-``: stdin).

    Read with surrogateescape: a path is bytes on POSIX; a name that is not
    UTF-8 is still a name, and comes back as the same bytes when opened.
    """
    from pathlib import Path

    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path!r}: {(exc.strerror or str(exc)).lower()}",
            param_hint="--from-list",
        ) from None
    return _read_list(data.decode("utf-8", "surrogateescape").splitlines())
