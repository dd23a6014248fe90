"""Pipes, FIFOs, devices, redirections and headers, through real processes.

Issues 18 and 19: each test runs ``python -m adcsim`` (through ``bash`` where
the case is a shell redirection) and checks the files and streams with
independent readers: libsndfile, the RIFF layout parsed here, and sox or
ffmpeg when installed.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
ADCSIM = f"{shlex.quote(sys.executable)} -m adcsim"
needs_sox = pytest.mark.skipif(
    shutil.which("sox") is None, reason="sox is not installed (reference reader)"
)


def adcsim(*args: Any, stdin: bytes = b"", cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "adcsim", *[str(a) for a in args]],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )


def shell(command: str, cwd: Path) -> Any:
    """Run ``command`` in bash (redirections, process substitution)."""
    return subprocess.run(
        ["bash", "-c", command.replace("adcsim ", ADCSIM + " ")],
        capture_output=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )


def one_error_line(done: Any) -> str:
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    return lines[0]


def chunks(wav: bytes) -> dict[bytes, bytes]:
    """Chunk id -> body of a WAV with true sizes, checking the RIFF size."""
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert struct.unpack("<I", wav[4:8])[0] == len(wav) - 8
    out, pos = {}, 12
    while pos < len(wav):
        size = struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        out[wav[pos : pos + 4]] = wav[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    assert pos == len(wav)
    return out


@pytest.fixture
def source(tmp_path: Path, noise: Any) -> Path:
    path = tmp_path / "in.wav"
    sf.write(path, noise(frames=4001, channels=2, amplitude=0.8), 16000, "PCM_16")
    return path


def feed_fifo(path: Path, data: bytes) -> threading.Thread:
    def run() -> None:
        with open(path, "wb") as f:
            f.write(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def drain_fifo(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def run() -> None:
        with open(path, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, got


# --- 1. FIFOs and process substitution as inputs --------------------------------


def test_a_named_pipe_is_read_as_a_stream(tmp_path: Path, source: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    writer = feed_fifo(fifo, source.read_bytes())
    done = adcsim("quantize", fifo, "-b", "8", "-o", tmp_path / "out.wav", "--no-plot")
    writer.join(10)
    assert done.returncode == 0, done.stderr.decode()
    want, _ = sf.read(source)
    got, _ = sf.read(tmp_path / "out.wav")
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2.0**-8)


def test_process_substitution_is_read_as_a_stream(tmp_path: Path, source: Path) -> None:
    done = shell("adcsim quantize <(cat in.wav) -b 8 -o out.wav --no-plot", tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert sf.info(tmp_path / "out.wav").frames == 4001


def test_a_cut_off_named_pipe_warns_like_stdin(tmp_path: Path, source: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    writer = feed_fifo(fifo, source.read_bytes()[:-400])
    done = adcsim("quantize", fifo, "-o", tmp_path / "out.wav", "--no-plot")
    writer.join(10)
    assert done.returncode == 0, done.stderr.decode()
    assert "ended early: the header declares 4001 frames, 3901" in done.stderr.decode()


# --- 2. true sizes on stdout when the length is known ---------------------------


def test_stdout_of_a_file_input_has_true_sizes(tmp_path: Path, source: Path) -> None:
    done = adcsim("quantize", source, "-b", "10", "-o", "-")
    assert done.returncode == 0, done.stderr.decode()
    found = chunks(done.stdout)  # RIFF size = length - 8, data = 4001 frames
    assert len(found[b"data"]) == 4001 * 4


@needs_sox
def test_the_readme_pipe_example_makes_sox_print_no_warning(
    tmp_path: Path, source: Path
) -> None:
    done = shell(
        "sox in.wav -t wav - | adcsim quantize - -b 10 -o - | sox -t wav - a.flac"
        " && adcsim quantize in.wav -b 10 -o - | sox -t wav - b.flac",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"WARN" not in done.stderr, done.stderr.decode()
    assert sf.info(tmp_path / "b.flac").frames == 4001


def test_resampled_or_stdin_output_keeps_the_streaming_header(
    tmp_path: Path, source: Path
) -> None:
    resampled = adcsim("quantize", source, "-r", "8000", "-o", "-")
    piped = adcsim("quantize", "-", "-o", "-", stdin=source.read_bytes())
    for done in (resampled, piped):
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout[4:8] == struct.pack("<I", 0x7FFFF000 + 36)  # sox's
        assert sf.info(io.BytesIO(done.stdout)).frames > 0


# --- 3. float WAV files with the fmt chunk the spec requires --------------------


@pytest.mark.parametrize(
    "args", [("quantize", "in.wav", "-s", "mulaw", "-o", "out.wav", "--no-plot"),
             ("generate", "sine", "-o", "out.wav", "--duration", "0.1")]
)  # fmt: skip
def test_float_wavs_have_cbsize_and_fact(
    tmp_path: Path, source: Path, args: tuple[str, ...]
) -> None:
    done = adcsim(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    found = chunks((tmp_path / "out.wav").read_bytes())
    assert len(found[b"fmt "]) == 18
    assert struct.unpack("<HH", found[b"fmt "][:2] + found[b"fmt "][16:18]) == (3, 0)
    frames = sf.info(tmp_path / "out.wav").frames
    assert struct.unpack("<I", found[b"fact"])[0] == frames
    if shutil.which("sox"):
        check = subprocess.run(
            ["sox", str(tmp_path / "out.wav"), "-n", "stat"], capture_output=True
        )
        assert b"WARN" not in check.stderr, check.stderr.decode()


# --- 4. G.711 on stdout ---------------------------------------------------------


@pytest.mark.parametrize(("subtype", "tag"), [("ULAW", 7), ("ALAW", 6)])
def test_g711_streams_to_stdout_as_the_file_would_hold_it(
    tmp_path: Path, source: Path, subtype: str, tag: int
) -> None:
    scheme = "g711-mulaw" if subtype == "ULAW" else "g711-alaw"
    args = ("quantize", source, "-s", scheme, "--subtype", subtype, "--no-plot")
    streamed = adcsim(*args, "-o", "-")
    filed = adcsim(*args, "-o", tmp_path / "file.wav")
    assert streamed.returncode == 0 and filed.returncode == 0, streamed.stderr
    found = chunks(streamed.stdout)
    assert struct.unpack("<HH", found[b"fmt "][:2] + found[b"fmt "][16:18]) == (tag, 0)
    with sf.SoundFile(tmp_path / "file.wav") as f:
        assert f.subtype == subtype
    file_data = chunks((tmp_path / "file.wav").read_bytes())[b"data"]
    assert found[b"data"] == file_data  # the same G.711 bytes


# --- 5. devices and FIFOs as outputs --------------------------------------------


def test_dev_null_survives_an_output_with_force(source: Path) -> None:
    before = os.lstat("/dev/null")
    beside = set(Path("/dev").glob("null*"))
    for extra in ((), ("--force",)):
        done = adcsim("quantize", source, "-o", "/dev/null", *extra)
        assert done.returncode == 0, done.stderr.decode()
        after = os.lstat("/dev/null")
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    # no report or figure beside it: like stdout, those go only where asked
    assert set(Path("/dev").glob("null*")) == beside


def test_a_fifo_output_gets_a_wav_stream(tmp_path: Path, source: Path) -> None:
    fifo = tmp_path / "out.wav"
    os.mkfifo(fifo)
    reader, got = drain_fifo(fifo)
    done = adcsim("quantize", source, "-b", "8", "-o", fifo, "--no-plot", "--no-report")
    reader.join(10)
    assert done.returncode == 0, done.stderr.decode()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sf.info(io.BytesIO(got[0])).frames == 4001


# --- 6. stdin and stdout against the run's files --------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "adcsim quantize - -o in.wav --force --no-plot < in.wav",
        "adcsim quantize in.wav -o - --no-plot >> in.wav",
        "adcsim quantize in.wav -o - --no-plot 1<>in.wav",
        "adcsim quantize in.wav --report - --no-plot -o out.wav >> in.wav",
    ],
)
def test_redirections_onto_an_input_are_refused(
    tmp_path: Path, source: Path, command: str
) -> None:
    before = source.read_bytes()
    done = shell(command, tmp_path)
    assert "refusing to" in one_error_line(done)
    assert source.read_bytes() == before
    assert not (tmp_path / "out.wav").exists()


def test_stdout_redirected_to_another_file_is_fine(
    tmp_path: Path, source: Path
) -> None:
    done = shell("adcsim quantize in.wav -o - --no-plot > copy.wav", tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert sf.info(tmp_path / "copy.wav").frames == 4001


# --- 7. codebook and dangling links ---------------------------------------------


def test_a_codebook_naming_the_report_is_refused(tmp_path: Path, source: Path) -> None:
    done = adcsim(
        "quantize", "in.wav", "-s", "lloydmax", "-b", "4", "--no-plot",
        "--codebook", "in.lloydmax-4bit.json", cwd=tmp_path,
    )  # fmt: skip
    assert "--codebook 'in.lloydmax-4bit.json' is also an output" in one_error_line(
        done
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_a_dangling_link_at_the_output_needs_force(
    tmp_path: Path, source: Path
) -> None:
    link = tmp_path / "out.wav"
    link.symlink_to(tmp_path / "missing.wav")
    done = adcsim("quantize", source, "-o", link, "--no-plot", "--no-report")
    assert "dangling link" in one_error_line(done)
    assert link.is_symlink()
    forced = adcsim("quantize", source, "-o", link, "--no-plot", "--force")
    assert forced.returncode == 0, forced.stderr.decode()
    assert not link.is_symlink() and not (tmp_path / "missing.wav").exists()


# --- 8. truncated inputs --------------------------------------------------------


def test_a_file_cut_off_before_its_header_says_warns(
    tmp_path: Path, source: Path
) -> None:
    data = source.read_bytes()
    source.write_bytes(data[: -4 * 1000])
    done = adcsim("quantize", source, "-o", tmp_path / "out.wav", "--no-plot")
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode()
    assert "notice:" in err and "truncated file: the header declares 4001" in err
    report = (tmp_path / "out.json").read_text()
    assert "truncated file" in report


# --- 9. hostile stdin headers ---------------------------------------------------


def riff(*parts: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"".join(parts)


FMT = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (riff(FMT, b"LIST" + struct.pack("<I", 0xFFFFFFF0) + b"x" * 64), "ends before"),
        (riff(b"fmt " + struct.pack("<I", 0xFFFFFFF0) + FMT[8:]), "ends before"),
        (
            riff(
                b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 2**31, 0, 2, 16),
                b"data" + struct.pack("<I", 4) + b"\x00" * 4,
            ),
            "sample rate=2147483648",
        ),
        (
            riff(
                b"fmt " + struct.pack("<IHHIIHH", 16, 1, 0, 8000, 0, 0, 16),
                b"data" + struct.pack("<I", 4) + b"\x00" * 4,
            ),
            "channels=0",
        ),
    ],
)
def test_hostile_stdin_headers_are_one_error_line(data: bytes, match: str) -> None:
    done = adcsim("quantize", "-", "-o", "-", stdin=data)
    assert match in one_error_line(done)
    assert done.stdout == b""


# --- 10. names too long ---------------------------------------------------------

LONG = "x" * 300


@pytest.mark.parametrize(
    "args",
    [
        ("quantize", LONG + ".wav"),
        ("quantize", "in.wav", "-o", LONG + ".wav"),
        ("quantize", "in.wav", "--report", LONG + ".json"),
        ("analyze", LONG + ".wav"),
        ("compare", "in.wav", LONG + ".wav"),
        ("sweep", LONG + ".wav", "--bits", "4"),
        ("listen", "in.wav", "-o", LONG, "--bits", "8"),
    ],
)
def test_a_name_too_long_is_one_error_line(
    tmp_path: Path, source: Path, args: tuple[str, ...]
) -> None:
    done = adcsim(*args, cwd=tmp_path)
    assert "file name too long" in one_error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


# --- 11. OGG outputs are reproducible -------------------------------------------


def test_two_ogg_runs_give_the_same_bytes(tmp_path: Path, source: Path) -> None:
    for name in ("a.ogg", "b.ogg"):
        done = adcsim("quantize", source, "-o", tmp_path / name, "--no-plot")
        assert done.returncode == 0, done.stderr.decode()
    first, second = (tmp_path / "a.ogg").read_bytes(), (tmp_path / "b.ogg").read_bytes()
    assert first == second
    assert sf.info(tmp_path / "a.ogg").frames == 4001
    if shutil.which("ffmpeg"):
        check = subprocess.run(
            ["ffmpeg", "-v", "error", "-err_detect", "crccheck", "-i"]
            + [str(tmp_path / "a.ogg"), "-f", "null", "-"],
            capture_output=True,
        )
        assert check.returncode == 0 and check.stderr == b"", check.stderr
