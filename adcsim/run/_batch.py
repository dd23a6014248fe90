"""Batches: many inputs through `process_file`, failures recorded, order kept.

Responsible for running a list of inputs with their planned outputs: checking
the whole batch before any work (the same input named twice, two inputs
writing one file, an output landing on an input), running the inputs in this
process or in long-lived worker processes, skipping inputs that are up to
date, leaving nothing behind for an input that failed or was interrupted, and
summarizing (`BatchResult`, `write_summary`). Not responsible for processing
one file (``adcsim.run._process``), for printing or for signal handlers of the
command line (``adcsim.cli._main``).

Workers
-------
With ``jobs > 1`` each worker is a process started once (forked where the
platform allows it, so it starts with adcsim already imported) that takes one
input at a time from a pipe and sends back its `BatchItem`. Results are handed
to ``on_item`` in input order. A worker that dies (a signal, out of memory)
fails only the input it held (``worker died (signal 9)``); the main process
removes that input's temporary and new output files and starts a replacement.
Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the
main process decides) and turn SIGTERM into `KeyboardInterrupt`, so the
pipeline's own clean-up runs when the main process stops them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.run._config import LLOYDMAX, QuantizeConfig
from adcsim.run._outputs import STDIO, OutputPaths
from adcsim.run._process import Progress, process_file
from adcsim.run._provenance import sha256_file
from adcsim.run._report import Report

if TYPE_CHECKING:  # multiprocessing is imported only when workers start
    from multiprocessing.connection import Connection

    from adcsim.figures._child import PlotChild

#: Columns of the ``--summary`` CSV, one row per input.
SUMMARY_COLUMNS = (
    "input",
    "output",
    "status",
    "error",
    "sample_rate",
    "channels",
    "frames",
    "bits",
    "scheme",
    "snr_db",
    "mse",
    "max_abs_error",
    "levels_used",
    "clipped_samples",
    "sinad_db",
    "enob_bits",
)
_METRIC_COLUMNS = SUMMARY_COLUMNS[9:]

#: How long stopped workers get to clean up before they are killed (seconds).
_STOP_TIMEOUT_S = 10.0


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


#: (st_dev, st_ino, st_mtime_ns, st_size) of a file, None when absent.
_Identity = tuple[int, int, int, int] | None


@dataclass
class BatchItem:
    """One input of a batch: its report, or the error that stopped it.

    ``skipped`` items were up to date (``skip_existing``); their ``report`` is
    the one found beside the output.
    """

    input: str
    report: Report | None = None
    error: str | None = None
    skipped: bool = False
    #: Its `summary_row`, kept when the report is not (``keep_reports="rows"``).
    row: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        """``ok``, ``failed`` or ``skipped``."""
        if self.error is not None:
            return "failed"
        return "skipped" if self.skipped else "ok"


def _count(n: int, noun: str = "file") -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@dataclass
class BatchResult:
    """All inputs of a batch, in input order; owns the exit code.

    Examples
    --------
    >>> r = BatchResult([BatchItem("a"), BatchItem("b", error="bad")])
    >>> r.summary(), r.exit_code
    ('1 file quantized, 1 failed', 1)
    >>> BatchResult([BatchItem("a"), BatchItem("b", skipped=True)]).summary()
    '1 file quantized, 1 skipped, 0 failed'
    """

    items: list[BatchItem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many inputs failed."""
        return sum(item.error is not None for item in self.items)

    @property
    def skipped(self) -> int:
        """How many inputs were up to date and left untouched."""
        return sum(item.skipped for item in self.items)

    @property
    def quantized(self) -> int:
        """How many inputs were quantized."""
        return len(self.items) - self.failed - self.skipped

    @property
    def exit_code(self) -> int:
        """0 when no input failed, else 1."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        """``12 files quantized, 1 failed`` (``, 2 skipped`` when some were)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"{_count(self.quantized)} quantized{skipped}, {self.failed} failed"


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by `KeyboardInterrupt` (Ctrl-C, or SIGTERM via the CLI).

    Raised by `run_batch` after its clean-up: no temporary file is left, and
    the inputs that were in progress have no outputs. ``result`` holds the
    inputs finished before the stop (in input order); ``total`` counts all.
    A subclass of `KeyboardInterrupt`, so callers that stop on Ctrl-C still do.
    """

    def __init__(self, result: BatchResult, total: int) -> None:
        super().__init__(f"{total - len(result.items)} of {total} inputs not done")
        self.result = result
        self.total = total

    @property
    def not_done(self) -> int:
        """Inputs neither finished nor failed."""
        return self.total - len(self.result.items)

    def summary(self) -> str:
        """``interrupted: 3 files quantized, 0 failed, 7 not done``."""
        return f"interrupted: {self.result.summary()}, {self.not_done} not done"


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
    plot_child: PlotChild | None = None,
    reports: bool = True,
    keep_reports: bool | Literal["rows"] = True,
    debug: bool = False,
    progress: Progress | None = None,
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
    plot_child : PlotChild, optional
        For a one-input batch: the child process that draws its figure (see
        `process_file`); the caller cancels it if it is left unused.
    progress : callable, optional
        For a one-input batch: told how far the input has been read (see
        `process_file`), for a progress bar.
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
        One item per input, in input order.

    Raises
    ------
    AdcsimError
        Before any work: ``jobs`` < 0, an input named twice (also through a
        link or ``..``), two inputs writing the same file, or an output that is
        one of the inputs.
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
    job = _Job(
        config,
        force,
        command,
        measure,
        skip_existing,
        make_dirs,
        plot_child=plot_child if len(inputs) == 1 else None,
        keep_reports=reports,
        debug=debug,
        progress=progress if len(inputs) == 1 else None,
    )
    out = _Ordered(len(inputs), on_item, on_done, keep_reports=keep_reports)
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
            _Pool(job, workers, out).run(tasks)
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
    if input_path == STDIO or paths.audio == STDIO:
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


# --- one input, leaving nothing when it fails ----------------------------------


def _identity(path: str) -> _Identity:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _snapshot(paths: OutputPaths) -> dict[str, _Identity]:
    return {p: _identity(p) for p in paths.files()}


def _temp_files(target: str) -> Iterator[Path]:
    """Temporary files `files.AtomicFile` makes for ``target``.

    AtomicFile names them ``.<name>.<random hex>.part`` beside the target; a
    killed process leaves them behind.
    """
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]+\.part\Z")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if pattern.match(entry.name):
                yield folder / entry.name


def _remove_traces(paths: OutputPaths, before: dict[str, _Identity]) -> None:
    """Remove an unfinished input's temporary files and the outputs it wrote."""
    for target, identity in before.items():
        for tmp in _temp_files(target):
            with contextlib.suppress(OSError):
                tmp.unlink()
        now = _identity(target)
        if now is not None and now != identity:
            with contextlib.suppress(OSError):
                os.unlink(target)


@dataclass(frozen=True)
class _Job:
    """What every input of a batch shares; runs one input."""

    config: QuantizeConfig
    force: bool
    command: CommandLine | None
    measure: bool
    skip_existing: bool
    make_dirs: bool
    #: Draws the figure of a one-input run (see adcsim.figures._child).
    plot_child: PlotChild | None = None
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
        before = _snapshot(paths)
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
                plot_child=self.plot_child,
                progress=self.progress,
            )
        except AdcsimError as exc:
            _remove_traces(paths, before)
            if self.debug:
                raise
            return BatchItem(input=path, error=str(exc))
        except BaseException:
            with _signals_held():
                _remove_traces(paths, before)
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


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM meanwhile, so a second Ctrl-C cannot cut clean-up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


# --- results in input order -----------------------------------------------------


class _Ordered:
    """Collects items that finish in any order and hands them on in input order."""

    def __init__(
        self,
        total: int,
        on_item: Callable[[BatchItem], None] | None,
        on_done: Callable[[BatchItem], None] | None,
        *,
        keep_reports: bool | Literal["rows"] = True,
    ) -> None:
        self.result = BatchResult()
        self.total = total
        self.on_item, self.on_done = on_item, on_done
        self.keep_reports = keep_reports
        self.waiting: dict[int, BatchItem] = {}

    def put(self, index: int, item: BatchItem) -> None:
        if self.on_done is not None:
            self.on_done(item)
        self.waiting[index] = item
        while len(self.result.items) in self.waiting:
            ready = self.waiting.pop(len(self.result.items))
            self.result.items.append(ready)
            if self.on_item is not None:
                self.on_item(ready)
            if self.keep_reports is not True:
                if self.keep_reports == "rows":
                    ready.row = summary_row(ready)
                ready.report = None

    def finished(self) -> BatchResult:
        """Every finished item (also those after a gap), in input order."""
        done = [*self.result.items, *(self.waiting[k] for k in sorted(self.waiting))]
        return BatchResult(done)


# --- worker processes -------------------------------------------------------------


def _context() -> Any:
    """Fork where available: workers start with adcsim imported, in milliseconds."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _worker_main(conn: Connection, job: _Job, parent: int) -> None:
    """Take (index, path, paths) tasks until None or EOF; send (index, item)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        _end_with(parent)
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            index, path, paths = task
            conn.send((index, job.run(path, paths)))
    except KeyboardInterrupt:
        # Stopped by the main process: job.run has removed this input's traces.
        return


def _end_with(parent: int) -> None:
    """Get SIGTERM when the main process ``parent`` dies, however it dies.

    A SIGKILLed main process (the OOM killer) closes its pipe ends, but the
    workers forked after a worker hold copies of that worker's end, so
    end-of-file never came and the workers lived on. Linux sends the
    parent-death signal (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread
    checks the parent every half second. SIGTERM then stops the worker as the
    main process would: the input it runs leaves nothing.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
        if prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) == 0:
            if os.getppid() != parent:  # it died before the call
                raise KeyboardInterrupt("parent died")
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="adcsim-parent-watch", daemon=True).start()


#: linux/prctl.h
_PR_SET_PDEATHSIG = 1

#: Tasks a worker holds at once: the one it runs and the next, already in
#: its pipe, so that it never waits for the main process between two inputs.
_TASKS_PER_WORKER = 2


class _Worker:
    """One worker process, its pipe, and the tasks it holds (oldest first)."""

    def __init__(self, ctx: Any, job: _Job) -> None:
        # A forked child flushes the std streams it inherited when it ends:
        # flush them first, or buffered output would appear twice.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main,
            args=(child, job, os.getpid()),
            name="adcsim-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.tasks: deque[tuple[int, str, OutputPaths, dict[str, _Identity]]] = deque()

    def give(self, index: int, path: str, paths: OutputPaths) -> None:
        self.tasks.append((index, path, paths, _snapshot(paths)))
        try:
            self.conn.send((index, path, paths))
        except OSError:
            self.tasks.pop()
            raise

    def receive(self) -> tuple[int, BatchItem] | None:
        """The oldest task, finished, or None when the worker died running it."""
        try:
            if self.conn.poll():
                index, item = self.conn.recv()
                self.tasks.popleft()
                return index, item
        except (EOFError, OSError):
            pass
        return None

    def death(self) -> str:
        """Why the worker's process ended, once it has."""
        self.process.join()
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"worker died (signal {-code})"
        return f"worker died (exit code {code})"

    def close(self) -> None:
        self.conn.close()


class _Pool:
    """Runs tasks on ``size`` workers, each holding up to `_TASKS_PER_WORKER`."""

    def __init__(self, job: _Job, size: int, out: _Ordered) -> None:
        self.job, self.size, self.out = job, size, out
        self.ctx = _context()
        self.workers: list[_Worker] = []

    def run(self, tasks: list[tuple[int, tuple[str, OutputPaths]]]) -> None:
        import multiprocessing.connection

        queue = deque(tasks)
        try:
            self.workers = [_Worker(self.ctx, self.job) for _ in range(self.size)]
            while True:
                self._dispatch(queue)
                busy = [w for w in self.workers if w.tasks]
                if not busy:
                    break
                handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
                ready = set(multiprocessing.connection.wait(handles))
                for w in busy:
                    if w.conn in ready or w.process.sentinel in ready:
                        self._collect(w, queue)
        except BaseException:
            with _signals_held():
                self._stop()
            raise
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join()
            w.close()

    def _dispatch(self, queue: deque[tuple[int, tuple[str, OutputPaths]]]) -> None:
        # Every worker its first task before any its second.
        for held in range(_TASKS_PER_WORKER):
            for slot in range(len(self.workers)):
                while len(self.workers[slot].tasks) <= held and queue:
                    index, (path, paths) = queue.popleft()
                    if path == STDIO:
                        # A forked worker's stdin is /dev/null: stdin is read here.
                        self.out.put(index, self.job.run(path, paths))
                        continue
                    try:
                        self.workers[slot].give(index, path, paths)
                    except OSError:
                        queue.appendleft((index, (path, paths)))
                        if self.workers[slot].tasks:
                            break  # it died running one: `_collect` sees to it
                        # It died while idle: the input goes to its replacement.
                        self._replace(slot)

    def _replace(self, slot: int) -> _Worker:
        old = self.workers[slot]
        old.process.join()
        old.close()
        self.workers[slot] = _Worker(self.ctx, self.job)
        return self.workers[slot]

    def _collect(
        self, w: _Worker, queue: deque[tuple[int, tuple[str, OutputPaths]]]
    ) -> None:
        slot = self.workers.index(w)
        done = w.receive()
        if done is not None:
            self.out.put(*done)
            if w.process.is_alive():
                return
        # It ended: take what else it finished, fail the input it died on,
        # and hand the ones it had not started to the others.
        while w.tasks and (done := w.receive()) is not None:
            self.out.put(*done)
        if w.tasks:
            index, path, paths, before = w.tasks.popleft()
            reason = w.death()
            _remove_traces(paths, before)
            self._requeue(w, queue)
            error = f"cannot quantize {path!r}: {reason}"
            self.out.put(index, BatchItem(input=path, error=error))
        self._replace(slot)

    @staticmethod
    def _requeue(w: _Worker, queue: deque[tuple[int, tuple[str, OutputPaths]]]) -> None:
        """Tasks a dead worker had not started go first to the others."""
        while w.tasks:
            index, path, paths, _ = w.tasks.pop()
            queue.appendleft((index, (path, paths)))

    def _stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL) and clean up its task.

        Results a worker sent before it stopped count as done: their outputs
        are complete and stay.
        """
        for w in self.workers:
            if w.process.is_alive():
                w.process.terminate()
        for w in self.workers:
            w.process.join(_STOP_TIMEOUT_S)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            while w.tasks and (done := w.receive()) is not None:
                self.out.put(*done)
            for _, _, paths, before in w.tasks:
                _remove_traces(paths, before)
            w.close()


# --- the summary table -----------------------------------------------------------


def summary_rows(result: BatchResult) -> list[dict[str, Any]]:
    """One row per input for the ``--summary`` table (`SUMMARY_COLUMNS`).

    Examples
    --------
    >>> rows = summary_rows(BatchResult([BatchItem("a.wav", error="bad")]))
    >>> rows[0]["input"], rows[0]["status"], rows[0]["error"], rows[0]["snr_db"]
    ('a.wav', 'failed', 'bad', None)
    """
    return [
        summary_row(item) if item.row is None else item.row for item in result.items
    ]


def summary_row(item: BatchItem) -> dict[str, Any]:
    """The ``--summary`` row of one input (`SUMMARY_COLUMNS`)."""
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
    row.update(input=item.input, status=item.status, error=item.error)
    if item.report is not None:
        r = item.report
        row.update(
            output=r.output.get("path"),
            sample_rate=r.output.get("sample_rate"),
            channels=r.output.get("channels"),
            frames=r.output.get("frames"),
            bits=r.settings.get("bits"),
            scheme=r.settings.get("scheme"),
        )
        row.update({k: r.metrics.get(k) for k in _METRIC_COLUMNS})
    return row


def summary_csv(result: BatchResult) -> str:
    """The ``--summary`` table as CSV text (empty cells for missing values).

    Floats are written with ``repr`` (shortest exact form).

    Examples
    --------
    >>> print(summary_csv(BatchResult([BatchItem("a.wav", error="bad")])), end="")
    input,output,status,error,sample_rate,channels,frames,bits,scheme,snr_db,mse,\
max_abs_error,levels_used,clipped_samples,sinad_db,enob_bits
    a.wav,,failed,bad,,,,,,,,,,,,
    """
    import csv

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in summary_rows(result):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def write_summary(path: str, result: BatchResult) -> None:
    """Write `summary_csv` atomically to ``path`` (``-``: stdout)."""
    files.write_text(path, summary_csv(result))
