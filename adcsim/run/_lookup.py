"""The look-up path: a run on 16-bit PCM tabulated over the 65536 sample values.

When nothing but a memoryless quantizer acts on a 16-bit source (no
resampling, dither or noise shaping), each output sample is a function of its
input sample alone. `Pcm16Lookup` tabulates that function once, with the
quantizer's and the writer's own code: the code, what the container stores
and the value a reader gets back. A block then costs one ``np.take``, and the
error figures follow exactly from how often each value occurs
(`adcsim.run._taps.Taps.update_pcm16`). The output is bit for bit the general
paths' (tests/unit/test_integer_path.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.io._writer import AudioWriter
from adcsim.quantizers._base import Quantizer

#: Every int16 value, in the order of their uint16 views (the tables' index).
_EVERY = np.arange(65536, dtype=np.uint16).view(np.int16)


@dataclass(frozen=True)
class Pcm16Lookup:
    """Tables indexed by the uint16 view of an int16 sample.

    Attributes
    ----------
    codes : ndarray of int32
        The quantizer's code of each value.
    stored : ndarray
        What the writer stores for it (`AudioWriter.lookup_table`).
    written : ndarray of float64
        The value a reader gets back, full scale.
    reference : ndarray of float64
        The input value itself, full scale (``x / 2**15``).
    error : ndarray of float64
        ``written - reference``.

    Examples
    --------
    >>> import tempfile, os
    >>> from adcsim.quantizers._uniform import UniformQuantizer
    >>> path = os.path.join(tempfile.mkdtemp(), "out.wav")
    >>> writer = AudioWriter(path, rate=8000, channels=1, subtype="PCM_U8")
    >>> lookup = Pcm16Lookup.build(UniformQuantizer(bits=8), writer)
    >>> lookup.store(np.array([[-32768], [0], [300]], dtype=np.int16)).ravel()
    array([  0, 128, 129], dtype=uint8)
    >>> writer.discard()
    """

    codes: NDArray[np.int32]
    stored: NDArray[Any]
    written: NDArray[np.float64]
    reference: NDArray[np.float64]
    error: NDArray[np.float64]

    @classmethod
    def build(cls, quantizer: Quantizer, writer: AudioWriter) -> Pcm16Lookup | None:
        """The tables of ``quantizer`` writing through ``writer``.

        None when the quantizer has no integer path for int16 samples.
        """
        encoded = quantizer.encode_pcm(_EVERY[:, None])
        if encoded is None:
            return None
        codes = encoded[0][:, 0]
        int_bits = writer.container.int_bits
        levels: NDArray[Any] | None = None
        if int_bits is not None:
            levels = quantizer.pcm_levels(codes, int_bits)
        if levels is None:  # on no integer grid: the float levels
            levels = quantizer.decode(codes)
        stored, written = writer.lookup_table(levels)
        reference = _EVERY / 32768.0
        return cls(codes, stored, written, reference, written - reference)

    def store(self, pcm: NDArray[np.int16]) -> NDArray[Any]:
        """What the writer stores for an int16 ``(frames, channels)`` block."""
        return np.take(self.stored, pcm.view(np.uint16), axis=0)
