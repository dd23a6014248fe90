"""The inputs of a listening session: options, references, file conditions.

Responsible for checking a session's options before anything is read, cutting
the excerpt, reading a ``--file`` condition against its reference (channels,
rate, length) and measuring loudness with the file named in its errors. Not
responsible for building the session (`adcsim.listening._session`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.listening._conditions import Condition, fit_length

DESIGNS: tuple[str, ...] = ("mushra", "abx", "both")
SUBTYPES: tuple[str, ...] = ("PCM_16", "PCM_24")
EXPORTS: tuple[str, ...] = ("webmushra", "beaqlejs")
#: What to do with a reference too long to hold (`read_record`).
TOO_LONG = "cut an excerpt of a few seconds (sox in.wav part.wav trim 60 10)"
#: Most stimuli in one MUSHRA trial, hidden reference and anchors included
#: (ITU-R BS.1534-3, 5.1: no more than 12 including those).
MAX_PER_TRIAL = 12


def check_plan(
    references: Sequence[str],
    conditions: Sequence[Condition],
    design: str,
    trials: int,
    export: Iterable[str],
    subtype: str,
    *,
    mid_anchor: bool = False,
    max_per_trial: int | None = None,
) -> dict[str, Any]:
    """Check a session's options before any file is read; return its plan.

    The plan says which designs to build, the exports, and ``groups``: the
    condition names of each MUSHRA trial per item (one group unless
    ``max_per_trial`` splits them).
    """
    if not references:
        raise AdcsimError("no reference files given")
    if not conditions:
        raise AdcsimError(
            "no conditions: give --bits/--scheme/--rate, --condition or --file"
        )
    names = [c.name for c in conditions]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise AdcsimError(f"condition name={dup!r} is given twice")
    stems = [Path(r).stem for r in references]
    if len(set(stems)) != len(stems):
        raise AdcsimError("reference file names must differ (they name the items)")
    if any(c.path for c in conditions) and len(references) != 1:
        raise AdcsimError(
            f"--file conditions need exactly one reference, got {len(references)}"
        )
    if design not in DESIGNS:
        raise AdcsimError(f"design={design!r} is not one of: {', '.join(DESIGNS)}")
    if (
        isinstance(trials, bool)
        or not isinstance(trials, int)
        or not 1 <= trials <= 1000
    ):
        raise AdcsimError(f"trials={trials!r} must be an integer in [1, 1000]")
    if subtype not in SUBTYPES:
        raise AdcsimError(f"subtype={subtype!r} is not one of: {', '.join(SUBTYPES)}")
    kinds = list(dict.fromkeys(export))
    for kind in kinds:
        if kind not in EXPORTS:
            raise AdcsimError(f"export={kind!r} is not one of: {', '.join(EXPORTS)}")
    mushra = design in ("mushra", "both")
    groups = _groups(names, 2 if mid_anchor else 1, max_per_trial) if mushra else []
    return {
        "mushra": mushra,
        "abx": design in ("abx", "both"),
        "export": kinds,
        "groups": groups,
    }


def _groups(names: list[str], anchors: int, most: int | None) -> list[list[str]]:
    """Split the conditions so no MUSHRA trial holds more than ``most`` stimuli.

    Every trial holds the hidden reference and the anchors, then as even a
    share of the conditions as fits, in the order given.
    """
    fixed = 1 + anchors
    if most is None:
        total = fixed + len(names)
        if total <= MAX_PER_TRIAL:
            return [names]
        per = MAX_PER_TRIAL - fixed
        raise AdcsimError(
            f"a MUSHRA trial would hold {total} stimuli (the hidden reference, "
            f"{anchors} anchor(s) and {len(names)} conditions), more than "
            f"{MAX_PER_TRIAL} (ITU-R BS.1534-3): give --max-per-trial "
            f"{MAX_PER_TRIAL} to split the conditions over "
            f"{-(-len(names) // per)} trials per item, or build sessions of at "
            f"most {per} conditions each"
        )
    if isinstance(most, bool) or not isinstance(most, int):
        raise AdcsimError(f"max_per_trial={most!r} must be an integer")
    if not fixed + 1 <= most <= MAX_PER_TRIAL:
        raise AdcsimError(
            f"max-per-trial={most} must be in [{fixed + 1}, {MAX_PER_TRIAL}] "
            f"(the hidden reference and {anchors} anchor(s) come with every trial)"
        )
    count = -(-len(names) // (most - fixed))
    size, extra = divmod(len(names), count)
    out, at = [], 0
    for i in range(count):
        n = size + (i < extra)
        out.append(names[at : at + n])
        at += n
    return out


def cut_excerpt(
    x: NDArray[np.float64], rate: int, excerpt: tuple[float, float] | None, path: str
) -> NDArray[np.float64]:
    if excerpt is None:
        return x
    start, stop = round(excerpt[0] * rate), round((excerpt[0] + excerpt[1]) * rate)
    if stop > x.shape[0]:
        raise AdcsimError(
            f"excerpt ends at {excerpt[0] + excerpt[1]:g} s, after the end of {path!r} "
            f"({x.shape[0] / rate:g} s)"
        )
    return x[start:stop]


def read_file_condition(
    path: str, info: Any, excerpt: tuple[float, float] | None, *, pad: bool
) -> NDArray[np.float64]:
    from adcsim.analysis._records import read_record
    from adcsim.stages._resample import resample

    y, other = read_record(path, command="listen", advice=TOO_LONG)
    if other.channels != info.channels:
        raise AdcsimError(
            f"{path!r} has channels={other.channels}, the reference has {info.channels}"
        )
    if other.rate != info.rate:
        y = resample(y, in_rate=other.rate, out_rate=info.rate)
    frames = info.frames or 0
    # A resampled file may differ by the rounding of its length (one frame).
    slack = 0 if other.rate == info.rate else 1
    if not pad and abs(y.shape[0] - frames) > slack:
        raise AdcsimError(
            f"{path!r} lasts {y.shape[0] / info.rate:g} s ({y.shape[0]} frames at "
            f"{info.rate} Hz), the reference {frames / info.rate:g} s ({frames}): "
            "give files of the same length, or --pad to pad with silence or cut"
        )
    y = cut_excerpt(y, info.rate, excerpt, path)
    reference_frames = (
        round(excerpt[1] * info.rate) if excerpt else (info.frames or y.shape[0])
    )
    return fit_length(y, reference_frames)


def loudness(x: NDArray[np.float64], rate: int, path: str) -> float:
    """BS.1770-4 integrated loudness of ``x``; errors name ``path``."""
    from adcsim.metrics._loudness import integrated_loudness

    try:
        return integrated_loudness(x, rate=rate)
    except AdcsimError as exc:
        raise AdcsimError(f"{path!r}: {exc}") from exc
