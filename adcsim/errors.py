"""The one exception type for mistakes a user can cause.

Anything a user can get wrong (a bad option value, a missing or unreadable
file, an unwritable output, inconsistent settings) raises `AdcsimError` with a
one-line, lowercase message naming the offender. Programming errors stay
`TypeError`/`AssertionError` and keep their tracebacks.
"""

from __future__ import annotations


class AdcsimError(Exception):
    """A user-caused error, reported as one line and exit code 1 by the CLI.

    Examples
    --------
    >>> str(AdcsimError("bits=0 must be an integer in [1, 24]"))
    'bits=0 must be an integer in [1, 24]'
    """
