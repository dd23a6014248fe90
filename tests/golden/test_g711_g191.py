"""G.711 through the command line against the ITU-T G.191 reference code.

Every int16 value, once each, goes through ``python -m adcsim quantize`` into a
ULAW or ALAW WAV (and, decoded, into PCM_16); the file's data bytes are
compared with a transcription of the reference encoder and decoder. 65536
inputs cover every 14-bit (mu-law) and 13-bit (A-law) linear value the codec
looks at, four and eight times over.

Reference: ITU-T G.191 Software Tool Library, module G711.C "G.711
encoding/decoding functions", Version 3.01 of 31 Jan 2000 (S. Campos Neto,
R. Hofmann), functions ``alaw_compress``, ``alaw_expand``, ``ulaw_compress``,
``ulaw_expand``, as published in github.com/openitu/STL, ``src/g711/g711.c``
(unchanged there since commit c7a6908; read at 139db49).
The four functions below follow that code statement by statement, in Python
integers (the C works on ``short``; every intermediate value here fits in 16
bits, and Python's ``~`` and ``>>`` on negative integers are the two's
complement operations the C relies on). They share nothing with adcsim's
``g711`` module or with tests/unit/test_g711.py (which builds its reference
from the G.711 tables instead). Checked once outside this repository (not
reproducible here): for all 65536 inputs the transcription gives the same
codes and decoded values as that g711.c compiled with gcc, and it reproduces
the STL's test vectors src/g711/test_data/sweep-r.u, sweep-r.a, sweep-r.reu
and sweep-r.rea from sweep.src.

Issue 12: the reference gives 0x7F ("-0") for the mu-law inputs -1..-4. adcsim
wrote 0xFF for them with the g711-mulaw scheme (either source) and with a float
source through the ULAW container alone, where the container handed libsndfile
the decoded level, 0, instead of the code; now the quantizer's codes (or the
container's G.191 bytes) are written as they are.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)
SUBTYPE = {"mulaw": "ULAW", "alaw": "ALAW"}
SCHEME = {"mulaw": "g711-mulaw", "alaw": "g711-alaw"}
#: Issue 12: the ULAW container writes 0xFF for these, G.191 gives 0x7F.
ISSUE_12 = (-4, -3, -2, -1)


# --- G.191 STL g711.c, transcribed -------------------------------------------


def alaw_compress(lin: int) -> int:
    """G.191 ``alaw_compress`` of one 16-bit sample (12 MSBs used)."""
    ix = (~lin) >> 4 if lin < 0 else lin >> 4  # 1's complement for negatives
    if ix > 15:  # exponent = 0 for ix <= 15
        iexp = 1
        while ix > 16 + 15:  # find mantissa and exponent
            ix >>= 1
            iexp += 1
        ix -= 16  # remove leading '1'
        ix += iexp << 4
    if lin >= 0:
        ix |= 0x0080  # sign bit
    return ix ^ 0x0055  # toggle even bits


def alaw_expand(log: int) -> int:
    """G.191 ``alaw_expand`` of one A-law byte (13 bits, left-justified)."""
    ix = log ^ 0x0055
    ix &= 0x007F  # remove sign bit
    iexp = ix >> 4
    mant = ix & 0x000F
    if iexp > 0:
        mant = mant + 16  # leading '1'
    mant = (mant << 4) + 0x0008  # left-justified, plus half a step
    if iexp > 1:
        mant = mant << (iexp - 1)
    return mant if log > 127 else -mant


def ulaw_compress(lin: int) -> int:
    """G.191 ``ulaw_compress`` of one 16-bit sample (14 MSBs used)."""
    # 1's complement of negatives; 33 is the difference between the A-law and
    # mu-law thresholds.
    absno = ((~lin) >> 2) + 33 if lin < 0 else (lin >> 2) + 33
    absno = min(absno, 0x1FFF)
    i = absno >> 6
    segno = 1
    while i != 0:
        segno += 1
        i >>= 1
    high_nibble = 0x0008 - segno
    low_nibble = 0x000F - ((absno >> segno) & 0x000F)
    log = (high_nibble << 4) | low_nibble
    if lin >= 0:
        log |= 0x0080
    return log


def ulaw_expand(log: int) -> int:
    """G.191 ``ulaw_expand`` of one mu-law byte (14 bits, left-justified)."""
    sign = -1 if log < 0x0080 else 1
    mantissa = ~log
    exponent = (mantissa >> 4) & 0x0007
    segment = exponent + 1
    mantissa = mantissa & 0x000F
    step = 4 << segment
    return sign * ((0x0080 << exponent) + step * mantissa + step // 2 - 4 * 33)


COMPRESS = {"mulaw": ulaw_compress, "alaw": alaw_compress}
EXPAND = {"mulaw": ulaw_expand, "alaw": alaw_expand}
REF_BYTES = {
    law: np.array([f(int(v)) for v in ALL_INT16], dtype=np.uint8)
    for law, f in COMPRESS.items()
}
REF_DECODED = {
    law: np.array([EXPAND[law](int(b)) for b in REF_BYTES[law]], dtype=np.int16)
    for law in COMPRESS
}


@pytest.mark.parametrize(
    ("law", "value", "byte"),
    [
        ("mulaw", 0, 0xFF),  # the idle mu-law channel
        ("mulaw", 3, 0xFF),
        ("mulaw", 4, 0xFE),
        ("mulaw", -1, 0x7F),  # -1..-4 are "-0": one's complement magnitude 0..3
        ("mulaw", -4, 0x7F),
        ("mulaw", -5, 0x7E),
        ("mulaw", 32767, 0x80),
        ("mulaw", -32768, 0x00),
        ("alaw", 0, 0xD5),  # the idle A-law channel
        ("alaw", -1, 0x55),
        ("alaw", 32767, 0xAA),
        ("alaw", -32768, 0x2A),
    ],
)
def test_transcription_gives_the_known_codes(law: str, value: int, byte: int) -> None:
    assert COMPRESS[law](value) == byte


def test_transcription_decodes_to_the_g711_table_maxima() -> None:
    # G.711 Table 2a: 8031 x 4 = 32124; Table 1a: 4032 x 8 = 32256.
    assert ulaw_expand(0x80) == 32124 and ulaw_expand(0x00) == -32124
    assert alaw_expand(0xAA) == 32256 and alaw_expand(0x2A) == -32256
    assert ulaw_expand(0xFF) == 0 and ulaw_expand(0x7F) == 0
    assert alaw_expand(0xD5) == 8 and alaw_expand(0x55) == -8
    for law in COMPRESS:  # the decoded value never falls as the input rises
        assert np.all(np.diff(REF_DECODED[law].astype(int)) >= 0)


# --- through the command line -------------------------------------------------


def _wav_data(path: Path) -> bytes:
    """The bytes of a RIFF WAV's data chunk (read here, not by libsndfile)."""
    buf = path.read_bytes()
    assert buf[:4] == b"RIFF" and buf[8:12] == b"WAVE"
    pos = 12
    while pos + 8 <= len(buf):
        chunk_id = buf[pos : pos + 4]
        (size,) = struct.unpack("<I", buf[pos + 4 : pos + 8])
        if chunk_id == b"data":
            return buf[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError(f"no data chunk in {path}")


Runner = Callable[[str, tuple[str, ...]], bytes]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """``run(source, options)``: the data bytes of one CLI run, made once.

    The input is a mono 8 kHz WAV holding every int16 value once, in order,
    written by soundfile as ``source`` (PCM_16, or FLOAT holding value / 32768).
    """
    tmp = tmp_path_factory.mktemp("g711-g191")
    done: dict[tuple[str, ...], bytes] = {}

    def run_once(source: str, options: tuple[str, ...]) -> bytes:
        key = (source, *options)
        if key not in done:
            work = tmp / f"run{len(done)}"
            work.mkdir()
            src = work / "all-int16.wav"
            if source == "PCM_16":
                sf.write(src, ALL_INT16, 8000, subtype="PCM_16")
            else:
                sf.write(src, ALL_INT16 / 32768, 8000, subtype="FLOAT")
            cmd = [sys.executable, "-m", "adcsim", "quantize", str(src), *options]
            cmd += ["-o", str(work / "out.wav"), "--no-report", "--no-plot", "-q"]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            done[key] = _wav_data(work / "out.wav")
        return done[key]

    return run_once


def _options(law: str, route: str) -> tuple[str, ...]:
    # "scheme": the G.711 quantizer, then the container; "container": a 16-bit
    # uniform quantizer (the identity on 16-bit values), so only the ULAW/ALAW
    # container encodes.
    if route == "scheme":
        return ("-s", SCHEME[law], "--subtype", SUBTYPE[law])
    return ("-b", "16", "--subtype", SUBTYPE[law])


def _mismatches(got: np.ndarray, want: np.ndarray, where: np.ndarray) -> str:
    bad = np.nonzero((got != want) & where)[0]
    shown = ", ".join(
        f"{ALL_INT16[i]} -> {got[i]:#04x} (G.191 {want[i]:#04x})" for i in bad[:12]
    )
    return f"{bad.size} inputs differ: {shown}"


@pytest.mark.parametrize("route", ["scheme", "container"])
@pytest.mark.parametrize("source", ["PCM_16", "FLOAT"])
@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_every_input_is_written_as_the_g191_byte_but_issue_12(
    law: str, source: str, route: str, run: Runner
) -> None:
    data = np.frombuffer(run(source, _options(law, route)), np.uint8)
    assert data.size == ALL_INT16.size
    if law == "mulaw":
        checked = ~np.isin(ALL_INT16, ISSUE_12)
    else:
        checked = np.ones(ALL_INT16.size, dtype=bool)
    ok = not np.any((data != REF_BYTES[law]) & checked)
    assert ok, _mismatches(data, REF_BYTES[law], checked)


@pytest.mark.parametrize(
    ("source", "route"),
    [
        ("PCM_16", "scheme"),
        ("FLOAT", "scheme"),
        ("PCM_16", "container"),
        ("FLOAT", "container"),
    ],
)
def test_mulaw_inputs_minus_1_to_minus_4_are_written_as_0x7f(
    source: str, route: str, run: Runner
) -> None:
    data = np.frombuffer(run(source, _options("mulaw", route)), np.uint8)
    where = np.isin(ALL_INT16, ISSUE_12)
    assert REF_BYTES["mulaw"][where].tolist() == [0x7F] * 4
    assert data[where].tolist() == [0x7F] * 4, _mismatches(
        data, REF_BYTES["mulaw"], where
    )


@pytest.mark.parametrize("source", ["PCM_16", "FLOAT"])
@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_decoded_levels_in_pcm_16_are_the_g191_expansion(
    law: str, source: str, run: Runner
) -> None:
    options = ("-s", SCHEME[law], "--subtype", "PCM_16")
    data = np.frombuffer(run(source, options), "<i2")
    bad = np.nonzero(data != REF_DECODED[law])[0]
    shown = [(int(ALL_INT16[i]), int(data[i]), int(REF_DECODED[law][i])) for i in bad]
    assert bad.size == 0, f"(input, written, G.191): {shown[:12]}"
