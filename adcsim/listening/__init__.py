"""Blind listening tests: sessions, their page, exports and scoring."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "export_listening_test": "_session",
        "score_results": "_scoring",
    },
)
