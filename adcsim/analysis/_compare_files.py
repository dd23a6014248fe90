"""`compare_files`: the error report of one file against another, in blocks.

Responsible for comparing two audio files of any length in bounded memory:
checking that they can be compared (rates, channels, lengths), finding the
delay on a bounded window at their start, the gain in a first pass, and the
error figures in a second pass through the streaming meters, with the tone
figures on the first `TONE_FRAMES` compared frames (as ``analyze`` and
``quantize`` do), and handing every compared block pair to a figure sink.
Not responsible for the figures on arrays (`adcsim.analysis._compare`) or
for drawing (`adcsim.figures._compare`).

Notes
-----
Reading both files whole took 9.5 GB for a 6-hour 8 kHz mono file; in
blocks the peak is the alignment window's FFT (about 100 MB) and two blocks.
For files shorter than the windows the figures are those of `compare` on
the whole arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from adcsim.analysis._compare import find_delay, info_block
from adcsim.errors import AdcsimError
from adcsim.metrics._meters import ErrorMeter
from adcsim.metrics._samples import check_samples
from adcsim.metrics._tone import tone_metrics_channels

#: Compared frames the tone figures use: the first 2**18, as ``analyze``.
TONE_FRAMES = 1 << 18
#: Samples (frames x channels) at the start of each file that ``align``
#: cross-correlates: the delays it can find are shorter than this many frames
#: divided by the channels (2**20: 23.8 s of 44.1 kHz mono, 131 s at 8 kHz).
ALIGN_SAMPLES = 1 << 20
#: Frames read from each file at a time.
BLOCK_FRAMES = 1 << 16


class PairSink(Protocol):
    """What receives every compared block pair (a figure's data, say)."""

    def update(self, ref: NDArray[np.float64], test: NDArray[np.float64]) -> None:
        """One aligned, gain-matched pair of ``(frames, channels)`` blocks."""


#: ``sink(rate, channels, frames)``: makes the sink once the pair is known.
SinkFactory = Callable[[int, int, int], PairSink]


def _infos(ref_path: str, test_path: str, trim: bool) -> tuple[Any, Any, int]:
    """Both files' headers, checked against each other; the frames compared."""
    from adcsim.io._reader import AudioReader

    with AudioReader(ref_path) as reader:
        ref_info = reader.info
    with AudioReader(test_path) as reader:
        test_info = reader.info
    if ref_info.rate != test_info.rate:
        raise AdcsimError(
            f"sample rates differ: {ref_path!r} is {ref_info.rate} Hz, "
            f"{test_path!r} is {test_info.rate} Hz"
        )
    if ref_info.channels != test_info.channels:
        raise AdcsimError(
            f"channel counts differ: {ref_path!r} has {ref_info.channels}, "
            f"{test_path!r} has {test_info.channels}"
        )
    if ref_info.frames != test_info.frames and not trim:
        raise AdcsimError(
            f"lengths differ: {ref_path!r} has {ref_info.frames} frames, "
            f"{test_path!r} has {test_info.frames} (use --trim)"
        )
    if ref_info.frames is None or test_info.frames is None:
        raise AdcsimError("compare reads files, not streams: save the stream first")
    return ref_info, test_info, min(ref_info.frames, test_info.frames)


def _read(reader: Any, frames: int, path: str) -> NDArray[np.float64]:
    block: NDArray[np.float64] = reader.read_frames(frames)
    check_samples(block, repr(path))
    return block


def _pairs(
    ref_path: str,
    test_path: str,
    starts: tuple[int, int],
    frames: int,
    ended: list[str] | None = None,
) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Blocks of ``frames`` frames of both files from ``starts``, side by side.

    A file that ends before its header says (a damaged MP3 decodes fewer
    frames) ends the pairs there, with a note in ``ended``.
    """
    from adcsim.io._reader import AudioReader

    with AudioReader(ref_path) as ref, AudioReader(test_path) as test:
        for reader, path, skip in (
            (ref, ref_path, starts[0]),
            (test, test_path, starts[1]),
        ):
            while skip > 0:
                got = _read(reader, min(skip, BLOCK_FRAMES), path).shape[0]
                if got == 0:
                    break  # (ended early: the pairs below are empty)
                skip -= got
        done = 0
        while done < frames:
            n = min(BLOCK_FRAMES, frames - done)
            r, t = _read(ref, n, ref_path), _read(test, n, test_path)
            common = min(r.shape[0], t.shape[0])
            if common:
                yield r[:common], t[:common]
            done += common
            if common < n:
                if ended is not None:
                    short = ref_path if r.shape[0] < n else test_path
                    ended.append(
                        f"{short!r} ends before the frames its header announces: "
                        f"compared {done} frames, not {frames}"
                    )
                return


def _delay(
    ref_path: str, test_path: str, frames: int, channels: int, max_delay: int | None
) -> int:
    """`find_delay` on the first `ALIGN_SAMPLES` samples of both files."""
    head = min(frames, max(1, ALIGN_SAMPLES // channels))
    pieces = list(_pairs(ref_path, test_path, (0, 0), head))
    if not pieces:
        raise AdcsimError("compare: no frames to compare (a file ends at once)")
    r = np.concatenate([r for r, _ in pieces])
    t = np.concatenate([t for _, t in pieces])
    return find_delay(r, t, max_delay_frames=max_delay)


def _gain(ref_path: str, test_path: str, starts: tuple[int, int], frames: int) -> float:
    """The least-squares gain ``<ref, test> / <ref, ref>``, or an error."""
    power = cross = 0.0
    for r, t in _pairs(ref_path, test_path, starts, frames):
        power += float(np.einsum("ij,ij->", r, r))
        cross += float(np.einsum("ij,ij->", r, t))
    gain = cross / power if power > 0 else math.nan
    if not gain > 0:
        raise AdcsimError(
            f"compare: gain={gain:.6g} is not positive; cannot match the gain "
            "(silent or uncorrelated reference)"
        )
    return gain


def compare_files(
    ref_path: str,
    test_path: str,
    *,
    trim: bool = False,
    align: bool = False,
    gain_match: bool = False,
    max_delay_frames: int | None = None,
    sink: SinkFactory | None = None,
    metrics: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Compare two audio files of any length block by block; a JSON-ready report.

    Parameters
    ----------
    ref_path, test_path : str
        The reference and the file under test (any format libsndfile reads).
    trim, align, gain_match, max_delay_frames
        See `adcsim.analysis._compare.compare`; ``align`` looks for the delay
        in the first `ALIGN_SAMPLES` samples (frames x channels) of each.
    sink : callable, optional
        ``sink(rate, channels, frames)`` returns an object whose
        ``update(ref, test)`` gets every compared pair of blocks (after delay
        and gain removal), e.g. `adcsim.figures._compare.CompareFigure`.
    metrics : tuple of str
        Objective metrics of the ``perceptual`` section (see
        `adcsim.metrics._perceptual.PerceptualMeter`), on the compared pairs.

    Returns
    -------
    dict
        ``schema_version``, ``input`` and ``test`` (path, sample_rate,
        channels, frames, format, subtype), ``settings`` (the options),
        ``metrics`` (the keys of `adcsim.analysis._compare.compare` but
        ``channels``; tone figures on the first `TONE_FRAMES` compared
        frames), ``channels`` and ``notes`` (a file that ended before its
        header said: compared up to its end); with ``metrics`` also
        ``perceptual``.

    Raises
    ------
    AdcsimError
        A file cannot be read, the rates, channels or (without
        ``trim``) lengths differ, absurd samples, no overlap, a gain that is
        not positive.
    """
    from adcsim.run._report import SCHEMA_VERSION, plain

    if max_delay_frames is not None and (
        isinstance(max_delay_frames, bool)
        or not isinstance(max_delay_frames, (int, np.integer))
        or max_delay_frames < 0
    ):
        raise AdcsimError(
            f"max_delay_frames={max_delay_frames!r} must be an integer >= 0"
        )
    ref_info, test_info, frames = _infos(ref_path, test_path, trim)
    rate, channels = ref_info.rate, ref_info.channels
    extra: dict[str, Any] = {}
    starts = (0, 0)
    if align:
        delay = _delay(ref_path, test_path, frames, channels, max_delay_frames)
        starts = (max(0, -delay), max(0, delay))
        frames -= abs(delay)
        if frames <= 0:
            raise AdcsimError(f"compare: no overlap left after delay_frames={delay}")
        extra["delay_frames"] = delay
    gain = 1.0
    if gain_match:
        gain = _gain(ref_path, test_path, starts, frames)
        extra["gain"] = gain
        extra["gain_db"] = 20.0 * math.log10(gain)
    meter = ErrorMeter(channels=channels)
    figure = sink(rate, channels, frames) if sink is not None else None
    perceptual: Any = None
    if metrics:
        from adcsim.metrics._perceptual import PerceptualMeter

        perceptual = PerceptualMeter(metrics, rate=rate, channels=channels)
    head_r: list[NDArray[np.float64]] = []
    head_t: list[NDArray[np.float64]] = []
    kept = compared = 0
    notes: list[str] = []
    for r, t in _pairs(ref_path, test_path, starts, frames, notes):
        compared += r.shape[0]
        if gain_match:
            t = t / gain
        meter.update(r, t)
        if kept < TONE_FRAMES:
            head_r.append(r[: TONE_FRAMES - kept])
            head_t.append(t[: TONE_FRAMES - kept])
            kept += head_r[-1].shape[0]
        if figure is not None:
            figure.update(r, t)
        if perceptual is not None:
            perceptual.update(r, t)
    if not compared:
        raise AdcsimError(f"compare: no frames to compare ({notes[0]})")
    errors, per_channel_errors = meter.result()
    pooled, per_channel_tone = tone_metrics_channels(
        np.concatenate(head_t), rate, reference=np.concatenate(head_r)
    )
    report: dict[str, Any] = plain(
        {
            "schema_version": SCHEMA_VERSION,
            "input": info_block(ref_path, ref_info),
            "test": info_block(test_path, test_info),
            "settings": {
                "trim": trim,
                "align": align,
                "gain_match": gain_match,
                "max_delay_frames": max_delay_frames,
            },
            "metrics": {**errors, **pooled, "frames": compared, **extra},
            "channels": [
                {**e, **tm}
                for e, tm in zip(per_channel_errors, per_channel_tone, strict=True)
            ],
            **({"perceptual": perceptual.result()} if perceptual else {}),
            "notes": notes,
        }
    )
    return report


__all__ = ["compare_files"]
