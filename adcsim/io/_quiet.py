"""Silence what C libraries under libsndfile print on the process's stderr.

Responsible for `quiet_stderr`, the one place fd 2 is pointed away while
libsndfile opens or decodes a file. libmpg123 (libsndfile's MP3 decoder)
writes ``Note: Illegal Audio-MPEG-Header ...`` and ``[layer3.c:...] error:
dequantization failed!`` straight to fd 2 on a damaged MP3, before and
beside adcsim's own one-line error or report; Python's ``sys.stderr`` cannot
catch it. What libsndfile reports as an error still reaches the user through
the reader's `AdcsimError`. Not responsible for Python warnings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """File descriptor 2 goes to ``/dev/null`` inside the block, then back.

    Python's own ``sys.stderr`` is flushed first, so nothing it wrote before
    is lost; the reader runs in the main thread, between the progress bar's
    updates, so no message of adcsim's is written meanwhile.

    Examples
    --------
    >>> before = os.fstat(2).st_ino
    >>> with quiet_stderr():
    ...     os.fstat(2).st_rdev == os.stat(os.devnull).st_rdev
    True
    >>> os.fstat(2).st_ino == before
    True
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield  # no usable fd 2 (a closed stderr): nothing to silence
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        os.close(saved)
        yield
        return
    try:
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
