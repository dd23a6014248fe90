"""The package's one worker-thread helper: a thread that runs calls in order.

Responsible for `InOrder`: one background thread and a queue of at most
``depth`` calls, for the large numpy, libsndfile and soxr calls that release
the GIL, so that they run beside the main thread's reading, measuring and
writing: counting values (`adcsim.run._taps`), resampling the tail of a block
(`adcsim.stages._resample`), drawing the next block's dither noise, one
worker a channel (`adcsim.stages._dither.NoiseSource`), importing a figure's
renderer (`adcsim.run._process`). `InOrder.submit` returns a `Pending` whose `result`
waits for the call; an exception in a call is raised again by its `result`,
by the next `submit` or by `drain`, and the calls queued after it are skipped.
Not responsible for processes: the batch's worker processes
(`adcsim.run._pool`) are the package's other (and only other) concurrency
mechanism.

A plain thread and queue rather than ``concurrent.futures``, whose import
alone cost a fiftieth of a short run. Imports only the standard library, so
stages and the run layer alike can use it.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Pending(Generic[T]):
    """The outcome of one call given to `InOrder.submit`, once it has run."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def wait(self) -> None:
        """Wait until the call has run (or was skipped after a failed one)."""
        self._done.wait()

    def result(self) -> T:
        """The call's return value (waited for); raises the call's exception."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        value: T = self._value
        return value


_Job = tuple[Callable[..., Any], tuple[Any, ...], Pending[Any]]


class _Skipped(RuntimeError):
    """A call queued after a failed one: it did not run."""


class InOrder:
    """A single worker thread and its queue of at most ``depth`` calls.

    Examples
    --------
    >>> done = []
    >>> worker = InOrder()
    >>> for n in range(5):
    ...     _ = worker.submit(done.append, n)
    >>> worker.submit(sum, [1, 2, 3]).result()
    6
    >>> worker.drain()
    >>> done
    [0, 1, 2, 3, 4]
    """

    def __init__(self, depth: int = 2, *, name: str = "adcsim-worker") -> None:
        self.depth = depth
        self._slots = threading.Semaphore(depth)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=_work,
            args=(self._jobs, self._slots, self._errors),
            name=name,
            daemon=True,
        )
        self._thread.start()
        # A worker abandoned without `drain` (its run failed, or nobody waits
        # for its calls) still ends once its queue is done.
        weakref.finalize(self, self._jobs.put, None)

    def submit(self, call: Callable[..., T], *args: Any) -> Pending[T]:
        """Queue ``call(*args)``; wait first while ``depth`` calls are queued."""
        self._slots.acquire()
        try:
            self._raise_error()
        except BaseException:
            self._slots.release()
            raise
        pending: Pending[T] = Pending()
        self._jobs.put((call, args, pending))
        return pending

    def drain(self) -> None:
        """Wait for every queued call; the thread ends. Raises a call's error."""
        self._jobs.put(None)
        self._thread.join()
        self._raise_error()

    def close(self) -> None:
        """Let the thread end once the queued calls are done; wait for nothing.

        For a caller that took every result it needed: errors were raised by
        their `Pending.result`.
        """
        self._jobs.put(None)

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
        call, args, pending = job
        if errors:
            pending._error = _Skipped("not run: an earlier call failed")
        else:
            try:
                pending._value = call(*args)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller
                errors.append(exc)
                pending._error = exc
        pending._done.set()
        slots.release()


__all__ = ["InOrder", "Pending"]
