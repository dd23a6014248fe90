"""A figure as plain data: panels of lines, steps and fills, and their ticks.

A `Chart` says what to draw and where, in figure fractions, points and data
units; it holds no drawing code and imports no plotting library, so it is
cheap to build and to test without a renderer. Two
renderers draw it: `adcsim.figures._png` (Pillow, the fast PNG path) and
`adcsim.figures._mpl` (matplotlib, for SVG and PDF). The axis limits and ticks
are decided here, once, so both renderers show the same axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: matplotlib's default colour cycle (tab10), by the names C0, C1, ...
COLOURS = {
    "C0": "#1f77b4",
    "C1": "#ff7f0e",
    "C2": "#2ca02c",
    "C3": "#d62728",
    "k": "#000000",
    "grey": "#999999",
}


@dataclass
class Line:
    """A polyline; ``steps`` draws it as a staircase ("mid" or "post").

    ``style`` is matplotlib's: "-" solid, "--" dashed, ":" dotted.
    """

    x: NDArray[Any]
    y: NDArray[Any]
    colour: str = "C0"
    width: float = 1.0  # points
    label: str | None = None
    style: str = "-"
    steps: str | None = None


@dataclass
class Fill:
    """A filled histogram: ``counts[i]`` over ``edges[i]:edges[i + 1]``, from 0."""

    edges: NDArray[Any]
    counts: NDArray[Any]
    colour: str = "C2"


@dataclass
class Axis:
    """One axis of a panel: its range, ticks and tick labels."""

    low: float
    high: float
    ticks: list[float]
    labels: list[str]
    log: bool = False
    exponent: int = 0  # labels count in 10**exponent (shown at the axis end)


@dataclass
class Panel:
    """One set of axes. ``box`` is (left, bottom, width, height), figure fractions."""

    box: tuple[float, float, float, float]
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    xlog: bool = False
    lines: list[Line] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    vlines: list[Line] = field(default_factory=list)  # x[0] only, full height
    #: "upper right", "upper left", "lower left", "lower right", or "best":
    #: the corner with the fewest line points (resolved by `finish`).
    legend: str | None = None
    title_size: float = 12.0  # points
    tick_size: float = 10.0
    max_ticks: int = 9
    x: Axis | None = None  # set by `finish`
    y: Axis | None = None

    def finish(self, width_pt: float, height_pt: float) -> None:
        """Choose the limits (data range plus 5%, as matplotlib) and ticks.

        ``width_pt`` and ``height_pt`` are the axes' size: no more ticks than
        their labels have room for.
        """
        xs = [v for line in self.lines for v in (line.x.min(), line.x.max())]
        ys = [v for line in self.lines for v in (line.y.min(), line.y.max())]
        x_sticky: list[float] = []
        y_sticky: list[float] = []
        for fill in self.fills:
            xs += [float(fill.edges[0]), float(fill.edges[-1])]
            ys += [0.0, float(fill.counts.max(initial=0.0))]
            x_sticky += [float(fill.edges[0]), float(fill.edges[-1])]
            y_sticky.append(0.0)
        size = self.tick_size
        for count in range(self.max_ticks, 1, -1):
            self.x = _axis(xs, self.xlog, count, x_sticky)
            # a label is about 0.6 em a character, and wants 1.5 em around it
            chars = max(len(label) for label in self.x.labels or [""])
            if len(self.x.labels) * (0.6 * chars + 1.5) * size <= width_pt:
                break
        for count in range(self.max_ticks, 1, -1):
            self.y = _axis(ys, False, count, y_sticky)
            if len(self.y.labels) * 2.0 * size <= height_pt:
                break
        if self.legend == "best":
            self.legend = self._emptiest_corner()

    def _emptiest_corner(self) -> str:
        """The legend corner over the fewest line points (ties: in CORNERS order).

        A corner is the legend's likely size, `LEGEND_SHARE` of the axes.
        """
        assert self.x is not None and self.y is not None
        crowding = dict.fromkeys(CORNERS, 0)
        for line in self.lines:
            u = _share(line.x, self.x)
            v = _share(line.y, self.y)
            right, top = u > 1 - LEGEND_SHARE[0], v > 1 - LEGEND_SHARE[1]
            left, bottom = u < LEGEND_SHARE[0], v < LEGEND_SHARE[1]
            crowding["upper right"] += int(np.count_nonzero(top & right))
            crowding["upper left"] += int(np.count_nonzero(top & left))
            crowding["lower left"] += int(np.count_nonzero(bottom & left))
            crowding["lower right"] += int(np.count_nonzero(bottom & right))
        return min(CORNERS, key=crowding.__getitem__)


#: Where a legend may go, in the order preferred on a tie (matplotlib's).
CORNERS = ("upper right", "upper left", "lower left", "lower right")
#: The share of the axes' width and height a "best" legend is kept clear of:
#: about a legend of two or three entries on the run figure's wide panels.
LEGEND_SHARE = (0.2, 0.3)


def _share(values: NDArray[Any], axis: Axis) -> NDArray[np.float64]:
    """Positions of ``values`` along ``axis``, 0 at ``low`` and 1 at ``high``."""
    low, high, v = axis.low, axis.high, np.asarray(values, dtype=np.float64)
    if axis.log:
        low, high = math.log10(low), math.log10(high)
        v = np.log10(np.maximum(v, 1e-300))
    return (v - low) / ((high - low) or 1.0)


@dataclass
class Chart:
    """A figure: size, title and panels (finished: limits and ticks set)."""

    width_in: float
    height_in: float
    title: str
    panels: list[Panel]
    title_size: float = 10.0
    dpi: int = 100

    def __post_init__(self) -> None:
        for panel in self.panels:
            _, _, width, height = panel.box
            panel.finish(width * self.width_in * 72, height * self.height_in * 72)


def _axis(values: list[float], log: bool, max_ticks: int, sticky: list[float]) -> Axis:
    """An axis over ``values``, padded by 5% of their span, and its ticks.

    The padding is in log space for a log axis; a limit at a sticky value (a
    histogram's ends, its zero) is not padded.
    """
    finite = [v for v in values if math.isfinite(v) and (v > 0 or not log)]
    if not finite:
        finite = [1.0, 10.0] if log else [0.0, 1.0]
    low, high = min(finite), max(finite)
    if log:
        low, high = math.log10(low), math.log10(high)
    if high == low:
        low, high = low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    low_end, high_end = low - pad, high + pad
    if not log:
        if any(s == low for s in sticky):
            low_end = low
        if any(s == high for s in sticky):
            high_end = high
    if log:
        low_end, high_end = 10.0**low_end, 10.0**high_end
        ticks = decade_ticks(low_end, high_end)
        return Axis(low_end, high_end, ticks, [f"{t:g}" for t in ticks], log=True)
    ticks = nice_ticks(low_end, high_end, max_ticks)
    labels, exponent = tick_labels(ticks)
    return Axis(low_end, high_end, ticks, labels, exponent=exponent)


def nice_ticks(low: float, high: float, max_ticks: int = 9) -> list[float]:
    """At most ``max_ticks`` round values in [low, high], 1, 2, 2.5 or 5 x 10^k apart.

    Examples
    --------
    >>> nice_ticks(-0.013, 0.013)
    [-0.01, -0.005, 0.0, 0.005, 0.01]
    >>> nice_ticks(0, 1.7e6, 5)
    [0.0, 500000.0, 1000000.0, 1500000.0]
    """
    span = high - low
    if not (span > 0 and math.isfinite(span)):
        return [low]
    raw = span / max(1, max_ticks - 1)
    scale = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = factor * scale
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first + 1 <= max_ticks:
            break
    # round to the step's decimals so that 0.1 * 3 prints as 0.3
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return [round(i * step, decimals) + 0.0 for i in range(first, last + 1)]


def decade_ticks(low: float, high: float) -> list[float]:
    """The powers of ten in [low, high] (a log axis's major ticks).

    Examples
    --------
    >>> decade_ticks(5.0, 22050.0)
    [10.0, 100.0, 1000.0, 10000.0]
    """
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    return [10.0**k for k in range(first, last + 1)]


def tick_labels(ticks: list[float]) -> tuple[list[str], int]:
    """Labels of linear ticks, and the power of ten they count in (0: none).

    Every label gets the decimals the finest tick needs, as matplotlib's
    ScalarFormatter does; values past 1e5 or under 1e-3 are written in units
    of a power of ten, which the renderers show at the end of the axis.

    Examples
    --------
    >>> tick_labels([-0.5, 0.0, 0.5, 1.0])
    (['\u22120.5', '0.0', '0.5', '1.0'], 0)
    >>> tick_labels([0.0, 500000.0, 1000000.0, 1500000.0])
    (['0.0', '0.5', '1.0', '1.5'], 6)
    """
    biggest = max((abs(t) for t in ticks), default=0.0)
    exponent = 0
    if biggest >= 1e5 or 0 < biggest < 1e-3:
        exponent = math.floor(math.log10(biggest))
    values = [t / 10.0**exponent for t in ticks]
    decimals = next(
        d
        for d in range(13)
        if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in values)
    )
    labels = [f"{v:.{decimals}f}".replace("-", "\u2212") for v in values]
    return labels, exponent
