"""Analyses beyond one run: compare, SNR sweeps, the histogram test, test signals."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "compare": "_compare",
        "compare_files": "_compare_files",
        "sweep": "_sweep",
        "sweep_file": "_sweep",
        "generate": "_generate",
        "histogram_test": "_histogram",
        "histogram_counts": "_histogram",
        "histogram_sine": "_histogram",
    },
)
