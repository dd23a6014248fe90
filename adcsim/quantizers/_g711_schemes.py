"""The G.711 quantizers (``g711-mulaw``, ``g711-alaw``): the 8-bit codec as a scheme.

They map samples to codes ranked by level and codes to G.711 bytes. The codec
itself (bit-exact with ITU-T G.191) is `adcsim.quantizers.g711`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import Quantizer


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

    #: G.711 codes 16-bit linear values: deeper PCM is first rounded to 16
    #: bits (half to even), as the float code rounds ``x * 2**15``.
    input_bits = 16

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
        #: The same bytes indexed by the code's low byte (two's complement:
        #: code k at k mod 256), so that storing is one cast and one look-up.
        self._byte_of_low_byte = np.roll(self._byte_of_code, self._lowest)
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
        # (the range is checked above: the cast's wrap-around is k mod 256)
        result: NDArray[np.uint8] = np.take(self._byte_of_low_byte, k.astype(np.uint8))
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
