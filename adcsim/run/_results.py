"""A batch's results: one item per input, in input order, and the summary table.

Responsible for `BatchItem` (an input's report or error), `BatchResult` (all
of them, the summary line and the exit code), `BatchInterrupted`, handing
items on in input order as they finish in any order, and the ``--summary``
CSV. Not responsible for running anything (`adcsim.run._batch`,
`adcsim.run._pool`) or for printing (`adcsim.cli`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from adcsim.io import _files as files
from adcsim.run._report import Report

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


# --- results in input order -----------------------------------------------------


class Ordered:
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
