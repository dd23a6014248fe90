"""Compiled inner loops: the recursions numpy cannot vectorize.

A loop with feedback (each output depends on the one before: error-feedback
noise shaping today, a sigma-delta modulator later) runs one sample at a time,
which costs about a microsecond a sample in Python. Such loops live here, one
module each, compiled with numba through `adcsim.kernels._jit.kernel` (one
caching policy, no fast-math, so a kernel computes the same float64 values in
the same order as the Python it replaces).

Responsible for those loops and how they are compiled. Not responsible for
stages, state between blocks beyond the arrays a caller hands in, random
numbers or validation: the stage that calls a kernel draws its dither with
numpy, checks its parameters and owns its state. A kernel gets arrays of the
documented dtype and layout and trusts them.

Importing this package imports nothing; each kernel module imports numba (and
compiles or loads its cached code) when it is first imported, which only the
stage that needs it does, inside ``start``. Modules:

- ``_jit``: the ``kernel`` decorator (numba ``njit``, explicit signature,
  ``nogil``, on-disk cache with a fallback when no cache can be written).
- ``_error_feedback``: requantization with error feedback, for
  ``adcsim.stages._shaping.NoiseShapingStage``.
"""

from __future__ import annotations
