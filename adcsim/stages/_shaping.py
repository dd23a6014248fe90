"""Noise shaping: the stage that requantizes with dither and error feedback.

Responsible for `NoiseShapingStage` (dither, error feedback and a uniform
quantizer in one chain stage, with its per-channel error history and counters)
and its function form `noise_shape`. Not responsible for the filters
(``adcsim.stages._shaping_filters``), for the dither noise itself and its
seeding (``adcsim.stages._dither``) or for the quantizers (``adcsim.quantizers``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from operator import mul
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._uniform import (
    FloorQuantizer,
    MidriseQuantizer,
    UniformQuantizer,
)
from adcsim.stages._chain import StreamInfo
from adcsim.stages._dither import (
    channel_generators,
    check_dither,
    check_seed,
    make_noise,
)
from adcsim.stages._shaping_filters import ShapingFilter, get_filter

# get_filter is re-exported: callers that build the stage pick its filter with it.
__all__ = ["ERROR_LIMIT_STEPS", "NoiseShapingStage", "get_filter", "noise_shape"]

#: Fed-back errors are limited to this many steps. In the granular range the
#: error ``y - v`` of a uniform quantizer with TPDF dither lies in (-1.5 D,
#: 1.5 D) (floor: (-2 D, D)), so the limit only acts when the quantizer clips.
ERROR_LIMIT_STEPS = 2.0

# Scalar rules of the uniform schemes, equal to their vectorized encoders:
# Python's round() rounds half to even like numpy.round; floor like numpy.floor.
_SCALAR_RULES: dict[type[Quantizer], Callable[[float], int]] = {
    UniformQuantizer: round,
    MidriseQuantizer: math.floor,
    FloorQuantizer: math.floor,
}


class NoiseShapingStage:
    """Chain stage: dither, error-feedback noise shaping and quantization in one.

    Replaces the separate dither and quantize stages when shaping is on.

    Parameters
    ----------
    quantizer : Quantizer
        A uniform scheme (one with a ``step``): ``uniform``, ``midrise``,
        ``floor``.
    filter : ShapingFilter
        The feedback taps (`get_filter`); ``NONE`` gives plain dither + quantize.
    dither : {"none", "rpdf", "tpdf"}
        Dither added before the quantizer, sized in its steps (``_dither``).
    seed : int >= 0
        One seed; each channel gets its own generator spawned from it.

    Raises
    ------
    AdcsimError
        A non-uniform quantizer, a bad dither kind or seed; in `start`, a fixed
        filter at another rate than the stream's.

    Attributes
    ----------
    counters : dict
        ``clipped_samples``: quantizer overloads; ``feedback_limited``: fed-back
        errors that had to be limited to ``ERROR_LIMIT_STEPS`` steps.
    dither_active : bool
        False when the source is PCM at most as deep as the quantizer (its
        samples already sit on the grid, as `DitherStage` decides).

    Notes
    -----
    Per channel, with D the step and ``h`` the taps (SoX's ``dither`` effect
    uses the same recursion):

    ``v[n] = x[n] - sum_k h[k] e[n-k]``, ``y[n] = Q(v[n] + d[n])``,
    ``e[n] = y[n] - v[n]``,

    so ``y - x = e - h * e``: the total error ``e`` (requantization plus dither;
    with TPDF white, power D^2/4, independent of the signal) is filtered by the
    noise transfer function ``1 - H(z)``. Its total power is
    ``D^2/4 (1 + sum h_k^2)``. Stability: ``e`` is limited to
    ``+-ERROR_LIMIT_STEPS * D``, which never binds in the granular range; when
    the quantizer clips, the fed-back error stays bounded instead of growing
    without limit, and each limited sample is counted. The error history lives
    on the stage, so any split into blocks gives bit-identical output.

    The recursion is sequential: a plain-Python loop over floats per channel
    (no taps: vectorized). Measured 0.5 M samples/s with 1 tap, 0.35 M/s with
    9 taps and 0.2 M/s with 20 taps (one core, CPython 3.11, 16-bit uniform).

    Examples
    --------
    >>> from adcsim.quantizers._uniform import UniformQuantizer
    >>> stage = NoiseShapingStage(UniformQuantizer(bits=4),
    ...                           filter=get_filter("first-order"),
    ...                           dither="none")
    >>> stage.start(StreamInfo(rate=8000, channels=1)).bits
    4
    >>> stage.process(np.full((6, 1), 0.03)).ravel().tolist()
    [0.0, 0.0, 0.125, 0.0, 0.0, 0.0]
    >>> stage.counters
    {'clipped_samples': 0, 'feedback_limited': 0}
    """

    active = True

    def __init__(
        self,
        quantizer: Quantizer,
        *,
        filter: ShapingFilter,
        dither: str = "tpdf",
        seed: int = 0,
    ) -> None:
        if quantizer.step is None:
            raise AdcsimError(
                f"noise-shaping needs a uniform scheme (uniform, midrise, floor), "
                f"not scheme={quantizer.name!r}"
            )
        self.quantizer = quantizer
        self.filter = filter
        self.dither = check_dither(dither)
        self.seed = check_seed(seed)
        self.step = float(quantizer.step)
        self.dither_active = self.dither != "none"
        self.counters: dict[str, int] = {"clipped_samples": 0, "feedback_limited": 0}
        self._channels = 0
        self._generators: list[np.random.Generator] = []
        self._history: list[deque[float]] = []
        self._rule = _SCALAR_RULES.get(type(quantizer))
        self._offset = float(quantizer.decode(np.array([0]))[0]) / self.step
        self._lowest = int(quantizer.encode([-np.inf])[0])
        self._highest = int(quantizer.encode([np.inf])[0])

    def start(self, info: StreamInfo) -> StreamInfo:
        """Check the rate against the filter's, allocate state; output has N bits."""
        if self.filter.rate is not None and info.rate != self.filter.rate:
            raise AdcsimError(
                f"noise-shaping {self.filter.name!r} is designed for "
                f"{self.filter.rate} Hz, not {info.rate} Hz; use 'weighted' to "
                "design one for this rate"
            )
        source_on_grid = info.bits is not None and info.bits <= self.quantizer.bits
        self.dither_active = self.dither != "none" and not source_on_grid
        self._channels = info.channels
        self.reset()
        return replace(info, bits=self.quantizer.bits)

    def reset(self) -> None:
        """Zero the error histories and counters; restart the dither from the seed."""
        self.counters = {"clipped_samples": 0, "feedback_limited": 0}
        self._generators = channel_generators(self.seed, self._channels)
        order = self.filter.order
        self._history = [
            deque([0.0] * order, maxlen=order) for _ in range(self._channels)
        ]

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block."""
        return np.zeros((0, self._channels))

    def process(self, block: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Requantize one ``(frames, channels)`` block with shaped error."""
        x = np.asarray(block, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise AdcsimError("noise-shaping: the input has NaN or infinite samples")
        frames = x.shape[0]
        out = np.empty((frames, self._channels))
        for channel in range(self._channels):
            kind = self.dither if self.dither_active else "none"
            noise = make_noise(kind, self._generators[channel], frames, self.step)
            if self.filter.order == 0:
                out[:, channel] = self._quantize_flat(x[:, channel], noise)
            elif self._rule is not None:
                out[:, channel] = self._shape_fast(x[:, channel], noise, channel)
            else:
                out[:, channel] = self._shape_generic(x[:, channel], noise, channel)
        return out

    def _quantize_flat(
        self, x: NDArray[np.float64], noise: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        codes, clipped = self.quantizer.encode_counting(x + noise)
        self.counters["clipped_samples"] += clipped
        return self.quantizer.decode(codes)

    def _shape_fast(
        self, x: NDArray[np.float64], noise: NDArray[np.float64], channel: int
    ) -> list[float]:
        rule = self._rule
        assert rule is not None
        taps = self.filter.coefficients
        history = self._history[channel]
        push = history.appendleft
        step, offset = self.step, self._offset
        lowest, highest = self._lowest, self._highest
        limit = ERROR_LIMIT_STEPS * step
        clipped = limited = 0
        out: list[float] = []
        append = out.append
        for xn, dn in zip(x.tolist(), noise.tolist(), strict=True):
            v = xn - sum(map(mul, taps, history))
            code = rule((v + dn) / step)
            if code > highest:
                code = highest
                clipped += 1
            elif code < lowest:
                code = lowest
                clipped += 1
            y = (code + offset) * step
            e = y - v
            if e > limit:
                e = limit
                limited += 1
            elif e < -limit:
                e = -limit
                limited += 1
            push(e)
            append(y)
        self.counters["clipped_samples"] += clipped
        self.counters["feedback_limited"] += limited
        return out

    def _shape_generic(
        self, x: NDArray[np.float64], noise: NDArray[np.float64], channel: int
    ) -> list[float]:
        # Any other uniform scheme: its own encoder, one sample at a time (slow).
        taps = self.filter.coefficients
        history = self._history[channel]
        limit = ERROR_LIMIT_STEPS * self.step
        out: list[float] = []
        for xn, dn in zip(x.tolist(), noise.tolist(), strict=True):
            v = xn - sum(map(mul, taps, history))
            codes, clipped = self.quantizer.encode_counting(np.array([v + dn]))
            self.counters["clipped_samples"] += clipped
            y = float(self.quantizer.decode(codes)[0])
            e = y - v
            if abs(e) > limit:
                e = math.copysign(limit, e)
                self.counters["feedback_limited"] += 1
            history.appendleft(e)
            out.append(y)
        return out


def noise_shape(
    x: ArrayLike,
    *,
    bits: int = 16,
    scheme: str = "uniform",
    filter: ShapingFilter | str,
    rate: int | None = None,
    dither: str = "tpdf",
    seed: int = 0,
) -> NDArray[np.float64]:
    """Requantize ``x`` (frames, or frames x channels) with noise-shaped dither.

    The function form of `NoiseShapingStage`: a fresh stage, one block, flush.

    Parameters
    ----------
    x : array_like
        Samples, full scale [-1, 1).
    bits : int
        Target depth N.
    scheme : str
        A uniform scheme: ``uniform``, ``midrise`` or ``floor``.
    filter : ShapingFilter or str
        A filter, or a name resolved with `get_filter` at ``rate``.
    rate : int or None
        Sample rate, Hz; defaults to the filter's own rate (and is then only
        needed for a name that requires one).
    dither : {"none", "rpdf", "tpdf"}
    seed : int >= 0

    Returns
    -------
    ndarray of float64
        Quantizer levels, same shape as ``x``.

    Raises
    ------
    AdcsimError
        As `get_filter` and `NoiseShapingStage`.

    Examples
    --------
    >>> y = noise_shape(np.full(8, 0.3), bits=3, filter="first-order", seed=1)
    >>> y.shape, bool(np.all(np.isin(y, np.arange(-4, 4) / 4)))
    ((8,), True)
    """
    if isinstance(filter, str):
        filter = get_filter(filter, rate)
    stream_rate = rate if rate is not None else (filter.rate or 48000)
    arr = np.asarray(x, dtype=np.float64)
    block = arr.reshape(arr.shape[0], -1) if arr.ndim else arr.reshape(1, 1)
    stage = NoiseShapingStage(
        make_quantizer(scheme, bits=bits), filter=filter, dither=dither, seed=seed
    )
    stage.start(StreamInfo(rate=stream_rate, channels=block.shape[1]))
    out = np.concatenate([stage.process(block), stage.flush()])
    return out.reshape(arr.shape)
