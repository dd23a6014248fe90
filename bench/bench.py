"""Time ``adcsim quantize`` against the equivalent sox command, side by side.

This is what ``make bench`` runs (issues 2, 5 and 12). It needs sox (Debian:
``apt-get install sox``) and the Python that runs it with numpy and adcsim
installed; it installs nothing. It makes music-like 10- and 30-minute 44.1 kHz
stereo WAVs at 16 and 24 bits once (``music.py``: numpy, seeded; kept in
``bench/work/``, which git ignores), then runs each adcsim command and its sox
equivalent alternately (A B A B ...)
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
import functools
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import converter
import perceptual
import numpy as np
from music import HERE, WORK, make_batch_files, make_long_file

RESULTS = HERE / "results.md"
Check = tuple[str, str, str, bool | None]


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


#: Length of the probe files (s). A probe's time scaled to the long file
#: over-estimates a run by the scaled start-up (about 0.3 s, 1.2 s with numba),
#: so a longer input's estimate comes from the shorter one's timed runs.
PROBE_S = 20

_QUIET = ["--no-plot", "--no-report", "--force", "-q"]
_ISSUES = {"issue 5": 1.0, "issue 2": 2.0}


@dataclass(frozen=True)
class FileCase:
    """adcsim on a long file against one sox command (the same job)."""

    key: str
    title: str
    #: Depth of the source file: 16 or 24 bits.
    bits: int
    #: adcsim's arguments, each with a note; the first that adcsim accepts runs.
    variants: list[tuple[list[str], str]]
    #: The sox command, with IN and OUT for the files.
    sox: list[str]
    out_name: str
    #: Issue -> largest allowed ratio adcsim/sox.
    targets: dict[str, float]


_MULAW_FALLBACK = (
    "g711-mulaw not accepted: timed the continuous compander `-s mulaw -b 8`"
)

FILE_CASES: dict[str, FileCase] = {
    c.key: c
    for c in (
        FileCase(
            "1",
            "requantize to 8 bits",
            16,
            [(["-b", "8", *_QUIET], "")],
            ["sox", "-D", "IN", "-b", "8", "OUT"],
            "requant8.wav",
            _ISSUES,
        ),
        FileCase(
            "2",
            "mu-law 8 bits",
            16,
            [
                (["-s", "g711-mulaw", "--subtype", "ULAW", *_QUIET], ""),
                (
                    ["-s", "mulaw", "-b", "8", "--subtype", "ULAW", *_QUIET],
                    _MULAW_FALLBACK,
                ),
                (
                    ["-s", "mulaw", "-b", "8", *_QUIET],
                    _MULAW_FALLBACK + " (default container)",
                ),
            ],
            ["sox", "-D", "IN", "-e", "u-law", "OUT"],
            "mulaw8.wav",
            _ISSUES,
        ),
        FileCase(
            "3",
            "resample to 16 kHz + 16 bits",
            16,
            [(["-r", "16000", "-b", "16", *_QUIET], "")],
            ["sox", "-D", "IN", "-b", "16", "OUT", "rate", "-h", "16000"],
            "rate16k.wav",
            _ISSUES,
        ),
        FileCase(
            "4",
            "full default run (report + plot) vs sox requantize",
            16,
            [(["-b", "8", "--force", "-q"], "")],
            ["sox", "-D", "IN", "-b", "8", "OUT"],
            "full8.wav",
            {"issue 5": 3.0, "issue 2": 4.0},
        ),
        FileCase(
            "8",
            "TPDF dither to 8 bits (sox dithers by default)",
            16,
            [(["-b", "8", "--dither", "tpdf", *_QUIET], "")],
            ["sox", "IN", "-b", "8", "OUT"],
            "tpdf8.wav",
            {"issue 12": 1.0},
        ),
        FileCase(
            "9",
            "24-bit source to 16 bits, no dither",
            24,
            [(["-b", "16", *_QUIET], "")],
            ["sox", "-D", "IN", "-b", "16", "OUT"],
            "requant24to16.wav",
            {"issue 12": 1.0},
        ),
        FileCase(
            "10",
            "noise-shaped 16 bits (shibata, TPDF) from 24 bits",
            24,
            [
                (
                    [
                        "-b",
                        "16",
                        "--dither",
                        "tpdf",
                        "--noise-shaping",
                        "shibata",
                        *_QUIET,
                    ],
                    "",
                )
            ],
            ["sox", "IN", "-b", "16", "OUT", "dither", "-s"],
            "shaped16.wav",
            {"issue 12": 1.0},
        ),
    )
}

#: Case 11: the companders at 24 bits against uniform at 24 bits.
_COMPANDERS = (
    ("uniform 24", ["-b", "24", *_QUIET]),
    ("mulaw 24", ["-s", "mulaw", "-b", "24", *_QUIET]),
    ("alaw 24", ["-s", "alaw", "-b", "24", *_QUIET]),
)


ALL_CASES = tuple(str(k) for k in range(1, 15))


class Bench:
    """The benchmark: inputs, options and the cases (issues 2, 5 and 12)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.runs: int = args.runs
        self.out = WORK / "out"
        self.out.mkdir(parents=True, exist_ok=True)
        self.spawner = Spawner()
        #: (case, minutes) -> median seconds of adcsim's runs (case 11: slowest).
        self._timed: dict[tuple[str, float], float] = {}

    def _source(self, minutes: float, bits: int) -> Path:
        return make_long_file(round(minutes * 60), bits=bits)

    def _probe(self, cmd: list[str], outcome: Outcome) -> float | None:
        """Probe ``cmd`` (on a probe file); the estimated seconds of a long run.

        None, with a note on ``outcome``, when adcsim rejects or fails on it.
        """
        start = time.perf_counter()
        code, line = _probe(cmd)
        wall = time.perf_counter() - start
        if code != 0:
            outcome.notes.append(
                f"adcsim {_failure(code)} `{shlex.join(cmd[3:])}` (exit {code}: {line})"
            )
            return None
        return wall

    def _estimate(self, key: str, minutes: float, probe_s: float) -> tuple[float, str]:
        """Seconds a run of case ``key`` on ``minutes`` should take, and whence.

        From the slowest median of the same case timed on a shorter input
        when there is one (start-up is then a small share), else from the probe.
        """
        shorter = [
            (m, t) for (k, m), t in self._timed.items() if k == key and m < minutes
        ]
        if shorter:
            m, t = max(shorter)
            return t * minutes / m, f"the {m:g}-minute runs"
        return probe_s * minutes * 60 / PROBE_S, f"the {PROBE_S} s probe"

    def _over_budget(self, outcome: Outcome, estimate: tuple[float, str]) -> bool:
        """Record a FAIL instead of timing runs that would exceed the budget."""
        estimate_s, whence = estimate
        if estimate_s <= self.args.max_run_s:
            return False
        outcome.checks.append(
            (
                "time (not timed)",
                f"~{estimate_s:.0f} s a run, estimated from {whence}",
                f"<= {self.args.max_run_s:.0f} s a run (--max-run-s)",
                False,
            )
        )
        return True

    def file_case(self, case: FileCase, minutes: float) -> Outcome:
        """Time adcsim (first variant it accepts) against sox on the long file."""
        outcome = Outcome(case.key, f"{case.title}, {minutes:g} min")
        source = self._source(minutes, case.bits)
        probe_in = self._source(PROBE_S / 60, case.bits)
        a_out = self.out / case.out_name
        b_out = self.out / ("sox-" + case.out_name)

        def sox(inp: Path, out: Path) -> list[str]:
            names = {"IN": str(inp), "OUT": str(out)}
            return [names.get(word, word) for word in case.sox]

        chosen: list[str] | None = None
        probe_s = 0.0
        for args, note in case.variants:
            probe_out = self.out / ("probe-" + case.out_name)
            cmd = _adcsim("quantize", str(probe_in), *args, "-o", str(probe_out))
            if self.args.sox_vs_sox:
                cmd = sox(probe_in, probe_out)
            wall = self._probe(cmd, outcome)
            _clear(probe_out)()
            if wall is not None:
                chosen, probe_s = args, wall
                if note:
                    outcome.notes.append(note)
                break
        if chosen is None:
            outcome.skipped = "; ".join(outcome.notes)
            return outcome
        if self._over_budget(outcome, self._estimate(case.key, minutes, probe_s)):
            return outcome
        a_cmd = _adcsim("quantize", str(source), *chosen, "-o", str(a_out))
        if self.args.sox_vs_sox:
            a_cmd = sox(source, a_out)
        outcome.series = [
            Series("adcsim", a_cmd, _clear(a_out)),
            Series("sox", sox(source, b_out), _clear(b_out)),
        ]
        alternate(self.spawner, outcome.series, runs=self.runs)
        self._timed[(case.key, minutes)] = outcome.series[0].median_s
        a_fmt, b_fmt = _soxi(a_out), _soxi(b_out)
        if a_fmt != b_fmt:
            outcome.notes.append(
                f"outputs differ in rate/channels/frames: adcsim {a_fmt}, sox {b_fmt}"
            )
        a, b = outcome.series
        ratio = pairwise_median(a, b)
        spread = [x / y for x, y in zip(a.walls, b.walls, strict=True)]
        for issue, target in case.targets.items():
            outcome.checks.append(
                (
                    f"time ratio adcsim/sox ({issue})",
                    f"{ratio:.2f}x ({min(spread):.2f}-{max(spread):.2f})",
                    f"<= {target:.1f}x",
                    ratio <= target,
                )
            )
        return outcome

    def companders(self, minutes: float) -> Outcome:
        """Case 11: mu-law and A-law at 24 bits against uniform at 24 bits."""
        outcome = Outcome("11", f"mu-law and A-law at 24 bits, {minutes:g} min")
        if self.args.sox_vs_sox:
            outcome.skipped = "not applicable with --sox-vs-sox (no sox side)"
            return outcome
        source = self._source(minutes, 24)
        probe_in = self._source(PROBE_S / 60, 24)
        probe_s = 0.0
        for _label, args in _COMPANDERS:
            probe_out = self.out / "probe-compander.wav"
            cmd = _adcsim("quantize", str(probe_in), *args, "-o", str(probe_out))
            wall = self._probe(cmd, outcome)
            _clear(probe_out)()
            if wall is None:
                outcome.skipped = "; ".join(outcome.notes)
                return outcome
            probe_s = max(probe_s, wall)
        if self._over_budget(outcome, self._estimate("11", minutes, probe_s)):
            return outcome
        for label, args in _COMPANDERS:
            out = self.out / f"{label.replace(' ', '')}.wav"
            cmd = _adcsim("quantize", str(source), *args, "-o", str(out))
            outcome.series.append(Series(label, cmd, _clear(out)))
        alternate(self.spawner, outcome.series, runs=self.runs)
        self._timed[("11", minutes)] = max(s.median_s for s in outcome.series)
        uniform = outcome.series[0]
        for s in outcome.series[1:]:
            ratio = pairwise_median(s, uniform)
            outcome.checks.append(
                (
                    f"time ratio {s.label} / uniform 24",
                    f"{ratio:.2f}x",
                    "<= 2.0x",
                    ratio <= 2.0,
                )
            )
        for s in outcome.series:
            peak = max(x.rss_mib for x in s.samples)
            outcome.checks.append(
                (
                    f"peak resident memory, {s.label}",
                    f"{peak:.0f} MiB",
                    "< 250 MiB",
                    peak < 250,
                )
            )
        return outcome

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
    lengths = " and ".join(f"{m:g}" for m in args.minutes)
    lines = [
        "# adcsim vs sox: benchmark results",
        "",
        f"`bench/bench.py` ({mode}: {lengths} min 44.1 kHz stereo 16- and 24-bit "
        "inputs, "
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
        "## Targets (issues 5 and 12; issue 2's looser ones beside them)",
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
    notes = [
        f"- {o.key}. {o.title}: {n}" for o in outcomes for n in o.notes if not o.skipped
    ]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", "Commands:", ""]
    for o in outcomes:
        for s in o.series:
            cmd = (s.shown or shlex.join(s.cmd)).replace(sys.executable, "python")
            cmd = cmd.replace(str(HERE.parent) + "/", "")
            lines.append(f"- {o.key}. {o.title}, {s.label}: `{cmd}`")
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
        help="smoke check: 1-minute files, 3 runs, 200 batch files",
    )
    parser.add_argument(
        "--cases",
        default=",".join(ALL_CASES),
        help="comma-separated case numbers (all: 1 to 14)",
    )
    parser.add_argument(
        "--minutes",
        default=None,
        help="lengths of the long inputs, minutes, comma-separated (10,30; quick: 1)",
    )
    parser.add_argument(
        "--max-run-s",
        type=float,
        default=None,
        help="a case whose run would take longer (estimated from a 20 s probe) "
        "is not timed and fails (300; quick: 60)",
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
    if args.minutes is None:
        args.minutes = "1" if args.quick else "10,30"
    try:
        args.minutes = sorted(float(m) for m in args.minutes.split(",") if m.strip())
    except ValueError:
        parser.error(f"--minutes={args.minutes}: numbers of minutes, comma-separated")
    if not args.minutes or min(args.minutes) <= 0:
        parser.error("--minutes must name at least one positive length")
    if args.max_run_s is None:
        args.max_run_s = 60.0 if args.quick else 300.0
    if args.batch_files is None:
        args.batch_files = 200 if args.quick else 1000
    if args.loop_files is None:
        args.loop_files = 20 if args.quick else 100
    if args.runs < 1 or args.batch_files < 2 or args.loop_files < 1:
        parser.error("--runs, --loop-files must be >= 1 and --batch-files >= 2")
    args.cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    if not args.cases <= set(ALL_CASES):
        parser.error(f"--cases={','.join(sorted(args.cases))}: choose among 1 to 14")
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
    """Run the selected cases in order, each file case on every input length."""
    single: dict[str, Callable[[], Outcome]] = {
        "5": bench.startup,
        "6": bench.batch,
        "7": bench.memory,
    }
    runs: list[tuple[str, Callable[[], Outcome]]] = []
    for key in sorted(args.cases, key=int):
        if key in FILE_CASES:
            case = FILE_CASES[key]
            for minutes in args.minutes:
                runs.append(
                    (
                        f"Case {key}: {case.title}, {minutes:g} min",
                        functools.partial(bench.file_case, case, minutes),
                    )
                )
        elif key == "12":
            for minutes in args.minutes:
                runs.append(
                    (
                        f"Case 12: converter impairments at 16 bits, {minutes:g} min",
                        functools.partial(
                            converter.converter_case,
                            bench,
                            minutes,
                            sys.modules[__name__],
                        ),
                    )
                )
        elif key == "14":
            for minutes in args.minutes:
                runs.append(
                    (
                        f"Case 14: built-in objective metrics, {minutes:g} min",
                        functools.partial(
                            perceptual.metrics_case,
                            bench,
                            minutes,
                            sys.modules[__name__],
                        ),
                    )
                )
        elif key == "13":
            runs.append(
                (
                    "Case 13: sigma-delta order 2, OSR 64, 48 kHz mono",
                    functools.partial(
                        converter.sigma_delta_case, bench, sys.modules[__name__]
                    ),
                )
            )
        elif key == "11":
            for minutes in args.minutes:
                runs.append(
                    (
                        f"Case 11: mu-law and A-law at 24 bits, {minutes:g} min",
                        functools.partial(bench.companders, minutes),
                    )
                )
        else:
            doc = single[key].__doc__ or key
            runs.append((doc.splitlines()[0], single[key]))
    outcomes: list[Outcome] = []
    failed = False
    for heading, run in runs:
        print(f"\n{heading}", flush=True)
        try:
            outcome = run()
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
