"""The uniform schemes: mid-tread (``uniform``), mid-rise and floor.

Uniform quantizers of step D = 2 / 2**N over full scale [-1, 1). Not
responsible for companding (`adcsim.quantizers._companders`) or for the stage
that runs a quantizer in a chain (`adcsim.quantizers._stage`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.quantizers._base import Quantizer, round_shift


class _UniformBase(Quantizer):
    """Shared code of the uniform schemes: step D = 2 / 2**N, full scale [-1, 1)."""

    #: Offset of the output level within its cell, in steps (0 or 1/2).
    _level_offset: ClassVar[float] = 0.0

    @property
    def step(self) -> float:
        """The step D = 2 / 2**N."""
        return 2.0 / self.levels

    @property
    def grid_bits(self) -> int:
        """N, or N + 1 when the levels sit between grid points (mid-rise)."""
        return self.bits + (1 if self._level_offset else 0)

    @property
    def codebook(self) -> NDArray[np.float64]:
        """Levels ``(k + offset) * D`` for every code ``k``."""
        k = np.arange(self._lowest, self._highest + 1, dtype=np.float64)
        return (k + self._level_offset) * self.step

    def _rounded(self, x: NDArray[np.floating[Any]], rule: Any) -> Any:
        """``rule(x / D)`` (``np.rint``, ``np.floor``) in one new array.

        ``x * 2**(N-1)`` is the same value as ``x / D`` (D is a power of two)
        and cheaper; the rounding then runs in place on that copy.
        """
        t = np.multiply(x, float(self.levels // 2))
        return rule(t, out=t) if isinstance(t, np.ndarray) else rule(t)

    def decode(self, codes: ArrayLike) -> NDArray[np.float64]:
        """Map codes to levels ``(k + offset) * D`` (exact: D is a power of two)."""
        return (np.asarray(codes, dtype=np.float64) + self._level_offset) * self.step

    def encode_int32(
        self, x: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """``floor(x / D)`` (midrise, floor) is a shift; PCM never overloads it."""
        codes = np.right_shift(x, 32 - self.bits, dtype=np.int32)
        return codes, np.zeros(codes.shape[1], dtype=np.int64)


class UniformQuantizer(_UniformBase):
    """Mid-tread uniform quantizer: what an N-bit PCM converter does.

    Notes
    -----
    ``y = clip(round(x / D)) * D`` with ``D = 2 / 2**N``; ties round half to even
    (``numpy.round``), so the error has no bias. In range the error is at most D/2.

    Examples
    --------
    >>> q = UniformQuantizer(bits=2)
    >>> q.codebook
    array([-1. , -0.5,  0. ,  0.5])
    >>> q.encode([-1.0, -0.3, 0.25, 0.3, 0.9])
    array([-2, -1,  0,  1,  1], dtype=int32)
    """

    name = "uniform"
    summary = "mid-tread uniform PCM, y = clip(round(x/D))*D, ties to even"

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return self._rounded(x, np.rint)  # ties to even, as numpy.round

    def encode_int32(
        self, x: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """``round(x / D)`` in integers, ties to even (see `round_shift`)."""
        shift = 32 - self.bits
        # Only the top can overload: x >= -2**(width-1) never rounds below
        # the lowest code. Overload starts half a step above the top level.
        top = (self._highest << shift) + (1 << (shift - 1))
        if self._highest % 2 == 0:  # N = 1: the tie above code 0 rounds to 0
            top += 1
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        if x.max(initial=0) >= top:  # rare: count per channel only then
            clipped += [np.count_nonzero(x[:, c] >= top) for c in range(x.shape[1])]
        codes = round_shift(x, shift).astype(np.int32, copy=False)
        np.minimum(codes, np.int32(self._highest), out=codes)
        return codes, clipped


class MidriseQuantizer(_UniformBase):
    """Mid-rise uniform quantizer: no level at zero, symmetric levels.

    Notes
    -----
    ``y = (clip(floor(x / D)) + 1/2) * D``.

    Examples
    --------
    >>> MidriseQuantizer(bits=2).quantize([-1.0, -0.1, 0.0, 0.99])
    array([-0.75, -0.25,  0.25,  0.75])
    """

    name = "midrise"
    summary = "mid-rise uniform, y = (clip(floor(x/D)) + 1/2)*D, no level at zero"
    _level_offset = 0.5

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return self._rounded(x, np.floor)


class FloorQuantizer(_UniformBase):
    """Truncating uniform quantizer, the textbook ``Q = floor(x / D)``.

    Notes
    -----
    ``y = clip(floor(x / D)) * D``; the error lies in (-D, 0], biased by -D/2.

    Examples
    --------
    >>> FloorQuantizer(bits=2).quantize([-0.1, 0.0, 0.49, 0.99])
    array([-0.5,  0. ,  0. ,  0.5])
    """

    name = "floor"
    summary = "truncation, y = clip(floor(x/D))*D, biased by -D/2"

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return self._rounded(x, np.floor)
