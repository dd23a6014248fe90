"""Chart axes (limits, ticks, labels) and the two renderers that draw them."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from adcsim.figures._chart import Chart, Fill, Line, Panel, nice_ticks, tick_labels
from adcsim.figures._png import render_png

Image = pytest.importorskip("PIL.Image")


@pytest.mark.parametrize(
    ("low", "high", "most"),
    [
        (-0.013, 0.013, 9),
        (0.0, 1.7e6, 5),
        (136.0071, 136.0169, 9),
        (-1.05, 1.05, 9),
        (-152.3, -37.8, 7),
        (3e-7, 9e-6, 4),
        (-1.5e-5, 1.5e-5, 3),
    ],
)
def test_ticks_are_round_evenly_spaced_and_inside_the_range(
    low: float, high: float, most: int
) -> None:
    ticks = nice_ticks(low, high, most)
    assert 2 <= len(ticks) <= most
    assert low <= ticks[0] and ticks[-1] <= high
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0], rtol=1e-9)
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < 1e-9


def test_labels_share_their_decimals_and_count_in_a_power_of_ten_past_1e5() -> None:
    assert tick_labels([0.0, 0.25, 0.5]) == (["0.00", "0.25", "0.50"], 0)
    assert tick_labels([-2.0, 0.0, 2.0]) == (["\u22122", "0", "2"], 0)
    assert tick_labels([0.0, 2e-5, 4e-5]) == (["0", "2", "4"], -5)
    assert tick_labels([0.0, 1e6, 2e6]) == (["0", "1", "2"], 6)


def test_a_histogram_sits_on_zero_and_spans_its_edges_lines_get_5_percent() -> None:
    edges = np.linspace(-1.0, 1.0, 11)
    histogram = Panel((0, 0, 1, 1), fills=[Fill(edges, np.arange(10.0))])
    line = Panel(
        (0, 0, 1, 1), lines=[Line(np.array([0.0, 10.0]), np.array([1.0, 3.0]))]
    )
    Chart(6.0, 4.0, "", [histogram, line])
    assert histogram.x is not None and histogram.y is not None
    assert (histogram.x.low, histogram.x.high, histogram.y.low) == (-1.0, 1.0, 0.0)
    assert line.x is not None and line.y is not None
    assert (line.x.low, line.x.high) == pytest.approx((-0.5, 10.5))
    assert (line.y.low, line.y.high) == pytest.approx((0.9, 3.1))


def test_a_log_axis_has_decade_ticks() -> None:
    f = np.geomspace(10.77, 22050.0, 100)
    panel = Panel((0, 0, 1, 1), xlog=True, lines=[Line(f, np.zeros_like(f))])
    Chart(6.0, 4.0, "", [panel])
    assert panel.x is not None
    assert panel.x.ticks == [10.0, 100.0, 1000.0, 10000.0]
    assert panel.x.labels == ["10", "100", "1000", "10000"]


def test_a_narrow_axis_gets_fewer_ticks_than_a_wide_one() -> None:
    x = np.array([-0.0117, 0.0117])

    def ticks(width_in: float) -> int:
        panel = Panel((0.1, 0.1, 0.8, 0.8), lines=[Line(x, x)])
        Chart(width_in, 4.0, "", [panel])
        assert panel.x is not None
        return len(panel.x.ticks)

    assert ticks(2.0) < ticks(10.0)


def _decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def test_the_png_shows_the_lines_where_the_axes_put_them() -> None:
    # A red horizontal line at y = 1 over y in [0, 2]: the middle row of the
    # axes, which span 10% to 90% of a 400 x 300 image.
    x = np.array([0.0, 1.0])
    panel = Panel(
        (0.1, 0.1, 0.8, 0.8),
        lines=[
            Line(x, np.array([1.0, 1.0]), "C3", width=2.0),
            Line(x, np.array([0.0, 2.0]), "C0", width=0.1),  # sets y to [0, 2]
        ],
    )
    pixels = _decode(render_png(Chart(4.0, 3.0, "", [panel])))
    assert pixels.shape == (300, 400, 3)
    row = round(300 - (0.1 + 0.8 * (1.0 - (-0.1)) / 2.2) * 300)
    red = np.array([0xD6, 0x27, 0x28])
    middle = pixels[row - 1 : row + 2, 100:300].astype(int)
    assert (np.abs(middle - red).sum(axis=2) < 60).any(axis=0).all()
    # the frame: black at the axes' left edge, white outside it
    assert pixels[150, 40].tolist() == [0, 0, 0]
    assert pixels[20, 200].tolist() == [255, 255, 255]


def test_matplotlib_draws_the_same_chart_as_svg(tmp_path) -> None:
    from adcsim.figures._quantize import save_chart

    x = np.linspace(0.0, 1.0, 20)
    panel = Panel((0.1, 0.1, 0.8, 0.8), title="a title", lines=[Line(x, x, label="x")])
    panel.legend = "upper left"
    save_chart(Chart(4.0, 3.0, "chart", [panel]), str(tmp_path / "c.svg"))
    text = (tmp_path / "c.svg").read_text()
    assert text.startswith("<?xml") and "a title" in text


def _legend_corner(x: np.ndarray, y: np.ndarray) -> str | None:
    panel = Panel((0.1, 0.1, 0.8, 0.8), lines=[Line(x, y, label="a")], legend="best")
    Chart(4.0, 3.0, "", [panel])
    return panel.legend


def test_a_best_legend_takes_the_corner_with_the_fewest_points() -> None:
    t = np.linspace(0.0, 1.0, 200)
    assert _legend_corner(t, t) == "upper left"  # a rising line: ties, first free
    assert _legend_corner(t, 1.0 - t) == "upper right"
    # along the top, and along the bottom of the left half only
    x = np.concatenate([t, 0.5 * t])
    y = np.concatenate([np.ones(200), np.zeros(200)])
    assert _legend_corner(x, y) == "lower right"


def test_a_lower_legend_is_drawn_in_the_lower_corner() -> None:
    t = np.linspace(0.0, 1.0, 50)
    panel = Panel((0.1, 0.1, 0.8, 0.8), lines=[Line(t, t, label="line")])
    panel.legend = "lower right"
    pixels = _decode(render_png(Chart(4.0, 3.0, "", [panel])))
    # The legend's white box hides the axes' lower right corner region, and
    # its grey frame is there; the upper right holds neither.
    edge = np.array([0xCC, 0xCC, 0xCC])
    lower = pixels[200:268, 250:318].astype(int)
    upper = pixels[32:100, 250:318].astype(int)
    assert (np.abs(lower - edge).sum(axis=2) < 40).any()
    assert not (np.abs(upper - edge).sum(axis=2) < 40).any()
