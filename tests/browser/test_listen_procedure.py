"""The BS.1534-3 procedure and stored progress of a session page, in Chromium.

A session of 12 stimuli per MUSHRA trial (the most BS.1534-3 allows) with
``--allow-back``: shortcuts for every stimulus, the layout at 1366x768 and on
a 390x844 touch screen, reload and resume, back, a new start after a finished
session, and the intermediate download. Skips when Playwright for Python or
Debian's /usr/bin/chromium is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adcsim.cli._listen import listen
from adcsim.io._writer import write as write_audio

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-", "="]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("procedure")
    rate = 16000
    t = np.arange(rate) / rate
    write_audio(str(root / "tone.wav"), 0.3 * np.sin(2 * np.pi * 440 * t), rate)
    out = root / "session"
    bits = ",".join(str(b) for b in range(3, 13))  # 10 + hidden ref + anchor = 12
    result = CliRunner().invoke(
        listen,
        [str(root / "tone.wav"), "-o", str(out), "--bits", bits]
        + ["--design", "both", "--trials", "1", "--excerpt", "0:0.5"]
        + ["--allow-back", "--seed", "4"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def launch(pw, tmp_path: Path, **options):
    return pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=ARGS,
        accept_downloads=True,
        **options,
    )


def trials_of(page) -> list[dict]:
    return page.evaluate("window.ADCSIM_SESSION.trials")


def ready(page, trial_id: str) -> None:
    page.wait_for_selector(f'#trial[data-state="ready"][data-trial="{trial_id}"]')


def begin(page, session: Path) -> list[dict]:
    page.goto(session.joinpath("index.html").as_uri())
    page.wait_for_load_state("load")
    trials = trials_of(page)
    page.fill("#listener", "L")
    page.click("#start")
    page.wait_for_selector('#trial[data-state="ready"][data-training="1"]')
    page.click("#next")
    ready(page, trials[0]["id"])
    return trials


def answer_mushra(page, trial: dict, top: int = 0) -> None:
    """Play every stimulus by its key, rate them, one at 100, and go on."""
    page.keyboard.press("r")
    for key in KEYS[: len(trial["stimuli"])]:
        page.keyboard.press(key)
    page.eval_on_selector_all(
        "#mushra-rows input[type=range]",
        "(ss, top) => ss.forEach((s, i) => { s.value = i === top ? 100 : 40 + i; "
        "s.dispatchEvent(new Event('input')); })",
        top,
    )
    page.keyboard.press("n")


def box_in_view(page, selector: str, width: int, height: int) -> bool:
    box = page.locator(selector).bounding_box()
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


def test_twelve_stimuli_have_keys_and_play_next_stay_visible_at_1366x768(
    session: Path, tmp_path: Path
):
    with sync_api.sync_playwright() as pw:
        browser = launch(pw, tmp_path, viewport={"width": 1366, "height": 768})
        page = browser.new_page()
        trials = begin(page, session)
        mushra = trials[0]
        assert mushra["design"] == "mushra" and len(mushra["stimuli"]) == 12
        for key, name in zip(KEYS, mushra["stimuli"], strict=True):
            page.keyboard.press(key)
            assert page.get_attribute("button.stim.active", "data-name") == name
        for selector in ("#play", "#next", "#back"):
            if page.locator(selector).is_visible():
                assert box_in_view(page, selector, 1366, 768), selector
        assert page.locator("#play").is_visible() and page.locator("#next").is_visible()
        assert page.is_visible("#help-mushra") and not page.is_visible("#help-abx")
        browser.close()


def test_no_sideways_scrolling_at_390x844_and_sliders_take_a_touch(
    session: Path, tmp_path: Path
):
    with sync_api.sync_playwright() as pw:
        browser = launch(
            pw,
            tmp_path,
            viewport={"width": 390, "height": 844},
            has_touch=True,
            is_mobile=True,
        )
        page = browser.new_page()
        page.goto(session.joinpath("index.html").as_uri())
        width = "document.scrollingElement.scrollWidth"
        assert page.evaluate(width) <= 390
        trials = begin(page, session)
        assert page.evaluate(width) <= 390
        slider = page.locator("#mushra-rows input[type=range]").first
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        assert box["x"] + box["width"] <= 390 and box["height"] >= 28
        page.touchscreen.tap(
            box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2
        )
        assert "unrated" not in (slider.get_attribute("class") or "")
        assert int(slider.input_value()) > 70
        assert box_in_view(page, "#play", 390, 844)
        assert box_in_view(page, "#next", 390, 844)
        # The ABX page too, its answer keys readable.
        page.evaluate("trialIndex = window.ADCSIM_SESSION.trials.length - 1")
        page.evaluate("showTrial()")
        ready(page, trials[-1]["id"])
        assert page.evaluate(width) <= 390
        assert page.is_visible("#help-abx") and "J" in page.inner_text("#help-abx")
        colors = page.eval_on_selector(
            "#answer-a kbd",
            "k => [getComputedStyle(k).color, getComputedStyle(k).backgroundColor]",
        )
        assert colors[0] != colors[1]
        browser.close()


def test_progress_survives_a_reload_back_and_a_new_start(session: Path, tmp_path: Path):
    with sync_api.sync_playwright() as pw:
        browser = launch(pw, tmp_path)
        page = browser.new_page()
        trials = begin(page, session)
        sid = page.evaluate("window.ADCSIM_SESSION.session_id")
        store = f"adcsim-results-{sid}"
        answer_mushra(page, trials[0], top=3)
        ready(page, trials[1]["id"])
        saved = json.loads(page.evaluate(f"localStorage.getItem('{store}')"))
        assert [r["trial"] for r in saved["mushra"]] == [trials[0]["id"]]

        # Intermediate download at any time: what is stored, not finished.
        with page.expect_download() as info:
            page.click("#download-now")
        partial = tmp_path / "partial.json"
        info.value.save_as(partial)
        assert info.value.suggested_filename.endswith("-partial.json")
        assert json.loads(partial.read_text())["mushra"] == saved["mushra"]
        assert "finished" not in json.loads(partial.read_text())

        # Reload: resume at the next unanswered trial, no familiarization.
        page.reload()
        assert page.inner_text("#start") == "Resume"
        assert "1 of" in page.inner_text("#resume-text")
        page.click("#start")
        ready(page, trials[1]["id"])
        assert page.get_attribute("#trial", "data-training") == ""

        # Back (--allow-back): the stored ratings come back, rated.
        page.click("#back")
        ready(page, trials[0]["id"])
        assert page.locator("#mushra-rows input.unrated").count() == 0
        values = page.eval_on_selector_all(
            "#mushra-rows input[type=range]", "ss => ss.map(s => Number(s.value))"
        )
        assert values == [
            saved["mushra"][0]["ratings"][n] for n in trials[0]["stimuli"]
        ]
        page.keyboard.press("n")
        for trial in trials[1:]:
            ready(page, trial["id"])
            if trial["design"] == "mushra":
                answer_mushra(page, trial)
            else:
                page.keyboard.press("k")
        page.wait_for_selector("#done:not(.hidden)")
        finished = json.loads(page.evaluate(f"localStorage.getItem('{store}')"))
        assert finished["finished"] and len(finished["abx"]) + len(
            finished["mushra"]
        ) == len(trials)

        # A new start after a finished session asks; declined, nothing changes.
        page.reload()
        page.once("dialog", lambda d: d.dismiss())
        page.click("#start")
        assert page.is_visible("#intro")
        assert json.loads(page.evaluate(f"localStorage.getItem('{store}')")) == finished
        # Accepted: the finished results are kept under their own key.
        page.once("dialog", lambda d: d.accept())
        page.click("#start")
        page.wait_for_selector('#trial[data-state="ready"][data-training="1"]')
        aside = f"{store}-finished-{finished['finished']}"
        kept = page.evaluate(f"localStorage.getItem({json.dumps(aside)})")
        assert json.loads(kept) == finished
        fresh = json.loads(page.evaluate(f"localStorage.getItem('{store}')"))
        assert fresh["mushra"] == [] and fresh["abx"] == []
        browser.close()
