"""The FFT windows every spectrum in adcsim uses, computed once per length.

Responsible for one function, `window`: the symmetric Hann window (the
averaged spectra of the report and the figures), the periodic Hann window
(the tone screen and the sine fit's first guess) and the periodic 7-term
Blackman-Harris window (THD and SFDR), each cached per length and read-only
(batches of equally long files ask for the same length thousands of times;
computing a window took as long as the FFT it weights). Not responsible for
any spectrum itself.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

#: 7-term Blackman-Harris window (O. M. Solomon Jr., "The use of DFT windows in
#: signal-to-noise ratio and harmonic distortion computations", IEEE Trans.
#: Instrum. Meas. 43(2), 1994): sidelobes below -180 dB outside +-7 bins, so a
#: spur 140 dB below the fundamental is not hidden by, or mistaken for, leakage.
_BH7 = (
    0.27105140069342,
    0.43329793923448,
    0.21812299954311,
    0.06592544638803,
    0.01081174209837,
    0.00077658482522,
    0.00001388721735,
)

WindowKind = Literal["hann", "periodic-hann", "blackman-harris-7"]


@functools.lru_cache(maxsize=16)
def window(n: int, kind: WindowKind = "hann") -> NDArray[np.float64]:
    """The ``n``-point window ``kind``, computed once per length (read-only).

    Parameters
    ----------
    n : int >= 0
        Points.
    kind : {'hann', 'periodic-hann', 'blackman-harris-7'}, default 'hann'
        ``hann``: symmetric, ``numpy.hanning(n)`` (zero at both ends);
        ``periodic-hann``: DFT-even, the first ``n`` points of an ``n + 1``
        symmetric one; ``blackman-harris-7``: DFT-even 7-term Blackman-Harris,
        ``sum_k (-1)^k a_k cos(2 pi k i / n)`` (Solomon 1994).

    Examples
    --------
    >>> window(3).tolist()
    [0.0, 1.0, 0.0]
    >>> window(4, "periodic-hann").tolist()
    [0.0, 0.5, 1.0, 0.5]
    >>> round(float(window(8, "blackman-harris-7")[4]), 6)
    1.0
    """
    if kind == "hann":
        out = np.hanning(n)
    elif kind == "periodic-hann":
        out = np.hanning(n + 1)[:-1]
    elif kind == "blackman-harris-7":
        phase = 2.0 * math.pi * np.arange(n) / n
        out = np.full(n, _BH7[0])
        for k, coefficient in enumerate(_BH7[1:], start=1):
            out += (-1) ** k * coefficient * np.cos(k * phase)
    else:
        raise ValueError(f"kind={kind!r} is not a window")
    out.flags.writeable = False
    return out


__all__ = ["window"]
