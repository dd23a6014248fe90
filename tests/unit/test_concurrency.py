"""The package's concurrency: one worker-thread helper and the batch's processes.

Issue 12 allows at most two mechanisms. Threads come only from
`adcsim._background.InOrder`; processes only from the batch's worker pool
(`adcsim.run._pool`, which also owns the parent-watch thread of its workers
where Linux's parent-death signal is missing). A new thread pool, fork or
process elsewhere fails here: use `InOrder`, or say why in the issue.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

import adcsim
from adcsim._background import InOrder
from adcsim.errors import AdcsimError
from adcsim.figures import _quantize as plots
from adcsim.run import _process as pipeline
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import plan_outputs

PACKAGE = Path(adcsim.__file__).parent
#: What starts a thread or a process, in source text.
STARTS = re.compile(
    r"threading\.Thread\(|ThreadPoolExecutor|ProcessPoolExecutor|os\.fork\("
    r"|multiprocessing|\.Process\(|subprocess\.|os\.spawn|\bimport _thread\b"
)
ALLOWED = {"_background.py", "run/_pool.py"}


def test_only_the_two_mechanisms_start_threads_or_processes() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if STARTS.search(path.read_text(encoding="utf-8"))
    }
    assert found <= ALLOWED, found - ALLOWED
    assert found == ALLOWED  # (the pattern still finds them)


def test_a_result_waits_for_its_call_and_raises_its_error() -> None:
    worker = InOrder()
    gate = threading.Event()
    first = worker.submit(gate.wait, 5.0)
    second = worker.submit(lambda: 1 / 0)
    gate.set()
    assert first.result() is True
    with pytest.raises(ZeroDivisionError):
        second.result()
    with pytest.raises(ZeroDivisionError):  # the next call is refused too
        worker.submit(print, "never")
    with pytest.raises(ZeroDivisionError):
        worker.drain()


def test_a_failing_figure_fails_the_run_and_leaves_no_figure(
    tmp_path: Path,
    noise: Any,
    wav_file: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = wav_file(tmp_path, noise(frames=2000, channels=1), 8000)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise AdcsimError("cannot write plot: broken on purpose")

    monkeypatch.setattr(plots, "save_chart", broken)
    monkeypatch.chdir(tmp_path)
    config = QuantizeConfig(bits=6).validate()
    paths = plan_outputs(str(src), config)
    with pytest.raises(AdcsimError, match="broken on purpose"):
        pipeline.process_file(str(src), config, paths)
    assert not list(tmp_path.glob("*.png"))
