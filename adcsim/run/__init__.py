"""Running the chain over files: one file, its config and report, batches."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "QuantizeConfig": "_config",
        "Report": "_report",
        "process_file": "_process",
        "run_batch": "_batch",
    },
)
