"""Tests of adcsim.quantizers.g711 and the g711-mulaw / g711-alaw quantizers.

The reference below is written independently of adcsim/g711.py, as a plain
scalar table search, from:

* ITU-T G.711 (11/1988), Table 1a/1b (A-law) and Table 2a/2b (mu-law): segment
  end points and the number of equal intervals in each segment give the decision
  values x_0..x_128 (x_128 is the "virtual" decision value, the overload point);
  the decoder output of interval n = [x_n, x_(n+1)) is its midpoint, except the
  mu-law interval 0 = [0, 1) whose output is 0. The character signal of interval
  n is 128 + n (positive) or n (negative) with the even bits 2, 4, 6, 8 inverted
  for A-law, and 255 - n (positive) or 127 - n (negative) for mu-law.
* ITU-T G.191 STL, module g711 (github.com/openitu/STL, src/g711/g711.c and
  doc/manual/g711.tex): input is 16-bit left-justified two's complement; a
  negative sample v is first turned into the magnitude ~v = -v - 1 (one's
  complement) and only the 14 (mu-law) or 13 (A-law, with sign) most significant
  bits are used; output is left-justified 16-bit, i.e. the table values x 4
  (mu-law) and x 8 (A-law). A magnitude equal to a decision value x_n belongs to
  interval n.

Outside this file (not reproducible here, so reported rather than tested):
adcsim.quantizers.g711 was also compared with the G.191 C code compiled from that
repository and with its distributed test vectors (src/g711/test_data/sweep.src,
a ramp over all 65536 values, and sweep-r.u/.a/.u-u/.a-a/.reu/.rea): no
difference in any code or value.
"""

from __future__ import annotations

import bisect
import io
import struct

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.quantizers import g711
from adcsim.quantizers._g711_schemes import G711AlawQuantizer, G711MulawQuantizer
from adcsim.quantizers._registry import SCHEMES, make_quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.stages._chain import Chain, StreamInfo

LAWS: tuple[g711.Law, ...] = ("mulaw", "alaw")
ALL_INT16 = np.arange(-32768, 32768).astype(np.int16)
ALL_BYTES = np.arange(256, dtype=np.uint8)

# --- the independent reference ----------------------------------------------

# Table 2a/G.711 (mu-law), 14-bit units: segment end points and interval counts.
# The first "segment" is split as the table prints it: 1 interval [0, 1), then
# 15 intervals of 2 up to 31.
_MU_ENDS = [0, 1, 31, 95, 223, 479, 991, 2015, 4063, 8159]
_MU_COUNTS = [1, 15, 16, 16, 16, 16, 16, 16, 16]
# Table 1a/G.711 (A-law), 13-bit units (full scale 4096): 8 segments of 16
# intervals (the first two share the step 2: the 13-segment law).
_A_ENDS = [0, 32, 64, 128, 256, 512, 1024, 2048, 4096]
_A_COUNTS = [16] * 8


def _decision_values(ends: list[int], counts: list[int]) -> list[int]:
    xs: list[int] = []
    for lo, hi, count in zip(ends[:-1], ends[1:], counts, strict=True):
        step = (hi - lo) // count
        assert step * count == hi - lo
        xs.extend(lo + i * step for i in range(count))
    xs.append(ends[-1])
    assert len(xs) == 129
    return xs


REF_X = {
    "mulaw": _decision_values(_MU_ENDS, _MU_COUNTS),
    "alaw": _decision_values(_A_ENDS, _A_COUNTS),
}
# Decoder output of interval n: its midpoint; mu-law's interval 0 outputs 0.
REF_Y = {
    law: [(xs[n] + xs[n + 1]) // 2 for n in range(128)] for law, xs in REF_X.items()
}
REF_Y["mulaw"][0] = 0
# 16-bit scale of the table units (G.191's left justification).
REF_SCALE = {"mulaw": 4, "alaw": 8}


def _ref_magnitude(law: g711.Law, v: int) -> int:
    """G.191: one's complement of negatives, then keep the 14 or 13 MSBs."""
    m16 = v if v >= 0 else -v - 1
    if law == "mulaw":
        return m16 // 4  # 14-bit left-justified: drop 2 LSBs
    return 2 * (m16 // 16)  # sign + 12 bits: drop 4 LSBs, in the 4096 scale


def _ref_interval(law: g711.Law, m: int) -> int:
    """Interval n with x_n <= m < x_(n+1); m >= x_128 (overload) codes as 127."""
    return bisect.bisect_right(REF_X[law][:128], m) - 1


def ref_encode(law: g711.Law, v: int) -> int:
    n = _ref_interval(law, _ref_magnitude(law, v))
    if law == "mulaw":
        return 255 - n if v >= 0 else 127 - n
    return (128 + n if v >= 0 else n) ^ 0b01010101


def ref_decode(law: g711.Law, byte: int) -> int:
    if law == "mulaw":
        positive, n = (True, 255 - byte) if byte >= 128 else (False, 127 - byte)
    else:
        c = byte ^ 0b01010101
        positive, n = c >= 128, c & 127
    value = REF_SCALE[law] * REF_Y[law][n]
    return value if positive else -value


def ref_overload(law: g711.Law, v: int) -> bool:
    """Beyond the virtual decision value x_128 (v may exceed 16 bits)."""
    m16 = v if v >= 0 else -v - 1
    return m16 >= REF_SCALE[law] * REF_X[law][128]


REF_CODES = {
    law: np.array([ref_encode(law, int(v)) for v in ALL_INT16], dtype=np.uint8)
    for law in LAWS
}
REF_VALUES = {
    law: np.array([ref_decode(law, int(b)) for b in ALL_BYTES], dtype=np.int16)
    for law in LAWS
}


def test_reference_tables_have_the_published_end_points() -> None:
    # Table 2a: outputs 0, 2, ..., 30, 33, ..., 8031; Table 1a: 1, 3, ..., 4032.
    assert REF_Y["mulaw"][:3] == [0, 2, 4] and REF_Y["mulaw"][16] == 33
    assert REF_Y["mulaw"][127] == 8031 and REF_X["mulaw"][127] == 7903
    assert REF_Y["alaw"][:2] == [1, 3] and REF_Y["alaw"][32] == 66
    assert REF_Y["alaw"][127] == 4032 and REF_X["alaw"][127] == 3968


# --- the codec ----------------------------------------------------------------


@pytest.mark.parametrize("law", LAWS)
def test_encode_matches_the_reference_for_every_16bit_input(law: g711.Law) -> None:
    codes = g711.encode(ALL_INT16, law)
    assert codes.dtype == np.uint8
    bad = np.nonzero(codes != REF_CODES[law])[0]
    assert bad.size == 0, f"first mismatching inputs: {ALL_INT16[bad[:5]]}"


@pytest.mark.parametrize("law", LAWS)
def test_decode_matches_the_reference_for_every_code(law: g711.Law) -> None:
    values = g711.decode(ALL_BYTES, law)
    assert values.dtype == np.int16
    np.testing.assert_array_equal(values, REF_VALUES[law])


@pytest.mark.parametrize("law", LAWS)
def test_decoding_every_encoded_input_matches_the_reference(law: g711.Law) -> None:
    np.testing.assert_array_equal(
        g711.decode(g711.encode(ALL_INT16, law), law), REF_VALUES[law][REF_CODES[law]]
    )


@pytest.mark.parametrize(
    ("law", "value", "code"),
    [
        ("mulaw", 0, 0xFF),  # idle mu-law channel
        ("mulaw", -1, 0x7F),  # -1..-4 are "-0" in G.191 (one's complement)
        ("mulaw", -4, 0x7F),
        ("mulaw", -5, 0x7E),
        ("mulaw", 3, 0xFF),
        ("mulaw", 4, 0xFE),
        ("mulaw", 32767, 0x80),
        ("mulaw", -32768, 0x00),
        ("alaw", 0, 0xD5),  # idle A-law channel
        ("alaw", -1, 0x55),
        ("alaw", 32767, 0xAA),
        ("alaw", -32768, 0x2A),
    ],
)
def test_published_spot_values(law: g711.Law, value: int, code: int) -> None:
    assert int(g711.encode(np.int16(value), law)) == code


def test_decoded_extremes_are_the_published_maxima() -> None:
    assert g711.decode(0x80, "mulaw") == 32124 and g711.decode(0x00, "mulaw") == -32124
    assert g711.decode(0xAA, "alaw") == 32256 and g711.decode(0x2A, "alaw") == -32256
    for law in LAWS:
        values = g711.decode(ALL_BYTES, law)
        assert np.abs(values.astype(int)).max() == g711.MAX_DECODED[law]


# G.711 Tables 5 and 6: one character sequence for a 1 kHz sine at 0 dBm0
# (the "digital milliwatt"), sampled at 8 kHz.
MILLIWATT = {
    "alaw": [0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4],
    "mulaw": [0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E],
}
# G.711 clause 4: T_max (the virtual decision value x_128) is +3.14 dBm0 for
# A-law and +3.17 dBm0 for mu-law.
T_MAX_DBM0 = {"alaw": 3.14, "mulaw": 3.17}


@pytest.mark.parametrize("law", LAWS)
def test_a_0_dbm0_sine_encodes_to_the_digital_milliwatt(law: g711.Law) -> None:
    peak = REF_SCALE[law] * REF_X[law][128] * 10 ** (-T_MAX_DBM0[law] / 20)
    k = np.arange(8)
    x = -peak * np.sin(np.pi / 8 + 2 * np.pi * 1000 * k / 8000)
    assert g711.encode(np.round(x).astype(np.int16), law).tolist() == MILLIWATT[law]
    # and the sequence decodes to 0 dBm0 within 0.02 dB
    decoded = g711.decode(MILLIWATT[law], law).astype(np.float64)
    level = 10 * np.log10(np.mean(decoded**2) / (peak**2 / 2))
    assert abs(level) < 0.02


@pytest.mark.parametrize("law", LAWS)
def test_negative_input_codes_like_its_ones_complement(law: g711.Law) -> None:
    # G.191: v and ~v = -v - 1 differ only in the sign bit.
    pos = np.arange(0, 32768).astype(np.int16)
    np.testing.assert_array_equal(
        g711.encode(~pos, law), g711.encode(pos, law) ^ np.uint8(0x80)
    )


@pytest.mark.parametrize("law", LAWS)
def test_reencoding_a_decoded_value_gives_the_same_value(law: g711.Law) -> None:
    once = g711.decode(ALL_BYTES, law)
    np.testing.assert_array_equal(g711.decode(g711.encode(once, law), law), once)
    as_float = g711.decode(ALL_BYTES, law, dtype=np.float64)
    np.testing.assert_array_equal(
        g711.decode(g711.encode(as_float, law), law, dtype=np.float64), as_float
    )


@pytest.mark.parametrize("law", LAWS)
def test_codes_are_identical_except_mulaw_negative_zero(law: g711.Law) -> None:
    again = g711.encode(g711.decode(ALL_BYTES, law), law)
    differ = ALL_BYTES[again != ALL_BYTES].tolist()
    assert differ == ([0x7F] if law == "mulaw" else [])


@pytest.mark.parametrize("law", LAWS)
def test_float_input_is_rounded_half_to_even_then_clipped(law: g711.Law) -> None:
    ints = [-40000, -32769, -32768, -3, -2, -1, 0, 1, 2, 5, 32767, 32768, 50000]
    halves = [k + 0.5 for k in range(-10, 10)] + [32766.5, 32767.5, -32768.5]
    values = [float(v) for v in ints] + halves
    x = np.array(values) / 32768
    # Python's round() rounds half to even, independently of numpy.
    expected = [min(max(round(v), -32768), 32767) for v in values]
    np.testing.assert_array_equal(
        g711.encode(x, law), g711.encode(np.array(expected, dtype=np.int16), law)
    )
    np.testing.assert_array_equal(
        g711.encode(x.astype(np.float32), law), g711.encode(x, law)
    )


@pytest.mark.parametrize("law", LAWS)
def test_float_input_beyond_double_full_scale_and_infinity_clip(law: g711.Law) -> None:
    x = np.array([1e300, -1e300, np.inf, -np.inf])
    codes, overload = g711.encode_counting(x, law)
    np.testing.assert_array_equal(
        codes, g711.encode(np.array([32767, -32768, 32767, -32768], np.int16), law)
    )
    assert overload == 4


@pytest.mark.parametrize("law", LAWS)
def test_decode_to_floats_is_value_over_32768(law: g711.Law) -> None:
    ints = g711.decode(ALL_BYTES, law).astype(np.float64)
    for dtype in (np.float64, np.float32):
        out = g711.decode(ALL_BYTES, law, dtype=dtype)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, (ints / 32768).astype(dtype))
    assert g711.decode(ALL_BYTES, law, dtype=np.int32).dtype == np.int32


def test_shape_is_kept() -> None:
    x = np.linspace(-1, 1, 12).reshape(3, 2, 2)
    codes = g711.encode(x, "alaw")
    assert codes.shape == (3, 2, 2)
    assert g711.decode(codes, "alaw").shape == (3, 2, 2)
    strided = ALL_INT16[::7].reshape(-1, 1)[::3]
    np.testing.assert_array_equal(
        g711.encode(strided, "mulaw"), REF_CODES["mulaw"][::7][::3].reshape(-1, 1)
    )


@pytest.mark.parametrize("law", LAWS)
def test_other_integer_types_holding_16bit_values_are_accepted(law: g711.Law) -> None:
    values = ALL_INT16[::97]
    np.testing.assert_array_equal(
        g711.encode(values.astype(np.int64), law), REF_CODES[law][::97]
    )
    np.testing.assert_array_equal(
        g711.encode(values.tolist(), law), REF_CODES[law][::97]
    )


@pytest.mark.parametrize("law", LAWS)
def test_overload_counts_samples_beyond_the_virtual_decision_value(
    law: g711.Law,
) -> None:
    candidates = list(range(-33000, -32500)) + list(range(32500, 33000))
    x = np.array(candidates, dtype=np.float64) / 32768
    _, overload = g711.encode_counting(x, law)
    assert overload == sum(ref_overload(law, v) for v in candidates)
    _, overload16 = g711.encode_counting(ALL_INT16, law)
    assert overload16 == sum(ref_overload(law, int(v)) for v in ALL_INT16)


def test_overload_thresholds() -> None:
    counting = g711.encode_counting
    assert counting(np.array([32635, -32636], np.int16), "mulaw")[1] == 0
    assert counting(np.array([32636, -32637], np.int16), "mulaw")[1] == 2
    assert counting(np.array([32767, -32768], np.int16), "alaw")[1] == 0
    # float: 32767.5 rounds (to even) to 32768, -32768.5 to -32768
    assert counting(np.array([32767.5, -32768.5]) / 32768, "alaw")[1] == 1
    assert g711.OVERLOAD == {"mulaw": 32636, "alaw": 32768}
    # the top 132 values of each polarity overload mu-law; none overload A-law
    assert counting(ALL_INT16, "mulaw")[1] == 264
    assert counting(ALL_INT16, "alaw")[1] == 0


def test_errors_are_adcsim_errors_naming_the_value() -> None:
    with pytest.raises(AdcsimError, match="law='ulaw'"):
        g711.encode([0.0], "ulaw")  # type: ignore[arg-type]
    with pytest.raises(AdcsimError, match="law='A'"):
        g711.decode([0], "A")  # type: ignore[arg-type]
    with pytest.raises(AdcsimError, match="NaN"):
        g711.encode([0.0, np.nan], "mulaw")
    with pytest.raises(AdcsimError, match="max=40000"):
        g711.encode(np.array([0, 40000]), "mulaw")
    with pytest.raises(AdcsimError, match="max=256"):
        g711.decode([0, 256], "alaw")
    with pytest.raises(AdcsimError, match="min=-1"):
        g711.decode([-1], "alaw")
    for dtype in (np.uint8, np.int8, np.uint16):
        with pytest.raises(AdcsimError, match="dtype="):
            g711.decode([0], "alaw", dtype=dtype)
    with pytest.raises(TypeError):
        g711.decode([0.5], "alaw")
    with pytest.raises(TypeError):
        g711.encode(np.array([1j]), "alaw")


# --- the quantizers -----------------------------------------------------------

QUANTIZERS = {"mulaw": G711MulawQuantizer, "alaw": G711AlawQuantizer}


def test_schemes_are_registered() -> None:
    assert SCHEMES["g711-mulaw"] is G711MulawQuantizer
    assert SCHEMES["g711-alaw"] is G711AlawQuantizer
    assert isinstance(make_quantizer("g711-alaw", bits=8), G711AlawQuantizer)
    assert repr(make_quantizer("g711-mulaw")) == "G711MulawQuantizer(bits=8)"


@pytest.mark.parametrize("bits", [1, 6, 7, 9, 16, 24])
def test_bits_other_than_8_are_refused(bits: int) -> None:
    with pytest.raises(
        AdcsimError, match=rf"^bits={bits} is not allowed for g711-mulaw: it must be 8$"
    ):
        G711MulawQuantizer(bits=bits)
    with pytest.raises(
        AdcsimError, match=rf"^bits={bits} is not allowed for g711-alaw"
    ):
        make_quantizer("g711-alaw", bits=bits)


@pytest.mark.parametrize("bits", [8.0, True, "8"])
def test_bits_that_are_not_integers_are_refused(bits: object) -> None:
    with pytest.raises(AdcsimError, match="is not allowed for g711-alaw: it must be 8"):
        G711AlawQuantizer(bits=bits)  # type: ignore[arg-type]


def test_numpy_integer_8_is_accepted() -> None:
    assert G711AlawQuantizer(bits=np.int64(8)).bits == 8


@pytest.mark.parametrize("law", LAWS)
def test_codebook_is_the_sorted_decoded_values(law: g711.Law) -> None:
    q = QUANTIZERS[law]()
    assert q.bits == 8 and q.levels == 256 and q.step is None and q.params == {}
    assert q.codebook.shape == (256,)
    np.testing.assert_array_equal(q.codebook, np.sort(REF_VALUES[law]) / 32768)
    k = np.arange(-128, 128)
    np.testing.assert_array_equal(q.decode(k), q.codebook[k + 128])


def _documented_code_of_byte(law: g711.Law, byte: int) -> int:
    if law == "mulaw":
        return byte - 128 if byte < 128 else 255 - byte
    n = (byte ^ 0x55) & 0x7F
    return n if byte >= 128 else -1 - n


@pytest.mark.parametrize("law", LAWS)
def test_codes_and_bytes_follow_the_documented_mapping(law: g711.Law) -> None:
    q = QUANTIZERS[law]()
    expected = np.array([_documented_code_of_byte(law, int(b)) for b in ALL_BYTES])
    codes = q.from_g711_bytes(ALL_BYTES)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, expected)
    np.testing.assert_array_equal(q.g711_bytes(codes), ALL_BYTES)
    assert sorted(codes.tolist()) == list(range(-128, 128))
    # decode(code of byte) is the byte's decoded value
    np.testing.assert_array_equal(q.decode(codes) * 32768, REF_VALUES[law])


@pytest.mark.parametrize("law", LAWS)
def test_quantizer_matches_the_reference_on_every_16bit_input(law: g711.Law) -> None:
    q = QUANTIZERS[law]()
    x = ALL_INT16 / 32768
    codes, overload = q.encode_counting(x)
    assert codes.dtype == np.int32
    assert np.all(np.diff(codes) >= 0), "codes must be non-decreasing in x"
    np.testing.assert_array_equal(q.g711_bytes(codes), REF_CODES[law])
    np.testing.assert_array_equal(
        q.quantize(x) * 32768, REF_VALUES[law][REF_CODES[law]]
    )
    assert overload == sum(ref_overload(law, int(v)) for v in ALL_INT16)


def test_mulaw_zeros_have_codes_minus_one_and_zero() -> None:
    q = G711MulawQuantizer()
    x = np.array([-5, -4, -1, 0, 3, 4]) / 32768
    assert q.encode(x).tolist() == [-2, -1, -1, 0, 0, 1]
    assert q.codebook[127] == 0.0 and q.codebook[128] == 0.0


def test_byte_conversions_refuse_out_of_range_values() -> None:
    q = G711AlawQuantizer()
    with pytest.raises(AdcsimError, match="max=128"):
        q.g711_bytes([0, 128])
    with pytest.raises(AdcsimError, match="max=300"):
        q.from_g711_bytes([300])


@pytest.mark.parametrize("law", LAWS)
def test_quantize_stage_counts_overload_and_streams(law: g711.Law) -> None:
    q = QUANTIZERS[law]()
    x = np.linspace(-1.2, 1.2, 2001).reshape(-1, 1)
    stage = QuantizeStage(q)
    assert stage.start(StreamInfo(rate=8000, channels=1)).bits == 8
    out = np.concatenate([stage.process(x[:700]), stage.process(x[700:])])
    np.testing.assert_array_equal(out, q.encode(x))  # the stage hands on codes
    expected = sum(ref_overload(law, round(float(v) * 32768)) for v in x.ravel())
    assert stage.counters["clipped_samples"] == expected > 0
    chain = Chain([QuantizeStage(q)])
    chain.start(StreamInfo(rate=8000, channels=1))
    streamed = np.concatenate(list(chain.run([x[:1], x[1:999], x[999:]])))
    np.testing.assert_array_equal(streamed, out)


# --- libsndfile's ULAW / ALAW WAV subtypes ------------------------------------


def _wav_data_chunk(buf: bytes) -> bytes:
    assert buf[:4] == b"RIFF" and buf[8:12] == b"WAVE"
    pos = 12
    while pos + 8 <= len(buf):
        chunk_id = buf[pos : pos + 4]
        (size,) = struct.unpack("<I", buf[pos + 4 : pos + 8])
        if chunk_id == b"data":
            return buf[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


@pytest.mark.parametrize(("law", "subtype"), [("mulaw", "ULAW"), ("alaw", "ALAW")])
@pytest.mark.parametrize("kind", ["int16", "float64", "float32"])
def test_libsndfile_writes_and_reads_the_decoded_levels_bit_exactly(
    law: g711.Law, subtype: str, kind: str
) -> None:
    sf = pytest.importorskip("soundfile")
    levels = g711.decode(ALL_BYTES, law)
    data = levels if kind == "int16" else (levels / 32768).astype(kind)
    buf = io.BytesIO()
    sf.write(buf, data, 8000, format="WAV", subtype=subtype)
    raw = np.frombuffer(_wav_data_chunk(buf.getvalue()), dtype=np.uint8)
    np.testing.assert_array_equal(raw, g711.encode(levels, law))
    buf.seek(0)
    back, rate = sf.read(buf, dtype="int16")
    assert rate == 8000
    np.testing.assert_array_equal(back, levels)
    buf.seek(0)
    back_float, _ = sf.read(buf, dtype="float64")
    np.testing.assert_array_equal(back_float, levels / 32768)
