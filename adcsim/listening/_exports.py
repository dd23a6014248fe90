"""Configurations of a listening session for other tools, and its README text.

Responsible for writing the webMUSHRA (``webmushra/adcsim.yaml``) and BeaqleJS
(``beaqlejs/adcsim_config.js``) configurations from a session's key trials, and
for the text of the session's ``README.txt``. Not responsible for building the
session, its stimuli, blinding or key (`adcsim.listening._session`, which calls this
module), scoring (`adcsim.listening._scoring`) or the test page
(`adcsim.listening._page`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adcsim._version import __version__


def write_export(kind: str, out: Path, key_trials: list[dict[str, Any]]) -> Path:
    """Write the configuration of another listening-test tool; return its path.

    ``kind`` is ``webmushra`` or ``beaqlejs``; the stimuli and their blinding
    are the session's own (``key_trials``).
    """
    if kind == "webmushra":
        return _export_webmushra(out, key_trials)
    return _export_beaqlejs(out, key_trials)


def _export_webmushra(out: Path, key_trials: list[dict[str, Any]]) -> Path:
    # webMUSHRA (audiolabs/webMUSHRA) reads YAML configs from configs/; JSON is a
    # subset of YAML, so the file is written with json.dumps. Paths are relative
    # to the webMUSHRA root, where README.txt says to copy audio/.
    src = "configs/resources/adcsim/"
    pages: list[Any] = []
    for t in key_trials:
        if t["design"] == "mushra":
            pages.append(
                {
                    "type": "mushra",
                    "id": t["id"],
                    "name": f"Trial {t['id']}",
                    "content": "Rate each condition against the reference.",
                    "showWaveform": True,
                    "enableLooping": True,
                    "reference": f"{src}{t['reference']}.wav",
                    "createAnchor35": False,
                    "createAnchor70": False,
                    "randomize": False,
                    "showConditionNames": False,
                    "stimuli": {n: f"{src}{n}.wav" for n in t["stimuli"]},
                }
            )
        elif t["design"] == "abx" and t["trial"] == 1:
            # webMUSHRA's paired comparison ("paired_comparison") is the closest page
            # type; it draws X itself, so it gets the A and B files of each set once.
            pages.append(
                {
                    "type": "paired_comparison",
                    "id": f"set{t['set']:02d}",
                    "name": f"ABX set {t['set']}",
                    "unforced": None,
                    "content": "Which one differs from the reference?",
                    "showWaveform": True,
                    "enableLooping": True,
                    "reference": f"{src}{t['a']}.wav",
                    "stimuli": {"B": f"{src}{t['b']}.wav"},
                }
            )
    config = {
        "testname": "adcsim listening test",
        "testId": "adcsim",
        "bufferSize": 2048,
        "stopOnErrors": True,
        "showButtonPreviousPage": True,
        "remoteService": "service/write.php",
        "pages": [
            {
                "type": "generic",
                "id": "intro",
                "name": "Welcome",
                "content": "Blind listening test built by adcsim.",
            },
            *pages,
            {
                "type": "finish",
                "name": "Thank you",
                "content": "Thank you!",
                "showResults": False,
                "writeResults": True,
                "questionnaire": [{"type": "text", "label": "name", "name": "name"}],
            },
        ],
    }
    path = out / "webmushra" / "adcsim.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def _export_beaqlejs(out: Path, key_trials: list[dict[str, Any]]) -> Path:
    # BeaqleJS (HSU-ANT/beaqlejs) takes a JS object TestConfig with TestSets of
    # named Files; "RateRef"-style MUSHRA and ABX test types use separate configs.
    mushra = [
        {
            "Name": t["id"],
            "TestID": t["id"],
            "Files": {
                "Reference": f"audio/{t['reference']}.wav",
                **{n: f"audio/{n}.wav" for n in t["stimuli"]},
            },
        }
        for t in key_trials
        if t["design"] == "mushra"
    ]
    abx = [
        {
            "Name": f"set{t['set']:02d}",
            "TestID": f"set{t['set']:02d}",
            "Files": {"A": f"audio/{t['a']}.wav", "B": f"audio/{t['b']}.wav"},
        }
        for t in key_trials
        if t["design"] == "abx" and t["trial"] == 1
    ]
    common = {
        "RandomizeTestOrder": False,
        "MaxTestsPerRun": -1,
        "RequireMaxRating": False,
        "EnableABLoop": True,
        "EnableOnlineSubmission": False,
        "SupervisorContact": "",
        "AudioRoot": "",
        "LoopByDefault": True,
        "ShowFileIDs": False,
        "ShowResults": False,
        "BrowserFeatureDetection": True,
    }
    text = "// BeaqleJS configurations written by adcsim (same stimuli and blinding).\n"
    for variable, name, sets in (("Mushra", "MUSHRA", mushra), ("Abx", "ABX", abx)):
        if sets:
            config = {"TestName": f"adcsim {name}", **common, "TestSets": sets}
            text += f"var TestConfig{variable} = {json.dumps(config, indent=2)};\n"
    path = out / "beaqlejs" / "adcsim_config.js"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def readme_text(session_id: str, key: dict[str, Any], exports: tuple[Path, ...]) -> str:
    """The README.txt telling the test leader how to run and collect a session."""
    n_m = sum(t["design"] == "mushra" for t in key["trials"])
    n_x = sum(t["design"] == "abx" for t in key["trials"])
    text = f"""adcsim blind listening session {session_id}
===========================================

This directory holds {n_m} MUSHRA trial(s) and {n_x} ABX trial(s), built by
adcsim {__version__} (the seed is in key.json only: it is part of the blinding).

FOR THE TEST LEADER
- Before giving the session to listeners, MOVE key.json OUT of this directory:
  it names every stimulus. Without it, nothing in the session says which file
  is which condition.
- Give each listener the directory (or a zip of it) without key.json.

FOR THE LISTENER
- Open index.html in a current browser (Chromium, Firefox, Safari). No network
  is needed; it runs from the file system. Use good headphones in a quiet room.
- MUSHRA: rate every stimulus 0-100 against the reference; one of them is the
  reference itself, rate it 100.
- ABX: decide whether X is A or B.
- Keys: space play/stop, R reference, A/B/X or 1-9 select a stimulus, J/K (or
  left/right) X is A / X is B, up/down move the selected slider, N or Enter next.
- At the end, press "Download results" and send the JSON file to the test
  leader. The results are also kept in the browser's local storage.

SCORING
    adcsim listen-results results/*.json --key key.json --report report.json

Every stimulus is loudness-matched to its reference (ITU-R BS.1770-4); the
gains are recorded in key.json.
"""
    for path in exports:
        if path.parent.name == "webmushra":
            text += (
                "\nwebMUSHRA: copy webmushra/adcsim.yaml into webMUSHRA's configs/\n"
                "and the "
                "audio/ files into configs/resources/adcsim/, then open\n"
                "index.html?config=adcsim.yaml on the webMUSHRA server.\n"
            )
        else:
            text += (
                "\nBeaqleJS: copy beaqlejs/adcsim_config.js and audio/ next to\n"
                "BeaqleJS's "
                "index.html and load TestConfigMushra or TestConfigAbx.\n"
            )
    return text
