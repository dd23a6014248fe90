"""Audio in and out: readers, writers, containers, atomic files, WAV on pipes."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "AudioInfo": "_reader",
        "AudioReader": "_reader",
        "AudioWriter": "_writer",
        "AtomicFile": "_files",
        "read": "_reader",
        "write": "_writer",
    },
)
