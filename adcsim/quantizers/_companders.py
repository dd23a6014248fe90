"""The continuous mu-law and A-law companding quantizers.

Compress, quantize uniformly at N bits, expand. Not the segmented 8-bit G.711
codecs (`adcsim.quantizers._g711_schemes`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import Quantizer


class _CompandedBase(Quantizer):
    """Compress with F, quantize F(x) with `uniform` at N bits, expand with F^-1."""

    @abstractmethod
    def compress(self, x: ArrayLike) -> NDArray[np.float64]:
        """The compressor F, odd, mapping [-1, 1] onto [-1, 1]."""

    @abstractmethod
    def expand(self, y: ArrayLike) -> NDArray[np.float64]:
        """The exact inverse of `compress`."""

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return np.round(self.compress(x) * (self.levels / 2))

    @property
    def codebook(self) -> NDArray[np.float64]:
        """Expanded uniform levels ``F^-1(k * D)``."""
        k = np.arange(self._lowest, self._highest + 1, dtype=np.float64)
        return self.expand(k * (2.0 / self.levels))

    def decode(self, codes: ArrayLike) -> NDArray[np.float64]:
        """``F^-1(k * D)`` of the codes alone, the same values as `codebook`'s.

        Not a look-up in `codebook`: at 24 bits that is 2**24 levels, and
        building it for every block made a 60-s stereo file take 109 s and
        740 MB.
        """
        k = np.asarray(codes, dtype=np.float64)
        return self.expand(k * (2.0 / self.levels))


class MulawQuantizer(_CompandedBase):
    """Continuous mu-law companding quantizer.

    Parameters
    ----------
    bits : int in [1, 24]
    mu : float > 0, default 255

    Notes
    -----
    ``F(x) = sgn(x) ln(1 + mu|x|) / ln(1 + mu)`` and its exact inverse
    ``F^-1(y) = sgn(y) ((1 + mu)**|y| - 1) / mu`` (ITU-T G.711's continuous law;
    the segmented 8-bit codec is ``g711-mulaw``).

    Examples
    --------
    >>> q = MulawQuantizer(bits=8)
    >>> float(q.compress(1.0)), float(q.expand(q.compress(0.01)))
    (1.0, 0.01)
    >>> q.quantize([0.0, 0.001])
    array([0.        , 0.00094846])
    """

    name = "mulaw"
    summary = "mu-law compander: F(x) = sgn(x) ln(1+mu|x|)/ln(1+mu), uniform on F(x)"
    PARAMS = {"mu": 255.0}

    def __init__(self, *, bits: int = 8, mu: float = 255.0) -> None:
        super().__init__(bits=bits)
        if not (isinstance(mu, (int, float)) and math.isfinite(mu) and mu > 0):
            raise AdcsimError(f"mu={mu!r} must be a number > 0")
        self.mu = float(mu)
        self._log1p_mu = math.log1p(self.mu)

    @property
    def params(self) -> dict[str, Any]:
        """``{"mu": mu}``."""
        return {"mu": self.mu}

    def compress(self, x: ArrayLike) -> NDArray[np.float64]:
        """``sgn(x) ln(1 + mu|x|) / ln(1 + mu)``."""
        x = np.asarray(x, dtype=np.float64)
        return np.sign(x) * np.log1p(self.mu * np.abs(x)) / self._log1p_mu

    def expand(self, y: ArrayLike) -> NDArray[np.float64]:
        """``sgn(y) ((1 + mu)**|y| - 1) / mu``."""
        y = np.asarray(y, dtype=np.float64)
        return np.sign(y) * np.expm1(np.abs(y) * self._log1p_mu) / self.mu


class AlawQuantizer(_CompandedBase):
    """Continuous A-law companding quantizer.

    Parameters
    ----------
    bits : int in [1, 24]
    a : float >= 1, default 87.6

    Notes
    -----
    ``F(x) = sgn(x) A|x| / (1 + ln A)`` for ``|x| < 1/A`` and
    ``sgn(x) (1 + ln(A|x|)) / (1 + ln A)`` above, with its exact inverse
    (ITU-T G.711's continuous law; the segmented 8-bit codec is ``g711-alaw``).

    Examples
    --------
    >>> q = AlawQuantizer(bits=8)
    >>> float(q.compress(1.0)), round(float(q.expand(q.compress(0.3))), 12)
    (1.0, 0.3)
    """

    name = "alaw"
    summary = "A-law compander: linear below 1/A, logarithmic above, uniform on F(x)"
    PARAMS = {"a": 87.6}

    def __init__(self, *, bits: int = 8, a: float = 87.6) -> None:
        super().__init__(bits=bits)
        if not (isinstance(a, (int, float)) and math.isfinite(a) and a >= 1):
            raise AdcsimError(f"a={a!r} must be a number >= 1")
        self.a = float(a)
        self._denom = 1.0 + math.log(self.a)

    @property
    def params(self) -> dict[str, Any]:
        """``{"a": a}``."""
        return {"a": self.a}

    def compress(self, x: ArrayLike) -> NDArray[np.float64]:
        """A-law compressor F."""
        x = np.asarray(x, dtype=np.float64)
        ax = self.a * np.abs(x)
        # np.maximum keeps log() away from 0 in the branch np.where discards.
        log_part = 1.0 + np.log(np.maximum(ax, 1.0))
        return np.sign(x) * np.where(ax < 1.0, ax, log_part) / self._denom

    def expand(self, y: ArrayLike) -> NDArray[np.float64]:
        """A-law expander F^-1."""
        y = np.asarray(y, dtype=np.float64)
        v = np.abs(y) * self._denom
        magnitude = np.where(v < 1.0, v, np.exp(np.minimum(v, 1e3) - 1.0))
        return np.sign(y) * magnitude / self.a
