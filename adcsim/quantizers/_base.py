"""The quantizer base class and the checks every scheme shares.

A quantizer maps full-scale samples (nominally in [-1, 1)) to integer codes and
codes back to output levels:

* ``encode(x) -> codes``: ``int32`` codes ``k`` in ``[-2**(N-1), 2**(N-1) - 1]``
  (N-bit two's complement), non-decreasing in ``x``;
* ``decode(codes) -> y``: ``codebook[k + 2**(N-1)]``;
* ``codebook``: all ``2**N`` output levels in code order.

This module holds `Quantizer`, `check_bits` and `round_shift`; the schemes live
in their own modules and are registered in `adcsim.quantizers._registry`. It does
not read files, dither, or compute report metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

MAX_BITS = 24


def round_shift(x: NDArray[np.integer[Any]], shift: int) -> NDArray[np.integer[Any]]:
    """``round(x / 2**shift)`` in integers, ties to even (as ``numpy.round``).

    Notes
    -----
    With ``q = x >> shift`` (floor) and ``r = x - q * 2**shift`` (the low
    bits), the result is ``q + 1`` when ``r + (q & 1) > 2**(shift-1)``: above
    the half-way point, or at it when ``q`` is odd (ties to even), else
    ``q``. No intermediate exceeds ``x``'s own range, so the arithmetic stays
    in ``x``'s dtype (int32 for 24- and 32-bit PCM: half the memory traffic
    of int64, measured 2x faster) unless ``r + 1`` could overflow it; the
    result has that dtype (int64 for ``shift <= 0`` or a widened ``x``).

    Examples
    --------
    >>> round_shift(np.array([-3, -2, -1, 1, 2, 3, 6]), 2)
    array([-1,  0,  0,  0,  0,  1,  2])
    >>> round_shift(np.array([2**31 - 1, -2**31], dtype=np.int32), 16).tolist()
    [32768, -32768]
    """
    y = np.asarray(x)
    if shift <= 0:
        return y.astype(np.int64) << -shift
    if shift >= 8 * y.dtype.itemsize - 1:  # r + 1 could overflow: widen
        y = y.astype(np.int64)
    q = y >> shift
    r = y & ((1 << shift) - 1)
    r += q & 1
    q += r > (1 << (shift - 1))
    return q


def check_bits(bits: object, *, low: int = 1, high: int = MAX_BITS) -> int:
    """Return ``bits`` if it is an integer in ``[low, high]``, else raise.

    Examples
    --------
    >>> check_bits(8)
    8
    >>> check_bits(0)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: bits=0 must be an integer in [1, 24]
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise AdcsimError(f"bits={bits!r} must be an integer in [{low}, {high}]")
    if not low <= bits <= high:
        raise AdcsimError(f"bits={bits} must be an integer in [{low}, {high}]")
    return int(bits)


class Quantizer(ABC):
    """Base class of the memoryless N-bit quantizers.

    Parameters
    ----------
    bits : int in [1, 24]
        Bit depth N: ``2**N`` codes.

    Attributes
    ----------
    name : str
        Registry key (``--scheme``).
    summary : str
        One-line description for ``adcsim schemes``.
    params : dict
        Scheme parameters beyond ``bits`` (e.g. ``{"mu": 255.0}``), for the report.
    step : float or None
        The step D for uniform schemes, None for non-uniform ones.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    #: The sample rate a standard specifies the scheme for (G.711: 8000 Hz).
    nominal_rate: ClassVar[int | None] = None
    #: Bits of the linear input the scheme looks at (G.711: 16), None for all.
    input_bits: ClassVar[int | None] = None
    #: Extra parameters the scheme accepts, with their defaults.
    PARAMS: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, *, bits: int = 8) -> None:
        self.bits = check_bits(bits)
        self.levels = 1 << self.bits
        self._lowest = -(1 << (self.bits - 1))
        self._highest = (1 << (self.bits - 1)) - 1

    @property
    def params(self) -> dict[str, Any]:
        """The scheme's parameters for the report (empty for plain schemes)."""
        return {}

    @property
    def step(self) -> float | None:
        """The step D = 2 / 2**N of uniform schemes; None for non-uniform ones."""
        return None

    @property
    def grid_bits(self) -> int | None:
        """Bits of the power-of-two grid holding every level exactly, else None.

        The output container is chosen from this (PCM of at least that depth,
        or float when None).
        """
        return None

    @abstractmethod
    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        """Integer-valued codes before clamping to the N-bit range."""

    def encode_counting(self, x: ArrayLike) -> tuple[NDArray[np.int32], int]:
        """Encode ``x`` and count the samples whose code had to be clamped.

        A clamped sample is one beyond the quantizer's granular range (overload).
        """
        raw = self._raw_codes(np.asarray(x))
        # Overload is rare: two reductions decide whether to clip at all,
        # which saves the clip, compare and count passes over every block.
        # (NaN fails both tests and takes the full path, which counts it.)
        if raw.size == 0 or (raw.min() >= self._lowest and raw.max() <= self._highest):
            return raw.astype(np.int32), 0
        codes = np.clip(raw, self._lowest, self._highest)
        clipped = int(np.count_nonzero(codes != raw))
        return codes.astype(np.int32), clipped

    def encode_int32(
        self, x: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]] | None:
        """Codes of int32 PCM ``(frames, channels)`` (samples ``x / 2**31``).

        Returns the codes and the overload count of each channel, equal to
        `encode_counting`'s on ``x / 2**31``, or None when the scheme has no
        integer arithmetic (the quantize stage then takes the float code).
        """
        return None

    def encode(self, x: ArrayLike) -> NDArray[np.int32]:
        """Map samples to N-bit two's complement codes.

        See Also
        --------
        decode : the inverse, from codes to output levels.
        """
        return self.encode_counting(x)[0]

    def decode(self, codes: ArrayLike) -> NDArray[np.float64]:
        """Map codes to output levels, ``codebook[codes + 2**(N-1)]``.

        See Also
        --------
        encode : the inverse, from samples to codes.
        """
        codes = np.asarray(codes)
        return self.codebook[codes.astype(np.intp) - self._lowest]

    def quantize(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``decode(encode(x))``, same shape as ``x``."""
        return self.decode(self.encode(x))

    @property
    @abstractmethod
    def codebook(self) -> NDArray[np.float64]:
        """All ``2**N`` output levels, in code order (non-decreasing)."""

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}(bits={self.bits}{extra})"
