"""Measurements: error meters, tone figures, weighting, loudness, quality metrics."""

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
        "perceptual": "_perceptual",
        "PerceptualMeter": "_perceptual",
        "METRICS": "_perceptual",
        "si_sdr": "_distortion",
        "segsnr": "_distortion",
        "lsd": "_distortion",
        "stoi": "_stoi",
        "UndefinedMetric": "_stoi",
    },
)
