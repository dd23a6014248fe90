"""Batches: many inputs through `process_file`, failures recorded, order kept.

Responsible for running a list of inputs with their planned outputs, checking
that no two inputs write the same file, and summarizing; not for processing
one file (``adcsim.pipeline``) or for printing (``adcsim.cli``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from adcsim.config import QuantizeConfig
from adcsim.errors import AdcsimError
from adcsim.pipeline import OutputPaths, process_file
from adcsim.report import Report


@dataclass
class BatchItem:
    """One input of a batch: its report, or the error that stopped it."""

    input: str
    report: Report | None = None
    error: str | None = None


@dataclass
class BatchResult:
    """All inputs of a batch, in input order; owns the exit code."""

    items: list[BatchItem] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many inputs failed."""
        return sum(item.error is not None for item in self.items)

    @property
    def exit_code(self) -> int:
        """0 when every input succeeded, else 1."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        """``12 files quantized, 1 failed``."""
        done = len(self.items) - self.failed
        noun = "file" if done == 1 else "files"
        return f"{done} {noun} quantized, {self.failed} failed"


def run_batch(
    inputs: Sequence[str],
    config: QuantizeConfig,
    plan: Callable[[str], OutputPaths],
    *,
    force: bool = False,
    command_line: str | None = None,
    on_item: Callable[[BatchItem], None] | None = None,
    measure: bool = True,
) -> BatchResult:
    """Process every input; a failing input is recorded and the others go on.

    Two inputs mapping to the same output are an error before any work starts.
    """
    plans = [plan(p) for p in inputs]
    _check_collisions(inputs, plans)
    result = BatchResult()
    for item in _items(inputs, plans, config, force, command_line, measure):
        result.items.append(item)
        if on_item is not None:
            on_item(item)
    return result


def _items(
    inputs: Sequence[str],
    plans: Sequence[OutputPaths],
    config: QuantizeConfig,
    force: bool,
    command_line: str | None,
    measure: bool,
) -> Iterator[BatchItem]:
    for path, paths in zip(inputs, plans):
        try:
            report = process_file(
                path,
                config,
                paths,
                force=force,
                command_line=command_line,
                measure=measure,
            )
        except AdcsimError as exc:
            yield BatchItem(input=path, error=str(exc))
        else:
            yield BatchItem(input=path, report=report)


def _check_collisions(inputs: Sequence[str], plans: Sequence[OutputPaths]) -> None:
    seen: dict[str, str] = {}
    for source, paths in zip(inputs, plans):
        for out in paths.files():
            key = os.path.abspath(out)
            if key in seen and seen[key] != source:
                raise AdcsimError(
                    f"inputs {seen[key]!r} and {source!r} would both write {out!r}"
                )
            seen[key] = source
