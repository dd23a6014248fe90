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


@functools.lru_cache(maxsize=16)
def _level_table(quantizer: Any, bits: int) -> NDArray[np.int32]:
    """Each code's level on a ``bits``-bit grid, rounded and clipped (code order).

    What `Container.to_ints` makes of the decoded level, once per quantizer of
    at most 2**16 codes, so that storing codes is one look-up.
    """
    scale = float(1 << (bits - 1))
    levels = np.clip(np.round(quantizer.codebook * scale), -scale, scale - 1)
    table = levels.astype(np.int32)
    table.flags.writeable = False
    return table


@functools.lru_cache(maxsize=16)
def _codes_are_levels(quantizer: Any, bits: int) -> bool:
    """Whether each code is its own level on the ``bits``-bit grid.

    True for a uniform mid-tread or floor quantizer of exactly ``bits`` bits
    (an 8-bit requantize into PCM_U8, 16 into PCM_16): the codes are then
    stored as they are, without the table's look-up (a gather over every
    sample, about a fifth of such a run's work).
    """
    if quantizer.levels != 1 << bits or bits > 16:
        # (deeper: the table alone would hold 2**24 levels, 400 MiB at peak)
        return False
    codes = np.arange(-(quantizer.levels // 2), quantizer.levels // 2)
    return bool(np.array_equal(_level_table(quantizer, bits), codes))


class Container:
    """Stores levels or a quantizer's codes in a subtype; says what was stored.

    `store` takes float levels, `store_codes` integer codes of ``quantizer``.
    Both return the data for the writer and the float values a reader will get
    back, so that metrics see the values actually written. The data is the
    signed integer levels on the subtype's grid for integer PCM (rounded half
    to even and clipped by adcsim, never by libsndfile, whose float-to-int
    conversion floors), the G.711 bytes for ULAW/ALAW (the quantizer's own
    codes when it is that law's G.711 scheme, never re-encoded), else floats.

    Examples
    --------
    >>> raw, written = Container("PCM_U8").store(np.array([[0.5], [-1.0], [1.0]]))
    >>> raw.ravel().tolist(), written.ravel().tolist()
    ([64, -128, 127], [0.5, -1.0, 0.9921875])
    >>> from adcsim.quantizers._registry import make_quantizer
    >>> ulaw = Container("ULAW", make_quantizer("g711-mulaw", bits=8))
    >>> [hex(b) for b in ulaw.store_codes(np.array([[-1], [0]]))[0].ravel()]
    ['0x7f', '0xff']
    """

    def __init__(self, subtype: str, quantizer: Any = None) -> None:
        self.subtype = subtype
        self.bits = PCM_BITS.get(subtype)
        self.quantizer = quantizer
        self.law = G711_SUBTYPES.get(subtype)
        #: The quantizer's codes are this subtype's bytes (its own G.711 law).
        self.codes_are_bytes = (
            self.law is not None and getattr(quantizer, "law", None) == self.law
        )

    @property
    def exact(self) -> bool:
        """Whether every level of the quantizer is stored exactly.

        Then the codes tell which levels the file holds (levels used).
        """
        grid = getattr(self.quantizer, "grid_bits", None)
        if self.quantizer is None:
            return False
        if self.codes_are_bytes or self.subtype == "DOUBLE":
            return True
        if self.bits is not None:
            return grid is not None and grid <= self.bits
        return self.subtype == "FLOAT" and grid is not None and grid <= 24

    def store_codes(
        self, codes: NDArray[np.integer[Any]], *, read_back: bool = True
    ) -> tuple[NDArray[Any], NDArray[np.float64] | None]:
        """Convert ``quantizer`` codes; return (data for the writer, read-back).

        ``read_back=False`` (nobody reads the values: no report, no error
        signal) returns None for them and saves their conversion.
        """
        q = self.quantizer
        assert q is not None, "store_codes needs the container's quantizer"
        if self.codes_are_bytes:
            return q.g711_bytes(codes), q.decode(codes) if read_back else None
        if self.bits is None:
            return self.store(q.decode(codes))
        if _codes_are_levels(q, self.bits):
            ints = codes
        elif q.levels <= 1 << 16:
            table = _level_table(q, self.bits)
            ints = np.take(table, codes + (q.levels // 2))
        else:
            ints = self.to_ints(q.decode(codes))
        return ints, self._read_back(ints) if read_back else None

    def store(
        self, y: NDArray[np.floating[Any]]
    ) -> tuple[NDArray[Any], NDArray[np.float64]]:
        """Convert levels; return (data for the writer, read-back values)."""
        if self.bits is not None:
            ints = self.to_ints(y)
            return ints, self._read_back(ints)
        if self.subtype == "FLOAT":
            raw32 = np.asarray(y, dtype=np.float32)
            return raw32, raw32.astype(np.float64)
        if self.law is not None:
            from adcsim.quantizers import g711

            ints16 = np.clip(np.round(np.asarray(y) * 32768.0), -32768, 32767)
            # the bytes themselves: libsndfile's own encoder differs from G.191
            # (and handed the decoded level 0 of mu-law's -0, writes +0)
            data = g711.encode(ints16.astype(np.int16), self.law)
            return data, g711.decode(data, self.law) / 32768.0
        y64 = np.asarray(y, dtype=np.float64)
        return y64, y64

    def _read_back(self, ints: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        """Integer levels as the full-scale values a reader gets."""
        assert self.bits is not None
        return np.multiply(ints, 1.0 / (1 << (self.bits - 1)), dtype=np.float64)

    def to_ints(self, y: NDArray[np.floating[Any]]) -> NDArray[np.int32]:
        """Round half to even to the container's integer grid and clip."""
        assert self.bits is not None
        scale = float(1 << (self.bits - 1))
        ints = np.clip(np.round(np.asarray(y) * scale), -scale, scale - 1)
        return ints.astype(np.int32)
