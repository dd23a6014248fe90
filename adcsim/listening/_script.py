"""The script of a session's page: player, BS.1534-3 procedure, stored progress.

Responsible for the JavaScript that `adcsim.listening._page` puts in
``index.html``: the Web Audio player, the order of the pages (familiarization,
then every trial), what a listener must do before leaving a trial, and the
results kept in the browser. Not responsible for the markup (``_page``) or the
session (`adcsim.listening._session`).

Notes
-----
Player: all stimuli of a trial play in one `AudioContext` from the same start
time, each through its own gain; switching ramps the gains over 5 ms (a
crossfade at the same playback position: no restart, no click).

Procedure (ITU-R BS.1534-3): a familiarization page first plays the first
trial's stimuli unscored; sliders start "unrated" (no thumb, no value), and a
MUSHRA trial is left only when every stimulus was played and rated and one is
rated 100 (the hidden reference is among them; BS.1534-3 asks listeners to
rate it 100). A back button exists only when the session allows it
(``--allow-back``). Keys: ``1``-``9``, ``0``, ``-``, ``=`` select stimuli
1-12 (by physical key, ``KeyboardEvent.code``, so other layouts work too).

Progress: the results are written to ``localStorage`` when the listener starts
and after every answer. A reload resumes at the first unanswered trial; a new
start after a finished session asks first and keeps the finished results under
a second key (``...-finished-TIME``): nothing stored is overwritten. "Download
so far" saves the results at any time (without ``finished``).
"""

from __future__ import annotations

SCRIPT = r"""
"use strict";
const S = window.ADCSIM_SESSION;
const OPTIONS = S.options || {};
const RAMP = 0.005;
const STORE = "adcsim-results-" + S.session_id;
const KEYS = ["Digit1", "Digit2", "Digit3", "Digit4", "Digit5", "Digit6", "Digit7",
              "Digit8", "Digit9", "Digit0", "Minus", "Equal"];
const KEY_LABELS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-", "="];
const data = {};          // name -> data URL, filled by stimuli/NAME.js
const buffers = {};       // name -> AudioBuffer
let ctx = null;
let trialIndex = 0;
let training = false;
let results = null;
let active = null;        // selected stimulus name
let voices = null;        // {name: {src, gain}} while playing
let played = new Set();   // stimuli of this trial heard while playing
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

function markPlayed(name) {
  if (!name || played.has(name)) return;
  played.add(name);
  document.querySelectorAll("button.stim").forEach((b) => {
    if (b.dataset.name === name) b.classList.add("played");
  });
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
  markPlayed(active);
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
  markPlayed(name);
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

// ------------------------------------------------------------ stored results

function stored() {
  try {
    const text = localStorage.getItem(STORE);
    return text ? JSON.parse(text) : null;
  } catch (e) { return null; }
}

function save() {
  results.updated = new Date().toISOString();
  try {
    localStorage.setItem(STORE, JSON.stringify(results));
  } catch (e) { /* storage may be disabled: the download still works */ }
}

function entry(t) {
  const list = t.design === "mushra" ? results.mushra : results.abx;
  return list.find((r) => r.trial === t.id) || null;
}

function setEntry(t, value) {
  const list = t.design === "mushra" ? results.mushra : results.abx;
  const i = list.findIndex((r) => r.trial === t.id);
  if (i >= 0) list[i] = value; else list.push(value);
}

function nextUnanswered() {
  const i = S.trials.findIndex((t) => !entry(t));
  return i < 0 ? S.trials.length : i;
}

function answeredCount(r) {
  return (r.mushra || []).length + (r.abx || []).length;
}

// ------------------------------------------------------------ trials

function stimButton(name, label, key) {
  const b = document.createElement("button");
  b.className = "stim";
  b.textContent = label;
  b.dataset.name = name;
  b.dataset.key = key;
  b.title = "key " + key;
  b.addEventListener("click", () => select(name));
  return b;
}

function showMessage(text) {
  $("message").textContent = text;
  $("trial").dataset.blocked = text ? "1" : "";
}

async function showTrial() {
  stopVoices();
  active = null;
  played = new Set();
  showMessage("");
  const t = S.trials[trialIndex];
  const done = training ? null : entry(t);
  const section = $("trial");
  section.dataset.state = "loading";
  section.dataset.trial = t.id;
  section.dataset.design = t.design;
  section.dataset.training = training ? "1" : "";
  $("progress").max = S.trials.length;
  $("progress").value = trialIndex;
  $("progress-text").textContent = training ? "Familiarization" :
    "Trial " + (trialIndex + 1) + " of " + S.trials.length;
  $("mushra").classList.toggle("hidden", t.design !== "mushra");
  $("abx").classList.toggle("hidden", t.design !== "abx");
  $("help-mushra").classList.toggle("hidden", t.design !== "mushra");
  $("help-abx").classList.toggle("hidden", t.design !== "abx");
  $("answers").classList.toggle("hidden", training);
  $("scale").classList.toggle("hidden", training);
  $("next").classList.toggle("hidden", t.design !== "mushra" && !training);
  $("next").innerHTML = training ? "Begin the test" : "Next (<kbd>N</kbd>)";
  $("back").classList.toggle("hidden",
                             !OPTIONS.allow_back || training || trialIndex === 0);
  if (t.design === "mushra") {
    $("trial-title").textContent = training
      ? "Familiarization (not scored): listen to every stimulus"
      : "MUSHRA: rate each stimulus against the reference";
    $("trial-text").textContent = training
      ? "These are the stimuli of the first trial. Nothing you do here is scored."
      : "Play and rate every stimulus. One of them is the reference itself: " +
        "rate it 100.";
    const ref = $("ref-button");
    ref.dataset.name = t.reference;
    ref.onclick = () => select(t.reference);
    const rows = $("mushra-rows");
    rows.textContent = "";
    mushraOrder = t.stimuli;
    t.stimuli.forEach((name, i) => {
      const row = document.createElement("div");
      row.className = "row";
      const button = stimButton(name, "Stimulus " + (i + 1) + " (" + KEY_LABELS[i] +
                                ")", KEY_LABELS[i]);
      row.append(button);
      if (!training) {
        const slider = document.createElement("input");
        slider.type = "range";
        slider.min = 0; slider.max = 100; slider.step = 1; slider.value = 50;
        slider.dataset.name = name;
        slider.setAttribute("aria-label", "rating of stimulus " + (i + 1));
        const value = document.createElement("span");
        value.className = "value";
        const previous = done ? done.ratings[name] : undefined;
        if (previous === undefined) {
          slider.classList.add("unrated");
          value.innerHTML = '<span class="unrated-text">unrated</span>';
        } else {
          slider.value = previous;
          value.textContent = String(previous);
        }
        slider.addEventListener("input", () => {
          slider.classList.remove("unrated");
          value.textContent = slider.value;
          if ($("message").textContent) showMessage("");
        });
        slider.addEventListener("focus", () => select(name));
        row.append(slider, value);
      }
      rows.append(row);
    });
  } else {
    $("trial-title").textContent = training
      ? "Familiarization (not scored): listen to A, B and X"
      : "ABX set " + t.set + ", trial " + t.trial + " of " + t.of;
    $("trial-text").textContent = training
      ? "These are the stimuli of the first trial. Nothing you do here is scored."
      : "X is either A or B. Which one?";
    [["abx-a", t.a], ["abx-b", t.b], ["abx-x", t.x]].forEach(([id, name]) => {
      const b = $(id);
      b.dataset.name = name;
      b.onclick = () => select(name);
    });
  }
  document.querySelectorAll("button.stim").forEach((b) =>
    b.classList.remove("active", "played"));
  if (done) trialNames(t).forEach(markPlayed);
  const loaded = await Promise.all(trialNames(t).map(loadBuffer));
  duration = Math.min(...loaded.map((b) => b.duration));
  $("loop-start").max = $("loop-end").max = duration.toFixed(2);
  offset0 = 0;
  setLoop(0, duration);
  section.dataset.state = "ready";
}

function mushraProblems(t) {
  const unplayed = [], unrated = [];
  let top = false;
  t.stimuli.forEach((name, i) => {
    if (!played.has(name)) unplayed.push(i + 1);
    const s = document.querySelector('#mushra-rows input[data-name="' + name + '"]');
    if (s.classList.contains("unrated")) unrated.push(i + 1);
    else if (Number(s.value) === 100) top = true;
  });
  const parts = [];
  if (unplayed.length) parts.push("play stimulus " + unplayed.join(", "));
  if (unrated.length) parts.push("rate stimulus " + unrated.join(", "));
  if (!top) {
    parts.push("rate at least one stimulus 100 (one of them is the reference " +
               "itself)");
  }
  return parts;
}

function advance() {
  save();
  trialIndex += 1;
  if (trialIndex < S.trials.length) showTrial().catch(fail);
  else finish();
}

function next() {
  if ($("trial").dataset.state !== "ready") return;
  if (training) {
    training = false;
    showTrial().catch(fail);
    return;
  }
  const t = S.trials[trialIndex];
  if (t.design !== "mushra") return;
  const problems = mushraProblems(t);
  if (problems.length) {
    showMessage("Before going on: " + problems.join("; ") + ".");
    return;
  }
  const ratings = {};
  document.querySelectorAll("#mushra-rows input[type=range]").forEach((s) => {
    ratings[s.dataset.name] = Number(s.value);
  });
  setEntry(t, { trial: t.id, ratings });
  advance();
}

function back() {
  if (!OPTIONS.allow_back || training || trialIndex === 0) return;
  if ($("trial").dataset.state !== "ready") return;
  trialIndex -= 1;
  showTrial().catch(fail);
}

function answer(letter) {
  const t = S.trials[trialIndex];
  if (t.design !== "abx" || training || $("trial").dataset.state !== "ready") return;
  setEntry(t, { trial: t.id, x: t.x, answer: letter });
  advance();
}

function finish() {
  stopVoices();
  $("trial").classList.add("hidden");
  $("transport").classList.add("hidden");
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
  a.download = "adcsim-results-" + S.session_id + "-" + who +
    (results.finished ? "" : "-partial") + ".json";
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
  else if (k === "backspace") back();
  else if (t.design === "mushra") {
    const n = KEYS.indexOf(e.code);
    if (k === "r") select(t.reference);
    else if (n >= 0 && n < mushraOrder.length) select(mushraOrder[n]);
    else if ((k === "arrowup" || k === "arrowdown") && mushraOrder.includes(active)) {
      const s =
        document.querySelector('#mushra-rows input[data-name="' + active + '"]');
      if (!s) return;
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
    else if (training && (k === "n" || k === "enter")) next();
    else handled = false;
  }
  if (handled) e.preventDefault();
}

function start() {
  const old = stored();
  if (old && !old.finished) {
    results = old;                        // resume: the stored results go on
    if ($("listener").value.trim()) results.listener = $("listener").value.trim();
    trialIndex = nextUnanswered();
    training = false;
  } else {
    if (old && old.finished) {
      const ok = window.confirm(
        "A finished session of " + (old.listener || "a listener") + " is stored " +
        "in this browser. Start a new one? The finished results stay stored " +
        "and can still be downloaded from the browser's storage.");
      if (!ok) return;
      try {
        localStorage.setItem(STORE + "-finished-" + old.finished, JSON.stringify(old));
      } catch (e) { return; }           // never drop results we could not keep
    }
    results = { format: "adcsim-listening-results", schema_version: 1,
                session_id: S.session_id, listener: $("listener").value.trim(),
                started: new Date().toISOString(), user_agent: navigator.userAgent,
                mushra: [], abx: [] };
    trialIndex = 0;
    training = S.trials.length > 0;
  }
  ctx = ctx || new AudioContext();
  ctx.resume();
  save();
  $("intro").classList.add("hidden");
  $("download-now").classList.remove("hidden");
  if (trialIndex >= S.trials.length) { finish(); return; }
  $("trial").classList.remove("hidden");
  $("transport").classList.remove("hidden");
  showTrial().catch(fail);
}

function intro() {
  const old = stored();
  const text = $("resume-text");
  if (old && !old.finished) {
    $("listener").value = old.listener || "";
    text.textContent = "Stored progress of " + (old.listener || "a listener") +
      ": " + answeredCount(old) + " of " + S.trials.length +
      " trials answered. Start goes on from the next one.";
    text.classList.remove("hidden");
    $("start").textContent = "Resume";
  } else if (old && old.finished) {
    text.textContent = "A finished session of " + (old.listener || "a listener") +
      " is stored in this browser; Start asks before a new one begins.";
    text.classList.remove("hidden");
  }
  $("progress-text").textContent = S.trials.length + " trials";
}

$("start").addEventListener("click", start);
$("play").addEventListener("click", togglePlay);
$("next").addEventListener("click", next);
$("back").addEventListener("click", back);
$("answer-a").addEventListener("click", () => answer("A"));
$("answer-b").addEventListener("click", () => answer("B"));
$("loop-start").addEventListener("change",
                                (e) => setLoop(Number(e.target.value), loopEnd));
$("loop-end").addEventListener("change",
                              (e) => setLoop(loopStart, Number(e.target.value)));
$("loop-reset").addEventListener("click", () => setLoop(0, duration));
$("download").addEventListener("click", download);
$("download-now").addEventListener("click", download);
document.addEventListener("keydown", onKey);
setInterval(() => { $("position").textContent = position().toFixed(2) + " s"; }, 100);
intro();
"""
