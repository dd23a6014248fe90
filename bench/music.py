"""Music-like test inputs for the benchmark: synthesized once, kept in bench/work.

The WAVs `bench.py` times adcsim and sox on: a seeded, streaming synthesis of
music-like stereo content (chords with harmonics, bass, arpeggio, drums,
panning, echoes; peak -1 dBFS), written as 16- or 24-bit PCM, and the many
short mono files of the batch case. Each file is made the first time it is
asked for and reused while its length matches (``CONTENT_VERSION`` marks the
content). Not responsible for timing anything.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
SEED = 5
# Bump when the generated content changes, so stale files are not reused.
CONTENT_VERSION = 1
PEAK_DBFS = -1.0

Float = NDArray[np.float64]


# --------------------------------------------------------------------------
# Music-like test content
# --------------------------------------------------------------------------

# Four-chord progressions in C (I-vi-IV-V, ii-V-I-I, vi-IV-I-V, I-IV-V-IV),
# chords as (root, third, fifth) MIDI notes; one chord per 2 s bar at 120 bpm.
_CHORDS = {
    "C": (60, 64, 67),
    "Dm": (62, 65, 69),
    "Em": (64, 67, 71),
    "F": (65, 69, 72),
    "G": (67, 71, 74),
    "Am": (69, 72, 76),
}
_PROGRESSIONS = (
    ("C", "Am", "F", "G"),
    ("Dm", "G", "C", "C"),
    ("Am", "F", "C", "G"),
    ("C", "F", "G", "F"),
)
_TRANSPOSE = (0, 2, -3, 5)
_BEAT_S = 0.5
_BAR_BEATS = 4
_TAIL_S = 1.0


class MusicSynth:
    """Seeded, streaming music-like synthesis, one 2 s bar at a time.

    Pads with harmonics, plucked bass, an eighth-note arpeggio, kick, snare and
    hi-hat transients, constant-power panning and two echo taps, mixed by
    overlap-add so that notes ring across bar lines. Note waveforms are
    rendered once and cached, so ten minutes take a few seconds.

    Parameters
    ----------
    rate : int
        Sample rate in Hz.
    channels : int in {1, 2}
        Mono sums the stereo mix's pan positions to one channel.
    seed : int
        Seed of the generator that picks progressions, keys and velocities.
    """

    def __init__(self, *, rate: int, channels: int, seed: int = SEED) -> None:
        self.rate = rate
        self.channels = channels
        self.seed = seed
        self.bar = round(_BAR_BEATS * _BEAT_S * rate)
        self._cache: dict[tuple[str, int], NDArray[np.float32]] = {}

    def _note(self, kind: str, midi: int) -> NDArray[np.float32]:
        key = (kind, midi)
        if key not in self._cache:
            hz = 440.0 * 2.0 ** ((midi - 69) / 12)
            length_s, partials, tilt, decay_s = {
                "pad": (2.2, 10, 1.4, 1.4),
                "bass": (1.0, 6, 1.0, 0.5),
                "arp": (0.6, 8, 1.8, 0.25),
            }[kind]
            t = np.arange(round(length_s * self.rate)) / self.rate
            out = np.zeros_like(t)
            for k in range(1, partials + 1):
                if k * hz >= 0.45 * self.rate:
                    break
                out += (
                    k**-tilt * np.exp(-t * k / decay_s) * np.sin(2 * np.pi * k * hz * t)
                )
            attack = np.minimum(t / 0.01, 1.0)
            fade = np.minimum((t[-1] - t) / 0.05, 1.0)
            self._cache[key] = (out * attack * fade).astype(np.float32)
        return self._cache[key]

    def _drum(self, kind: str, rng: np.random.Generator) -> Float:
        t = np.arange(round(0.25 * self.rate)) / self.rate
        if kind == "kick":
            sweep = 45 * t + 75 * 0.03 * (1 - np.exp(-t / 0.03))
            return np.sin(2 * np.pi * sweep) * np.exp(-t / 0.07)
        noise = np.diff(rng.standard_normal(len(t) + 1))
        decay_s = 0.04 if kind == "snare" else 0.01
        return noise * np.exp(-t / decay_s)

    def _pan(self, position: float) -> Float:
        if self.channels == 1:
            return np.array([np.sqrt(0.5)])
        angle = (position + 1) * np.pi / 4
        return np.array([np.cos(angle), np.sin(angle)])

    def bars(self, count: int) -> Iterator[Float]:
        """Yield ``count`` bars as float64 ``(frames, channels)``, not normalized."""
        rng = np.random.default_rng(self.seed)
        tail = round(_TAIL_S * self.rate)
        acc = np.zeros((self.bar + tail, self.channels))
        beat = self.bar // _BAR_BEATS
        echo = (round(0.23 * self.rate), round(0.31 * self.rate))
        progression: tuple[str, ...] = _PROGRESSIONS[0]
        shift = 0
        for index in range(count):
            if index % 16 == 0:
                progression = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
                shift = _TRANSPOSE[int(rng.integers(len(_TRANSPOSE)))]
            triad = [n + shift for n in _CHORDS[progression[index % 4]]]
            events: list[tuple[int, Float | NDArray[np.float32], float, float]] = []
            for note in triad:
                events.append((0, self._note("pad", note), 0.08, -0.4))
            for b in (0, 2):
                events.append((b * beat, self._note("bass", triad[0] - 24), 0.2, 0.0))
                events.append((b * beat, self._drum("kick", rng), 0.4, 0.0))
            for b in (1, 3):
                events.append((b * beat, self._drum("snare", rng), 0.12, 0.1))
            for eighth in range(2 * _BAR_BEATS):
                start = eighth * beat // 2
                velocity = float(rng.uniform(0.6, 1.0))
                note = triad[int(rng.integers(3))] + 12
                events.append((start, self._note("arp", note), 0.08 * velocity, 0.5))
                if eighth % 2 == 1:
                    events.append((start, self._drum("hat", rng), 0.05 * velocity, 0.3))
            fresh = np.zeros_like(acc)
            for start, sig, gain, position in events:
                n = min(len(sig), fresh.shape[0] - start)
                fresh[start : start + n] += gain * np.outer(
                    sig[:n], self._pan(position)
                )
            # Two echo taps, one per side, for width and a sense of space.
            for ch in range(self.channels):
                delay = echo[ch % 2]
                fresh[delay:, ch] += 0.25 * fresh[:-delay, (ch + 1) % self.channels]
            acc += fresh
            yield acc[: self.bar].copy()
            acc = np.concatenate([acc[self.bar :], np.zeros((self.bar, self.channels))])
            acc = acc[: self.bar + tail]


def _pcm(x: Float, bits: int) -> bytes:
    """Round to ``bits``-bit codes (half to even), little-endian, interleaved.

    Examples
    --------
    >>> _pcm(np.array([[0.5, -1.0]]), 16).hex(), _pcm(np.array([[2**-23]]), 24).hex()
    ('00400080', '010000')
    """
    scale = float(2 ** (bits - 1))
    codes = np.clip(np.round(x * scale), -scale, scale - 1)
    if bits == 16:
        return codes.astype("<i2").tobytes()
    # 24 bits: the low three bytes of each little-endian int32.
    wide = codes.astype("<i4").reshape(-1, 1).view(np.uint8)
    return wide[:, :3].tobytes()


def _write_wav(
    path: Path, blocks: Iterator[Float], rate: int, channels: int, bits: int = 16
) -> None:
    """Write PCM blocks to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(bits // 8)
        out.setframerate(rate)
        for block in blocks:
            out.writeframes(_pcm(block, bits))
    tmp.replace(path)


def _wav_frames(path: Path) -> int | None:
    try:
        with wave.open(str(path), "rb") as f:
            return f.getnframes()
    except (OSError, wave.Error, EOFError):
        return None


def _peak_gain(synth: MusicSynth, bars: int) -> float:
    peak = max(float(np.max(np.abs(block))) for block in synth.bars(bars))
    return float(10 ** (PEAK_DBFS / 20) / peak)


def make_long_file(duration_s: int, *, rate: int = 44100, bits: int = 16) -> Path:
    """Make (once) the music-like stereo WAV of ``duration_s`` s, 16 or 24 bits.

    Both depths hold the same music (same seed and gain), rounded to their grid.
    """
    depth = "" if bits == 16 else f"-{bits}bit"
    path = WORK / f"music-{duration_s}s-{rate}hz-stereo{depth}-v{CONTENT_VERSION}.wav"
    frames = duration_s * rate
    if _wav_frames(path) == frames:
        return path
    WORK.mkdir(exist_ok=True)
    print(f"making {path.relative_to(HERE.parent)} ({duration_s} s) ...", flush=True)
    synth = MusicSynth(rate=rate, channels=2)
    bars = -(-frames // synth.bar)
    gain = _peak_gain(synth, bars)

    def blocks() -> Iterator[Float]:
        left = frames
        for block in synth.bars(bars):
            yield gain * block[:left]
            left -= min(left, len(block))

    _write_wav(path, blocks(), rate, 2, bits)
    return path


def make_batch_files(count: int, *, rate: int = 16000) -> list[Path]:
    """Make (once) ``count`` two-second 16 kHz mono 16-bit WAVs (one bar each)."""
    folder = WORK / f"batch-{count}x2s-{rate}hz-mono-v{CONTENT_VERSION}"
    paths = [folder / f"clip{i:04d}.wav" for i in range(count)]
    done = folder / "complete"
    if done.exists():
        return paths
    print(f"making {count} two-second files in {folder.relative_to(HERE.parent)} ...")
    folder.mkdir(parents=True, exist_ok=True)
    synth = MusicSynth(rate=rate, channels=1, seed=SEED + 1)
    gain = _peak_gain(synth, count)
    for path, block in zip(paths, synth.bars(count), strict=True):
        _write_wav(path, iter([gain * block]), rate, 1, 16)
    done.write_text(f"{count}\n")
    return paths
