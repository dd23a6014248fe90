"""The quantize stage (`QuantizeStage`) and the one-shot `quantize` function.

`QuantizeStage` connects a memoryless `Quantizer` to the chain, hands on its
codes and counts overloads, picking its method by the block's dtype (the
int16 look-up table, the scheme's int32 arithmetic, its float code);
`quantize` is the one-shot form. The schemes are defined
elsewhere (see `adcsim.quantizers._registry`).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.quantizers._base import Quantizer, round_shift
from adcsim.quantizers._registry import make_quantizer
from adcsim.stages._chain import StreamInfo

#: Every int16 value, in the order of their uint16 views (the tables' index).
_EVERY_INT16 = np.arange(65536, dtype=np.uint16).view(np.int16)


@functools.lru_cache(maxsize=16)
def int16_table(quantizer: Quantizer) -> tuple[NDArray[np.int32], int, int]:
    """The code of every int16 value (by its uint16 view), and the overload limits.

    Built once per quantizer by its own float code, so the table and the
    float path agree by construction. Values ``>= high`` or ``<= low``
    overload; overload lies at the ends of the range (codes are monotone), so
    the limits are found by bisection with `Quantizer.encode_counting`.

    Examples
    --------
    >>> from adcsim.quantizers._registry import make_quantizer
    >>> codes, low, high = int16_table(make_quantizer("uniform", bits=2))
    >>> int(codes[16384]), low, high  # 0.5 -> 1; 0.75 rounds to 2: overload
    (1, -32769, 24576)
    """

    def overloads(value: int) -> bool:
        return quantizer.encode_counting(np.array([value / 32768.0]))[1] > 0

    def first_overload(inside: int, outside: int) -> int:
        # invariant: ``inside`` does not overload, ``outside`` does
        while abs(outside - inside) > 1:
            middle = (inside + outside) // 2
            if overloads(middle):
                outside = middle
            else:
                inside = middle
        return outside

    high = first_overload(0, 32767) if overloads(32767) else 32768
    low = first_overload(0, -32768) if overloads(-32768) else -32769
    codes = quantizer.encode(_EVERY_INT16 / 32768.0)
    codes.flags.writeable = False
    return codes, low, high


class QuantizeStage:
    """Chain stage applying a `Quantizer` to every sample, counting overloads.

    The stage hands on the quantizer's int32 codes (its output `StreamInfo`
    says ``codes=True``, ``bits`` the quantizer's depth); the writer stores
    them (`adcsim.io._containers.Container.store_codes`). It takes any block
    dtype and picks its method by it: int16 PCM by look-up in `int16_table`,
    int32 PCM by the scheme's integer arithmetic (`Quantizer.encode_int32`;
    G.711 rounds to 16 bits first, then looks up), floats by the scheme's
    float code. All three give the same codes and counts (the tests compare
    them). ``clipped_per_channel`` holds the overload count of each channel,
    ``counters`` their total.

    Examples
    --------
    >>> stage = QuantizeStage(make_quantizer("uniform", bits=3))
    >>> info = stage.start(StreamInfo(rate=8000, channels=1))
    >>> info.bits, info.dtype, info.codes
    (3, 'int32', True)
    >>> stage.process(np.array([[0.1], [1.2]])).ravel().tolist()
    [0, 3]
    >>> stage.process(np.array([[3277], [-32768]], dtype=np.int16)).ravel().tolist()
    [0, -4]
    >>> stage.counters
    {'clipped_samples': 1}
    """

    active = True
    takes_integers = True

    def __init__(self, quantizer: Quantizer) -> None:
        self.quantizer = quantizer
        self.clipped_per_channel = np.zeros(0, dtype=np.int64)
        self.counters: dict[str, int] = {"clipped_samples": 0}

    def start(self, info: StreamInfo) -> StreamInfo:
        """Reset the counters; the output is codes of the quantizer's depth."""
        self.clipped_per_channel = np.zeros(info.channels, dtype=np.int64)
        self.reset()
        return replace(info, bits=self.quantizer.bits, dtype="int32", codes=True)

    def process(self, block: NDArray[Any]) -> NDArray[np.int32]:
        """The codes of one block, counting clamped samples per channel."""
        if block.dtype == np.int16:
            codes, clipped = self._lookup(block)
        elif block.dtype == np.int32:
            codes, clipped = self._int32(block)
        else:
            codes, clipped = self._float(block)
        self.clipped_per_channel += clipped
        self.counters["clipped_samples"] = int(self.clipped_per_channel.sum())
        return codes

    def _lookup(
        self, x: NDArray[np.integer[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """int16 codes by look-up; ``x`` may hold one value past int16's range."""
        table, low, high = int16_table(self.quantizer)
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        if x.max(initial=0) >= high or x.min(initial=0) <= low:  # rare
            clipped += np.count_nonzero((x >= high) | (x <= low), axis=0)
        if x.dtype != np.int16:
            x = np.clip(x, -32768, 32767).astype(np.int16)
        # np.take: about twice as fast as fancy indexing for a 1-D look-up
        return np.take(table, x.view(np.uint16)), clipped

    def _int32(
        self, x: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        result = self.quantizer.encode_int32(x)
        if result is not None:
            return result
        if self.quantizer.input_bits == 16:
            # overload is judged on the 16-bit value before clipping, as the
            # float code does: +1.0 - 2**-16 rounds to 32768
            return self._lookup(round_shift(x, 16))
        return self._float(np.multiply(x, 1.0 / 2**31))

    def _float(
        self, x: NDArray[np.floating[Any]]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """The float code on the whole block; per channel only to count overloads.

        One call over the block instead of one per (strided) channel column;
        overload is rare, and only then is each channel counted.
        """
        codes, total = self.quantizer.encode_counting(x)
        clipped = np.zeros(x.shape[1], dtype=np.int64)
        if total:
            for channel in range(x.shape[1]):
                clipped[channel] = self.quantizer.encode_counting(x[:, channel])[1]
        return codes, clipped

    def flush(self) -> NDArray[np.int32]:
        """Nothing is buffered: an empty block."""
        return np.zeros((0, self.clipped_per_channel.size), dtype=np.int32)

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
