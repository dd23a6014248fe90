"""Nothing lost: a real ``python -m adcsim quantize`` stopped mid-file.

Each test starts the command in a subprocess on a long input (long to process:
a small ``--blocksize`` makes a few seconds of audio take many seconds), waits
until the output's ``.part`` temporary file appears, then interrupts it
(SIGINT, SIGTERM, a killed worker, a file size limit) and checks the exit code,
the message, and that no temporary or partial output remains.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signals and resource limits"
)

LONG_FRAMES = 400_000  # about 30 s of work at --blocksize 4; stopped long before


def _wav(path: Path, frames: int) -> Path:
    t = np.arange(frames)
    sf.write(str(path), 0.5 * np.sin(0.01 * t), 8000, subtype="PCM_16")
    return path


def _start(cwd: Path, *args: object, **kw: object) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "adcsim", "quantize", *map(str, args)]
    # A child inherits an ignored SIGINT, and Python then keeps ignoring
    # Ctrl-C, as a background job of a script should (a shell without job
    # control starts those with SIGINT ignored, and pytest with them). Start
    # the command as a terminal's foreground command would be.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kw,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def _parts(folder: Path, stem: str = "") -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".part") and stem in n]


def _wait_for_part(proc: subprocess.Popen[str], folder: Path, stem: str) -> None:
    deadline = time.monotonic() + 30
    while not _parts(folder, stem):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no .part file appeared"
        time.sleep(0.01)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _holder(pids: list[int], needle: str) -> int | None:
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if needle in os.readlink(f"/proc/{pid}/fd/{fd}"):
                    return pid
        except OSError:
            continue
    return None


@pytest.mark.parametrize(
    ("signum", "aborted"), [(signal.SIGINT, True), (signal.SIGTERM, True)]
)
def test_a_signal_during_a_long_file_leaves_nothing_and_exits_1(
    tmp_path: Path, signum: int, aborted: bool
) -> None:
    _wav(tmp_path / "long.wav", LONG_FRAMES)
    proc = _start(tmp_path, "long.wav", "--blocksize", "4", "--no-plot")
    _wait_for_part(proc, tmp_path, "long")
    proc.send_signal(signum)
    code, err = _finish(proc)
    assert code == 1, err
    assert "interrupted: 0 files quantized, 0 failed, 1 not done" in err
    assert ("Aborted!" in err) is aborted
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["long.wav"]


def test_sigterm_stops_the_workers_and_removes_their_temp_files(
    tmp_path: Path,
) -> None:
    _wav(tmp_path / "a.wav", 800)
    _wav(tmp_path / "long.wav", LONG_FRAMES)
    _wav(tmp_path / "z.wav", LONG_FRAMES)
    out = tmp_path / "out"
    out.mkdir()
    proc = _start(
        tmp_path, "a.wav", "long.wav", "z.wav", "-j", "2", "--out-dir", out,
        "--blocksize", "4", "--no-plot",
    )  # fmt: skip
    _wait_for_part(proc, out, "long")
    _wait_for_part(proc, out, "z.")
    proc.send_signal(signal.SIGTERM)
    code, err = _finish(proc)
    assert code == 1, err
    assert re.search(r"interrupted: 1 file quantized, 0 failed, 2 not done", err), err
    assert sorted(os.listdir(out)) == ["a.uniform-8bit.json", "a.uniform-8bit.wav"]


def test_ctrl_c_to_the_whole_process_group_stops_a_parallel_batch(
    tmp_path: Path,
) -> None:
    _wav(tmp_path / "long.wav", LONG_FRAMES)
    _wav(tmp_path / "z.wav", LONG_FRAMES)
    proc = _start(
        tmp_path, "long.wav", "z.wav", "-j", "2", "--blocksize", "4", "--no-plot",
        start_new_session=True,
    )  # fmt: skip
    _wait_for_part(proc, tmp_path, "long")
    _wait_for_part(proc, tmp_path, "z.")
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    code, err = _finish(proc)
    assert code == 1, err
    assert "2 not done" in err and "Aborted!" in err
    assert sorted(os.listdir(tmp_path)) == ["long.wav", "z.wav"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(
    "others",
    [
        ("a", "c"),
        # Two inputs a worker: the killed one also holds d.wav, not started
        # yet, which the other worker then quantizes.
        ("a", "c", "d"),
    ],
)
def test_a_worker_killed_from_outside_fails_only_its_input(
    tmp_path: Path, others: tuple[str, ...]
) -> None:
    for stem in others:
        _wav(tmp_path / f"{stem}.wav", 800)
    _wav(tmp_path / "long.wav", LONG_FRAMES // 4)
    out = tmp_path / "out"
    out.mkdir()
    inputs = [f"{others[0]}.wav", "long.wav", *(f"{o}.wav" for o in others[1:])]
    proc = _start(
        tmp_path, *inputs, "-j", "2", "--out-dir", out,
        "--blocksize", "4", "--no-plot",
    )  # fmt: skip
    _wait_for_part(proc, out, "long")
    worker = None
    deadline = time.monotonic() + 10
    while worker is None and time.monotonic() < deadline:
        worker = _holder(_children(proc.pid), ".long.uniform-8bit.wav.")
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    code, err = _finish(proc)
    assert code == 1, err
    errors = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert errors == [
        f"Error: cannot quantize 'long.wav': worker died (signal {signal.SIGKILL})"
    ]
    assert err.splitlines()[-1] == f"{len(others)} files quantized, 1 failed"
    assert sorted(os.listdir(out)) == [
        f"{stem}.uniform-8bit.{ext}" for stem in others for ext in ("json", "wav")
    ]


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_fails_with_one_error_line_and_no_partial_file(
    tmp_path: Path, jobs: str
) -> None:
    import resource

    _wav(tmp_path / "small.wav", 800)
    _wav(tmp_path / "big.wav", 200_000)  # 200 kB of 8-bit output, over the limit
    out = tmp_path / "out"
    out.mkdir()
    limit = 100_000

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = _start(
        tmp_path, "small.wav", "big.wav", "-j", jobs, "--out-dir", out, "--no-plot",
        preexec_fn=limit_file_size,
    )  # fmt: skip
    code, err = _finish(proc)
    assert code == 1, err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "big.uniform-8bit.wav" in errors[0], err
    assert err.splitlines()[-1] == "1 file quantized, 1 failed"
    assert sorted(os.listdir(out)) == [
        "small.uniform-8bit.json",
        "small.uniform-8bit.wav",
    ]
