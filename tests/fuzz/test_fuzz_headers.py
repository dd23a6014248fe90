"""Seeded header mutations of every format libsndfile reads, through files and stdin.

Each case writes a tiny valid file with soundfile, mutates its header bytes
(bit flips, size fields set to 0 / huge / negative, truncation, chunk ids
swapped, random bytes) with a generator seeded by the case number, and runs
``adcsim quantize`` on it. Whatever the bytes, the outcome must be one of:

* exit 0 with a readable output file and its report, or
* exit 1 with exactly one ``Error:`` line, no traceback and no file left;

never a hang (a timeout), another exit code, or a changed input.

Most cases run in this process through Click's CliRunner (about 30 ms each);
a share runs as real processes, through a file and through stdin
(``adcsim quantize - -o out.wav < in``), which also catches what only a
process shows: C libraries writing to the file descriptors, a hang in C code.
``make test`` runs `CASES` in-process and `PROCESS_CASES` process cases;
``make fuzz`` sets ``ADCSIM_FUZZ`` to run thousands.

A failure names its case, so ``case_bytes(case)`` gives the exact input again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from adcsim.cli._main import main

SEED = 19  # the number: any fixed seed does
FUZZ = int(os.environ.get("ADCSIM_FUZZ", "0"))
CASES = FUZZ or 160
PROCESS_CASES = FUZZ // 4 or 24
TIMEOUT_S = 60  # a loaded two-core machine; a hang takes for ever
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

#: Formats libsndfile writes in mono only.
MONO_ONLY = {"SVX", "HTK", "WVE", "XI"}
#: (format, subtype) of the source files: everything libsndfile here writes.
FORMATS = [
    ("WAV", "PCM_16"),
    ("WAV", "FLOAT"),
    ("WAV", "ULAW"),
    ("WAVEX", "PCM_24"),
    ("RF64", "PCM_16"),
    ("W64", "PCM_16"),
    ("AIFF", "PCM_16"),
    ("AIFF", "FLOAT"),
    ("AU", "PCM_16"),
    ("CAF", "PCM_16"),
    ("FLAC", "PCM_16"),
    ("OGG", "VORBIS"),
    ("MP3", "MPEG_LAYER_III"),
    ("VOC", "PCM_16"),
    ("NIST", "PCM_16"),
    ("IRCAM", "PCM_16"),
    ("PAF", "PCM_16"),
    ("MAT5", "DOUBLE"),
    ("SVX", "PCM_16"),
    ("AVR", "PCM_16"),
    ("HTK", "PCM_16"),
    ("WVE", "ALAW"),
    ("XI", "DPCM_16"),
]
#: The WAV family, the formats a stream on stdin can hold.
STREAMABLE = [i for i, (fmt, _) in enumerate(FORMATS) if fmt in ("WAV", "WAVEX")]
CHUNK_IDS = [
    b"RIFF", b"RIFX", b"RF64", b"WAVE", b"fmt ", b"data", b"fact", b"ds64",
    b"LIST", b"JUNK", b"FORM", b"AIFF", b"AIFC", b"COMM", b"SSND", b"caff",
    b"desc", b"fLaC", b"OggS", b".snd", b"\x00\x00\x00\x00",
]  # fmt: skip
SIZES = [0, 1, 2, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


@functools.cache  # libsndfile stamps PEAK and MAT5 headers with the time
def source(index: int, channels: int) -> bytes:
    """A tiny valid file: 400 frames of a tone, in ``FORMATS[index]``."""
    fmt, subtype = FORMATS[index]
    channels = 1 if fmt in MONO_ONLY else channels
    t = np.arange(400)
    x = 0.4 * np.sin(2 * np.pi * 0.05 * t)[:, None] * np.ones(channels)
    buffer = io.BytesIO()
    sf.write(buffer, x, 8000, format=fmt, subtype=subtype)
    data = buffer.getvalue()
    return _fixed_ogg_serial(data) if fmt == "OGG" else data


def _ogg_crc(page: bytes) -> int:
    """The CRC-32 of an Ogg page (RFC 3533: polynomial 0x04C11DB7, no reflection)."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _fixed_ogg_serial(data: bytes) -> bytes:
    """libvorbis picks a random stream serial number: fix it, so cases repeat."""
    out, at = bytearray(data), 0
    while at + 27 <= len(out) and out[at : at + 4] == b"OggS":
        segments = out[at + 26]
        size = 27 + segments + sum(out[at + 27 : at + 27 + segments])
        out[at + 14 : at + 18] = b"adcs"
        out[at + 22 : at + 26] = bytes(4)
        crc = _ogg_crc(bytes(out[at : at + size]))
        out[at + 22 : at + 26] = crc.to_bytes(4, "little")
        at += size
    return bytes(out)


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One seeded mutation of the header (the first 128 bytes); bytes and a recipe."""
    out = bytearray(data)
    head = min(len(out), 128)
    kind = rng.choice(["flip", "size32", "size16", "truncate", "chunk", "bytes"])
    if kind == "flip":
        for _ in range(int(rng.integers(1, 5))):
            at = int(rng.integers(head))
            out[at] ^= 1 << int(rng.integers(8))
        return bytes(out), "flip"
    if kind in ("size32", "size16"):
        width = 4 if kind == "size32" else 2
        at = int(rng.integers(0, max(head - width, 1))) & ~(width - 1)
        value = int(rng.choice(SIZES)) & ((1 << (8 * width)) - 1)
        order = "little" if rng.random() < 0.5 else "big"
        out[at : at + width] = value.to_bytes(width, order)
        return bytes(out), f"{kind} at {at} = {value:#x} {order}"
    if kind == "truncate":
        cut = int(rng.integers(0, len(out)))
        return bytes(out[:cut]), f"truncate to {cut}"
    if kind == "chunk":
        present = [c for c in CHUNK_IDS if bytes(out[:head]).find(c) >= 0]
        if present:
            old = present[int(rng.integers(len(present)))]
            new = CHUNK_IDS[int(rng.integers(len(CHUNK_IDS)))]
            at = bytes(out).find(old)
            out[at : at + 4] = new
            return bytes(out), f"chunk {old!r} at {at} -> {new!r}"
    for _ in range(int(rng.integers(1, 9))):
        out[int(rng.integers(head))] = int(rng.integers(256))
    return bytes(out), "bytes"


def case_bytes(case: int, *, streamable: bool = False) -> tuple[bytes, str, str]:
    """The input of one case: bytes, its recipe, and the source format."""
    rng = np.random.default_rng([SEED, case, int(streamable)])
    choices = STREAMABLE if streamable else range(len(FORMATS))
    index = int(rng.choice(list(choices)))
    data, recipe = mutate(source(index, int(rng.integers(1, 3))), rng)
    return data, recipe, "/".join(FORMATS[index])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_outcome(
    code: int, stderr: str, folder: Path, input_name: str, what: str
) -> None:
    assert "Traceback" not in stderr, what + "\n" + stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("Error:")]
    left = sorted(n for n in os.listdir(folder) if n != input_name)
    if code == 0:
        assert errors == [], what + "\n" + stderr
        assert left == ["out.json", "out.wav"], (what, left)
        sf.info(str(folder / "out.wav"))  # a valid output
    else:
        assert code == 1, what + "\n" + stderr
        assert len(errors) == 1, what + "\n" + stderr
        assert left == [], (what, left)


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """A hang in Python code becomes an error of this case (SIGALRM)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _run_in_process(case: int, folder: Path) -> str | None:
    """One case through CliRunner; None if it behaved, else what went wrong."""
    data, recipe, fmt = case_bytes(case)
    folder.mkdir()
    src = folder / "in.bin"
    src.write_bytes(data)
    before = _sha(src)
    what = f"case {case} file ({fmt}, {recipe})"
    args = ["quantize", str(src), "-o", str(folder / "out.wav"), "--no-plot", "-q"]
    with _deadline(TIMEOUT_S):
        result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{what}: {result.exception!r}"
    try:
        check_outcome(result.exit_code, result.stderr, folder, "in.bin", what)
        assert _sha(src) == before, what
    except AssertionError as exc:
        return str(exc)
    return None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM")
def test_mutated_headers_in_process(tmp_path: Path) -> None:
    found = [_run_in_process(case, tmp_path / f"c{case}") for case in range(CASES)]
    problems = [p for p in found if p is not None]
    assert problems == [], "\n".join(problems)


def _run_process(case: int, folder: Path, stdin: bool) -> str | None:
    """One case in a real process; None if it behaved, else what went wrong."""
    data, recipe, fmt = case_bytes(case, streamable=stdin)
    folder.mkdir()
    src = folder / "in.bin"
    src.write_bytes(data)
    args = ["-", "-o", "out.wav"] if stdin else ["in.bin", "-o", "out.wav"]
    what = f"case {case} {'stdin' if stdin else 'file'} ({fmt}, {recipe})"
    try:
        with open(src, "rb") as feed:
            done = subprocess.run(
                [sys.executable, "-m", "adcsim", "quantize", *args, "--no-plot", "-q"],
                stdin=feed if stdin else subprocess.DEVNULL,
                capture_output=True,
                cwd=folder,
                env=ENV,
                timeout=TIMEOUT_S,
            )
    except subprocess.TimeoutExpired:
        return f"{what}: hung (no exit within {TIMEOUT_S} s)"
    try:
        check_outcome(done.returncode, done.stderr.decode(), folder, "in.bin", what)
        assert src.read_bytes() == data, what
        assert done.stdout == b"", what
    except AssertionError as exc:
        return str(exc)
    return None


def test_mutated_headers_through_files_and_stdin(tmp_path: Path) -> None:
    jobs = [(case, stdin) for case in range(PROCESS_CASES) for stdin in (False, True)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        found = list(
            pool.map(
                lambda job: _run_process(
                    job[0], tmp_path / f"c{job[0]}-{int(job[1])}", job[1]
                ),
                jobs,
            )
        )
    problems = [p for p in found if p is not None]
    assert problems == [], "\n".join(problems)


def test_the_mutations_are_seeded_and_of_every_kind() -> None:
    first = [case_bytes(c) for c in range(40)]
    assert first == [case_bytes(c) for c in range(40)]
    kinds = {recipe.split()[0] for _, recipe, _ in first}
    assert kinds == {"flip", "size32", "size16", "truncate", "chunk", "bytes"}
