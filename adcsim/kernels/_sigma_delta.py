"""The loop of a sigma-delta modulator with NTF (1 - z^-1)^L, compiled.

Responsible for the per-sample recursion of `SigmaDeltaStage`
(``adcsim.stages._sigma_delta``) at the modulator rate: the error-feedback
loop, its B-bit internal quantizer, the limit on the fed-back error and the
counts of overloads. Not responsible for the up- and down-sampling around it,
for checking parameters or for the stage's state beyond the arrays it is
handed.

Per channel, with ``c_k`` the coefficients of ``(1 - z^-1)^L = 1 + sum_k c_k
z^-k`` (``c_k = (-1)^k C(L, k)``), ``Q`` the quantizer and ``e`` the
quantization error:

``v[n] = u[n] + sum_{k=1..L} c_k e[n-k]``, ``y[n] = Q(v[n])``,
``e[n] = clip(y[n] - v[n], -limit, limit)``,

so that ``Y(z) = U(z) + (1 - z^-1)^L E(z)``: signal transfer 1, noise
transfer ``(1 - z^-1)^L``. This is the error-feedback structure (Schreier &
Temes 2005, sec. 4.2, fig. 4.4); with the same quantizer it gives the same
quantizer input ``v = u + (NTF - 1) e``, hence the same output, as the
integrator chain (CIFB) realizing this NTF with unit STF. Its only state is
the last L errors, which stay within ``+-limit``: the loop cannot diverge
whatever the input (a state that grows without bound, the instability of
integrators, has no counterpart here); when the quantizer overloads the error
is limited and counted instead.

The quantizer has ``2^B`` levels from -1 to 1, step ``D = 2 / (2^B - 1)``
(``B = 1``: the levels -1 and 1); ``v`` beyond ``+-(1 + D/2)`` overloads it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from adcsim.kernels._jit import kernel

_SIGNATURE = (
    "UniTuple(int64, 2)(float64[:, ::1], float64[::1], float64[:, ::1], "
    "float64, float64, float64, float64[:, ::1])"
)


@kernel(_SIGNATURE)
def _loop(  # type: ignore[no-untyped-def]
    u, coefficients, errors, step, highest, limit, out
):  # pragma: no cover - compiled; covered through modulate
    frames, channels = u.shape
    order = coefficients.shape[0]
    scale = 1.0 / step
    overloads = 0
    limited = 0
    for c in range(channels):
        past = errors[c]  # past[k] is e[n-1-k]
        for n in range(frames):
            v = u[n, c]
            for k in range(order):
                v += coefficients[k] * past[k]
            code = np.rint((v + 1.0) * scale)
            if code > highest:
                code = highest
                overloads += 1
            elif code < 0.0:
                code = 0.0
                overloads += 1
            y = code * step - 1.0
            e = y - v
            if e > limit:
                e = limit
                limited += 1
            elif e < -limit:
                e = -limit
                limited += 1
            for k in range(order - 1, 0, -1):
                past[k] = past[k - 1]
            past[0] = e
            out[n, c] = y
    return overloads, limited


def modulate(
    u: NDArray[np.float64],
    coefficients: NDArray[np.float64],
    errors: NDArray[np.float64],
    *,
    bits: int,
    limit: float,
) -> tuple[NDArray[np.float64], int, int]:
    """Run the modulator over a block; advance ``errors`` in place.

    Parameters
    ----------
    u : ndarray of float64, (frames, channels), C-contiguous
        The input at the modulator rate, full scale [-1, 1].
    coefficients : ndarray of float64, (L,)
        ``c_1 .. c_L`` of the NTF ``1 + sum c_k z^-k``.
    errors : ndarray of float64, (channels, L), C-contiguous
        The last L errors of each channel, newest first.
    bits : int
        The internal quantizer's bits B (``2^B`` levels on [-1, 1]).
    limit : float
        Errors beyond ``+-limit`` are clipped to it before they are fed back.

    Returns
    -------
    out : ndarray of float64, (frames, channels)
        The modulator's output levels.
    overloads : int
        Samples whose quantizer input lay beyond ``+-(1 + D/2)``.
    limited : int
        Fed-back errors clipped to ``+-limit``.

    Examples
    --------
    First order, one bit, a constant 0.5: the levels average to 0.5.

    >>> y, overloads, limited = modulate(
    ...     np.full((8, 1), 0.5), np.array([-1.0]), np.zeros((1, 1)),
    ...     bits=1, limit=2.0)
    >>> y.ravel().tolist(), overloads, limited
    ([1.0, -1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0], 0, 0)
    """
    out = np.empty_like(u)
    highest = float(2**bits - 1)
    overloads, limited = _loop(
        u, coefficients, errors, 2.0 / highest, highest, limit, out
    )
    return out, int(overloads), int(limited)
