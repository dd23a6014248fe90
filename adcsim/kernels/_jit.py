"""How adcsim's kernels are compiled: one numba decorator, one caching policy.

Responsible for compiling every kernel of ``adcsim.kernels`` the same way: with
an explicit signature (compiled, or loaded from the cache, when its module is
imported; never again for another argument type), ``nogil`` (the chain's reader
and writer threads run meanwhile), and without fast-math, so that float64
arithmetic stays IEEE and in source order. Not responsible for any kernel.

The compiled code is cached on disk (numba's ``cache=True``), keyed by the
module's source, so a run pays numba's compilation (about 2 s) once per
installed version and after that loads it (about 0.1 s, plus 0.3 s to import
numba). numba looks for a writable place itself: ``__pycache__`` beside the
module, else the user's cache directory (``$XDG_CACHE_HOME`` or
``~/.cache/numba``, where a read-only system install caches), or
``NUMBA_CACHE_DIR`` when the user set it. adcsim sets no environment variable.
When none is writable numba refuses to build a cached function; the kernel is
then compiled without a cache, at every start, rather than failing the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# numba's message when no cache directory is writable (numba.core.caching).
_NO_CACHE_DIR = "no locator available"


def kernel(signature: str) -> Callable[[Callable[..., Any]], Any]:
    """Compile the decorated function with numba for ``signature``, cached.

    Parameters
    ----------
    signature : str
        numba signature, e.g. ``"float64(float64[::1])"``; C-contiguous arrays
        (``[::1]``) let the loops index without strides.

    Returns
    -------
    callable
        A decorator returning the numba dispatcher, callable from Python with
        arguments of exactly those types (others raise ``TypeError``).

    Examples
    --------
    >>> import numpy as np
    >>> @kernel("float64(float64[::1])")
    ... def total(x):
    ...     acc = 0.0
    ...     for v in x:
    ...         acc += v
    ...     return acc
    >>> total(np.array([0.5, 0.25]))
    0.75
    """
    import numba

    def decorate(func: Callable[..., Any]) -> Any:
        try:
            return numba.njit(signature, cache=True, nogil=True)(func)
        except RuntimeError as exc:
            if _NO_CACHE_DIR not in str(exc):
                raise
            return numba.njit(signature, nogil=True)(func)

    return decorate
