"""Static transfer curves: constructors, JSON form, figures, against theory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from adcsim.analysis._histogram import histogram_test, required_samples
from adcsim.errors import AdcsimError
from adcsim.quantizers import UniformQuantizer
from adcsim.quantizers._transfer import (
    TransferCurve,
    design_transfer,
    ideal_transitions,
    linearity,
    load_transfer,
    save_transfer,
    smooth_inl_lsb,
)


def test_ideal_transitions_are_the_midpoints_of_the_mid_tread_levels():
    bits = 5
    levels = np.arange(-16, 16) * (2.0 / 32)
    assert np.array_equal(ideal_transitions(bits), (levels[:-1] + levels[1:]) / 2)


def test_the_ideal_curve_encodes_as_the_uniform_quantizer_off_the_ties(rng):
    x = rng.uniform(-1.2, 1.2, 100000)
    curve = TransferCurve(ideal_transitions(8))
    assert np.array_equal(curve.encode(x), UniformQuantizer(bits=8).encode(x))
    assert np.array_equal(curve.quantize(x), UniformQuantizer(bits=8).quantize(x))


def test_gain_and_offset_errors_leave_terminal_based_dnl_and_inl_at_zero():
    lin = linearity(1.01 * ideal_transitions(10) + 0.003)
    assert np.nanmax(np.abs(lin.dnl_lsb)) < 1e-9
    assert np.nanmax(np.abs(lin.inl_lsb)) < 1e-9
    assert np.nanmax(np.abs(lin.inl_best_fit_lsb)) < 1e-9
    assert lin.lsb_fs == pytest.approx(1.01 * 2 / 1024)


def test_bow_and_s_shapes_have_the_peak_asked_for_and_zero_ends():
    bow = smooth_inl_lsb(12, peak_lsb=2.0, shape="bow")
    s = smooth_inl_lsb(12, peak_lsb=2.0, shape="s")
    for shape in (bow, s):
        assert shape[0] == pytest.approx(0, abs=1e-12)
        assert shape[-1] == pytest.approx(0, abs=1e-12)
        assert np.max(np.abs(shape)) == pytest.approx(2.0, rel=1e-5)
    assert np.allclose(s, -s[::-1], atol=1e-12)  # odd about mid-scale
    assert np.allclose(bow, bow[::-1], atol=1e-12)  # even
    lin = design_transfer(bits=12, inl_lsb=2.0).linearity()
    assert lin.max_abs_inl_lsb == pytest.approx(2.0, rel=1e-5)


def test_a_bow_inl_gives_the_second_harmonic_the_polynomial_predicts():
    # y = x - e(x) with e = X D (1 - ((x - c) / h)**2): the x**2 coefficient is
    # a2 = X D / h**2, so HD2 = a2 A / 2 relative to the fundamental (A ~ a1 A).
    bits, peak, amplitude = 12, 2.0, 0.9
    step = 2.0 / (1 << bits)
    ideal = ideal_transitions(bits)
    half = (ideal[-1] - ideal[0]) / 2
    a2 = peak * step / half**2
    expected_db = 20 * math.log10(a2 * amplitude / 2)
    frames, cycles = 1 << 16, 1021
    x = amplitude * np.sin(2 * np.pi * ((cycles * np.arange(frames)) % frames) / frames)
    y = design_transfer(bits=bits, inl_lsb=peak, inl_shape="bow").quantize(x)
    spectrum = np.abs(np.fft.rfft(y))
    measured_db = 20 * math.log10(spectrum[2 * cycles] / spectrum[cycles])
    assert measured_db == pytest.approx(expected_db, abs=0.5)
    # and the ideal curve has no such harmonic (the bow makes it)
    ideal_y = TransferCurve(ideal).quantize(x)
    ideal_spectrum = np.abs(np.fft.rfft(ideal_y))
    ratio = ideal_spectrum[2 * cycles] / ideal_spectrum[cycles]
    assert ratio < 10 ** ((expected_db - 20) / 20)


def test_random_transition_errors_have_the_rms_asked_for(rng):
    curve = design_transfer(bits=12, dnl_lsb=0.1, rng=rng)
    errors = (curve.transitions - ideal_transitions(12)) / curve.step
    assert np.sqrt(np.mean(errors**2)) == pytest.approx(0.1, rel=0.05)
    assert curve.linearity().rms_dnl_lsb == pytest.approx(0.1 * math.sqrt(2), rel=0.05)
    assert curve.linearity().missing_codes == ()


def test_a_transition_pair_out_of_order_is_a_missing_code():
    bits, sigma = 6, 0.8
    curve = design_transfer(bits=bits, dnl_lsb=sigma, rng=np.random.default_rng(3))
    # The same draws, checked pair by pair: code c (between T[c] and T[c+1])
    # is missing when T[c+1] is not above every transition below it.
    step = 2.0 / (1 << bits)
    raw = ideal_transitions(bits) + sigma * step * np.random.default_rng(
        3
    ).standard_normal((1 << bits) - 1)
    expected = [c for c in range(1, raw.size) if raw[c] <= raw[:c].max()]
    assert expected, "the seed should give missing codes"
    assert list(curve.linearity().missing_codes) == expected
    # a missing code is never output
    x = np.linspace(-1.1, 1.1, 200001)
    seen = set((curve.encode(x) + (1 << (bits - 1))).tolist())
    assert not seen & set(expected)
    assert seen == set(range(1 << bits)) - set(expected)


def test_random_errors_need_a_generator_and_a_non_negative_rms():
    with pytest.raises(AdcsimError, match="needs rng"):
        design_transfer(bits=8, dnl_lsb=0.2)
    with pytest.raises(AdcsimError, match="dnl_lsb=-0.1"):
        design_transfer(bits=8, dnl_lsb=-0.1, rng=np.random.default_rng(0))
    with pytest.raises(AdcsimError, match="inl_shape='u'"):
        design_transfer(bits=8, inl_lsb=1.0, inl_shape="u")  # type: ignore[arg-type]
    with pytest.raises(AdcsimError, match="bits=17"):
        design_transfer(bits=17)


def test_transitions_round_trip_through_json_exactly(tmp_path, rng):
    curve = design_transfer(bits=10, inl_lsb=0.7, inl_shape="s", dnl_lsb=0.4, rng=rng)
    path = tmp_path / "part.json"
    save_transfer(curve, path)
    back = load_transfer(path)
    assert np.array_equal(back.transitions, curve.transitions)
    data = json.loads(path.read_text())
    assert sorted(data) == ["bits", "transitions"] and data["bits"] == 10
    with pytest.raises(AdcsimError, match="exists"):
        save_transfer(curve, path)
    save_transfer(curve, path, force=True)


def _curve_text(bits: int = 2, transitions: object = None) -> str:
    t = transitions if transitions is not None else [-0.75, -0.25, 0.25]
    return json.dumps({"bits": bits, "transitions": t})


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{bits: 2", "not valid JSON"),
        (b"[1, 2, 3]", "must be an object"),
        (b'{"bits": 2}', "missing key 'transitions'"),
        (b'{"bits": 2, "transitions": [0, 0, 0], "x": 1}', "unknown key 'x'"),
        (_curve_text(3).encode(), "bits=3 needs 7 transitions, not 3"),
        (_curve_text(1, [0.0]).encode(), r"bits=1 must be an integer in \[2, 16\]"),
        (_curve_text(17).encode(), "bits=17"),
        (b'{"bits": true, "transitions": [0, 0, 0]}', "bits=True"),
        (b'{"bits": 2, "transitions": "abc"}', "list of numbers"),
        (b'{"bits": 2, "transitions": [0, "1", 2]}', "list of numbers"),
        (b'{"bits": 2, "transitions": [0, NaN, 1]}', "NaN is not a finite number"),
        (b'{"bits": 2, "transitions": [0, 1e999, 2]}', r"T\[2\]=inf is not finite"),
        (_curve_text(2, [-0.5, 0.5, 0.25]).encode(), r"non-decreasing.*T\[3\]=0.25"),
    ],
)
def test_malformed_transfer_files_are_refused_with_one_line_naming_the_file(
    tmp_path: Path, content: bytes, match: str
):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(AdcsimError, match=match) as info:
        load_transfer(path)
    message = str(info.value)
    assert "\n" not in message and "bad.json" in message


def test_missing_and_directory_transfer_files_are_refused(tmp_path):
    with pytest.raises(AdcsimError, match="no such file"):
        load_transfer(tmp_path / "none.json")
    with pytest.raises(AdcsimError, match="is a directory"):
        load_transfer(tmp_path)


def test_the_histogram_test_of_a_curve_agrees_with_its_static_figures(rng):
    bits = 10
    curve = design_transfer(bits=bits, inl_lsb=1.2, dnl_lsb=0.35, rng=rng)
    static = curve.linearity()
    assert static.missing_codes, "this draw should have missing codes"
    frames = 2 * required_samples(bits, amplitude=1.03)
    n = np.arange(frames)
    x = 1.03 * np.sin(2 * np.pi * ((7919 * n) % frames) / frames)
    codes = curve.encode(x).astype(np.int64) + (1 << (bits - 1))
    measured = histogram_test(codes, bits=bits).linearity
    assert measured.missing_codes == static.missing_codes
    assert np.nanmax(np.abs(measured.dnl_lsb - static.dnl_lsb)) < 0.1
    assert np.nanmax(np.abs(measured.inl_lsb - static.inl_lsb)) < 0.1
    for name in ("max_abs_dnl_lsb", "max_abs_inl_lsb", "max_abs_inl_best_fit_lsb"):
        assert getattr(measured, name) == pytest.approx(getattr(static, name), abs=0.1)
    assert measured.rms_dnl_lsb == pytest.approx(static.rms_dnl_lsb, abs=0.01)
