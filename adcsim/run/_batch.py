"""Batches: many inputs through `process_file`, failures recorded, order kept.

Responsible for running a list of inputs with their planned outputs: checking
the whole batch before any work (the same input named twice, two inputs
writing one file, an output landing on an input), running each input (the
job: `process_file`, recording an `AdcsimError` as a failed item and leaving
nothing behind), in this process or on the worker processes of
`adcsim.run._pool`, skipping inputs that are up to date (`up_to_date`), the
``--mirror`` tree (`mirror_dir`) and the per-input command line of each
report (`CommandLine`). Not responsible for processing one file
(``adcsim.run._process``), for the worker processes themselves
(``adcsim.run._pool``), for the items, their order and the summary table
(``adcsim.run._results``), for printing or for signal handlers of the command
line (``adcsim.cli``).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.run._config import LLOYDMAX, QuantizeConfig
from adcsim.run._outputs import STDIO, OutputPaths
from adcsim.run._pool import Pool, remove_traces, signals_held, snapshot
from adcsim.run._process import Progress, process_file
from adcsim.run._provenance import sha256_file
from adcsim.run._report import Report
from adcsim.run._results import BatchInterrupted, BatchItem, BatchResult, Ordered
from adcsim.run._shards import Shard


@dataclass(frozen=True)
class CommandLine:
    """A batch's command without its inputs; `for_input` names one of them.

    Each report records the command that makes its own outputs. Naming the
    whole batch's inputs in every report made the reports of a batch grow
    with the square of its size: 1000 inputs from a shell glob put 65 kB of
    command line in each report.

    Examples
    --------
    >>> command = CommandLine(("adcsim", "quantize"), ("-b", "8"))
    >>> command.for_input("my take.wav")
    "adcsim quantize 'my take.wav' -b 8"
    >>> command.for_input("-take.wav")
    'adcsim quantize -b 8 -- -take.wav'
    """

    program: tuple[str, ...]
    options: tuple[str, ...]

    def for_input(self, path: str) -> str:
        """The command line with ``path`` as its only input."""
        if path.startswith("-") and path != "-":  # not an option
            return shlex.join([*self.program, *self.options, "--", path])
        return shlex.join([*self.program, path, *self.options])


def run_batch(
    inputs: Sequence[str],
    config: QuantizeConfig,
    plan: Callable[[str], OutputPaths],
    *,
    force: bool = False,
    command: CommandLine | None = None,
    on_item: Callable[[BatchItem], None] | None = None,
    on_done: Callable[[BatchItem], None] | None = None,
    measure: bool = True,
    jobs: int = 1,
    skip_existing: bool = False,
    make_dirs: bool = False,
    reports: bool = True,
    keep_reports: bool | Literal["rows"] = True,
    debug: bool = False,
    progress: Progress | None = None,
    shard: Shard | None = None,
) -> BatchResult:
    """Process every input; a failing input is recorded and the others go on.

    Parameters
    ----------
    inputs : sequence of str
        Input paths (``-``: stdin, read in this process).
    config : QuantizeConfig
        Validated settings shared by every input.
    plan : callable
        Maps an input path to its `OutputPaths`; called for every input
        before any work (an `AdcsimError` there stops the batch at once).
    force : bool
        Overwrite existing outputs (never an input).
    command : CommandLine or None
        Recorded in each report's provenance, naming that report's input.
    on_item : callable, optional
        Called with each `BatchItem` in input order, as soon as it and all
        inputs before it are done.
    on_done : callable, optional
        Called with each `BatchItem` as soon as it is done (any order; for
        progress displays).
    measure : bool
        Compute the error metrics (see `process_file`).
    jobs : int >= 0
        Worker processes; 1 runs in this process, 0 uses every available
        core. Never more workers than inputs.
    skip_existing : bool
        Leave an input untouched when `up_to_date` finds its outputs.
    make_dirs : bool
        Create missing parent directories of each input's outputs just before
        it runs (``--mirror``).
    progress : callable, optional
        For a one-input batch: told how far the input has been read (see
        `process_file`), for a progress bar.
    shard : Shard or None
        Run only this part of ``inputs`` (by position), after checking the
        whole list: every shard refuses the same bad list.
    reports : bool
        Keep each input's `Report` in its item. False drops them once their
        files are written, for callers that read none: over a corpus they
        cost memory and, from worker processes, pickling (a twentieth of a
        batch of short files).
    keep_reports : bool or "rows"
        Keep the reports in the returned items once ``on_item`` has seen them.
        False keeps the caller's memory flat over a corpus: a process that
        prints each report and forgets it grew from 36 to 59 MB over 3000
        files (221 MB over 20000) holding them all. ``"rows"`` keeps only
        each item's `summary_row` (``--summary``).
    debug : bool
        Raise an input's `AdcsimError` (once its traces are removed) instead
        of recording it and going on: the CLI's ``--debug``, for a traceback.
        Inputs run in worker processes still send their errors as messages.

    Returns
    -------
    BatchResult
        One item per input (of the shard), in input order.

    Raises
    ------
    AdcsimError
        Before any work: ``jobs`` < 0, an input named twice (also through a
        link or ``..``), two inputs writing the same file, or an output that is
        one of the inputs; a ``shard`` of a Lloyd-Max run whose ``codebook``
        does not exist yet (each shard would design its own).
    BatchInterrupted
        A `KeyboardInterrupt` arrived; the batch was stopped and cleaned up.

    Notes
    -----
    An input that fails (or is interrupted, or whose worker dies) leaves
    nothing: its temporary files and any output it created or replaced are
    removed. Outputs of finished inputs stay.
    """
    if jobs < 0:
        raise AdcsimError(f"jobs={jobs} must be >= 0 (0: all cores)")
    plans = [plan(p) for p in inputs]
    check_batch(inputs, plans)
    if shard is not None:
        if config.scheme == LLOYDMAX and not (
            config.codebook is not None and os.path.exists(config.codebook)
        ):
            raise AdcsimError(
                "a sharded lloydmax run needs a shared codebook that exists: "
                "design it first (one unsharded run with --codebook PATH), then "
                "give every shard --codebook PATH"
            )
        start, stop = shard.bounds(len(inputs))
        inputs, plans = inputs[start:stop], plans[start:stop]
    job = _Job(
        config,
        force,
        command,
        measure,
        skip_existing,
        make_dirs,
        keep_reports=reports,
        debug=debug,
        progress=progress if len(inputs) == 1 else None,
    )
    out = Ordered(len(inputs), on_item, on_done, keep_reports=keep_reports)
    workers = min(available_cores() if jobs == 0 else jobs, len(inputs))
    tasks = list(enumerate(zip(inputs, plans)))
    try:
        if workers <= 1:
            for index, (path, paths) in tasks:
                out.put(index, job.run(path, paths))
        else:
            if _designs_shared_codebook(config) and tasks:
                # The first input designs and saves the codebook the others
                # load, as in a serial run.
                index, (path, paths) = tasks.pop(0)
                out.put(index, job.run(path, paths))
            figures = [p.plot for _, (_, p) in tasks if p.plot is not None]
            if figures:
                # Forked workers inherit the renderer instead of each importing it.
                from adcsim.figures._quantize import preload

                preload(figures[0])
            Pool(job, workers, out).run(tasks)
    except KeyboardInterrupt as exc:
        raise BatchInterrupted(out.finished(), len(inputs)) from exc
    return out.result


def available_cores() -> int:
    """CPU cores this process may run on (``--jobs 0``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _designs_shared_codebook(config: QuantizeConfig) -> bool:
    return (
        config.scheme == LLOYDMAX
        and config.codebook is not None
        and config.train is None
        and not os.path.exists(config.codebook)
    )


# --- checks before any work ---------------------------------------------------


def _file_key(path: str, real: str | None = None) -> tuple[Any, ...]:
    """Identity of a path: device and inode when it exists, else its real path.

    ``real`` is the real path when the caller knows it already.
    """
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path) if real is None else real)
    return ("inode", st.st_dev, st.st_ino)


class _RealPaths:
    """``os.path.realpath``, resolving each directory once.

    A batch's outputs share a few directories; resolving every component of
    every path again took a third of the checks of 1000 inputs.
    """

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        folder, name = os.path.split(path)  # (not normalized: "link/.." is real)
        real_folder = self._folders.get(folder)
        if real_folder is None:
            real_folder = self._folders[folder] = os.path.realpath(folder or ".")
        joined = os.path.join(real_folder, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined


def check_batch(inputs: Sequence[str], plans: Sequence[OutputPaths]) -> None:
    """Refuse a batch that would lose data, before any work starts.

    Raises
    ------
    AdcsimError
        The same input named twice (also through a link or ``..``), two
        inputs whose outputs are the same file, or an output that is an input.
    """
    named: dict[tuple[Any, ...], str] = {}
    for source in inputs:
        if source == STDIO:
            continue
        key = _file_key(source)
        if key in named:
            raise AdcsimError(
                f"input {source!r} is named twice (also as {named[key]!r})"
            )
        named[key] = source
    files.check_std_streams(
        tuple(inputs),
        tuple(out for paths in plans for out in paths.files()),
        writes_stdout=any(STDIO in (p.audio, p.report) for p in plans),
    )
    seen: dict[str, str] = {}
    real_path = _RealPaths()
    for source, paths in zip(inputs, plans):
        for out in paths.files():
            real = real_path(out)
            if real in seen and seen[real] != source:
                raise AdcsimError(
                    f"inputs {seen[real]!r} and {source!r} would both write {out!r}"
                )
            seen[real] = source
            other = named.get(_file_key(out, real))
            if other is not None:
                raise AdcsimError(
                    f"refusing to write {out!r}: it is the input {other!r}"
                )


def mirror_dir(input_path: str, *, root: str, out_dir: str) -> str:
    """The directory below ``out_dir`` that mirrors ``input_path``'s below ``root``.

    Paths are compared after making them absolute and normalizing ``..``;
    links are not followed (the tree is the one the user names).

    Raises
    ------
    AdcsimError
        The input is stdin or lies outside ``root``.

    Examples
    --------
    >>> mirror_dir("corpus/a/b/x.wav", root="corpus", out_dir="out")
    'out/a/b'
    >>> mirror_dir("corpus/x.wav", root="corpus/", out_dir="out")
    'out'
    """
    if input_path == STDIO:
        raise AdcsimError("--mirror cannot place stdin (-): give a file")
    folder = os.path.dirname(os.path.abspath(input_path))
    base = os.path.abspath(root)
    if os.path.commonpath([folder, base]) != base:
        raise AdcsimError(f"input {input_path!r} is outside --mirror root {root!r}")
    return os.path.normpath(os.path.join(out_dir, os.path.relpath(folder, base)))


# --- skipping inputs that are up to date --------------------------------------


def up_to_date(
    input_path: str, paths: OutputPaths, config: QuantizeConfig
) -> Report | None:
    """The existing report when ``input_path``'s outputs match it, else None.

    Up to date means: the audio output and the JSON report exist, the report's
    ``settings`` hold every key of ``config.settings()`` with the same value
    (and the same ``output.subtype`` when ``config.subtype`` is given), and
    the SHA-256 of the input and of the audio output equal the report's
    ``provenance.input_sha256`` and ``output_sha256``. Hashing, not size and
    mtime, so a copied or touched file is judged by its content.
    """
    if files.is_stream(input_path) or files.is_stream(paths.audio):
        return None
    if paths.report is None or paths.report == STDIO:
        return None
    if not (os.path.isfile(paths.audio) and os.path.isfile(paths.report)):
        return None
    try:
        with open(paths.report, encoding="utf-8") as f:
            data = json.load(f)
        settings, provenance = data["settings"], data["provenance"]
        if any(settings.get(k) != v for k, v in config.settings().items()):
            return None
        if config.subtype is not None and (
            data["output"].get("subtype") != config.subtype.upper()
        ):
            return None
        if provenance.get("input_sha256") != sha256_file(input_path):
            return None
        if provenance.get("output_sha256") != sha256_file(paths.audio):
            return None
        return _report_from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def made_from(input_path: str, paths: OutputPaths) -> bool:
    """Whether the report at ``paths.report`` says adcsim made it from this input.

    True when that report is an adcsim report (it has a ``schema_version``)
    whose ``input.path`` names ``input_path`` and whose ``output.path`` names
    ``paths.audio``: then its outputs are an earlier run's of this input,
    which ``--skip-existing`` may replace when they are out of date. Files of
    any other origin stay protected (they need ``--force``).
    """
    if paths.report is None or paths.report == STDIO or paths.audio == STDIO:
        return False
    try:
        with open(paths.report, encoding="utf-8") as f:
            data = json.load(f)
        made_input, made_audio = data["input"]["path"], data["output"]["path"]
        if "schema_version" not in data:
            return False
        return files.same_file(str(made_input), input_path) and files.same_file(
            str(made_audio), paths.audio
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _report_from_dict(data: dict[str, Any]) -> Report:
    known = ("input", "output", "settings", "metrics", "channels")
    optional = ("stages", "notes", "provenance")
    skip = {"schema_version", "adcsim_version", *known, *optional}
    return Report(
        **{k: data[k] for k in known},
        **{k: data[k] for k in optional if k in data},
        extra={k: v for k, v in data.items() if k not in skip},
    )


@dataclass(frozen=True)
class _Job:
    """What every input of a batch shares; runs one input."""

    config: QuantizeConfig
    force: bool
    command: CommandLine | None
    measure: bool
    skip_existing: bool
    make_dirs: bool
    #: Keep the reports in the items (see `run_batch`).
    keep_reports: bool = True
    #: Raise an input's AdcsimError instead of recording it (see `run_batch`).
    debug: bool = False
    #: How far a one-input run has read (see `process_file`).
    progress: Progress | None = None

    def run(self, path: str, paths: OutputPaths) -> BatchItem:
        """One input; an `AdcsimError` becomes a failed item and leaves nothing."""
        item = self._run(path, paths)
        if not self.keep_reports:
            item.report = None
        return item

    def _run(self, path: str, paths: OutputPaths) -> BatchItem:
        force = self.force
        if self.skip_existing:
            report = up_to_date(path, paths, self.config)
            if report is not None:
                return BatchItem(input=path, report=report, skipped=True)
            # Not up to date (the input or the settings changed): redo it,
            # replacing the outputs an earlier run made from this input.
            force = force or made_from(path, paths)
        before = snapshot(paths)
        command_line = None if self.command is None else self.command.for_input(path)
        try:
            if self.make_dirs:
                _make_parents(paths)
            if self.config.plot_window is not None and paths.plot is not None:
                _check_plot_window(path, self.config)
            report = process_file(
                path,
                self.config,
                paths,
                force=force,
                command_line=command_line,
                measure=self.measure,
                progress=self.progress,
            )
        except AdcsimError as exc:
            remove_traces(paths, before)
            if self.debug:
                raise
            return BatchItem(input=path, error=str(exc))
        except BaseException:
            with signals_held():
                remove_traces(paths, before)
            raise
        return BatchItem(input=path, report=report)


def _check_plot_window(path: str, config: QuantizeConfig) -> None:
    """A ``--plot-window`` past the end of a file input is its error, before work.

    A stream's length is known only at its end: there the report notes it.
    """
    if path == STDIO:
        return
    from adcsim.io._reader import AudioReader

    with AudioReader(path) as reader:
        info = reader.info
    if info.frames is not None:
        config.check_plot_window(info.frames / info.rate, path)


def _make_parents(paths: OutputPaths) -> None:
    for target in paths.files():
        parent = os.path.dirname(target)
        if parent:
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                reason = (exc.strerror or type(exc).__name__).lower()
                raise AdcsimError(
                    f"cannot create directory {parent!r}: {reason}"
                ) from exc
