"""The ``adcsim`` command line: a thin Click layer over the library.

``main`` is the Click group and ``run`` the console script. Importing this
package loads only click and the standard library; each command imports what
it needs inside its body.
"""

from __future__ import annotations

from adcsim.cli._main import main, run

__all__ = ["main", "run"]
