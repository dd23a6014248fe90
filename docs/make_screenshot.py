"""Render docs/listen.png: a MUSHRA trial of a generated session in Chromium.

Run from the repository root (needs Playwright for Python and /usr/bin/chromium):

    .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from adcsim.listening._conditions import cross_conditions
from adcsim.listening._session import export_listening_test

ROOT = Path(__file__).resolve().parent.parent
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


def main() -> None:
    """Build a small MUSHRA session, set a few sliders, save the screenshot."""
    with tempfile.TemporaryDirectory() as tmp:
        session = export_listening_test(
            [str(ROOT / "samples" / "music-stereo-44k.wav")],
            str(Path(tmp) / "session"),
            conditions=cross_conditions(schemes=["uniform", "mulaw"], bits=[6, 10]),
            design="mushra",
            excerpt=(0.0, 2.0),
            mid_anchor=True,
            seed=1,
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path="/usr/bin/chromium",
                headless=True,
                args=ARGS,
                viewport={"width": 960, "height": 760},
            )
            page = browser.new_page()
            page.goto(session.page.as_uri())
            page.fill("#listener", "demo")
            page.click("#start")
            page.wait_for_selector('#trial[data-state="ready"][data-training="1"]')
            page.click("#next")  # past the familiarization page
            page.wait_for_selector('#trial[data-state="ready"][data-training=""]')
            sliders = page.locator("#mushra-rows input[type=range]")
            # Five rated (from 0 by the arrow keys, 5 each), the rest unrated.
            for i, value in enumerate([14, 8, 16, 11, 19]):
                if i < sliders.count():
                    sliders.nth(i).focus()
                    page.keyboard.press("Home")
                    for _ in range(value):
                        page.keyboard.press("ArrowUp")
            page.keyboard.press("3")
            page.wait_for_timeout(700)
            page.screenshot(path=str(ROOT / "docs" / "listen.png"), full_page=True)
            browser.close()


if __name__ == "__main__":
    main()
