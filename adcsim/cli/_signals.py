"""SIGTERM stops the command line like Ctrl-C, from its first instruction on.

Responsible for the process's stop signals while a command runs: SIGTERM
raises `KeyboardInterrupt` (so context managers remove temporary files and
Click prints ``Aborted!``, exit code 1), and SIGINT keeps Python's handler,
which does the same. Installed by the console script before anything heavy
is imported: a SIGTERM during the first 0.1 s used to kill the process by the
default action (exit -15, no message). A signal ignored by the parent (a
``nohup``-style SIG_IGN) stays ignored. Imports only the standard library.
Not responsible for batch workers' signals (`adcsim.run._batch`).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def raise_interrupt(signum: int, frame: Any) -> None:
    """A signal handler: stop the command as Ctrl-C does."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def install() -> None:
    """Make SIGTERM raise `KeyboardInterrupt` unless it was ignored on entry.

    Only the main thread can set handlers; elsewhere (a command run from a
    thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, raise_interrupt)
