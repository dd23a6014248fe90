"""The run figure's data: which samples its panels show, and how."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.figures._quantize import PlotTap, quantize_chart
from adcsim.metrics._meters import BlockPair
from adcsim.quantizers._registry import make_quantizer

RATE = 8000


def _stream(frames: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    ref = rng.uniform(-0.5, 0.5, (frames, 2))
    return ref, np.round(ref * 128) / 128


def _feed(tap: PlotTap, ref: np.ndarray, out: np.ndarray, block: int) -> PlotTap:
    for start in range(0, ref.shape[0], block):
        tap.update(BlockPair(ref[start : start + block], out[start : start + block]))
    tap.finish()
    return tap


def _waveform(tap: PlotTap) -> tuple[str, np.ndarray, np.ndarray]:
    chart = quantize_chart(tap, quantizer=make_quantizer("uniform", bits=8), title="")
    wave = chart.panels[0]
    inputs = [line for line in wave.lines if line.label == "input"]
    times = inputs[0].x if inputs else np.zeros(0)
    values = inputs[0].y if inputs else np.zeros(0)
    return wave.title, times, values


@pytest.mark.parametrize("block", [1, 7, 100, 4096])
def test_a_plot_window_shows_exactly_its_frames_whatever_the_blocks(block: int) -> None:
    ref, out = _stream(3 * RATE)
    tap = PlotTap(rate=RATE, channels=2, error_scale=2**-8, window=(1.25, 0.01))
    title, times, values = _waveform(_feed(tap, ref, out, block))
    first = 10_000  # 1.25 s at 8 kHz, then 80 frames (10 ms)
    np.testing.assert_array_equal(values, ref[first : first + 80, 0])
    np.testing.assert_array_equal(times, np.arange(first, first + 80) / RATE)
    assert title == "waveform 1.25-1.26 s (--plot-window), channel 1 of 2"


def test_a_plot_window_past_the_end_says_so_and_shows_nothing() -> None:
    ref, out = _stream(RATE // 2)
    tap = PlotTap(rate=RATE, channels=2, error_scale=2**-8, window=(3.0, 0.5))
    title, times, _ = _waveform(_feed(tap, ref, out, 1000))
    assert times.size == 0
    assert title == (
        "waveform (--plot-window starts after the end, 0.5 s), channel 1 of 2"
    )


def test_a_window_running_past_the_end_shows_what_there_is() -> None:
    ref, out = _stream(RATE)
    tap = PlotTap(rate=RATE, channels=2, error_scale=2**-8, window=(0.99, 0.5))
    title, _, values = _waveform(_feed(tap, ref, out, 300))
    np.testing.assert_array_equal(values, ref[7920:, 0])
    assert title.startswith("waveform 0.99-1 s (--plot-window)")


def test_without_a_window_the_figure_looks_at_the_loudest_second() -> None:
    ref, out = _stream(3 * RATE)
    ref[RATE : 2 * RATE] *= 1.8  # the loudest second is the second one,
    ref[RATE + 123] = 0.99  # and its loudest point this one
    tap = PlotTap(rate=RATE, channels=2, error_scale=2**-8)
    title, times, _ = _waveform(_feed(tap, ref, out, 1000))
    assert title.startswith("waveform around the loudest point of the loudest second")
    assert times[0] < (RATE + 123) / RATE < times[-1]


def _chart(tap: PlotTap, scheme: str = "uniform", bits: int = 8, **kw: object):
    return quantize_chart(
        tap, quantizer=make_quantizer(scheme, bits=bits), title="", **kw
    )


@pytest.mark.parametrize(
    ("resampled", "label"), [(False, "input"), (True, "input (resampled)")]
)
def test_the_input_is_drawn_last_and_thinner_and_says_resampled_only_when_so(
    resampled: bool, label: str
) -> None:
    ref, out = _stream(RATE)
    chart = _chart(
        _feed(PlotTap(rate=RATE, channels=2, error_scale=2**-8), ref, out, 500),
        resampled=resampled,
    )
    wave, spectra = chart.panels[0], chart.panels[-1]
    for panel, name in ((wave, label), (spectra, "input")):
        assert panel.lines[-1].label == name
        assert all(panel.lines[-1].width < line.width for line in panel.lines[:-1])


def _histogram(
    tap: PlotTap, step: float | None
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    chart = _chart(tap)
    panel = chart.panels[2]
    fill = panel.fills[0]
    return fill.edges, fill.counts, [float(v.x[0]) for v in panel.vlines]


def test_the_histogram_covers_every_error_of_a_shaped_run() -> None:
    step = 2**-7
    rng = np.random.default_rng(2)
    errors = rng.uniform(-6, 6, (20000, 1)) * step  # shaped errors: +-6 LSB
    errors[:2, 0] = [-6 * step, 6 * step]
    ref = np.zeros((20000, 1))
    tap = _feed(
        PlotTap(rate=RATE, channels=1, error_scale=step), ref, ref + errors, 999
    )
    edges, counts, _ = _histogram(tap, step)
    assert edges[0] <= -6 * step and edges[-1] >= 6 * step
    assert counts.sum() == 20000
    assert counts.size <= 2 * 101


def test_errors_far_beyond_the_range_land_in_the_end_bins() -> None:
    ref = np.zeros((100, 1))
    out = np.zeros((100, 1))
    out[0, 0] = 0.9  # a Lloyd-Max outer cell: far beyond 64 error scales
    tap = _feed(PlotTap(rate=RATE, channels=1, error_scale=2**-10), ref, out, 100)
    _, counts, _ = _histogram(tap, None)
    assert counts.sum() == 100


def test_ties_at_plus_half_a_step_lie_inside_the_dashed_bounds() -> None:
    step = 2**-7
    # Errors exactly +-D/2 (ties) and a few between, on the 16-bit grid.
    errors = np.array([-0.5, 0.5, 0.5, 0.25, 0.0, -0.25])[:, None] * step
    ref = np.zeros_like(errors)
    tap = _feed(PlotTap(rate=RATE, channels=1, error_scale=step), ref, ref + errors, 6)
    edges, counts, (low, high) = _histogram(tap, step)
    used = np.flatnonzero(counts)
    assert low <= edges[used[0]] and edges[used[-1] + 1] <= high
    assert low <= -step / 2 and high >= step / 2


def test_the_inset_tick_labels_clear_the_transfer_panel_s_axis() -> None:
    chart = _chart(PlotTap(rate=RATE, channels=1, error_scale=2**-12), bits=12)
    panel, inset = chart.panels[3], chart.panels[4]
    assert inset.title == "around zero"
    gap_pt = (inset.box[1] - panel.box[1]) * chart.height_in * 72
    # tick (3.5 pt), pad (3.5 pt) and a label line (1.2 em) below the inset
    assert gap_pt > 3.5 + 3.5 + 1.2 * inset.tick_size


def test_a_static_transfer_curve_adds_its_dnl_and_inl_row_below_the_rest() -> None:
    from adcsim.quantizers._transfer import design_transfer
    from adcsim.quantizers._transfer_scheme import TransferQuantizer

    curve = design_transfer(bits=8, dnl_lsb=0.6, rng=np.random.default_rng(3))
    ref, out = _stream(4000)
    tap = _feed(PlotTap(rate=RATE, channels=2, error_scale=2**-8), ref, out, 1000)
    plain = quantize_chart(tap, quantizer=make_quantizer("uniform", bits=8), title="")
    chart = quantize_chart(tap, quantizer=TransferQuantizer(curve), title="")
    dnl, inl = chart.panels[-2:]
    missing = len(curve.linearity().missing_codes)
    assert dnl.title == f"static DNL per code ({missing} missing codes)"
    assert np.count_nonzero(dnl.lines[0].y == -1.0) == missing > 0
    assert inl.lines[0].x.size == 255
    assert len(chart.panels) == len(plain.panels) + 2
    assert chart.height_in > plain.height_in
    lowest = min(p.box[1] for p in chart.panels if p not in (dnl, inl))
    assert dnl.box[1] + dnl.box[3] < lowest
