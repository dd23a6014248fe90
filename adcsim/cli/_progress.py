"""A one-line progress bar for batches, redrawn in place on a terminal.

Responsible for formatting and drawing the bar (files done of total, audio
seconds processed, speed in multiples of real time, estimated time left) and
for printing other lines above it without tearing it. Not responsible for
deciding whether to show it (the CLI shows it only when stderr is a terminal
and ``--quiet`` is not given) or for counting anything itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

#: Redraw at most this often (seconds), except for the last file.
_MIN_INTERVAL_S = 0.1
_BAR_WIDTH = 20


def format_duration(seconds: float) -> str:
    """``m:ss`` below an hour, else ``h:mm:ss``.

    Examples
    --------
    >>> format_duration(5.4), format_duration(75), format_duration(3725)
    ('0:05', '1:15', '1:02:05')
    """
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_line(
    done: int, total: int, audio_s: float, elapsed_s: float, *, width: int = _BAR_WIDTH
) -> str:
    """The bar's text.

    Speed is audio seconds per wall-clock second; the time left assumes the
    remaining files take as long on average as the finished ones.

    Examples
    --------
    >>> progress_line(5, 20, 10.0, 2.0)
    '[#####---------------]  5/20 files  10.0 s audio  5.0x real time  ETA 0:06'
    >>> progress_line(0, 3, 0.0, 0.0, width=4)
    '[----]  0/3 files  0.0 s audio  -x real time  ETA -'
    """
    filled = width * done // total if total else width
    bar = "#" * filled + "-" * (width - filled)
    speed = f"{audio_s / elapsed_s:.1f}x" if elapsed_s > 0 and done else "-x"
    eta = format_duration(elapsed_s / done * (total - done)) if done else "-"
    digits = len(str(total))
    return (
        f"[{bar}] {done:>{digits}}/{total} files  {audio_s:.1f} s audio  "
        f"{speed} real time  ETA {eta}"
    )


class Progress:
    """Draws `progress_line` on ``stream`` (a terminal), in place.

    Parameters
    ----------
    total : int
        Files in the batch.
    stream : text stream
        Where to draw (stderr).
    clock : callable
        Seconds, monotonic (for tests).

    Examples
    --------
    >>> import io
    >>> ticks = iter([0.0, 1.0, 2.0])
    >>> out = io.StringIO()
    >>> bar = Progress(2, out, clock=lambda: next(ticks))
    >>> bar.advance(4.0)
    >>> bar.echo("a note")
    >>> bar.close()
    >>> text = out.getvalue()
    >>> "1/2 files  4.0 s audio  4.0x real time  ETA 0:01" in text
    True
    >>> text.count("a note"), text.endswith("a note" + chr(10))
    (1, False)
    """

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.stream, self.clock = total, stream, clock
        self.start = clock()
        self.done = 0
        self.audio_s = 0.0
        self._drawn = ""
        self._last = -1.0

    def advance(self, audio_s: float = 0.0) -> None:
        """One more file done, holding ``audio_s`` seconds of audio."""
        self.done += 1
        self.audio_s += audio_s
        now = self.clock()
        if now - self._last >= _MIN_INTERVAL_S or self.done == self.total:
            self._last = now
            self._draw(
                progress_line(self.done, self.total, self.audio_s, now - self.start)
            )

    def echo(self, line: str) -> None:
        """Print a line above the bar, then redraw the bar."""
        self.stream.write("\r\x1b[K" + line + "\n")
        if self._drawn:
            self.stream.write(self._drawn)
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar (the summary line takes its place)."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = ""

    def _draw(self, text: str) -> None:
        self._drawn = "\r\x1b[K" + text
        self.stream.write(self._drawn)
        self.stream.flush()
