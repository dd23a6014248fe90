"""One background thread that runs calls in order, a few at a time.

For the large numpy and libsndfile calls of the look-up path, which release
the GIL: counting values (`adcsim.taps.ValueCounter`) and writing blocks
(`adcsim.pipeline`) run beside the main thread's reading and measuring. At
most ``depth`` calls wait, so memory stays bounded; an exception in a call is
raised again in the caller by the next `submit` or by `drain`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import concurrent.futures


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
        import concurrent.futures

        self.depth = depth
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._pending: list[concurrent.futures.Future[Any]] = []

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        """Queue ``call(*args)``; wait first while ``depth`` calls are queued."""
        while len(self._pending) >= self.depth:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(call, *args))

    def drain(self) -> None:
        """Wait for every queued call; the thread ends. Raises a call's error."""
        try:
            while self._pending:
                self._pending.pop(0).result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
