"""Tests of adcsim.analysis._generate against formulas, scipy and exhaustive checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adcsim.analysis._generate import KINDS, coherent_cycles, generate
from adcsim.analysis._histogram import histogram_sine
from adcsim.errors import AdcsimError


def _primes_below(limit):
    sieve = np.ones(limit, dtype=bool)
    sieve[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if sieve[p]:
            sieve[p * p :: p] = False
    return np.flatnonzero(sieve)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_gives_a_float64_frames_by_channels_block(kind):
    # ramp and histogram-sine take their length from bits, not duration_s
    bits = {"ramp": {"bits": 8}, "histogram-sine": {"bits": 4}}.get(kind, {})
    x = generate(kind, rate=8000, duration_s=0.25, channels=3, **bits)
    lengths = {"ramp": 256, "histogram-sine": histogram_sine(bits=4, rate=8000).size}
    frames = lengths.get(kind, 2000)
    assert x.shape == (frames, 3)
    assert x.dtype == np.float64
    assert np.all(np.isfinite(x))


def test_sine_follows_its_formula_with_peak_level():
    x = generate(
        "sine",
        rate=44100,
        duration_s=0.1,
        freq_hz=1234.5,
        level_dbfs=-6.0,
        phase_rad=0.5,
    )
    n = np.arange(4410)
    expected = 10 ** (-6 / 20) * np.sin(2 * np.pi * 1234.5 * n / 44100 + 0.5)
    np.testing.assert_allclose(x[:, 0], expected, atol=1e-12)


@pytest.mark.parametrize(
    ("freq", "rate", "duration"),
    [
        (1000.0, 48000, 1.0),
        (1000.0, 48000, 4096 / 48000),
        (997.0, 44100, 0.5),
        (20.0, 8000, 0.1),
    ],
)
def test_coherent_sine_has_the_nearest_prime_cycle_count(freq, rate, duration):
    x = generate("sine", rate=rate, duration_s=duration, freq_hz=freq, coherent=True)[
        :, 0
    ]
    frames = x.size
    spectrum = np.abs(np.fft.rfft(x))
    cycles = int(np.argmax(spectrum))
    # All the energy in one bin: no leakage, so no window is needed.
    others = np.delete(spectrum, cycles)
    assert np.max(others) < 1e-9 * spectrum[cycles]
    primes = [
        int(p) for p in _primes_below(frames // 2 + 1) if frames % p and 2 * p < frames
    ]
    target = freq * frames / rate
    best = min(abs(p - target) for p in primes)
    assert cycles in primes
    assert abs(cycles - target) == best
    assert math.gcd(cycles, frames) == 1
    assert cycles == coherent_cycles(freq, rate=rate, frames=frames)


def test_coherent_cycles_needs_a_usable_prime():
    with pytest.raises(AdcsimError, match="frames=4"):
        coherent_cycles(1.0, rate=4, frames=4)


def test_multitone_has_equal_tones_and_the_requested_peak():
    freqs = [300.0, 1100.0, 5100.0, 9000.0]
    rate, frames = 48000, 4800  # whole cycles of every tone: exact DFT bins
    x = generate(
        "multitone", rate=rate, duration_s=0.1, freqs_hz=freqs, level_dbfs=-3.0
    )[:, 0]
    assert np.max(np.abs(x)) == pytest.approx(10 ** (-3 / 20), rel=1e-12)
    spectrum = np.abs(np.fft.rfft(x)) * 2 / frames
    amplitudes = spectrum[[round(f * frames / rate) for f in freqs]]
    np.testing.assert_allclose(amplitudes, amplitudes[0], rtol=1e-9)
    assert np.sum(spectrum**2) / 2 == pytest.approx(np.sum(amplitudes**2) / 2, rel=1e-9)


@pytest.mark.parametrize(
    ("method", "scipy_method"), [("linear", "linear"), ("log", "logarithmic")]
)
def test_chirp_matches_scipy(method, scipy_method):
    signal = pytest.importorskip("scipy.signal")
    rate, duration = 16000, 0.5
    x = generate(
        "chirp",
        rate=rate,
        duration_s=duration,
        f0_hz=50.0,
        f1_hz=7000.0,
        method=method,
        level_dbfs=-2.0,
    )
    t = np.arange(x.shape[0]) / rate
    # scipy's chirp is a cosine; -90 degrees turns it into our sine.
    expected = signal.chirp(t, 50.0, t[-1], 7000.0, method=scipy_method, phi=-90)
    np.testing.assert_allclose(x[:, 0], 10 ** (-2 / 20) * expected, atol=1e-8)


@pytest.mark.parametrize("distribution", ["gaussian", "uniform", "laplacian"])
def test_white_noise_has_the_rms_level_and_the_distribution(distribution):
    x = generate(
        "noise",
        rate=48000,
        duration_s=2.0,
        channels=2,
        distribution=distribution,
        level_dbfs=-12.0,
    )
    rms = np.sqrt(np.mean(x**2, axis=0))
    np.testing.assert_allclose(rms, 10 ** (-12 / 20), rtol=1e-12)
    z = x / rms
    kurtosis = np.mean(z**4, axis=0)
    # Gaussian 3, uniform 9/5, Laplace 6; sampling spread on 96k samples is
    # about 0.02, 0.005 and 0.1.
    expected = {"gaussian": 3.0, "uniform": 1.8, "laplacian": 6.0}[distribution]
    np.testing.assert_allclose(kurtosis, expected, rtol=0.05)
    assert abs(np.corrcoef(x.T)[0, 1]) < 0.02  # channels independent


def test_pink_noise_falls_3_db_per_octave():
    x = generate("noise", rate=48000, duration_s=4.0, channels=4, color="pink", seed=3)
    power = np.sum(np.abs(np.fft.rfft(x, axis=0)) ** 2, axis=1)
    freqs = np.fft.rfftfreq(x.shape[0], 1 / 48000)
    lows = 100 * 2.0 ** np.arange(7)  # octaves from 100 Hz to 12.8 kHz
    band = np.array([np.sum(power[(freqs >= lo) & (freqs < 2 * lo)]) for lo in lows])
    # 1/f: every octave carries the same power (white noise would gain 3 dB per
    # octave). The lowest band holds 1600 periodogram bins: spread about 0.1 dB.
    np.testing.assert_allclose(10 * np.log10(band / np.mean(band)), 0.0, atol=0.35)
    slope = np.polyfit(np.log10(freqs[1:]), np.log10(power[1:]), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.02)
    np.testing.assert_allclose(np.sqrt(np.mean(x**2, axis=0)), 0.1, rtol=1e-12)


def test_noise_is_deterministic_per_seed_and_independent_per_channel():
    a = generate("noise", rate=8000, duration_s=0.5, channels=2, seed=42)
    b = generate("noise", rate=8000, duration_s=0.5, channels=2, seed=42)
    c = generate("noise", rate=8000, duration_s=0.5, channels=2, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[:, 0], a[:, 1])
    # Channel 0 of a two-channel file is the first spawned stream.
    single = generate("noise", rate=8000, duration_s=0.5, channels=1, seed=42)
    np.testing.assert_array_equal(single[:, 0], a[:, 0])


@pytest.mark.parametrize("bits", [1, 3, 8, 12])
def test_ramp_holds_every_code_once_in_ascending_order(bits):
    x = generate("ramp", bits=bits, channels=2)
    step = 2.0 / 2**bits
    assert x.shape == (2**bits, 2)
    codes = x[:, 0] / step
    np.testing.assert_array_equal(codes, np.arange(-(2 ** (bits - 1)), 2 ** (bits - 1)))
    # An ideal quantizer of the same depth returns it unchanged.
    q = np.clip(np.round(x / step) * step, -1.0, 1.0 - step)
    np.testing.assert_array_equal(q, x)


def test_a_finer_ramp_puts_equal_counts_in_every_coarser_code():
    x = generate("ramp", bits=10)[:, 0]
    step = 2.0 / 2**6
    codes = np.clip(np.round(x / step), -32, 31).astype(int)
    counts = np.bincount(codes + 32, minlength=64)
    # 2**(10 - 6) = 16 samples per 6-bit cell; the one on each decision level
    # is a tie, rounded half to even, so counts alternate 15 and 17.
    inner = counts[1:-1]
    assert set(inner.tolist()) == {15, 17}
    assert np.all(inner[:-1] + inner[1:] == 32)
    assert counts.sum() == 1024


def test_silence_is_zeros():
    x = generate("silence", rate=1000, duration_s=0.01, channels=2)
    np.testing.assert_array_equal(x, np.zeros((10, 2)))


@pytest.mark.parametrize(
    ("kind", "kwargs", "match"),
    [
        ("triangle", {}, "kind='triangle' is not one of"),
        ("sine", {"freq_hz": 24000.0}, "freq_hz=24000.0 must be in"),
        ("sine", {"freq_hz": -1.0}, "freq_hz=-1.0"),
        ("sine", {"level_dbfs": 3.0}, "level_dbfs=3.0 must be a number <= 0"),
        ("sine", {"coherent": "yes"}, "coherent='yes'"),
        ("sine", {"phase_rad": math.nan}, "phase_rad=nan"),
        ("sine", {"duration_s": 0.0}, "duration_s=0.0 must be a number > 0"),
        ("sine", {"duration_s": 1e-6}, "gives no frame"),
        ("sine", {"rate": 0}, "rate=0"),
        ("sine", {"channels": 0}, "channels=0"),
        ("sine", {"seed": -1}, "seed=-1"),
        ("sine", {"color": "pink"}, "unknown option 'color'"),
        ("silence", {"level_dbfs": -3.0}, r"allowed: none"),
        ("multitone", {"freqs_hz": []}, "freqs_hz=\\[\\]"),
        ("multitone", {"freqs_hz": [100.0, 100.0]}, "duplicates"),
        ("multitone", {"freqs_hz": 100.0}, "must be a list"),
        ("multitone", {"freqs_hz": [100.0, 30000.0]}, "freqs_hz=30000.0"),
        ("chirp", {"method": "cubic"}, "method='cubic' is not one of: linear, log"),
        ("chirp", {"f0_hz": 0.0}, "f0_hz=0.0"),
        ("chirp", {"f1_hz": 25000.0}, "f1_hz=25000.0"),
        ("noise", {"color": "brown"}, "color='brown' is not one of: white, pink"),
        ("noise", {"distribution": "cauchy"}, "distribution='cauchy'"),
        ("ramp", {"bits": 0}, "bits=0"),
        ("ramp", {"bits": 25}, "bits=25"),
    ],
)
def test_bad_options_raise_adcsim_error_naming_them(kind, kwargs, match):
    with pytest.raises(AdcsimError, match=match):
        generate(kind, **kwargs)


def test_linear_chirp_accepts_zero_start_frequency():
    x = generate(
        "chirp", rate=8000, duration_s=0.1, f0_hz=0.0, f1_hz=1000.0, method="linear"
    )
    assert x[0, 0] == 0.0
