"""Shared fixtures: a seeded generator, signal and WAV factories, a CliRunner.

Also registers and loads the hypothesis profile ``ci`` (derandomized, no
deadline, 50 examples), so property tests are reproducible everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50)
settings.load_profile("ci")

SEED = 20240531


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed: the same numbers on every run."""
    return np.random.default_rng(SEED)


def make_tone(
    freq: float = 1000.0,
    *,
    rate: int = 48000,
    frames: int = 4800,
    amplitude: float = 0.5,
    channels: int = 1,
    phase: float = 0.0,
) -> np.ndarray:
    """A ``(frames, channels)`` float64 sine; channel c is shifted by c * pi / 7."""
    t = np.arange(frames) / rate
    cols = [
        amplitude * np.sin(2 * np.pi * freq * t + phase + c * np.pi / 7)
        for c in range(channels)
    ]
    return np.stack(cols, axis=1)


def make_noise(
    *, frames: int = 4800, channels: int = 1, amplitude: float = 0.5, seed: int = SEED
) -> np.ndarray:
    """A ``(frames, channels)`` float64 uniform noise in [-amplitude, amplitude)."""
    gen = np.random.default_rng(seed)
    return amplitude * (2 * gen.random((frames, channels)) - 1)


@pytest.fixture
def tone() -> Callable[..., np.ndarray]:
    """Factory of sines: ``tone(freq=1000, rate=48000, frames=4800, ...)``."""
    return make_tone


@pytest.fixture
def noise() -> Callable[..., np.ndarray]:
    """Factory of seeded uniform noise: ``noise(frames=4800, channels=1, ...)``."""
    return make_noise


def write_wav(
    directory: Path,
    data: np.ndarray,
    rate: int = 48000,
    *,
    name: str = "in.wav",
    subtype: str = "PCM_16",
    format: str | None = None,
) -> Path:
    """Write ``data`` with soundfile (an independent writer) and return the path."""
    path = Path(directory) / name
    sf.write(str(path), np.asarray(data), rate, subtype=subtype, format=format)
    return path


@pytest.fixture
def wav_file() -> Callable[..., Path]:
    """Factory: ``wav_file(tmp_path, data, rate, subtype="PCM_16", name="in.wav")``."""
    return write_wav


@pytest.fixture
def runner() -> CliRunner:
    """A Click test runner (click >= 8.2 keeps stderr apart: ``result.stderr``)."""
    return CliRunner()
