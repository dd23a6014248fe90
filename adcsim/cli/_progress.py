"""One-line progress bars, redrawn in place on a terminal.

Responsible for formatting and drawing the bars (a batch's: files done of
total, audio seconds processed, speed in multiples of real time, estimated
time left; one long file's, `FileProgress`: its phase and the seconds of it
read) and for printing other lines above them without tearing them. Not responsible for
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


def file_progress_line(
    phase: str,
    frames: int,
    total: int | None,
    rate: int,
    elapsed_s: float,
    *,
    width: int = _BAR_WIDTH,
) -> str:
    """The bar of one file: ``phase``, seconds read of the total, speed, ETA.

    Examples
    --------
    >>> file_progress_line("quantize", 44100 * 30, 44100 * 120, 44100, 3.0)
    'quantize [#####---------------]  30.0/120.0 s audio  10.0x real time  ETA 0:09'
    >>> file_progress_line("design", 8000, None, 8000, 0.5)
    'design  1.0 s audio  2.0x real time'
    """
    done_s = frames / rate
    speed = done_s / elapsed_s if elapsed_s > 0 else 0.0
    pace = f"{speed:.1f}x real time" if speed else "-x real time"
    if total is None or total <= 0:
        return f"{phase}  {done_s:.1f} s audio  {pace}"
    filled = min(width, width * frames // total)
    bar = "#" * filled + "-" * (width - filled)
    eta = format_duration((total - frames) / rate / speed) if speed else "-"
    return (
        f"{phase} [{bar}]  {done_s:.1f}/{total / rate:.1f} s audio  {pace}  ETA {eta}"
    )


class FileProgress(Progress):
    """The bar of a single long input (`file_progress_line`), for `process_file`.

    Called as ``bar(phase, frames, total, rate)``; a new phase (the Lloyd-Max
    design pass, then quantizing) restarts the clock. Draws at most every
    0.1 s.

    Examples
    --------
    >>> import io
    >>> ticks = iter([0.0, 0.0, 1.0, 2.0])
    >>> out = io.StringIO()
    >>> bar = FileProgress(out, clock=lambda: next(ticks))
    >>> bar("quantize", 8000, 16000, 8000)
    >>> bar("quantize", 16000, 16000, 8000)
    >>> bar.close()
    >>> "quantize [####################]  2.0/2.0 s audio  2.0x" in out.getvalue()
    True
    """

    def __init__(
        self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(0, stream, clock=clock)
        self._phase = ""

    def __call__(self, phase: str, frames: int, total: int | None, rate: int) -> None:
        """Redraw for ``frames`` of ``total`` read in ``phase``."""
        now = self.clock()
        if phase != self._phase:
            self._phase, self.start, self._last = phase, now, -1.0
        if now - self._last >= _MIN_INTERVAL_S or frames == total:
            self._last = now
            self._draw(file_progress_line(phase, frames, total, rate, now - self.start))
