"""The ``adcsim`` command line: a thin Click layer over the library.

``main`` is the Click group (imported on first use) and ``run`` the console
script. Importing this package loads only the standard library; ``run``
installs the stop-signal handlers (`adcsim.cli._signals`) before it imports
click and the commands, and each command imports what it needs inside its
body.
"""

from __future__ import annotations

import sys

from adcsim._lazy import attach

__getattr__, __dir__, _public = attach(__name__, {"main": "_main"})
__all__ = [*_public, "run"]


def run() -> None:
    """The ``adcsim`` console script: signal handlers first, then the commands.

    A SIGTERM or Ctrl-C while the commands are being imported ends the
    process as one during a command does: ``Aborted!`` and exit code 1.
    """
    from adcsim.cli import _signals

    _signals.install()
    try:
        from adcsim.cli._main import run as run_commands
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    run_commands()
