"""One background thread that runs calls in order, a few at a time.

For the large numpy and libsndfile calls of the look-up path, which release
the GIL: counting values (`adcsim.run._taps.ValueCounter`) and writing blocks
(`adcsim.run._process`) run beside the main thread's reading and measuring. At
most ``depth`` calls wait, so memory stays bounded; an exception in a call is
raised again in the caller by the next `submit` or by `drain`, and the calls
queued after it are skipped.

A plain thread and queue rather than ``concurrent.futures``, whose import
alone cost a fiftieth of a short run.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

_Job = tuple[Callable[..., Any], tuple[Any, ...]]


class InOrder:
    """A single worker thread and its queue of at most ``depth`` calls.

    Examples
    --------
    >>> done = []
    >>> worker = InOrder()
    >>> for n in range(5):
    ...     worker.submit(done.append, n)
    >>> worker.drain()
    >>> done
    [0, 1, 2, 3, 4]
    """

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._slots = threading.Semaphore(depth)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=_work, args=(self._jobs, self._slots, self._errors), daemon=True
        )
        self._thread.start()
        # A worker abandoned without `drain` (its run failed) still ends.
        weakref.finalize(self, self._jobs.put, None)

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        """Queue ``call(*args)``; wait first while ``depth`` calls are queued."""
        self._slots.acquire()
        self._raise_error()
        self._jobs.put((call, args))

    def drain(self) -> None:
        """Wait for every queued call; the thread ends. Raises a call's error."""
        self._jobs.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._errors:
            raise self._errors[0]


def _work(
    jobs: queue.SimpleQueue[_Job | None],
    slots: threading.Semaphore,
    errors: list[BaseException],
) -> None:
    """The thread: run jobs until the end mark, none after a failed one."""
    while (job := jobs.get()) is not None:
        call, args = job
        if not errors:
            try:
                call(*args)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller
                errors.append(exc)
        slots.release()
