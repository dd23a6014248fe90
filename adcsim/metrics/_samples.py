"""The range of samples a measurement accepts: finite, at most 1e6 full scale.

Responsible for refusing, before any figure is computed, samples that no
measurement can work with: NaN, infinities, and magnitudes so large that
their squares and sums leave the float64 range. `checked_blocks` is the one
check at the entry of every streamed command (quantize's chain, analyze,
the histogram test), so that a bad block stops the run before a stage or
meter touches it (numpy's overflow warnings came first otherwise). Not responsible for
clipping at full scale (the quantizers count that) or for reading files.

Notes
-----
A float file can hold any double, and a corrupt or unscaled one (samples of
1e299, say) made the sine fit's least squares run into overflow: LAPACK
printed to stdout, ``numpy.linalg.lstsq`` failed with "SVD did not converge"
or did not return at all. The bound, 1e6 times full scale (+120 dB), is far
above anything a converter or a sane float mix produces, and keeps every sum
of squares of a record of up to 2**40 samples below 1e25, far from overflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

#: Largest sample magnitude (in full-scale units) any measurement accepts.
MAX_ABS_SAMPLE = 1e6


def check_samples(x: NDArray[np.floating] | NDArray[np.integer], what: str) -> None:
    """Refuse non-finite samples or samples beyond `MAX_ABS_SAMPLE`.

    Parameters
    ----------
    x : ndarray
        Samples of any shape.
    what : str
        Names them in the message (``"tone metrics: x"``, a file name).

    Raises
    ------
    AdcsimError
        A sample is NaN or infinite, or its magnitude exceeds 1e6.

    Examples
    --------
    >>> check_samples(np.array([0.5, -1.0]), "x")
    >>> check_samples(np.array([0.5, 1e299]), "x")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: x has a sample of 1e+299: measurements take \
finite samples of at most 1e+06 times full scale (a corrupt or unscaled file?)
    """
    if x.size == 0 or np.issubdtype(x.dtype, np.integer):
        return
    # max and min, not abs: no copy of a long record; NaN propagates to both.
    high, low = float(np.max(x)), float(np.min(x))
    if high <= MAX_ABS_SAMPLE and -low <= MAX_ABS_SAMPLE:
        return
    if not (np.isfinite(high) and np.isfinite(low)):
        raise AdcsimError(f"{what} contains non-finite samples (NaN or infinity)")
    peak = high if abs(high) >= abs(low) else low
    raise AdcsimError(
        f"{what} has a sample of {peak:.3g}: measurements take finite samples of "
        f"at most {MAX_ABS_SAMPLE:.0e} times full scale (a corrupt or unscaled file?)"
    )


def checked_blocks(blocks: Iterable[NDArray[Any]], what: str) -> Iterator[NDArray[Any]]:
    """``blocks`` passed on unchanged, each `check_samples`-ed first.

    Integer blocks pass without a look (every integer sample is in range);
    a float block costs one max and one min.

    Parameters
    ----------
    blocks : iterable of ndarray
        The blocks read, in order.
    what : str
        Names them in the message (the file's name, quoted).

    Yields
    ------
    ndarray
        Each block, not copied.

    Raises
    ------
    AdcsimError
        At the first block holding a non-finite sample or one beyond
        `MAX_ABS_SAMPLE`, before it is yielded.

    Examples
    --------
    >>> blocks = [np.zeros((2, 1)), np.full((2, 1), np.nan)]
    >>> stream = checked_blocks(blocks, "'x.wav'")
    >>> next(stream).shape
    (2, 1)
    >>> next(stream)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: 'x.wav' contains non-finite samples (NaN or infinity)
    """
    for block in blocks:
        check_samples(block, what)
        yield block
