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
    session.js        trials under blinded names; no key, nothing derived from it
    stimuli/NAME.js   every stimulus: a 16- or 24-bit PCM WAV, base64, for the
                      page's Web Audio player (`adcsim.listening._stimuli`)
    audio/NAME.wav    with --export only: the stimuli those tools read (no X)
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

import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    lowpass_anchor,
    render_condition,
)
from adcsim.listening._inputs import (
    TOO_LONG,
    check_plan,
    cut_excerpt,
    loudness,
    read_file_condition,
)
from adcsim.listening._sessiondir import SessionDirectory
from adcsim.listening._stimuli import NameSource, write_stimuli

SCHEMA_VERSION = 1
KEY_FORMAT = "adcsim-listening-key"
RESULTS_FORMAT = "adcsim-listening-results"

#: Stimuli are scaled (all by one gain per item) so no peak exceeds this.
PEAK_LIMIT = 10 ** (-0.1 / 20)
MUSHRA_SCREEN_SCORE = 90.0
MUSHRA_SCREEN_FRACTION = 0.15
#: Above this many bytes a session is large to copy: advise --excerpt.
LARGE_SESSION_BYTES = 200_000_000


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
    size_bytes : int
        Bytes of every file written.
    warnings : tuple of str
        Notices for the user (a session above `LARGE_SESSION_BYTES`).
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
    size_bytes: int = 0
    warnings: tuple[str, ...] = ()


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
    pad: bool = False,
    allow_back: bool = False,
    max_per_trial: int | None = None,
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
    pad : bool
        Let a ``--file`` condition differ in length from the reference: it
        is padded with silence or cut to the reference's length.
    allow_back : bool
        Give the page a back button (answers may then be changed).
    max_per_trial : int in [2, 12] or None
        Split the conditions over several MUSHRA trials per item so that no
        trial holds more stimuli (hidden reference and anchors included).
        None: more than 12 is an error saying how to split.

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
    plan = check_plan(
        references,
        conditions,
        design,
        trials,
        export,
        subtype,
        mid_anchor=mid_anchor,
        max_per_trial=max_per_trial,
    )
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
                pad=pad,
                allow_back=allow_back,
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
    pad: bool,
    allow_back: bool,
) -> ListeningSession:
    """Write a whole session into ``stage``; its paths name ``out``."""
    from adcsim.analysis._records import read_record
    from adcsim.listening._exports import readme_text, write_export
    from adcsim.listening._page import render_page

    dither_seeds = (
        np.random.SeedSequence(seed).spawn(2)[1].generate_state(len(conditions))
    )
    groups = plan["groups"]
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
                # (absent for the options of old sessions: their ids stay)
                *([allow_back, groups] if allow_back or len(groups) > 1 else []),
            ]
        ).encode()
    )
    records = []
    for ref_path in references:
        x, info = read_record(ref_path, command="listen", advice=TOO_LONG)
        digest.update(x.tobytes())
        records.append((ref_path, x, info))
    # The blinding (names, orders, X, padding) is seeded by the seed *and* the
    # references' samples: the seed and the page's structure alone (how many
    # trials and stimuli) do not rebuild the names. session_id shows another
    # part of the hash, from which this seed cannot be computed.
    blind_seed = int.from_bytes(
        hashlib.sha256(b"adcsim-blinding\0" + digest.digest()).digest()[:16], "big"
    )
    rng = np.random.default_rng(np.random.SeedSequence(blind_seed))
    names = NameSource(rng)
    items: list[dict[str, Any]] = []
    stimuli: dict[str, dict[str, Any]] = {}
    audio_jobs: dict[str, tuple[NDArray[np.float64], int]] = {}
    key_trials: list[dict[str, Any]] = []
    page_trials: list[dict[str, Any]] = []

    for ref_path, x, info in records:
        item = Path(ref_path).stem
        x = cut_excerpt(x, info.rate, excerpt, ref_path)
        ref_lufs = loudness(x, info.rate, ref_path)
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
                rendered[condition.name] = read_file_condition(
                    condition.path, info, excerpt, pad=pad
                )
            else:
                rendered[condition.name] = render_condition(
                    x, rate=info.rate, condition=condition, seed=int(dseed)
                )
        if excerpt is not None:
            rendered = {k: apply_fades(v, rate=info.rate) for k, v in rendered.items()}
        ref_lufs = loudness(rendered["reference"], info.rate, ref_path)
        gains, lufs = {}, {}
        for label, y in rendered.items():
            lufs[label] = loudness(y, info.rate, ref_path)
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
            audio_jobs[name] = (_rendered[label] * 10 ** (gain / 20), _rate)
            return name

        # The open reference: one file per item, shown as "Reference" in MUSHRA
        # and as the reference side of every ABX set (which side of A/B is the
        # reference does not tell X; hidden references and X are their own files).
        open_ref = stimulus("reference", "reference")
        for group in plan["groups"]:
            labels = [("reference", "hidden_reference"), (ANCHOR_LOW, "anchor")]
            labels += [(ANCHOR_MID, "anchor")] if mid_anchor else []
            labels += [(name, "condition") for name in group]
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
                a, b = (
                    open_ref if label == "reference" else stimulus(label, "abx")
                    for label in pair
                )
                for trial in range(trials):
                    x_is = "A" if rng.random() < 0.5 else "B"
                    xname = stimulus(pair[0] if x_is == "A" else pair[1], "abx")
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
                        }
                    )

    session_id = digest.hexdigest()[:16]
    _number_trials(key_trials, page_trials, rng)
    # The exports' tools read WAV files, never the ABX X copies (they draw X
    # themselves); without an export the page's base64 copies are the only ones.
    xs = {t["x"] for t in key_trials if t["design"] == "abx"}
    wav_names = set(audio_jobs) - xs if plan["export"] else set()
    written = write_stimuli(
        stage, audio_jobs, subtype=subtype, rng=rng, wav_names=wav_names
    )
    gains_db = {}
    for name, (_, rate) in audio_jobs.items():
        stimuli[name]["loudness_lufs"] = loudness(written[name], rate, name)
        gains_db[name] = stimuli[name]["gain_db"]

    public = {
        "format": "adcsim-listening-session",
        "schema_version": SCHEMA_VERSION,
        "session_id": session_id,
        "adcsim_version": __version__,
        "options": {"allow_back": allow_back},
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
        "allow_back": allow_back,
        "conditions": [c.to_dict() for c in conditions],
        "items": items,
        "stimuli": stimuli,
        "trials": key_trials,
    }
    (stage / "key.json").write_text(dumps_json(key), encoding="utf-8")
    exports = tuple(write_export(kind, stage, key) for kind in plan["export"])
    (stage / "README.txt").write_text(
        readme_text(session_id, key, exports), encoding="utf-8"
    )
    size = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    warnings = []
    if size > LARGE_SESSION_BYTES:
        warnings.append(
            f"the session is {size / 1e6:.0f} MB (over "
            f"{LARGE_SESSION_BYTES / 1e6:.0f} MB): use --excerpt START:DUR to "
            "cut a few seconds"
        )
    return ListeningSession(
        out_dir=out,
        session_id=session_id,
        page=out / "index.html",
        key=out / "key.json",
        stimuli=len(audio_jobs),
        size_bytes=size,
        warnings=tuple(warnings),
        mushra_trials=sum(t["design"] == "mushra" for t in key_trials),
        abx_trials=sum(t["design"] == "abx" for t in key_trials),
        gains_db=gains_db,
        exports=tuple(out / p.relative_to(stage) for p in exports),
    )


# ---------------------------------------------------------------- helpers


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
