"""The figure of ``adcsim analyze --histogram``: DNL and INL against code.

Builds a `adcsim.figures._chart.Chart` (drawn by Pillow for PNG, matplotlib for
SVG and PDF, through `adcsim.figures._quantize.save_chart`). Computes nothing:
the figures come from `adcsim.analysis._histogram.histogram_test`.
"""

from __future__ import annotations

import numpy as np

from adcsim.figures._chart import Chart, Line, Panel
from adcsim.quantizers._transfer import Linearity

_LEFT, _WIDTH, _HEIGHT = 0.11, 0.86, 0.34


Box = tuple[float, float, float, float]


def histogram_chart(lin: Linearity, *, title: str) -> Chart:
    """Two panels: DNL per inner code, INL (endpoint and best fit) per code.

    Missing codes are the DNL points at exactly -1; the panel's title counts
    them.

    Examples
    --------
    >>> from adcsim.quantizers._transfer import linearity
    >>> lin = linearity([-0.75, -0.25, -0.25, 0.25, 0.5, 0.5, 0.75])
    >>> [p.title for p in histogram_chart(lin, title="t").panels][0]
    'DNL per code (2 missing codes)'
    """
    panels = linearity_panels(
        lin,
        (_LEFT, 0.55, _WIDTH, _HEIGHT),
        (_LEFT, 0.08, _WIDTH, _HEIGHT),
        best_fit=True,
    )
    return Chart(9.0, 6.5, title, panels)


def linearity_panels(
    lin: Linearity,
    dnl_box: Box,
    inl_box: Box,
    *,
    prefix: str = "",
    best_fit: bool = False,
) -> list[Panel]:
    """The DNL panel (inner codes) and the INL panel (endpoint, best fit too).

    Shared by the histogram test's figure and the quantize figure's row for a
    static transfer curve (``prefix="static "``).

    Examples
    --------
    >>> from adcsim.quantizers._transfer import linearity
    >>> lin = linearity([-0.75, -0.25, 0.25])
    >>> box = (0.1, 0.1, 0.8, 0.3)
    >>> dnl, inl = linearity_panels(lin, box, box, prefix="static ")
    >>> dnl.title, len(inl.lines)
    ('static DNL per code (0 missing codes)', 1)
    """
    levels = 1 << lin.bits
    inner = np.arange(1, levels - 1, dtype=np.float64)
    upper = np.arange(1, levels, dtype=np.float64)
    missing = len(lin.missing_codes)
    noun = "code" if missing == 1 else "codes"
    dnl = Panel(
        dnl_box,
        title=f"{prefix}DNL per code ({missing} missing {noun})",
        xlabel="code index",
        ylabel="DNL (LSB)",
        lines=[Line(inner, lin.dnl_lsb[1:-1], "C0", 0.8, steps="mid")],
    )
    lines = [Line(upper, lin.inl_lsb[1:], "C0", 0.8, "endpoint")]
    if best_fit:
        lines.append(Line(upper, lin.inl_best_fit_lsb[1:], "C1", 0.8, "best fit"))
    inl = Panel(
        inl_box,
        title=f"{prefix}INL at each code's lower transition",
        xlabel="code index",
        ylabel="INL (LSB)",
        legend="best" if best_fit else None,
        lines=lines,
    )
    return [dnl, inl]


__all__ = ["histogram_chart", "linearity_panels"]
