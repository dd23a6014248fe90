"""adcsim: simulate the digitization of audio and other sampled signals.

The core is pure numpy; the command line (``adcsim``) is a thin layer over it.
Public names are imported lazily (PEP 562, `adcsim._lazy`) so that ``import adcsim`` and
``adcsim --help`` stay fast.

Examples
--------
>>> import numpy as np, adcsim
>>> adcsim.quantize(np.array([0.1, -0.4]), bits=3)
array([ 0. , -0.5])
"""

from __future__ import annotations

from adcsim._lazy import attach
from adcsim._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AdcsimError": "adcsim.errors",
    "StreamInfo": "adcsim.stages._chain",
    "Chain": "adcsim.stages._chain",
    "Quantizer": "adcsim.quantizers._base",
    "QuantizeStage": "adcsim.quantizers._stage",
    "SCHEMES": "adcsim.quantizers._registry",
    "make_quantizer": "adcsim.quantizers._registry",
    "quantize": "adcsim.quantizers._stage",
    "DitherStage": "adcsim.stages._dither",
    "dither": "adcsim.stages._dither",
    "Resampler": "adcsim.stages._resample",
    "resample": "adcsim.stages._resample",
    "measure": "adcsim.metrics._meters",
    "ErrorMeter": "adcsim.metrics._meters",
    "QuantizeConfig": "adcsim.run._config",
    "Report": "adcsim.run._report",
    "process_file": "adcsim.run._process",
    "run_batch": "adcsim.run._batch",
    "NoiseShapingStage": "adcsim.stages._shaping",
    "get_filter": "adcsim.stages._shaping_filters",
    "design_weighted": "adcsim.stages._shaping_filters",
    "noise_shape": "adcsim.stages._shaping",
    "tone_metrics": "adcsim.metrics._tone",
    "fit_sine": "adcsim.metrics._sinefit",
    "compare": "adcsim.analysis._compare",
    "compare_files": "adcsim.analysis._compare_files",
    "sweep": "adcsim.analysis._sweep",
    "sweep_file": "adcsim.analysis._sweep",
    "generate": "adcsim.analysis._generate",
    "LloydMaxQuantizer": "adcsim.quantizers._lloydmax_scheme",
    "Codebook": "adcsim.quantizers._codebook",
    "LloydMaxTrainer": "adcsim.quantizers._lloydmax",
    "design_lloyd_max": "adcsim.quantizers._lloydmax",
    "export_listening_test": "adcsim.listening._session",
    "score_results": "adcsim.listening._scoring",
    "integrated_loudness": "adcsim.metrics._loudness",
}

# public submodules, imported on first use (``adcsim.g711.encode(...)``)
_SUBMODULES = {"g711": "adcsim.quantizers.g711"}

__getattr__, __dir__, _public = attach(__name__, _EXPORTS, _SUBMODULES)
__all__ = ["__version__", *_public]
