"""Audio in and out: readers, writers, containers, atomic files, WAV on pipes."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "AudioInfo": "_audio",
        "AudioReader": "_audio",
        "AudioWriter": "_audio",
        "AtomicFile": "_audio",
        "read": "_audio",
        "write": "_audio",
    },
)
