"""PNG output: a smoke test of the files Pillow encodes for the figures."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from adcsim.figures._chart import Chart, Line, Panel
from adcsim.figures._png import render_png


def test_a_chart_renders_to_a_png_pillow_reads_back():
    x = np.linspace(0.0, 1.0, 50)
    panel = Panel((0.15, 0.15, 0.8, 0.7), title="t", lines=[Line(x, x**2)])
    data = render_png(Chart(4.0, 3.0, "a chart", [panel], dpi=100))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.size == (400, 300)
    assert round(image.info["dpi"][0]) == 100
    # Not blank: the curve and the frame are drawn in more than one colour.
    assert len(image.getcolors(1 << 16) or []) > 2
