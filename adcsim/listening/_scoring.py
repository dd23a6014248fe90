"""Score a blind listening session: de-blind and aggregate listeners' results.

Responsible for reading the session's key and the listeners' result files,
checking that they match, the BS.1534-3 post-screening of MUSHRA listeners,
MUSHRA means with 95 % Student-t intervals, ABX counts with one-sided exact
binomial p-values, and the scores as JSON, CSV and a terminal table. Not
responsible for building sessions or the key format's constants
(`adcsim.listening._session`), figures (`adcsim.figures._listening`) or the command line
(`adcsim.cli._listen`).

Notes
-----
Post-screening excludes a listener who rates the hidden reference below 90 in
more than 15 % of their MUSHRA trials (ITU-R BS.1534-3, 4.1.2). ABX asks
whether the listeners did better than guessing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adcsim._version import __version__
from adcsim.errors import AdcsimError
from adcsim.listening._conditions import ANCHOR_LOW, ANCHOR_MID, HIDDEN_REFERENCE
from adcsim.listening._session import (
    KEY_FORMAT,
    MUSHRA_SCREEN_FRACTION,
    MUSHRA_SCREEN_SCORE,
    RESULTS_FORMAT,
    SCHEMA_VERSION,
    dumps_json,
)


def binomial_p_value(correct: int, trials: int) -> float:
    """One-sided exact binomial p-value: P(K >= correct) for K ~ Binomial(trials, 1/2).

    Examples
    --------
    >>> round(binomial_p_value(12, 16), 4)
    0.0384
    >>> binomial_p_value(0, 16)
    1.0
    """
    if not 0 <= correct <= trials:
        raise AdcsimError(f"correct={correct} must be in [0, trials={trials}]")
    tail = sum(math.comb(trials, k) for k in range(correct, trials + 1))
    return float(tail / 2**trials)


def mean_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Mean and 95 % two-sided Student-t confidence interval.

    Returns ``(mean, low, high)``; the interval is None for fewer than two values.

    Examples
    --------
    >>> [round(v, 2) for v in mean_interval([60.0, 70.0, 80.0])]
    [70.0, 45.16, 94.84]
    """
    from scipy.stats import t

    arr = np.asarray(values, dtype=np.float64)
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, None, None
    half = (
        float(t.ppf(0.975, arr.size - 1)) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    )
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class ListeningScores:
    """Aggregated, de-blinded results of one session.

    Attributes
    ----------
    session_id : str
    listeners : list of str
        Every listener read, in file order.
    excluded : dict
        Listener -> reason, by the BS.1534-3 post-screening rule.
    mushra : list of dict
        Per label: ``label``, ``n``, ``mean``, ``ci_low``, ``ci_high``.
    abx : list of dict
        Per condition, then ``pooled``: ``condition``, ``trials``, ``correct``,
        ``p_value``.
    """

    session_id: str
    listeners: list[str]
    excluded: dict[str, str]
    mushra: list[dict[str, Any]]
    abx: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report as a dict (stable key order, NaN as None)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "adcsim_version": __version__,
            "session_id": self.session_id,
            "listeners": self.listeners,
            "excluded": self.excluded,
            "mushra": self.mushra,
            "abx": self.abx,
        }

    def to_json(self) -> str:
        """`to_dict` as indented JSON text."""
        return dumps_json(self.to_dict())

    def table(self) -> str:
        """Return a plain-text table for the terminal."""
        lines = [f"session {self.session_id}: {len(self.listeners)} listener(s)"]
        for who, why in self.excluded.items():
            lines.append(f"excluded {who}: {why}")
        if self.mushra:
            lines += ["", f"{'MUSHRA':<24}{'n':>5}{'mean':>8}{'95% CI':>18}"]
            for row in self.mushra:
                ci = (
                    ""
                    if row["ci_low"] is None
                    else f"{row['ci_low']:.1f} .. {row['ci_high']:.1f}"
                )
                lines.append(
                    f"{row['label']:<24}{row['n']:>5}{row['mean']:>8.1f}{ci:>18}"
                )
        if self.abx:
            lines += ["", f"{'ABX':<24}{'correct':>9}{'trials':>8}{'p':>10}"]
            for row in self.abx:
                lines.append(
                    f"{row['condition']:<24}{row['correct']:>9}{row['trials']:>8}"
                    f"{row['p_value']:>10.4g}"
                )
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """One row per MUSHRA label and ABX condition."""
        rows = ["design,label,n,mean,ci_low,ci_high,correct,trials,p_value"]
        for r in self.mushra:
            rows.append(
                f"mushra,{r['label']},{r['n']},{r['mean']!r},{_csv(r['ci_low'])},"
                f"{_csv(r['ci_high'])},,,"
            )
        for r in self.abx:
            rows.append(
                f"abx,{r['condition']},,,,,{r['correct']},{r['trials']},"
                f"{r['p_value']!r}"
            )
        return "\n".join(rows) + "\n"


def score_results(results_paths: Sequence[str], key_path: str) -> ListeningScores:
    """De-blind and aggregate listeners' result files with the session's key.

    Parameters
    ----------
    results_paths : sequence of str
        JSON files downloaded from the page, one per listener.
    key_path : str
        The session's ``key.json``.

    Returns
    -------
    ListeningScores

    Raises
    ------
    AdcsimError
        Unreadable files, or results that do not match the key (another
        session, unknown trials or names, answers out of range).

    Notes
    -----
    MUSHRA: per label, mean over the kept listeners' ratings (all items) with a
    95 % Student-t interval. ABX: total correct over all listeners per
    condition and pooled, one-sided exact binomial p-values.
    """
    key = _load_json(key_path)
    _check_key(key, key_path)
    trials = {t["id"]: t for t in key["trials"]}
    listeners: list[str] = []
    parsed = []
    for path in results_paths:
        result = _load_json(path)
        _check_results(result, path, key, trials)
        who = str(result.get("listener") or Path(path).stem)
        while who in listeners:
            who += "+"
        listeners.append(who)
        parsed.append((who, result))

    excluded: dict[str, str] = {}
    ratings: dict[str, list[float]] = {}
    abx: dict[str, list[int]] = {}
    for who, result in parsed:
        mushra = result.get("mushra", [])
        low = [
            r
            for r in mushra
            for name, label in trials[r["trial"]]["stimuli"].items()
            if label == HIDDEN_REFERENCE and r["ratings"][name] < MUSHRA_SCREEN_SCORE
        ]
        if mushra and len(low) > MUSHRA_SCREEN_FRACTION * len(mushra):
            excluded[who] = (
                f"hidden reference rated below {MUSHRA_SCREEN_SCORE:g} in "
                f"{len(low)} of {len(mushra)} trials"
            )
        else:
            for r in mushra:
                for name, label in trials[r["trial"]]["stimuli"].items():
                    ratings.setdefault(label, []).append(float(r["ratings"][name]))
        for r in result.get("abx", []):
            t = trials[r["trial"]]
            counts = abx.setdefault(t["condition"], [0, 0])
            counts[0] += int(r["answer"] == t["x_is"])
            counts[1] += 1

    order = [
        HIDDEN_REFERENCE,
        *(c["name"] for c in key["conditions"]),
        ANCHOR_MID,
        ANCHOR_LOW,
    ]
    mushra_rows = []
    for label in order:
        if label in ratings:
            mean, low_ci, high_ci = mean_interval(ratings[label])
            mushra_rows.append(
                {
                    "label": label,
                    "n": len(ratings[label]),
                    "mean": mean,
                    "ci_low": low_ci,
                    "ci_high": high_ci,
                }
            )
    abx_rows = []
    for c in key["conditions"]:
        if c["name"] in abx:
            ok, n = abx[c["name"]]
            abx_rows.append(
                {
                    "condition": c["name"],
                    "trials": n,
                    "correct": ok,
                    "p_value": binomial_p_value(ok, n),
                }
            )
    if abx_rows:
        ok, n = sum(r["correct"] for r in abx_rows), sum(r["trials"] for r in abx_rows)
        abx_rows.append(
            {
                "condition": "pooled",
                "trials": n,
                "correct": ok,
                "p_value": binomial_p_value(ok, n),
            }
        )
    return ListeningScores(
        session_id=key["session_id"],
        listeners=listeners,
        excluded=excluded,
        mushra=mushra_rows,
        abx=abx_rows,
    )


# ---------------------------------------------------------------- helpers


#: Largest key or results file read (a session of 1000 trials is about 1 MB).
MAX_JSON_BYTES = 64 << 20


def _load_json(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise AdcsimError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_JSON_BYTES:
        raise AdcsimError(
            f"{path!r} is larger than {MAX_JSON_BYTES >> 20} MB: not a key or results"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdcsimError(
            f"{path!r} is not UTF-8 text (byte {exc.start}): not a JSON file"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdcsimError(
            f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from exc
    except RecursionError:
        raise AdcsimError(
            f"{path!r} is nested too deeply to be a key or results"
        ) from None
    if not isinstance(data, dict):
        raise AdcsimError(f"{path!r} does not hold a JSON object")
    return data


def _check_key(key: dict[str, Any], path: str) -> None:
    """Every field of a key that scoring reads has the type the session wrote.

    A key is a user file: edited by hand, truncated, or another program's.
    """

    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"{path!r} is not a valid adcsim listening key: {why}")

    if key.get("format") != KEY_FORMAT:
        raise AdcsimError(f"{path!r} is not an adcsim listening key")
    if not isinstance(key.get("session_id"), str):
        raise refuse("session_id is not a string")
    conditions = key.get("conditions")
    if not isinstance(conditions, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) for c in conditions
    ):
        raise refuse("conditions is not a list of objects with a name")
    trials = key.get("trials")
    if not isinstance(trials, list):
        raise refuse("trials is not a list")
    for t in trials:
        if not isinstance(t, dict) or not isinstance(t.get("id"), str):
            raise refuse("a trial is not an object with a string id")
        tid = t["id"]
        if t.get("design") == "mushra":
            stimuli = t.get("stimuli")
            if not isinstance(stimuli, dict) or not all(
                isinstance(v, str) for v in stimuli.values()
            ):
                raise refuse(f"trial {tid!r}: stimuli is not names -> labels")
        elif t.get("design") == "abx":
            fields = (t.get("condition"), t.get("x"))
            if not all(isinstance(f, str) for f in fields) or t.get("x_is") not in (
                "A",
                "B",
            ):
                raise refuse(f"trial {tid!r}: condition, x or x_is is missing")
        else:
            raise refuse(f"trial {tid!r}: design={t.get('design')!r}")


def _check_results(
    result: dict[str, Any], path: str, key: dict[str, Any], trials: dict[str, Any]
) -> None:
    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"results {path!r} do not match the key: {why}")

    if result.get("format") != RESULTS_FORMAT:
        raise refuse("not an adcsim listening results file")
    if result.get("session_id") != key["session_id"]:
        raise refuse(
            f"session_id={result.get('session_id')!r}, "
            f"the key's is {key['session_id']!r}"
        )
    seen: set[str] = set()
    for design in ("mushra", "abx"):
        entries = result.get(design, [])
        if not isinstance(entries, list):
            raise refuse(f"{design!r} is not a list")
        for r in entries:
            given = r.get("trial") if isinstance(r, dict) else None
            tid = given if isinstance(given, str) else ""
            t = trials.get(tid)
            if t is None or t["design"] != design or tid in seen:
                raise refuse(f"trial={given!r} is unknown or repeated")
            seen.add(tid)
            if design == "mushra":
                got = r.get("ratings")
                if not isinstance(got, dict) or set(got) != set(t["stimuli"]):
                    raise refuse(f"trial={tid!r} rates other stimuli than the key's")
                for name, value in got.items():
                    if (
                        isinstance(value, bool)
                        or not isinstance(value, (int, float))
                        or not 0 <= value <= 100
                    ):
                        raise refuse(
                            f"trial={tid!r} rating {name}={value!r} not in [0, 100]"
                        )
            else:
                if r.get("answer") not in ("A", "B"):
                    raise refuse(
                        f"trial={tid!r} answer={r.get('answer')!r} is not A or B"
                    )
                if r.get("x") != t["x"]:
                    raise refuse(f"trial={tid!r} x={r.get('x')!r} is not the key's")


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)
