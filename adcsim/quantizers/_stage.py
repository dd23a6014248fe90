"""The quantize stage (`QuantizeStage`) and the one-shot `quantize` function.

`QuantizeStage` connects a memoryless `Quantizer` to the chain and counts
overloads; `quantize` is that stage's function form. The schemes are defined
elsewhere (see `adcsim.quantizers._registry`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._registry import make_quantizer
from adcsim.stages._chain import StreamInfo


class QuantizeStage:
    """Chain stage applying a `Quantizer` to every sample, counting overloads.

    The output stream's ``bits`` is the quantizer's depth. Blocks become float64
    levels (exact for every scheme's codebook). ``clipped_per_channel`` holds
    the overload count of each channel, ``counters`` their total.

    Examples
    --------
    >>> stage = QuantizeStage(make_quantizer("uniform", bits=3))
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
