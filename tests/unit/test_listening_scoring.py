"""Scoring listeners' results: adcsim's, webMUSHRA's and BeaqleJS's formats.

Foreign results are written here by the test code in exactly the format of
the tool's writer: webMUSHRA's service/write.php (fputcsv rows; commit
07130f2) and BeaqleJS's js/beaqle.js DownloadTestResults / formatResults
(commit d89b6b5); the layouts are cited where they are built.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.io._writer import write as write_audio
from adcsim.listening._conditions import Condition
from adcsim.listening._scoring import binomial_p_value, mean_interval, score_results
from adcsim.listening._session import export_listening_test

RATE = 16000
SCORE = {"hidden-reference": 100.0, "q4": 40.0, "q8": 95.0, "anchor-3.5k": 10.0}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scoring")
    refs = []
    for name, f in (("item", 300), ("other", 500)):
        t = np.arange(RATE) / RATE
        x = 0.4 * np.sin(2 * np.pi * f * t)
        write_audio(str(tmp / f"{name}.wav"), x, RATE)
        refs.append(str(tmp / f"{name}.wav"))
    export_listening_test(
        refs,
        str(tmp / "s"),
        conditions=[Condition(name="q4", bits=4), Condition(name="q8", bits=8)],
        trials=4,
        seed=5,
    )
    key_path = tmp / "s" / "key.json"
    return key_path, json.loads(key_path.read_text())


def adcsim_results(key, name, *, score=None, abx_right=True, drop=()):
    score = {**SCORE, **(score or {})}
    mushra, abx = [], []
    for t in key["trials"]:
        if t["id"] in drop:
            continue
        if t["design"] == "mushra":
            ratings = {n: score[lab] for n, lab in t["stimuli"].items()}
            mushra.append({"trial": t["id"], "ratings": ratings})
        else:
            wrong = "B" if t["x_is"] == "A" else "A"
            answer = t["x_is"] if abx_right else wrong
            abx.append({"trial": t["id"], "x": t["x"], "answer": answer})
    return {
        "format": "adcsim-listening-results",
        "schema_version": 1,
        "session_id": key["session_id"],
        "listener": name,
        "mushra": mushra,
        "abx": abx,
    }


def write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_text(json.dumps(data))
    return str(path)


def score(tmp_path, key_path, results, **kwargs):
    paths = [write(tmp_path, f"r{i}.json", r) for i, r in enumerate(results)]
    return score_results(paths, str(key_path), **kwargs)


# ------------------------------------------------------------ statistics


def test_interval_is_clipped_to_the_scale():
    # t(0.975, 1) = 12.7062 (published tables): 95 +- 63.5 leaves [0, 100].
    mean, low, high = mean_interval([90.0, 100.0])
    assert mean == 95.0 and high == 100.0
    assert low == pytest.approx(95 - 12.706205 * np.std([90, 100], ddof=1) / 2**0.5)
    assert mean_interval([0.0, 10.0])[1] == 0.0


# ------------------------------------------------------------ adcsim results


def test_scores_deblind_screen_and_count(session, tmp_path):
    key_path, key = session
    people = [
        adcsim_results(key, "ann", score={"q4": 40.0}),
        adcsim_results(
            key, "bob", score={"q4": 60.0, "hidden-reference": 95.0}, abx_right=False
        ),
        adcsim_results(key, "cid", score={"hidden-reference": 80.0}),  # screened
    ]
    scores = score(tmp_path, key_path, people)
    assert scores.listeners == ["ann", "bob", "cid"]
    assert list(scores.excluded) == ["cid"]
    rows = {r["label"]: r for r in scores.mushra}
    # 2 kept listeners x 2 items
    assert rows["q4"]["n"] == 4 and rows["q4"]["listeners"] == 2
    assert rows["q4"]["mean"] == 50.0
    half = 3.182446 * np.std([40, 40, 60, 60], ddof=1) / 2  # t(0.975, 3)
    assert rows["q4"]["ci_low"] == pytest.approx(50 - half, rel=1e-6)
    assert rows["q4"]["small_sample"] is True
    abx = {r["condition"]: r for r in scores.abx}
    # ABX keeps every listener: 3 listeners x 2 items x 4 trials, 2 right always.
    assert (abx["q4"]["correct"], abx["q4"]["trials"]) == (16, 24)
    assert abx["pooled"]["p_value"] == pytest.approx(binomial_p_value(32, 48))
    report = json.loads(scores.to_json())
    assert "ABX keeps every listener" in report["screening"]
    assert "cid" in scores.table() and "ABX keeps every listener" in scores.table()


def test_by_item_and_by_listener_tables(session, tmp_path):
    key_path, key = session
    item_trials = {t["id"]: t["item"] for t in key["trials"]}
    ann = adcsim_results(key, "ann")
    for r in ann["mushra"]:  # q4 rated 20 on "item", 60 on "other"
        t = next(t for t in key["trials"] if t["id"] == r["trial"])
        for n, lab in t["stimuli"].items():
            if lab == "q4":
                r["ratings"][n] = 20.0 if item_trials[r["trial"]] == "item" else 60.0
    cid = adcsim_results(key, "cid", score={"hidden-reference": 50.0})
    scores = score(tmp_path, key_path, [ann, cid], by=("item", "listener"))
    items = {g["item"]: {r["label"]: r for r in g["mushra"]} for g in scores.by_item}
    assert items["item"]["q4"]["mean"] == 20.0 and items["other"]["q4"]["mean"] == 60.0
    assert items["item"]["q4"]["n"] == 1  # cid is screened out
    people = {g["listener"]: g for g in scores.by_listener}
    assert people["cid"]["excluded"] is True and people["ann"]["excluded"] is False
    cid_rows = {r["label"]: r for r in people["cid"]["mushra"]}
    assert cid_rows["hidden-reference"]["mean"] == 50.0
    cid_abx = {r["condition"]: r for r in people["cid"]["abx"]}
    assert (cid_abx["pooled"]["correct"], cid_abx["pooled"]["trials"]) == (16, 16)
    table = scores.table()
    assert "MUSHRA item other" in table and "MUSHRA listener cid (excluded)" in table
    assert scores.csv().count(",item,other") == len(
        next(g for g in scores.by_item if g["item"] == "other")["mushra"]
    ) + len(next(g for g in scores.by_item if g["item"] == "other")["abx"])


def test_everyone_excluded_says_so(session, tmp_path):
    key_path, key = session
    people = [adcsim_results(key, n, score={"hidden-reference": 20.0}) for n in "ab"]
    scores = score(tmp_path, key_path, people)
    assert scores.mushra == [] and len(scores.excluded) == 2
    assert "every listener was excluded by the post-screening" in scores.table()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(session_id="0" * 16), "session_id"),
        (lambda r: r.update(schema_version=2), "schema_version=2"),
        (lambda r: r.pop("schema_version"), "schema_version=None"),
        (lambda r: r["abx"][0].update(trial="x99-01"), "x99-01"),
        (lambda r: r["abx"][0].update(answer="C"), "answer='C'"),
        (lambda r: r["abx"][0].update(x="zzzzzzzz"), "x='zzzzzzzz'"),
        (lambda r: r["abx"].append(dict(r["abx"][0])), "repeated"),
        (lambda r: r["mushra"][0]["ratings"].update(extra=50), "other stimuli"),
        (
            lambda r: r["mushra"][0]["ratings"].update(
                {next(iter(r["mushra"][0]["ratings"])): 120}
            ),
            "not in \\[0, 100\\]",
        ),
        (lambda r: r.update(format="x"), "not an adcsim"),
        # a stored verdict (pages before issue 14) that the answer contradicts
        (
            lambda r: r["abx"][0].update(
                answer="A" if r["abx"][0]["answer"] == "B" else "B", correct=True
            ),
            "edited",
        ),
    ],
)
def test_results_that_do_not_match_the_key_are_refused(session, tmp_path, edit, match):
    key_path, key = session
    result = adcsim_results(key, "ann")
    edit(result)
    with pytest.raises(AdcsimError, match=match):
        score(tmp_path, key_path, [result])


def test_same_file_twice_is_refused(session, tmp_path):
    key_path, key = session
    path = write(tmp_path, "ann.json", adcsim_results(key, "ann"))
    with pytest.raises(AdcsimError, match="given twice"):
        score_results([path, path], str(key_path))
    copy = write(tmp_path, "copy.json", Path(path).read_text())
    with pytest.raises(AdcsimError, match="given twice"):
        score_results([path, copy], str(key_path))


def test_two_files_of_one_listener_are_refused(session, tmp_path):
    key_path, key = session
    first = adcsim_results(key, "Ann")
    second = adcsim_results(key, "ann", abx_right=False)
    with pytest.raises(AdcsimError, match="both listener 'ann'"):
        score(tmp_path, key_path, [first, second])


def test_incomplete_results_need_allow_incomplete(session, tmp_path):
    key_path, key = session
    drop = [key["trials"][0]["id"], key["trials"][-1]["id"]]
    result = adcsim_results(key, "ann", drop=drop)
    with pytest.raises(AdcsimError, match="--allow-incomplete") as info:
        score(tmp_path, key_path, [result])
    assert f"misses 2 of {len(key['trials'])} trials" in str(info.value)
    scores = score(tmp_path, key_path, [result], allow_incomplete=True)
    assert any(
        drop[0] in note and "scored without them" in note for note in scores.notes
    )
    assert sum(r["trials"] for r in scores.abx[:-1]) == 15


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"a": ' + "9" * 5000 + "}", "too many digits"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>", "UTF-8"),
        (os.urandom(4096).replace(b"{", b"\xff"), "UTF-8"),
        ("{oops", "not valid JSON"),
        ("hello", "not listening results"),
    ],
)
@pytest.mark.parametrize("role", ["results", "key"])
def test_hostile_files_are_one_line_errors(session, tmp_path, content, match, role):
    key_path, key = session
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(b"\xff" + content)
    else:
        bad.write_text(content)
    good = write(tmp_path, "ann.json", adcsim_results(key, "ann"))
    if role == "key":
        if match == "not listening results":
            match = "not valid JSON"
        with pytest.raises(AdcsimError, match=match):
            score_results([good], str(bad))
    else:
        with pytest.raises(AdcsimError, match=match):
            score_results([str(bad)], str(key_path))


def test_key_with_unknown_schema_version_is_refused(session, tmp_path):
    key_path, key = session
    other = write(tmp_path, "key.json", {**key, "schema_version": 9})
    good = write(tmp_path, "ann.json", adcsim_results(key, "ann"))
    with pytest.raises(AdcsimError, match="schema_version=9"):
        score_results([good], other)


# ------------------------------------------------------------ webMUSHRA


def webmushra_csvs(key, listeners):
    """mushra.csv and paired_comparison.csv as service/write.php writes them.

    write.php: header ``session_test_id``, the questionnaire names (ours:
    ``name``), then mushra ``session_uuid, trial_id, rating_stimulus,
    rating_score, rating_time, rating_comment``; paired comparison ``trial_id,
    choice_reference, choice_non_reference, choice_answer, choice_time,
    choice_comment``; fputcsv rows. MushraAudioControl.js names the hidden
    reference ``reference``; PairedComparisonPage.js store() writes the
    reference's id ``reference``, the stimulus key, and correct/incorrect.
    """
    test_id = f"adcsim-{key['session_id']}"
    m, p = io.StringIO(), io.StringIO()
    mw, pw = csv.writer(m, lineterminator="\n"), csv.writer(p, lineterminator="\n")
    mw.writerow(
        [
            "session_test_id",
            "name",
            "session_uuid",
            "trial_id",
            "rating_stimulus",
            "rating_score",
            "rating_time",
            "rating_comment",
        ]
    )
    pw.writerow(
        [
            "session_test_id",
            "name",
            "trial_id",
            "choice_reference",
            "choice_non_reference",
            "choice_answer",
            "choice_time",
            "choice_comment",
        ]
    )
    for number, (who, scores, right) in enumerate(listeners):
        uuid = f"5f0c{number:04d}-0000-4000-8000-000000000000"
        for t in key["trials"]:
            if t["design"] == "mushra":
                for n, lab in t["stimuli"].items():
                    sid = "reference" if lab == "hidden-reference" else n
                    mw.writerow(
                        [test_id, who, uuid, t["id"], sid, int(scores[lab]), 5123, ""]
                    )
            else:
                other = t["a"] if t["a_label"] != "reference" else t["b"]
                pw.writerow(
                    [
                        test_id,
                        who,
                        t["id"],
                        "reference",
                        other,
                        "correct" if right else "incorrect",
                        3020,
                        "",
                    ]
                )
    return m.getvalue(), p.getvalue()


def test_webmushra_csv_is_deblinded_with_the_key(session, tmp_path):
    key_path, key = session
    m, p = webmushra_csvs(
        key, [("ann", SCORE, True), ("bob", {**SCORE, "q4": 60.0}, False)]
    )
    paths = [write(tmp_path, "mushra.csv", m), write(tmp_path, "paired.csv", p)]
    scores = score_results(paths, str(key_path))
    assert scores.listeners == ["ann", "bob"] and scores.excluded == {}
    rows = {r["label"]: r for r in scores.mushra}
    assert rows["q4"]["mean"] == 50.0 and rows["hidden-reference"]["mean"] == 100.0
    abx = {r["condition"]: r for r in scores.abx}
    assert (abx["q8"]["correct"], abx["q8"]["trials"]) == (8, 16)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m, p: (m.replace("adcsim-", "other-"), p), "session_test_id"),
        (lambda m, p: (m.replace(",m01,", ",m09,"), p), "trial_id='m09'"),
        (lambda m, p: (m.rsplit("\n", 2)[0] + "\n", p), "rates 3 stimuli"),
        (lambda m, p: (m, p.replace(",reference,", ",zzz,", 1)), "pair"),
    ],
)
def test_webmushra_csv_that_does_not_fit_is_refused(session, tmp_path, edit, match):
    key_path, key = session
    m, p = edit(*webmushra_csvs(key, [("ann", SCORE, True)]))
    paths = [write(tmp_path, "mushra.csv", m), write(tmp_path, "paired.csv", p)]
    with pytest.raises(AdcsimError, match=match):
        score_results(paths, str(key_path))


def test_webmushra_listener_with_two_sessions_is_refused(session, tmp_path):
    key_path, key = session
    m, _ = webmushra_csvs(key, [("ann", SCORE, True), ("ann", SCORE, True)])
    with pytest.raises(AdcsimError, match="two sessions"):
        score_results([write(tmp_path, "mushra.csv", m)], str(key_path))


# ------------------------------------------------------------ BeaqleJS


def beaqlejs_files(key, who, scores, right):
    """BeaqleJS downloads: JSON.stringify(EvalResults) then the user object.

    MushraTest.formatResults: per test set {TestID, Runtime, rating, filename},
    keyed by the Files keys, the hidden reference as "Reference";
    AbxTest.formatResults: one boolean per test set, config order.
    """
    user = {"UserName": who, "UserEmail": "", "UserComment": "Your comment..."}
    mushra = []
    for t in key["trials"]:
        if t["design"] != "mushra":
            continue
        files = {"Reference": f"{t['reference']}.wav"}
        rating = {}
        for n, lab in t["stimuli"].items():
            if lab == "hidden-reference":
                rating["Reference"] = int(scores[lab])
            else:
                files[n] = f"{n}.wav"
                rating[n] = int(scores[lab])
        mushra.append(
            {"TestID": t["id"], "Runtime": 1625, "rating": rating, "filename": files}
        )
    abx = [right for t in key["trials"] if t["design"] == "abx"]
    return json.dumps([*mushra, user]), json.dumps([*abx, user])


def test_beaqlejs_results_are_deblinded_and_merged_per_listener(session, tmp_path):
    key_path, key = session
    paths = []
    for who, q4, right in (("ann", 40.0, True), ("bob", 60.0, False)):
        m, x = beaqlejs_files(key, who, {**SCORE, "q4": q4}, right)
        paths += [
            write(tmp_path, f"{who}_m.txt", m),
            write(tmp_path, f"{who}_x.txt", x),
        ]
    scores = score_results(paths, str(key_path))
    assert scores.listeners == ["ann", "bob"]
    rows = {r["label"]: r for r in scores.mushra}
    assert rows["q4"]["mean"] == 50.0 and rows["hidden-reference"]["n"] == 4
    assert scores.abx[-1]["correct"] == 16 and scores.abx[-1]["trials"] == 32


@pytest.mark.parametrize(
    ("which", "edit", "match"),
    [
        (0, lambda d: d[0].update(TestID="m77"), "m77"),
        (0, lambda d: d[0]["rating"].pop("Reference"), "other files"),
        (0, lambda d: d[0]["filename"].update(Reference="x.wav"), "other files"),
        (1, lambda d: d.pop(0), "ABX answers"),
        (1, lambda d: d.pop(), "no UserName"),
    ],
)
def test_beaqlejs_results_that_do_not_fit_are_refused(
    session, tmp_path, which, edit, match
):
    key_path, key = session
    data = json.loads(beaqlejs_files(key, "ann", SCORE, True)[which])
    edit(data)
    with pytest.raises(AdcsimError, match=match):
        score_results([write(tmp_path, "r.txt", json.dumps(data))], str(key_path))
