"""The registry of quantizer schemes (`SCHEMES`) and `make_quantizer`.

One entry per scheme, keyed by its ``--scheme`` name. The schemes themselves
live in their own modules.
"""

from __future__ import annotations

from typing import Any

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._companders import AlawQuantizer, MulawQuantizer
from adcsim.quantizers._g711_schemes import G711AlawQuantizer, G711MulawQuantizer
from adcsim.quantizers._lloydmax_scheme import LloydMaxQuantizer
from adcsim.quantizers._uniform import (
    FloorQuantizer,
    MidriseQuantizer,
    UniformQuantizer,
)

SCHEMES: dict[str, type[Quantizer]] = {
    cls.name: cls
    for cls in (
        UniformQuantizer,
        MidriseQuantizer,
        FloorQuantizer,
        MulawQuantizer,
        AlawQuantizer,
        G711MulawQuantizer,
        G711AlawQuantizer,
        LloydMaxQuantizer,
    )
}


def make_quantizer(
    scheme: str = "uniform", *, bits: int = 8, **params: Any
) -> Quantizer:
    """Build the registered quantizer ``scheme``; unknown parameters are an error.

    Parameters
    ----------
    scheme : str
        A key of `SCHEMES`.
    bits : int
        Bit depth (the scheme checks its range).
    **params
        The scheme's own parameters (``mu``, ``a``, ...). ``None`` values are
        dropped, so callers can pass every option and let the scheme pick.

    Raises
    ------
    AdcsimError
        Unknown scheme or parameter, or a value out of range.

    Examples
    --------
    >>> make_quantizer("mulaw", bits=8, mu=100)
    MulawQuantizer(bits=8, mu=100.0)
    """
    try:
        cls = SCHEMES[scheme]
    except KeyError:
        allowed = ", ".join(SCHEMES)
        raise AdcsimError(f"scheme={scheme!r} is not one of: {allowed}") from None
    given = {k: v for k, v in params.items() if v is not None}
    unknown = set(given) - set(cls.PARAMS)
    if unknown:
        name = sorted(unknown)[0]
        raise AdcsimError(f"scheme {scheme!r} takes no parameter {name!r}")
    return cls(bits=bits, **given)
