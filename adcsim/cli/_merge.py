"""The ``adcsim merge-summaries`` command: shards' summaries back into one table.

Responsible for the command's arguments, reading the list and the shards'
tables (one-line errors naming the file) and writing the merged table
atomically. Not responsible for how a list is split or the checks of the
merge (``adcsim.run._shards``). Imports nothing heavy: only the standard
library and numpy-free adcsim modules.
"""

from __future__ import annotations

import sys

import click

from adcsim.cli._boundary import AdcsimCommand
from adcsim.cli._inputs import list_paths
from adcsim.cli._options import PATH, force_option
from adcsim.errors import AdcsimError

MERGE_EPILOG = """\b
Examples:
  adcsim merge-summaries all.csv sums/*.csv --from-list all.txt
  adcsim merge-summaries - s.shard-1-of-2.csv s.shard-2-of-2.csv \\
      --from-list all.txt | column -s, -t
"""


@click.command("merge-summaries", cls=AdcsimCommand, epilog=MERGE_EPILOG)
@click.argument("out", type=PATH, metavar="OUT.csv")
@click.argument("shards", nargs=-1, required=True, type=PATH, metavar="SHARD.csv...")
@click.option(
    "--from-list",
    "from_list",
    type=PATH,
    required=True,
    metavar="FILE",
    help="The input list every shard ran (as quantize --from-list reads it).",
)
@force_option("Overwrite OUT.csv if it exists (never a shard's table).")
def merge_summaries(
    out: str, shards: tuple[str, ...], from_list: str, force: bool
) -> None:
    """Join the --summary tables of a sharded quantize run into one.

    Reads the tables that `adcsim quantize --shard K/N --summary ...` wrote,
    in any order, and writes one table in the order of the list: the table
    one unsharded run writes, byte for byte. Every input of the list must
    appear exactly once with a status (ok, failed or skipped); a missing, a
    repeated or an unknown input is an error and nothing is written.

    Exit code 1 also when the merge is complete but some inputs failed
    (their rows say why), so a script can check the whole corpus at once.
    """
    from adcsim.io import _files as files
    from adcsim.run._results import SUMMARY_COLUMNS
    from adcsim.run._shards import merge_summaries as merge

    inputs = list_paths(from_list)
    files.check_output_path(out, force=force, inputs=(*shards, from_list))
    tables = []
    for path in shards:
        files.check_input_path(path)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                tables.append((path, f.read()))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise AdcsimError(f"cannot read {path!r}: {reason}") from exc
    text, counts = merge(inputs, tables, SUMMARY_COLUMNS)
    files.write_text(out, text)
    click.echo(
        f"{len(inputs)} inputs from {len(shards)} summaries: {counts['ok']} ok, "
        f"{counts['skipped']} skipped, {counts['failed']} failed",
        err=True,
    )
    if counts["failed"]:
        sys.exit(1)
