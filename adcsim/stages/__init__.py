"""Stages of the converter chain: stream model, chain, resampling, dither, shaping.

A stage checks its stream in ``start``, transforms blocks in ``process`` and
emits what it buffers in ``flush`` (see ``STYLE.md``). Stages never touch
files, figures or the command line.
"""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "StreamInfo": "_chain",
        "Stage": "_chain",
        "Chain": "_chain",
        "Resampler": "_resample",
        "resample": "_resample",
        "DitherStage": "_dither",
        "dither": "_dither",
        "NoiseShapingStage": "_shaping",
        "get_filter": "_shaping_filters",
        "design_weighted": "_shaping_filters",
        "noise_shape": "_shaping",
        "SigmaDeltaStage": "_sigma_delta",
        "sigma_delta": "_sigma_delta",
    },
)
