"""Bit-exact ITU-T G.711 coding: 16-bit linear PCM to and from mu-law/A-law bytes.

This module encodes and decodes the 8-bit segmented codes of ITU-T G.711 exactly
as the ITU-T G.191 Software Tool Library (STL) reference does (module ``g711``:
``ulaw_compress``/``ulaw_expand``, ``alaw_compress``/``alaw_expand``), for every
16-bit input and every byte. It is pure numpy: a 65536-entry encoding table and a
256-entry decoding table per law, built once on first use. It does not resample,
dither or read files; the scheme wrappers for the quantizer registry are
`G711MulawQuantizer` and `G711AlawQuantizer` (``adcsim.quantizers``).

Conventions (from the G.191 STL, ``src/g711/g711.c`` and its manual chapter
``doc/manual/g711.tex``, github.com/openitu/STL):

* Linear samples are 16-bit two's complement, *left-justified*: mu-law looks at
  the 14 most significant bits, A-law at the 13 most significant bits.
* Before that reduction a negative sample ``v`` is turned into the magnitude
  ``~v = -v - 1`` (one's complement), not ``-v``. So ``v`` and ``-v - 1`` always
  get codes that differ only in the sign bit, and -1..-4 code as mu-law "-0".
  Implementations that negate first differ from the reference on some negative
  inputs (libsndfile 1.2.2: on the 127 negated decision values of each law).
* Decoded values are the interval midpoints of G.711 Tables 1 and 2, scaled to
  16 bits (x4 for mu-law, x8 for A-law): at most 32124 (mu) and 32256 (A).

Float samples are full scale [-1, 1): ``v = clip(round(x * 32768))`` to the
16-bit range, ties to even.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from adcsim.errors import AdcsimError

Law = Literal["mulaw", "alaw"]
#: The two G.711 laws, as accepted by `encode` and `decode`.
LAWS: tuple[str, ...] = get_args(Law)

#: Full scale of 16-bit PCM: float ``x`` is the integer ``x * FULL_SCALE``.
FULL_SCALE = 32768

#: The last ("virtual") decision value x_128 of each law, in 16-bit units: a
#: sample whose magnitude (``v``, or ``-v - 1`` when negative) reaches it is in
#: overload. mu-law: 8159 in Table 2a/G.711 (14-bit units) x 4 = 32636; A-law:
#: 4096 in Table 1a/G.711 (13-bit units) x 8 = 32768, the edge of the 16-bit range.
OVERLOAD: dict[str, int] = {"mulaw": 4 * 8159, "alaw": 8 * 4096}

#: Largest decoded magnitude, 16-bit units (the top interval's midpoint).
MAX_DECODED: dict[str, int] = {"mulaw": 4 * 8031, "alaw": 8 * 4032}

#: Bits of the character inverted for transmission: mu-law inverts the 7
#: magnitude bits (Table 2/G.711: +0 is 1111 1111); A-law inverts the even bits
#: 2, 4, 6, 8, counting the polarity bit as bit 1 (Table 1/G.711: +0 is 1101 0101).
_INVERTED_BITS: dict[str, int] = {"mulaw": 0x7F, "alaw": 0x55}


def check_law(law: object) -> Law:
    """Return ``law`` if it is ``"mulaw"`` or ``"alaw"``, else raise `AdcsimError`.

    Examples
    --------
    >>> check_law("alaw")
    'alaw'
    >>> check_law("ulaw")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: g711: law='ulaw' is not one of: mulaw, alaw
    """
    if law == "mulaw":
        return "mulaw"
    if law == "alaw":
        return "alaw"
    raise AdcsimError(f"g711: law={law!r} is not one of: mulaw, alaw")


def _interval_number(law: Law, mag: NDArray[np.int32]) -> NDArray[np.int32]:
    """G.711 quantization interval n in [0, 127] of 16-bit magnitudes in [0, 32767].

    The interval number counts up with the magnitude; both laws split it into a
    3-bit segment (exponent) and a 4-bit position in the segment (mantissa).
    """
    if law == "mulaw":
        # 14 MSBs (G.191: the 2 LSBs are ignored), clamped at the virtual decision
        # value 8159 so overload codes as the top interval. Adding 33 (the "bias",
        # 8159 + 33 = 2**13) moves the segment end points 31, 95, 223, ..., 8159
        # of Table 2a/G.711 to 64, 128, ..., 8192: segment s spans
        # [2**(s + 5), 2**(s + 6)) and has 16 steps of 2**(s + 1).
        b = np.minimum(mag >> 2, 8158) + 33
        s = np.frexp(b)[1].astype(np.int32) - 6  # bit length - 6, exact for ints
        n: NDArray[np.int32] = (s << 4) | ((b >> (s + 1)) & 15)
        return n
    # 12 magnitude bits (G.191: 13 MSBs with the sign; the 4 LSBs are ignored),
    # in steps of 2 of Table 1a/G.711's 4096 scale. Segments 0 and 1 both have
    # step 1 here; segment e >= 1 spans [2**(e + 3), 2**(e + 4)).
    m = mag >> 4
    e = np.maximum(np.frexp(m)[1].astype(np.int32) - 4, 0)
    n = (e << 4) | ((m >> np.maximum(e - 1, 0)) & 15)
    return n


@functools.cache
def _encode_table(law: Law) -> NDArray[np.uint8]:
    """Byte of every 16-bit input, indexed by the input's bit pattern (uint16)."""
    v = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16)
    v = v.astype(np.int32)
    negative = v < 0
    mag = np.where(negative, -v - 1, v)  # one's complement, as G.191 does
    n = _interval_number(law, mag)
    # Character 128 + n for positive samples, n for negative ones, then the
    # law's bit inversion.
    byte = (np.where(negative, 0, 0x80) | n) ^ _INVERTED_BITS[law]
    table = byte.astype(np.uint8)
    table.flags.writeable = False
    return table


@functools.cache
def _decode_table(law: Law) -> NDArray[np.int16]:
    """16-bit decoded value of every byte 0..255."""
    byte = np.arange(256, dtype=np.int32)
    n = (byte ^ _INVERTED_BITS[law]) & 0x7F
    if law == "mulaw":
        s, q = n >> 4, n & 15
        # Midpoint (33 + 2q) 2**s - 33 of the interval, 14-bit units (Table 2a).
        value = 4 * (((33 + 2 * q) << s) - 33)
    else:
        e, q = n >> 4, n & 15
        # Midpoint of the interval, 16-bit units (Table 1a x 8): 16q + 8 in the
        # first segment, (33 + 2q) 2**(e + 2) above.
        value = np.where(e == 0, 16 * q + 8, (33 + 2 * q) << (e + 2))
    table = np.where(byte & 0x80, value, -value).astype(np.int16)
    table.flags.writeable = False
    return table


def _rounded(x: NDArray[Any]) -> NDArray[Any]:
    """``round(x * 32768)`` (ties to even), bounded to +-2 full scale, as float."""
    if np.isnan(x).any():
        raise AdcsimError("g711: x contains NaN")
    # Bounding first keeps the scaling from overflowing (and warning); samples
    # beyond 2 full scale are overloaded either way.
    bounded = np.clip(x.astype(np.result_type(x, np.float32), copy=False), -2.0, 2.0)
    r: NDArray[Any] = np.rint(bounded * 32768)
    return r


def _pcm16(x: ArrayLike) -> tuple[NDArray[np.int16], NDArray[Any] | None]:
    """16-bit samples of ``x``, plus the unclipped rounded floats for float input."""
    x = np.asarray(x)
    if x.dtype == np.int16:
        return x, None
    if x.dtype.kind in "iu":
        if x.size and (x.min() < -32768 or x.max() > 32767):
            raise AdcsimError(
                f"g711: integer x must be 16-bit PCM in [-32768, 32767], "
                f"got min={x.min()}, max={x.max()}"
            )
        return x.astype(np.int16), None
    if x.dtype.kind != "f":
        raise TypeError(f"g711: x must be int16 or floating, not {x.dtype}")
    r = _rounded(x)
    return np.clip(r, -32768, 32767).astype(np.int16), r


def encode_counting(x: ArrayLike, law: Law) -> tuple[NDArray[np.uint8], int]:
    """Encode like `encode` and count the samples in overload.

    A sample overloads when its 16-bit magnitude (``v``, or ``-v - 1`` for
    ``v < 0``, before clipping to 16 bits) reaches the law's last, virtual
    decision value `OVERLOAD`: 32636 for mu-law (8159 x 4, Table 2a/G.711), 32768
    for A-law (4096 x 8, Table 1a/G.711). For A-law that is exactly the float
    input beyond 16-bit full scale; for mu-law it also counts the top 132
    positive and 132 negative 16-bit values.

    Parameters
    ----------
    x : array_like of int16 or float
        See `encode`.
    law : {"mulaw", "alaw"}

    Returns
    -------
    codes : ndarray of uint8
        The G.711 bytes, same shape as ``x``.
    overload : int
        Number of samples in overload.

    Raises
    ------
    AdcsimError
        Unknown ``law``, NaN in ``x``, integer ``x`` beyond 16 bits.

    Examples
    --------
    >>> codes, overload = encode_counting([0.0, 0.99, -1.0, 1.5], "mulaw")
    >>> [hex(c) for c in codes], overload
    (['0xff', '0x80', '0x0', '0x80'], 2)
    >>> encode_counting(np.array([32767, -32768], np.int16), "alaw")[1]
    0
    """
    law = check_law(law)
    v, r = _pcm16(x)
    codes = np.take(_encode_table(law), v.view(np.uint16))
    limit = OVERLOAD[law]
    if r is None:
        # Integer input is already 16-bit: only mu-law has decision values inside.
        overload = int(np.count_nonzero((v >= limit) | (v <= -limit - 1)))
    else:
        overload = int(np.count_nonzero((r >= limit) | (r <= -limit - 1)))
    return codes, overload


def encode(x: ArrayLike, law: Law) -> NDArray[np.uint8]:
    """Encode linear PCM to G.711 bytes, bit-exact with the G.191 reference.

    Parameters
    ----------
    x : array_like of int16 or float, any shape
        16-bit linear PCM (other integer types must hold 16-bit values), or
        full-scale floats in [-1, 1), converted to 16 bits first by
        ``clip(round(x * 32768), -32768, 32767)`` with ties to even.
    law : {"mulaw", "alaw"}

    Returns
    -------
    ndarray of uint8
        The 8-bit G.711 characters (sign bit set for positive samples; A-law with
        its even bits inverted), same shape as ``x``.

    Raises
    ------
    AdcsimError
        Unknown ``law``, NaN in ``x``, integer ``x`` beyond 16 bits.

    See Also
    --------
    decode : the inverse, from bytes to linear values.
    encode_counting : also counts samples in overload.

    Notes
    -----
    ITU-T G.711 (11/1988), Tables 1a/1b (A-law) and 2a/2b (mu-law), with the
    G.191 STL's reading of 16-bit input: negative samples are complemented
    (``-v - 1``) before the 13 (A) or 14 (mu) most significant bits are kept;
    a magnitude equal to a decision value ``x_n`` belongs to interval ``n``.
    mu-law's optional all-zero-character suppression (0x00 sent as 0x02) is not
    applied, as in the reference.

    Examples
    --------
    >>> [hex(c) for c in encode(np.array([0, -1, 1000, -1000], np.int16), "mulaw")]
    ['0xff', '0x7f', '0xce', '0x4e']
    >>> [hex(c) for c in encode(np.array([0, -1, 1000, -1000], np.int16), "alaw")]
    ['0xd5', '0x55', '0xfa', '0x7a']
    >>> encode(np.linspace(-1, 1, 8), "alaw")
    array([ 42,  35,  62,   7, 135, 190, 163, 170], dtype=uint8)
    """
    return encode_counting(x, law)[0]


def decode(codes: ArrayLike, law: Law, *, dtype: DTypeLike = np.int16) -> NDArray[Any]:
    """Decode G.711 bytes to linear values, as the G.191 reference expands them.

    Parameters
    ----------
    codes : array_like of integers in [0, 255], any shape
        G.711 bytes.
    law : {"mulaw", "alaw"}
    dtype : signed integer (>= 16 bits) or floating dtype, default int16
        Integer dtypes give 16-bit PCM values (at most 32124 for mu-law, 32256
        for A-law in magnitude); floating dtypes give full-scale ``value / 32768``.

    Returns
    -------
    ndarray of ``dtype``
        Same shape as ``codes``.

    Raises
    ------
    AdcsimError
        Unknown ``law``, a code beyond [0, 255], a ``dtype`` that cannot hold
        the values.

    See Also
    --------
    encode : the inverse, from linear values to bytes.

    Notes
    -----
    Each byte decodes to the midpoint of its quantization interval (Tables 1
    and 2 of G.711) scaled to 16 bits: mu-law values are multiples of 4, A-law
    values odd multiples of 8. mu-law has two zeros, 0xFF (+0) and 0x7F (-0).

    Examples
    --------
    >>> decode([0xFF, 0x7F, 0x80, 0x00], "mulaw")
    array([     0,      0,  32124, -32124], dtype=int16)
    >>> decode([0xD5, 0x55, 0xAA, 0x2A], "alaw")
    array([     8,     -8,  32256, -32256], dtype=int16)
    >>> decode([0xAA, 0x2A], "alaw", dtype=np.float64)
    array([ 0.984375, -0.984375])
    """
    law = check_law(law)
    out_dtype = np.dtype(dtype)
    if out_dtype.kind == "f":
        table: NDArray[Any] = _decode_table(law).astype(out_dtype) / out_dtype.type(
            FULL_SCALE
        )
    elif out_dtype.kind == "i" and out_dtype.itemsize >= 2:
        table = _decode_table(law).astype(out_dtype)
    else:
        raise AdcsimError(
            f"g711: dtype={out_dtype} cannot hold decoded values; use a signed "
            "integer of at least 16 bits or a floating dtype"
        )
    c = np.asarray(codes)
    if c.dtype != np.uint8:
        if c.dtype.kind not in "iu":
            raise TypeError(f"g711: codes must be integers, not {c.dtype}")
        if c.size and (c.min() < 0 or c.max() > 255):
            raise AdcsimError(
                f"g711: codes must be bytes in [0, 255], got min={c.min()}, "
                f"max={c.max()}"
            )
    result: NDArray[Any] = table[c.astype(np.intp, copy=False)]
    return result
