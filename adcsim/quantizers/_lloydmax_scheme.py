"""The ``lloydmax`` scheme: a quantizer that applies a designed codebook.

Designing the codebook (training, `design_lloyd_max`) is
`adcsim.quantizers._lloydmax`, not this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import Quantizer

# --- Lloyd-Max quantizer (design in adcsim.quantizers._lloydmax) ---

if TYPE_CHECKING:  # imported where used: only Lloyd-Max runs need it
    from adcsim.quantizers._codebook import Codebook


class LloydMaxQuantizer(Quantizer):
    """Pdf-optimized quantizer: applies a designed Lloyd-Max `Codebook`.

    Parameters
    ----------
    bits : int in [1, 16]
        Depth N; must equal ``codebook.bits``.
    codebook : Codebook
        Levels and thresholds, e.g. from `design_lloyd_max` or
        `adcsim.quantizers._codebook.Codebook.load`.

    Raises
    ------
    AdcsimError
        ``bits`` differs from the codebook's depth.

    Notes
    -----
    Sample ``x`` falls in cell ``i``, the number of thresholds ``<= x``
    (``numpy.searchsorted(thresholds, x, side="right")``); its code is
    ``k = i - 2**(N-1)`` and its output ``levels[i]``. The outer cells are
    unbounded, so no code is ever clamped; `encode_counting` counts the samples
    beyond full scale (``|x| > 1``) as clipped instead, the overloads of a
    converter whose input range is [-1, 1].

    Examples
    --------
    >>> from adcsim.quantizers._lloydmax import design_lloyd_max
    >>> cb = design_lloyd_max([-0.52, -0.5, -0.48, 0.29, 0.3, 0.31], bits=1)
    >>> q = LloydMaxQuantizer(bits=1, codebook=cb)
    >>> q.encode_counting([-1.5, -0.2, 0.0, 0.4])
    (array([-1, -1,  0,  0], dtype=int32), 1)
    >>> q.quantize([-0.2, 0.0]).round(6)
    array([-0.5,  0.3])
    """

    name = "lloydmax"
    summary = "Lloyd-Max: MSE-optimal levels and thresholds designed on training data"
    PARAMS = {"codebook": None}

    def __init__(self, *, bits: int = 8, codebook: Codebook) -> None:
        from adcsim.quantizers._codebook import Codebook

        super().__init__(bits=bits)
        if not isinstance(codebook, Codebook):
            raise TypeError(
                f"codebook must be a Codebook, not {type(codebook).__name__}"
            )
        if codebook.bits != self.bits:
            raise AdcsimError(
                f"lloydmax: bits={bits} does not match "
                f"the codebook's bits={codebook.bits}"
            )
        #: The designed codebook (levels, thresholds, design MSE).
        self.designed = codebook

    @property
    def codebook(self) -> NDArray[np.float64]:
        """The ``2**N`` designed levels, ascending (read-only)."""
        return self.designed.levels

    @property
    def params(self) -> dict[str, Any]:
        """Levels and thresholds (for N <= 8), design MSE, iterations, convergence."""
        cb = self.designed
        out: dict[str, Any] = {}
        if self.bits <= 8:
            out["codebook"] = {
                "levels": cb.levels.tolist(),
                "thresholds": cb.thresholds.tolist(),
            }
        out["design_mse"] = cb.design_mse
        out["iterations"] = cb.iterations
        out["converged"] = cb.converged
        return out

    def _cells(self, x: NDArray[Any]) -> NDArray[np.intp]:
        return np.searchsorted(self.designed.thresholds, x, side="right")

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return (self._cells(x) + self._lowest).astype(np.float64)

    def encode_counting(self, x: ArrayLike) -> tuple[NDArray[np.int32], int]:
        """Encode ``x``; count the samples beyond full scale, ``|x| > 1``."""
        x = np.asarray(x)
        codes = (self._cells(x) + self._lowest).astype(np.int32)
        return codes, int(np.count_nonzero(np.abs(x) > 1.0))

    def __repr__(self) -> str:
        return f"LloydMaxQuantizer(bits={self.bits}, codebook={self.designed!r})"
