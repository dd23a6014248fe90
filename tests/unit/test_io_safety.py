"""What an output or input path may be: links, devices, FIFOs, stdio (issue 19)."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from adcsim.errors import AdcsimError
from adcsim.io import _files as files


def read_fifo_in_background(path: Path) -> tuple[threading.Thread, list[bytes]]:
    """Open ``path`` for reading on a thread and collect everything written."""
    got: list[bytes] = []

    def drain() -> None:
        with open(path, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    return thread, got


# --- dangling links and links ---------------------------------------------------


def test_a_dangling_link_at_the_output_needs_force(tmp_path: Path) -> None:
    link = tmp_path / "out.wav"
    link.symlink_to(tmp_path / "gone.wav")
    with pytest.raises(AdcsimError, match="dangling link is there \\(use --force"):
        files.check_output_path(str(link), force=False)
    files.check_output_path(str(link), force=True)


def test_force_replaces_a_link_itself_never_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "keep.txt"
    target.write_text("precious")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    files.check_output_path(str(link), force=True)
    files.write_text(str(link), "new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "precious"


def test_a_dangling_link_replaced_with_force_creates_nothing_at_its_target(
    tmp_path: Path,
) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "nowhere" / "x.json")
    files.check_output_path(str(link), force=True)
    files.write_text(str(link), "{}")
    assert not link.is_symlink() and link.read_text() == "{}"
    assert not (tmp_path / "nowhere").exists()


# --- devices and FIFOs ----------------------------------------------------------


def test_a_fifo_output_is_written_into_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    files.check_output_path(str(fifo), force=False)  # nothing is replaced
    thread, got = read_fifo_in_background(fifo)
    files.write_text(str(fifo), "through the pipe")
    thread.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no .part


def test_a_discarded_fifo_output_is_not_unlinked(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with files.AtomicFile(str(fifo)) as out:
        assert out.direct and out.tmp == str(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_null_is_written_into_and_survives_as_a_character_device() -> None:
    before = os.lstat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    assert files.is_stream("/dev/null")
    files.check_output_path("/dev/null", force=True)
    out = files.AtomicFile("/dev/null")
    # Checked before anything is written: were it not direct, a commit would
    # rename a regular file over /dev/null (as root, in CI).
    assert out.direct and out.tmp == "/dev/null"
    files.write_text("/dev/null", "discarded")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not list(Path("/dev").glob(".null.*.part"))


def test_a_fifo_that_is_the_input_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(AdcsimError, match="it is the input"):
        files.check_output_path(str(fifo), force=True, inputs=(str(fifo),))


def test_a_socket_is_refused_as_an_output(tmp_path: Path) -> None:
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(AdcsimError, match="is a socket"):
            files.check_output_path(str(path), force=True)
    finally:
        server.close()


def test_inputs_that_are_fifos_or_devices_are_streams(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    regular = tmp_path / "a.wav"
    regular.write_bytes(b"RIFF")
    assert files.is_stream(str(fifo)) and files.is_stream("-")
    assert not files.is_stream(str(regular))
    assert stat.S_ISFIFO(files.check_input_path(str(fifo)).st_mode)
    assert stat.S_ISCHR(files.check_input_path("/dev/zero").st_mode)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.symlink_to(p.parent / "gone"), "dangling link"),
    ],
)
def test_bad_inputs_are_one_line_errors(tmp_path: Path, make, match: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.wav"
    make(path)
    with pytest.raises(AdcsimError, match=match):
        files.check_input_path(str(path))


# --- names too long for the file system -----------------------------------------

LONG = "x" * 300 + ".wav"  # a component over NAME_MAX (255 bytes)


def test_a_name_too_long_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    path = str(tmp_path / LONG)
    with pytest.raises(AdcsimError, match="file name too long") as info:
        files.check_output_path(path, force=False)
    assert "\n" not in str(info.value) and LONG in str(info.value)
    with pytest.raises(AdcsimError, match="cannot read .*file name too long"):
        files.check_input_path(path)
    with pytest.raises(AdcsimError, match="file name too long"):
        files.check_output_path(str(tmp_path / LONG / "a.wav"), force=True)


def test_a_non_utf8_name_too_long_is_printed_with_escapes(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff" * 300)
    with pytest.raises(AdcsimError, match="file name too long") as info:
        files.check_output_path(str(tmp_path / name), force=False)
    message = str(info.value)
    message.encode("utf-8")  # printable: the surrogates are escaped by repr
    assert "\\udcff" in message


# --- stdin and stdout against the run's files -----------------------------------


def test_stdin_that_is_an_output_is_refused(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    wav.write_bytes(b"RIFF....")
    match = "'.*in.wav': it is the input - \\(stdin"
    with open(wav, "rb") as f, pytest.raises(AdcsimError, match=match):
        files.check_std_streams(
            ("-",), (str(wav),), writes_stdout=False, stdin_fd=f.fileno()
        )


def test_stdout_that_is_an_input_is_refused(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    wav.write_bytes(b"RIFF....")
    with open(wav, "ab") as out:
        with pytest.raises(AdcsimError, match="stdout\\): it is the input"):
            files.check_std_streams(
                (str(wav),), ("-",), writes_stdout=True, stdout_fd=out.fileno()
            )
        # not written to: no conflict (the run prints nothing there)
        files.check_std_streams(
            (str(wav),), (), writes_stdout=False, stdout_fd=out.fileno()
        )


def test_stdin_and_stdout_on_one_file_are_refused(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    wav.write_bytes(b"RIFF....")
    fd = os.open(wav, os.O_RDWR)
    try:
        with pytest.raises(AdcsimError, match="stdin and stdout are the same file"):
            files.check_std_streams(
                ("-",), ("-",), writes_stdout=True, stdin_fd=fd, stdout_fd=fd
            )
    finally:
        os.close(fd)


def test_terminals_and_pipes_on_stdin_and_stdout_are_no_conflict(
    tmp_path: Path,
) -> None:
    read_end, write_end = os.pipe()
    try:
        files.check_std_streams(
            ("-",), ("-",), writes_stdout=True, stdin_fd=read_end, stdout_fd=write_end
        )
    finally:
        os.close(read_end)
        os.close(write_end)


# --- files a run reads besides its input ----------------------------------------


def test_a_codebook_that_is_an_output_is_refused(tmp_path: Path) -> None:
    report = str(tmp_path / "in.lloydmax-4bit.json")
    outputs = (str(tmp_path / "in.lloydmax-4bit.wav"), report)
    with pytest.raises(AdcsimError, match="--codebook .* is also an output"):
        files.check_not_output(report, outputs, "--codebook")
    alias = str(tmp_path / "." / "in.lloydmax-4bit.json")
    with pytest.raises(AdcsimError, match="is also an output"):
        files.check_not_output(alias, outputs, "--codebook")
    files.check_not_output(str(tmp_path / "cb.json"), outputs, "--codebook")


def test_a_file_name_that_is_not_utf8_is_read_and_written(tmp_path: Path) -> None:
    import subprocess
    import sys

    import numpy as np
    import soundfile as sf

    src = os.path.join(os.fsencode(tmp_path), b"\xff.wav")
    sf.write(src, np.zeros((800, 1)) + 0.25, 8000, subtype="PCM_16")
    out = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"\xfe.wav"))
    proc = subprocess.run(
        [sys.executable, "-m", "adcsim", "quantize", os.fsdecode(src), "-o", out],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert os.path.exists(os.fsencode(out))


# --- inputs truncated before or while they are read (issue 19) ------------------


#: (subtype, bytes a sample, native): the float read, libsndfile's integer
#: read and the raw 24-bit read (`AudioReader._pcm24_blocks`) each check.
READ_PATHS = [("PCM_16", 2, False), ("PCM_16", 2, True), ("PCM_24", 3, True)]


@pytest.mark.parametrize(("subtype", "width", "native"), READ_PATHS)
def test_a_file_that_shrinks_under_the_reader_is_an_error(
    tmp_path: Path, subtype: str, width: int, native: bool
) -> None:
    import numpy as np
    import soundfile as sf

    from adcsim.io._reader import AudioReader

    path = tmp_path / "in.wav"
    sf.write(path, np.zeros((10000, 1)), 8000, subtype=subtype)
    with AudioReader(str(path)) as reader:
        assert reader.warnings == []  # complete on opening
        blocks = reader.blocks(1000, native=native)
        next(blocks)
        os.truncate(path, 44 + width * 3000)  # another process cuts it off
        with pytest.raises(AdcsimError, match="shrank while it was read") as info:
            list(blocks)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("subtype", "width", "native"), READ_PATHS)
def test_a_wav_cut_off_before_opening_is_read_with_a_warning(
    tmp_path: Path, subtype: str, width: int, native: bool
) -> None:
    import numpy as np
    import soundfile as sf

    from adcsim.io._reader import AudioReader

    path = tmp_path / "in.wav"
    x = np.random.default_rng(1).uniform(-1, 1, (10000, 2))
    sf.write(path, x, 8000, subtype=subtype)
    whole, _ = sf.read(path, dtype="float64")
    os.truncate(path, 44 + 2 * width * 6000 + width + 1)  # plus part of a frame
    with AudioReader(str(path)) as reader:
        blocks = list(reader.blocks(4096, native=native))
    scale = {"int16": 2.0**-15, "int32": 2.0**-31}.get(str(blocks[0].dtype), 1.0)
    got = np.concatenate(blocks) * scale
    assert np.array_equal(got, whole[:6000])  # the frames present, as libsndfile
    assert reader.warnings == [
        f"{path}: truncated file: the header declares 10000 frames, 6000 are "
        "present (read as far as it goes)"
    ]
