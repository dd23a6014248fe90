"""Encoding through a static transfer curve, compiled.

Responsible for the per-sample search of `adcsim.quantizers._transfer`'s
`TransferQuantizer`: the number of transition levels at or below each
sample, and the count of samples beyond the curve's range. Not responsible
for the curve, its checks, or the bucket table (built with numpy by the
caller, once per curve).

Why a kernel: ``np.searchsorted`` over the 65535 transitions of a 16-bit
curve costs about 250 ns a sample (16 dependent, cache-missing steps),
measured on this project's 2-core machine; a 10-minute stereo file (57.6 M
samples) would spend 15 s there, against about 3 s for the whole TPDF
requantize that issue 13 compares with. Here a sample first finds its
bucket of a uniform table (``start[b]``: transitions at or below the
bucket's lower edge, ``start[b + 1]`` at or below its upper edge, with the
first bucket open to minus and the last to plus infinity), then bisects
within it and the bucket below (rounding of ``v - low`` can put a sample
just under an edge in the bucket above it; never below): one-LSB buckets
of a curve within a few LSB of its ideal hold about one transition each,
so two or three steps. Any non-decreasing curve gives
the exact count (a cluster of equal transitions only costs more steps).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from adcsim.kernels._jit import kernel

_SIGNATURE = (
    "void(float64[:, ::1], float64[::1], int64[::1], float64, float64, "
    "int64, float64, float64, int32[:, ::1], int64[::1])"
)


@kernel(_SIGNATURE)
def _loop(  # type: ignore[no-untyped-def]
    x, transitions, start, low, scale, half, under, over, out, clipped
):  # pragma: no cover - compiled; covered through count_transitions
    frames, channels = x.shape
    buckets = start.shape[0] - 1
    for n in range(frames):
        for c in range(channels):
            v = x[n, c]
            b = 0
            position = (v - low) * scale
            if position >= buckets - 1:
                b = buckets - 1
            elif position > 0.0:
                b = int(position)
            # (v - low) rounds up onto the next edge for v just below it, so the
            # bucket found is the right one or the one above: search both.
            lo = start[b - 1] if b > 0 else 0
            hi = start[b + 1]
            # invariant: the count lies in [lo, hi]
            while lo < hi:
                mid = (lo + hi) >> 1
                if transitions[mid] <= v:
                    lo = mid + 1
                else:
                    hi = mid
            out[n, c] = lo - half
            if v >= over or v < under:
                clipped[c] += 1


def bucket_table(
    transitions: NDArray[np.float64], *, low: float, width: float, buckets: int
) -> NDArray[np.int64]:
    """``start`` for `count_transitions`: counts at the inner bucket edges.

    ``start[0] = 0`` and ``start[buckets] = len(transitions)`` (the outer
    buckets are open); ``start[b]`` for ``0 < b < buckets`` is the number of
    transitions at or below ``low + b * width``.

    Examples
    --------
    >>> bucket_table(np.array([-0.75, -0.25, 0.25]), low=-1.0, width=0.5,
    ...              buckets=4).tolist()
    [0, 1, 2, 3, 3]
    """
    edges = low + width * np.arange(1, buckets, dtype=np.float64)
    inner = np.searchsorted(transitions, edges, side="right")
    return np.concatenate([[0], inner, [transitions.size]]).astype(np.int64)


def count_transitions(
    x: NDArray[np.float64],
    transitions: NDArray[np.float64],
    start: NDArray[np.int64],
    *,
    low: float,
    width: float,
    under: float,
    over: float,
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Codes of a block: transitions at or below each sample, less 2**(N-1).

    Parameters
    ----------
    x : ndarray of float64, (frames, channels), C-contiguous
        The samples.
    transitions : ndarray of float64, (2**N - 1,)
        Non-decreasing transition levels.
    start : ndarray of int64
        The bucket table (`bucket_table`) for ``low`` and ``width``.
    low, width : float
        Lower edge of bucket 0's span and the bucket width; ``width`` a power
        of two and ``low`` a multiple of it, so that the edges are exact.
    under, over : float
        Samples below ``under`` or at or above ``over`` are counted as
        overload (they lie beyond the end codes' nominal width).

    Returns
    -------
    codes : ndarray of int32, (frames, channels)
    clipped : ndarray of int64, (channels,)
        The overload count of each channel.

    Examples
    --------
    >>> t = np.array([-0.75, -0.25, 0.25])
    >>> start = bucket_table(t, low=-1.0, width=0.5, buckets=4)
    >>> codes, clipped = count_transitions(
    ...     np.array([[-2.0], [-0.25], [0.1], [0.9]]), t, start,
    ...     low=-1.0, width=0.5, under=-1.25, over=0.75)
    >>> codes.ravel().tolist(), clipped.tolist()
    ([-2, 0, 0, 1], [2])
    """
    out = np.empty(x.shape, dtype=np.int32)
    clipped = np.zeros(x.shape[1], dtype=np.int64)
    half = (transitions.size + 1) // 2
    _loop(x, transitions, start, low, 1.0 / width, half, under, over, out, clipped)
    return out, clipped
