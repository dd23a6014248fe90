"""``python -m adcsim quantize`` as a real process: pipes, exit codes, no traceback.

WAV streams are built here byte by byte from the RIFF/WAVE layout (Microsoft's
"Multimedia Programming Interface and Data Specifications 1.0" and the
WAVE_FORMAT_EXTENSIBLE note), the way sox and ffmpeg write them to pipes: sizes
0xFFFFFFFF, or sox's "magic length" 0x7FFFF000 rounded down to whole frames
(``MS_UNSPEC`` in sox's ``src/wav.c``), which sox writes when it cannot seek.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
PCM, FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
# KSDATAFORMAT_SUBTYPE_PCM: the format tag followed by the fixed GUID tail.
GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def adcsim(*args: Any, stdin: bytes = b"", cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "adcsim", *[str(a) for a in args]],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )


def pcm_bytes(codes: np.ndarray, bits: int) -> bytes:
    """Signed integer codes -> little-endian WAV sample bytes (8-bit: offset 128)."""
    flat = codes.astype(np.int64).ravel()
    if bits == 8:
        return (flat + 128).astype(np.uint8).tobytes()
    nbytes = bits // 8
    return b"".join(int(v).to_bytes(nbytes, "little", signed=True) for v in flat)


def wav_stream(
    payload: bytes,
    *,
    rate: int,
    channels: int,
    bits: int,
    tag: int = PCM,
    data_size: int = 0xFFFFFFFF,
    riff_size: int = 0xFFFFFFFF,
    extensible: bool = False,
    extra_chunk: bytes = b"",
) -> bytes:
    """A WAV stream: RIFF header, fmt (plain or extensible), optional chunk, data."""
    align = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH",
        EXTENSIBLE if extensible else tag,
        channels,
        rate,
        rate * align,
        align,
        bits,
    )
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", tag) + GUID_TAIL
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + extra_chunk
        + b"data"
        + struct.pack("<I", data_size)
        + payload
    )


def parse_wav(data: bytes) -> tuple[dict[str, int], np.ndarray]:
    """Read a PCM or float WAV stream (sizes may be unknown) into full-scale floats."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, fmt = 12, {}
    while True:
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        pos += 8
        if cid == b"data":
            body = data[pos:] if size == 0xFFFFFFFF else data[pos : pos + size]
            break
        if cid == b"fmt ":
            tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos : pos + 16])
            fmt = {"tag": tag, "channels": ch, "rate": rate, "bits": bits}
        pos += size + (size & 1)
    bits = fmt["bits"]
    if fmt["tag"] == FLOAT:
        values = np.frombuffer(body, dtype="<f4" if bits == 32 else "<f8")
        return fmt, values.astype(np.float64).reshape(-1, fmt["channels"])
    if bits == 8:
        ints = np.frombuffer(body, dtype=np.uint8).astype(np.int64) - 128
    else:
        n = bits // 8
        ints = np.array(
            [
                int.from_bytes(body[i : i + n], "little", signed=True)
                for i in range(0, len(body) - len(body) % n, n)
            ]
        )
    return fmt, (ints / 2.0 ** (bits - 1)).reshape(-1, fmt["channels"])


def ref_uniform(x: np.ndarray, bits: int) -> np.ndarray:
    step = 2.0 / 2**bits
    return np.clip(np.round(x / step), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * step


def error_lines(stderr: bytes) -> list[str]:
    return [ln for ln in stderr.decode().splitlines() if ln.startswith("Error:")]


@pytest.fixture
def codes16() -> np.ndarray:
    """0.25 s of a stereo 16-bit signal (two sines), as integer codes."""
    t = np.arange(2000) / 8000
    x = np.stack(
        [0.6 * np.sin(2 * np.pi * 440 * t), 0.3 * np.cos(2 * np.pi * 97 * t)], 1
    )
    return np.round(x * 32767).astype(np.int64)


def test_pipe_in_with_unknown_sizes_and_out_to_stdout(codes16: np.ndarray) -> None:
    stream = wav_stream(pcm_bytes(codes16, 16), rate=8000, channels=2, bits=16)
    proc = adcsim("quantize", "-", "-b", "8", "-o", "-", "-q", stdin=stream)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    fmt, y = parse_wav(proc.stdout)
    assert (fmt["rate"], fmt["channels"]) == (8000, 2)
    np.testing.assert_array_equal(y, ref_uniform(codes16 / 32768, 8))
    # other tools read the stream too (libsndfile, sizes unknown)
    with sf.SoundFile(_bytes_io(proc.stdout)) as f:
        assert f.channels == 2 and f.samplerate == 8000


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


@pytest.mark.parametrize("bits", [16, 24])
def test_pipe_in_as_sox_writes_it_with_its_magic_length(bits: int) -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), size=(1500, 3))
    align = 3 * bits // 8
    magic = 0x7FFFF000 // align * align
    # sox writes WAVE_FORMAT_EXTENSIBLE and a fact chunk beyond 16 bits or 2 channels
    fact = b"fact" + struct.pack("<II", 4, magic // align)
    stream = wav_stream(
        pcm_bytes(codes, bits),
        rate=11025,
        channels=3,
        bits=bits,
        data_size=magic,
        riff_size=magic + 72,
        extensible=True,
        extra_chunk=fact,
    )
    proc = adcsim("quantize", "-", "-b", "10", "-o", "-", "-q", stdin=stream)
    assert proc.returncode == 0, proc.stderr.decode()
    fmt, y = parse_wav(proc.stdout)
    assert fmt["channels"] == 3 and y.shape == (1500, 3)
    np.testing.assert_array_equal(y, ref_uniform(codes / 2.0 ** (bits - 1), 10))


def test_pipe_in_to_files_records_the_hash_of_the_bytes_read(
    tmp_path: Path, codes16: np.ndarray
) -> None:
    stream = wav_stream(pcm_bytes(codes16, 16), rate=8000, channels=2, bits=16)
    proc = adcsim(
        "quantize",
        "-",
        "-b",
        "6",
        "--out-dir",
        tmp_path,
        "--no-plot",
        "--report",
        tmp_path / "r.json",
        stdin=stream,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["provenance"]["input_sha256"] == hashlib.sha256(stream).hexdigest()
    assert report["input"]["path"] == "-"
    out = Path(report["output"]["path"])
    if not out.is_absolute():
        out = tmp_path / out.name
    assert out.parent == tmp_path and out.suffix == ".wav"
    assert (
        report["provenance"]["output_sha256"]
        == hashlib.sha256(out.read_bytes()).hexdigest()
    )
    y, _ = sf.read(str(out), always_2d=True)
    np.testing.assert_array_equal(y, ref_uniform(codes16 / 32768, 6))
    assert "quantize - --bits 6" in report["provenance"]["command_line"]
    assert report["input"]["frames"] in (None, 2000)
    assert report["output"]["frames"] == 2000


def test_float_stream_with_nan_fails_cleanly() -> None:
    x = np.full((400, 1), 0.1, dtype="<f4")
    x[300, 0] = np.nan
    stream = wav_stream(x.tobytes(), rate=8000, channels=1, bits=32, tag=FLOAT)
    proc = adcsim("quantize", "-", "-o", "-", "-q", stdin=stream)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert len(error_lines(proc.stderr)) == 1 and "300" in proc.stderr.decode()


def test_stream_shorter_than_its_declared_size_is_read_with_a_warning(
    tmp_path: Path, codes16: np.ndarray
) -> None:
    payload = pcm_bytes(codes16, 16)
    stream = wav_stream(
        payload[:3000],
        rate=8000,
        channels=2,
        bits=16,
        data_size=len(payload),
        riff_size=len(payload) + 36,
    )
    proc = adcsim("quantize", "-", "--out-dir", tmp_path, "--no-plot", stdin=stream)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert "ended early" in proc.stderr.decode()  # the notice
    report = json.loads((tmp_path / "stdin.uniform-8bit.json").read_text())
    assert report["input"]["frames"] == 750  # 3000 bytes of 16-bit stereo
    assert any("ended early" in note for note in report["notes"])


@pytest.mark.parametrize("data", [b"", b"hello, not a wav stream", b"RIFF\x00\x00"])
def test_stdin_that_is_not_a_wav_stream_is_an_error(
    tmp_path: Path, data: bytes
) -> None:
    proc = adcsim("quantize", "-", "--out-dir", tmp_path, "-q", stdin=data)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert len(error_lines(proc.stderr)) == 1
    assert list(tmp_path.iterdir()) == []


def test_exit_codes_0_1_2_and_no_traceback(tmp_path: Path) -> None:
    src = tmp_path / "in.wav"
    sf.write(str(src), np.linspace(-0.5, 0.5, 800), 8000, subtype="PCM_16")
    ok = adcsim("quantize", src, "--out-dir", tmp_path, "--no-plot", "-q")
    assert ok.returncode == 0, ok.stderr.decode()
    assert ok.stdout == b"" and ok.stderr == b""
    missing = adcsim("quantize", tmp_path / "nope.wav", "--out-dir", tmp_path)
    assert missing.returncode == 1
    lines = error_lines(missing.stderr)
    assert len(lines) == 1 and "nope.wav" in lines[0]
    usage = adcsim("quantize", src, "-b", "99")
    assert usage.returncode == 2
    several = adcsim("quantize", src, src, "-o", tmp_path / "x.wav")
    assert several.returncode == 2
    both = adcsim("quantize", src, "-o", "-", "--report", "-")
    assert both.returncode == 2 and both.stdout == b""
    for proc in (missing, usage, several, both):
        assert b"Traceback" not in proc.stderr


def test_report_dash_writes_json_lines_on_stdout(tmp_path: Path) -> None:
    for name in ("a.wav", "b.wav"):
        sf.write(str(tmp_path / name), np.linspace(-0.5, 0.5, 800), 8000)
    proc = adcsim(
        "quantize",
        tmp_path / "a.wav",
        tmp_path / "b.wav",
        "--out-dir",
        tmp_path,
        "--report",
        "-",
        "--no-plot",
        "-q",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert [json.loads(line)["input"]["path"] for line in lines] == [
        str(tmp_path / "a.wav"),
        str(tmp_path / "b.wav"),
    ]


def test_version_and_help_run_as_a_process() -> None:
    from adcsim import __version__

    version = adcsim("--version")
    assert version.returncode == 0 and __version__ in version.stdout.decode()
    for args in (["--help"], ["quantize", "--help"], ["schemes", "--help"]):
        proc = adcsim(*args)
        assert proc.returncode == 0 and b"Examples:" in proc.stdout


def test_a_closed_stdout_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    src = tmp_path / "long.wav"
    sf.write(str(src), np.zeros((200_000, 2)), 8000, subtype="PCM_16")
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adcsim",
            "quantize",
            str(src),
            "-b",
            "16",
            "-o",
            "-",
            "-q",
            "--blocksize",
            "1024",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(100)
        proc.stdout.close()  # like `| head -c 100`
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    assert b"Traceback" not in stderr, stderr.decode()
    assert proc.returncode != 0


def test_companded_output_streams_as_float_wav(codes16: np.ndarray) -> None:
    stream = wav_stream(pcm_bytes(codes16, 16), rate=8000, channels=2, bits=16)
    proc = adcsim(
        "quantize", "-", "-s", "mulaw", "-b", "8", "-o", "-", "-q", stdin=stream
    )
    assert proc.returncode == 0, proc.stderr.decode()
    fmt, y = parse_wav(proc.stdout)
    assert (fmt["tag"], fmt["bits"]) == (FLOAT, 32)
    x = codes16 / 32768
    mu = 255.0
    fx = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    levels = ref_uniform(fx, 8)
    want = np.sign(levels) * ((1 + mu) ** np.abs(levels) - 1) / mu
    np.testing.assert_allclose(y, want.astype(np.float32), rtol=2e-7, atol=1e-12)
