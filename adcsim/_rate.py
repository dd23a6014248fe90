"""The one check of a sample rate, for the library and the command line.

Responsible for the bounds of a processing rate (`MIN_RATE`, `MAX_RATE`) and
for `check_rate` (and `check_real_rate` for measurements), which every
stage, meter, generator and option calls with its own lower bound where its
design needs one (a filter that needs a Nyquist frequency well above its
poles). Imports only the standard library
and `adcsim.errors`, so the CLI can use it at start-up (no numpy). Not
responsible for rates read from files (the readers take what a header says;
a stage that cannot work at that rate refuses it in its ``start``).
"""

from __future__ import annotations

import math
import numbers
import operator

from adcsim.errors import AdcsimError

#: Lowest processing rate, Hz: below it no audio band remains, and a rate of
#: 1 Hz is a typing slip for 1 kHz far more often than a wish.
MIN_RATE = 100
#: Highest processing rate, Hz (10 MHz: beyond any audio converter's, and it
#: keeps buffer sizes of a second of signal within memory).
MAX_RATE = 10_000_000


def _hz(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def check_rate(
    rate: object,
    *,
    name: str = "rate",
    low: float = MIN_RATE,
    high: float = MAX_RATE,
    prefix: str = "",
) -> int:
    """Return ``rate`` if it is a whole number of Hz in ``[low, high]``, else raise.

    Parameters
    ----------
    rate : object
        The value to check (numpy integers and floats are numbers too).
    name : str, default 'rate'
        The name the message gives it (``out_rate``, ``in_rate``).
    low, high : float, default 100 and 10_000_000
        The bounds, inclusive; ``low <= 0`` means any positive rate.
    prefix : str, default ''
        Put before the message (``"loudness: "``).

    Raises
    ------
    AdcsimError
        ``{prefix}{name}={rate} must be an integer number of Hz in [low, high]``.

    See Also
    --------
    check_real_rate : the same for a rate that may be fractional.

    Examples
    --------
    >>> check_rate(8000)
    8000
    >>> check_rate(1)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: rate=1 must be an integer number of Hz in [100, 10000000]
    >>> check_rate(2000, low=4000, name="in_rate", prefix="weighting: ")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: weighting: in_rate=2000 must be an integer number \
of Hz in [4000, 10000000]
    """
    return int(_checked(rate, name, low, high, prefix, whole=True))


def check_real_rate(
    rate: object, *, low: float = 0.0, high: float = MAX_RATE, prefix: str = ""
) -> float:
    """Return ``rate`` as a float if it is a finite number of Hz in ``[low, high]``.

    For measurements of a record whose rate need not be whole (a tone fit at
    0.5 Hz); ``low <= 0`` means any positive rate. See `check_rate`.

    Examples
    --------
    >>> check_real_rate(0.5)
    0.5
    >>> check_real_rate(0, prefix="sine fit: ")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: sine fit: rate=0 must be a number of Hz in (0, 10000000]
    """
    return float(_checked(rate, "rate", low, high, prefix, whole=False))


def _checked(
    rate: object, name: str, low: float, high: float, prefix: str, *, whole: bool
) -> int | float:
    kind = "an integer number" if whole else "a number"
    span = f"[{_hz(low)}, {_hz(high)}]" if low > 0 else f"(0, {_hz(high)}]"
    shown = rate if isinstance(rate, numbers.Number) else repr(rate)
    message = f"{prefix}{name}={shown} must be {kind} of Hz in {span}"
    value: int | float
    if isinstance(rate, bool):
        raise AdcsimError(message)
    if whole:
        try:
            value = operator.index(rate)  # type: ignore[arg-type]
        except TypeError:
            raise AdcsimError(message) from None
    else:
        if not isinstance(rate, numbers.Real) or not math.isfinite(rate):
            raise AdcsimError(message)
        value = float(rate)
    if not (low <= value <= high and value > 0):
        raise AdcsimError(message)
    return value


__all__ = ["MAX_RATE", "MIN_RATE", "check_rate", "check_real_rate"]
