"""Draw a run's figure in a forked child process, on the second core.

The command forks a `PlotChild` as soon as its options are read, before even
numpy is imported. The child imports numpy and the renderer the figure's
file needs (`PlotChild.start`: Pillow for PNG, matplotlib for SVG and PDF)
while the parent imports the rest, reads, quantizes and measures; then it
draws and saves the figure the parent sends (`PlotChild.send`, a
`adcsim.figures._chart.Chart`) while the parent hashes the files and computes the
report. A thread could not do this: drawing is Python code and holds the
GIL. (Measured on the ten-minute bench file: 0.65 s for a default run with
a child, 0.72 s without.)

Used for one-input runs on systems with ``os.fork``; batches draw in their
own worker processes.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import threading
from typing import Any, BinaryIO

from adcsim.errors import AdcsimError


def available() -> bool:
    """Whether a child can be forked safely: fork exists, no other thread runs.

    A child forked beside other threads could wait forever for a lock one of
    them held at the fork.
    """
    return hasattr(os, "fork") and threading.active_count() == 1


def fork() -> PlotChild | None:
    """A new `PlotChild`, or None where none can help (see `available`)."""
    if not available():
        return None
    try:
        return PlotChild()
    except OSError:  # (no process left to spare): the figure is drawn here
        return None


class PlotChild:
    """A forked process that draws one quantize figure when it gets the data.

    Examples
    --------
    The parent's side, in short::

        child = PlotChild()  # forks; the child imports numpy
        ...                  # the parent imports numpy, opens the input
        child.start(path)    # the child imports the renderer for path
        ...                  # audio work
        child.send(chart)    # the run's figure; the child draws and saves
        ...                  # the report's figures
        child.wait()         # raises AdcsimError if drawing failed

    `cancel` stops a child at any point (the run failed, or drew no figure).
    """

    def __init__(self) -> None:
        data_read, self._data = os.pipe()
        self._status, status_write = os.pipe()
        self._sender: threading.Thread | None = None
        self._messages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sent_data = False
        # Signals wait until each side has the handlers it needs: a Ctrl-C
        # right after the fork must not run the parent's handler in the child.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            try:
                self.pid = os.fork()
            except OSError:
                for fd in (data_read, self._data, self._status, status_write):
                    os.close(fd)
                raise
            if self.pid == 0:  # the child: never returns
                os.close(self._data)
                os.close(self._status)
                _child_main(data_read, status_write)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        os.close(data_read)
        os.close(status_write)

    def start(self, path: str) -> None:
        """Name the figure's file: the child imports the renderer it needs."""
        self._post(path)

    def send(self, chart: Any) -> None:
        """Hand over the figure (a `Chart`); the caller goes on."""
        self._post(chart)
        self._sent_data = True
        self._messages.put(None)  # the last message

    def _post(self, message: Any) -> None:
        """Queue a message for the pipe, which a thread writes.

        The child reads only once its imports are done, and a message larger
        than the pipe's buffer would block its writer until then.
        """
        if self._sender is None:
            pipe = open(self._data, "wb", closefd=True)  # noqa: SIM115 - the thread closes it
            self._data = -1
            self._sender = threading.Thread(
                target=_write_all, args=(pipe, self._messages), daemon=True
            )
            self._sender.start()
        self._messages.put(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def wait(self) -> None:
        """Wait until the figure is saved.

        Raises
        ------
        AdcsimError
            The child could not draw or save the figure.
        """
        self._messages.put(None)
        if self._data >= 0:  # nothing sent: the child ends at once
            os.close(self._data)
            self._data = -1
        with open(self._status, "rb", closefd=True) as pipe:
            self._status = -1
            message = pipe.read().decode("utf-8", "replace")
        if self._sender is not None:
            self._sender.join()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if message or status != 0:
            raise AdcsimError(message or f"plot process failed (status {status})")

    def cancel(self) -> None:
        """Stop the child (the run failed); it leaves no file behind.

        Nothing happens after `wait`.
        """
        self._messages.put(None)
        for fd in (self._data, self._status):
            if fd >= 0:
                os.close(fd)
        self._data = self._status = -1
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                # Before the data it has written nothing: SIGKILL. After,
                # SIGTERM: its handler unwinds through AtomicFile, which
                # removes a half-written figure.
                os.kill(self.pid, signal.SIGTERM if self._sent_data else signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        if self._sender is not None:
            self._sender.join()
            self._sender = None


def _write_all(pipe: BinaryIO, messages: queue.SimpleQueue[bytes | None]) -> None:
    """Write the queued messages to the pipe until the last one; close it."""
    with contextlib.suppress(BrokenPipeError), pipe:  # gone: wait() says why
        while (message := messages.get()) is not None:
            pipe.write(message)
            pipe.flush()


def _child_main(data_fd: int, status_fd: int) -> None:
    """Import the renderer, then draw what the parent sends; exit without cleanup.

    ``os._exit`` skips the parent's atexit handlers and buffered stdout,
    which belong to the parent alone. A pipe closed early (the parent drew
    no figure) ends the child quietly.
    """
    code = 1
    try:
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        # A short life, ended by os._exit: the cyclic garbage collector would
        # only slow down the imports (matplotlib's by a twentieth).
        gc.disable()
        from adcsim.figures import _quantize as plots

        with open(data_fd, "rb", closefd=True) as pipe:
            try:
                path = pickle.load(pipe)
                plots.preload(path)
                chart = pickle.load(pipe)
            except EOFError:
                os._exit(0)
        plots.save_chart(chart, path)
        code = 0
    except AdcsimError as exc:
        os.write(status_fd, str(exc).encode())
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        os.write(status_fd, f"cannot draw the plot: {exc!r}".encode())
    finally:
        os._exit(code)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
