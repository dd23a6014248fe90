"""The webMUSHRA and BeaqleJS exports hold exactly what those tools read.

The tools' sources cannot be fetched in CI, so each test names the file (and
function) of the tool that reads the field: webMUSHRA at commit 07130f2
(audiolabs/webMUSHRA), BeaqleJS at commit d89b6b5 (HSU-ANT/beaqlejs). The YAML
is read with PyYAML, an independent parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from adcsim.io._writer import write as write_audio
from adcsim.listening._conditions import Condition
from adcsim.listening._exports import to_block_yaml
from adcsim.listening._session import export_listening_test

RATE = 16000


def tone(path: Path, seconds: float) -> str:
    t = np.arange(round(seconds * RATE)) / RATE
    rng = np.random.default_rng(3)
    x = 0.4 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(t.size)
    write_audio(str(path), x, RATE)
    return str(path)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    refs = [tone(tmp / "item.wav", 1.0), tone(tmp / "other.wav", 1.0)]
    export_listening_test(
        refs,
        str(tmp / "s"),
        conditions=[Condition(name="q4", bits=4), Condition(name="q8", bits=8)],
        trials=3,
        seed=5,
        mid_anchor=True,
        export=["webmushra", "beaqlejs"],
    )
    out = tmp / "s"
    key = json.loads((out / "key.json").read_text())
    return out, key


def webmushra(out: Path) -> tuple[str, dict]:
    text = (out / "webmushra" / "adcsim.yaml").read_text()
    return text, yaml.safe_load(text)


def pages(config: dict) -> list[dict]:
    flat = []
    for page in config["pages"]:
        if isinstance(page, list):
            # startup.js addPagesToPageManager: a list led by "random" is shuffled
            assert page[0] == "random"
            flat += page[1:]
        else:
            flat.append(page)
    return flat


def beaqlejs(out: Path, name: str) -> dict:
    text = (out / "beaqlejs" / f"adcsim_{name}.js").read_text()
    # index.html passes the global `TestConfig` to new MushraTest / new AbxTest.
    body = re.search(r"^var TestConfig = (.*);\s*$", text, re.S | re.M)
    assert body is not None
    return json.loads(body.group(1))


# ------------------------------------------------------------ webMUSHRA


def test_webmushra_yaml_is_block_style_without_flow_collections(session):
    # lib/external/yaml/yaml.min.js (Symfony YAML port) cannot read multi-line
    # flow collections: no line may open or continue one.
    text, config = webmushra(session[0])
    for line in text.splitlines():
        assert not re.search(r"[\[{,]\s*$", line), line
        assert not line.lstrip().startswith(("{", "[", '"')), line
    assert config["testname"] == "adcsim listening test"


def test_webmushra_top_level_fields_are_the_documented_ones(session):
    # doc/experimenter.md "Configuration"; startup.js reads testname, testId,
    # bufferSize, stopOnErrors, showButtonPreviousPage, remoteService, pages.
    out, key = session
    _, config = webmushra(out)
    assert list(config) == [
        "testname",
        "testId",
        "bufferSize",
        "stopOnErrors",
        "showButtonPreviousPage",
        "remoteService",
        "pages",
    ]
    # service/write.php writes testId as session_test_id in every CSV row.
    assert config["testId"] == f"adcsim-{key['session_id']}"
    assert config["bufferSize"] in (256, 512, 1024, 2048, 4096, 8192, 16384)
    assert config["remoteService"] == "service/write.php"
    assert config["pages"][0]["type"] == "generic"
    assert config["pages"][-1]["type"] == "finish"  # "must be the last page"
    assert config["pages"][-1]["writeResults"] is True


def test_webmushra_mushra_pages_leave_the_hidden_reference_to_webmushra(session):
    out, key = session
    _, config = webmushra(out)
    by_id = {p["id"]: p for p in pages(config) if p["type"] == "mushra"}
    trials = [t for t in key["trials"] if t["design"] == "mushra"]
    assert set(by_id) == {t["id"] for t in trials}
    for t in trials:
        page = by_id[t["id"]]
        # MushraAudioControl.js appends the reference as a condition itself.
        hidden = [n for n, lab in t["stimuli"].items() if lab == "hidden-reference"]
        expected = {n for n in t["stimuli"] if n not in hidden}
        assert {Path(v).stem for v in page["stimuli"].values()} == expected
        assert set(page["stimuli"]) == expected  # keys = ids in the results
        assert Path(page["reference"]).stem == t["reference"]
        # MushraValidator.checkNumConditions: at most 12 without the reference.
        assert len(page["stimuli"]) <= 12
        assert page["randomize"] is True  # shuffled unless randomize === false
        assert page["createAnchor35"] is False and page["createAnchor70"] is False
        assert page["showConditionNames"] is False
        assert "strict" not in page  # 1 s stimuli: webMUSHRA's checks apply
    # two items: the MUSHRA pages are shuffled per listener
    assert [p[0] for p in config["pages"] if isinstance(p, list)] == ["random"]


def test_webmushra_abx_is_one_paired_comparison_page_per_trial(session):
    out, key = session
    _, config = webmushra(out)
    pcs = [p for p in pages(config) if p["type"] == "paired_comparison"]
    trials = [t for t in key["trials"] if t["design"] == "abx"]
    assert [p["id"] for p in pcs] == [t["id"] for t in trials]
    for page, t in zip(pcs, trials):
        labels = {t["a"]: t["a_label"], t["b"]: t["b_label"]}
        # PairedComparisonPageManager.js: one page per stimulus, the
        # reference shuffled with it as A and B.
        assert len(page["stimuli"]) == 1
        assert labels[Path(page["reference"]).stem] == "reference"
        (other,) = page["stimuli"]
        assert labels[other] == t["condition"]
        assert "unforced" not in page  # forced choice
        # nls.js nls['en']['quest'] asks "Which item is the reference?"
        assert "choose the one that is the reference" in page["content"]
        assert "differs from the reference?" not in page["content"]


def test_webmushra_pages_over_12_s_are_not_strict(tmp_path):
    # MushraPage.js runs checkStimulusDuration (> 12 s is an error) unless
    # strict === false.
    ref = tone(tmp_path / "long.wav", 12.5)
    export_listening_test(
        [ref],
        str(tmp_path / "s"),
        conditions=[Condition(name="q8", bits=8)],
        design="mushra",
        export=["webmushra"],
    )
    _, config = webmushra(tmp_path / "s")
    (page,) = [p for p in pages(config) if p["type"] == "mushra"]
    assert page["strict"] is False
    assert "strict: false" in (tmp_path / "s" / "README.txt").read_text()


def test_every_file_an_export_names_is_in_the_session(session):
    out, _ = session
    _, config = webmushra(out)
    named = set()
    for page in pages(config):
        if "reference" in page:
            named |= {page["reference"], *page["stimuli"].values()}
    for path in named:
        assert path.startswith("configs/resources/adcsim/")
        assert (out / "audio" / Path(path).name).is_file()
    for name in ("mushra", "abx"):
        config = beaqlejs(out, name)
        for testset in config["Testsets"]:
            for file in testset["Files"].values():
                assert (out / "audio" / file).is_file()


def test_block_yaml_round_trips_through_an_independent_parser():
    data = {
        "a": "it's: # not a comment",
        "pages": [{"x": 1, "y": [True, False]}, ["random", {"23456789": "n"}]],
        "true": "key that is a YAML word",
        "empty": {},
    }
    assert yaml.safe_load(to_block_yaml(data)) == data


# ------------------------------------------------------------ BeaqleJS


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        # js/beaqle.js ListeningTest: $('#TestTitle').html(TestConfig.TestName)
        ("TestName", None, "ListeningTest constructor"),
        ("LoopByDefault", True, "ListeningTest constructor, initAudio"),
        ("AutoReturnByDefault", True, "ListeningTest constructor, initAudio"),
        ("ShowFileIDs", False, "MushraTest.createTestDOM (would show names)"),
        ("ShowResults", False, "ListeningTest.nextTest"),
        ("EnableABLoop", True, "ListeningTest constructor"),
        ("EnableOnlineSubmission", False, "ListeningTest.nextTest"),
        ("BeaqleServiceURL", "", "ListeningTest.SubmitTestResults"),
        ("SupervisorContact", "", "ListeningTest.nextTest"),
        ("RandomizeTestOrder", True, "ListeningTest.startTests"),
        ("MaxTestsPerRun", -1, "ListeningTest.startTests (-1: all)"),
        ("AudioRoot", "audio/adcsim/", "ListeningTest.addAudio"),
    ],
)
@pytest.mark.parametrize("design", ["mushra", "abx"])
def test_beaqlejs_general_option(session, field, value, where, design):
    config = beaqlejs(session[0], design)
    assert field in config, where
    if value is not None:
        assert config[field] == value, where
    else:
        assert config[field].startswith("adcsim")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # MushraTest.createTestDOM: <img src=RateScalePng>, the sliders'
        # background RateScaleBgPng, their min/max/value; both images ship in
        # BeaqleJS's img/.
        ("RateScalePng", "img/scale_abs.png"),
        ("RateScaleBgPng", "img/scale_abs_background.png"),
        ("RateMinValue", 0),
        ("RateMaxValue", 100),
        ("RateDefaultValue", 0),
        # MushraTest.saveRatings: one rating must equal RateMaxValue.
        ("RequireMaxRating", True),
    ],
)
def test_beaqlejs_mushra_option(session, field, value):
    assert beaqlejs(session[0], "mushra")[field] == value


def test_beaqlejs_has_testsets_and_no_invented_options(session):
    for design in ("mushra", "abx"):
        config = beaqlejs(session[0], design)
        # startTests reads TestConfig.Testsets (TestSets throws at Start).
        assert "Testsets" in config and "TestSets" not in config
        assert "BrowserFeatureDetection" not in config
        for testset in config["Testsets"]:
            assert list(testset) == ["Name", "TestID", "Files"]


def test_beaqlejs_mushra_lists_the_open_reference_once(session):
    out, key = session
    sets = {s["TestID"]: s for s in beaqlejs(out, "mushra")["Testsets"]}
    trials = [t for t in key["trials"] if t["design"] == "mushra"]
    assert set(sets) == {t["id"] for t in trials}
    for t in trials:
        files = sets[t["id"]]["Files"]
        # MushraTest.createFileMapping shuffles "Reference" into the rated
        # items itself: adcsim's hidden-reference file must not be there too.
        assert files["Reference"] == f"{t['reference']}.wav"
        rated = {n for n, lab in t["stimuli"].items() if lab != "hidden-reference"}
        assert set(files) - {"Reference"} == rated
        assert len(files) == len(t["stimuli"])  # reference + rated = key's count


def test_beaqlejs_abx_is_one_testset_per_trial_with_a_and_b(session):
    out, key = session
    sets = beaqlejs(out, "abx")["Testsets"]
    trials = [t for t in key["trials"] if t["design"] == "abx"]
    # AbxTest.formatResults stores one boolean per test set, in this order.
    assert [s["TestID"] for s in sets] == [t["id"] for t in trials]
    for s, t in zip(sets, trials):
        assert s["Files"] == {"A": f"{t['a']}.wav", "B": f"{t['b']}.wav"}
        assert t["condition"] not in s["Name"]
