"""Configurations of a listening session for other tools, and its README text.

Responsible for writing the webMUSHRA (``webmushra/adcsim.yaml``) and BeaqleJS
(``beaqlejs/adcsim_mushra.js``, ``beaqlejs/adcsim_abx.js``) configurations from a
session's key trials, in exactly the fields those tools read, and for the text
of the session's ``README.txt``. Not responsible for building the session, its
stimuli, blinding or key (`adcsim.listening._session`, which calls this
module), reading those tools' results (`adcsim.listening._foreign`), scoring
(`adcsim.listening._scoring`) or the test page (`adcsim.listening._page`).

Notes
-----
Checked against webMUSHRA at commit 07130f2 (audiolabs/webMUSHRA, main, May
2025) and BeaqleJS at commit d89b6b5 (HSU-ANT/beaqlejs, master, February
2019); the comments below cite their files. Both tools add the reference to
the rated stimuli themselves (the hidden reference), so the exports list the
open reference once and never adcsim's own hidden-reference file. Both tools
draw their own A/B order and X, so an exported ABX trial names only the two
files; one adcsim trial is one page (webMUSHRA) or one test set (BeaqleJS).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from adcsim._version import __version__

#: Where README.txt tells the test leader to copy ``audio/`` in each tool's tree.
WEBMUSHRA_AUDIO = "configs/resources/adcsim/"
BEAQLEJS_AUDIO = "audio/adcsim/"
#: webMUSHRA refuses a MUSHRA page whose reference is longer than this unless
#: ``strict: false`` (lib/webmushra/misc/MushraValidator.js,
#: checkStimulusDuration; MushraPage.js calls it only when strict !== false).
WEBMUSHRA_STRICT_MAX_S = 12.0
#: The words webMUSHRA's paired comparison page asks (lib/webmushra/nls/nls.js,
#: nls['en']['quest']); the page content must not contradict them.
WEBMUSHRA_PC_QUESTION = "Which item is the reference?"
MUSHRA_TEXT = (
    "Rate the basic audio quality of every condition against the reference, "
    "0-100. One of the conditions is the reference itself: rate it 100."
)
ABX_TEXT = (
    "One of A and B is the reference itself, the other differs from it. "
    "Listen to the reference, A and B, then choose the one that is the reference."
)


def write_export(kind: str, out: Path, key: dict[str, Any]) -> Path:
    """Write the configuration of another listening-test tool; return its path.

    ``kind`` is ``webmushra`` (one file) or ``beaqlejs`` (its directory, holding
    one file per design present); the stimuli and their blinding are the
    session's own (its ``key``), the WAV files in ``out/audio``.
    """
    if kind == "webmushra":
        return _export_webmushra(out, key["session_id"], key["trials"])
    return _export_beaqlejs(out, key["session_id"], key["trials"])


def session_test_id(session_id: str) -> str:
    """The webMUSHRA ``testId`` of a session: its CSV rows carry it.

    Examples
    --------
    >>> session_test_id("0123456789abcdef")
    'adcsim-0123456789abcdef'
    """
    return f"adcsim-{session_id}"


def abx_sides(trial: dict[str, Any]) -> tuple[str, str]:
    """The (reference, other) files of an ABX trial, for tools that name a reference.

    The stimulus labelled ``reference`` is the reference; in a trial between
    two conditions, A is.

    Examples
    --------
    >>> abx_sides({"a": "p", "b": "q", "a_label": "q4", "b_label": "reference"})
    ('q', 'p')
    """
    if trial.get("b_label") == "reference":
        return trial["b"], trial["a"]
    return trial["a"], trial["b"]


# ---------------------------------------------------------------- webMUSHRA


def _export_webmushra(
    out: Path, session_id: str, key_trials: list[dict[str, Any]]
) -> Path:
    src = WEBMUSHRA_AUDIO
    mushra: list[Any] = []
    abx: list[Any] = []
    n_abx = sum(t["design"] == "abx" for t in key_trials)
    for t in key_trials:
        if t["design"] == "mushra":
            # Keys of `stimuli` are the condition ids written to the results
            # (MushraPage.js: new Stimulus(key, ...); store(): rating.name): the
            # blinded names. MushraAudioControl.js appends the reference itself
            # as a condition with id "reference", so adcsim's hidden-reference
            # file is left out; its anchors are files, so createAnchor* stay off.
            stimuli = {
                n: f"{src}{n}.wav"
                for n, label in t["stimuli"].items()
                if label != "hidden-reference"
            }
            page: dict[str, Any] = {
                "type": "mushra",
                "id": t["id"],
                "name": f"Trial {len(mushra) + 1}",
                "content": MUSHRA_TEXT,
                "showWaveform": True,
                "enableLooping": True,
                "reference": f"{src}{t['reference']}.wav",
                "createAnchor35": False,
                "createAnchor70": False,
                # MushraAudioControl.js shuffles unless randomize === false.
                "randomize": True,
                "showConditionNames": False,
                "stimuli": stimuli,
            }
            if _duration_s(out, t["reference"]) > WEBMUSHRA_STRICT_MAX_S:
                page["strict"] = False
            mushra.append(page)
        elif t["design"] == "abx":
            # PairedComparisonPageManager.js makes one page per stimulus and
            # shuffles reference and stimulus as A and B; one stimulus per page
            # config makes one page per adcsim trial, its results under the
            # page id (PairedComparisonPage.js store(): trial.id = pageConfig.id).
            ref, other = abx_sides(t)
            page = {
                "type": "paired_comparison",
                "id": t["id"],
                "name": f"ABX trial {len(abx) + 1} of {n_abx}",
                "content": ABX_TEXT,
                "showWaveform": True,
                "enableLooping": True,
                "reference": f"{src}{ref}.wav",
                "stimuli": {other: f"{src}{other}.wav"},
            }
            abx.append(page)
    pages: list[Any] = [
        {
            "type": "generic",
            "id": "intro",
            "name": "Welcome",
            "content": "Blind listening test built by adcsim. Use good headphones "
            "in a quiet room.",
        }
    ]
    # A list whose first element is "random" is shuffled per listener
    # (startup.js, addPagesToPageManager).
    if len(mushra) > 1:
        pages.append(["random", *mushra])
    else:
        pages += mushra
    pages += abx
    pages.append(
        {
            "type": "finish",
            "name": "Thank you",
            "content": "Thank you! Please enter your name or initials and send "
            "the results.",
            "showResults": False,
            "writeResults": True,
            # service/write.php writes one CSV column per questionnaire name;
            # listen-results tells listeners apart by it.
            "questionnaire": [
                {"type": "text", "label": "Name or initials", "name": "name"}
            ],
        }
    )
    config = {
        "testname": "adcsim listening test",
        "testId": session_test_id(session_id),
        "bufferSize": 2048,
        "stopOnErrors": True,
        "showButtonPreviousPage": True,
        "remoteService": "service/write.php",
        "pages": pages,
    }
    text = (
        f"# webMUSHRA configuration written by adcsim {__version__} for session "
        f"{session_id}\n# (checked against webMUSHRA commit 07130f2). Stimuli are "
        f"expected in {src}.\n" + to_block_yaml(config)
    )
    path = out / "webmushra" / "adcsim.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


def to_block_yaml(data: Any, indent: int = 0) -> str:
    """Block-style YAML of dicts, lists, str, bool and int, for small parsers.

    webMUSHRA's bundled parser (lib/external/yaml/yaml.min.js, a port of
    Symfony's YAML) cannot read multi-line flow (JSON) collections, so every
    collection is written in block style and every string single-quoted
    (``''`` for a quote: no escapes to interpret).

    Examples
    --------
    >>> print(to_block_yaml({"a": 1, "b": [True, "x'y"], "c": {"2d": "z"}}), end="")
    a: 1
    b:
      - true
      - 'x''y'
    c:
      '2d': 'z'
    """
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = _yaml_key(key)
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{name}:\n{to_block_yaml(value, indent + 2)}")
            else:
                lines.append(f"{pad}{name}: {_yaml_scalar(value)}\n")
    elif isinstance(data, list):
        for value in data:
            if isinstance(value, dict) and value:
                inner = to_block_yaml(value, indent + 4)
                lines.append(f"{pad}  - {inner[indent + 4 :]}")
            elif isinstance(value, list) and value:
                lines.append(f"{pad}  -\n{to_block_yaml(value, indent + 4)}")
            else:
                lines.append(f"{pad}  - {_yaml_scalar(value)}\n")
    else:
        raise TypeError(f"not a YAML collection: {type(data).__name__}")
    return "".join(lines)


def _yaml_key(key: str) -> str:
    if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS:
        return key
    return _yaml_scalar(key)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    if isinstance(value, str):
        if "\n" in value:
            raise ValueError("multi-line strings are not written")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"not a YAML scalar: {type(value).__name__}")


# ---------------------------------------------------------------- BeaqleJS


#: The options every BeaqleJS test class reads (js/beaqle.js, ListeningTest
#: and its setDefaults; README.md section 3.1), set as a lab wants them.
BEAQLEJS_COMMON: dict[str, Any] = {
    "LoopByDefault": True,
    "AutoReturnByDefault": True,
    "ShowFileIDs": False,  # (would show the blinded names: never in a test)
    "ShowResults": False,
    "EnableABLoop": True,
    "EnableOnlineSubmission": False,  # results are downloaded as a JSON file
    "BeaqleServiceURL": "",
    "SupervisorContact": "",
    "RandomizeTestOrder": True,
    "MaxTestsPerRun": -1,
    "AudioRoot": BEAQLEJS_AUDIO,
}
#: What MushraTest reads besides (js/beaqle.js, createTestDOM and saveRatings;
#: README.md section 3.4); the images ship with BeaqleJS in img/.
BEAQLEJS_MUSHRA: dict[str, Any] = {
    "RateScalePng": "img/scale_abs.png",
    "RateScaleBgPng": "img/scale_abs_background.png",
    "RateMinValue": 0,
    "RateMaxValue": 100,
    "RateDefaultValue": 0,
    # BS.1534-3: the hidden reference is rated 100, so one rating must be.
    "RequireMaxRating": True,
}


def _export_beaqlejs(
    out: Path, session_id: str, key_trials: list[dict[str, Any]]
) -> Path:
    mushra: list[dict[str, Any]] = []
    abx: list[dict[str, Any]] = []
    for t in key_trials:
        if t["design"] == "mushra":
            # MushraTest.createFileMapping shuffles every key of Files,
            # "Reference" included, into the rated items (the hidden reference,
            # rated under "Reference"); the open reference is Files.Reference.
            files = {"Reference": f"{t['reference']}.wav"}
            files.update(
                (n, f"{n}.wav")
                for n, label in t["stimuli"].items()
                if label != "hidden-reference"
            )
            mushra.append(
                {"Name": f"Trial {len(mushra) + 1}", "TestID": t["id"], "Files": files}
            )
        elif t["design"] == "abx":
            # AbxTest.createTestDOM draws X from A and B itself; the results
            # are one boolean per test set, in Testsets order (formatResults).
            abx.append(
                {
                    "Name": f"ABX trial {len(abx) + 1}",
                    "TestID": t["id"],
                    "Files": {"A": f"{t['a']}.wav", "B": f"{t['b']}.wav"},
                }
            )
    folder = out / "beaqlejs"
    folder.mkdir(exist_ok=True)
    for name, extra, sets in (
        ("mushra", BEAQLEJS_MUSHRA, mushra),
        ("abx", {}, abx),
    ):
        if not sets:
            continue
        config = {
            "TestName": f"adcsim {name.upper()} {session_id}",
            **BEAQLEJS_COMMON,
            **extra,
            "Testsets": sets,
        }
        # index.html loads one config file and passes `TestConfig` to the test
        # class (new MushraTest(TestConfig) or new AbxTest(TestConfig)).
        (folder / f"adcsim_{name}.js").write_text(
            f"// BeaqleJS {name.upper()} configuration written by adcsim "
            f"{__version__} (checked against BeaqleJS commit d89b6b5).\n"
            f"var TestConfig = {json.dumps(config, indent=2)};\n",
            encoding="utf-8",
        )
    return folder


# ---------------------------------------------------------------- helpers


def _duration_s(out: Path, name: str) -> float:
    from adcsim.io._reader import AudioReader

    reader = AudioReader(str(out / "audio" / f"{name}.wav"))
    try:
        info = reader.info
    finally:
        reader.close()
    return (info.frames or 0) / info.rate


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
        if path.name == "adcsim.yaml":
            text += f"""
webMUSHRA (checked against commit 07130f2 of its main branch)
- Copy webmushra/adcsim.yaml into webMUSHRA's configs/ and the audio/ files
  into {WEBMUSHRA_AUDIO} (key.json stays with you), serve webMUSHRA (PHP for
  service/write.php) and open index.html?config=adcsim.yaml.
- webMUSHRA adds the hidden reference and draws A and B itself. MUSHRA pages
  over {WEBMUSHRA_STRICT_MAX_S:g} s are written with strict: false (webMUSHRA
  refuses them otherwise).
- Score: adcsim listen-results results/{session_test_id(session_id)}/*.csv \\
      --key key.json
"""
        else:
            text += f"""
BeaqleJS (checked against commit d89b6b5 of its master branch)
- Copy beaqlejs/adcsim_mushra.js and/or adcsim_abx.js into BeaqleJS's config/
  and the audio/ files into {BEAQLEJS_AUDIO}. In BeaqleJS's index.html load
  config/adcsim_mushra.js with new MushraTest(TestConfig), or
  config/adcsim_abx.js with new AbxTest(TestConfig).
- BeaqleJS adds the hidden reference and draws X itself.
- Score the downloaded files: adcsim listen-results *.txt --key key.json
"""
    return text
