"""Deterministic Ogg files: the stream serial number set from the content.

libsndfile gives each Ogg logical stream a random serial number (as RFC 3533
asks of a muxer that cannot know which other streams a file will be chained
with), so two runs with the same input and settings wrote different bytes.
`set_serials` rewrites the serial of every page of a finished file to a value
derived from the pages' contents and recomputes each page's CRC: the same
audio gives the same bytes, and different audio still gets different serials
(so that two adcsim files chained with ``cat`` stay a valid Ogg stream).

Responsible for: walking Ogg pages, their serial numbers and CRCs. Not
responsible for encoding (libsndfile and libvorbis/libopus do that) or for
anything inside the packets.

Written here because no kept dependency exposes the Ogg page layer
(soundfile wraps libsndfile, which has no call to set the serial).
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from adcsim.errors import AdcsimError

#: Page header (RFC 3533, section 6): capture pattern, version, header type,
#: granule position, serial number, page sequence number, CRC, segment count.
_HEADER = struct.Struct("<4sBBqIIIB")
_SERIAL_AT, _CRC_AT = 14, 22

#: Each byte with its bits in reverse order: the Ogg CRC is the unreflected
#: CRC-32 (polynomial 0x04C11DB7, initial value 0, no final XOR), and zlib's is
#: the reflected one; reversing the bits of the input and of the result turns
#: one into the other, so the page CRC runs in zlib's C loop.
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def ogg_crc(page: bytes) -> int:
    """The CRC of an Ogg page as RFC 3533 defines it (CRC field zeroed first).

    Examples
    --------
    >>> hex(ogg_crc(b"123456789"))  # the check value of this CRC
    '0x89a1897f'
    """
    # zlib.crc32(data, 0xFFFFFFFF) starts from 0 and XORs the result with
    # 0xFFFFFFFF; undo that, then reverse the 32 result bits.
    reflected = zlib.crc32(page.translate(_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _pages(f: BinaryIO, name: str) -> list[tuple[int, int, int]]:
    """(offset, length, serial) of every page, checking the layout."""
    pages: list[tuple[int, int, int]] = []
    offset = 0
    while True:
        head = f.read(_HEADER.size)
        if not head:
            return pages
        if len(head) < _HEADER.size or head[:4] != b"OggS":
            raise AdcsimError(f"cannot write {name!r}: not an Ogg page at {offset}")
        serial, segments = _HEADER.unpack(head)[4], head[26]
        table = f.read(segments)
        body = sum(table)
        if len(table) < segments or len(f.read(body)) < body:
            raise AdcsimError(f"cannot write {name!r}: Ogg page cut off at {offset}")
        length = _HEADER.size + segments + body
        pages.append((offset, length, serial))
        offset += length


def set_serials(path: str, name: str | None = None) -> int:
    """Give every logical stream of the Ogg file ``path`` a content-derived serial.

    The new serial of the k-th stream (in order of first appearance) is the
    CRC-32 of all its pages with serial and CRC fields zeroed, plus k; every
    page's CRC is recomputed. The file is changed in place.

    Parameters
    ----------
    path : str
        A complete Ogg file (not yet renamed into place).
    name : str, optional
        The output's name in messages (default ``path``).

    Returns
    -------
    int
        The number of pages rewritten.

    Raises
    ------
    AdcsimError
        The file is not a sequence of whole Ogg pages.
    """
    label = path if name is None else name
    with open(path, "r+b") as f:
        pages = _pages(f, label)
        digests: dict[int, int] = {}
        for offset, length, serial in pages:
            f.seek(offset)
            page = bytearray(f.read(length))
            page[_SERIAL_AT : _CRC_AT + 4] = bytes(_CRC_AT + 4 - _SERIAL_AT)
            digests[serial] = zlib.crc32(page, digests.get(serial, 0))
        new = {
            old: (digest + k) & 0xFFFFFFFF
            for k, (old, digest) in enumerate(digests.items())
        }
        for offset, length, serial in pages:
            f.seek(offset)
            page = bytearray(f.read(length))
            page[_SERIAL_AT : _SERIAL_AT + 4] = struct.pack("<I", new[serial])
            page[_CRC_AT : _CRC_AT + 4] = bytes(4)  # (the CRC covers itself as 0)
            page[_CRC_AT : _CRC_AT + 4] = struct.pack("<I", ogg_crc(bytes(page)))
            f.seek(offset + _SERIAL_AT)
            f.write(page[_SERIAL_AT : _CRC_AT + 4])
    return len(pages)
