"""A generated listening session driven in headless Chromium (Playwright).

Skips when Playwright for Python or Debian's /usr/bin/chromium is missing.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adcsim.cli._listen import listen, listen_results
from adcsim.io._reader import read as read_audio
from adcsim.io._writer import write as write_audio
from adcsim.metrics._loudness import integrated_loudness

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"
    ),
    pytest.mark.slow,
]


@pytest.fixture
def session(tmp_path: Path) -> Path:
    rate = 44100
    t = np.arange(3 * rate) / rate
    rng = np.random.default_rng(7)
    mono = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    write_audio(str(tmp_path / "tone.wav"), np.column_stack([mono, 0.7 * mono]), rate)
    out = tmp_path / "session"
    result = CliRunner().invoke(
        listen,
        [
            str(tmp_path / "tone.wav"),
            "-o",
            str(out),
            "--bits",
            "5",
            "--trials",
            "3",
            "--excerpt",
            "0.5:1.5",
            "--seed",
            "11",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def page(tmp_path: Path):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            accept_downloads=True,
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def all_names(trials: list[dict]) -> set[str]:
    names: set[str] = set()
    for t in trials:
        if t["design"] == "mushra":
            names |= {t["reference"], *t["stimuli"]}
        else:
            names |= {t["a"], t["b"], t["x"]}
    return names


def test_session_runs_in_chromium_and_scores(session: Path, page, tmp_path: Path):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(session.joinpath("index.html").as_uri())
    page.wait_for_load_state("load")
    trials = page.evaluate("window.ADCSIM_SESSION.trials")
    session_id = page.evaluate("window.ADCSIM_SESSION.session_id")
    assert errors == []

    # Nothing the page loads names a condition or role.
    key = json.loads((session / "key.json").read_text())
    page_text = (session / "index.html").read_text() + (
        session / "session.js"
    ).read_text()
    for word in ["uniform", "5bit", "hidden-reference", "anchor", "x_is"]:
        assert word not in page_text

    # Every stimulus: an existing WAV, loudness-matched to the reference within
    # 0.5 LU, and the page's base64 copy holds the same bytes.
    mushra = next(t for t in trials if t["design"] == "mushra")
    ref, rate = read_audio(str(session / "audio" / f"{mushra['reference']}.wav"))
    ref_lufs = integrated_loudness(ref, rate=rate.rate)
    for name in all_names(trials):
        wav = session / "audio" / f"{name}.wav"
        x, info = read_audio(str(wav))
        assert abs(integrated_loudness(x, rate=info.rate) - ref_lufs) < 0.5, name
        js = (session / "stimuli" / f"{name}.js").read_text()
        payload = re.search(r"base64,([A-Za-z0-9+/=]+)", js).group(1)
        assert base64.b64decode(payload) == wav.read_bytes()

    page.fill("#listener", "tester")
    page.click("#start")
    for index, trial in enumerate(trials):
        page.wait_for_selector(
            f'#trial[data-state="ready"][data-trial="{trial["id"]}"]'
        )
        for src in page.eval_on_selector_all(
            "#trial:not(.hidden) button.stim:visible",
            "bs => bs.map(b => b.dataset.src)",
        ):
            assert (session / src).is_file()
        if trial["design"] == "mushra":
            page.click("#ref-button")
            page.keyboard.press("1")
            assert (
                page.get_attribute("button.stim.active", "data-name")
                == trial["stimuli"][0]
            )
            page.wait_for_timeout(600)
            before = page.evaluate("position()")
            page.keyboard.press("2")  # switch while playing: same position, no restart
            after = page.evaluate("position()")
            assert 0.4 < before <= after < before + 0.3
            page.keyboard.press(" ")  # stop
            page.keyboard.press(" ")  # play again
            sliders = page.locator("#mushra-rows input[type=range]")
            for i in range(sliders.count()):
                sliders.nth(i).focus()
                for _ in range(i + 1):
                    page.keyboard.press("ArrowUp")  # +5 each
            page.fill("#loop-start", "0.2")
            page.dispatch_event("#loop-start", "change")
            assert page.input_value("#loop-start") == "0.20"
            page.evaluate("document.activeElement.blur()")
            page.keyboard.press("n")
        else:
            page.keyboard.press("a")
            page.keyboard.press("b")
            page.click("#abx-x")
            if index % 2:
                page.click("#answer-b")
            else:
                page.keyboard.press("j")
    page.wait_for_selector("#done:not(.hidden)")
    assert page.locator("#abx-results tr").count() == 2  # header + one set
    assert page.locator("#mushra-results tr").count() == 2
    with page.expect_download() as info:
        page.click("#download")
    path = tmp_path / "results.json"
    info.value.save_as(path)
    stored = page.evaluate(f"localStorage.getItem('adcsim-results-{session_id}')")
    assert json.loads(stored) == json.loads(path.read_text())
    assert errors == []

    downloaded = json.loads(path.read_text())
    ratings = downloaded["mushra"][0]["ratings"]
    assert sorted(ratings.values()) == [5 * (i + 1) for i in range(len(ratings))]
    result = CliRunner().invoke(
        listen_results,
        [str(path), "--key", str(session / "key.json"), "--report", "-"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    abx_trials = [t for t in key["trials"] if t["design"] == "abx"]
    expected = sum(
        ("B" if i % 2 else "A") == t["x_is"]
        for i, t in enumerate(key["trials"])
        if t["design"] == "abx"
    )
    assert report["abx"][0] == {
        "condition": "uniform-5bit",
        "trials": len(abx_trials),
        "correct": expected,
        "p_value": report["abx"][0]["p_value"],
    }
    # The hidden reference got at most 5 * 5 < 90: this listener is screened out.
    assert list(report["excluded"]) == ["tester"]
