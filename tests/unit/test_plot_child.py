"""Figures drawn in a forked child equal figures drawn in the process itself."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from adcsim.errors import AdcsimError
from adcsim.figures import _child as plot_child
from adcsim.figures import _quantize as plots
from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import plan_outputs

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _run(directory: Path, src: Path, child: bool) -> Path:
    """Outputs in ``directory``, named as the figure's title says: ``in.*``.

    With ``child``, the figure is drawn by a forked `PlotChild`, if one can
    be forked.
    """
    config = QuantizeConfig(bits=6).validate()
    directory.mkdir(exist_ok=True)
    cwd = os.getcwd()
    os.chdir(directory)
    drawer = plot_child.fork() if child else None
    try:
        paths = plan_outputs(str(src), config)
        pipeline.process_file(str(src), config, paths, plot_child=drawer)
    finally:
        os.chdir(cwd)
        if drawer is not None:
            drawer.cancel()
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

    monkeypatch.setattr(plots, "save_chart", broken)  # inherited by the fork
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


def test_a_child_cancelled_before_or_after_naming_its_figure_leaves_nothing(
    tmp_path: Path,
) -> None:
    unused = plot_child.fork()
    assert unused is not None
    unused.cancel()
    named = plot_child.fork()
    assert named is not None
    named.start(str(tmp_path / "f.png"))
    named.cancel()
    named.cancel()  # twice: nothing more happens
    assert _no_children_left()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "exit_code"),
    [
        (["--plot", "figure.txt"], 2),  # a usage error after the fork
        (["--skip-existing"], 0),  # the input is up to date: nothing to draw
    ],
)
def test_the_command_cancels_a_child_it_did_not_use(
    tmp_path: Path,
    noise: Any,
    wav_file: Any,
    runner: Any,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    exit_code: int,
) -> None:
    from adcsim.cli._main import main

    src = wav_file(tmp_path, noise(frames=2000, channels=1), 8000)
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(main, ["quantize", str(src), "-b", "6", "-q"])
    assert first.exit_code == 0, first.output
    forks = []
    real_fork = plot_child.fork

    def counted_fork() -> Any:
        forks.append(real_fork())
        return forks[-1]

    monkeypatch.setattr(plot_child, "fork", counted_fork)
    result = runner.invoke(main, ["quantize", str(src), "-b", "6", "-q", *options])
    assert result.exit_code == exit_code, result.output
    assert forks and forks[0] is not None
    assert _no_children_left()
