"""Tensor quantization schemes: the reference `quantize` and `fake_quantize`.

A `TensorScheme` names what is done to a weight tensor: ``int{N}`` symmetric
or ``uint{N}`` affine (N = 2..16), one scale per tensor, per channel (along
``axis``) or per group of ``group_size`` consecutive elements of the last
axis, with the clipping range from ``minmax``, ``percentile`` or ``mse``
calibration. `quantize` returns the integer codes with their scales and zero
points; `fake_quantize` their dequantized values. Not responsible for reading
checkpoints (`adcsim.tensors._readers`) or for metrics
(`adcsim.tensors._metrics`).

Conventions (the reference a quantization-aware training implementation is
checked against):

* rounding: round half to even (``numpy.rint``), as the audio quantizers and
  ONNX Runtime's ``QuantizeLinear``;
* ``int{N}``: ``q = clip(rint(x / s), -(2**(N-1) - 1), 2**(N-1) - 1)`` with
  ``s = c / (2**(N-1) - 1)`` for the clipping level ``c``: the restricted,
  symmetric range, so that ``-c`` and ``c`` are both levels (ONNX Runtime's
  symmetric int8 range [-127, 127]);
* ``uint{N}``: ``q = clip(rint(x / s) + z, 0, 2**N - 1)`` with ``s = (b - a) /
  (2**N - 1)`` over the range ``[a, b]`` widened to hold 0 and ``z =
  rint(-a / s)``, so that 0 is exact (padding, ReLU zeros);
* ``x_hat = s * (q - z)``; a range of width 0 (an all-zero group) takes
  ``s = 1``, so every code and value is exact;
* gradient: straight-through, ``d x_hat / d x = 1`` inside the clipping range
  and 0 outside it (`QuantizedTensor.inside`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

Granularity = Literal["tensor", "channel", "group"]
Calibration = Literal["minmax", "percentile", "mse"]
GRANULARITIES: tuple[str, ...] = ("tensor", "channel", "group")
CALIBRATIONS: tuple[str, ...] = ("minmax", "percentile", "mse")
#: Default group size of the ``group`` granularity (GPTQ/AWQ's 128).
DEFAULT_GROUP_SIZE = 128
#: ONNX Runtime's default percentile (calibrate.py, ``HistogramCalibrater``).
DEFAULT_PERCENTILE = 99.999
#: Bins of the percentile histogram (ONNX Runtime's default ``num_bins``).
PERCENTILE_BINS = 2048
# The MSE search (GPTQ's ``Quantizer.find_params`` with mse=True, IST-DASLab/
# gptq quant.py, and llm-compressor's MSE observer): clipping ratios
# 1 - k / grid for k = 0 .. maxshrink * grid - 1, the one of least error wins.
_MSE_GRID = 100
_MSE_MAXSHRINK = 0.8
#: Bits of each stored scale (float32), counted in bits_per_weight.
SCALE_BITS = 32

_NAME = re.compile(r"(u?int)(\d+)\Z")


@dataclass(frozen=True)
class TensorScheme:
    """What `quantize` does to one tensor.

    Parameters
    ----------
    kind : {"int", "uint"}
        Symmetric signed or affine unsigned.
    bits : int in [2, 16]
    granularity : {"tensor", "channel", "group"}
        One scale per tensor, per slice along ``axis``, or per group of
        ``group_size`` consecutive elements of the last axis.
    axis : int
        The channel axis (``channel`` only; default 0, the output channel of
        a ``(out, in)`` weight).
    group_size : int >= 1, default 128
    calibration : {"minmax", "percentile", "mse"}
    percentile : float in (0, 100], default 99.999
    """

    kind: Literal["int", "uint"] = "int"
    bits: int = 8
    granularity: Granularity = "tensor"
    axis: int = 0
    group_size: int = DEFAULT_GROUP_SIZE
    calibration: Calibration = "minmax"
    percentile: float = DEFAULT_PERCENTILE
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("int", "uint"):
            raise AdcsimError(f"scheme kind={self.kind!r} must be int or uint")
        bits = self.bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
            raise AdcsimError(
                f"{self.kind}: bits={bits!r} must be an integer in [2, 16]"
            )
        if self.granularity not in GRANULARITIES:
            raise AdcsimError(
                f"granularity={self.granularity!r} must be one of "
                f"{', '.join(GRANULARITIES)}"
            )
        if self.calibration not in CALIBRATIONS:
            raise AdcsimError(
                f"calibration={self.calibration!r} must be one of "
                f"{', '.join(CALIBRATIONS)}"
            )
        size = self.group_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise AdcsimError(f"group_size={size!r} must be an integer >= 1")
        if not (isinstance(self.axis, int) and not isinstance(self.axis, bool)):
            raise AdcsimError(f"axis={self.axis!r} must be an integer")
        p = self.percentile
        if not (isinstance(p, (int, float)) and 0 < p <= 100):
            raise AdcsimError(f"percentile={p!r} must be a number in (0, 100]")
        if not self.name:
            object.__setattr__(self, "name", f"{self.kind}{self.bits}")

    @property
    def levels(self) -> int:
        """The number of output levels: ``2**N - 1`` (int) or ``2**N`` (uint)."""
        return (1 << self.bits) - 1 if self.kind == "int" else 1 << self.bits

    @property
    def label(self) -> str:
        """The scheme with its granularity, as the table and report name it.

        Examples
        --------
        >>> TensorScheme(bits=4, granularity="group").label
        'int4-g128'
        >>> TensorScheme(kind="uint", granularity="channel").label
        'uint8-channel'
        """
        suffix = {"tensor": "", "channel": "-channel"}.get(
            self.granularity, f"-g{self.group_size}"
        )
        cal = "" if self.calibration == "minmax" else f"-{self.calibration}"
        return f"{self.name}{suffix}{cal}"


def parse_scheme(name: str, **options: Any) -> TensorScheme:
    """The `TensorScheme` called ``name`` (``int8``, ``uint4``...) with ``options``.

    Raises
    ------
    AdcsimError
        An unknown name or a bad option.

    Examples
    --------
    >>> parse_scheme("uint4", granularity="group", group_size=32).label
    'uint4-g32'
    >>> parse_scheme("int1")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: int: bits=1 must be an integer in [2, 16]
    """
    match = _NAME.match(name)
    if match is None:
        raise AdcsimError(
            f"scheme={name!r} is not known (allowed: int2..int16, uint2..uint16)"
        )
    kind: Literal["int", "uint"] = "int" if match.group(1) == "int" else "uint"
    return TensorScheme(kind=kind, bits=int(match.group(2)), **options)


@dataclass(frozen=True)
class QuantizedTensor:
    """A tensor's codes, scales and zero points under a `TensorScheme`.

    Attributes
    ----------
    codes : ndarray of int32
        Same shape as the input.
    scales : ndarray of float64
        One per group: shape ``()`` (tensor), ``(channels,)`` (channel) or
        ``(rows, groups)`` (group, rows of the last axis).
    zero_points : ndarray of int32 or None
        Same shape as ``scales`` (uint schemes), None for symmetric ones.
    clip_low, clip_high : ndarray of float64
        The clipping range of each group (same shape as ``scales``).
    clipped : int
        Elements outside their clipping range (outliers clipped).
    scheme : TensorScheme
    """

    codes: NDArray[np.int32]
    scales: NDArray[np.float64]
    zero_points: NDArray[np.int32] | None
    clip_low: NDArray[np.float64]
    clip_high: NDArray[np.float64]
    clipped: int
    scheme: TensorScheme

    @property
    def groups(self) -> int:
        """Number of scales."""
        return int(self.scales.size)

    def dequantize(self) -> NDArray[np.float64]:
        """``s * (q - z)`` in the input's shape."""
        layout = _Layout(self.codes.shape, self.scheme)
        q = layout.to_groups(self.codes.astype(np.float64))
        s = self.scales.reshape(-1, 1)
        if self.zero_points is not None:
            q = q - self.zero_points.reshape(-1, 1)
        return layout.from_groups(q * s)

    def inside(self, x: ArrayLike) -> NDArray[np.bool_]:
        """Where the straight-through gradient passes: ``x`` in its clipping range."""
        layout = _Layout(self.codes.shape, self.scheme)
        g = layout.to_groups(np.asarray(x, dtype=np.float64))
        lo = self.clip_low.reshape(-1, 1)
        hi = self.clip_high.reshape(-1, 1)
        return layout.from_groups((g >= lo) & (g <= hi)).astype(bool)

    def bits_per_weight(self) -> float:
        """Stored bits per element: the codes, the scales and the zero points."""
        n = self.codes.size
        extra = self.groups * (
            SCALE_BITS + (self.scheme.bits if self.zero_points is not None else 0)
        )
        return self.scheme.bits + extra / n if n else float(self.scheme.bits)


class _Layout:
    """Maps a tensor to a ``(groups, elements)`` matrix and back.

    ``group`` pads the last axis with zeros to a multiple of the group size;
    zeros never move a range that already holds 0 and are exact in every
    scheme, and they are dropped again by `from_groups`. Percentile
    calibration ignores them (it counts only real elements).
    """

    def __init__(self, shape: tuple[int, ...], scheme: TensorScheme) -> None:
        self.shape = shape
        self.granularity = scheme.granularity if len(shape) >= 1 else "tensor"
        if self.granularity == "channel" and len(shape) < 2:
            self.granularity = "tensor"  # a vector's channels would be its elements
        self.axis = 0
        if self.granularity == "channel":
            if not -len(shape) <= scheme.axis < len(shape):
                raise AdcsimError(
                    f"axis={scheme.axis} is out of range for a tensor of shape {shape}"
                )
            self.axis = scheme.axis % len(shape)
        self.size = scheme.group_size
        last = shape[-1] if shape else 1
        self.padded = (
            -(-last // self.size) * self.size if self.granularity == "group" else last
        )

    @property
    def scale_shape(self) -> tuple[int, ...]:
        if self.granularity == "tensor":
            return ()
        if self.granularity == "channel":
            return (self.shape[self.axis],)
        rows = math.prod(self.shape[:-1])
        return (rows, self.padded // self.size)

    def valid(self) -> NDArray[np.bool_] | None:
        """Which group elements are real (None when none is padding)."""
        if self.granularity != "group" or self.padded == self.shape[-1]:
            return None
        mask = np.zeros(self.padded, dtype=bool)
        mask[: self.shape[-1]] = True
        rows = math.prod(self.shape[:-1])
        return np.broadcast_to(mask, (rows, self.padded)).reshape(-1, self.size)

    def to_groups(self, x: NDArray[Any]) -> NDArray[Any]:
        if self.granularity == "tensor":
            return x.reshape(1, -1)
        if self.granularity == "channel":
            return np.moveaxis(x, self.axis, 0).reshape(self.shape[self.axis], -1)
        rows = x.reshape(-1, self.shape[-1])
        if self.padded != self.shape[-1]:
            rows = np.pad(rows, ((0, 0), (0, self.padded - self.shape[-1])))
        return rows.reshape(-1, self.size)

    def from_groups(self, g: NDArray[Any]) -> NDArray[Any]:
        if self.granularity == "tensor":
            return g.reshape(self.shape)
        if self.granularity == "channel":
            moved = (
                self.shape[self.axis],
                *self.shape[: self.axis],
                *self.shape[self.axis + 1 :],
            )
            return np.moveaxis(g.reshape(moved), 0, self.axis)
        rows = g.reshape(-1, self.padded)[:, : self.shape[-1]]
        return rows.reshape(self.shape)


def _percentile_level(
    a: NDArray[np.float64],
    amax: NDArray[np.float64],
    p: float,
    valid: NDArray[np.bool_] | None,
) -> NDArray[np.float64]:
    """ONNX Runtime's percentile threshold of ``|x|``, per group (row of ``a``).

    ONNX Runtime (onnxruntime/python/tools/quantization/calibrate.py,
    ``HistogramCollector.compute_percentile``, symmetric case) histograms
    ``|x|`` into 2048 bins over ``[0, max|x|]``, takes ``idx =
    searchsorted(cumsum(hist) / n, p / 100)`` and returns the bin edge
    ``edges[idx]``. The same here per group: the first bin whose cumulative
    count reaches ``p / 100 * n`` is the ``ceil(p / 100 * n)``-th smallest bin
    index of the elements.
    """
    width = np.where(amax > 0, amax, 1.0) / PERCENTILE_BINS
    bins = np.minimum(np.floor(a / width[:, None]), PERCENTILE_BINS - 1)
    if valid is not None:
        bins = np.where(valid, bins, np.inf)
        n = valid.sum(axis=1)
    else:
        n = np.full(a.shape[0], a.shape[1])
    rank = np.maximum(np.ceil(p / 100.0 * n - 1e-9).astype(np.int64), 1) - 1
    ordered = np.sort(bins, axis=1)
    idx = ordered[np.arange(a.shape[0]), np.minimum(rank, a.shape[1] - 1)]
    level = idx * width
    # A threshold of 0 (most of a group is zero) keeps the full range.
    return np.where(level > 0, level, amax)


def _grid(
    g: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    scheme: TensorScheme,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Codes, scales and zero points of groups ``g`` clipped to ``[lo, hi]``."""
    if scheme.kind == "int":
        qmax = (1 << (scheme.bits - 1)) - 1
        scale = np.where(hi > 0, hi / qmax, 1.0)
        q = np.clip(np.rint(g / scale[:, None]), -qmax, qmax)
        return q, scale, np.zeros_like(scale)
    qmax = (1 << scheme.bits) - 1
    width = hi - lo
    scale = np.where(width > 0, width / qmax, 1.0)
    zero = np.clip(np.rint(-lo / scale), 0, qmax)
    q = np.clip(np.rint(g / scale[:, None]) + zero[:, None], 0, qmax)
    return q, scale, zero


def _range(
    g: NDArray[np.float64], scheme: TensorScheme, valid: NDArray[np.bool_] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The clipping range ``[lo, hi]`` of each group under the calibration."""
    if scheme.kind == "int":
        a = np.abs(g)
        amax = a.max(axis=1)
        lo_full, hi_full = -amax, amax
    else:
        lo_full = np.minimum(g.min(axis=1), 0.0)
        hi_full = np.maximum(g.max(axis=1), 0.0)
    if scheme.calibration == "minmax":
        return lo_full, hi_full
    if scheme.calibration == "percentile":
        if scheme.kind == "int":
            level = _percentile_level(a, amax, scheme.percentile, valid)
            return -level, level
        # Affine: each side's own threshold (ONNX Runtime's asymmetric case
        # takes a two-sided percentile; here each tail gets (100 - p) / 2).
        tail = 100.0 - (100.0 - scheme.percentile) / 2
        hi = _percentile_level(np.maximum(g, 0.0), hi_full, tail, valid)
        lo = -_percentile_level(np.maximum(-g, 0.0), -lo_full, tail, valid)
        return np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    best_err = np.full(g.shape[0], np.inf)
    best_lo, best_hi = lo_full.copy(), hi_full.copy()
    for k in range(int(_MSE_MAXSHRINK * _MSE_GRID)):
        ratio = 1.0 - k / _MSE_GRID
        lo, hi = lo_full * ratio, hi_full * ratio
        q, scale, zero = _grid(g, lo, hi, scheme)
        err = ((q - zero[:, None]) * scale[:, None] - g) ** 2
        total = err.sum(axis=1)
        better = total < best_err
        best_err = np.where(better, total, best_err)
        best_lo = np.where(better, lo, best_lo)
        best_hi = np.where(better, hi, best_hi)
    return best_lo, best_hi


def quantize(
    array: ArrayLike, scheme: TensorScheme | str = "int8", **options: Any
) -> QuantizedTensor:
    """Quantize ``array`` under ``scheme``: codes, scales and zero points.

    Parameters
    ----------
    array : array_like of float
        Any shape (a scalar is a tensor of one element); NaN or inf is refused.
    scheme : TensorScheme or str, default "int8"
        A scheme or its name (``int4``, ``uint8``...).
    **options
        `TensorScheme` fields (``granularity``, ``axis``, ``group_size``,
        ``calibration``, ``percentile``), applied to the scheme.

    Returns
    -------
    QuantizedTensor

    Raises
    ------
    AdcsimError
        A bad scheme or option, or a non-finite value.

    See Also
    --------
    fake_quantize : the dequantized values.

    Examples
    --------
    >>> w = np.array([[-1.0, -0.5, 0.25, 0.5], [0.1, 0.2, 0.3, 0.4]])
    >>> q = quantize(w, "int4", granularity="channel")
    >>> q.codes
    array([[-7, -4,  2,  4],
           [ 2,  4,  5,  7]], dtype=int32)
    >>> q.scales * 7
    array([1. , 0.4])
    >>> quantize(w, "uint2").zero_points
    array(2, dtype=int32)
    """
    if isinstance(scheme, str):
        scheme = parse_scheme(scheme, **options)
    elif options:
        scheme = replace(scheme, **options)
    x = np.asarray(array, dtype=np.float64)
    if x.size and not np.isfinite(x).all():
        raise AdcsimError("quantize: the tensor holds NaN or inf values")
    layout = _Layout(x.shape, scheme)
    g = layout.to_groups(x)
    shape = layout.scale_shape
    if g.size == 0:
        empty = np.zeros(shape)
        return QuantizedTensor(
            np.zeros(x.shape, dtype=np.int32),
            empty + 1.0,
            None if scheme.kind == "int" else np.zeros(shape, dtype=np.int32),
            empty,
            empty,
            0,
            scheme,
        )
    valid = layout.valid()
    lo, hi = _range(g, scheme, valid)
    q, scale, zero = _grid(g, lo, hi, scheme)
    outside = (g < lo[:, None]) | (g > hi[:, None])
    if valid is not None:
        outside &= valid
    codes = layout.from_groups(q).astype(np.int32)
    zero_points = None if scheme.kind == "int" else zero.reshape(shape).astype(np.int32)
    return QuantizedTensor(
        codes,
        scale.reshape(shape),
        zero_points,
        lo.reshape(shape),
        hi.reshape(shape),
        int(np.count_nonzero(outside)),
        scheme,
    )


def fake_quantize(
    array: ArrayLike, scheme: TensorScheme | str = "int8", **options: Any
) -> NDArray[np.float64]:
    """``quantize(array, scheme, ...).dequantize()``: the values a model sees.

    The forward pass of quantization-aware training; its gradient is
    straight-through (`QuantizedTensor.inside`), see the module docstring.

    Examples
    --------
    >>> fake_quantize([0.0, 0.3, 1.0, -0.6], "int2")
    array([ 0.,  0.,  1., -1.])
    """
    return quantize(array, scheme, **options).dequantize()
