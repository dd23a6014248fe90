"""The run figure's data: which samples its waveform panels show."""

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
    times = wave.lines[0].x if wave.lines else np.zeros(0)
    values = wave.lines[0].y if wave.lines else np.zeros(0)
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
