"""Quantizers: registry, uniform, companders, G.711, Lloyd-Max, the quantize stage.

Quantizers are memoryless (``encode``, ``decode``, ``codebook``); codebook
design (``design_lloyd_max``) is separate from applying one.
"""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Quantizer": "_base",
        "QuantizeStage": "_stage",
        "SCHEMES": "_registry",
        "make_quantizer": "_registry",
        "quantize": "_stage",
        "UniformQuantizer": "_uniform",
        "MidriseQuantizer": "_uniform",
        "FloorQuantizer": "_uniform",
        "MulawQuantizer": "_companders",
        "AlawQuantizer": "_companders",
        "G711MulawQuantizer": "_g711_schemes",
        "G711AlawQuantizer": "_g711_schemes",
        "LloydMaxQuantizer": "_lloydmax_scheme",
        "Codebook": "_codebook",
        "LloydMaxTrainer": "_lloydmax",
        "design_lloyd_max": "_lloydmax",
    },
)
