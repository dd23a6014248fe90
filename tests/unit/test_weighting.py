"""Tests of adcsim.metrics._weighting against IEC 61672-1 and Parseval."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfreqz
from weighting_meters import AWeightedPowerMeter, BandPowerMeter, a_weighting_sos

from adcsim.errors import AdcsimError
from adcsim.metrics._weighting import a_weighting_db

# IEC 61672-1:2013 Table 3: nominal frequency (Hz), A-weighting (dB), and the
# class-1 acceptance limits (+upper, -lower; None = -infinity). The values are
# the standard's, read in GOST 17187-2010 Table 2, which reproduces them; the
# weightings are computed at the exact base-10 frequencies 1000 * 10**(n/10).
IEC_TABLE = [
    (10, -70.4, 3.5, None), (12.5, -63.4, 3.0, None), (16, -56.7, 2.5, 4.5),
    (20, -50.5, 2.5, 2.5), (25, -44.7, 2.5, 2.0), (31.5, -39.4, 2.0, 2.0),
    (40, -34.6, 1.5, 1.5), (50, -30.2, 1.5, 1.5), (63, -26.2, 1.5, 1.5),
    (80, -22.5, 1.5, 1.5), (100, -19.1, 1.5, 1.5), (125, -16.1, 1.5, 1.5),
    (160, -13.4, 1.5, 1.5), (200, -10.9, 1.5, 1.5), (250, -8.6, 1.4, 1.4),
    (315, -6.6, 1.4, 1.4), (400, -4.8, 1.4, 1.4), (500, -3.2, 1.4, 1.4),
    (630, -1.9, 1.4, 1.4), (800, -0.8, 1.4, 1.4), (1000, 0.0, 1.1, 1.1),
    (1250, 0.6, 1.4, 1.4), (1600, 1.0, 1.6, 1.6), (2000, 1.2, 1.6, 1.6),
    (2500, 1.3, 1.6, 1.6), (3150, 1.2, 1.6, 1.6), (4000, 1.0, 1.6, 1.6),
    (5000, 0.5, 2.1, 2.1), (6300, -0.1, 2.1, 2.6), (8000, -1.1, 2.1, 3.1),
    (10000, -2.5, 2.6, 3.6), (12500, -4.3, 3.0, 6.0), (16000, -6.6, 3.5, 17.0),
    (20000, -9.3, 4.0, None),
]  # fmt: skip
EXACT_HZ = 1000 * 10 ** (np.arange(-20, 14) / 10)


def _digital_db(rate: int, freqs: np.ndarray) -> np.ndarray:
    _, h = sosfreqz(a_weighting_sos(rate), worN=freqs, fs=rate)
    return 20 * np.log10(np.abs(h))


def test_analog_a_weighting_reproduces_the_iec_table_to_its_rounding():
    table = np.array([row[1] for row in IEC_TABLE])
    assert np.max(np.abs(a_weighting_db(EXACT_HZ) - table)) <= 0.05


@pytest.mark.parametrize("rate", [44100, 48000])
def test_digital_a_weighting_meets_class_1_limits(rate):
    got = _digital_db(rate, EXACT_HZ)
    for (_, value, upper, lower), g in zip(IEC_TABLE, got, strict=True):
        assert g <= value + upper
        if lower is not None:
            assert g >= value - lower


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_digital_a_weighting_is_within_a_tenth_of_a_db_of_the_curve(rate):
    err = _digital_db(rate, EXACT_HZ) - a_weighting_db(EXACT_HZ)
    assert np.max(np.abs(err)) < 0.1
    table = np.array([row[1] for row in IEC_TABLE])
    assert np.max(np.abs(_digital_db(rate, EXACT_HZ) - table)) < 0.15


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000])
def test_low_rate_a_weighting_follows_the_curve_up_to_near_nyquist(rate):
    f = np.geomspace(10, 0.95 * rate / 2, 300)
    err = _digital_db(rate, f) - a_weighting_db(f)
    assert np.max(np.abs(err)) < 0.2


def test_a_weighting_rejects_a_rate_too_low():
    with pytest.raises(AdcsimError, match="rate=2000"):
        a_weighting_sos(2000)


def test_a_weighted_power_of_a_100_hz_sine_is_19_1_db_down():
    rate = 48000
    t = np.arange(2 * rate) / rate
    meter = AWeightedPowerMeter(rate, 1)
    meter.update(np.sin(2 * np.pi * 100 * t)[:, None])
    # Analog value at exactly 100 Hz; the 20 Hz poles' start-up adds < 0.01 dB.
    expected = 0.5 * 10 ** (a_weighting_db(100.0) / 10)
    assert meter.power() == pytest.approx(float(expected), rel=0.01)


def test_a_weighted_meter_gives_the_same_power_for_any_block_split():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10000, 2))
    whole = AWeightedPowerMeter(44100, 2)
    whole.update(x)
    parts = AWeightedPowerMeter(44100, 2)
    for a, b in [(0, 1), (1, 777), (777, 778), (778, 10000)]:
        parts.update(x[a:b])
    assert parts.channel_powers() == pytest.approx(whole.channel_powers(), rel=1e-12)


def test_a_weighted_power_of_white_noise_matches_the_integrated_curve():
    rate = 44100
    rng = np.random.default_rng(1)
    meter = AWeightedPowerMeter(rate, 1)
    meter.update(rng.standard_normal((rate * 4, 1)))
    f = np.linspace(0, rate / 2, 200001)[1:]
    expected = np.mean(10 ** (a_weighting_db(f) / 10))  # white: mean of |A|^2
    assert meter.power() == pytest.approx(float(expected), rel=0.03)


def test_band_power_of_white_noise_is_its_share_of_the_band():
    rate = 44100
    rng = np.random.default_rng(2)
    meter = BandPowerMeter(rate, 1, low_hz=0, high_hz=4000)
    x = rng.standard_normal((rate * 4, 1))
    meter.update(x)
    assert meter.power() == pytest.approx(4000 / (rate / 2), rel=0.03)


def test_band_power_counts_tones_inside_and_not_outside():
    rate = 44100
    t = np.arange(rate * 2) / rate
    inside = 0.5 * np.sin(2 * np.pi * 1000 * t)
    outside = 0.5 * np.sin(2 * np.pi * 10000 * t)
    meter = BandPowerMeter(rate, 2, low_hz=0, high_hz=4000)
    meter.update(np.stack([inside, outside], axis=1))
    powers = meter.channel_powers()
    assert powers[0] == pytest.approx(0.125, rel=0.01)
    assert powers[1] < 1e-9  # Blackman-Harris sidelobes < -92 dB


def test_band_power_of_a_bandpass_excludes_low_and_high_tones():
    rate = 16000
    t = np.arange(rate * 2) / rate
    x = np.sin(2 * np.pi * 300 * t) + np.sin(2 * np.pi * 2000 * t)
    meter = BandPowerMeter(rate, 1, low_hz=1000, high_hz=4000)
    meter.update(x[:, None])
    assert meter.power() == pytest.approx(0.5, rel=0.01)


def test_band_power_is_the_same_for_any_block_split():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30000, 1))
    whole = BandPowerMeter(22050, 1)
    whole.update(x)
    parts = BandPowerMeter(22050, 1)
    for a, b in [(0, 5), (5, 4100), (4100, 29999), (29999, 30000)]:
        parts.update(x[a:b])
    assert parts.power() == pytest.approx(whole.power(), rel=1e-12)


def test_full_band_power_is_the_exact_mean_square():
    x = np.linspace(-1, 1, 101)[:, None]
    meter = BandPowerMeter(8000, 1, low_hz=0, high_hz=4000)
    meter.update(x)
    assert meter.power() == pytest.approx(float(np.mean(x**2)), rel=1e-12)


def test_band_power_of_a_short_record_uses_one_shorter_frame():
    rate = 48000
    t = np.arange(2000) / rate
    meter = BandPowerMeter(rate, 1)
    meter.update(np.sin(2 * np.pi * 1500 * t)[:, None])
    assert meter.power() == pytest.approx(0.5, rel=0.02)


def test_band_power_rejects_a_bad_band():
    with pytest.raises(AdcsimError, match="low_hz=5000"):
        BandPowerMeter(8000, 1, low_hz=5000, high_hz=6000)


# ITU-R BS.468-4 (1986), Table 1: frequency (Hz) and the weighting (dB).
ITU468_TABLE = [
    (31.5, -29.9), (63, -23.9), (100, -19.8), (200, -13.8), (400, -7.8),
    (800, -1.9), (1000, 0.0), (2000, 5.6), (3150, 9.0), (4000, 10.5),
    (5000, 11.7), (6300, 12.2), (7100, 12.0), (8000, 11.4), (9000, 10.1),
    (10000, 8.1), (12500, 0.0), (14000, -5.3), (16000, -11.7), (20000, -22.2),
    (31500, -42.7),
]  # fmt: skip


def test_itu468_matches_the_standard_s_table():
    from adcsim.metrics._weighting import itu468_db

    freqs, table = np.array(ITU468_TABLE).T
    # The table is given to 0.1 dB; the closed form meets it within 0.05 dB.
    np.testing.assert_allclose(itu468_db(freqs), table, atol=0.06)


def test_f_weighting_is_wannamakers_zeros_and_poles():
    from scipy.signal import freqs_zpk

    from adcsim.metrics._weighting import f_weighting_db

    # Wannamaker (JAES 40(7/8), 1992): zeros and poles in kHz, multiplicities.
    def expand(roots):
        out = []
        for root, times in roots:
            out += [root] * times + ([np.conj(root)] * times if root.imag else [])
        return out

    zeros = expand([(0.0, 3), (-0.58 + 1.03j, 1), (-3.18 + 8.75j, 3)])
    poles = expand([(-0.18, 3), (-1.63, 2), (-2.51 + 3.85j, 4), (-6.62 + 14.29j, 20)])
    f_khz = np.array([0.02, 0.1, 0.5, 1.0, 2.0, 3.5, 6.0, 9.0, 12.0, 16.0, 20.0])
    _, h = freqs_zpk(zeros, poles, 1.0, worN=f_khz)  # s in kHz: j f
    _, h1k = freqs_zpk(zeros, poles, 1.0, worN=[1.0])
    expected = 20 * np.log10(np.abs(h / h1k[0]))
    np.testing.assert_allclose(f_weighting_db(f_khz * 1000), expected, atol=1e-6)
    # It favours 3-4 kHz, where hearing is most sensitive, by about 11 dB.
    assert 10.5 < f_weighting_db([3500.0])[0] < 12.5


def test_in_band_top_scales_with_the_rate():
    from adcsim.metrics._weighting import in_band_high_hz

    assert in_band_high_hz(44100) == in_band_high_hz(96000) == 4000.0
    assert in_band_high_hz(8000) == 1600.0 and in_band_high_hz(16000) == 3200.0
