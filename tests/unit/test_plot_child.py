"""Figures drawn in a forked child equal figures drawn in the process itself."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from adcsim import pipeline, plots
from adcsim.config import QuantizeConfig
from adcsim.errors import AdcsimError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def _children_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child draws even though this process has imported matplotlib."""
    monkeypatch.setattr(pipeline, "plot_children_available", lambda: True)


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _run(directory: Path, src: Path, child: bool) -> Path:
    """Outputs in ``directory``, named as the figure's title says: ``in.*``."""
    config = QuantizeConfig(bits=6).validate()
    directory.mkdir(exist_ok=True)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        paths = pipeline.plan_outputs(str(src), config)
        pipeline.process_file(str(src), config, paths, plot_child=child)
    finally:
        os.chdir(cwd)
    assert paths.plot is not None
    return directory / paths.plot


def test_the_child_draws_the_same_png_as_the_process(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    src = wav_file(tmp_path, noise(frames=20000, channels=2), 8000)
    in_child = _run(tmp_path / "child", src, True)
    in_process = _run(tmp_path / "here", src, False)
    assert in_child.read_bytes() == in_process.read_bytes()
    assert _no_children_left()


def test_a_failing_child_fails_the_run_and_leaves_no_figure(
    tmp_path: Path, noise: Any, wav_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = wav_file(tmp_path, noise(frames=2000, channels=1), 8000)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise AdcsimError("cannot write plot: broken on purpose")

    monkeypatch.setattr(plots, "save_figure", broken)  # inherited by the fork
    with pytest.raises(AdcsimError, match="broken on purpose"):
        _run(tmp_path / "out", src, True)
    assert not list((tmp_path / "out").glob("*.png"))
    assert _no_children_left()


def test_a_bad_input_stops_the_child(tmp_path: Path) -> None:
    src = tmp_path / "not-audio.wav"
    src.write_bytes(b"RIFF but not really" * 10)
    with pytest.raises(AdcsimError, match="cannot read"):
        _run(tmp_path / "out", src, True)
    assert list((tmp_path / "out").iterdir()) == []
    assert _no_children_left()


def test_without_a_fork_the_figure_is_drawn_in_the_process(
    tmp_path: Path, noise: Any, wav_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adcsim import plot_child

    src = wav_file(tmp_path, noise(frames=2000, channels=1), 8000)

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(plot_child.os, "fork", no_fork)
    pipes_before = _pipes()
    figure = _run(tmp_path / "out", src, True)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _pipes() == pipes_before  # the pipes made for the child are closed


def _pipes() -> int | None:
    """How many pipes this process holds open (None without /proc)."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    links = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
    return sum(link.startswith("pipe:") for link in links)
