"""A generated listening session driven in headless Chromium (Playwright).

Skips when Playwright for Python or Debian's /usr/bin/chromium is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from adcsim.cli._listen import listen, listen_results
from adcsim.io._writer import write as write_audio
from adcsim.listening._stimuli import stimulus_wav
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


#: The page's own script globals and their values, as text.
GLOBALS = """JSON.stringify(Object.keys(window)
  .filter((k) => !(k in Object.getPrototypeOf(window)))
  .map((k) => {
    try { return [k, JSON.stringify(window[k])]; } catch (e) { return k; }
  }))
"""


def rate_all(page, value: int) -> None:
    """Set every MUSHRA slider of the trial shown, as a listener's drag would."""
    page.eval_on_selector_all(
        "#mushra-rows input[type=range]",
        "(ss, v) => ss.forEach((s) => { s.value = v; "
        "s.dispatchEvent(new Event('input')); })",
        value,
    )


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

    # Every stimulus the page plays (its base64 WAV) is loudness-matched to the
    # reference within 0.5 LU.
    mushra = next(t for t in trials if t["design"] == "mushra")
    ref, rate = sf.read(io.BytesIO(stimulus_wav(session, mushra["reference"])))
    ref_lufs = integrated_loudness(ref, rate=rate)
    for name in all_names(trials):
        x, rate = sf.read(io.BytesIO(stimulus_wav(session, name)))
        assert abs(integrated_loudness(x, rate=rate) - ref_lufs) < 0.5, name

    page.fill("#listener", "tester")
    page.click("#start")
    # Familiarization: the first trial's stimuli, unscored, no sliders.
    page.wait_for_selector('#trial[data-state="ready"][data-training="1"]')
    assert page.locator("#mushra-rows input").count() == 0
    assert page.locator("#mushra-rows button.stim").count() == len(trials[0]["stimuli"])
    page.click("#next")
    hidden = next(
        n for n, lab in key["trials"][0]["stimuli"].items() if lab == "hidden-reference"
    )
    for index, trial in enumerate(trials):
        page.wait_for_selector(
            f'#trial[data-state="ready"][data-trial="{trial["id"]}"]'
        )
        for name in page.eval_on_selector_all(
            "#trial:not(.hidden) button.stim:visible",
            "bs => bs.map(b => b.dataset.name)",
        ):
            assert (session / "stimuli" / f"{name}.js").is_file()
        if trial["design"] == "mushra":
            # BS.1534-3: unrated at first; leaving needs every stimulus played
            # and rated and one rated 100.
            assert page.locator("#mushra-rows input.unrated").count() == len(
                trial["stimuli"]
            )
            assert page.inner_text("#mushra-rows .value") == "unrated"
            page.keyboard.press("n")
            message = page.inner_text("#message")
            assert "play stimulus 1, 2" in message and "rate stimulus 1, 2" in message
            assert page.get_attribute("#trial", "data-trial") == trial["id"]
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
            for i in range(2, len(trial["stimuli"]) + 1):
                page.keyboard.press(str(i))
            sliders = page.locator("#mushra-rows input[type=range]")
            for i in range(sliders.count()):
                sliders.nth(i).focus()
                page.keyboard.press("Home")  # 0, now rated
                for _ in range(i + 1):
                    page.keyboard.press("ArrowUp")  # +5 each
            page.evaluate("document.activeElement.blur()")
            page.keyboard.press("n")
            assert page.inner_text("#message") == (
                "Before going on: rate at least one stimulus 100 (one of them is "
                "the reference itself)."
            )
            top = next(n for n in trial["stimuli"] if n != hidden)
            page.eval_on_selector(
                f'#mushra-rows input[data-name="{top}"]',
                "s => { s.value = 100; s.dispatchEvent(new Event('input')); }",
            )
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
    assert "correct" not in page.inner_text("#done")
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
    order = trials[0]["stimuli"]
    assert ratings == {n: 100 if n == top else 5 * (i + 1) for i, n in enumerate(order)}
    assert ratings[hidden] < 90
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


def _words_of_the_key(key: dict) -> set[str]:
    """Every string in the key a listener must not find: labels, conditions,
    roles, paths, and hashes of the answers (as the old page carried)."""
    words = {"x_is", "salt", "check", "correct", "anchor", "hidden_reference"}
    words |= {s["label"] for s in key["stimuli"].values() if s["label"] != "reference"}
    for c in key["conditions"]:
        words |= {c["name"], c["scheme"] or "", c["path"] or ""}
    for item in key["items"]:
        words |= {item["name"], item["path"]}
    for t in key["trials"]:
        if t["design"] == "abx":
            for text in (t["x_is"], f"{t['id']}:{t['x_is']}", f"{t['x']}{t['x_is']}"):
                words.add(hashlib.sha256(text.encode()).hexdigest()[:8])
    return {w for w in words if len(w) > 2}


def test_page_scripts_dom_and_files_give_no_answer_away(session: Path, page):
    key = json.loads((session / "key.json").read_text())
    (session / "key.json").rename(session.parent / "key.json")  # as README says
    words = _words_of_the_key(key)
    # 1. The files a listener gets hold no word of the key.
    own = sorted(p for p in session.rglob("*") if p.is_file())
    for path in own:
        text = path.read_bytes().decode("latin-1").lower()
        for w in words:
            assert w.lower() not in text, (path.name, w)
    # 2. session.js holds per trial only names, ids and counters: nothing else
    #    from which an answer could be computed.
    page.goto(session.joinpath("index.html").as_uri())
    page.wait_for_load_state("load")
    public = page.evaluate("window.ADCSIM_SESSION")
    assert set(public) == {
        "options",
        "format",
        "schema_version",
        "session_id",
        "adcsim_version",
        "trials",
    }
    for t in public["trials"]:
        allowed = (
            {"id", "design", "reference", "stimuli"}
            if t["design"] == "mushra"
            else {"id", "design", "set", "trial", "of", "a", "b", "x"}
        )
        assert set(t) == allowed
    # 3. The DOM and the script globals while every trial is shown.
    page.fill("#listener", "attacker")
    page.click("#start")
    page.wait_for_selector('#trial[data-state="ready"][data-training="1"]')
    page.keyboard.press("n")
    for trial in public["trials"]:
        page.wait_for_selector(
            f'#trial[data-state="ready"][data-trial="{trial["id"]}"]'
        )
        dom = page.content().lower()
        state = page.evaluate(GLOBALS).lower()
        for w in words:
            assert w.lower() not in dom and w.lower() not in state, w
        if trial["design"] == "mushra":
            page.keyboard.press("r")
            for i in range(len(trial["stimuli"])):
                page.keyboard.press(str(i + 1))
            rate_all(page, 100)
            page.keyboard.press("n")
        else:
            page.keyboard.press("j")
    page.wait_for_selector("#done:not(.hidden)")
    stored = page.evaluate(
        f"localStorage.getItem('adcsim-results-{public['session_id']}')"
    )
    assert "correct" not in stored
    # 4. Bytes and sizes: no two files alike; within a trial the WAVs differ
    #    only by their JUNK chunk, whose length is random (sizes tell nothing).
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in own]
    assert len(set(digests)) == len(digests)
    for t in public["trials"]:
        names = (
            [t["reference"], *t["stimuli"]]
            if t["design"] == "mushra"
            else [t["a"], t["b"], t["x"]]
        )
        wavs = [stimulus_wav(session, n) for n in names]
        sizes = [(session / "stimuli" / f"{n}.js").stat().st_size for n in names]
        assert len(set(sizes)) == len(sizes)
        stripped = set()
        for w in wavs:
            junk = int.from_bytes(w[16:20], "little")
            assert w[12:16] == b"JUNK" and 16 <= junk <= 4110
            stripped.add(w[20 + junk : 20 + junk + 36])  # fmt and data headers
        assert len(stripped) == 1
