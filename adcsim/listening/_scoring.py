"""Score a blind listening session: aggregate listeners' de-blinded answers.

Responsible for the BS.1534-3 post-screening of MUSHRA listeners, MUSHRA means
with 95 % Student-t intervals (clipped to the 0-100 scale), ABX counts with
one-sided exact binomial p-values, the same per item and per listener, and
the scores as JSON, CSV and a terminal table. Not responsible for reading or
checking result files against the key (`adcsim.listening._results`),
building sessions (`adcsim.listening._session`), figures
(`adcsim.figures._listening`) or the command line (`adcsim.cli._listen`).

Notes
-----
Post-screening excludes a listener who rates the hidden reference below 90 in
more than 15 % of their MUSHRA trials (ITU-R BS.1534-3, 4.1.2) from every
MUSHRA score. ABX keeps every listener, and the report says so: the rule is
MUSHRA's, and leaving listeners out of a binomial test by other answers would
select the data the test is about. ABX asks whether the listeners did better
than guessing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adcsim._version import __version__
from adcsim.errors import AdcsimError
from adcsim.listening._conditions import ANCHOR_LOW, ANCHOR_MID, HIDDEN_REFERENCE
from adcsim.listening._results import (
    ListenerAnswers,
    check_key,
    load_json,
    read_results,
)
from adcsim.listening._session import (
    MUSHRA_SCREEN_FRACTION,
    MUSHRA_SCREEN_SCORE,
    SCHEMA_VERSION,
    dumps_json,
)

#: An interval from fewer values than this is flagged (``small_sample``): the
#: Student-t interval assumes normal ratings, which a bounded 0-100 scale with
#: ratings piled at its ends only approaches with more listeners.
SMALL_SAMPLE = 10
BY = ("item", "listener")
SCREENING = (
    f"ITU-R BS.1534-3 4.1.2: a listener who rates the hidden reference below "
    f"{MUSHRA_SCREEN_SCORE:g} in more than {MUSHRA_SCREEN_FRACTION:.0%} of their "
    "MUSHRA trials is left out of every MUSHRA score; ABX keeps every listener"
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
    """Mean and 95 % two-sided Student-t confidence interval, clipped to [0, 100].

    Returns ``(mean, low, high)``; the interval is None for fewer than two
    values. Ratings cannot leave the 0-100 scale, so neither can the interval.

    Examples
    --------
    >>> [round(v, 2) for v in mean_interval([60.0, 70.0, 80.0])]
    [70.0, 45.16, 94.84]
    >>> [round(v, 2) for v in mean_interval([90.0, 100.0])]
    [95.0, 31.47, 100.0]
    """
    from scipy.stats import t

    arr = np.asarray(values, dtype=np.float64)
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, None, None
    half = (
        float(t.ppf(0.975, arr.size - 1)) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    )
    return mean, max(0.0, mean - half), min(100.0, mean + half)


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
        Per label: ``label``, ``n``, ``listeners``, ``mean``, ``ci_low``,
        ``ci_high``, ``small_sample``.
    abx : list of dict
        Per condition, then ``pooled``: ``condition``, ``trials``, ``correct``,
        ``p_value``.
    by_item, by_listener : list of dict
        Per item or listener, its ``mushra`` and ``abx`` rows (empty unless asked).
    notes : list of str
        What the tables do not show: missing trials, listeners kept unscreened.
    """

    session_id: str
    listeners: list[str]
    excluded: dict[str, str]
    mushra: list[dict[str, Any]]
    abx: list[dict[str, Any]]
    by_item: list[dict[str, Any]] = field(default_factory=list)
    by_listener: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kept(self) -> list[str]:
        """The listeners the post-screening kept."""
        return [w for w in self.listeners if w not in self.excluded]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report as a dict (stable key order, NaN as None)."""
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "adcsim_version": __version__,
            "session_id": self.session_id,
            "listeners": self.listeners,
            "excluded": self.excluded,
            "screening": SCREENING,
            "notes": self.notes,
            "mushra": self.mushra,
            "abx": self.abx,
        }
        if self.by_item:
            data["by_item"] = self.by_item
        if self.by_listener:
            data["by_listener"] = self.by_listener
        return data

    def to_json(self) -> str:
        """`to_dict` as indented JSON text."""
        return dumps_json(self.to_dict())

    def table(self) -> str:
        """Return a plain-text table for the terminal."""
        n = len(self.listeners)
        lines = [
            f"session {self.session_id}: {n} listener(s), "
            f"{len(self.kept)} kept by the post-screening"
        ]
        for who, why in self.excluded.items():
            lines.append(f"excluded {who}: {why}")
        if self.excluded:
            lines.append("(excluded from MUSHRA scores; ABX keeps every listener)")
        if self.listeners and not self.kept:
            lines.append(
                "every listener was excluded by the post-screening: no MUSHRA scores"
            )
        lines += [f"note: {note}" for note in self.notes]
        lines += _mushra_table("MUSHRA", self.mushra)
        lines += _abx_table("ABX", self.abx)
        for scope, groups in (("item", self.by_item), ("listener", self.by_listener)):
            for group in groups:
                name = group[scope]
                if scope == "listener" and name in self.excluded:
                    name += " (excluded)"
                lines += _mushra_table(f"MUSHRA {scope} {name}", group["mushra"])
                lines += _abx_table(f"ABX {scope} {name}", group["abx"])
        if any(r["small_sample"] for r in self._all_mushra()):
            lines += [
                "",
                f"* interval from fewer than {SMALL_SAMPLE} ratings: a rough guide",
            ]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """One row per MUSHRA label and ABX condition, overall then per group."""
        rows = ["design,label,n,mean,ci_low,ci_high,correct,trials,p_value,by,group"]
        groups: list[tuple[str, str, dict[str, Any]]] = [
            ("", "", {"mushra": self.mushra, "abx": self.abx})
        ]
        groups += [("item", g["item"], g) for g in self.by_item]
        groups += [("listener", g["listener"], g) for g in self.by_listener]
        for by, name, group in groups:
            for r in group["mushra"]:
                rows.append(
                    f"mushra,{_csv_text(r['label'])},{r['n']},{r['mean']!r},"
                    f"{_csv(r['ci_low'])},{_csv(r['ci_high'])},,,,{by},"
                    f"{_csv_text(name)}"
                )
            for r in group["abx"]:
                rows.append(
                    f"abx,{_csv_text(r['condition'])},,,,,{r['correct']},"
                    f"{r['trials']},{r['p_value']!r},{by},{_csv_text(name)}"
                )
        return "\n".join(rows) + "\n"

    def _all_mushra(self) -> list[dict[str, Any]]:
        rows = list(self.mushra)
        for group in (*self.by_item, *self.by_listener):
            rows += group["mushra"]
        return rows


def score_results(
    results_paths: Sequence[str],
    key_path: str,
    *,
    by: Sequence[str] = (),
    allow_incomplete: bool = False,
) -> ListeningScores:
    """De-blind and aggregate listeners' result files with the session's key.

    Parameters
    ----------
    results_paths : sequence of str
        adcsim's JSON downloads (one per listener), webMUSHRA's ``mushra.csv``
        and ``paired_comparison.csv``, or BeaqleJS's downloaded ``.txt`` files.
    key_path : str
        The session's ``key.json``.
    by : sequence of {"item", "listener"}
        Also score per item (reference file) and/or per listener.
    allow_incomplete : bool
        Score results that miss trials (the notes say which) instead of refusing.

    Returns
    -------
    ListeningScores

    Raises
    ------
    AdcsimError
        Unreadable files, or results that do not match the key (see
        `adcsim.listening._results`).

    Notes
    -----
    MUSHRA: per label, mean over the kept listeners' ratings (all items) with a
    95 % Student-t interval. ABX: total correct over all listeners per
    condition and pooled, one-sided exact binomial p-values.
    """
    for scope in by:
        if scope not in BY:
            raise AdcsimError(f"by={scope!r} is not one of: {', '.join(BY)}")
    key = check_key(load_json(key_path), key_path)
    answers, notes = read_results(results_paths, key, allow_incomplete=allow_incomplete)
    trials = {t["id"]: t for t in key["trials"]}
    excluded = {a.listener: why for a in answers if (why := _screen(a, trials))}
    unscreened = [a.listener for a in answers if not a.mushra and a.abx]
    if unscreened and any(a.mushra for a in answers):
        notes.append(
            f"{len(unscreened)} listener(s) without MUSHRA trials could not be "
            f"post-screened: {', '.join(unscreened)}"
        )
    kept = [a for a in answers if a.listener not in excluded]
    order = [
        HIDDEN_REFERENCE,
        *(c["name"] for c in key["conditions"]),
        ANCHOR_MID,
        ANCHOR_LOW,
    ]
    conditions = list(
        dict.fromkeys(t["condition"] for t in key["trials"] if t["design"] == "abx")
    )

    def scores(
        mushra_from: list[ListenerAnswers],
        abx_from: list[ListenerAnswers],
        item: str | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        def wanted(tid: str) -> bool:
            return item is None or trials[tid]["item"] == item

        return (
            _mushra_rows(mushra_from, trials, order, wanted),
            _abx_rows(abx_from, trials, conditions, wanted),
        )

    mushra_rows, abx_rows = scores(kept, answers)
    by_item, by_listener = [], []
    if "item" in by:
        for item in dict.fromkeys(t["item"] for t in key["trials"]):
            m, x = scores(kept, answers, item)
            by_item.append({"item": item, "mushra": m, "abx": x})
    if "listener" in by:
        for a in answers:
            # a listener's own table shows their answers, screened out or not
            m, x = scores([a], [a])
            by_listener.append(
                {
                    "listener": a.listener,
                    "excluded": a.listener in excluded,
                    "files": a.sources,
                    "mushra": m,
                    "abx": x,
                }
            )
    return ListeningScores(
        session_id=key["session_id"],
        listeners=[a.listener for a in answers],
        excluded=excluded,
        mushra=mushra_rows,
        abx=abx_rows,
        by_item=by_item,
        by_listener=by_listener,
        notes=notes,
    )


# ---------------------------------------------------------------- helpers


def _screen(answers: ListenerAnswers, trials: dict[str, Any]) -> str:
    """Why BS.1534-3 4.1.2 excludes this listener ('' if kept)."""
    low = 0
    for tid, ratings in answers.mushra.items():
        hidden = next(
            n for n, lab in trials[tid]["stimuli"].items() if lab == HIDDEN_REFERENCE
        )
        low += ratings[hidden] < MUSHRA_SCREEN_SCORE
    total = len(answers.mushra)
    if total and low > MUSHRA_SCREEN_FRACTION * total:
        return (
            f"hidden reference rated below {MUSHRA_SCREEN_SCORE:g} in "
            f"{low} of {total} trials"
        )
    return ""


def _mushra_rows(
    listeners: list[ListenerAnswers],
    trials: dict[str, Any],
    order: list[str],
    wanted: Any,
) -> list[dict[str, Any]]:
    ratings: dict[str, list[float]] = {}
    who: dict[str, set[str]] = {}
    for a in listeners:
        for tid, given in a.mushra.items():
            if not wanted(tid):
                continue
            for name, value in given.items():
                label = trials[tid]["stimuli"][name]
                ratings.setdefault(label, []).append(value)
                who.setdefault(label, set()).add(a.listener)
    rows = []
    for label in [*order, *(k for k in ratings if k not in order)]:
        if label in ratings:
            mean, low, high = mean_interval(ratings[label])
            rows.append(
                {
                    "label": label,
                    "n": len(ratings[label]),
                    "listeners": len(who[label]),
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "small_sample": len(ratings[label]) < SMALL_SAMPLE,
                }
            )
    return rows


def _abx_rows(
    listeners: list[ListenerAnswers],
    trials: dict[str, Any],
    conditions: list[str],
    wanted: Any,
) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for a in listeners:
        for tid, correct in a.abx.items():
            if wanted(tid):
                c = counts.setdefault(trials[tid]["condition"], [0, 0])
                c[0] += int(correct)
                c[1] += 1
    rows: list[dict[str, Any]] = [
        {
            "condition": c,
            "trials": counts[c][1],
            "correct": counts[c][0],
            "p_value": binomial_p_value(counts[c][0], counts[c][1]),
        }
        for c in conditions
        if c in counts
    ]
    if rows:
        ok, n = sum(r["correct"] for r in rows), sum(r["trials"] for r in rows)
        rows.append(
            {
                "condition": "pooled",
                "trials": n,
                "correct": ok,
                "p_value": binomial_p_value(ok, n),
            }
        )
    return rows


def _mushra_table(title: str, rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = ["", f"{title:<24}{'n':>5}{'mean':>8}{'95% CI':>18}"]
    for row in rows:
        ci = (
            ""
            if row["ci_low"] is None
            else f"{row['ci_low']:.1f} .. {row['ci_high']:.1f}"
            + ("*" if row["small_sample"] else " ")
        )
        lines.append(f"{row['label']:<24}{row['n']:>5}{row['mean']:>8.1f}{ci:>18}")
    return lines


def _abx_table(title: str, rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = ["", f"{title:<24}{'correct':>9}{'trials':>8}{'p':>10}"]
    for row in rows:
        lines.append(
            f"{row['condition']:<24}{row['correct']:>9}{row['trials']:>8}"
            f"{row['p_value']:>10.4g}"
        )
    return lines


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)


def _csv_text(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
