"""adcsim: simulate the digitization of audio and other sampled signals.

The core is pure numpy; the command line (``adcsim``) is a thin layer over it.
Public names are imported lazily (PEP 562) so that ``import adcsim`` and
``adcsim --help`` stay fast.

Examples
--------
>>> import numpy as np, adcsim
>>> adcsim.quantize(np.array([0.1, -0.4]), bits=3)
array([ 0. , -0.5])
"""

from __future__ import annotations

import importlib
from typing import Any

from adcsim._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AdcsimError": "adcsim.errors",
    "StreamInfo": "adcsim.chain",
    "Chain": "adcsim.chain",
    "Quantizer": "adcsim.quantizers",
    "QuantizeStage": "adcsim.quantizers",
    "SCHEMES": "adcsim.quantizers",
    "make_quantizer": "adcsim.quantizers",
    "quantize": "adcsim.quantizers",
    "DitherStage": "adcsim.dither",
    "dither": "adcsim.dither",
    "Resampler": "adcsim.resample",
    "resample": "adcsim.resample",
    "measure": "adcsim.metrics",
    "ErrorMeter": "adcsim.metrics",
    "QuantizeConfig": "adcsim.config",
    "Report": "adcsim.report",
    "process_file": "adcsim.pipeline",
    "run_batch": "adcsim.batch",
    "NoiseShapingStage": "adcsim.shaping",
    "get_filter": "adcsim.shaping",
    "design_weighted": "adcsim.shaping",
    "noise_shape": "adcsim.shaping",
    "tone_metrics": "adcsim.tone",
    "fit_sine": "adcsim.sinefit",
    "compare": "adcsim.comparison",
    "compare_files": "adcsim.comparison",
    "sweep": "adcsim.sweeps",
    "sweep_file": "adcsim.sweeps",
    "generate": "adcsim.signals",
    "LloydMaxQuantizer": "adcsim.quantizers",
    "Codebook": "adcsim.lloydmax",
    "LloydMaxTrainer": "adcsim.lloydmax",
    "design_lloyd_max": "adcsim.lloydmax",
    "export_listening_test": "adcsim.listening",
    "score_results": "adcsim.listen_scoring",
    "integrated_loudness": "adcsim.loudness",
}

# public submodules, imported on first use (``adcsim.g711.encode(...)``)
_SUBMODULES = ("g711",)

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"adcsim.{name}")
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'adcsim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
