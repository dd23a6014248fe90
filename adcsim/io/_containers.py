"""Output containers: choosing a subtype and converting levels to what it stores.

Responsible for the libsndfile formats and subtypes adcsim writes (which
container holds a grid of levels exactly, which names are valid) and for
`Container`, which turns levels into the data handed to libsndfile and says
exactly what was stored. Also `error_reason`, the one translation of
third-party error text. Not responsible for opening files (`adcsim.io._reader`,
`adcsim.io._writer`) or for any signal processing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.io import _wavstream as wavstream
from adcsim.io._files import STDIO

#: Container bits of the integer PCM subtypes.
PCM_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
G711_SUBTYPES: dict[str, Literal["mulaw", "alaw"]] = {"ULAW": "mulaw", "ALAW": "alaw"}
_UNSIGNED_8_FORMATS = ("WAV", "WAVEX", "RF64", "W64")
_EXTENSION_FORMATS = {"aif": "AIFF", "aiff": "AIFF", "aifc": "AIFF", "oga": "OGG"}


def error_reason(exc: BaseException) -> str:
    """The last line of a third-party error, without the path, lower-case."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # soundfile prefixes messages with the path in various forms; keep the reason.
    if "Error opening" in text and ": " in text:
        text = text.rsplit(": ", 1)[-1]
    return text.rstrip(".").lower() or "unreadable"


def format_for_path(path: str) -> str:
    """The libsndfile major format chosen by an output path's extension.

    Examples
    --------
    >>> format_for_path("a.flac"), format_for_path("b.aif"), format_for_path("-")
    ('FLAC', 'AIFF', 'WAV')
    """
    if path == STDIO:
        return "WAV"
    ext = Path(path).suffix.lower().lstrip(".")
    if not ext:
        return "WAV"
    fmt = _EXTENSION_FORMATS.get(ext, ext.upper())
    if fmt not in _formats():
        raise AdcsimError(f"cannot write {path!r}: unknown audio format {ext!r}")
    return fmt


@functools.cache
def _formats() -> frozenset[str]:
    """The major formats libsndfile knows (asking it builds a dict each time)."""
    return frozenset(sf.available_formats())


@functools.cache
def _subtypes(fmt: str | None = None) -> frozenset[str]:
    """The subtypes libsndfile knows, of ``fmt`` or of any format."""
    return frozenset(sf.available_subtypes(fmt))


def choose_subtype(fmt: str, grid_bits: int | None) -> str:
    """The smallest standard container of ``fmt`` that holds the levels exactly.

    Parameters
    ----------
    fmt : str
        libsndfile major format.
    grid_bits : int or None
        Bits of the power-of-two grid holding every output level, None when the
        levels are on no such grid (they are then stored as float32).

    Examples
    --------
    >>> choose_subtype("WAV", 8), choose_subtype("AIFF", 8), choose_subtype("WAV", 12)
    ('PCM_U8', 'PCM_S8', 'PCM_16')
    >>> choose_subtype("WAV", None), choose_subtype("FLAC", None)
    ('FLOAT', 'PCM_24')
    """
    if grid_bits is not None:
        # 8-bit WAV is unsigned by definition; AIFF (and FLAC) store it signed,
        # and their unsigned variant is a non-standard extension.
        eight: tuple[str, ...] = ("PCM_S8",)
        if fmt in _UNSIGNED_8_FORMATS:
            eight = ("PCM_U8", "PCM_S8")
        for subtype in (*eight, "PCM_16", "PCM_24", "PCM_32"):
            if PCM_BITS[subtype] >= grid_bits and sf.check_format(fmt, subtype):
                return subtype
    for subtype in ("FLOAT", "PCM_32", "PCM_24", "PCM_16"):
        if sf.check_format(fmt, subtype):
            return subtype
    return str(sf.default_subtype(fmt))


def check_subtype(fmt: str, subtype: str) -> str:
    """Return ``subtype`` upper-cased if ``fmt`` can hold it, else raise."""
    subtype = subtype.upper()
    if subtype not in _subtypes() or not sf.check_format(fmt, subtype):
        allowed = ", ".join(sorted(_subtypes(fmt)))
        raise AdcsimError(f"subtype={subtype!r} is not valid for {fmt}: use {allowed}")
    return subtype


def check_container(subtype: str, grid_bits: int | None, bits: int) -> None:
    """Refuse an integer PCM ``subtype`` narrower than the levels it must hold.

    ``grid_bits`` is the quantizer's grid (None for levels on no grid, which
    then need at least ``bits``). A narrower container would merge levels
    silently, and the report would count levels the file does not hold.

    Raises
    ------
    AdcsimError
        The container holds fewer bits than the grid.

    Examples
    --------
    >>> check_container("PCM_16", 12, 12)
    >>> check_container("PCM_U8", 12, 12)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: subtype=PCM_U8 holds 8 bits, fewer than the 12-bit \
grid of bits=12: use a subtype of at least 12 bits
    """
    held = PCM_BITS.get(subtype)
    needed = grid_bits if grid_bits is not None else bits
    if held is not None and held < needed:
        raise AdcsimError(
            f"subtype={subtype} holds {held} bits, fewer than the {needed}-bit "
            f"grid of bits={bits}: use a subtype of at least {needed} bits"
        )


def is_exact_subtype(subtype: str) -> bool:
    """Whether values stored in ``subtype`` are known exactly (no lossy codec)."""
    return subtype in PCM_BITS or subtype in FLOAT_SUBTYPES or subtype in G711_SUBTYPES


class Container:
    """Stores float levels in a subtype and says exactly what was stored.

    ``store(y)`` returns the array handed to libsndfile and the float values a
    reader will get back, so that metrics see the values actually written.
    Integer PCM is rounded half to even and clipped by adcsim, never by
    libsndfile (whose float-to-int conversion floors).

    Examples
    --------
    >>> raw, written = Container("PCM_U8").store(np.array([[0.5], [-1.0], [1.0]]))
    >>> raw.ravel().tolist(), written.ravel().tolist()
    ([16384, -32768, 32512], [0.5, -1.0, 0.9921875])
    """

    def __init__(self, subtype: str) -> None:
        self.subtype = subtype
        self.bits = PCM_BITS.get(subtype)
        #: Depth of the integer levels `store_ints` takes (G.711: 16-bit linear).
        self.int_bits = 16 if subtype in G711_SUBTYPES else self.bits
        #: The law whose G.711 levels `store_ints` may take as they are (set by
        #: a caller whose levels come from that law's decoder).
        self.trusted_g711_law: str | None = None

    def wav_bytes(
        self, ints: NDArray[np.int32]
    ) -> tuple[NDArray[Any] | None, NDArray[Any]]:
        """WAV sample bytes of integer levels, and the levels as written.

        None when the subtype has no simple byte form here (FLOAT, ...).
        """
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            codes = g711.encode(ints.astype(np.int16), law)
            levels = ints if law == self.trusted_g711_law else g711.decode(codes, law)
            return codes, levels
        if self.bits is None:
            return None, ints
        return wavstream.sample_bytes(ints, self.bits), ints

    def store_ints(self, ints: NDArray[np.int32]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Store integer levels on the `int_bits` grid; return (raw, read-back ints).

        The integer fast path of `store`: no rounding, the levels are exact.
        """
        assert self.int_bits is not None
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            if law == self.trusted_g711_law:
                levels16 = ints.astype(np.int16)
                return levels16, levels16
            levels = g711.decode(g711.encode(ints.astype(np.int16), law), law)
            return levels, levels
        # one pass each: shift into a new array of the type libsndfile takes
        if self.int_bits <= 16:
            raw = np.left_shift(
                ints, 16 - self.int_bits, dtype=np.int16, casting="unsafe"
            )
        else:
            raw = np.left_shift(
                ints, 32 - self.int_bits, dtype=np.int32, casting="unsafe"
            )
        return raw, ints

    def store(
        self, y: NDArray[np.floating[Any]]
    ) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """Convert levels to the container; return (raw for soundfile, read-back)."""
        if self.bits is not None:
            ints = self.to_ints(y)
            written = ints / float(1 << (self.bits - 1))
            if self.bits <= 16:
                return (ints << (16 - self.bits)).astype(np.int16), written
            return (ints << (32 - self.bits)).astype(np.int32), written
        if self.subtype == "FLOAT":
            raw32 = np.asarray(y, dtype=np.float32)
            return raw32, raw32.astype(np.float64)
        if self.subtype in G711_SUBTYPES:
            from adcsim.quantizers import g711

            law = G711_SUBTYPES[self.subtype]
            ints16 = np.clip(np.round(np.asarray(y) * 32768.0), -32768, 32767)
            # libsndfile's own encoder differs from G.191 on 127 negative inputs
            # per law; handed G.711 levels, it writes the reference's bytes.
            levels = g711.decode(g711.encode(ints16.astype(np.int16), law), law)
            return levels, levels / 32768.0
        y64 = np.asarray(y, dtype=np.float64)
        return y64, y64

    def to_ints(self, y: NDArray[np.floating[Any]]) -> NDArray[np.int32]:
        """Round half to even to the container's integer grid and clip."""
        assert self.bits is not None
        scale = float(1 << (self.bits - 1))
        ints = np.clip(np.round(np.asarray(y) * scale), -scale, scale - 1)
        return ints.astype(np.int32)
