"""Lazy public names of a package (PEP 562), so that importing it stays cheap.

Each subpackage's ``__init__.py`` names its public objects and the private
module that defines each; the module is imported on first access. This keeps
``adcsim --help`` free of numpy and lets subpackages refer to each other
without import cycles. It does not define any public object itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def attach(
    package: str, exports: dict[str, str], submodules: dict[str, str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of str to str
        Public name -> module defining it, relative to ``package``
        (``"_chain"``) or absolute (``"adcsim.stages._chain"``).
    submodules : dict of str to str, optional
        Public submodule name -> module, imported on first access
        (``adcsim.g711`` is ``adcsim.quantizers.g711``).

    Examples
    --------
    >>> getattr_, dir_, all_ = attach("adcsim", {"AdcsimError": "adcsim.errors"})
    >>> getattr_("AdcsimError").__name__
    'AdcsimError'
    >>> all_
    ['AdcsimError']
    """
    submodules = submodules or {}
    names = [*exports, *submodules]

    def resolve(module: str) -> str:
        return module if module.startswith("adcsim") else f"{package}.{module}"

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(resolve(submodules[name]))
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}"
            ) from None
        return getattr(importlib.import_module(resolve(module)), name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, names
