"""Time ``adcsim quantize`` against the equivalent sox command, side by side.

This is what ``make bench`` runs (issues 2 and 5). It needs sox (Debian:
``apt-get install sox``) and the Python that runs it with numpy and adcsim
installed; it installs nothing. It makes a music-like 10-minute 44.1 kHz stereo
16-bit WAV once (numpy, seeded; kept in ``bench/work/``, which git ignores),
then runs each adcsim command and its sox equivalent alternately (A B A B ...)
after one warm-up pair, timing each whole process (``time.perf_counter``
around it) and reading its peak resident memory from ``os.wait4``. It prints
medians, min/max, the median of the pairwise ratios adcsim/sox and a verdict
per target, and writes the same tables as Markdown to ``bench/results.md``.

adcsim runs as ``sys.executable -m adcsim``, so the interpreter that runs this
script (the venv's) is the one measured. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results.md"
SEED = 5
# Bump when the generated content changes, so stale files are not reused.
CONTENT_VERSION = 1
PEAK_DBFS = -1.0

Float = NDArray[np.float64]
Check = tuple[str, str, str, bool | None]


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


def _pcm16(x: Float) -> bytes:
    """Round to 16-bit codes (half to even), little-endian, interleaved."""
    codes = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    return codes.tobytes()


def _write_wav(path: Path, blocks: Iterator[Float], rate: int, channels: int) -> None:
    """Write 16-bit PCM blocks to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        for block in blocks:
            out.writeframes(_pcm16(block))
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


def make_long_file(duration_s: int, *, rate: int = 44100) -> Path:
    """Make (once) the music-like stereo 16-bit WAV of ``duration_s`` seconds."""
    path = WORK / f"music-{duration_s}s-{rate}hz-stereo-v{CONTENT_VERSION}.wav"
    frames = duration_s * rate
    if _wav_frames(path) == frames:
        return path
    print(f"making {path.relative_to(HERE.parent)} ({duration_s} s) ...", flush=True)
    synth = MusicSynth(rate=rate, channels=2)
    bars = -(-frames // synth.bar)
    gain = _peak_gain(synth, bars)

    def blocks() -> Iterator[Float]:
        left = frames
        for block in synth.bars(bars):
            yield gain * block[:left]
            left -= min(left, len(block))

    _write_wav(path, blocks(), rate, 2)
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
        _write_wav(path, iter([gain * block]), rate, 1)
    done.write_text(f"{count}\n")
    return paths


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed process: wall time, peak resident memory and exit code."""

    wall_s: float
    rss_mib: float
    returncode: int


# The spawner runs in its own small interpreter (standard library only). Linux
# records the spawning process's resident high-water mark into a child's
# ru_maxrss when the child calls exec (fs/exec.c, setmax_mm_hiwater_rss), so
# children spawned from this script (numpy, generated audio) would all report
# this script's peak. Spawned from the spawner, they report at least its few MiB
# (the floor, measured with `true` and printed), and otherwise their own peak.
_SPAWNER = r"""
import json, os, sys, time
null = os.devnull
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
for line in sys.stdin:
    req = json.loads(line)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, req["log"], flags, 0o644),
    ]
    start = time.perf_counter()
    pid = os.posix_spawnp(req["cmd"][0], req["cmd"], os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps([wall, usage.ru_maxrss, code]), flush=True)
"""


class Spawner:
    """Times whole processes from a small helper interpreter (see `_SPAWNER`).

    The helper measures ``time.perf_counter`` around ``posix_spawnp`` and
    ``os.wait4``, whose rusage gives the child's peak resident set (Linux
    ``ru_maxrss``, KiB; for a shell loop or a worker pool, the largest of the
    child and the descendants it waited for, not their sum). stderr of each
    command goes to a file, since a pipe could fill and stall the child.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SPAWNER],
            cwd=WORK,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.floor_mib = self.run(["true"], log=WORK / "floor-stderr.txt").rss_mib

    def run(self, cmd: Sequence[str], *, log: Path) -> Sample:
        """Run ``cmd`` (cwd ``bench/work``) to completion; time it, read its rusage."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"cmd": list(cmd), "log": str(log)}) + "\n")
        self._proc.stdin.flush()
        reply = self._proc.stdout.readline()
        if not reply:
            raise BenchError(f"the spawner died running {shlex.join(cmd)}")
        wall, rss_kib, code = json.loads(reply)
        return Sample(float(wall), rss_kib / 1024, int(code))

    def close(self) -> None:
        """Stop the helper."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait()


@dataclass
class Series:
    """The timed runs of one command."""

    label: str
    cmd: list[str]
    prepare: Callable[[], None] | None = None
    samples: list[Sample] = field(default_factory=list)
    #: How to show the command in results.md (when it lists many files).
    shown: str | None = None

    @property
    def walls(self) -> list[float]:
        """Wall times in seconds, in run order."""
        return [s.wall_s for s in self.samples]

    @property
    def median_s(self) -> float:
        """Median wall time in seconds."""
        return statistics.median(self.walls)

    def peak_rss(self, floor_mib: float) -> str:
        """Largest peak RSS over the runs in MiB; ``<= floor`` when at the floor.

        Examples
        --------
        >>> s = Series("sox", ["sox"], samples=[Sample(0.1, 9.2, 0)])
        >>> s.peak_rss(9.0), s.peak_rss(4.0)
        ('<= 9', '9')
        """
        peak = max(x.rss_mib for x in self.samples)
        if peak <= floor_mib + 0.5:
            return f"<= {floor_mib:.0f}"
        return f"{peak:.0f}"


class BenchError(Exception):
    """A command failed while being timed."""


def alternate(
    spawner: Spawner, series: list[Series], *, runs: int, warmup: int = 1
) -> None:
    """Run every series once per round (A B A B ...), ``warmup`` rounds untimed."""
    log = WORK / "last-stderr.txt"
    for round_ in range(warmup + runs):
        parts = []
        for s in series:
            if s.prepare is not None:
                s.prepare()
            sample = spawner.run(s.cmd, log=log)
            if sample.returncode != 0:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                command = shlex.join(s.cmd)
                if len(command) > 300:  # a batch names a thousand files
                    command = command[:300] + " ..."
                raise BenchError(
                    f"{s.label} exited {sample.returncode}: {command}\n    "
                    + "\n    ".join(tail)
                )
            if round_ >= warmup:
                s.samples.append(sample)
            parts.append(f"{s.label} {sample.wall_s:.3f} s")
        tag = "warm-up" if round_ < warmup else f"run {round_ - warmup + 1}"
        print(f"    {tag}: " + ", ".join(parts), flush=True)


def pairwise_median(num: Series, den: Series, scale: float = 1.0) -> float:
    """Median over rounds of ``scale * num[i] / den[i]``.

    Examples
    --------
    >>> a, b = Series("a", []), Series("b", [])
    >>> a.samples = [Sample(w, 0.0, 0) for w in (1.0, 3.0, 2.0)]
    >>> b.samples = [Sample(w, 0.0, 0) for w in (2.0, 2.0, 1.0)]
    >>> pairwise_median(a, b)
    1.5
    """
    return statistics.median(
        scale * x / y for x, y in zip(num.walls, den.walls, strict=True)
    )


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one case measured: its series, its checks and any notes."""

    key: str
    title: str
    series: list[Series] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None


def _verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "info"}[ok]


def _adcsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "adcsim", *args]


def _failure(code: int) -> str:
    """Describe a probe's exit code: 2 is a usage error, anything else a failure.

    Examples
    --------
    >>> _failure(2), _failure(1)
    ('rejected', 'failed on')
    """
    return "rejected" if code == 2 else "failed on"


def _probe(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` once untimed; return its exit code and last stderr line."""
    proc = subprocess.run(cmd, cwd=WORK, capture_output=True, text=True, check=False)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode, (lines[-1] if lines else "")


def _clear(*paths: Path) -> Callable[[], None]:
    """Return a function that deletes ``paths`` (files and their report/plot)."""

    def clear() -> None:
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path)
                path.mkdir()
                continue
            for p in (path, path.with_suffix(".json"), path.with_suffix(".png")):
                p.unlink(missing_ok=True)

    return clear


#: Bytes an input of the batch case leaves: its 8-bit audio and its report.
_BATCH_OUTPUT_BYTES = 40_000


def _set_aside(folder: Path, spent: Path) -> Callable[[], None]:
    """Return a function that moves ``folder`` into ``spent`` and makes it empty.

    Deleting a run's thousand outputs just before the next run made that run
    pay for the deletion: ext4 without a journal (as here) passes over each
    recently freed inode one at a time whenever it allocates one
    (fs/ext4/ialloc.c, find_inode_bit and recently_deleted), and a batch
    allocates two per input. Measured here on 1000 files, system time of
    ``--jobs 1`` went from 0.56 s to 1.07 s, and ``--jobs 2`` lost more
    than ``--jobs 1``. A rename frees nothing; ``spent`` is deleted when the
    case is over.
    """
    rounds = iter(range(1 << 30))

    def set_aside() -> None:
        if folder.exists() and any(folder.iterdir()):
            folder.rename(spent / f"{folder.name}-{next(rounds)}")
        folder.mkdir(exist_ok=True)

    return set_aside


def _soxi(path: Path) -> tuple[str, str, str]:
    out = subprocess.run(
        ["sox", "--i", "-r", "-c", "-s", str(path)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return (out[0], out[1], out[2]) if len(out) == 3 else ("?", "?", "?")


class Bench:
    """The benchmark: inputs, options and the seven cases (issue 5 and memory)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.runs: int = args.runs
        self.out = WORK / "out"
        self.out.mkdir(parents=True, exist_ok=True)
        self.spawner = Spawner()
        self.long = make_long_file(args.duration)
        self.probe = WORK / "probe-44k-stereo.wav"
        if _wav_frames(self.probe) is None:
            synth = MusicSynth(rate=44100, channels=2)
            _write_wav(self.probe, (0.5 * b for b in synth.bars(1)), 44100, 2)

    def _file_case(
        self,
        key: str,
        title: str,
        adcsim_variants: list[tuple[list[str], str]],
        sox_args: list[str],
        sox_effects: list[str],
        out_name: str,
        targets: dict[str, float],
    ) -> Outcome:
        """Time adcsim (first variant it accepts) against sox on the long file.

        ``targets`` maps an issue to its ratio limit (issue 5's are tighter).
        """
        outcome = Outcome(key, title)
        a_out = self.out / out_name
        b_out = self.out / ("sox-" + out_name)
        sox_cmd = ["sox", "-D", str(self.long), *sox_args, str(b_out), *sox_effects]
        chosen: list[str] | None = None
        for args, note in adcsim_variants:
            probe_out = self.out / ("probe-" + out_name)
            cmd = _adcsim("quantize", str(self.probe), *args, "-o", str(probe_out))
            if self.args.sox_vs_sox:
                cmd = [c.replace(str(self.long), str(self.probe)) for c in sox_cmd]
                cmd[cmd.index(str(b_out))] = str(probe_out)
            code, line = _probe(cmd)
            _clear(probe_out)()
            if code == 0:
                chosen = args
                if note:
                    outcome.notes.append(note)
                break
            outcome.notes.append(
                f"adcsim {_failure(code)} `{shlex.join(args)}` (exit {code}: {line})"
            )
        if chosen is None:
            outcome.skipped = "; ".join(outcome.notes)
            return outcome
        a_cmd = _adcsim("quantize", str(self.long), *chosen, "-o", str(a_out))
        if self.args.sox_vs_sox:
            a_cmd = [c if c != str(b_out) else str(a_out) for c in sox_cmd]
        outcome.series = [
            Series("adcsim", a_cmd, _clear(a_out)),
            Series("sox", sox_cmd, _clear(b_out)),
        ]
        alternate(self.spawner, outcome.series, runs=self.runs)
        a_fmt, b_fmt = _soxi(a_out), _soxi(b_out)
        if a_fmt != b_fmt:
            outcome.notes.append(
                f"outputs differ in rate/channels/frames: adcsim {a_fmt}, sox {b_fmt}"
            )
        a, b = outcome.series
        ratio = pairwise_median(a, b)
        spread = [x / y for x, y in zip(a.walls, b.walls, strict=True)]
        for issue, target in targets.items():
            outcome.checks.append(
                (
                    f"time ratio adcsim/sox ({issue})",
                    f"{ratio:.2f}x ({min(spread):.2f}-{max(spread):.2f})",
                    f"<= {target:.1f}x",
                    ratio <= target,
                )
            )
        return outcome

    def requantize(self) -> Outcome:
        """Case 1: requantize to 8 bits, no dither on either side."""
        return self._file_case(
            "1",
            "requantize to 8 bits",
            [(["-b", "8", "--no-plot", "--no-report", "--force", "-q"], "")],
            ["-b", "8"],
            [],
            "requant8.wav",
            {"issue 5": 1.0, "issue 2": 2.0},
        )

    def mulaw(self) -> Outcome:
        """Case 2: 8-bit mu-law (G.711 if adcsim has it, else the compander)."""
        common = ["--no-plot", "--no-report", "--force", "-q"]
        fallback = (
            "g711-mulaw not accepted: timed the continuous compander `-s mulaw -b 8`"
        )
        return self._file_case(
            "2",
            "mu-law 8 bits",
            [
                (["-s", "g711-mulaw", "--subtype", "ULAW", *common], ""),
                (["-s", "mulaw", "-b", "8", "--subtype", "ULAW", *common], fallback),
                (
                    ["-s", "mulaw", "-b", "8", *common],
                    fallback + " (default container)",
                ),
            ],
            ["-e", "u-law"],
            [],
            "mulaw8.wav",
            {"issue 5": 1.0, "issue 2": 2.0},
        )

    def resample(self) -> Outcome:
        """Case 3: resample to 16 kHz and quantize to 16 bits."""
        return self._file_case(
            "3",
            "resample to 16 kHz + 16 bits",
            [
                (
                    [
                        "-r",
                        "16000",
                        "-b",
                        "16",
                        "--no-plot",
                        "--no-report",
                        "--force",
                        "-q",
                    ],
                    "",
                )
            ],
            ["-b", "16"],
            ["rate", "-h", "16000"],
            "rate16k.wav",
            {"issue 5": 1.0, "issue 2": 2.0},
        )

    def full(self) -> Outcome:
        """Case 4: the default run with report and plot, against sox's requantize."""
        return self._file_case(
            "4",
            "full default run (report + plot) vs sox requantize",
            [(["-b", "8", "--force", "-q"], "")],
            ["-b", "8"],
            [],
            "full8.wav",
            {"issue 5": 3.0, "issue 2": 4.0},
        )

    def startup(self) -> Outcome:
        """Case 5: ``adcsim --version``, absolute; ``sox --version`` for reference."""
        outcome = Outcome("5", "start-up: --version")
        a_cmd = _adcsim("--version")
        if self.args.sox_vs_sox:
            a_cmd = ["sox", "--version"]
        code, line = _probe(a_cmd)
        if code != 0:
            outcome.skipped = f"`adcsim --version` exited {code}: {line}"
            return outcome
        outcome.series = [Series("adcsim", a_cmd), Series("sox", ["sox", "--version"])]
        alternate(self.spawner, outcome.series, runs=max(self.runs, 10))
        median_ms = 1000 * outcome.series[0].median_s
        outcome.checks.append(
            ("median wall time", f"{median_ms:.0f} ms", "< 150 ms", median_ms < 150)
        )
        return outcome

    def memory(self) -> Outcome:
        """Case 7: peak memory of the default run on a 60-minute 48 kHz stereo file."""
        minutes = 6 if self.args.quick else 60
        outcome = Outcome("7", f"memory: default run, {minutes}-minute 48 kHz stereo")
        source = make_long_file(minutes * 60, rate=48000)
        out = self.out / "memory.wav"
        cmd = _adcsim(
            "quantize", str(source), "-b", "8", "-o", str(out), "--force", "-q"
        )
        outcome.series = [Series("adcsim", cmd, _clear(out))]
        alternate(self.spawner, outcome.series, runs=1, warmup=0)
        peak = max(x.rss_mib for x in outcome.series[0].samples)
        outcome.checks.append(
            ("peak resident memory", f"{peak:.0f} MiB", "< 250 MiB", peak < 250)
        )
        return outcome

    def batch(self) -> Outcome:
        """Case 6: many short files with --jobs 2, --jobs 1 and one process each."""
        count = self.args.batch_files
        outcome = Outcome("6", f"batch: {count} two-second files")
        if self.args.sox_vs_sox:
            outcome.skipped = "not applicable with --sox-vs-sox"
            return outcome
        files = [str(p) for p in make_batch_files(count)]
        glob = str(Path(files[0]).parent / "clip*.wav")
        common = ["-b", "8", "--no-plot", "--force", "-q"]
        dirs = {j: self.out / f"batch-{j}" for j in ("j2", "j1", "loop", "probe")}
        spent = self.out / "batch-spent"
        shutil.rmtree(spent, ignore_errors=True)  # left by an interrupted bench
        spent.mkdir()
        subset = files[: min(count, self.args.loop_files)]
        needed = (self.runs + 2) * (2 * count + len(subset)) * _BATCH_OUTPUT_BYTES
        if shutil.disk_usage(self.out).free > 2 * needed:
            prepare = {k: _set_aside(d, spent) for k, d in dirs.items()}
        else:
            prepare = {k: _clear(d) for k, d in dirs.items()}
            outcome.notes.append(
                "outputs deleted before each run for want of disk space, which "
                "slows file creation on ext4 without a journal"
            )

        def jobs(n: int, inputs: list[str], out: Path) -> list[str]:
            return _adcsim(
                "quantize", *inputs, *common, "--out-dir", str(out), "--jobs", str(n)
            )

        for make_empty in prepare.values():
            make_empty()
        code, line = _probe(jobs(2, files[:2], dirs["probe"]))
        if code != 0:
            outcome.skipped = f"adcsim {_failure(code)} --jobs (exit {code}: {line})"
            return outcome
        loop_args = shlex.join([*common, "--out-dir", str(dirs["loop"])])
        loop = (
            f'for f in "$@"; do "$0" -m adcsim quantize "$f" {loop_args} '
            "|| exit 1; done"
        )
        outcome.series = [
            Series(
                "jobs 2",
                jobs(2, files, dirs["j2"]),
                prepare["j2"],
                shown=shlex.join(jobs(2, ["GLOB"], dirs["j2"])).replace("GLOB", glob),
            ),
            Series(
                "jobs 1",
                jobs(1, files, dirs["j1"]),
                prepare["j1"],
                shown=shlex.join(jobs(1, ["GLOB"], dirs["j1"])).replace("GLOB", glob),
            ),
            Series(
                f"loop ({len(subset)} files)",
                ["sh", "-c", loop, sys.executable, *subset],
                prepare["loop"],
                shown=shlex.join(["sh", "-c", loop, sys.executable])
                + f" <the first {len(subset)} files>",
            ),
        ]
        try:
            alternate(self.spawner, outcome.series, runs=self.runs)
        finally:
            shutil.rmtree(spent, ignore_errors=True)
        for key, expected in (("j2", count), ("j1", count), ("loop", len(subset))):
            made = len(list(dirs[key].glob("*.wav")))
            if made != expected:
                outcome.notes.append(f"{key}: {made} output WAVs, expected {expected}")
        j2, j1, per = outcome.series
        speedup = pairwise_median(j1, j2)
        ahead = pairwise_median(per, j2, scale=count / len(subset))
        outcome.checks += [
            (
                "throughput jobs 2 / jobs 1",
                f"{speedup:.2f}x",
                ">= 1.7x",
                speedup >= 1.7,
            ),
            (
                "throughput jobs 2 / one process per file",
                f"{ahead:.1f}x",
                ">= 2x",
                ahead >= 2,
            ),
            ("files per second with jobs 2", f"{count / j2.median_s:.0f}", "", None),
        ]
        outcome.notes.append(
            f"one process per file is timed on the first {len(subset)} files and "
            "scaled per file; issue 5 asks it to be 'far ahead', judged here as >= 2x"
        )
        return outcome


# --------------------------------------------------------------------------
# Machine description and output
# --------------------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, cwd=WORK
        )
    except OSError:
        return "not available"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if proc.returncode == 0 and text else "not available"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine() -> list[tuple[str, str]]:
    """Return (item, value) pairs: CPU, cores, memory, OS and tool versions."""
    cpu = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    sox = _first_line(["sox", "--version"]).replace("sox:", "").strip()
    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} ({usable} usable)"),
        ("memory", mem),
        ("load average at start", load),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("adcsim", _first_line(_adcsim("--version"))),
        ("soundfile / soxr", f"{_version('soundfile')} / {_version('soxr')}"),
        ("sox", sox),
    ]


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def to_markdown(
    outcomes: list[Outcome],
    machine: list[tuple[str, str]],
    args: argparse.Namespace,
    floor_mib: float,
) -> str:
    """Format the machine, the timings and the verdicts as Markdown."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if args.quick else "full"
    lines = [
        "# adcsim vs sox: benchmark results",
        "",
        f"`bench/bench.py` ({mode}: {args.duration} s 44.1 kHz stereo 16-bit input, "
        f"{args.runs} runs after one warm-up, alternating), {when}. "
        f"Peak RSS is the largest over the runs; values at the {floor_mib:.0f} MiB "
        "floor of the spawning helper are shown as `<= floor`.",
        "",
        _row(["machine", ""]),
        _row(["---", "---"]),
        *(_row([k, v]) for k, v in machine),
        "",
        "## Times (whole process, wall clock)",
        "",
        _row(["case", "command", "median s", "min - max s", "peak RSS MiB"]),
        _row(["---", "---", "---:", "---:", "---:"]),
    ]
    for o in outcomes:
        if o.skipped:
            lines.append(_row([f"{o.key}. {o.title}", "skipped", "", "", ""]))
            continue
        for s in o.series:
            lines.append(
                _row(
                    [
                        f"{o.key}. {o.title}",
                        s.label,
                        f"{s.median_s:.3f}",
                        f"{min(s.walls):.3f} - {max(s.walls):.3f}",
                        s.peak_rss(floor_mib),
                    ]
                )
            )
    lines += [
        "",
        "## Targets (issue 5; issue 2's looser ones beside them)",
        "",
        _row(["case", "measure", "measured", "target", "verdict"]),
        _row(["---", "---", "---:", "---", "---"]),
    ]
    for o in outcomes:
        if o.skipped:
            lines.append(
                _row([f"{o.key}. {o.title}", "", "", "", f"skipped: {o.skipped}"])
            )
        for name, value, target, ok in o.checks:
            lines.append(
                _row([f"{o.key}. {o.title}", name, value, target, _verdict(ok)])
            )
    notes = [f"- case {o.key}: {n}" for o in outcomes for n in o.notes if not o.skipped]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", "Commands:", ""]
    for o in outcomes:
        for s in o.series:
            cmd = (s.shown or shlex.join(s.cmd)).replace(sys.executable, "python")
            cmd = cmd.replace(str(HERE.parent) + "/", "")
            lines.append(f"- {o.key}, {s.label}: `{cmd}`")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        description="Time adcsim quantize against the equivalent sox commands."
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs per command (5; quick: 3)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke check: 1-minute file, 3 runs, 200 batch files",
    )
    parser.add_argument(
        "--cases", default="1,2,3,4,5,6,7", help="comma-separated case numbers (all)"
    )
    parser.add_argument(
        "--batch-files",
        type=int,
        default=None,
        help="files in case 6 (1000; quick: 200)",
    )
    parser.add_argument(
        "--loop-files",
        type=int,
        default=None,
        help="files timed one process each in case 6 (100; quick: 20)",
    )
    parser.add_argument(
        "--sox-vs-sox",
        action="store_true",
        help="check the harness: time sox against itself (ratios should be near 1)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="Markdown results (bench/results.md)",
    )
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    args.duration = 60 if args.quick else 600
    if args.batch_files is None:
        args.batch_files = 200 if args.quick else 1000
    if args.loop_files is None:
        args.loop_files = 20 if args.quick else 100
    if args.runs < 1 or args.batch_files < 2 or args.loop_files < 1:
        parser.error("--runs, --loop-files must be >= 1 and --batch-files >= 2")
    args.cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    if not args.cases <= set("1234567"):
        parser.error(f"--cases={','.join(sorted(args.cases))}: choose among 1 to 7")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases; print and write the results. Exit 0 even on FAIL."""
    args = parse_args(argv)
    if shutil.which("sox") is None:
        print(
            "bench: sox is not installed; it is the reference this benchmark times "
            "adcsim against. Install it (Debian/Ubuntu: apt-get install sox) and run "
            "again.",
            file=sys.stderr,
        )
        return 2
    WORK.mkdir(exist_ok=True)
    compile_adcsim()
    machine = describe_machine()
    width = max(len(k) for k, _ in machine)
    for k, v in machine:
        print(f"{k:<{width}}  {v}")
    if args.sox_vs_sox:
        print("--sox-vs-sox: the 'adcsim' side runs the sox command too")
    bench = Bench(args)
    print(f"peak RSS floor of the spawning helper: {bench.spawner.floor_mib:.1f} MiB")
    try:
        outcomes, failed = run_cases(bench, args)
    finally:
        bench.spawner.close()
    markdown = to_markdown(outcomes, machine, args, bench.spawner.floor_mib)
    args.output.write_text(markdown, encoding="utf-8")
    print(f"\nwrote {args.output}")
    return 1 if failed else 0


def compile_adcsim() -> None:
    """Compile adcsim's modules to bytecode, as pip does when it installs them.

    An editable install leaves that to the first import, and an environment
    with ``PYTHONDONTWRITEBYTECODE`` set (as some CI machines have) would
    compile every module at every start: a cost no installed adcsim pays.
    """
    import adcsim

    package = Path(adcsim.__file__).parent
    # force: a file saved within the same second as its .pyc is not missed
    compileall.compile_dir(str(package), quiet=1, force=True)


def run_cases(bench: Bench, args: argparse.Namespace) -> tuple[list[Outcome], bool]:
    """Run the selected cases in order, printing as they go."""
    cases: dict[str, Callable[[], Outcome]] = {
        "1": bench.requantize,
        "2": bench.mulaw,
        "3": bench.resample,
        "4": bench.full,
        "5": bench.startup,
        "6": bench.batch,
        "7": bench.memory,
    }
    outcomes: list[Outcome] = []
    failed = False
    for key in sorted(args.cases):
        print(f"\n{(cases[key].__doc__ or key).splitlines()[0]}")
        try:
            outcome = cases[key]()
        except BenchError as exc:
            print(f"  error: {exc}", file=sys.stderr)
            failed = True
            continue
        outcomes.append(outcome)
        if outcome.skipped:
            print(f"  skipped: {outcome.skipped}")
            continue
        for s in outcome.series:
            print(
                f"  {s.label:<18} median {s.median_s:7.3f} s  "
                f"min {min(s.walls):7.3f}  max {max(s.walls):7.3f}  "
                f"peak RSS {s.peak_rss(bench.spawner.floor_mib):>6} MiB"
            )
        for note in outcome.notes:
            print(f"  note: {note}")
        for name, value, target, ok in outcome.checks:
            print(f"  {_verdict(ok):<4}  {name}: {value} (target {target or '-'})")
    return outcomes, failed


if __name__ == "__main__":
    raise SystemExit(main())
