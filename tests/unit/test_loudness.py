"""BS.1770-4 loudness against the standard's tables and EBU Tech 3341 cases."""

from __future__ import annotations

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.metrics._loudness import block_powers, integrated_loudness, k_weighting

# ITU-R BS.1770-4, Annex 1, Tables 1 and 2 (48 kHz coefficients).
SHELF_48K_B = [1.53512485958697, -2.69169618940638, 1.19839281085285]
SHELF_48K_A = [1.0, -1.69065929318241, 0.73248077421585]
RLB_48K_B = [1.0, -2.0, 1.0]
RLB_48K_A = [1.0, -1.99004745483398, 0.99007225036621]


def sine(dbfs: float, seconds: float, rate: int, *, freq: float = 997.0):
    """A sine whose peak is ``dbfs`` (the EBU Tech 3341 convention)."""
    t = np.arange(round(seconds * rate)) / rate
    return 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)


def stereo(*segments):
    mono = np.concatenate(segments)
    return np.column_stack([mono, mono])


def test_k_weighting_at_48k_equals_the_published_coefficients():
    sos = k_weighting(48000)
    np.testing.assert_allclose(sos[0, :3], SHELF_48K_B, atol=1e-8)
    np.testing.assert_allclose(sos[0, 3:], SHELF_48K_A, atol=1e-8)
    np.testing.assert_allclose(sos[1, :3], RLB_48K_B, atol=1e-12)
    np.testing.assert_allclose(sos[1, 3:], RLB_48K_A, atol=1e-8)


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_k_weighting_response_matches_the_48k_filter_at_other_rates(rate):
    # The designed filter's magnitude at any rate follows the 48 kHz reference
    # filter of the standard well below Nyquist (the bilinear warping is small).
    from scipy.signal import sosfreqz

    freqs = np.array([20.0, 50.0, 100.0, 1000.0, 2000.0, 5000.0, 10000.0])
    reference = np.array([SHELF_48K_B + SHELF_48K_A, RLB_48K_B + RLB_48K_A])
    _, h_ref = sosfreqz(reference, worN=freqs, fs=48000)
    _, h = sosfreqz(k_weighting(rate), worN=freqs, fs=rate)
    np.testing.assert_allclose(
        20 * np.log10(abs(h)), 20 * np.log10(abs(h_ref)), atol=0.05
    )


@pytest.mark.parametrize("rate", [44100, 48000])
def test_sine_at_minus_23_dbfs_on_both_channels_reads_minus_23_lufs(rate):
    # EBU Tech 3341 test case 1 (1 kHz; 997 Hz here to avoid a rate-related period).
    x = stereo(sine(-23, 20, rate))
    assert integrated_loudness(x, rate=rate) == pytest.approx(-23.0, abs=0.1)


def test_sine_at_minus_33_dbfs_reads_minus_33_lufs():
    # EBU Tech 3341 test case 2.
    assert integrated_loudness(stereo(sine(-33, 20, 48000)), rate=48000) == (
        pytest.approx(-33.0, abs=0.1)
    )


def test_full_scale_1khz_sine_on_one_channel_reads_minus_3_01_lufs():
    x = np.column_stack([sine(0, 5, 48000, freq=1000.0), np.zeros(5 * 48000)])
    assert integrated_loudness(x, rate=48000) == pytest.approx(-3.01, abs=0.05)


def test_relative_gate_ignores_quiet_passages():
    # EBU Tech 3341 test case 3: -36 dBFS 10 s, -23 dBFS 60 s, -36 dBFS 10 s.
    rate = 48000
    x = stereo(sine(-36, 10, rate), sine(-23, 60, rate), sine(-36, 10, rate))
    assert integrated_loudness(x, rate=rate) == pytest.approx(-23.0, abs=0.1)


def test_absolute_and_relative_gates_together():
    # EBU Tech 3341 test case 4: -72, -36, -23, -36, -72 dBFS (10, 10, 60, 10, 10 s).
    rate = 48000
    x = stereo(
        sine(-72, 10, rate),
        sine(-36, 10, rate),
        sine(-23, 60, rate),
        sine(-36, 10, rate),
        sine(-72, 10, rate),
    )
    assert integrated_loudness(x, rate=rate) == pytest.approx(-23.0, abs=0.1)


def test_gate_keeps_blocks_within_10_lu():
    # EBU Tech 3341 test case 5: -26 dBFS 20 s, -20 dBFS 20.1 s, -26 dBFS 20 s.
    rate = 48000
    x = stereo(sine(-26, 20, rate), sine(-20, 20.1, rate), sine(-26, 20, rate))
    assert integrated_loudness(x, rate=rate) == pytest.approx(-23.0, abs=0.1)


def test_surround_channels_weigh_1_41():
    # Same sine on Ls only vs L only: 10*log10(1.41) = 1.49 dB louder.
    rate = 48000
    s = sine(-20, 2, rate)
    left = np.zeros((s.size, 5))
    left[:, 0] = s
    surround = np.zeros((s.size, 5))
    surround[:, 3] = s
    diff = integrated_loudness(surround, rate=rate) - integrated_loudness(
        left, rate=rate
    )
    assert diff == pytest.approx(10 * np.log10(1.41), abs=1e-9)


def test_silence_is_minus_infinity():
    assert integrated_loudness(np.zeros(48000), rate=48000) == float("-inf")


def test_blocks_are_400_ms_with_75_percent_overlap():
    # 1 s at 48 kHz: steps of 4800 frames, 10 steps, 7 complete blocks.
    assert block_powers(np.ones(48000), rate=48000).shape == (7, 1)
    assert block_powers(np.ones(19199), rate=48000).shape == (0, 1)


def test_too_short_input_is_refused():
    with pytest.raises(AdcsimError, match="frames=100"):
        integrated_loudness(np.ones(100), rate=48000)


def test_low_rate_is_refused():
    with pytest.raises(AdcsimError, match="rate=4000"):
        integrated_loudness(np.ones(10000), rate=4000)


def test_wrong_weight_count_is_refused():
    with pytest.raises(AdcsimError, match="weights"):
        integrated_loudness(np.ones((48000, 2)), rate=48000, weights=[1.0])
