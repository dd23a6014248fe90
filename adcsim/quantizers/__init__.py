"""Quantizers: registry, uniform, companders, G.711, Lloyd-Max, the quantize stage.

Quantizers are memoryless (``encode``, ``decode``, ``codebook``); codebook
design (``design_lloyd_max``) is separate from applying one.
"""

from __future__ import annotations

from adcsim._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Quantizer": "_quantizers",
        "QuantizeStage": "_quantizers",
        "SCHEMES": "_quantizers",
        "make_quantizer": "_quantizers",
        "quantize": "_quantizers",
        "UniformQuantizer": "_quantizers",
        "MidriseQuantizer": "_quantizers",
        "FloorQuantizer": "_quantizers",
        "MulawQuantizer": "_quantizers",
        "AlawQuantizer": "_quantizers",
        "G711MulawQuantizer": "_quantizers",
        "G711AlawQuantizer": "_quantizers",
        "LloydMaxQuantizer": "_quantizers",
        "Codebook": "_lloydmax",
        "LloydMaxTrainer": "_lloydmax",
        "design_lloyd_max": "_lloydmax",
    },
)
