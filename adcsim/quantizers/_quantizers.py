"""Memoryless quantizers, their registry, and the stage that runs one in a chain.

A quantizer maps full-scale samples (nominally in [-1, 1)) to integer codes and
codes back to output levels:

* ``encode(x) -> codes``: ``int32`` codes ``k`` in ``[-2**(N-1), 2**(N-1) - 1]``
  (N-bit two's complement), non-decreasing in ``x``;
* ``decode(codes) -> y``: ``codebook[k + 2**(N-1)]``;
* ``codebook``: all ``2**N`` output levels in code order.

Every scheme is one `Quantizer` subclass and one entry in `SCHEMES`. This module
does not read files, dither, or compute report metrics.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.stages._chain import StreamInfo

MAX_BITS = 24


def round_shift(x: NDArray[np.integer[Any]], shift: int) -> NDArray[np.int64]:
    """``round(x / 2**shift)`` in integers, ties to even (as ``numpy.round``).

    Notes
    -----
    With ``q = x >> shift`` (floor), ``(x + 2**(shift-1) - 1 + (q & 1)) >> shift``
    is ``q`` below the half-way point, ``q + 1`` above it, and the even one
    of the two at it. Computed in int64 (no overflow for 32-bit input).

    Examples
    --------
    >>> round_shift(np.array([-3, -2, -1, 1, 2, 3, 6]), 2)
    array([-1,  0,  0,  0,  0,  1,  2])
    """
    y = np.asarray(x).astype(np.int64)
    if shift <= 0:
        y <<= -shift
        return y
    odd = y >> shift
    odd &= 1
    y += (1 << (shift - 1)) - 1
    y += odd
    y >>= shift
    return y


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
    #: Extra parameters the scheme accepts, with their defaults.
    PARAMS: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, *, bits: int = 8) -> None:
        self.bits = check_bits(bits)
        self.levels = 1 << self.bits
        self._lowest = -(1 << (self.bits - 1))
        self._highest = (1 << (self.bits - 1)) - 1
        self._pcm16: tuple[NDArray[np.int32], int, int] | None = None

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
        codes = np.clip(raw, self._lowest, self._highest)
        clipped = int(np.count_nonzero(codes != raw))
        return codes.astype(np.int32), clipped

    def encode_pcm(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]] | None:
        """Integer fast path of `encode_counting` for ``(frames, channels)`` PCM.

        ``x`` is int16 (samples ``x / 2**15``) or int32 (``x / 2**31``), as
        libsndfile reads integer PCM. Returns the codes and the overload count
        of each channel, equal to the float path's, or None when the scheme
        has no integer path.

        Every scheme has one for int16: a table of the codes of all 65536
        values, built once by the float path itself, so the two agree by
        construction and a block costs one look-up. Deeper PCM needs the
        scheme's own arithmetic (uniform schemes have it).
        """
        if x.dtype != np.int16:
            return None
        return self._table_encode(x)

    def _table_encode(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """int16 codes by look-up in `_pcm16_table`, with overload counts."""
        # np.take: about twice as fast as fancy indexing for a 1-D look-up
        codes = np.take(self._pcm16_table()[0], x.view(np.uint16))
        return codes, self.pcm16_overloads(x)

    def pcm16_overloads(self, x: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
        """Per channel, the samples of int16 ``(frames, channels)`` PCM in overload.

        The count `encode_counting` makes, without encoding.
        """
        _, low, high = self._pcm16_table()
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        # Overload lies at the ends of the range (the codes are monotone).
        if x.max(initial=0) >= high or x.min(initial=0) <= low:
            for channel in range(x.shape[1]):
                column = x[:, channel]
                clipped[channel] = np.count_nonzero((column >= high) | (column <= low))
        return clipped

    def _pcm16_table(self) -> tuple[NDArray[np.int32], int, int]:
        """Codes of every int16 value (by its uint16 view), and overload limits.

        Values ``>= high`` or ``<= low`` overload.
        """
        if self._pcm16 is None:
            values = np.arange(65536, dtype=np.uint16).view(np.int16)
            x = values / 32768.0
            raw = self._raw_codes(x)
            over = raw != np.clip(raw, self._lowest, self._highest)
            tops, bottoms = values[over & (values > 0)], values[over & (values < 0)]
            high = int(tops.min()) if tops.size else 32768
            low = int(bottoms.max()) if bottoms.size else -32769
            self._pcm16 = (self.encode(x), low, high)
        return self._pcm16

    def pcm_levels(
        self, codes: NDArray[np.int32], bits: int
    ) -> NDArray[np.int32] | None:
        """Output levels of ``codes`` as integers on a ``bits``-bit PCM grid.

        ``decode(codes) * 2**(bits - 1)`` exactly, or None when some level is
        not on that grid (the caller then stores float levels).
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

    def decode(self, codes: ArrayLike) -> NDArray[np.float64]:
        """Map codes to levels ``(k + offset) * D`` (exact: D is a power of two)."""
        return (np.asarray(codes, dtype=np.float64) + self._level_offset) * self.step

    def pcm_levels(
        self, codes: NDArray[np.int32], bits: int
    ) -> NDArray[np.int32] | None:
        """``(k + offset) * D * 2**(bits-1)`` in integers when ``bits >= grid_bits``."""
        if bits < self.grid_bits:
            return None
        if self._level_offset:
            return ((2 * codes + 1) << (bits - self.bits - 1)).astype(np.int32)
        if bits == self.bits:
            return codes  # the codes are the levels: no copy
        return codes << (bits - self.bits)

    def encode_pcm(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """``floor(x / D)`` (midrise, floor) is a shift; PCM never overloads it."""
        if x.dtype == np.int16:
            return self._table_encode(x)
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
        return np.round(x / self.step)

    def encode_pcm(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """``round(x / D)`` in integers, ties to even (see `round_shift`)."""
        if x.dtype == np.int16:
            return self._table_encode(x)
        shift = 32 - self.bits
        # Only the top can overload: x >= -2**(width-1) never rounds below
        # the lowest code. Overload starts half a step above the top level.
        top = (self._highest << shift) + (1 << (shift - 1))
        if self._highest % 2 == 0:  # N = 1: the tie above code 0 rounds to 0
            top += 1
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        if x.max(initial=0) >= top:  # rare: count per channel only then
            clipped += [np.count_nonzero(x[:, c] >= top) for c in range(x.shape[1])]
        codes = round_shift(x, shift).astype(np.int32)
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
        return np.floor(x / self.step)


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
        return np.floor(x / self.step)


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


# --- G.711 quantizers (codec in adcsim.quantizers.g711) ---


class _G711Base(Quantizer):
    """Shared code of the G.711 schemes: an 8-bit codec seen as a quantizer.

    Parameters
    ----------
    bits : int, must be 8
        G.711 is an 8-bit code; any other value raises `AdcsimError`.

    Notes
    -----
    Samples (full scale [-1, 1)) are coded with `g711.encode`, bit-exact
    with the ITU-T G.191 reference. The quantizer code ``k`` of a G.711 byte is
    its rank among the 256 decoded values, minus 128, so codes follow the base
    class convention (``int32`` in [-128, 127], non-decreasing in ``x``,
    ``decode(k) = codebook[k + 128]``); mu-law's two zeros are ranked -0 (0x7F,
    ``k = -1``) before +0 (0xFF, ``k = 0``). `g711_bytes` and `from_g711_bytes`
    convert between codes and bytes.

    A sample is in overload (counted by `encode_counting`) when its 16-bit
    magnitude ``m`` reaches the law's last, virtual decision value x_128, with
    ``v = round(x * 32768)`` before clipping and ``m = v`` for ``v >= 0``,
    ``m = -v - 1`` below (the reference's one's complement). That is
    ``m >= 32636`` for mu-law (8159 in Table 2a/G.711, x 4) and ``m >= 32768``
    for A-law (4096 in Table 1a/G.711, x 8): for A-law exactly the input beyond
    16-bit full scale, for mu-law also the top 132 values of each polarity.
    """

    #: The G.711 law, ``"mulaw"`` or ``"alaw"`` (see `adcsim.quantizers.g711.LAWS`).
    law: ClassVar[str]

    nominal_rate = 8000

    @property
    def grid_bits(self) -> int:
        """16: the G.191 decoder's levels are 16-bit integers (PCM_16 holds them)."""
        return 16

    def __init__(self, *, bits: int = 8) -> None:
        from adcsim.quantizers import g711

        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
            raise AdcsimError(
                f"bits={bits!r} is not allowed for {self.name}: it must be 8"
            )
        if bits != 8:
            raise AdcsimError(
                f"bits={bits} is not allowed for {self.name}: it must be 8"
            )
        super().__init__(bits=8)
        self._law = g711.check_law(self.law)
        levels = g711.decode(np.arange(256), self._law)
        # A stable sort breaks mu-law's -0/+0 tie by byte value: 0x7F before 0xFF.
        order = np.argsort(levels, kind="stable")
        self._byte_of_code = order.astype(np.uint8)
        self._tables: tuple[NDArray[np.int32], NDArray[np.int32]] | None = None
        self._code_of_byte = np.empty(256, dtype=np.int32)
        self._code_of_byte[order] = np.arange(self._lowest, self._highest + 1)
        self._codebook = levels[order] / float(g711.FULL_SCALE)
        self._codebook.flags.writeable = False

    @property
    def codebook(self) -> NDArray[np.float64]:
        """The 256 decoded levels (full scale) in code order, read-only."""
        return self._codebook

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        # G.711 codes are always in range: nothing for the base class to clamp.
        return self.encode_counting(x)[0].astype(np.float64)

    def encode_counting(self, x: ArrayLike) -> tuple[NDArray[np.int32], int]:
        """Encode ``x`` and count the samples in overload (see the class Notes).

        Raises
        ------
        AdcsimError
            NaN in ``x``.
        """
        from adcsim.quantizers import g711

        samples = np.asarray(x)
        if samples.dtype.kind != "f":
            samples = samples.astype(np.float64)
        data, overload = g711.encode_counting(samples, self._law)
        return self._code_of_byte[data], overload

    def encode_pcm(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """Reduce PCM to 16 bits (round half to even); one table look-up.

        Overload is judged on the 16-bit value before clipping, as the float
        path does (see the class Notes): +1.0 - 2**-16 rounds to 32768,
        beyond A-law's last decision value.
        """
        v: NDArray[Any] = x if x.dtype == np.int16 else round_shift(x, 16)
        clipped = self.pcm16_overloads(v)
        if v.dtype != np.int16:
            v = np.clip(v, -32768, 32767).astype(np.int16)
        # np.take: about twice as fast as fancy indexing for a 1-D look-up
        return np.take(self._pcm_tables()[0], v.view(np.uint16)), clipped

    def pcm16_overloads(self, x: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
        """Per channel, the samples beyond the law's overload point.

        ``x`` holds 16-bit values, possibly one past int16's range (the
        rounded value of deeper PCM, before it is clipped).
        """
        from adcsim.quantizers import g711

        limit = g711.OVERLOAD[self._law]
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        if x.max(initial=0) >= limit or x.min(initial=0) <= -limit - 1:
            magnitude = np.where(x >= 0, x, -(x.astype(np.int64)) - 1)
            clipped += np.count_nonzero(magnitude >= limit, axis=0)
        return clipped

    def pcm_levels(
        self, codes: NDArray[np.int32], bits: int
    ) -> NDArray[np.int32] | None:
        """The 16-bit decoded levels, shifted to a deeper grid if asked."""
        if bits < 16:
            return None
        levels = np.take(self._pcm_tables()[1], codes + 128)
        if bits > 16:
            levels <<= bits - 16
        return levels

    def _pcm_tables(self) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """The code of every 16-bit value and the 16-bit level of every code.

        Indexed by the value's uint16 view and by code + 128; built once.
        """
        if self._tables is None:
            from adcsim.quantizers import g711

            every = np.arange(65536, dtype=np.uint16).view(np.int16)
            code_of_x16 = self._code_of_byte[g711.encode(every, self._law)]
            level_of_code = np.round(self._codebook * 32768.0).astype(np.int32)
            self._tables = (code_of_x16.astype(np.int32), level_of_code)
        return self._tables

    def g711_bytes(self, codes: ArrayLike) -> NDArray[np.uint8]:
        """Return the G.711 bytes of quantizer codes (to write ULAW/ALAW data).

        Raises
        ------
        AdcsimError
            A code beyond [-128, 127].

        See Also
        --------
        from_g711_bytes : the inverse.
        """
        k = np.asarray(codes)
        if k.size and (k.min() < self._lowest or k.max() > self._highest):
            raise AdcsimError(
                f"{self.name}: codes must be in [-128, 127], got min={k.min()}, "
                f"max={k.max()}"
            )
        result: NDArray[np.uint8] = self._byte_of_code[k.astype(np.intp) - self._lowest]
        return result

    def from_g711_bytes(self, data: ArrayLike) -> NDArray[np.int32]:
        """Return the quantizer codes of G.711 bytes.

        Raises
        ------
        AdcsimError
            A byte beyond [0, 255].

        See Also
        --------
        g711_bytes : the inverse.
        """
        b = np.asarray(data)
        if b.size and (b.min() < 0 or b.max() > 255):
            raise AdcsimError(
                f"{self.name}: bytes must be in [0, 255], got min={b.min()}, "
                f"max={b.max()}"
            )
        result: NDArray[np.int32] = self._code_of_byte[b.astype(np.intp)]
        return result


class G711MulawQuantizer(_G711Base):
    """ITU-T G.711 mu-law: the 8-bit segmented codec, bit-exact with G.191.

    Notes
    -----
    Codes and bytes: ``k = byte - 128`` for the negative bytes 0x00..0x7F
    (-32124/32768 .. -0) and ``k = 255 - byte`` for the positive bytes
    0xFF..0x80 (+0 .. 32124/32768). Codebook entries 127 and 128 are both 0.
    See `_G711Base` and `adcsim.quantizers.g711`.

    Examples
    --------
    >>> q = G711MulawQuantizer()
    >>> q.encode([-1.0, -1e-4, 0.0, 0.001, 0.5])
    array([-128,   -1,    0,    4,  112], dtype=int32)
    >>> [hex(b) for b in q.g711_bytes(q.encode([-1.0, 0.0, 0.5]))]
    ['0x0', '0xff', '0x8f']
    >>> (q.codebook[[0, 127, 128, 255]] * 32768).tolist()
    [-32124.0, 0.0, 0.0, 32124.0]
    """

    name = "g711-mulaw"
    summary = "ITU-T G.711 mu-law 8-bit codec, bit-exact with the G.191 reference"
    law = "mulaw"


class G711AlawQuantizer(_G711Base):
    """ITU-T G.711 A-law: the 8-bit segmented codec, bit-exact with G.191.

    Notes
    -----
    Codes and bytes: with ``n = (byte ^ 0x55) & 0x7F`` (the interval number,
    even bits re-inverted), ``k = n`` for positive bytes (>= 0x80) and
    ``k = -1 - n`` for negative ones. See `_G711Base` and `adcsim.quantizers.g711`.

    Examples
    --------
    >>> q = G711AlawQuantizer()
    >>> q.encode([-1.0, -1e-4, 0.0, 0.001, 0.5])
    array([-128,   -1,    0,    2,  112], dtype=int32)
    >>> [hex(b) for b in q.g711_bytes(q.encode([-1.0, 0.0, 0.5]))]
    ['0x2a', '0xd5', '0xa5']
    >>> (q.codebook[[0, 127, 128, 255]] * 32768).tolist()
    [-32256.0, -8.0, 8.0, 32256.0]
    """

    name = "g711-alaw"
    summary = "ITU-T G.711 A-law 8-bit codec, bit-exact with the G.191 reference"
    law = "alaw"


# --- Lloyd-Max quantizer (design in adcsim.quantizers._lloydmax) ---

if TYPE_CHECKING:  # imported where used: only Lloyd-Max runs need it
    from adcsim.quantizers._lloydmax import Codebook


class LloydMaxQuantizer(Quantizer):
    """Pdf-optimized quantizer: applies a designed Lloyd-Max `Codebook`.

    Parameters
    ----------
    bits : int in [1, 16]
        Depth N; must equal ``codebook.bits``.
    codebook : Codebook
        Levels and thresholds, e.g. from `design_lloyd_max` or
        `adcsim.quantizers._lloydmax.Codebook.load`.

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
        from adcsim.quantizers._lloydmax import Codebook

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


SCHEMES: dict[str, type[Quantizer]] = {
    cls.name: cls
    for cls in (
        UniformQuantizer,
        MidriseQuantizer,
        FloorQuantizer,
        MulawQuantizer,
        AlawQuantizer,
        G711MulawQuantizer,
        G711AlawQuantizer,
        LloydMaxQuantizer,
    )
}


def make_quantizer(
    scheme: str = "uniform", *, bits: int = 8, **params: Any
) -> Quantizer:
    """Build the registered quantizer ``scheme``; unknown parameters are an error.

    Parameters
    ----------
    scheme : str
        A key of `SCHEMES`.
    bits : int
        Bit depth (the scheme checks its range).
    **params
        The scheme's own parameters (``mu``, ``a``, ...). ``None`` values are
        dropped, so callers can pass every option and let the scheme pick.

    Raises
    ------
    AdcsimError
        Unknown scheme or parameter, or a value out of range.

    Examples
    --------
    >>> make_quantizer("mulaw", bits=8, mu=100)
    MulawQuantizer(bits=8, mu=100.0)
    """
    try:
        cls = SCHEMES[scheme]
    except KeyError:
        allowed = ", ".join(SCHEMES)
        raise AdcsimError(f"scheme={scheme!r} is not one of: {allowed}") from None
    given = {k: v for k, v in params.items() if v is not None}
    unknown = set(given) - set(cls.PARAMS)
    if unknown:
        name = sorted(unknown)[0]
        raise AdcsimError(f"scheme {scheme!r} takes no parameter {name!r}")
    return cls(bits=bits, **given)


class QuantizeStage:
    """Chain stage applying a `Quantizer` to every sample, counting overloads.

    The output stream's ``bits`` is the quantizer's depth. Blocks become float64
    levels (exact for every scheme's codebook). ``clipped_per_channel`` holds
    the overload count of each channel, ``counters`` their total.

    Examples
    --------
    >>> stage = QuantizeStage(UniformQuantizer(bits=3))
    >>> stage.start(StreamInfo(rate=8000, channels=1)).bits
    3
    >>> stage.process(np.array([[0.1], [1.2]]))
    array([[0.  ],
           [0.75]])
    >>> stage.counters
    {'clipped_samples': 1}
    """

    active = True

    def __init__(self, quantizer: Quantizer) -> None:
        self.quantizer = quantizer
        self.clipped_per_channel = np.zeros(0, dtype=np.int64)
        self.counters: dict[str, int] = {"clipped_samples": 0}

    def start(self, info: StreamInfo) -> StreamInfo:
        """Reset the counters; the output has the quantizer's depth."""
        self.clipped_per_channel = np.zeros(info.channels, dtype=np.int64)
        self.reset()
        return replace(info, bits=self.quantizer.bits)

    def process(self, block: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Quantize one block, counting clamped samples per channel."""
        out = np.empty(block.shape)
        for channel in range(block.shape[1]):
            codes, clipped = self.quantizer.encode_counting(block[:, channel])
            self.clipped_per_channel[channel] += clipped
            out[:, channel] = self.quantizer.decode(codes)
        self.counters["clipped_samples"] = int(self.clipped_per_channel.sum())
        return out

    def process_pcm(self, block: NDArray[np.integer[Any]]) -> NDArray[np.int32]:
        """Codes of an integer PCM block (see `Quantizer.encode_pcm`).

        Counts overloads exactly as `process` does. The quantizer must have
        an integer path.
        """
        result = self.quantizer.encode_pcm(block)
        assert result is not None, "no integer path for this quantizer"
        codes, clipped = result
        self.clipped_per_channel += clipped
        self.counters["clipped_samples"] = int(self.clipped_per_channel.sum())
        return codes

    def count_pcm16(self, block: NDArray[np.integer[Any]]) -> None:
        """Count the overloads of an int16 block that is coded elsewhere.

        For the look-up path (`adcsim.run._lookup`), whose table already holds the
        codes: the counts are the ones `process_pcm` would make.
        """
        self.clipped_per_channel += self.quantizer.pcm16_overloads(block)
        self.counters["clipped_samples"] = int(self.clipped_per_channel.sum())

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block."""
        return np.zeros((0, self.clipped_per_channel.size))

    def reset(self) -> None:
        """Zero the counters."""
        self.clipped_per_channel[:] = 0
        self.counters = {"clipped_samples": 0}


def quantize(
    x: ArrayLike, *, bits: int = 8, scheme: str = "uniform", **params: Any
) -> NDArray[np.float64]:
    """Quantize ``x`` with a registered scheme; same shape as ``x``.

    Parameters
    ----------
    x : array_like
        Samples, full scale [-1, 1); any shape.
    bits : int
        Bit depth N.
    scheme : str
        ``uniform``, ``midrise``, ``floor``, ``mulaw``, ``alaw``, ... (see `SCHEMES`).
    **params
        Scheme parameters such as ``mu`` or ``a``.

    Returns
    -------
    ndarray of float64
        The decoded output levels.

    Raises
    ------
    AdcsimError
        Unknown scheme, bad parameter.

    Examples
    --------
    >>> quantize(np.linspace(-1, 1, 5), bits=2)
    array([-1. , -0.5,  0. ,  0.5,  0.5])
    >>> quantize([0.2, -0.2], bits=4, scheme="mulaw", mu=255).round(4)
    array([ 0.2471, -0.2471])
    """
    return make_quantizer(scheme, bits=bits, **params).quantize(x)
