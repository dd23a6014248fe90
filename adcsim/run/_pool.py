"""The batch's worker processes, and leaving nothing behind an unfinished input.

Responsible for running a batch's inputs in long-lived worker processes
(`Pool`): each worker is started once (forked where the platform allows it,
so it starts with adcsim already imported), takes one input at a time from a
pipe and sends back its `BatchItem`. A worker that dies (a signal, out of
memory) fails only the input it held (``worker died (signal 9)``); its traces
are removed and a replacement starts. Workers ignore SIGINT (a terminal's
Ctrl-C reaches the whole process group; the main process decides) and turn
SIGTERM into `KeyboardInterrupt`, so the pipeline's own clean-up runs when the
main process stops them. Also responsible for the traces of an unfinished
input (`snapshot`, `remove_traces`) and for holding signals during clean-up.
Not responsible for what one input does (``adcsim.run._batch``'s job, then
`process_file`) or for the order results are handed on
(`adcsim.run._results`). The one process-based concurrency mechanism of the
package; multiprocessing is imported only when workers start.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from adcsim.io import _files as files
from adcsim.run._outputs import STDIO, OutputPaths
from adcsim.run._results import BatchItem, Ordered

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


class Job(Protocol):
    """What a worker runs for each input (``adcsim.run._batch``'s job)."""

    def run(self, path: str, paths: OutputPaths) -> BatchItem:
        """Run one input; its failure is a failed item, never an exception."""


#: How long stopped workers get to clean up before they are killed (seconds).
_STOP_TIMEOUT_S = 10.0


#: (st_dev, st_ino, st_mtime_ns, st_size) of a file, None when absent.
Identity = tuple[int, int, int, int] | None


def _identity(path: str) -> Identity:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def snapshot(paths: OutputPaths) -> dict[str, Identity]:
    """What stands at each output before an input runs (`remove_traces`)."""
    return {p: _identity(p) for p in paths.files()}


def _temp_files(target: str) -> Iterator[Path]:
    """Temporary files `files.AtomicFile` makes for ``target``.

    AtomicFile names them ``.<name>.<random hex>.part`` beside the target; a
    killed process leaves them behind.
    """
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]+\.part\Z")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if pattern.match(entry.name):
                yield folder / entry.name


def remove_traces(paths: OutputPaths, before: dict[str, Identity]) -> None:
    """Remove an unfinished input's temporary files and the outputs it wrote."""
    for target, identity in before.items():
        if files.is_stream(target):
            continue  # a FIFO or a device: written into, never replaced
        for tmp in _temp_files(target):
            with contextlib.suppress(OSError):
                tmp.unlink()
        now = _identity(target)
        if now is not None and now != identity:
            with contextlib.suppress(OSError):
                os.unlink(target)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM meanwhile, so a second Ctrl-C cannot cut clean-up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _context() -> Any:
    """Fork where available: workers start with adcsim imported, in milliseconds."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _worker_main(conn: Connection, job: Job, parent: int) -> None:
    """Take (index, path, paths) tasks until None or EOF; send (index, item)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        _end_with(parent)
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            index, path, paths = task
            conn.send((index, job.run(path, paths)))
    except KeyboardInterrupt:
        # Stopped by the main process: job.run has removed this input's traces.
        return


def _end_with(parent: int) -> None:
    """Get SIGTERM when the main process ``parent`` dies, however it dies.

    A SIGKILLed main process (the OOM killer) closes its pipe ends, but the
    workers forked after a worker hold copies of that worker's end, so
    end-of-file never came and the workers lived on. Linux sends the
    parent-death signal (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread
    checks the parent every half second. SIGTERM then stops the worker as the
    main process would: the input it runs leaves nothing.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
        if prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) == 0:
            if os.getppid() != parent:  # it died before the call
                raise KeyboardInterrupt("parent died")
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="adcsim-parent-watch", daemon=True).start()


#: linux/prctl.h
_PR_SET_PDEATHSIG = 1

#: Tasks a worker holds at once: the one it runs and the next, already in
#: its pipe, so that it never waits for the main process between two inputs.
_TASKS_PER_WORKER = 2


class _Worker:
    """One worker process, its pipe, and the tasks it holds (oldest first)."""

    def __init__(self, ctx: Any, job: Job) -> None:
        # A forked child flushes the std streams it inherited when it ends:
        # flush them first, or buffered output would appear twice.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main,
            args=(child, job, os.getpid()),
            name="adcsim-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.tasks: deque[tuple[int, str, OutputPaths, dict[str, Identity]]] = deque()

    def give(self, index: int, path: str, paths: OutputPaths) -> None:
        self.tasks.append((index, path, paths, snapshot(paths)))
        try:
            self.conn.send((index, path, paths))
        except OSError:
            self.tasks.pop()
            raise

    def receive(self) -> tuple[int, BatchItem] | None:
        """The oldest task, finished, or None when the worker died running it."""
        try:
            if self.conn.poll():
                index, item = self.conn.recv()
                self.tasks.popleft()
                return index, item
        except (EOFError, OSError):
            pass
        return None

    def death(self) -> str:
        """Why the worker's process ended, once it has."""
        self.process.join()
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"worker died (signal {-code})"
        return f"worker died (exit code {code})"

    def close(self) -> None:
        self.conn.close()


class Pool:
    """Runs tasks on ``size`` workers, each holding up to `_TASKS_PER_WORKER`."""

    def __init__(self, job: Job, size: int, out: Ordered) -> None:
        self.job, self.size, self.out = job, size, out
        self.ctx = _context()
        self.workers: list[_Worker] = []

    def run(self, tasks: list[tuple[int, tuple[str, OutputPaths]]]) -> None:
        import multiprocessing.connection

        queue = deque(tasks)
        try:
            self.workers = [_Worker(self.ctx, self.job) for _ in range(self.size)]
            while True:
                self._dispatch(queue)
                busy = [w for w in self.workers if w.tasks]
                if not busy:
                    break
                handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
                ready = set(multiprocessing.connection.wait(handles))
                for w in busy:
                    if w.conn in ready or w.process.sentinel in ready:
                        self._collect(w, queue)
        except BaseException:
            with signals_held():
                self._stop()
            raise
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join()
            w.close()

    def _dispatch(self, queue: deque[tuple[int, tuple[str, OutputPaths]]]) -> None:
        # Every worker its first task before any its second.
        for held in range(_TASKS_PER_WORKER):
            for slot in range(len(self.workers)):
                while len(self.workers[slot].tasks) <= held and queue:
                    index, (path, paths) = queue.popleft()
                    if path == STDIO:
                        # A forked worker's stdin is /dev/null: stdin is read here.
                        self.out.put(index, self.job.run(path, paths))
                        continue
                    try:
                        self.workers[slot].give(index, path, paths)
                    except OSError:
                        queue.appendleft((index, (path, paths)))
                        if self.workers[slot].tasks:
                            break  # it died running one: `_collect` sees to it
                        # It died while idle: the input goes to its replacement.
                        self._replace(slot)

    def _replace(self, slot: int) -> _Worker:
        old = self.workers[slot]
        old.process.join()
        old.close()
        self.workers[slot] = _Worker(self.ctx, self.job)
        return self.workers[slot]

    def _collect(
        self, w: _Worker, queue: deque[tuple[int, tuple[str, OutputPaths]]]
    ) -> None:
        slot = self.workers.index(w)
        done = w.receive()
        if done is not None:
            self.out.put(*done)
            if w.process.is_alive():
                return
        # It ended: take what else it finished, fail the input it died on,
        # and hand the ones it had not started to the others.
        while w.tasks and (done := w.receive()) is not None:
            self.out.put(*done)
        if w.tasks:
            index, path, paths, before = w.tasks.popleft()
            reason = w.death()
            remove_traces(paths, before)
            self._requeue(w, queue)
            error = f"cannot quantize {path!r}: {reason}"
            self.out.put(index, BatchItem(input=path, error=error))
        self._replace(slot)

    @staticmethod
    def _requeue(w: _Worker, queue: deque[tuple[int, tuple[str, OutputPaths]]]) -> None:
        """Tasks a dead worker had not started go first to the others."""
        while w.tasks:
            index, path, paths, _ = w.tasks.pop()
            queue.appendleft((index, (path, paths)))

    def _stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL) and clean up its task.

        Results a worker sent before it stopped count as done: their outputs
        are complete and stay.
        """
        for w in self.workers:
            if w.process.is_alive():
                w.process.terminate()
        for w in self.workers:
            w.process.join(_STOP_TIMEOUT_S)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            while w.tasks and (done := w.receive()) is not None:
                self.out.put(*done)
            for _, _, paths, before in w.tasks:
                remove_traces(paths, before)
            w.close()
