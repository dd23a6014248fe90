"""Blind listening tests: build MUSHRA and ABX sessions, and score their results.

Responsible for the conditions under test, rendering and loudness-matching the
stimuli, the excerpt and its fades, the seeded blinding (random names, random
order, random X), the key file, the session's ``index.html`` data and README,
the webMUSHRA and BeaqleJS configurations, and de-blinding and aggregating
listeners' results. Not responsible for the page itself (`adcsim.listen_html`),
figures (`adcsim.listen_plots`) or the command line (`adcsim.listen_cli`).

A session directory holds::

    index.html        the test page (opens from the file system)
    session.js        trials under blinded names; no key
    audio/NAME.wav    every stimulus, 16- or 24-bit PCM, blinded names
    stimuli/NAME.js   the same bytes, base64, for the page's Web Audio player
    key.json          names -> conditions, gains, seed: keep it from listeners
    README.txt        how to run the session and collect results
    webmushra/, beaqlejs/   optional configurations for those tools

Notes
-----
MUSHRA follows ITU-R BS.1534-3: per item one trial with the open reference, a
hidden reference, the 3.5 kHz low-pass anchor (optionally the 7 kHz mid
anchor) and the conditions, rated 0-100. Post-screening excludes a listener
who rates the hidden reference below 90 in more than 15 % of their trials
(BS.1534-3, 4.1.2). ABX: X is the reference or the condition at random; the
one-sided exact binomial test asks whether the listener did better than
guessing.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from adcsim._version import __version__
from adcsim.errors import AdcsimError

Design = Literal["mushra", "abx", "both"]
DESIGNS: tuple[str, ...] = ("mushra", "abx", "both")
SUBTYPES: tuple[str, ...] = ("PCM_16", "PCM_24")
EXPORTS: tuple[str, ...] = ("webmushra", "beaqlejs")
SCHEMA_VERSION = 1
KEY_FORMAT = "adcsim-listening-key"
RESULTS_FORMAT = "adcsim-listening-results"

#: Labels of the stimuli that are not user conditions (reserved names).
HIDDEN_REFERENCE = "hidden-reference"
ANCHOR_LOW = "anchor-3.5k"
ANCHOR_MID = "anchor-7k"
RESERVED = (HIDDEN_REFERENCE, ANCHOR_LOW, ANCHOR_MID, "reference")
ANCHOR_CUTOFF_HZ = {ANCHOR_LOW: 3500.0, ANCHOR_MID: 7000.0}

FADE_S = 0.02
#: Stimuli are scaled (all by one gain per item) so no peak exceeds this.
PEAK_LIMIT = 10 ** (-0.1 / 20)
MUSHRA_SCREEN_SCORE = 90.0
MUSHRA_SCREEN_FRACTION = 0.15
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_CONDITION_KEYS = ("scheme", "bits", "rate", "dither")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Condition:
    """One processing under test, or an existing file to compare.

    Parameters
    ----------
    name : str
        Label in the key and the results (letters, digits, ``_.+-``).
    scheme : str
        Quantizer scheme (`adcsim.quantizers.SCHEMES`).
    bits : int or None
        Quantizer depth; None skips quantizing (a rate-only condition).
    rate : int or None
        Rate to process at (resampled there and back); None keeps the reference's.
    dither : str
        ``none``, ``rpdf`` or ``tpdf``.
    params : mapping
        Scheme parameters (``mu``, ``a``).
    path : str or None
        An existing file to use instead of processing (``--file NAME=PATH``).
    """

    name: str
    scheme: str = "uniform"
    bits: int | None = None
    rate: int | None = None
    dither: str = "none"
    params: Mapping[str, float] = field(default_factory=dict)
    path: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or self.name in RESERVED:
            raise AdcsimError(
                f"condition name={self.name!r} must be letters, digits or _.+- "
                f"and not one of: {', '.join(RESERVED)}"
            )
        if self.path is None and self.bits is None and self.rate is None:
            raise AdcsimError(f"condition {self.name!r} sets neither bits nor rate")

    def to_dict(self) -> dict[str, Any]:
        """Return the condition as a dict for the key file."""
        return {
            "name": self.name,
            "scheme": None if self.path else self.scheme,
            "bits": self.bits,
            "rate": self.rate,
            "dither": None if self.path else self.dither,
            "params": dict(self.params),
            "path": self.path,
        }


def parse_condition(text: str) -> Condition:
    """Parse ``NAME=key=value,key=value`` (``--condition``).

    Keys are ``scheme``, ``bits``, ``rate``, ``dither`` and the scheme's own
    parameters (``mu``, ``a``).

    Raises
    ------
    AdcsimError
        Missing ``=``, an unknown or repeated key, a value that is not a number.

    Examples
    --------
    >>> parse_condition("tel=scheme=mulaw,bits=8,rate=8000")
    Condition(name='tel', scheme='mulaw', bits=8, rate=8000, dither='none', \
params={}, path=None)
    """
    name, sep, options = text.partition("=")
    if not sep or not options:
        raise AdcsimError(f"condition={text!r} must be NAME=key=value,...")
    values: dict[str, Any] = {}
    params: dict[str, float] = {}
    for item in options.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not value or key in values or key in params:
            raise AdcsimError(f"condition {name!r}: {item!r} must be a new key=value")
        try:
            if key in ("bits", "rate"):
                values[key] = int(value)
            elif key in ("scheme", "dither"):
                values[key] = value
            else:
                params[key] = float(value)
        except ValueError:
            raise AdcsimError(
                f"condition {name!r}: {key}={value!r} is not a number"
            ) from None
    return Condition(name=name, params=params, **values)


def parse_file_condition(text: str) -> Condition:
    """Parse ``NAME=PATH`` (``--file``): an existing file as a condition.

    Examples
    --------
    >>> parse_file_condition("other=out/take1.wav").path
    'out/take1.wav'
    """
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise AdcsimError(f"file={text!r} must be NAME=PATH")
    return Condition(name=name, path=path)


def cross_conditions(
    *,
    schemes: Sequence[str] = ("uniform",),
    bits: Sequence[int | None] = (None,),
    rates: Sequence[int | None] = (None,),
    dithers: Sequence[str] = ("none",),
) -> list[Condition]:
    """Return the cross product of scheme, bits, rate and dither lists, named.

    Examples
    --------
    >>> [c.name for c in cross_conditions(schemes=["uniform", "mulaw"], bits=[8])]
    ['uniform-8bit', 'mulaw-8bit']
    >>> [c.name for c in cross_conditions(bits=[6], rates=[8000], dithers=["tpdf"])]
    ['uniform-6bit-8000Hz-tpdf']
    """
    out = []
    for scheme, depth, rate, kind in itertools.product(schemes, bits, rates, dithers):
        parts = [scheme] if depth is not None else []
        parts += [f"{depth}bit"] if depth is not None else []
        parts += [f"{rate}Hz"] if rate is not None else []
        parts += [kind] if kind != "none" else []
        out.append(
            Condition(
                name="-".join(parts), scheme=scheme, bits=depth, rate=rate, dither=kind
            )
        )
    return out


def parse_excerpt(text: str) -> tuple[float, float]:
    """Parse ``START:DUR`` in seconds (``--excerpt``).

    Examples
    --------
    >>> parse_excerpt("1.5:4")
    (1.5, 4.0)
    """
    start, sep, duration = text.partition(":")
    try:
        values = (float(start), float(duration))
    except ValueError:
        values = (math.nan, math.nan)
    if not sep or not all(math.isfinite(v) for v in values) or values[0] < 0:
        raise AdcsimError(f"excerpt={text!r} must be START:DUR in seconds, START >= 0")
    if values[1] < 0.5:
        raise AdcsimError(f"excerpt duration={values[1]:g} s must be at least 0.5 s")
    return values


def render_condition(
    x: NDArray[np.float64], *, rate: int, condition: Condition, seed: int
) -> NDArray[np.float64]:
    """Process ``x`` (frames, channels) at ``rate`` as ``condition`` says.

    Resample to the condition's rate, dither, quantize, resample back; the
    output has the input's shape. File conditions are not rendered here.

    Examples
    --------
    >>> x = np.linspace(-0.5, 0.5, 8).reshape(-1, 1)
    >>> c = Condition(name="q2", bits=2)
    >>> render_condition(x, rate=8000, condition=c, seed=0).ravel()
    array([-0.5, -0.5, -0. , -0. ,  0. ,  0. ,  0.5,  0.5])
    """
    from adcsim.dither import dither
    from adcsim.quantizers import quantize
    from adcsim.resample import resample

    y = x
    work_rate = rate if condition.rate is None else condition.rate
    resampled = work_rate != rate
    if resampled:
        y = resample(y, in_rate=rate, out_rate=work_rate)
    if condition.bits is not None:
        if condition.dither != "none":
            y = dither(y, bits=condition.bits, kind=condition.dither, seed=seed)
        y = quantize(
            y, bits=condition.bits, scheme=condition.scheme, **condition.params
        )
    if resampled:
        y = resample(y, in_rate=work_rate, out_rate=rate)
    return _fit_length(np.asarray(y, dtype=np.float64), x.shape[0])


def lowpass_anchor(
    x: NDArray[np.float64], *, rate: int, cutoff_hz: float
) -> NDArray[np.float64]:
    """Low-pass ``x`` at ``cutoff_hz`` with zero phase: the BS.1534-3 anchor.

    Notes
    -----
    A 12th-order Butterworth run forwards and backwards (`sosfiltfilt`): zero
    phase, so the anchor stays time-aligned with the other stimuli for instant
    switching, and -6 dB at the cutoff falling at 144 dB per octave.

    Examples
    --------
    >>> t = np.arange(4800) / 48000
    >>> x = np.column_stack([np.sin(2 * np.pi * 10000 * t)])
    >>> y = lowpass_anchor(x, rate=48000, cutoff_hz=3500)
    >>> float(np.abs(y[1000:-1000]).max()) < 1e-4
    True
    """
    from scipy.signal import butter, sosfiltfilt

    if cutoff_hz >= rate / 2:
        raise AdcsimError(
            f"anchor cutoff_hz={cutoff_hz:g} needs a rate above {2 * cutoff_hz:g} Hz"
        )
    sos = butter(12, cutoff_hz, fs=rate, output="sos")
    return np.asarray(sosfiltfilt(sos, x, axis=0), dtype=np.float64)


def apply_fades(
    x: NDArray[np.float64], *, rate: int, fade_s: float = FADE_S
) -> NDArray[np.float64]:
    """Raised-cosine fade-in and fade-out of ``fade_s`` seconds (a new array).

    Examples
    --------
    >>> apply_fades(np.ones((6, 1)), rate=100, fade_s=0.03).ravel()
    array([0.  , 0.25, 0.75, 0.75, 0.25, 0.  ])
    """
    n = min(round(fade_s * rate), x.shape[0] // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n) if n else np.zeros(0)
    y: NDArray[np.float64] = np.array(x, dtype=np.float64)
    y[:n] *= ramp[:, None]
    y[x.shape[0] - n :] *= ramp[::-1, None]
    return y


@dataclass(frozen=True)
class ListeningSession:
    """What `export_listening_test` wrote.

    Attributes
    ----------
    out_dir : Path
    session_id : str
    page, key : Path
        ``index.html`` and ``key.json``.
    stimuli : int
        Number of WAV files written.
    mushra_trials, abx_trials : int
    gains_db : dict
        Blinded name -> gain applied for the loudness match (dB).
    exports : tuple of Path
        The webMUSHRA/BeaqleJS configuration files.
    """

    out_dir: Path
    session_id: str
    page: Path
    key: Path
    stimuli: int
    mushra_trials: int
    abx_trials: int
    gains_db: dict[str, float]
    exports: tuple[Path, ...] = ()


def export_listening_test(
    references: Sequence[str],
    out_dir: str,
    *,
    conditions: Sequence[Condition],
    design: str = "both",
    trials: int = 16,
    excerpt: tuple[float, float] | None = None,
    mid_anchor: bool = False,
    seed: int = 0,
    export: Iterable[str] = (),
    subtype: str = "PCM_16",
    force: bool = False,
) -> ListeningSession:
    """Build a blind MUSHRA and/or ABX session in ``out_dir``.

    Parameters
    ----------
    references : sequence of str
        Reference audio files (the items). A ``--file`` condition needs exactly one.
    out_dir : str
        Session directory; created, or must hold no earlier session unless ``force``.
    conditions : sequence of Condition
        What to compare against each reference (at least one).
    design : {"mushra", "abx", "both"}
    trials : int >= 1
        ABX trials per reference and condition.
    excerpt : (start_s, duration_s) or None
        Cut the same excerpt from every stimulus, with 20 ms fades.
    mid_anchor : bool
        Add the 7 kHz low-pass anchor to MUSHRA trials.
    seed : int >= 0
        Seeds dither, names, orders and X; recorded in the key.
    export : iterable of {"webmushra", "beaqlejs"}
    subtype : {"PCM_16", "PCM_24"}
    force : bool
        Replace an earlier session in ``out_dir``.

    Returns
    -------
    ListeningSession

    Raises
    ------
    AdcsimError
        Bad options, unreadable files, a silent reference, an existing session.

    Notes
    -----
    Every stimulus is rendered back to its reference's rate and channels and
    scaled to the reference's BS.1770-4 integrated loudness; then one gain per
    item keeps all of its stimuli (reference included) below -0.1 dBFS. Both
    gains are recorded per stimulus in the key.
    """
    from adcsim import audio_io
    from adcsim.dither import check_dither, check_seed
    from adcsim.listen_html import render_page

    seed = check_seed(seed)
    plan = _check_plan(references, conditions, design, trials, export, subtype)
    for condition in conditions:
        if condition.path is None:
            check_dither(condition.dither)
    out = Path(out_dir)
    _prepare_dir(out, force=force)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    dither_seeds = (
        np.random.SeedSequence(seed).spawn(2)[1].generate_state(len(conditions))
    )
    names = _NameSource(rng)
    digest = hashlib.sha256(
        json.dumps(
            [
                seed,
                design,
                trials,
                excerpt,
                mid_anchor,
                subtype,
                [c.to_dict() for c in conditions],
            ]
        ).encode()
    )
    items: list[dict[str, Any]] = []
    stimuli: dict[str, dict[str, Any]] = {}
    audio_jobs: list[tuple[str, NDArray[np.float64], int]] = []
    key_trials: list[dict[str, Any]] = []
    page_trials: list[dict[str, Any]] = []

    for ref_path in references:
        x, info = audio_io.read(ref_path)
        digest.update(x.tobytes())
        item = Path(ref_path).stem
        x = _cut(x, info.rate, excerpt, ref_path)
        ref_lufs = _loudness(x, info.rate, ref_path)
        if not math.isfinite(ref_lufs):
            raise AdcsimError(
                f"reference {ref_path!r} is silent: nothing to match loudness to"
            )
        rendered: dict[str, NDArray[np.float64]] = {"reference": x}
        if plan["mushra"]:
            rendered[ANCHOR_LOW] = lowpass_anchor(x, rate=info.rate, cutoff_hz=3500.0)
            if mid_anchor:
                rendered[ANCHOR_MID] = lowpass_anchor(
                    x, rate=info.rate, cutoff_hz=7000.0
                )
        for condition, dseed in zip(conditions, dither_seeds, strict=True):
            if condition.path is not None:
                rendered[condition.name] = _read_file_condition(
                    condition.path, info, excerpt
                )
            else:
                rendered[condition.name] = render_condition(
                    x, rate=info.rate, condition=condition, seed=int(dseed)
                )
        if excerpt is not None:
            rendered = {k: apply_fades(v, rate=info.rate) for k, v in rendered.items()}
        ref_lufs = _loudness(rendered["reference"], info.rate, ref_path)
        gains, lufs = {}, {}
        for label, y in rendered.items():
            lufs[label] = _loudness(y, info.rate, ref_path)
            gains[label] = ref_lufs - lufs[label] if math.isfinite(lufs[label]) else 0.0
        peak = max(
            float(np.abs(y).max(initial=0.0)) * 10 ** (gains[k] / 20)
            for k, y in rendered.items()
        )
        headroom_db = min(0.0, 20 * math.log10(PEAK_LIMIT / peak)) if peak > 0 else 0.0
        items.append(
            {
                "name": item,
                "path": str(ref_path),
                "rate": info.rate,
                "channels": info.channels,
                "loudness_lufs": ref_lufs,
                "headroom_gain_db": headroom_db,
            }
        )

        def stimulus(
            label: str,
            role: str,
            *,
            _item: str = item,
            _rendered: dict[str, NDArray[np.float64]] = rendered,
            _gains: dict[str, float] = gains,
            _lufs: dict[str, float] = lufs,
            _hr: float = headroom_db,
            _rate: int = info.rate,
        ) -> str:
            name = names.new()
            gain = _gains[label] + _hr
            stimuli[name] = {
                "item": _item,
                "role": role,
                "condition": label if role == "condition" else None,
                "label": HIDDEN_REFERENCE if role == "hidden_reference" else label,
                "loudness_before_lufs": _lufs[label],
                "match_gain_db": _gains[label],
                "headroom_gain_db": _hr,
                "gain_db": gain,
            }
            audio_jobs.append((name, _rendered[label] * 10 ** (gain / 20), _rate))
            return name

        if plan["mushra"]:
            open_ref = stimulus("reference", "reference")
            labels = [("reference", "hidden_reference"), (ANCHOR_LOW, "anchor")]
            labels += [(ANCHOR_MID, "anchor")] if mid_anchor else []
            labels += [(c.name, "condition") for c in conditions]
            blind = [stimulus(label, role) for label, role in labels]
            order = [blind[i] for i in rng.permutation(len(blind))]
            key_trials.append(
                {
                    "id": "",
                    "design": "mushra",
                    "item": item,
                    "reference": open_ref,
                    "stimuli": {n: stimuli[n]["label"] for n in order},
                }
            )
            page_trials.append(
                {"id": "", "design": "mushra", "reference": open_ref, "stimuli": order}
            )
        if plan["abx"]:
            for condition in conditions:
                pair = ["reference", condition.name]
                if rng.random() < 0.5:
                    pair.reverse()
                a, b = stimulus(pair[0], "abx"), stimulus(pair[1], "abx")
                for trial in range(trials):
                    x_is = "A" if rng.random() < 0.5 else "B"
                    xname = stimulus(pair[0] if x_is == "A" else pair[1], "abx")
                    salt = names.new() + names.new()
                    key_trials.append(
                        {
                            "id": "",
                            "design": "abx",
                            "item": item,
                            "condition": condition.name,
                            "set": 0,
                            "trial": trial + 1,
                            "a": a,
                            "b": b,
                            "x": xname,
                            "a_label": stimuli[a]["label"],
                            "b_label": stimuli[b]["label"],
                            "x_is": x_is,
                        }
                    )
                    page_trials.append(
                        {
                            "id": "",
                            "design": "abx",
                            "set": 0,
                            "trial": trial + 1,
                            "of": trials,
                            "a": a,
                            "b": b,
                            "x": xname,
                            "salt": salt,
                            "check": fnv1a32(f"{salt}:{x_is}"),
                        }
                    )

    session_id = digest.hexdigest()[:16]
    _number_trials(key_trials, page_trials, rng)
    audio_dir, js_dir = out / "audio", out / "stimuli"
    audio_dir.mkdir(parents=True, exist_ok=True)
    js_dir.mkdir(parents=True, exist_ok=True)
    gains_db = {}
    for name, y, rate in audio_jobs:
        wav = audio_dir / f"{name}.wav"
        audio_io.write(str(wav), y, rate, subtype=subtype, force=force)
        data = base64.b64encode(wav.read_bytes()).decode("ascii")
        (js_dir / f"{name}.js").write_text(
            f'adcsimStimulus("{name}", "data:audio/wav;base64,{data}");\n',
            encoding="utf-8",
        )
        written, _ = audio_io.read(str(wav))
        stimuli[name]["loudness_lufs"] = _loudness(written, rate, str(wav))
        gains_db[name] = stimuli[name]["gain_db"]

    public = {
        "format": "adcsim-listening-session",
        "schema_version": SCHEMA_VERSION,
        "session_id": session_id,
        "adcsim_version": __version__,
        "trials": page_trials,
    }
    (out / "session.js").write_text(
        "window.ADCSIM_SESSION = " + json.dumps(public, indent=1) + ";\n",
        encoding="utf-8",
    )
    page = out / "index.html"
    page.write_text(render_page(), encoding="utf-8")
    key = {
        "format": KEY_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "session_id": session_id,
        "adcsim_version": __version__,
        "seed": seed,
        "design": design,
        "trials_per_set": trials,
        "excerpt": None
        if excerpt is None
        else {"start_s": excerpt[0], "duration_s": excerpt[1], "fade_s": FADE_S},
        "mid_anchor": mid_anchor,
        "subtype": subtype,
        "conditions": [c.to_dict() for c in conditions],
        "items": items,
        "stimuli": stimuli,
        "trials": key_trials,
    }
    key_path = out / "key.json"
    key_path.write_text(_dumps(key), encoding="utf-8")
    exports = tuple(_export(kind, out, key_trials) for kind in plan["export"])
    (out / "README.txt").write_text(_readme(session_id, key, exports), encoding="utf-8")
    return ListeningSession(
        out_dir=out,
        session_id=session_id,
        page=page,
        key=key_path,
        stimuli=len(audio_jobs),
        mushra_trials=sum(t["design"] == "mushra" for t in key_trials),
        abx_trials=sum(t["design"] == "abx" for t in key_trials),
        gains_db=gains_db,
        exports=exports,
    )


def fnv1a32(text: str) -> str:
    """FNV-1a 32-bit hash of ``text`` (UTF-8) as 8 hex digits; the page has the same.

    Used to let the page count correct ABX answers without naming X's source.

    Examples
    --------
    >>> fnv1a32("a")
    'e40c292c'
    """
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def binomial_p_value(correct: int, trials: int) -> float:
    """One-sided exact binomial p-value: P(K >= correct) for K ~ Binomial(trials, 1/2).

    Examples
    --------
    >>> round(binomial_p_value(12, 16), 4)
    0.0384
    >>> binomial_p_value(0, 16)
    1.0
    """
    if not 0 <= correct <= trials:
        raise AdcsimError(f"correct={correct} must be in [0, trials={trials}]")
    tail = sum(math.comb(trials, k) for k in range(correct, trials + 1))
    return float(tail / 2**trials)


def mean_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Mean and 95 % two-sided Student-t confidence interval.

    Returns ``(mean, low, high)``; the interval is None for fewer than two values.

    Examples
    --------
    >>> [round(v, 2) for v in mean_interval([60.0, 70.0, 80.0])]
    [70.0, 45.16, 94.84]
    """
    from scipy.stats import t

    arr = np.asarray(values, dtype=np.float64)
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, None, None
    half = (
        float(t.ppf(0.975, arr.size - 1)) * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    )
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class ListeningScores:
    """Aggregated, de-blinded results of one session.

    Attributes
    ----------
    session_id : str
    listeners : list of str
        Every listener read, in file order.
    excluded : dict
        Listener -> reason, by the BS.1534-3 post-screening rule.
    mushra : list of dict
        Per label: ``label``, ``n``, ``mean``, ``ci_low``, ``ci_high``.
    abx : list of dict
        Per condition, then ``pooled``: ``condition``, ``trials``, ``correct``,
        ``p_value``.
    """

    session_id: str
    listeners: list[str]
    excluded: dict[str, str]
    mushra: list[dict[str, Any]]
    abx: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report as a dict (stable key order, NaN as None)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "adcsim_version": __version__,
            "session_id": self.session_id,
            "listeners": self.listeners,
            "excluded": self.excluded,
            "mushra": self.mushra,
            "abx": self.abx,
        }

    def to_json(self) -> str:
        """`to_dict` as indented JSON text."""
        return _dumps(self.to_dict())

    def table(self) -> str:
        """Return a plain-text table for the terminal."""
        lines = [f"session {self.session_id}: {len(self.listeners)} listener(s)"]
        for who, why in self.excluded.items():
            lines.append(f"excluded {who}: {why}")
        if self.mushra:
            lines += ["", f"{'MUSHRA':<24}{'n':>5}{'mean':>8}{'95% CI':>18}"]
            for row in self.mushra:
                ci = (
                    ""
                    if row["ci_low"] is None
                    else f"{row['ci_low']:.1f} .. {row['ci_high']:.1f}"
                )
                lines.append(
                    f"{row['label']:<24}{row['n']:>5}{row['mean']:>8.1f}{ci:>18}"
                )
        if self.abx:
            lines += ["", f"{'ABX':<24}{'correct':>9}{'trials':>8}{'p':>10}"]
            for row in self.abx:
                lines.append(
                    f"{row['condition']:<24}{row['correct']:>9}{row['trials']:>8}"
                    f"{row['p_value']:>10.4g}"
                )
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        """One row per MUSHRA label and ABX condition."""
        rows = ["design,label,n,mean,ci_low,ci_high,correct,trials,p_value"]
        for r in self.mushra:
            rows.append(
                f"mushra,{r['label']},{r['n']},{r['mean']!r},{_csv(r['ci_low'])},"
                f"{_csv(r['ci_high'])},,,"
            )
        for r in self.abx:
            rows.append(
                f"abx,{r['condition']},,,,,{r['correct']},{r['trials']},"
                f"{r['p_value']!r}"
            )
        return "\n".join(rows) + "\n"


def score_results(results_paths: Sequence[str], key_path: str) -> ListeningScores:
    """De-blind and aggregate listeners' result files with the session's key.

    Parameters
    ----------
    results_paths : sequence of str
        JSON files downloaded from the page, one per listener.
    key_path : str
        The session's ``key.json``.

    Returns
    -------
    ListeningScores

    Raises
    ------
    AdcsimError
        Unreadable files, or results that do not match the key (another
        session, unknown trials or names, answers out of range).

    Notes
    -----
    MUSHRA: per label, mean over the kept listeners' ratings (all items) with a
    95 % Student-t interval. ABX: total correct over all listeners per
    condition and pooled, one-sided exact binomial p-values.
    """
    key = _load_json(key_path)
    if key.get("format") != KEY_FORMAT:
        raise AdcsimError(f"{key_path!r} is not an adcsim listening key")
    trials = {t["id"]: t for t in key["trials"]}
    listeners: list[str] = []
    parsed = []
    for path in results_paths:
        result = _load_json(path)
        _check_results(result, path, key, trials)
        who = str(result.get("listener") or Path(path).stem)
        while who in listeners:
            who += "+"
        listeners.append(who)
        parsed.append((who, result))

    excluded: dict[str, str] = {}
    ratings: dict[str, list[float]] = {}
    abx: dict[str, list[int]] = {}
    for who, result in parsed:
        mushra = result.get("mushra", [])
        low = [
            r
            for r in mushra
            for name, label in trials[r["trial"]]["stimuli"].items()
            if label == HIDDEN_REFERENCE and r["ratings"][name] < MUSHRA_SCREEN_SCORE
        ]
        if mushra and len(low) > MUSHRA_SCREEN_FRACTION * len(mushra):
            excluded[who] = (
                f"hidden reference rated below {MUSHRA_SCREEN_SCORE:g} in "
                f"{len(low)} of {len(mushra)} trials"
            )
        else:
            for r in mushra:
                for name, label in trials[r["trial"]]["stimuli"].items():
                    ratings.setdefault(label, []).append(float(r["ratings"][name]))
        for r in result.get("abx", []):
            t = trials[r["trial"]]
            counts = abx.setdefault(t["condition"], [0, 0])
            counts[0] += int(r["answer"] == t["x_is"])
            counts[1] += 1

    order = [
        HIDDEN_REFERENCE,
        *(c["name"] for c in key["conditions"]),
        ANCHOR_MID,
        ANCHOR_LOW,
    ]
    mushra_rows = []
    for label in order:
        if label in ratings:
            mean, low_ci, high_ci = mean_interval(ratings[label])
            mushra_rows.append(
                {
                    "label": label,
                    "n": len(ratings[label]),
                    "mean": mean,
                    "ci_low": low_ci,
                    "ci_high": high_ci,
                }
            )
    abx_rows = []
    for c in key["conditions"]:
        if c["name"] in abx:
            ok, n = abx[c["name"]]
            abx_rows.append(
                {
                    "condition": c["name"],
                    "trials": n,
                    "correct": ok,
                    "p_value": binomial_p_value(ok, n),
                }
            )
    if abx_rows:
        ok, n = sum(r["correct"] for r in abx_rows), sum(r["trials"] for r in abx_rows)
        abx_rows.append(
            {
                "condition": "pooled",
                "trials": n,
                "correct": ok,
                "p_value": binomial_p_value(ok, n),
            }
        )
    return ListeningScores(
        session_id=key["session_id"],
        listeners=listeners,
        excluded=excluded,
        mushra=mushra_rows,
        abx=abx_rows,
    )


# ---------------------------------------------------------------- helpers


class _NameSource:
    """Unique random 8-character names from the session's generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def new(self) -> str:
        while True:
            idx = self._rng.integers(0, len(_ALPHABET), 8)
            name = "".join(_ALPHABET[i] for i in idx)
            if name not in self._used:
                self._used.add(name)
                return name


def _check_plan(
    references: Sequence[str],
    conditions: Sequence[Condition],
    design: str,
    trials: int,
    export: Iterable[str],
    subtype: str,
) -> dict[str, Any]:
    if not references:
        raise AdcsimError("no reference files given")
    if not conditions:
        raise AdcsimError(
            "no conditions: give --bits/--scheme/--rate, --condition or --file"
        )
    names = [c.name for c in conditions]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise AdcsimError(f"condition name={dup!r} is given twice")
    stems = [Path(r).stem for r in references]
    if len(set(stems)) != len(stems):
        raise AdcsimError("reference file names must differ (they name the items)")
    if any(c.path for c in conditions) and len(references) != 1:
        raise AdcsimError(
            f"--file conditions need exactly one reference, got {len(references)}"
        )
    if design not in DESIGNS:
        raise AdcsimError(f"design={design!r} is not one of: {', '.join(DESIGNS)}")
    if (
        isinstance(trials, bool)
        or not isinstance(trials, int)
        or not 1 <= trials <= 1000
    ):
        raise AdcsimError(f"trials={trials!r} must be an integer in [1, 1000]")
    if subtype not in SUBTYPES:
        raise AdcsimError(f"subtype={subtype!r} is not one of: {', '.join(SUBTYPES)}")
    kinds = list(dict.fromkeys(export))
    for kind in kinds:
        if kind not in EXPORTS:
            raise AdcsimError(f"export={kind!r} is not one of: {', '.join(EXPORTS)}")
    return {
        "mushra": design in ("mushra", "both"),
        "abx": design in ("abx", "both"),
        "export": kinds,
    }


def _prepare_dir(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise AdcsimError(f"out-dir {str(out)!r} is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "key.json").exists():
            raise AdcsimError(
                f"out-dir {str(out)!r} is not empty and holds no adcsim session"
            )
        if not force:
            raise AdcsimError(
                f"out-dir {str(out)!r} holds a session; use --force to replace it"
            )
        # Only what an earlier session wrote (key.json marks it as ours).
        for sub in ("audio", "stimuli", "webmushra", "beaqlejs"):
            if (out / sub).is_dir():
                shutil.rmtree(out / sub)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdcsimError(
            f"cannot create out-dir {str(out)!r}: {exc.strerror}"
        ) from exc


def _cut(
    x: NDArray[np.float64], rate: int, excerpt: tuple[float, float] | None, path: str
) -> NDArray[np.float64]:
    if excerpt is None:
        return x
    start, stop = round(excerpt[0] * rate), round((excerpt[0] + excerpt[1]) * rate)
    if stop > x.shape[0]:
        raise AdcsimError(
            f"excerpt ends at {excerpt[0] + excerpt[1]:g} s, after the end of {path!r} "
            f"({x.shape[0] / rate:g} s)"
        )
    return x[start:stop]


def _read_file_condition(
    path: str, info: Any, excerpt: tuple[float, float] | None
) -> NDArray[np.float64]:
    from adcsim import audio_io
    from adcsim.resample import resample

    y, other = audio_io.read(path)
    if other.channels != info.channels:
        raise AdcsimError(
            f"{path!r} has channels={other.channels}, the reference has {info.channels}"
        )
    if other.rate != info.rate:
        y = resample(y, in_rate=other.rate, out_rate=info.rate)
    y = _cut(y, info.rate, excerpt, path)
    reference_frames = (
        round(excerpt[1] * info.rate) if excerpt else (info.frames or y.shape[0])
    )
    return _fit_length(y, reference_frames)


def _fit_length(y: NDArray[np.float64], frames: int) -> NDArray[np.float64]:
    if y.shape[0] >= frames:
        return y[:frames]
    return np.concatenate([y, np.zeros((frames - y.shape[0], *y.shape[1:]))])


def _loudness(x: NDArray[np.float64], rate: int, path: str) -> float:
    from adcsim.loudness import integrated_loudness

    try:
        return integrated_loudness(x, rate=rate)
    except AdcsimError as exc:
        raise AdcsimError(f"{path!r}: {exc}") from exc


def _number_trials(
    key_trials: list[dict[str, Any]],
    page_trials: list[dict[str, Any]],
    rng: np.random.Generator,
) -> None:
    """Shuffle MUSHRA trials and ABX sets (a set keeps its order); set ids."""
    mushra = [i for i, t in enumerate(key_trials) if t["design"] == "mushra"]
    sets: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(key_trials):
        if t["design"] == "abx":
            sets.setdefault((t["item"], t["condition"]), []).append(i)
    order = [mushra[i] for i in rng.permutation(len(mushra))]
    groups = list(sets.values())
    for s, g in enumerate(rng.permutation(len(groups)), start=1):
        for i in groups[g]:
            key_trials[i]["set"] = page_trials[i]["set"] = s
            order.append(i)
    new_key, new_page = [], []
    for n, i in enumerate(order, start=1):
        tid = (
            f"m{n:02d}"
            if key_trials[i]["design"] == "mushra"
            else (f"x{key_trials[i]['set']:02d}-{key_trials[i]['trial']:02d}")
        )
        key_trials[i]["id"] = page_trials[i]["id"] = tid
        new_key.append(key_trials[i])
        new_page.append(page_trials[i])
    key_trials[:] = new_key
    page_trials[:] = new_page


def _load_json(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AdcsimError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdcsimError(
            f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from exc
    if not isinstance(data, dict):
        raise AdcsimError(f"{path!r} does not hold a JSON object")
    return data


def _check_results(
    result: dict[str, Any], path: str, key: dict[str, Any], trials: dict[str, Any]
) -> None:
    def refuse(why: str) -> AdcsimError:
        return AdcsimError(f"results {path!r} do not match the key: {why}")

    if result.get("format") != RESULTS_FORMAT:
        raise refuse("not an adcsim listening results file")
    if result.get("session_id") != key["session_id"]:
        raise refuse(
            f"session_id={result.get('session_id')!r}, "
            f"the key's is {key['session_id']!r}"
        )
    seen: set[str] = set()
    for design in ("mushra", "abx"):
        entries = result.get(design, [])
        if not isinstance(entries, list):
            raise refuse(f"{design!r} is not a list")
        for r in entries:
            tid = str(r.get("trial")) if isinstance(r, dict) else ""
            t = trials.get(tid)
            if t is None or t["design"] != design or tid in seen:
                raise refuse(f"trial={tid!r} is unknown or repeated")
            seen.add(tid)
            if design == "mushra":
                got = r.get("ratings")
                if not isinstance(got, dict) or set(got) != set(t["stimuli"]):
                    raise refuse(f"trial={tid!r} rates other stimuli than the key's")
                for name, value in got.items():
                    if (
                        isinstance(value, bool)
                        or not isinstance(value, (int, float))
                        or not 0 <= value <= 100
                    ):
                        raise refuse(
                            f"trial={tid!r} rating {name}={value!r} not in [0, 100]"
                        )
            else:
                if r.get("answer") not in ("A", "B"):
                    raise refuse(
                        f"trial={tid!r} answer={r.get('answer')!r} is not A or B"
                    )
                if r.get("x") != t["x"]:
                    raise refuse(f"trial={tid!r} x={r.get('x')!r} is not the key's")


def _export(kind: str, out: Path, key_trials: list[dict[str, Any]]) -> Path:
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
    if mushra:
        text += (
            "var TestConfigMushra = "
            + json.dumps(
                {"TestName": "adcsim MUSHRA", **common, "TestSets": mushra}, indent=2
            )
            + ";\n"
        )
    if abx:
        text += (
            "var TestConfigAbx = "
            + json.dumps(
                {"TestName": "adcsim ABX", **common, "TestSets": abx}, indent=2
            )
            + ";\n"
        )
    path = out / "beaqlejs" / "adcsim_config.js"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _readme(session_id: str, key: dict[str, Any], exports: tuple[Path, ...]) -> str:
    n_m = sum(t["design"] == "mushra" for t in key["trials"])
    n_x = sum(t["design"] == "abx" for t in key["trials"])
    text = f"""adcsim blind listening session {session_id}
===========================================

This directory holds {n_m} MUSHRA trial(s) and {n_x} ABX trial(s), built by
adcsim {__version__} with seed {key["seed"]}.

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


def _dumps(data: Any) -> str:
    return json.dumps(_nan_to_none(data), indent=2, allow_nan=False) + "\n"


def _nan_to_none(data: Any) -> Any:
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _nan_to_none(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_nan_to_none(v) for v in data]
    return data


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)
