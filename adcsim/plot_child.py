"""Draw a run's figure in a forked child process, on the second core.

Importing matplotlib takes about half a second and drawing the figure half
as long again, more than all the audio work of a ten-minute file. `PlotChild`
forks before the audio work starts: the child imports matplotlib while the
parent reads, quantizes and measures, then draws and saves the figure from
the data the parent sends it, while the parent computes the report. A
thread cannot do this: matplotlib is Python code and holds the GIL.

Used for one-input runs on systems with ``os.fork``; batches draw in their
own (long-lived) processes, where matplotlib is imported once.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from typing import Any, BinaryIO

from adcsim.errors import AdcsimError


def available() -> bool:
    """Whether a child can help: fork exists and matplotlib is not imported yet."""
    return hasattr(os, "fork") and "matplotlib" not in sys.modules


class PlotChild:
    """A forked process that draws one quantize figure when it gets the data.

    Examples
    --------
    The parent's side, in short::

        child = PlotChild(quantizer, title, path)  # forks; the child
        ...                # imports matplotlib and draws the figure's frame
        child.send(tap)    # the run's PlotTap; the child fills and saves
        ...                # the report's figures
        child.wait()       # raises AdcsimError if drawing failed
    """

    def __init__(self, quantizer: Any, title: str, path: str) -> None:
        data_read, self._data = os.pipe()
        self._status, status_write = os.pipe()
        self._sender: threading.Thread | None = None
        # Signals wait until each side has the handlers it needs: a Ctrl-C
        # right after the fork must not run the parent's handler in the child.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            try:
                self.pid = os.fork()
            except OSError:  # (no process left to spare): the caller draws
                for fd in (data_read, self._data, self._status, status_write):
                    os.close(fd)
                raise
            if self.pid == 0:  # the child: never returns
                os.close(self._data)
                os.close(self._status)
                _child_main(data_read, status_write, quantizer, title, path)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        os.close(data_read)
        os.close(status_write)

    def send(self, tap: Any) -> None:
        """Hand over the figure's data (a `PlotTap`); the caller goes on.

        A thread writes it: the child reads only once matplotlib is imported.
        """
        payload = pickle.dumps(tap, pickle.HIGHEST_PROTOCOL)
        pipe = open(self._data, "wb", closefd=True)  # noqa: SIM115 - the thread closes it
        self._data = -1
        self._sender = threading.Thread(target=_write_all, args=(pipe, payload))
        self._sender.start()

    def wait(self) -> None:
        """Wait until the figure is saved.

        Raises
        ------
        AdcsimError
            The child could not draw or save the figure.
        """
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
        """Stop the child (the run failed); it leaves no file behind."""
        sent = self._sender is not None
        for fd in (self._data, self._status):
            if fd >= 0:
                os.close(fd)
        self._data = self._status = -1
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                # Before the data it has written nothing: SIGKILL. After,
                # SIGTERM: its handler unwinds through AtomicFile, which
                # removes a half-written figure.
                os.kill(self.pid, signal.SIGTERM if sent else signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        if self._sender is not None:
            self._sender.join()


def _write_all(pipe: BinaryIO, payload: bytes) -> None:
    with pipe, contextlib.suppress(BrokenPipeError):  # gone: wait() says why
        pipe.write(payload)


def _child_main(
    data_fd: int, status_fd: int, quantizer: Any, title: str, path: str
) -> None:
    """Draw the frame, read the data, fill and save; exit without cleanup.

    ``os._exit`` skips the parent's atexit handlers and buffered stdout,
    which belong to the parent alone.
    """
    code = 1
    try:
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGINT, _raise_interrupt)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        from adcsim import plots

        figure = plots.QuantizeFigure(quantizer=quantizer, title=title)
        with open(data_fd, "rb", closefd=True) as pipe:
            payload = pipe.read()
        if payload:  # empty: the parent gave up
            figure.fill(pickle.loads(payload))
            plots.save_figure(figure.fig, path)
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
