"""Lloyd-Max codebook design: the N-bit quantizer of least MSE for given data.

This module *trains* codebooks: from training samples it designs the ``2**N``
output levels and ``2**N - 1`` decision thresholds that minimize the mean
squared error (Lloyd 1957/1982, Max 1960).
The codebook itself, its checks and its JSON form are
`adcsim.quantizers._codebook`; applying a codebook to a signal is
`LloydMaxQuantizer`'s job. This module reads no audio, runs no chain and
computes no report metrics.

Training streams: `LloydMaxTrainer.update` folds any number of blocks into a
fixed-size histogram, and `LloydMaxTrainer.design` runs Lloyd's algorithm on the
histogram, so memory and the cost of one iteration do not grow with the length
of the training data. The histogram holds exact integer sums, so any split of
the data into blocks gives exactly the same codebook.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._codebook import MAX_BITS, Codebook

#: Default convergence tolerance on the relative change of the MSE per iteration.
DEFAULT_TOL = 1e-7
#: Default limit on the number of Lloyd iterations.
DEFAULT_MAX_ITER = 2000

# The histogram works on a fixed-point copy of the samples: each sample, clipped
# to full scale [-1, 1], is rounded to a multiple of 2**-30 (exact for PCM of up
# to 31 bits) and falls into one of 2**20 + 1 bins of width 2**-19, keeping per
# bin the count, the sum and the sum of squares of its offset (< 2**11 grid
# steps) from the bin's lower edge. Integer sums make the accumulation exact and
# independent of the order of the data; with offsets below 2**11, int64 sums of
# squares cannot overflow before a bin holds 2**41 samples.
_FRACTION_BITS = 30
_OFFSET_BITS = 11
_BINS = ((2 << _FRACTION_BITS) >> _OFFSET_BITS) + 1
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1
_GRID = 2.0**-_FRACTION_BITS
#: Limit on the samples one trainer accepts (keeps the int64 sums exact).
MAX_SAMPLES = 1 << 40
# Samples per bincount pass (at most 2 * _CHUNK): float64 bincount weights stay
# exact integers (sums of squares < 2**23 * 2**22 < 2**53); temporaries stay small.
_CHUNK = 1 << 21


def _check_bits(bits: object) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise AdcsimError(
            f"lloydmax: bits={bits!r} must be an integer in [1, {MAX_BITS}]"
        )
    if not 1 <= bits <= MAX_BITS:
        raise AdcsimError(
            f"lloydmax: bits={bits} must be an integer in [1, {MAX_BITS}]"
        )
    return int(bits)


def _check_tol(tol: object) -> float:
    if (
        isinstance(tol, bool)
        or not isinstance(tol, (int, float, np.floating, np.integer))
        or not math.isfinite(tol)
        or tol < 0
    ):
        raise AdcsimError(f"lloydmax: tol={tol!r} must be a finite number >= 0")
    return float(tol)


def _check_max_iter(max_iter: object) -> int:
    if (
        isinstance(max_iter, bool)
        or not isinstance(max_iter, (int, np.integer))
        or max_iter < 0
    ):
        raise AdcsimError(f"lloydmax: max_iter={max_iter!r} must be an integer >= 0")
    return int(max_iter)


class LloydMaxTrainer:
    """Streaming Lloyd-Max design: feed blocks with `update`, then `design`.

    `update` folds samples into a fixed histogram (2**20 + 1 bins of width
    2**-19 over [-1, 1], 25 MB, plus a batch of at most 2**22 samples waiting
    to be binned, 32 MB) holding per bin the exact integer count, sum and sum
    of squares of the samples rounded to multiples of 2**-30 (no rounding for
    PCM of up to 31 bits, nor for float32 samples above 2**-7 in magnitude).
    Any number of blocks of any shape can be added; all channels are pooled
    into one distribution. `design` may be called several times (for several
    depths).

    Attributes
    ----------
    samples : int
        Samples accumulated so far (at most `MAX_SAMPLES`).
    clipped_samples : int
        Samples with ``|x| > 1``; they are designed for as ``sign(x)`` (full
        scale), the value the output can represent.

    See Also
    --------
    design_lloyd_max : one block, one call.

    Notes
    -----
    The design is exact for the histogram: each bin acts as a point mass at the
    mean of its samples, with its internal variance added to the error, so cell
    means and the MSE are exact except that a bin straddling a threshold is
    assigned whole to one cell (an error of at most one bin width, 2**-19 of
    full scale, on the position of the cell boundary). The quantizer assigns
    each sample to its nearest level instead, which can only lower the error:
    ``design_mse`` bounds the codebook's error on the (clipped) training data
    from above (tightly: the tests find the two equal to 1e-6, relative).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = 0.1 * rng.standard_normal(20000)
    >>> trainer = LloydMaxTrainer()
    >>> for block in np.array_split(x, 3):
    ...     trainer.update(block)
    >>> cb = trainer.design(1)
    >>> cb.levels.round(3), cb.converged
    (array([-0.078,  0.081]), True)
    >>> cb == design_lloyd_max(x, bits=1)
    True
    """

    def __init__(self) -> None:
        self._count = np.zeros(_BINS, dtype=np.int64)
        self._sum = np.zeros(_BINS, dtype=np.int64)
        self._sumsq = np.zeros(_BINS, dtype=np.int64)
        # Grid indices of recent samples, binned once _CHUNK have gathered, so
        # that small blocks do not each pay for a pass over all 2**20 bins.
        self._pending: list[NDArray[np.int64]] = []
        self._pending_size = 0
        self.samples = 0
        self.clipped_samples = 0

    def update(self, block: ArrayLike) -> None:
        """Add the samples of ``block`` (any shape, full scale) to the statistics.

        Parameters
        ----------
        block : array_like of float or int
            Training samples; all elements count alike.

        Raises
        ------
        AdcsimError
            The block holds NaN or infinity, is not real-valued, or the total
            would exceed `MAX_SAMPLES`. The trainer is then left unchanged.
        """
        x = np.asarray(block)
        if x.dtype.kind not in "fiu":
            raise AdcsimError(
                f"lloydmax: training data must be real numbers, got dtype={x.dtype}"
            )
        x = x.reshape(-1)
        if self.samples + x.size > MAX_SAMPLES:
            raise AdcsimError(
                f"lloydmax: training data of {self.samples + x.size} samples "
                f"exceeds the limit of {MAX_SAMPLES}"
            )
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise AdcsimError("lloydmax: training data contains nan or inf")
        for start in range(0, x.size, _CHUNK):
            q = self._grid(x[start : start + _CHUNK])
            self._pending.append(q)
            self._pending_size += q.size
            if self._pending_size >= _CHUNK:
                self._bin_pending()
        self.samples += x.size

    def _grid(self, chunk: NDArray[Any]) -> NDArray[np.int64]:
        """Grid indices ``round(x * 2**30) + 2**30`` of the clipped samples."""
        v = chunk.astype(np.float64)
        self.clipped_samples += int(np.count_nonzero((v < -1.0) | (v > 1.0)))
        np.clip(v, -1.0, 1.0, out=v)
        v *= 1 << _FRACTION_BITS  # exact: a power of two
        np.rint(v, out=v)
        q = v.astype(np.int64)
        q += 1 << _FRACTION_BITS  # in [0, 2**31]
        return q

    def _bin_pending(self) -> None:
        if not self._pending:
            return
        q = np.concatenate(self._pending)
        self._pending = []
        self._pending_size = 0
        b = q >> _OFFSET_BITS
        r = q & _OFFSET_MASK
        # float64 bincount weights: sums over < 2**23 samples are integers
        # below 2**53 (offsets < 2**11), so they are exact.
        if q.size < _BINS // 16:
            # Few samples: count only the bins they touch.
            bins, index = np.unique(b, return_inverse=True)
            self._count[bins] += np.bincount(index)
            self._sum[bins] += np.bincount(index, weights=r).astype(np.int64)
            self._sumsq[bins] += np.bincount(index, weights=r * r).astype(np.int64)
            return
        self._count += np.bincount(b, minlength=_BINS)
        self._sum += np.bincount(b, weights=r, minlength=_BINS).astype(np.int64)
        self._sumsq += np.bincount(b, weights=r * r, minlength=_BINS).astype(np.int64)

    def _atoms(self) -> tuple[NDArray[np.int64], NDArray[np.float64], float]:
        """Non-empty bins as point masses: counts, means, total within-bin SSE."""
        self._bin_pending()
        nz = np.flatnonzero(self._count)
        n = self._count[nz]
        s = self._sum[nz].astype(np.float64)
        s2 = self._sumsq[nz].astype(np.float64)
        offset_mean = s / n
        means = (
            nz.astype(np.float64) * (1 << _OFFSET_BITS) + offset_mean
        ) * _GRID - 1.0
        within = float(np.sum(np.maximum(s2 - s * offset_mean, 0.0))) * _GRID**2
        return n, means, within

    def design(
        self, bits: int, *, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER
    ) -> Codebook:
        """Design the N-bit Lloyd-Max codebook for the samples seen so far.

        Parameters
        ----------
        bits : int in [1, 16]
            Depth N: ``2**N`` levels.
        tol : float >= 0, default 1e-7
            Stop when the MSE changes by at most ``tol`` times its previous
            value in one iteration (0: only at a fixed point).
        max_iter : int >= 0, default 2000
            Iteration limit; the codebook records whether it converged before.

        Returns
        -------
        Codebook
            Levels, midpoint thresholds, the design MSE, iterations, convergence.

        Raises
        ------
        AdcsimError
            Bad parameter, or no training samples yet.

        Notes
        -----
        Lloyd's algorithm (Lloyd 1957, publ. 1982; Max 1960) alternates the two
        necessary conditions of minimum MSE: each threshold is the midpoint of
        its two levels, ``t_i = (y_i + y_(i+1)) / 2`` (nearest-level cells), and
        each level is the mean of its cell, ``y_i = E[x | t_(i-1) <= x < t_i]``.
        The MSE never increases; iteration stops when its relative change is at
        most ``tol`` (the tolerance is on the MSE, not on the levels).

        Initialization is deterministic: the levels start with the point
        density that is optimal for many levels, proportional to ``p(x)**(1/3)``
        (Bennett 1948; Panter & Dite 1951), with ``p`` estimated from the
        histogram. This starts close to the optimum, so even 12-bit designs on
        peaky audio distributions converge in tens of iterations. A cell that
        becomes empty hands its level to the cell of largest squared error,
        which is split in two at its mean (Linde, Buzo & Gray 1980); the MSE
        still never increases.

        With at most ``2**N`` distinct histogram bins (silence, constant input,
        few-valued data) the optimum is exact: one level at each bin's mean,
        MSE = the within-bin variance (0 for at most ``2**N`` distinct values),
        and the spare levels sit at the centres of a uniform ``2**N``-cell grid
        over [-1, 1], in the grid cells farthest from the data; ``iterations``
        is then 0. Levels are always strictly ascending.
        """
        bits = _check_bits(bits)
        tol = _check_tol(tol)
        max_iter = _check_max_iter(max_iter)
        if self.samples == 0:
            raise AdcsimError("lloydmax: no training data to design from")
        n, means, within = self._atoms()
        size = 1 << bits
        if means.size <= size:
            levels = _spread_levels(means, size)
            total = float(self.samples)
            return Codebook(
                bits=bits,
                levels=levels,
                thresholds=_midpoints(levels),
                design_mse=within / total,
                iterations=0,
                converged=True,
            )
        levels, mse, iterations, converged = _lloyd(
            n, means, within, _initial_levels(n, means, size), tol, max_iter
        )
        return Codebook(
            bits=bits,
            levels=levels,
            thresholds=_midpoints(levels),
            design_mse=mse,
            iterations=iterations,
            converged=converged,
        )


def _midpoints(levels: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (levels[:-1] + levels[1:])


def _initial_levels(
    n: NDArray[np.int64], means: NDArray[np.float64], size: int
) -> NDArray[np.float64]:
    """Levels with the high-resolution optimal density, proportional to p**(1/3).

    Bennett (1948) and Panter & Dite (1951): for many levels the MSE-optimal
    point density is proportional to the cube root of the pdf. The pdf is
    estimated on groups of bins holding about equal counts (at most 16 groups
    per level), so it is smooth where data are dense and wide in the tails.
    """
    groups = min(16 * size, means.size)
    cumulative = np.cumsum(n)
    # Last atom of each group: where the cumulative count first reaches
    # g N / groups (integers, so no rounding decides a boundary).
    g = np.arange(1, groups + 1, dtype=np.int64)
    last = np.unique(np.searchsorted(cumulative * groups, g * cumulative[-1]))
    first = np.concatenate([[0], last[:-1] + 1])
    counts = np.add.reduceat(n, first).astype(np.float64)
    # Group edges halfway between neighbouring atoms; the outer edges are the
    # extreme atoms, so the levels start inside the data's range.
    edges = np.concatenate([means[:1], _midpoints(means)[last[:-1]], means[-1:]])
    mass = np.cbrt(counts) * np.diff(edges) ** (2.0 / 3.0)
    cumulative_mass = np.concatenate([[0.0], np.cumsum(mass)])
    targets = (np.arange(size) + 0.5) / size * cumulative_mass[-1]
    levels: NDArray[np.float64] = np.interp(targets, cumulative_mass, edges)
    return levels


def _spread_levels(means: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    """``means`` (at most ``size``) plus spare levels on a uniform grid."""
    spare = size - means.size
    if spare == 0:
        return means.astype(np.float64)
    centres = -1.0 + (2.0 * np.arange(size) + 1.0) / size
    occupied = np.minimum(((means + 1.0) * (size / 2)).astype(np.int64), size - 1)
    free = np.setdiff1d(np.arange(size), occupied)
    # Distance of each free grid centre to the nearest data mean.
    pos = np.searchsorted(means, centres[free])
    below = np.abs(centres[free] - means[np.maximum(pos - 1, 0)])
    above = np.abs(means[np.minimum(pos, means.size - 1)] - centres[free])
    distance = np.minimum(below, above)
    chosen = free[np.argsort(-distance, kind="stable")[:spare]]
    return np.sort(np.concatenate([means, centres[chosen]]))


def _lloyd(
    n: NDArray[np.int64],
    means: NDArray[np.float64],
    within: float,
    levels: NDArray[np.float64],
    tol: float,
    max_iter: int,
) -> tuple[NDArray[np.float64], float, int, bool]:
    """Lloyd iterations on point masses ``n`` at ``means`` (ascending).

    Returns the levels, their MSE with midpoint thresholds, the iteration count
    and whether the tolerance was met.
    """
    weights = n.astype(np.float64)
    moments = weights * means
    total = float(np.sum(weights))
    size = levels.size

    def partition(y: NDArray[np.float64]) -> NDArray[np.intp]:
        # starts[i]: first bin of cell i. A bin whose mean equals a threshold
        # goes to the upper cell, as in the quantizer (searchsorted, "right").
        starts = np.searchsorted(means, _midpoints(y), side="left")
        return np.concatenate([[0], starts]).astype(np.intp)

    def mse(y: NDArray[np.float64], starts: NDArray[np.intp]) -> float:
        counts = np.diff(np.append(starts, means.size))
        d = means - np.repeat(y, counts)
        return (within + float(np.dot(weights, d * d))) / total

    def centroids(
        y: NDArray[np.float64], starts: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        ends = np.append(starts[1:], means.size)
        full = ends > starts
        first = starts[full]
        # reduceat sums moments[first[k]:first[k+1]]: the bins of one non-empty
        # cell, since the cells in between are empty.
        mass = np.add.reduceat(weights, first)
        new: NDArray[np.float64] = y.copy()
        new[full] = np.clip(
            np.add.reduceat(moments, first) / mass, means[first], means[ends[full] - 1]
        )
        if full.all():
            return new
        return relocate(new, starts, ends, full)

    def relocate(
        y: NDArray[np.float64],
        starts: NDArray[np.intp],
        ends: NDArray[np.intp],
        full: NDArray[np.bool_],
    ) -> NDArray[np.float64]:
        # An empty cell's level would stay where it is forever; instead it
        # splits the cell of largest squared error (as in Linde, Buzo & Gray
        # 1980): that cell's level and the spare one go to the means of the
        # cell's atoms below and from its centroid. The MSE can only fall.
        empty = np.flatnonzero(~full)
        d = means - np.repeat(y, ends - starts)
        sse = np.zeros(size)
        sse[full] = np.add.reduceat(weights * d * d, starts[full])
        chosen = np.argsort(-sse, kind="stable")[: empty.size]
        chosen = chosen[sse[chosen] > 0.0]
        if chosen.size == 0:
            return y
        lo, hi = starts[chosen], ends[chosen]
        # sse > 0 means at least two atoms, so both halves can be non-empty.
        split = np.clip(np.searchsorted(means, y[chosen]), lo + 1, hi - 1)
        cw = np.concatenate([[0.0], np.cumsum(weights)])
        cm = np.concatenate([[0.0], np.cumsum(moments)])
        below = (cm[split] - cm[lo]) / (cw[split] - cw[lo])
        above = (cm[hi] - cm[split]) / (cw[hi] - cw[split])
        y = y.copy()
        y[chosen] = np.clip(below, means[lo], means[split - 1])
        y[empty[: chosen.size]] = np.clip(above, means[split], means[hi - 1])
        return np.sort(y)

    starts = partition(levels)
    previous = mse(levels, starts)
    iterations = 0
    converged = previous == 0.0
    while not converged and iterations < max_iter:
        levels = centroids(levels, starts)
        starts = partition(levels)
        current = mse(levels, starts)
        iterations += 1
        converged = abs(previous - current) <= tol * previous
        previous = current
    return levels, previous, iterations, converged


def design_lloyd_max(
    x: ArrayLike,
    *,
    bits: int,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> Codebook:
    """Design the N-bit Lloyd-Max codebook for the samples ``x``.

    The function form of `LloydMaxTrainer`: one `~LloydMaxTrainer.update` with
    all of ``x``, then `~LloydMaxTrainer.design`.

    Parameters
    ----------
    x : array_like
        Training samples, full scale; any shape, channels pooled.
    bits : int in [1, 16]
        Depth N.
    tol, max_iter
        See `LloydMaxTrainer.design`.

    Returns
    -------
    Codebook

    Raises
    ------
    AdcsimError
        Empty or non-finite data, or a bad parameter.

    See Also
    --------
    LloydMaxTrainer : streaming design over many blocks.
    adcsim.quantizers._lloydmax_scheme.LloydMaxQuantizer : applies the codebook.

    Examples
    --------
    Two clusters, one level each, at their means:

    >>> cb = design_lloyd_max([-0.52, -0.5, -0.48, 0.29, 0.3, 0.31], bits=1)
    >>> cb.levels.round(6), cb.thresholds.round(6), round(cb.design_mse, 8)
    (array([-0.5,  0.3]), array([-0.1]), 0.00016667)

    Silence: one level at 0, the spare ones on a uniform grid.

    >>> design_lloyd_max(np.zeros(8), bits=2).levels
    array([-0.75, -0.25,  0.  ,  0.75])
    """
    trainer = LloydMaxTrainer()
    trainer.update(x)
    return trainer.design(bits, tol=tol, max_iter=max_iter)
