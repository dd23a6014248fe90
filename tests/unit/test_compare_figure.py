"""The compare figure: the quantize figure's window and spectrum conventions."""

from __future__ import annotations

import numpy as np

from adcsim.figures._compare import compare_chart
from adcsim.figures._quantize import PlotTap, quantize_chart
from adcsim.metrics._meters import BlockPair
from adcsim.quantizers._registry import make_quantizer

RATE = 8000


def _signals() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    ref = 0.05 * rng.standard_normal((4 * RATE, 1))
    ref[2 * RATE : 3 * RATE] *= 4  # the third second is the loudest,
    ref[2 * RATE + 1234, 0] = 0.95  # and this its loudest point
    return ref, np.round(ref * 128) / 128


def test_compare_shows_the_window_the_quantize_figure_shows() -> None:
    ref, test = _signals()
    chart = compare_chart(ref, test, rate=RATE, title="t.wav vs r.wav")
    tap = PlotTap(rate=RATE, channels=1, error_scale=2**-7)
    tap.update(BlockPair(ref, test))
    tap.finish()
    run = quantize_chart(tap, quantizer=make_quantizer("uniform", bits=8), title="")
    compared = [line for line in chart.panels[0].lines if line.label == "ref"][0]
    quantized = [line for line in run.panels[0].lines if line.label == "input"][0]
    np.testing.assert_array_equal(compared.x, quantized.x)
    assert compared.x[0] < (2 * RATE + 1234) / RATE < compared.x[-1]
    assert chart.title == "t.wav vs r.wav"


def test_compare_spectra_are_psd_per_hz_on_a_log_axis() -> None:
    # White noise of variance s^2 has a one-sided PSD of 2 s^2 / rate per Hz.
    rng = np.random.default_rng(4)
    ref = 0.1 * rng.standard_normal((20 * 4096, 1))
    chart = compare_chart(ref, 0 * ref, rate=RATE, title="")
    spectra = chart.panels[2]
    assert spectra.xlog and spectra.ylabel == "PSD (dB full scale / Hz)"
    line = [line for line in spectra.lines if line.label == "ref"][0]
    assert line.x[0] > 0  # no DC on a log axis
    expected = 10 * np.log10(2 * 0.1**2 / RATE)
    assert abs(np.mean(line.y) - expected) < 0.5  # log of an average of chi^2


def test_the_compare_figure_fed_in_blocks_is_the_figure_of_the_whole() -> None:
    from adcsim.figures._compare import CompareFigure

    ref, test = _signals()
    whole = compare_chart(ref, test, rate=RATE, title="")
    figure = CompareFigure(rate=RATE, channels=1, frames=ref.shape[0])
    for start in range(0, ref.shape[0], 1000):
        figure.update(ref[start : start + 1000], test[start : start + 1000])
    parts = figure.chart("")
    for a, b in zip(whole.panels, parts.panels, strict=True):
        assert a.title == b.title
        for la, lb in zip(a.lines, b.lines, strict=True):
            np.testing.assert_array_equal(la.x, lb.x)
            np.testing.assert_allclose(la.y, lb.y, rtol=1e-12, atol=1e-12)
