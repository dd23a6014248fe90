"""The command line's one error boundary: `AdcsimError` to ``Error:`` and exit 1.

Responsible for turning a user error raised anywhere below a command into
one ``Error: <message>`` line on stderr and exit code 1, or, with the group's
``--debug``, letting it propagate with its traceback; for every command alike,
also one run outside the ``adcsim`` group. Not responsible for usage errors
(bad option values, exit 2: Click's own `click.BadParameter`) or for signals
(`adcsim.cli._signals`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from adcsim.errors import AdcsimError

#: The key of the root context's ``meta`` that ``--debug`` sets.
DEBUG = "adcsim.debug"


@contextmanager
def user_errors() -> Iterator[None]:
    """Map an `AdcsimError` raised inside to `click.ClickException` (exit 1).

    Under ``--debug`` the error propagates unchanged, with its traceback.

    Examples
    --------
    >>> with click.Context(click.Command("x")):
    ...     with user_errors():
    ...         raise AdcsimError("bits=0 must be in [1, 24]")
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: bits=0 must be in [1, 24]
    """
    try:
        yield
    except AdcsimError as exc:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and ctx.meta.get(DEBUG):
            raise
        raise click.ClickException(str(exc)) from None


class AdcsimCommand(click.Command):
    """A command whose `AdcsimError` becomes one ``Error:`` line (`user_errors`)."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command inside the error boundary."""
        with user_errors():
            return super().invoke(ctx)
