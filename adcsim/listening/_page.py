"""The self-contained ``index.html`` of a listening session (HTML, CSS and JS).

Responsible for the page only: it reads the trials from ``session.js`` and each
stimulus from ``stimuli/NAME.js``, both loaded with ``<script src>``; it never
sees the key. Not responsible for building sessions (`adcsim.listening._session`).

Notes
-----
Why scripts and Web Audio: a page opened from ``file://`` may not ``fetch()``
or ``XMLHttpRequest`` its neighbours in Chromium, and an ``<audio>`` element's
``file://`` media is cross-origin, so Web Audio receives silence from it.
``<script src>`` does load from ``file://``, so every stimulus is also written
as a base64 data URL in a small script, decoded with ``decodeAudioData`` (the
session keeps no other copy unless an export asks for WAVs). All
stimuli of a trial then play in one `AudioContext` from the same start time,
each through its own gain; switching ramps the gains over 5 ms (a crossfade at
the same playback position: no restart, no click).

The page holds nothing from which an answer can be computed: no answer, hash
or check value. It cannot tell a listener whether an ABX answer was right;
``adcsim listen-results`` judges that from ``key.json``.
"""

from __future__ import annotations

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>adcsim listening test</title>
<style>
  :root { --fg: #1d232b; --muted: #5b6675; --accent: #2463eb; --bg: #f6f7f9; --card:
    #fff;
          --line: #d6dbe3; --on: #dbe7ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: var(--bg); }
  header { background: var(--fg); color: #fff; padding: 10px 20px; display: flex;
           align-items: center; gap: 20px; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  #progress-text { margin-left: auto; font-variant-numeric: tabular-nums; }
  #progress { width: 200px; height: 8px; }
  main { max-width: 900px; margin: 20px auto; padding: 0 16px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
          padding: 16px 20px; margin-bottom: 16px; }
  button { font: inherit; padding: 6px 14px; border: 1px solid var(--line);
    border-radius: 6px;
           background: #fff; cursor: pointer; }
  button:hover { border-color: var(--accent); }
  button.primary { background: var(--accent); color: #fff; border-color:
    var(--accent); }
  button.stim.active { background: var(--on); border-color: var(--accent);
    font-weight: 600; }
  button:disabled { opacity: 0.5; cursor: default; }
  .hidden { display: none !important; }
  .row { display: grid; grid-template-columns: 124px 1fr 48px; gap: 12px;
    align-items: center;
         padding: 6px 0; border-bottom: 1px solid #eef0f3; }
  .row input[type=range] { width: 100%; }
  .value { text-align: right; font-variant-numeric: tabular-nums; }
  .scale { display: grid; grid-template-columns: 124px repeat(5, 1fr) 48px; color:
    var(--muted);
           font-size: 12px; gap: 0 12px; }
  .scale span { text-align: center; }
  .transport { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  .transport label { color: var(--muted); font-size: 13px; }
  .transport input[type=number] { width: 80px; }
  #position { font-variant-numeric: tabular-nums; min-width: 110px; }
  .abx { display: flex; gap: 12px; margin: 12px 0; }
  .abx button.stim { width: 90px; height: 60px; font-size: 22px; }
  .answers { display: flex; gap: 12px; }
  table { border-collapse: collapse; margin: 8px 0 16px; }
  td, th { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; }
  kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px;
        padding: 0 5px; font-size: 12px; background: #fff; }
  .help { color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>adcsim blind listening test</h1>
  <progress id="progress" value="0" max="1"></progress>
  <span id="progress-text"></span>
</header>
<main>
  <section id="intro" class="card">
    <p>Listen with good headphones in a quiet room. You will not be told what you
      hear.</p>
    <p><label>Your name or initials: <input id="listener"
      autocomplete="off"></label></p>
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
      <div class="scale"><span></span><span>Bad</span><span>Poor</span><span>Fair</span>
        <span>Good</span><span>Excellent</span><span></span></div>
      <div id="mushra-rows"></div>
    </div>
    <div id="abx" class="hidden">
      <div class="abx">
        <button class="stim" id="abx-a" data-key="A">A</button>
        <button class="stim" id="abx-b" data-key="B">B</button>
        <button class="stim" id="abx-x" data-key="X">X</button>
      </div>
      <div class="answers">
        <button id="answer-a" class="primary">X is A (<kbd>J</kbd>)</button>
        <button id="answer-b" class="primary">X is B (<kbd>K</kbd>)</button>
      </div>
    </div>
    <hr>
    <div class="transport">
      <button id="play" class="primary">Play</button>
      <span id="position">0.00 s</span>
      <label>loop from <input id="loop-start" type="number" min="0" step="0.1"
        value="0"> s</label>
      <label>to <input id="loop-end" type="number" min="0" step="0.1" value="0">
        s</label>
      <button id="loop-reset">Whole excerpt</button>
      <button id="next" class="hidden">Next (<kbd>N</kbd>)</button>
    </div>
    <p class="help">Keys: <kbd>Space</kbd> play/stop, <kbd>R</kbd> reference,
      <kbd>1</kbd>-<kbd>9</kbd> or <kbd>A</kbd>/<kbd>B</kbd>/<kbd>X</kbd> select,
      <kbd>&uarr;</kbd>/<kbd>&darr;</kbd> move the selected slider,
      <kbd>[</kbd>/<kbd>]</kbd> loop start/end here, <kbd>N</kbd> next.</p>
  </section>

  <section id="done" class="card hidden">
    <h2>Thank you: the test is complete</h2>
    <div id="results"></div>
    <button id="download" class="primary">Download results</button>
    <p class="help">Send the downloaded JSON file to the test leader. A copy is kept
      in this
      browser's local storage.</p>
  </section>
</main>
<script src="session.js"></script>
<script>
"use strict";
const S = window.ADCSIM_SESSION;
const RAMP = 0.005;
const data = {};          // name -> data URL, filled by stimuli/NAME.js
const buffers = {};       // name -> AudioBuffer
let ctx = null;
let trialIndex = 0;
let results = null;
let active = null;        // selected stimulus name
let voices = null;        // {name: {src, gain}} while playing
let t0 = 0, offset0 = 0, loopStart = 0, loopEnd = 0, duration = 0;
let mushraOrder = [];

window.adcsimStimulus = function (name, url) { data[name] = url; };
const $ = (id) => document.getElementById(id);

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error("cannot load " + src));
    document.head.appendChild(s);
  });
}

async function loadBuffer(name) {
  if (buffers[name]) return buffers[name];
  if (!data[name]) await loadScript("stimuli/" + name + ".js");
  const b64 = data[name].slice(data[name].indexOf(",") + 1);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  buffers[name] = await ctx.decodeAudioData(bytes.buffer);
  delete data[name];
  return buffers[name];
}

function trialNames(t) {
  return t.design === "mushra" ? [t.reference, ...t.stimuli] : [t.a, t.b, t.x];
}

function position() {
  if (!voices) return offset0;
  const p = offset0 + (ctx.currentTime - t0);
  if (p < loopEnd) return p;
  return loopStart + ((p - loopStart) % (loopEnd - loopStart));
}

function startVoices(at) {
  const t = S.trials[trialIndex];
  const when = ctx.currentTime + 0.02;
  voices = {};
  for (const name of trialNames(t)) {
    const src = ctx.createBufferSource();
    src.buffer = buffers[name];
    src.loop = true;
    src.loopStart = loopStart;
    src.loopEnd = loopEnd;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, when);
    if (name === active) gain.gain.linearRampToValueAtTime(1, when + RAMP);
    src.connect(gain).connect(ctx.destination);
    src.start(when, at);
    voices[name] = { src, gain };
  }
  t0 = when;
  offset0 = at;
  $("play").textContent = "Stop";
}

function stopVoices() {
  if (!voices) return;
  offset0 = position();
  const now = ctx.currentTime;
  for (const v of Object.values(voices)) {
    v.gain.gain.cancelScheduledValues(now);
    v.gain.gain.setValueAtTime(v.gain.gain.value, now);
    v.gain.gain.linearRampToValueAtTime(0, now + RAMP);
    v.src.stop(now + RAMP + 0.005);
  }
  voices = null;
  $("play").textContent = "Play";
}

function select(name) {
  active = name;
  document.querySelectorAll("button.stim").forEach((b) =>
    b.classList.toggle("active", b.dataset.name === name));
  if (!voices) {
    startVoices(Math.min(Math.max(offset0, loopStart), loopEnd - 0.01));
    return;
  }
  // Crossfade at the same playback position: every voice keeps running.
  const now = ctx.currentTime;
  for (const [n, v] of Object.entries(voices)) {
    const g = v.gain.gain;
    g.cancelScheduledValues(now);
    g.setValueAtTime(g.value, now);
    g.linearRampToValueAtTime(n === name ? 1 : 0, now + RAMP);
  }
}

function togglePlay() {
  if (voices) { stopVoices(); return; }
  if (!active) {
    const t = S.trials[trialIndex];
    select(t.design === "mushra" ? t.reference : t.a);
    return;
  }
  startVoices(Math.min(Math.max(offset0, loopStart), loopEnd - 0.01));
}

function setLoop(start, end) {
  const playing = !!voices;
  const at = position();
  if (playing) stopVoices();
  loopStart = Math.max(0, Math.min(start, duration - 0.1));
  loopEnd = Math.min(duration, Math.max(end, loopStart + 0.1));
  $("loop-start").value = loopStart.toFixed(2);
  $("loop-end").value = loopEnd.toFixed(2);
  offset0 = Math.min(Math.max(at, loopStart), loopEnd - 0.01);
  if (playing) startVoices(offset0);
}

function save() {
  results.updated = new Date().toISOString();
  try {
    localStorage.setItem("adcsim-results-" + S.session_id, JSON.stringify(results));
  } catch (e) { /* storage may be disabled: the download still works */ }
}

function stimButton(name, label, key) {
  const b = document.createElement("button");
  b.className = "stim";
  b.textContent = label;
  b.dataset.name = name;
  b.dataset.key = key;
  b.addEventListener("click", () => select(name));
  return b;
}

async function showTrial() {
  stopVoices();
  active = null;
  const t = S.trials[trialIndex];
  const section = $("trial");
  section.dataset.state = "loading";
  section.dataset.trial = t.id;
  section.dataset.design = t.design;
  $("progress").max = S.trials.length;
  $("progress").value = trialIndex;
  $("progress-text").textContent =
    "Trial " + (trialIndex + 1) + " of " + S.trials.length;
  $("mushra").classList.toggle("hidden", t.design !== "mushra");
  $("abx").classList.toggle("hidden", t.design !== "abx");
  $("next").classList.toggle("hidden", t.design !== "mushra");
  if (t.design === "mushra") {
    $("trial-title").textContent = "MUSHRA: rate each stimulus against the reference";
    $("trial-text").textContent =
      "One of the stimuli is the reference itself; rate it 100.";
    const ref = $("ref-button");
    ref.dataset.name = t.reference;
    ref.onclick = () => select(t.reference);
    const rows = $("mushra-rows");
    rows.textContent = "";
    mushraOrder = t.stimuli;
    t.stimuli.forEach((name, i) => {
      const row = document.createElement("div");
      row.className = "row";
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = 0; slider.max = 100; slider.step = 1; slider.value = 0;
      slider.dataset.name = name;
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = "0";
      slider.addEventListener("input", () => { value.textContent = slider.value; });
      slider.addEventListener("focus", () => select(name));
      row.append(stimButton(name, "Stimulus " + (i + 1), String(i + 1)), slider, value);
      rows.append(row);
    });
  } else {
    $("trial-title").textContent =
      "ABX set " + t.set + ", trial " + t.trial + " of " + t.of;
    $("trial-text").textContent = "X is either A or B. Which one?";
    [["abx-a", t.a], ["abx-b", t.b], ["abx-x", t.x]].forEach(([id, name]) => {
      const b = $(id);
      b.dataset.name = name;
      b.onclick = () => select(name);
    });
  }
  document.querySelectorAll("button.stim").forEach((b) => b.classList.remove("active"));
  const loaded = await Promise.all(trialNames(t).map(loadBuffer));
  duration = Math.min(...loaded.map((b) => b.duration));
  $("loop-start").max = $("loop-end").max = duration.toFixed(2);
  offset0 = 0;
  setLoop(0, duration);
  section.dataset.state = "ready";
}

function next() {
  const t = S.trials[trialIndex];
  if (t.design === "mushra") {
    const ratings = {};
    document.querySelectorAll("#mushra-rows input[type=range]").forEach((s) => {
      ratings[s.dataset.name] = Number(s.value);
    });
    results.mushra.push({ trial: t.id, ratings });
  }
  save();
  trialIndex += 1;
  if (trialIndex < S.trials.length) showTrial().catch(fail);
  else finish();
}

function answer(letter) {
  const t = S.trials[trialIndex];
  if (t.design !== "abx" || $("trial").dataset.state !== "ready") return;
  results.abx.push({ trial: t.id, x: t.x, answer: letter });
  next();
}

function finish() {
  stopVoices();
  $("trial").classList.add("hidden");
  $("done").classList.remove("hidden");
  $("progress").value = S.trials.length;
  $("progress-text").textContent = "Done";
  results.finished = new Date().toISOString();
  save();
  const out = $("results");
  out.textContent = "";
  const sets = {};
  for (const r of results.abx) {
    const t = S.trials.find((u) => u.id === r.trial);
    const s = sets[t.set] || (sets[t.set] = { trials: 0 });
    s.trials += 1;
  }
  const table = (head, rows) => {
    const el = document.createElement("table");
    el.innerHTML = "<tr>" + head.map((h) => "<th>" + h + "</th>").join("") + "</tr>" +
      rows.map((r) => "<tr>" + r.map((c) => "<td>" + c + "</td>").join("") + "</tr>")
        .join("");
    return el;
  };
  if (Object.keys(sets).length) {
    const h = document.createElement("h3");
    h.textContent = "ABX";
    const note = document.createElement("p");
    note.className = "help";
    note.textContent = "Answers are judged by the test leader: this page " +
      "does not know which are right.";
    out.append(h, note, table(["set", "trials answered"],
      Object.entries(sets).map(([k, s]) => [k, s.trials])));
    out.lastChild.id = "abx-results";
  }
  if (results.mushra.length) {
    const h = document.createElement("h3");
    h.textContent = "MUSHRA (your ratings, stimuli in the order shown)";
    out.append(h, table(["trial", "ratings"], results.mushra.map((r) => {
      const t = S.trials.find((u) => u.id === r.trial);
      return [r.trial,
              t.stimuli.map((n, i) => (i + 1) + ": " + r.ratings[n]).join(", ")];
    })));
    out.lastChild.id = "mushra-results";
  }
}

function download() {
  const blob = new Blob([JSON.stringify(results, null, 2)],
                        { type: "application/json" });
  const a = document.createElement("a");
  const who = (results.listener || "listener").replace(/[^A-Za-z0-9_-]+/g, "_");
  a.href = URL.createObjectURL(blob);
  a.download = "adcsim-results-" + S.session_id + "-" + who + ".json";
  document.body.append(a);
  a.click();
  a.remove();
}

function fail(err) {
  $("error").textContent = String(err && err.message ? err.message : err);
  $("error").classList.remove("hidden");
  $("intro").classList.remove("hidden");
  throw err;
}

function onKey(e) {
  if (e.target.tagName === "INPUT" && e.target.type !== "range") return;
  const section = $("trial");
  if (section.classList.contains("hidden") || section.dataset.state !== "ready") return;
  const t = S.trials[trialIndex];
  const k = e.key.toLowerCase();
  let handled = true;
  if (k === " ") togglePlay();
  else if (k === "[") setLoop(position(), loopEnd);
  else if (k === "]") setLoop(loopStart, position());
  else if (t.design === "mushra") {
    const n = Number(k);
    if (k === "r") select(t.reference);
    else if (n >= 1 && n <= mushraOrder.length) select(mushraOrder[n - 1]);
    else if ((k === "arrowup" || k === "arrowdown") && mushraOrder.includes(active)) {
      const s =
        document.querySelector('#mushra-rows input[data-name="' + active + '"]');
      s.value = Number(s.value) + (k === "arrowup" ? 1 : -1) * (e.shiftKey ? 1 : 5);
      s.dispatchEvent(new Event("input"));
    } else if (k === "n" || k === "enter") next();
    else handled = false;
  } else {
    if (k === "a" || k === "1") select(t.a);
    else if (k === "b" || k === "2") select(t.b);
    else if (k === "x" || k === "3") select(t.x);
    else if (k === "j" || k === "arrowleft") answer("A");
    else if (k === "k" || k === "arrowright") answer("B");
    else handled = false;
  }
  if (handled) e.preventDefault();
}

$("start").addEventListener("click", () => {
  ctx = ctx || new AudioContext();
  ctx.resume();
  results = { format: "adcsim-listening-results", schema_version: 1,
              session_id: S.session_id, listener: $("listener").value.trim(),
              started: new Date().toISOString(), user_agent: navigator.userAgent,
              mushra: [], abx: [] };
  $("intro").classList.add("hidden");
  $("trial").classList.remove("hidden");
  showTrial().catch(fail);
});
$("play").addEventListener("click", togglePlay);
$("next").addEventListener("click", next);
$("answer-a").addEventListener("click", () => answer("A"));
$("answer-b").addEventListener("click", () => answer("B"));
$("loop-start").addEventListener("change",
                                (e) => setLoop(Number(e.target.value), loopEnd));
$("loop-end").addEventListener("change",
                              (e) => setLoop(loopStart, Number(e.target.value)));
$("loop-reset").addEventListener("click", () => setLoop(0, duration));
$("download").addEventListener("click", download);
document.addEventListener("keydown", onKey);
setInterval(() => { $("position").textContent = position().toFixed(2) + " s"; }, 100);
$("progress-text").textContent = S.trials.length + " trials";
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
    return PAGE
