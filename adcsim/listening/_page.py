"""The self-contained ``index.html`` of a listening session: markup and style.

Responsible for the page's HTML and CSS and for putting its script in
(`adcsim.listening._script`, the player, the procedure and the stored
progress). The page reads the trials from ``session.js`` and each stimulus
from ``stimuli/NAME.js``, both loaded with ``<script src>``; it never sees the
key. Not responsible for building sessions (`adcsim.listening._session`).

Notes
-----
Why scripts and Web Audio: a page opened from ``file://`` may not ``fetch()``
or ``XMLHttpRequest`` its neighbours in Chromium, and an ``<audio>`` element's
``file://`` media is cross-origin, so Web Audio receives silence from it.
``<script src>`` does load from ``file://``, so every stimulus is written as a
base64 data URL in a small script, decoded with ``decodeAudioData`` (the
session keeps no other copy unless an export asks for WAVs).

The page holds nothing from which an answer can be computed: no answer, hash
or check value. It cannot tell a listener whether an ABX answer was right;
``adcsim listen-results`` judges that from ``key.json``.

Layout: the transport (Play, Next, Back) is a bar fixed to the bottom of the
window, so it stays visible with 12 stimuli at 1366x768; below 600 px wide the
rows stack (button above slider) so nothing scrolls sideways at 390 px, and on
touch screens the slider thumbs are 32 px.
"""

from __future__ import annotations

from adcsim.listening._script import SCRIPT

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>adcsim listening test</title>
<style>
  :root { --fg: #1d232b; --muted: #5b6675; --accent: #2463eb; --bg: #f6f7f9;
          --card: #fff; --line: #d6dbe3; --on: #dbe7ff; --warn: #b00020; }
  * { box-sizing: border-box; }
  html, body { overflow-x: hidden; }
  body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: var(--bg); padding-bottom: 76px; }
  header { background: var(--fg); color: #fff; padding: 8px 16px; display: flex;
           align-items: center; gap: 8px 16px; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  #progress-text { margin-left: auto; font-variant-numeric: tabular-nums; }
  #progress { width: 160px; max-width: 40vw; height: 8px; }
  header button { padding: 2px 10px; font-size: 13px; }
  main { max-width: 900px; margin: 12px auto; padding: 0 12px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
          padding: 10px 16px; margin-bottom: 12px; }
  h2 { font-size: 18px; margin: 4px 0; }
  button { font: inherit; padding: 6px 14px; border: 1px solid var(--line);
           border-radius: 6px; background: #fff; color: var(--fg); cursor: pointer; }
  button:hover { border-color: var(--accent); }
  button.primary { background: var(--accent); color: #fff;
                   border-color: var(--accent); }
  button.stim.active { background: var(--on); border-color: var(--accent);
                       font-weight: 600; }
  button.stim.played::after { content: " \2713"; color: var(--muted); }
  button:disabled { opacity: 0.5; cursor: default; }
  .hidden { display: none !important; }
  .row { display: grid; grid-template-columns: 124px 1fr 56px; gap: 12px;
         align-items: center; padding: 3px 0; border-bottom: 1px solid #eef0f3;
         touch-action: pan-y; }
  .row input[type=range] { width: 100%; margin: 0; height: 28px; }
  .row input.unrated::-webkit-slider-thumb { opacity: 0; }
  .row input.unrated::-moz-range-thumb { opacity: 0; }
  .value { text-align: right; font-variant-numeric: tabular-nums; }
  .unrated-text { color: var(--warn); font-size: 12px; }
  .scale { display: grid; grid-template-columns: 124px repeat(5, 1fr) 56px;
           color: var(--muted); font-size: 12px; gap: 0 12px; }
  .scale span { text-align: center; }
  .transport { position: fixed; left: 0; right: 0; bottom: 0; z-index: 5;
               background: #fff; border-top: 1px solid var(--line);
               padding: 8px 12px; display: flex; gap: 8px 12px; align-items: center;
               flex-wrap: wrap; justify-content: center; }
  .transport label { color: var(--muted); font-size: 13px; }
  .transport input[type=number] { width: 64px; }
  #position { font-variant-numeric: tabular-nums; min-width: 64px; }
  .abx { display: flex; gap: 12px; margin: 12px 0; flex-wrap: wrap; }
  .abx button.stim { width: 90px; height: 56px; font-size: 22px; }
  .answers { display: flex; gap: 12px; flex-wrap: wrap; }
  table { border-collapse: collapse; margin: 8px 0 16px; }
  td, th { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; }
  kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px;
        padding: 0 5px; font-size: 12px; background: #fff; color: var(--fg); }
  .help { color: var(--muted); font-size: 13px; margin: 4px 0; }
  #message { color: var(--warn); font-weight: 600; margin: 6px 0; }
  @media (max-width: 600px) {
    .row { grid-template-columns: 1fr 48px; gap: 4px 8px; }
    .row button.stim { grid-column: 1 / -1; justify-self: start; }
    .scale { grid-template-columns: repeat(5, 1fr) 48px; gap: 0 4px; }
    .scale span:first-child { display: none; }
    .transport label { font-size: 12px; }
  }
  @media (pointer: coarse) {
    .row input[type=range] { height: 40px; }
    .row input[type=range]::-webkit-slider-thumb { width: 32px; height: 32px; }
  }
</style>
</head>
<body>
<header>
  <h1>adcsim blind listening test</h1>
  <progress id="progress" value="0" max="1"></progress>
  <span id="progress-text"></span>
  <button id="download-now" class="hidden"
    title="Download the results so far">Download so far</button>
</header>
<main>
  <section id="intro" class="card">
    <p>Listen with good headphones in a quiet room. You will not be told what you
      hear.</p>
    <p><label>Your name or initials: <input id="listener"
      autocomplete="off"></label></p>
    <p id="resume-text" class="help hidden"></p>
    <button id="start" class="primary">Start</button>
    <p id="error" class="hidden" style="color:#b00020"></p>
  </section>

  <section id="trial" class="card hidden" data-state="loading">
    <h2 id="trial-title"></h2>
    <p id="trial-text" class="help"></p>
    <div id="mushra" class="hidden">
      <div class="row"><button class="stim" id="ref-button"
        data-key="R">Reference</button>
        <span class="help">the open reference (<kbd>R</kbd>)</span><span></span></div>
      <div class="scale" id="scale"><span></span><span>Bad</span><span>Poor</span>
        <span>Fair</span><span>Good</span><span>Excellent</span><span></span></div>
      <div id="mushra-rows"></div>
    </div>
    <div id="abx" class="hidden">
      <div class="abx">
        <button class="stim" id="abx-a" data-key="A">A</button>
        <button class="stim" id="abx-b" data-key="B">B</button>
        <button class="stim" id="abx-x" data-key="X">X</button>
      </div>
      <div class="answers" id="answers">
        <button id="answer-a" class="primary">X is A (<kbd>J</kbd>)</button>
        <button id="answer-b" class="primary">X is B (<kbd>K</kbd>)</button>
      </div>
    </div>
    <p id="message" role="alert"></p>
    <p id="help-mushra" class="help hidden">Keys: <kbd>Space</kbd> play/stop,
      <kbd>R</kbd> reference, <kbd>1</kbd>-<kbd>9</kbd>, <kbd>0</kbd>,
      <kbd>-</kbd>, <kbd>=</kbd> stimulus 1-12,
      <kbd>&uarr;</kbd>/<kbd>&darr;</kbd> move the selected slider,
      <kbd>[</kbd>/<kbd>]</kbd> loop start/end here, <kbd>N</kbd> next,
      <kbd>Backspace</kbd> back (when allowed).</p>
    <p id="help-abx" class="help hidden">Keys: <kbd>Space</kbd> play/stop,
      <kbd>A</kbd>/<kbd>B</kbd>/<kbd>X</kbd> (or <kbd>1</kbd>/<kbd>2</kbd>/<kbd>3</kbd>)
      select, <kbd>J</kbd> (or <kbd>&larr;</kbd>) X is A, <kbd>K</kbd> (or
      <kbd>&rarr;</kbd>) X is B, <kbd>[</kbd>/<kbd>]</kbd> loop start/end here,
      <kbd>Backspace</kbd> back (when allowed).</p>
  </section>

  <section id="done" class="card hidden">
    <h2>Thank you: the test is complete</h2>
    <div id="results"></div>
    <button id="download" class="primary">Download results</button>
    <p class="help">Send the downloaded JSON file to the test leader. A copy is kept
      in this browser's local storage.</p>
  </section>
</main>
<div class="transport hidden" id="transport">
  <button id="back" class="hidden">Back</button>
  <button id="play" class="primary">Play</button>
  <span id="position">0.00 s</span>
  <label>loop <input id="loop-start" type="number" min="0" step="0.1"
    value="0"></label>
  <label>to <input id="loop-end" type="number" min="0" step="0.1" value="0">
    s</label>
  <button id="loop-reset">Whole</button>
  <button id="next" class="hidden">Next (<kbd>N</kbd>)</button>
</div>
<script src="session.js"></script>
<script>
@SCRIPT@
</script>
</body>
</html>
"""


def render_page() -> str:
    """Return the session page; it reads its trials from ``session.js``.

    Examples
    --------
    >>> page = render_page()
    >>> page.startswith("<!DOCTYPE html>"), "session.js" in page, "http" in page
    (True, True, False)
    """
    return PAGE.replace("@SCRIPT@", SCRIPT.strip("\n"))
