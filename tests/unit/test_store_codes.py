"""Storing codes: the shortcut for codes that are their own levels, and its bound."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.io import _containers as containers
from adcsim.quantizers._registry import make_quantizer


@pytest.mark.parametrize(
    ("scheme", "bits", "subtype"),
    [
        ("uniform", 8, "PCM_U8"),
        ("uniform", 16, "PCM_16"),
        ("floor", 8, "PCM_S8"),
        ("midrise", 7, "PCM_U8"),
        ("uniform", 6, "PCM_16"),
        ("mulaw", 8, "PCM_16"),
    ],
)
def test_stored_levels_are_the_rounded_decoded_levels(scheme, bits, subtype):
    q = make_quantizer(scheme, bits=bits)
    codes = np.arange(-(q.levels // 2), q.levels // 2, dtype=np.int32)[:, None]
    ints, written = containers.Container(subtype, q).store_codes(codes)
    scale = 2.0 ** (containers.PCM_BITS[subtype] - 1)
    # independent of the table: the decoded level on the container's grid
    want = np.clip(np.round(q.decode(codes) * scale), -scale, scale - 1)
    np.testing.assert_array_equal(ints, want)
    np.testing.assert_array_equal(written, want / scale)
    assert (
        containers.Container(subtype, q).store_codes(codes, read_back=False)[1] is None
    )


def test_24_bit_codes_build_no_table_of_every_level():
    # a table of 2**24 levels took the peak memory of a 24-bit run to 421 MiB
    containers._level_table.cache_clear()
    q = make_quantizer("uniform", bits=24)
    codes = np.array([[-(2**23)], [0], [2**23 - 1]], dtype=np.int32)
    ints, _ = containers.Container("PCM_24", q).store_codes(codes)
    assert ints.ravel().tolist() == [-(2**23), 0, 2**23 - 1]
    assert containers._level_table.cache_info().currsize == 0
