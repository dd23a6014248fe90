"""Per-tensor error metrics of a quantized tensor, and its theory line.

Responsible for `tensor_metrics` (SQNR, MSE, max error, cosine similarity
of a tensor and its quantized version) and `uniform_theory_db` (the SQNR the
uniform noise formula predicts at the measured clipping). Not for
quantizing (`adcsim.tensors._schemes`) or for reports
(`adcsim.tensors._report`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _db(ratio: float) -> float | None:
    if ratio <= 0 or not math.isfinite(ratio):
        return None if ratio <= 0 else math.inf
    return 10.0 * math.log10(ratio)


def tensor_metrics(x: NDArray[Any], y: NDArray[Any]) -> dict[str, Any]:
    """Error metrics of ``y`` (quantized) against ``x`` (the reference).

    Returns
    -------
    dict
        ``sqnr_db`` (``10 log10(sum x**2 / sum (y - x)**2)``; None for an
        all-zero ``x``, inf for no error), ``mse``, ``max_abs_error``,
        ``cosine`` (``x . y / (|x| |y|)``; None when either is zero),
        ``signal_energy`` and ``noise_energy`` (the sums, for totals).

    Examples
    --------
    >>> m = tensor_metrics(np.array([1.0, -1.0, 0.5]), np.array([1.0, -0.5, 0.5]))
    >>> round(m["sqnr_db"], 3), m["mse"], m["max_abs_error"], round(m["cosine"], 4)
    (9.542, 0.08333333333333333, 0.5, 0.9526)
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    e = y - x
    signal = float(np.dot(x, x))
    noise = float(np.dot(e, e))
    out = float(np.dot(y, y))
    n = x.size
    sqnr = _db(signal / noise) if noise else (math.inf if signal > 0 else None)
    cosine = float(np.dot(x, y)) / math.sqrt(signal * out) if signal and out else None
    return {
        "sqnr_db": sqnr,
        "mse": noise / n if n else None,
        "max_abs_error": float(np.abs(e).max()) if n else None,
        "cosine": cosine,
        "signal_energy": signal,
        "noise_energy": noise,
    }


def uniform_theory_db(x: NDArray[Any], steps: NDArray[Any]) -> float | None:
    """SQNR of uniform granular noise, ``10 log10(mean x**2 / mean(D**2 / 12))``.

    ``steps`` holds each element's step D (its group's scale). With the
    clipping level c = D * (levels - 1) / 2 this is ``6.02 N + 1.76 - (20
    log10(c / sigma) - 3.01)``: the full-scale-sine line corrected for the
    measured crest factor c / sigma instead of a sine's 3.01 dB. Clipped
    outliers add error the formula leaves out.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 9)
    >>> round(uniform_theory_db(x, np.full(9, 2 / 255)), 2)
    49.1
    """
    power = float(np.mean(np.asarray(x, dtype=np.float64) ** 2))
    noise = float(np.mean(np.asarray(steps, dtype=np.float64) ** 2)) / 12.0
    if power == 0 or noise == 0:
        return None
    return 10.0 * math.log10(power / noise)
