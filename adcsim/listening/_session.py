"""Blind listening tests: build MUSHRA and ABX sessions.

Responsible for building a session from its conditions: reading the
references, rendering and loudness-matching the stimuli, cutting the excerpt,
the seeded blinding (random names, random order, random X), the key file and
the session's ``index.html`` data, and the key and results formats'
constants. Not responsible for the conditions themselves (parsing, rendering
one, anchors and fades: `adcsim.listening._conditions`), scoring listeners'
results (`adcsim.listening._scoring`), the webMUSHRA and BeaqleJS configurations
and the README text (`adcsim.listening._exports`), the page itself
(`adcsim.listening._page`), figures (`adcsim.figures._listening`) or the command line
(`adcsim.cli._listen`).

A session directory holds::

    index.html        the test page (opens from the file system)
    session.js        trials under blinded names; no key
    audio/NAME.wav    every stimulus, 16- or 24-bit PCM, blinded names
    stimuli/NAME.js   the same bytes, base64, for the page's Web Audio player
    key.json          names -> conditions, gains, seed: keep it from listeners
    README.txt        how to run the session and collect results
    webmushra/, beaqlejs/   optional configurations for those tools
    adcsim-manifest.json    every file above: what ``--force`` may replace

The directory is built aside and swapped in (`adcsim.listening._sessiondir`).

Notes
-----
MUSHRA follows ITU-R BS.1534-3: per item one trial with the open reference, a
hidden reference, the 3.5 kHz low-pass anchor (optionally the 7 kHz mid
anchor) and the conditions, rated 0-100. Post-screening excludes a listener
who rates the hidden reference below 90 in more than 15 % of their trials
(BS.1534-3, 4.1.2). ABX: X is the reference or the condition at random; the
one-sided exact binomial test asks whether the listener did better than
guessing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from adcsim._version import __version__
from adcsim.errors import AdcsimError
from adcsim.listening._conditions import (
    ANCHOR_LOW,
    ANCHOR_MID,
    FADE_S,
    HIDDEN_REFERENCE,
    Condition,
    apply_fades,
    fit_length,
    lowpass_anchor,
    render_condition,
)
from adcsim.listening._sessiondir import SessionDirectory

Design = Literal["mushra", "abx", "both"]
DESIGNS: tuple[str, ...] = ("mushra", "abx", "both")
SUBTYPES: tuple[str, ...] = ("PCM_16", "PCM_24")
EXPORTS: tuple[str, ...] = ("webmushra", "beaqlejs")
SCHEMA_VERSION = 1
KEY_FORMAT = "adcsim-listening-key"
RESULTS_FORMAT = "adcsim-listening-results"

#: What to do with a reference too long to hold (`read_record`).
_TOO_LONG = "cut an excerpt of a few seconds (sox in.wav part.wav trim 60 10)"
#: Stimuli are scaled (all by one gain per item) so no peak exceeds this.
PEAK_LIMIT = 10 ** (-0.1 / 20)
MUSHRA_SCREEN_SCORE = 90.0
MUSHRA_SCREEN_FRACTION = 0.15
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class ListeningSession:
    """What `export_listening_test` wrote.

    Attributes
    ----------
    out_dir : Path
    session_id : str
    page, key : Path
        ``index.html`` and ``key.json``.
    stimuli : int
        Number of WAV files written.
    mushra_trials, abx_trials : int
    gains_db : dict
        Blinded name -> gain applied for the loudness match (dB).
    exports : tuple of Path
        The webMUSHRA/BeaqleJS configuration files.
    """

    out_dir: Path
    session_id: str
    page: Path
    key: Path
    stimuli: int
    mushra_trials: int
    abx_trials: int
    gains_db: dict[str, float]
    exports: tuple[Path, ...] = ()


def export_listening_test(
    references: Sequence[str],
    out_dir: str,
    *,
    conditions: Sequence[Condition],
    design: str = "both",
    trials: int = 16,
    excerpt: tuple[float, float] | None = None,
    mid_anchor: bool = False,
    seed: int = 0,
    export: Iterable[str] = (),
    subtype: str = "PCM_16",
    force: bool = False,
) -> ListeningSession:
    """Build a blind MUSHRA and/or ABX session in ``out_dir``.

    Parameters
    ----------
    references : sequence of str
        Reference audio files (the items). A ``--file`` condition needs exactly one.
    out_dir : str
        Session directory; created, or must hold no earlier session unless ``force``.
    conditions : sequence of Condition
        What to compare against each reference (at least one).
    design : {"mushra", "abx", "both"}
    trials : int >= 1
        ABX trials per reference and condition.
    excerpt : (start_s, duration_s) or None
        Cut the same excerpt from every stimulus, with 20 ms fades.
    mid_anchor : bool
        Add the 7 kHz low-pass anchor to MUSHRA trials.
    seed : int >= 0
        Seeds dither, names, orders and X; recorded in the key.
    export : iterable of {"webmushra", "beaqlejs"}
    subtype : {"PCM_16", "PCM_24"}
    force : bool
        Replace an earlier session in ``out_dir``.

    Returns
    -------
    ListeningSession

    Raises
    ------
    AdcsimError
        Bad options, unreadable files, a silent reference, an existing session.

    Notes
    -----
    Every stimulus is rendered back to its reference's rate and channels and
    scaled to the reference's BS.1770-4 integrated loudness; then one gain per
    item keeps all of its stimuli (reference included) below -0.1 dBFS. Both
    gains are recorded per stimulus in the key.
    """
    from adcsim.stages._dither import check_dither, check_seed

    seed = check_seed(seed)
    plan = _check_plan(references, conditions, design, trials, export, subtype)
    for condition in conditions:
        if condition.path is None:
            check_dither(condition.dither)
            if condition.converter.active:
                from adcsim.listening._render import check_converted

                check_converted(condition)
    out = Path(out_dir)
    inputs = [*references, *(c.path for c in conditions if c.path is not None)]
    with SessionDirectory(out, force=force, inputs=inputs) as stage:
        try:
            session = _build(
                references,
                out,
                stage.path,
                conditions=conditions,
                plan=plan,
                design=design,
                trials=trials,
                excerpt=excerpt,
                mid_anchor=mid_anchor,
                seed=seed,
                subtype=subtype,
            )
        except OSError as exc:
            raise AdcsimError(
                f"cannot write the session in {os.fsdecode(out)!r}: "
                f"{(exc.strerror or type(exc).__name__).lower()}"
            ) from exc
        except AdcsimError as exc:
            # A file of the stage names the place it was going to have.
            message = str(exc).replace(os.fsdecode(stage.path), os.fsdecode(out))
            raise AdcsimError(message) from exc
        stage.commit(session.session_id)
    return session


def _build(
    references: Sequence[str],
    out: Path,
    stage: Path,
    *,
    conditions: Sequence[Condition],
    plan: dict[str, Any],
    design: str,
    trials: int,
    excerpt: tuple[float, float] | None,
    mid_anchor: bool,
    seed: int,
    subtype: str,
) -> ListeningSession:
    """Write a whole session into ``stage``; its paths name ``out``."""
    from adcsim.analysis._records import read_record
    from adcsim.io._reader import read as read_audio
    from adcsim.io._writer import write as write_audio
    from adcsim.listening._exports import readme_text, write_export
    from adcsim.listening._page import render_page

    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    dither_seeds = (
        np.random.SeedSequence(seed).spawn(2)[1].generate_state(len(conditions))
    )
    names = _NameSource(rng)
    digest = hashlib.sha256(
        json.dumps(
            [
                seed,
                design,
                trials,
                excerpt,
                mid_anchor,
                subtype,
                [c.to_dict() for c in conditions],
            ]
        ).encode()
    )
    items: list[dict[str, Any]] = []
    stimuli: dict[str, dict[str, Any]] = {}
    audio_jobs: list[tuple[str, NDArray[np.float64], int]] = []
    key_trials: list[dict[str, Any]] = []
    page_trials: list[dict[str, Any]] = []

    for ref_path in references:
        x, info = read_record(ref_path, command="listen", advice=_TOO_LONG)
        digest.update(x.tobytes())
        item = Path(ref_path).stem
        x = _cut(x, info.rate, excerpt, ref_path)
        ref_lufs = _loudness(x, info.rate, ref_path)
        if not math.isfinite(ref_lufs):
            raise AdcsimError(
                f"reference {ref_path!r} is silent: nothing to match loudness to"
            )
        rendered: dict[str, NDArray[np.float64]] = {"reference": x}
        if plan["mushra"]:
            rendered[ANCHOR_LOW] = lowpass_anchor(x, rate=info.rate, cutoff_hz=3500.0)
            if mid_anchor:
                rendered[ANCHOR_MID] = lowpass_anchor(
                    x, rate=info.rate, cutoff_hz=7000.0
                )
        for condition, dseed in zip(conditions, dither_seeds, strict=True):
            if condition.path is not None:
                rendered[condition.name] = _read_file_condition(
                    condition.path, info, excerpt
                )
            else:
                rendered[condition.name] = render_condition(
                    x, rate=info.rate, condition=condition, seed=int(dseed)
                )
        if excerpt is not None:
            rendered = {k: apply_fades(v, rate=info.rate) for k, v in rendered.items()}
        ref_lufs = _loudness(rendered["reference"], info.rate, ref_path)
        gains, lufs = {}, {}
        for label, y in rendered.items():
            lufs[label] = _loudness(y, info.rate, ref_path)
            gains[label] = ref_lufs - lufs[label] if math.isfinite(lufs[label]) else 0.0
        peak = max(
            float(np.abs(y).max(initial=0.0)) * 10 ** (gains[k] / 20)
            for k, y in rendered.items()
        )
        headroom_db = min(0.0, 20 * math.log10(PEAK_LIMIT / peak)) if peak > 0 else 0.0
        items.append(
            {
                "name": item,
                "path": str(ref_path),
                "rate": info.rate,
                "channels": info.channels,
                "loudness_lufs": ref_lufs,
                "headroom_gain_db": headroom_db,
            }
        )

        def stimulus(
            label: str,
            role: str,
            *,
            _item: str = item,
            _rendered: dict[str, NDArray[np.float64]] = rendered,
            _gains: dict[str, float] = gains,
            _lufs: dict[str, float] = lufs,
            _hr: float = headroom_db,
            _rate: int = info.rate,
        ) -> str:
            name = names.new()
            gain = _gains[label] + _hr
            stimuli[name] = {
                "item": _item,
                "role": role,
                "condition": label if role == "condition" else None,
                "label": HIDDEN_REFERENCE if role == "hidden_reference" else label,
                "loudness_before_lufs": _lufs[label],
                "match_gain_db": _gains[label],
                "headroom_gain_db": _hr,
                "gain_db": gain,
            }
            audio_jobs.append((name, _rendered[label] * 10 ** (gain / 20), _rate))
            return name

        if plan["mushra"]:
            open_ref = stimulus("reference", "reference")
            labels = [("reference", "hidden_reference"), (ANCHOR_LOW, "anchor")]
            labels += [(ANCHOR_MID, "anchor")] if mid_anchor else []
            labels += [(c.name, "condition") for c in conditions]
            blind = [stimulus(label, role) for label, role in labels]
            order = [blind[i] for i in rng.permutation(len(blind))]
            key_trials.append(
                {
                    "id": "",
                    "design": "mushra",
                    "item": item,
                    "reference": open_ref,
                    "stimuli": {n: stimuli[n]["label"] for n in order},
                }
            )
            page_trials.append(
                {"id": "", "design": "mushra", "reference": open_ref, "stimuli": order}
            )
        if plan["abx"]:
            for condition in conditions:
                pair = ["reference", condition.name]
                if rng.random() < 0.5:
                    pair.reverse()
                a, b = stimulus(pair[0], "abx"), stimulus(pair[1], "abx")
                for trial in range(trials):
                    x_is = "A" if rng.random() < 0.5 else "B"
                    xname = stimulus(pair[0] if x_is == "A" else pair[1], "abx")
                    salt = names.new() + names.new()
                    key_trials.append(
                        {
                            "id": "",
                            "design": "abx",
                            "item": item,
                            "condition": condition.name,
                            "set": 0,
                            "trial": trial + 1,
                            "a": a,
                            "b": b,
                            "x": xname,
                            "a_label": stimuli[a]["label"],
                            "b_label": stimuli[b]["label"],
                            "x_is": x_is,
                        }
                    )
                    page_trials.append(
                        {
                            "id": "",
                            "design": "abx",
                            "set": 0,
                            "trial": trial + 1,
                            "of": trials,
                            "a": a,
                            "b": b,
                            "x": xname,
                            "salt": salt,
                            "check": fnv1a32(f"{salt}:{x_is}"),
                        }
                    )

    session_id = digest.hexdigest()[:16]
    _number_trials(key_trials, page_trials, rng)
    audio_dir, js_dir = stage / "audio", stage / "stimuli"
    audio_dir.mkdir()
    js_dir.mkdir()
    gains_db = {}
    for name, y, rate in audio_jobs:
        wav = audio_dir / f"{name}.wav"
        write_audio(str(wav), y, rate, subtype=subtype)
        data = base64.b64encode(wav.read_bytes()).decode("ascii")
        (js_dir / f"{name}.js").write_text(
            f'adcsimStimulus("{name}", "data:audio/wav;base64,{data}");\n',
            encoding="utf-8",
        )
        written, _ = read_audio(str(wav))
        stimuli[name]["loudness_lufs"] = _loudness(written, rate, str(wav))
        gains_db[name] = stimuli[name]["gain_db"]

    public = {
        "format": "adcsim-listening-session",
        "schema_version": SCHEMA_VERSION,
        "session_id": session_id,
        "adcsim_version": __version__,
        "trials": page_trials,
    }
    (stage / "session.js").write_text(
        "window.ADCSIM_SESSION = " + json.dumps(public, indent=1) + ";\n",
        encoding="utf-8",
    )
    (stage / "index.html").write_text(render_page(), encoding="utf-8")
    key = {
        "format": KEY_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "session_id": session_id,
        "adcsim_version": __version__,
        "seed": seed,
        "design": design,
        "trials_per_set": trials,
        "excerpt": None
        if excerpt is None
        else {"start_s": excerpt[0], "duration_s": excerpt[1], "fade_s": FADE_S},
        "mid_anchor": mid_anchor,
        "subtype": subtype,
        "conditions": [c.to_dict() for c in conditions],
        "items": items,
        "stimuli": stimuli,
        "trials": key_trials,
    }
    (stage / "key.json").write_text(dumps_json(key), encoding="utf-8")
    exports = tuple(write_export(kind, stage, key_trials) for kind in plan["export"])
    (stage / "README.txt").write_text(
        readme_text(session_id, key, exports), encoding="utf-8"
    )
    return ListeningSession(
        out_dir=out,
        session_id=session_id,
        page=out / "index.html",
        key=out / "key.json",
        stimuli=len(audio_jobs),
        mushra_trials=sum(t["design"] == "mushra" for t in key_trials),
        abx_trials=sum(t["design"] == "abx" for t in key_trials),
        gains_db=gains_db,
        exports=tuple(out / p.relative_to(stage) for p in exports),
    )


def fnv1a32(text: str) -> str:
    """FNV-1a 32-bit hash of ``text`` (UTF-8) as 8 hex digits; the page has the same.

    Used to let the page count correct ABX answers without naming X's source.

    Examples
    --------
    >>> fnv1a32("a")
    'e40c292c'
    """
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


# ---------------------------------------------------------------- helpers


class _NameSource:
    """Unique random 8-character names from the session's generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def new(self) -> str:
        while True:
            idx = self._rng.integers(0, len(_ALPHABET), 8)
            name = "".join(_ALPHABET[i] for i in idx)
            if name not in self._used:
                self._used.add(name)
                return name


def _check_plan(
    references: Sequence[str],
    conditions: Sequence[Condition],
    design: str,
    trials: int,
    export: Iterable[str],
    subtype: str,
) -> dict[str, Any]:
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
    return {
        "mushra": design in ("mushra", "both"),
        "abx": design in ("abx", "both"),
        "export": kinds,
    }


def _cut(
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


def _read_file_condition(
    path: str, info: Any, excerpt: tuple[float, float] | None
) -> NDArray[np.float64]:
    from adcsim.analysis._records import read_record
    from adcsim.stages._resample import resample

    y, other = read_record(path, command="listen", advice=_TOO_LONG)
    if other.channels != info.channels:
        raise AdcsimError(
            f"{path!r} has channels={other.channels}, the reference has {info.channels}"
        )
    if other.rate != info.rate:
        y = resample(y, in_rate=other.rate, out_rate=info.rate)
    y = _cut(y, info.rate, excerpt, path)
    reference_frames = (
        round(excerpt[1] * info.rate) if excerpt else (info.frames or y.shape[0])
    )
    return fit_length(y, reference_frames)


def _loudness(x: NDArray[np.float64], rate: int, path: str) -> float:
    from adcsim.metrics._loudness import integrated_loudness

    try:
        return integrated_loudness(x, rate=rate)
    except AdcsimError as exc:
        raise AdcsimError(f"{path!r}: {exc}") from exc


def _number_trials(
    key_trials: list[dict[str, Any]],
    page_trials: list[dict[str, Any]],
    rng: np.random.Generator,
) -> None:
    """Shuffle MUSHRA trials and ABX sets (a set keeps its order); set ids."""
    mushra = [i for i, t in enumerate(key_trials) if t["design"] == "mushra"]
    sets: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(key_trials):
        if t["design"] == "abx":
            sets.setdefault((t["item"], t["condition"]), []).append(i)
    order = [mushra[i] for i in rng.permutation(len(mushra))]
    groups = list(sets.values())
    for s, g in enumerate(rng.permutation(len(groups)), start=1):
        for i in groups[g]:
            key_trials[i]["set"] = page_trials[i]["set"] = s
            order.append(i)
    new_key, new_page = [], []
    for n, i in enumerate(order, start=1):
        tid = (
            f"m{n:02d}"
            if key_trials[i]["design"] == "mushra"
            else (f"x{key_trials[i]['set']:02d}-{key_trials[i]['trial']:02d}")
        )
        key_trials[i]["id"] = page_trials[i]["id"] = tid
        new_key.append(key_trials[i])
        new_page.append(page_trials[i])
    key_trials[:] = new_key
    page_trials[:] = new_page


def dumps_json(data: Any) -> str:
    """Indented JSON with NaN written as null (keys, results, scores)."""
    return json.dumps(_nan_to_none(data), indent=2, allow_nan=False) + "\n"


def _nan_to_none(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _nan_to_none(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_nan_to_none(v) for v in data]
    return data
