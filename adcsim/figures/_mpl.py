"""Turn a `adcsim.figures._chart.Chart` into a matplotlib figure (for SVG and PDF).

The same panels, limits, ticks and labels as `adcsim.figures._png` draws,
through matplotlib's vector backends. Builds a ``matplotlib.figure.Figure``,
never pyplot.
"""

from __future__ import annotations

from typing import Any

from adcsim.figures._chart import COLOURS, Chart, Panel


def chart_figure(chart: Chart) -> Any:
    """A matplotlib ``Figure`` showing ``chart``.

    Examples
    --------
    >>> import numpy as np
    >>> from adcsim.figures._chart import Chart, Line, Panel
    >>> x = np.linspace(0.0, 1.0, 5)
    >>> panel = Panel((0.1, 0.1, 0.8, 0.8), lines=[Line(x, x)])
    >>> fig = chart_figure(Chart(4.0, 3.0, "t", [panel]))
    >>> len(fig.axes)
    1
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(chart.width_in, chart.height_in), dpi=chart.dpi)
    fig.suptitle(chart.title, fontsize=chart.title_size)
    for panel in chart.panels:
        _draw_panel(fig.add_axes(panel.box), panel)
    return fig


def _draw_panel(ax: Any, panel: Panel) -> None:
    assert panel.x is not None and panel.y is not None
    for fill in panel.fills:
        ax.stairs(fill.counts, fill.edges, fill=True, color=COLOURS[fill.colour])
    for line in panel.lines:
        ax.plot(
            line.x,
            line.y,
            color=COLOURS[line.colour],
            lw=line.width,
            label=line.label,
            ls=line.style,
            drawstyle=f"steps-{line.steps}" if line.steps else "default",
        )
    for vline in panel.vlines:
        ax.axvline(
            vline.x[0], color=COLOURS[vline.colour], ls=vline.style, lw=vline.width
        )
    if panel.xlog:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xlim(panel.x.low, panel.x.high)
    ax.set_ylim(panel.y.low, panel.y.high)
    ax.set_xticks(panel.x.ticks, panel.x.labels)
    ax.set_yticks(panel.y.ticks, panel.y.labels)
    ax.tick_params(labelsize=panel.tick_size)
    if panel.x.exponent:
        ax.annotate(
            f"1e{panel.x.exponent}",
            (1, 0),
            xycoords="axes fraction",
            xytext=(0, -20),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=panel.tick_size,
        )
    if panel.y.exponent:
        ax.annotate(
            f"1e{panel.y.exponent}",
            (0, 1),
            xycoords="axes fraction",
            xytext=(0, 3),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=panel.tick_size,
        )
    ax.set_title(panel.title, fontsize=panel.title_size)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    # A legend of a panel without labelled lines (an empty window) is not
    # drawn: matplotlib would warn that it has nothing to show.
    if panel.legend and any(line.label for line in panel.lines):
        ax.legend(loc=panel.legend, fontsize=8)
