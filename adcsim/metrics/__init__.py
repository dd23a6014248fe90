"""Measurements: error meters, IEEE 1241 tone figures, weighting, loudness."""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ErrorMeter": "_meters",
        "measure": "_meters",
        "tone_metrics": "_tone",
        "fit_sine": "_sinefit",
        "integrated_loudness": "_loudness",
    },
)
