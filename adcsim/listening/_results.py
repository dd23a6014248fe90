"""Read listeners' result files (adcsim's page, webMUSHRA, BeaqleJS) against a key.

Responsible for reading the session's key and the result files, in any of the
three formats, checking each against the key, and turning them into one
de-blinded form per listener (`ListenerAnswers`): MUSHRA ratings per trial
and stimulus, ABX correctness per trial. Refuses, with one line naming the
file: unreadable or hostile files (not UTF-8, huge numbers, deep nesting), an
unknown ``schema_version``, results of another session, trial ids, stimulus
names or counts that are not the key's, the same file twice, two files of one
listener that answer the same trials, and incomplete results unless allowed.
Not responsible for aggregating (`adcsim.listening._scoring`) or writing
either format (`adcsim.listening._page`, `adcsim.listening._exports`).

Notes
-----
The page holds nothing from which an answer can be computed, so a results
file carries no proof of its answers: what can be detected is a file that
does not fit the key (ids, names, counts, another session, a stored
``correct`` flag that disagrees with the key). A rating changed from 40 to 60,
or an ABX answer flipped along with its flag, cannot be detected.

Formats read (their writers' sources, checked at the commits named in
`adcsim.listening._exports`):

- adcsim: the page's JSON download (``format: adcsim-listening-results``).
- webMUSHRA: ``results/<testId>/mushra.csv`` and ``paired_comparison.csv``
  as service/write.php writes them (fputcsv; a header row, then one row per
  rating or choice: ``session_test_id``, one column per questionnaire name,
  then mushra ``session_uuid, trial_id, rating_stimulus, rating_score,
  rating_time, rating_comment`` or paired comparison ``trial_id,
  choice_reference, choice_non_reference, choice_answer, choice_time,
  choice_comment``). The hidden reference is the stimulus ``reference``.
- BeaqleJS: the downloaded ``.txt`` (js/beaqle.js DownloadTestResults: a JSON
  array of ``EvalResults`` then ``{UserName, UserEmail, UserComment}``). MUSHRA
  entries are ``{TestID, Runtime, rating, filename}`` with the hidden reference
  rated as ``Reference``; ABX entries are one boolean per test set in the
  configuration's order (AbxTest.formatResults), an unanswered set false.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adcsim.errors import AdcsimError
from adcsim.listening._conditions import HIDDEN_REFERENCE
from adcsim.listening._session import KEY_FORMAT, RESULTS_FORMAT, SCHEMA_VERSION

#: Largest key or results file read (a session of 1000 trials is about 1 MB).
MAX_JSON_BYTES = 64 << 20
DESIGNS = ("mushra", "abx")


@dataclass
class ListenerAnswers:
    """One listener's de-blinded answers, from one or more files.

    Attributes
    ----------
    listener : str
    sources : list of str
        The files read.
    tool : str
        ``adcsim``, ``webmushra`` or ``beaqlejs``.
    mushra : dict
        Trial id -> blinded stimulus name -> rating in [0, 100].
    abx : dict
        Trial id -> whether the answer was right.
    covers : set of str
        Designs whose every trial the sources should hold.
    """

    listener: str
    sources: list[str]
    tool: str
    mushra: dict[str, dict[str, float]] = field(default_factory=dict)
    abx: dict[str, bool] = field(default_factory=dict)
    covers: set[str] = field(default_factory=set)

    def trials(self) -> set[str]:
        """Every trial id answered."""
        return set(self.mushra) | set(self.abx)


def load_json(path: str) -> Any:
    """Parse a key or results file; hostile content is one `AdcsimError` line."""
    return _parse_json(_read_text(path), path)


def check_key(key: Any, path: str) -> dict[str, Any]:
    """Every field of a key that scoring reads has the type the session wrote.

    A key is a user file: edited by hand, truncated, or another program's.
    """

    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"{path!r} is not a valid adcsim listening key: {why}")

    if not isinstance(key, dict) or key.get("format") != KEY_FORMAT:
        raise AdcsimError(f"{path!r} is not an adcsim listening key")
    _check_schema(key, path, "key")
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
    seen: set[str] = set()
    for t in trials:
        if not isinstance(t, dict) or not isinstance(t.get("id"), str):
            raise refuse("a trial is not an object with a string id")
        tid = t["id"]
        if tid in seen:
            raise refuse(f"trial {tid!r} is given twice")
        seen.add(tid)
        if t.get("design") == "mushra":
            stimuli = t.get("stimuli")
            if (
                not isinstance(stimuli, dict)
                or not all(isinstance(v, str) for v in stimuli.values())
                or list(stimuli.values()).count(HIDDEN_REFERENCE) != 1
                or not isinstance(t.get("reference"), str)
            ):
                raise refuse(
                    f"trial {tid!r}: stimuli is not names -> labels with one "
                    "hidden reference, or the reference is missing"
                )
        elif t.get("design") == "abx":
            fields = (t.get("condition"), t.get("x"), t.get("a"), t.get("b"))
            if not all(isinstance(f, str) for f in fields) or t.get("x_is") not in (
                "A",
                "B",
            ):
                raise refuse(
                    f"trial {tid!r}: condition, x or x_is (or a, b) is missing"
                )
        else:
            raise refuse(f"trial {tid!r}: design={t.get('design')!r}")
        if not isinstance(t.get("item"), str):
            raise refuse(f"trial {tid!r}: item is not a string")
    return key


def read_results(
    paths: Sequence[str], key: dict[str, Any], *, allow_incomplete: bool = False
) -> tuple[list[ListenerAnswers], list[str]]:
    """Read, check and de-blind every results file; one entry per listener.

    Returns the listeners in file order and notes (what is missing, when
    ``allow_incomplete``).

    Raises
    ------
    AdcsimError
        See the module docstring for every refusal.
    """
    trials = {t["id"]: t for t in key["trials"]}
    seen_files: dict[tuple[str, ...], str] = {}
    parts: list[ListenerAnswers] = []
    for path in paths:
        text = _read_text(path)
        ident = (hashlib.sha256(text.encode("utf-8")).hexdigest(),)
        real = (os.path.realpath(path),)
        for mark in (real, ident):
            if mark in seen_files:
                raise AdcsimError(
                    f"results {path!r} and {seen_files[mark]!r} are the same "
                    "results given twice"
                )
            seen_files[mark] = path
        if text.lstrip().startswith(("{", "[")):
            data = _parse_json(text, path)
            if isinstance(data, list):
                parts += _read_beaqlejs(data, path, key, trials)
            else:
                parts.append(_read_adcsim(data, path, key, trials))
        elif text.startswith("session_test_id,"):
            parts += _read_webmushra(text, path, key, trials)
        else:
            raise AdcsimError(
                f"{path!r} is not listening results: neither adcsim's or BeaqleJS's "
                "JSON nor webMUSHRA's CSV"
            )
    listeners = _merge(parts)
    notes = _check_complete(listeners, key, allow_incomplete)
    return listeners, notes


# ---------------------------------------------------------------- formats


def _read_adcsim(
    result: Any, path: str, key: dict[str, Any], trials: dict[str, Any]
) -> ListenerAnswers:
    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"results {path!r} do not match the key: {why}")

    if not isinstance(result, dict) or result.get("format") != RESULTS_FORMAT:
        raise refuse("not an adcsim listening results file")
    _check_schema(result, path, "results")
    _check_session(result.get("session_id"), key, path)
    name = result.get("listener")
    who = name.strip() if isinstance(name, str) and name.strip() else _stem(path)
    answers = ListenerAnswers(who, [path], "adcsim", covers=set(DESIGNS))
    for design in DESIGNS:
        entries = result.get(design, [])
        if not isinstance(entries, list):
            raise refuse(f"{design!r} is not a list")
        for r in entries:
            given = r.get("trial") if isinstance(r, dict) else None
            tid = given if isinstance(given, str) else ""
            t = trials.get(tid)
            if t is None or t["design"] != design or tid in answers.trials():
                raise refuse(f"trial={given!r} is unknown or repeated")
            if design == "mushra":
                got = r.get("ratings")
                if not isinstance(got, dict) or set(got) != set(t["stimuli"]):
                    raise refuse(f"trial={tid!r} rates other stimuli than the key's")
                answers.mushra[tid] = {
                    n: _rating(v, path, f"trial={tid!r} rating {n}")
                    for n, v in got.items()
                }
            else:
                if r.get("answer") not in ("A", "B"):
                    raise refuse(
                        f"trial={tid!r} answer={r.get('answer')!r} is not A or B"
                    )
                if "x" in r and r.get("x") != t["x"]:
                    raise refuse(f"trial={tid!r} x={r.get('x')!r} is not the key's")
                correct = r["answer"] == t["x_is"]
                # Pages before issue 14 stored their own verdict: one that
                # disagrees with the key means the answer was edited.
                if "correct" in r and r["correct"] is not correct:
                    raise refuse(
                        f"trial={tid!r}: answer={r['answer']!r} disagrees with the "
                        "page's own verdict stored beside it (edited?)"
                    )
                answers.abx[tid] = correct
    return answers


def _read_webmushra(
    text: str, path: str, key: dict[str, Any], trials: dict[str, Any]
) -> list[ListenerAnswers]:
    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"webMUSHRA results {path!r} do not match the key: {why}")

    from adcsim.listening._exports import abx_sides, session_test_id

    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise AdcsimError(f"{path!r} is not valid CSV: {exc}") from None
    head = rows[0]
    kinds = {
        "mushra": ["trial_id", "rating_stimulus", "rating_score"],
        "abx": ["trial_id", "choice_reference", "choice_non_reference"],
    }
    design = next((d for d, cols in kinds.items() if set(cols) <= set(head)), None)
    if design is None:
        raise AdcsimError(
            f"{path!r} is neither webMUSHRA's mushra.csv nor its paired_comparison.csv"
        )
    col = {name: i for i, name in reversed(list(enumerate(head)))}
    first = col["session_uuid"] if design == "mushra" else col["trial_id"]
    by_who: dict[str, ListenerAnswers] = {}
    uuids: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(head):
            raise refuse(f"row {number} has {len(row)} fields, the header {len(head)}")
        if row[0] != session_test_id(key["session_id"]):
            raise refuse(
                f"row {number}: session_test_id={row[0][:40]!r}, this session's is "
                f"{session_test_id(key['session_id'])!r}"
            )
        # service/write.php puts the questionnaire answers between
        # session_test_id and session_uuid (mushra) or trial_id (pairs).
        who = " ".join(v.strip() for v in row[1:first] if v.strip())
        if design == "mushra":
            uuid = row[col["session_uuid"]]
            who = who or uuid
            if uuids.setdefault(who, uuid) != uuid:
                raise refuse(
                    f"listener {who!r} has two sessions ({uuids[who]}, {uuid}): "
                    "score one of them"
                )
        if not who:
            raise refuse(f"row {number} names no listener (the questionnaire's name)")
        answers = by_who.setdefault(
            who, ListenerAnswers(who, [path], "webmushra", covers={design})
        )
        tid = row[col["trial_id"]]
        t = trials.get(tid)
        if t is None or t["design"] != design:
            raise refuse(f"row {number}: trial_id={tid[:40]!r} is not the key's")
        if design == "mushra":
            ratings = answers.mushra.setdefault(tid, {})
            stimulus = row[col["rating_stimulus"]]
            # MushraAudioControl.js adds the reference as condition "reference"
            if stimulus == "reference":
                stimulus = next(
                    n for n, lab in t["stimuli"].items() if lab == HIDDEN_REFERENCE
                )
            elif t["stimuli"].get(stimulus) in (None, HIDDEN_REFERENCE):
                raise refuse(f"row {number}: {stimulus[:40]!r} is not in trial {tid}")
            if stimulus in ratings:
                raise refuse(f"row {number}: {tid} rates {stimulus} twice")
            ratings[stimulus] = _rating(
                _number(row[col["rating_score"]]), path, f"row {number}"
            )
        else:
            if tid in answers.abx:
                raise refuse(f"row {number}: listener {who!r} answers {tid} twice")
            _, other = abx_sides(t)
            if (
                row[col["choice_reference"]] != "reference"
                or row[col["choice_non_reference"]] != other
            ):
                raise refuse(f"row {number}: the pair is not trial {tid}'s")
            verdict = row[col["choice_answer"]]
            if verdict in ("correct", "incorrect"):
                answers.abx[tid] = verdict == "correct"
            # "unknown" / "undecided": no answer; the trial counts as missing
    for answers in by_who.values():
        for tid, ratings in answers.mushra.items():
            if set(ratings) != set(trials[tid]["stimuli"]):
                raise refuse(
                    f"listener {answers.listener!r} rates {len(ratings)} stimuli in "
                    f"{tid}, the key has {len(trials[tid]['stimuli'])}"
                )
    return list(by_who.values())


def _read_beaqlejs(
    data: list[Any], path: str, key: dict[str, Any], trials: dict[str, Any]
) -> list[ListenerAnswers]:
    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"BeaqleJS results {path!r} do not match the key: {why}")

    users = [d for d in data if isinstance(d, dict) and "UserName" in d]
    entries = [d for d in data if not (isinstance(d, dict) and "UserName" in d)]
    if not users:
        raise AdcsimError(f"{path!r} is not BeaqleJS results (no UserName entry)")
    names = {str(u.get("UserName", "")).strip() for u in users}
    if len(names) > 1:
        raise refuse(f"it names {len(names)} listeners")
    who = names.pop() or _stem(path)
    answers = ListenerAnswers(who, [path], "beaqlejs")
    if entries and all(isinstance(e, bool) for e in entries):
        # AbxTest.formatResults: one boolean per test set, config order
        abx = [t for t in key["trials"] if t["design"] == "abx"]
        if len(entries) != len(abx):
            raise refuse(
                f"{len(entries)} ABX answers, the key has {len(abx)} ABX trials"
            )
        answers.covers.add("abx")
        answers.abx = {t["id"]: bool(e) for t, e in zip(abx, entries)}
        return [answers]
    answers.covers.add("mushra")
    for number, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("TestID"), str):
            raise refuse(f"entry {number} is not a MUSHRA test set")
        tid = e["TestID"]
        t = trials.get(tid)
        if t is None or t["design"] != "mushra" or tid in answers.mushra:
            raise refuse(f"TestID={tid[:40]!r} is unknown or repeated")
        if "rating" not in e:
            continue  # (a test set not run: no answers)
        rating, filename = e.get("rating"), e.get("filename")
        hidden = next(n for n, lab in t["stimuli"].items() if lab == HIDDEN_REFERENCE)
        expected = {"Reference": f"{t['reference']}.wav"}
        expected.update((n, f"{n}.wav") for n in t["stimuli"] if n != hidden)
        if (
            not isinstance(rating, dict)
            or set(rating) != set(expected)
            or filename != expected
        ):
            raise refuse(f"TestID={tid!r} rates other files than the key's")
        answers.mushra[tid] = {
            (hidden if fid == "Reference" else fid): _rating(v, path, f"{tid} {fid}")
            for fid, v in rating.items()
        }
    return [answers]


# ---------------------------------------------------------------- checks


def _merge(parts: list[ListenerAnswers]) -> list[ListenerAnswers]:
    """One entry per listener; two files answering the same trials are refused."""
    merged: dict[str, ListenerAnswers] = {}
    for part in parts:
        name = part.listener.casefold()
        if name not in merged:
            merged[name] = part
            continue
        into = merged[name]
        if into.trials() & part.trials() or into.covers & part.covers:
            raise AdcsimError(
                f"{part.sources[0]!r} and {into.sources[0]!r} are both listener "
                f"{part.listener!r}: score one of them (two sessions of one listener)"
            )
        into.sources += [s for s in part.sources if s not in into.sources]
        into.mushra.update(part.mushra)
        into.abx.update(part.abx)
        into.covers |= part.covers
    return list(merged.values())


def _check_complete(
    listeners: list[ListenerAnswers], key: dict[str, Any], allow: bool
) -> list[str]:
    notes = []
    for who in listeners:
        expected = [
            t["id"]
            for t in key["trials"]
            if t["design"] in who.covers and t["id"] not in who.trials()
        ]
        if not expected:
            continue
        shown = ", ".join(expected[:6]) + (", ..." if len(expected) > 6 else "")
        total = sum(t["design"] in who.covers for t in key["trials"])
        what = (
            f"listener {who.listener!r} ({who.sources[0]!r}) misses "
            f"{len(expected)} of {total} trials ({shown})"
        )
        if not allow:
            raise AdcsimError(f"{what}: pass --allow-incomplete to score the rest")
        notes.append(f"{what}: scored without them")
    return notes


def _check_schema(data: dict[str, Any], path: str, what: str) -> None:
    version = data.get("schema_version")
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise AdcsimError(
            f"{what} {path!r}: schema_version={_short(version)} is not one this "
            f"adcsim reads ({SCHEMA_VERSION})"
        )


def _check_session(given: Any, key: dict[str, Any], path: str) -> None:
    if given != key["session_id"]:
        raise AdcsimError(
            f"results {path!r} do not match the key: session_id={_short(given)}, "
            f"the key's is {key['session_id']!r}"
        )


def _rating(value: Any, path: str, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 <= value <= 100
    ):
        raise AdcsimError(
            f"results {path!r} do not match the key: {where}={_short(value)} "
            "not in [0, 100]"
        )
    return float(value)


def _number(text: str) -> float:
    try:
        return float(text) if len(text) <= 32 else math.nan
    except ValueError:
        return math.nan


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _read_text(path: str) -> str:
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
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdcsimError(
            f"{path!r} is not UTF-8 text (byte {exc.start}): not a key or results"
        ) from None


def _parse_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdcsimError(
            f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from exc
    except RecursionError:
        raise AdcsimError(
            f"{path!r} is nested too deeply to be a key or results"
        ) from None
    except ValueError:
        # (int() refuses more than sys.get_int_max_str_digits() digits)
        raise AdcsimError(
            f"{path!r} holds a number with too many digits: not a key or results"
        ) from None
