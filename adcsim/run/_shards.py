"""Shards of a batch: the K-th of N parts of an input list, and merging their tables.

Responsible for `Shard` (which part of a list one process of a SLURM array
or a Kubernetes indexed job takes: by position in the list, never by a hash
of the name, so every shard agrees on the split without talking to the
others), reading it from ``K/N`` (`parse_shard`) or from the variables of
the job scheduler (`shard_from_environment`, given the environment as a
mapping: the library reads none itself), naming each shard's ``--summary``
(`shard_summary_path`) and joining the shards' summaries back into the one
table an unsharded run writes (`merge_summaries`), verifying that every
input of the list appears exactly once with a status. Not responsible for
checking the whole list before a shard starts (``adcsim.run._batch``) or for
the command line (``adcsim.cli``).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adcsim.errors import AdcsimError

#: The statuses a summary row may hold (`adcsim.run._results.BatchItem.status`).
STATUSES = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class Shard:
    """The ``number``-th of ``count`` contiguous parts of an input list.

    ``number`` counts from 1 (``--shard 1/4`` is the first part). Part k of a
    list of L inputs holds positions ``[(k-1)*L//N, k*L//N)``: contiguous, so
    the shards' summaries joined in shard order are the list's order, and
    sizes differ by at most one.

    Examples
    --------
    >>> [Shard(k, 3).select(list("abcdefg")) for k in (1, 2, 3)]
    [['a', 'b'], ['c', 'd'], ['e', 'f', 'g']]
    >>> Shard(2, 3).label
    '2-of-3'
    """

    number: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.number <= self.count:
            raise AdcsimError(
                f"shard {self.number}/{self.count}: K/N needs 1 <= K <= N"
            )

    def bounds(self, total: int) -> tuple[int, int]:
        """The first position and the one past the last of this part of ``total``."""
        start = (self.number - 1) * total // self.count
        return start, self.number * total // self.count

    def select(self, items: Sequence[str]) -> list[str]:
        """The part of ``items`` this shard takes."""
        start, stop = self.bounds(len(items))
        return list(items[start:stop])

    @property
    def label(self) -> str:
        """``K-of-N``, K zero-padded to N's width so file names sort in order."""
        width = len(str(self.count))
        return f"{self.number:0{width}d}-of-{self.count}"


def parse_shard(text: str) -> Shard:
    """A `Shard` from ``K/N`` (1 <= K <= N).

    Raises
    ------
    AdcsimError
        Not two integers ``K/N`` with 1 <= K <= N.

    Examples
    --------
    >>> parse_shard("3/8")
    Shard(number=3, count=8)
    >>> parse_shard("0/8")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: shard 0/8: K/N needs 1 <= K <= N
    """
    number, slash, count = text.partition("/")
    if not slash or not number.strip().isdigit() or not count.strip().isdigit():
        raise AdcsimError(f"shard={text!r} must be K/N (1 <= K <= N), auto or auto/N")
    return Shard(int(number), int(count))


#: The variables of a SLURM job array (sbatch(1), "OUTPUT ENVIRONMENT VARIABLES").
SLURM_ID, SLURM_COUNT = "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"
SLURM_MIN, SLURM_STEP = "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP"
#: The index of a Kubernetes Indexed Job's pod (0 to completions - 1).
K8S_INDEX = "JOB_COMPLETION_INDEX"


def _integer(env: Mapping[str, str], name: str) -> int:
    value = env[name].strip()
    if not value.isdigit():
        raise AdcsimError(f"--shard auto: {name}={env[name]!r} is not an integer")
    return int(value)


def shard_from_environment(
    env: Mapping[str, str], count: int | None = None
) -> tuple[Shard, str]:
    """The shard a job scheduler gave this process, and the variables it read.

    ``--shard auto`` reads a SLURM array task's ``SLURM_ARRAY_TASK_ID`` minus
    ``SLURM_ARRAY_TASK_MIN`` (divided by ``SLURM_ARRAY_TASK_STEP`` when it is
    set), of ``SLURM_ARRAY_TASK_COUNT`` tasks. ``--shard auto/N`` (``count``)
    reads a Kubernetes Indexed Job's ``JOB_COMPLETION_INDEX`` (0 to N - 1),
    or a SLURM task's index with the count N given.

    Parameters
    ----------
    env : mapping of str to str
        The environment (the CLI passes ``os.environ``).
    count : int or None
        N of ``auto/N``; None for ``auto``.

    Returns
    -------
    tuple of (Shard, str)
        The shard, and ``NAME=value`` of every variable read (for stderr).

    Raises
    ------
    AdcsimError
        The variables are missing, not integers, or out of range.

    Examples
    --------
    >>> env = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1",
    ...        "SLURM_ARRAY_TASK_COUNT": "8"}
    >>> shard_from_environment(env)
    (Shard(number=5, count=8), 'SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=1, \
SLURM_ARRAY_TASK_COUNT=8')
    >>> shard_from_environment({"JOB_COMPLETION_INDEX": "0"}, 4)[0]
    Shard(number=1, count=4)
    """
    used: list[str] = []

    def read(name: str) -> int:
        used.append(f"{name}={env[name]}")
        return _integer(env, name)

    if count is not None and K8S_INDEX in env:
        index = read(K8S_INDEX)
    elif SLURM_ID in env:
        index = read(SLURM_ID) - (read(SLURM_MIN) if SLURM_MIN in env else 0)
        step = read(SLURM_STEP) if SLURM_STEP in env else 1
        if step < 1 or index % step:
            raise AdcsimError(
                f"--shard auto: task {env[SLURM_ID]} is not on the array's step "
                f"({', '.join(used)}); give --shard K/N"
            )
        index //= step
        if count is None:
            if SLURM_COUNT not in env:
                raise AdcsimError(
                    f"--shard auto: {SLURM_COUNT} is not set; give --shard auto/N"
                )
            count = read(SLURM_COUNT)
        elif SLURM_COUNT in env and _integer(env, SLURM_COUNT) != count:
            raise AdcsimError(
                f"--shard auto/{count}: {SLURM_COUNT}={env[SLURM_COUNT]} says otherwise"
            )
    elif K8S_INDEX in env:
        raise AdcsimError(
            f"--shard auto: {K8S_INDEX} gives no count; give --shard auto/N "
            "(N: the job's completions)"
        )
    else:
        raise AdcsimError(
            f"--shard auto: neither {SLURM_ID} (SLURM array) nor {K8S_INDEX} "
            "(Kubernetes indexed job) is set; give --shard K/N"
        )
    if not 0 <= index < count:
        raise AdcsimError(
            f"--shard auto: index {index} is outside 0..{count - 1} ({', '.join(used)})"
        )
    return Shard(index + 1, count), ", ".join(used)


def shard_summary_path(path: str, shard: Shard) -> str:
    """Where a shard writes ``--summary path``: ``{shard}`` replaced, or a suffix.

    Examples
    --------
    >>> shard_summary_path("out/s.csv", Shard(3, 16))
    'out/s.shard-03-of-16.csv'
    >>> shard_summary_path("out/{shard}/s.csv", Shard(3, 16))
    'out/03-of-16/s.csv'
    """
    if "{shard}" in path:
        return path.replace("{shard}", shard.label)
    if path == "-":
        return path
    stem, ext = os.path.splitext(path)
    return f"{stem}.shard-{shard.label}{ext}"


def merge_summaries(
    inputs: Sequence[str], tables: Sequence[tuple[str, str]], columns: Sequence[str]
) -> tuple[str, dict[str, int]]:
    r"""Join shards' summary tables into the one table of the whole list.

    Parameters
    ----------
    inputs : sequence of str
        The whole input list, in order (what every shard was given).
    tables : sequence of (name, CSV text)
        Each shard's ``--summary`` (any order), named for error messages.
    columns : sequence of str
        The summary's columns (`adcsim.run._results.SUMMARY_COLUMNS`).

    Returns
    -------
    tuple of (str, dict)
        The merged CSV, its rows in list order (byte for byte the table of
        one unsharded run), and how many inputs hold each status.

    Raises
    ------
    AdcsimError
        A table that is no adcsim summary, a row without a known status, an
        input not in the list, an input in two rows, or one in none.

    Examples
    --------
    >>> head = "input,status\n"
    >>> text, counts = merge_summaries(
    ...     ["a", "b", "c"],
    ...     [("2.csv", head + "c,failed\n"), ("1.csv", head + "a,ok\nb,ok\n")],
    ...     ["input", "status"],
    ... )
    >>> print(text, end=""); counts
    input,status
    a,ok
    b,ok
    c,failed
    {'ok': 2, 'failed': 1, 'skipped': 0}
    """
    position: dict[str, int] = {}
    for index, path in enumerate(inputs):
        if path in position:
            raise AdcsimError(f"the list names input {path!r} twice")
        position[path] = index
    rows: dict[int, tuple[list[str], str]] = {}
    status_at = list(columns).index("status")
    for name, text in tables:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header != list(columns):
            raise AdcsimError(f"{name!r} is not an adcsim quantize --summary table")
        for line, row in enumerate(reader, 2):
            if len(row) != len(columns):
                raise AdcsimError(
                    f"{name!r} line {line}: {len(row)} cells, not {len(columns)}"
                )
            source, status = row[0], row[status_at]
            if status not in STATUSES:
                raise AdcsimError(
                    f"{name!r} line {line}: input {source!r} has status={status!r} "
                    f"(allowed: {', '.join(STATUSES)})"
                )
            if source not in position:
                raise AdcsimError(
                    f"{name!r} line {line}: input {source!r} is not in the list"
                )
            index = position[source]
            if index in rows:
                raise AdcsimError(
                    f"input {source!r} appears twice: in {rows[index][1]!r} "
                    f"and {name!r}"
                )
            rows[index] = (row, name)
    missing = [path for path, index in position.items() if index not in rows]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise AdcsimError(
            f"input {missing[0]!r}{more} of the list appears in no summary"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    counts = dict.fromkeys(STATUSES, 0)
    for index in range(len(inputs)):
        row = rows[index][0]
        counts[row[status_at]] += 1
        writer.writerow(row)
    return buffer.getvalue(), counts
