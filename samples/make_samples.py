"""Regenerate the bundled sample WAVs in ``samples/`` (the recipe that made them).

The WAVs are committed: nothing needs this script at run time or in the tests.
It is here so that anyone can see, check and redo how every file was made.

* Speech is spoken by Debian's ``espeak-ng`` (needed **only** to regenerate the
  speech files: ``apt-get install espeak-ng``), trimmed of leading and trailing
  silence, placed in a fixed-length buffer, resampled with soxr (very high
  quality) and peak-normalized to -1 dBFS.
* Music-like audio is synthesized here in numpy from a seeded generator: an
  I-vi-IV-V chord progression (pad with harmonics, plucked bass and arpeggio),
  kick and hi-hat transients, constant-power stereo panning and a decaying-noise
  reverb, peak-normalized to -1 dBFS.

Integer PCM is rounded here (half to even) and written as integers, so the
files hold exactly the codes computed below whatever libsndfile's own
float-to-integer conversion does. Same script, same espeak-ng and numpy give the
same files (the music to within one LSB across numpy builds, whose
transcendental functions may differ in the last bit).

Usage::

    .venv/bin/python samples/make_samples.py            # rewrite samples/*.wav
    .venv/bin/python samples/make_samples.py --music-only
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
SEED = 20240521
PEAK_DBFS = -1.0
# espeak-ng's output rate (fixed by the program).
ESPEAK_RATE = 22050

Float = NDArray[np.float64]


@dataclass(frozen=True)
class Speech:
    """One speech sample: what espeak-ng says and how the file is stored."""

    name: str
    text: str
    voice: str
    rate: int
    subtype: str
    duration_s: float


@dataclass(frozen=True)
class Music:
    """One music-like sample: how it is rendered and stored."""

    name: str
    rate: int
    channels: int
    subtype: str
    duration_s: float


SPEECH = (
    Speech(
        "speech-mono-16k.wav",
        "Quantization turns a smooth wave into small steps.",
        "en-us",
        16000,
        "PCM_16",
        3.5,
    ),
    Speech(
        "speech-mono-44k.wav",
        "Eight bits give two hundred and fifty six levels.",
        "en-gb+f3",
        44100,
        "PCM_16",
        3.5,
    ),
    Speech(
        "speech-mono-16k-float.wav",
        "Quantization turns a smooth wave into small steps.",
        "en-us",
        16000,
        "FLOAT",
        3.5,
    ),
)

MUSIC = (
    Music("music-stereo-44k.wav", 44100, 2, "PCM_16", 4.0),
    Music("music-mono-48k-24bit.wav", 48000, 1, "PCM_24", 2.0),
)

# I-vi-IV-V in C major, one chord per second (120 bpm, two beats per chord),
# as MIDI note numbers: triad (pad and arpeggio) and bass root.
PROGRESSION = (
    ((60, 64, 67), 36),  # C
    ((57, 60, 64), 33),  # Am
    ((53, 57, 60), 29),  # F
    ((55, 59, 62), 31),  # G
)
BEAT_S = 0.5


def midi_to_hz(note: float) -> float:
    """Equal-tempered frequency of a MIDI note (A4 = 69 = 440 Hz).

    Examples
    --------
    >>> midi_to_hz(69), round(midi_to_hz(60), 3)
    (440.0, 261.626)
    """
    return float(440.0 * 2.0 ** ((note - 69) / 12))


def _tone(
    t: Float, hz: float, *, partials: int, tilt: float, decay_s: float, rate: int
) -> Float:
    """Sum of harmonics below Nyquist, amplitude k**-tilt, higher ones dying faster."""
    out = np.zeros_like(t)
    for k in range(1, partials + 1):
        if k * hz >= 0.45 * rate:
            break
        # Brighter attack than sustain, as in a plucked or struck string.
        env = np.exp(-t * k / decay_s)
        out += k**-tilt * env * np.sin(2 * np.pi * k * hz * t + 0.3 * k)
    return out


def _envelope(n: int, rate: int, *, attack_s: float, decay_s: float) -> Float:
    """Linear attack then exponential decay, ``n`` samples long."""
    t = np.arange(n) / rate
    attack = np.minimum(t / attack_s, 1.0)
    return attack * np.exp(-np.maximum(t - attack_s, 0.0) / decay_s)


def _add(buf: Float, start: int, sig: Float, gains: tuple[float, ...]) -> None:
    """Mix ``sig`` into ``buf`` from frame ``start``, one gain per channel."""
    n = min(len(sig), buf.shape[0] - start)
    if n <= 0:
        return
    for ch, g in enumerate(gains):
        buf[start : start + n, ch] += g * sig[:n]


def _pan(position: float, channels: int) -> tuple[float, ...]:
    """Constant-power pan gains, position in [-1 (left), 1 (right)]."""
    if channels == 1:
        return (1.0,)
    angle = (position + 1) * np.pi / 4
    return (float(np.cos(angle)), float(np.sin(angle)))


def render_music(
    *, rate: int, channels: int, duration_s: float, seed: int = SEED
) -> Float:
    """Render the music-like sample as float64 ``(frames, channels)``, peak -1 dBFS.

    Examples
    --------
    >>> x = render_music(rate=8000, channels=2, duration_s=0.5)
    >>> x.shape, round(float(20 * np.log10(np.max(np.abs(x)))), 6)
    ((4000, 2), -1.0)
    """
    rng = np.random.default_rng(seed)
    frames = round(duration_s * rate)
    # Render past the end so that notes and reverb tails are cut, not missing.
    tail = round(1.5 * rate)
    dry = np.zeros((frames + tail, channels))
    beat = round(BEAT_S * rate)
    n_beats = -(-frames // beat)
    for b in range(n_beats):
        triad, root = PROGRESSION[(b // 2) % len(PROGRESSION)]
        start = b * beat
        n = 2 * beat + tail
        t = np.arange(n) / rate
        if b % 2 == 0:
            # Pad: the triad, slightly detuned partials, left of centre.
            for note in triad:
                hz = midi_to_hz(note) * (1 + rng.uniform(-0.002, 0.002))
                sig = _tone(t, hz, partials=10, tilt=1.4, decay_s=1.2, rate=rate)
                sig *= _envelope(n, rate, attack_s=0.03, decay_s=1.5)
                _add(dry, start, 0.10 * sig, _pan(-0.35, channels))
            # Bass: plucked root, centre.
            sig = _tone(
                t, midi_to_hz(root), partials=6, tilt=1.0, decay_s=0.4, rate=rate
            )
            sig *= _envelope(n, rate, attack_s=0.005, decay_s=0.6)
            _add(dry, start, 0.22 * sig, _pan(0.0, channels))
        # Arpeggio: eighth notes over the triad an octave up, right of centre.
        for half in range(2):
            note = triad[(2 * b + half) % 3] + 12
            s = start + half * beat // 2
            m = beat + tail // 3
            tt = np.arange(m) / rate
            sig = _tone(
                tt, midi_to_hz(note), partials=8, tilt=1.8, decay_s=0.25, rate=rate
            )
            sig *= _envelope(m, rate, attack_s=0.004, decay_s=0.3)
            velocity = rng.uniform(0.8, 1.0)
            _add(dry, s, 0.09 * velocity * sig, _pan(0.5, channels))
        # Kick on beats 1 and 3 of each bar: a fast downward sine sweep.
        if b % 2 == 0:
            m = round(0.25 * rate)
            tt = np.arange(m) / rate
            phase = 2 * np.pi * (45 * tt + (120 - 45) * 0.03 * (1 - np.exp(-tt / 0.03)))
            sig = np.sin(phase) * np.exp(-tt / 0.07)
            _add(dry, start, 0.45 * sig, _pan(0.0, channels))
        # Hi-hat on the off-beat: differenced (high-passed) seeded noise burst.
        m = round(0.06 * rate)
        noise = np.diff(rng.standard_normal(m + 1))
        sig = noise * np.exp(-np.arange(m) / (0.012 * rate))
        _add(dry, start + beat // 2, 0.05 * sig, _pan(0.3, channels))

    wet = np.empty_like(dry)
    ir_n = round(1.2 * rate)
    # Reverb: exponentially decaying seeded noise (RT60 about 0.9 s), a different
    # impulse response per channel so the tails decorrelate, convolved by FFT.
    decay = np.exp(-6.9 * np.arange(ir_n) / (0.9 * rate))
    size = 1 << int(np.ceil(np.log2(dry.shape[0] + ir_n)))
    for ch in range(channels):
        ir = rng.standard_normal(ir_n) * decay
        ir *= 0.35 / np.sqrt(np.sum(ir**2))
        conv = np.fft.irfft(np.fft.rfft(dry[:, ch], size) * np.fft.rfft(ir, size), size)
        wet[:, ch] = conv[: dry.shape[0]]
    mix = (dry + wet)[:frames]
    # 20 ms fade out so the cut end does not click.
    fade = min(frames, round(0.02 * rate))
    mix[frames - fade :] *= np.linspace(1.0, 0.0, fade)[:, None]
    return normalize_peak(mix)


def normalize_peak(x: Float, peak_dbfs: float = PEAK_DBFS) -> Float:
    """Scale ``x`` so that its largest magnitude is ``peak_dbfs``.

    Examples
    --------
    >>> normalize_peak(np.array([[0.5], [-0.25]]), -6.0).ravel().round(4)
    array([ 0.5012, -0.2506])
    """
    gain = 10 ** (peak_dbfs / 20) / float(np.max(np.abs(x)))
    return x * gain


def speak(text: str, voice: str) -> Float:
    """Run espeak-ng and return its 22.05 kHz mono output as float64 in [-1, 1)."""
    import soundfile as sf

    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit(
            "make_samples: espeak-ng is needed only to regenerate the speech "
            "samples; install it (apt-get install espeak-ng) or use --music-only"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            [exe, "-v", voice, "-s", "165", "-w", str(path), text], check=True
        )
        x, rate = sf.read(path, dtype="float64")
    if rate != ESPEAK_RATE or x.ndim != 1:
        sys.exit(
            f"make_samples: unexpected espeak-ng output rate={rate} shape={x.shape}"
        )
    return np.asarray(x, dtype=np.float64)


def render_speech(spec: Speech) -> Float:
    """Speak, trim silence, place at 0.2 s in the fixed-length buffer, resample."""
    import soxr

    x = speak(spec.text, spec.voice)
    loud = np.flatnonzero(np.abs(x) > 0.005 * np.max(np.abs(x)))
    x = x[loud[0] : loud[-1] + 1]
    length = round(spec.duration_s * ESPEAK_RATE)
    lead = round(0.2 * ESPEAK_RATE)
    if lead + len(x) > length:
        sys.exit(f"make_samples: '{spec.text}' is too long for {spec.duration_s} s")
    buf = np.zeros(length)
    buf[lead : lead + len(x)] = x
    y = soxr.resample(buf, ESPEAK_RATE, spec.rate, quality="VHQ")
    frames = round(spec.duration_s * spec.rate)
    # soxr returns round(len * out_rate / in_rate) frames; fix the length exactly.
    y = np.pad(y, (0, max(0, frames - len(y))))[:frames]
    return normalize_peak(y[:, None])


def write(path: Path, x: Float, rate: int, subtype: str) -> None:
    """Write ``x`` (float, full scale [-1, 1)) exactly as rounded integer codes."""
    import soundfile as sf

    data: NDArray[Any]
    if subtype == "PCM_16":
        data = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
    elif subtype == "PCM_24":
        codes = np.clip(np.round(x * 2**23), -(2**23), 2**23 - 1).astype(np.int32)
        # libsndfile stores the top 24 bits of int32 data in a PCM_24 file.
        data = codes << 8
    elif subtype == "FLOAT":
        _write_float_wav(path, x.astype("<f4"), rate)
        return
    else:
        raise ValueError(f"unsupported subtype {subtype!r}")
    sf.write(path, data, rate, subtype=subtype)


def _write_float_wav(path: Path, data: NDArray[np.float32], rate: int) -> None:
    """Write a 32-bit float WAV by hand (byte-reproducible).

    libsndfile adds a PEAK chunk holding the write time to float WAVs, so two
    runs would differ; this writes RIFF/WAVE with a WAVE_FORMAT_IEEE_FLOAT (3)
    ``fmt`` chunk with ``cbSize`` = 0 and the ``fact`` chunk that non-PCM
    formats require (Microsoft, "Multimedia Programming Interface and Data
    Specifications 1.0", 1991, and the WAVEFORMATEX documentation).
    """
    frames, channels = data.shape
    payload = np.ascontiguousarray(data).tobytes()
    block_align = 4 * channels
    fmt = struct.pack(
        "<HHIIHHH", 3, channels, rate, rate * block_align, block_align, 32, 0
    )
    chunks = (
        b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<II", 4, frames)
        + b"data"
        + struct.pack("<I", len(payload))
        + payload
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def main(argv: list[str] | None = None) -> int:
    """Rewrite the sample files; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music-only", action="store_true", help="skip espeak-ng")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="default: samples/")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for music in MUSIC:
        x = render_music(
            rate=music.rate, channels=music.channels, duration_s=music.duration_s
        )
        write(args.out_dir / music.name, x, music.rate, music.subtype)
        print(f"wrote {args.out_dir / music.name}")
    if not args.music_only:
        for speech in SPEECH:
            x = render_speech(speech)
            write(args.out_dir / speech.name, x, speech.rate, speech.subtype)
            print(f"wrote {args.out_dir / speech.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
