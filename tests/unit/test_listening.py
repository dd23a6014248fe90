"""Listening-test sessions and scoring, checked against independent references."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.io._reader import read as read_audio
from adcsim.io._writer import write as write_audio
from adcsim.listening._conditions import (
    Condition,
    apply_fades,
    cross_conditions,
    lowpass_anchor,
    parse_condition,
    parse_excerpt,
    render_condition,
)
from adcsim.listening._scoring import binomial_p_value, mean_interval
from adcsim.listening._session import PEAK_LIMIT, export_listening_test
from adcsim.listening._stimuli import stimulus_wav
from adcsim.metrics._loudness import integrated_loudness

RATE = 16000


@pytest.fixture
def reference(tmp_path: Path) -> str:
    t = np.arange(2 * RATE) / RATE
    rng = np.random.default_rng(3)
    x = 0.4 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(t.size)
    path = str(tmp_path / "item.wav")
    write_audio(path, x, RATE)
    return path


def build(reference: str, out: Path, **kwargs):
    options = {
        "conditions": [Condition(name="q4", bits=4), Condition(name="q8", bits=8)],
        "trials": 4,
        "seed": 5,
    }
    options.update(kwargs)
    return export_listening_test([reference], str(out), **options)


def samples(session: Path, name: str) -> np.ndarray:
    """The samples the page plays (its base64 WAV), read by soundfile."""
    return sf.read(io.BytesIO(stimulus_wav(session, name)), always_2d=True)[0]


# ------------------------------------------------------------ statistics


@pytest.mark.parametrize(
    ("correct", "trials"), [(0, 16), (8, 16), (12, 16), (16, 16), (9, 10)]
)
def test_binomial_p_value_matches_scipy_binomtest(correct, trials):
    from scipy.stats import binomtest

    expected = binomtest(correct, trials, 0.5, alternative="greater").pvalue
    assert binomial_p_value(correct, trials) == pytest.approx(expected, rel=1e-12)


def test_binomial_p_value_by_enumeration():
    # 2**10 equally likely answer sheets; count those with at least 8 right.
    sheets = np.array(np.meshgrid(*[[0, 1]] * 10)).reshape(10, -1)
    assert binomial_p_value(8, 10) == np.mean(sheets.sum(axis=0) >= 8)


def test_mean_interval_uses_the_student_t_quantile():
    # t(0.975, df=3) = 3.182446 (published tables).
    values = [50.0, 60.0, 70.0, 80.0]
    half = 3.182446 * np.std(values, ddof=1) / 2
    mean, low, high = mean_interval(values)
    assert (mean, low, high) == pytest.approx((65.0, 65 - half, 65 + half), rel=1e-6)
    assert mean_interval([42.0]) == (42.0, None, None)


# ------------------------------------------------------------ parsing


def test_parse_condition_reads_keys_and_scheme_parameters():
    c = parse_condition("tel=scheme=mulaw,bits=8,rate=8000,dither=tpdf,mu=100")
    assert (c.name, c.scheme, c.bits, c.rate, c.dither, dict(c.params)) == (
        "tel",
        "mulaw",
        8,
        8000,
        "tpdf",
        {"mu": 100.0},
    )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("tel", "NAME=key=value"),
        ("tel=bits", "key=value"),
        ("tel=bits=x", "bits='x'"),
        ("tel=bits=8,bits=9", "new key"),
        ("hidden-reference=bits=8", "hidden-reference"),
        ("tel=scheme=mulaw", "neither bits nor rate"),
    ],
)
def test_parse_condition_refuses_bad_text(text, match):
    with pytest.raises(AdcsimError, match=match):
        parse_condition(text)


def test_cross_conditions_is_the_full_product():
    names = [
        c.name
        for c in cross_conditions(
            schemes=["uniform", "mulaw"],
            bits=[6, 8],
            rates=[8000],
            dithers=["none", "tpdf"],
        )
    ]
    assert len(names) == len(set(names)) == 8


@pytest.mark.parametrize("text", ["1", "a:2", "-1:2", "1:0.1"])
def test_parse_excerpt_refuses_bad_text(text):
    with pytest.raises(AdcsimError, match="excerpt"):
        parse_excerpt(text)


# ------------------------------------------------------------ rendering


def test_render_condition_equals_a_straight_uniform_quantizer():
    x = np.linspace(-0.9, 0.9, 101).reshape(-1, 1)
    y = render_condition(x, rate=RATE, condition=Condition(name="q5", bits=5), seed=0)
    np.testing.assert_array_equal(y, np.round(x * 16) / 16)


def test_render_condition_keeps_shape_across_a_rate_change():
    x = np.zeros((1001, 2))
    y = render_condition(
        x, rate=44100, condition=Condition(name="r", bits=8, rate=8000), seed=0
    )
    assert y.shape == x.shape


def test_lowpass_anchor_passes_1k_and_stops_7k():
    t = np.arange(RATE) / RATE
    for freq, low, high in [(1000, 0.999, 1.001), (7000, 0, 1e-4)]:
        x = np.sin(2 * np.pi * freq * t)[:, None]
        y = lowpass_anchor(x, rate=RATE, cutoff_hz=3500)
        ratio = np.std(y[2000:-2000]) / np.std(x[2000:-2000])
        assert low <= ratio <= high


def test_fades_start_and_end_at_zero():
    y = apply_fades(np.ones((1000, 1)), rate=RATE)
    assert y[0, 0] == y[-1, 0] == 0.0
    assert np.all(y[round(0.02 * RATE) : -round(0.02 * RATE)] == 1.0)


# ------------------------------------------------------------ sessions


def test_session_blinds_and_key_maps_every_name(reference, tmp_path):
    out = tmp_path / "s"
    session = build(reference, out, mid_anchor=True)
    key = json.loads((out / "key.json").read_text())
    public = (out / "session.js").read_text()
    files = {p.stem for p in (out / "stimuli").glob("*.js")}
    assert files == set(key["stimuli"]) and session.stimuli == len(files)
    assert not (out / "audio").exists()  # no export: the page's copy only
    assert "seed 5" not in (out / "README.txt").read_text()  # part of the blinding
    assert "q4" not in public and "anchor" not in public
    mushra = [t for t in key["trials"] if t["design"] == "mushra"]
    assert len(mushra) == 1
    assert sorted(mushra[0]["stimuli"].values()) == sorted(
        ["hidden-reference", "anchor-3.5k", "anchor-7k", "q4", "q8"]
    )
    # 2 conditions x 4 ABX trials, grouped in 2 sets.
    abx = [t for t in key["trials"] if t["design"] == "abx"]
    assert len(abx) == 8 and {t["set"] for t in abx} == {1, 2}


def test_hidden_reference_is_the_reference_and_abx_x_is_its_source(reference, tmp_path):
    out = tmp_path / "s"
    build(reference, out)
    key = json.loads((out / "key.json").read_text())
    mushra = next(t for t in key["trials"] if t["design"] == "mushra")
    hidden = next(
        n for n, lab in mushra["stimuli"].items() if lab == "hidden-reference"
    )
    np.testing.assert_array_equal(
        samples(out, hidden), samples(out, mushra["reference"])
    )
    for t in (t for t in key["trials"] if t["design"] == "abx"):
        source = t["a"] if t["x_is"] == "A" else t["b"]
        other = t["b"] if t["x_is"] == "A" else t["a"]
        np.testing.assert_array_equal(samples(out, t["x"]), samples(out, source))
        assert not np.array_equal(samples(out, t["x"]), samples(out, other))


def test_every_stimulus_is_loudness_matched(reference, tmp_path):
    out = tmp_path / "s"
    build(
        reference,
        out,
        conditions=[
            Condition(name="q3", bits=3),
            Condition(name="tel", bits=8, rate=8000, scheme="mulaw"),
        ],
    )
    key = json.loads((out / "key.json").read_text())
    ref = next(t for t in key["trials"] if t["design"] == "mushra")["reference"]
    target = integrated_loudness(samples(out, ref), rate=RATE)
    for name in key["stimuli"]:
        assert integrated_loudness(samples(out, name), rate=RATE) == pytest.approx(
            target, abs=0.1
        ), key["stimuli"][name]["label"]


def test_no_stimulus_exceeds_the_peak_limit(tmp_path):
    # A near full-scale sine: the low-pass anchor of its harmonics needs gain.
    t = np.arange(RATE) / RATE
    x = 0.99 * np.sign(np.sin(2 * np.pi * 500 * t)) * 0.9
    path = str(tmp_path / "square.wav")
    write_audio(path, x, RATE)
    out = tmp_path / "s"
    build(path, out, design="mushra")
    key = json.loads((out / "key.json").read_text())
    assert key["items"][0]["headroom_gain_db"] < 0
    for name in key["stimuli"]:
        assert np.abs(samples(out, name)).max() <= PEAK_LIMIT + 1 / 32768


def test_same_seed_same_session_other_seed_other_names(reference, tmp_path):
    build(reference, tmp_path / "a")
    build(reference, tmp_path / "b")
    build(reference, tmp_path / "c", seed=6)
    key_a = (tmp_path / "a" / "key.json").read_text()
    assert key_a == (tmp_path / "b" / "key.json").read_text()
    for name in json.loads(key_a)["stimuli"]:
        js = Path("stimuli") / f"{name}.js"
        assert (tmp_path / "a" / js).read_bytes() == (tmp_path / "b" / js).read_bytes()
    key_c = json.loads((tmp_path / "c" / "key.json").read_text())
    assert not set(key_c["stimuli"]) & set(json.loads(key_a)["stimuli"])


def test_excerpt_sets_the_length(reference, tmp_path):
    build(reference, tmp_path / "s", excerpt=(0.25, 1.0), design="abx")
    key = json.loads((tmp_path / "s" / "key.json").read_text())
    for name in key["stimuli"]:
        assert samples(tmp_path / "s", name).shape[0] == RATE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"conditions": []}, "no conditions"),
        ({"design": "ab"}, "design='ab'"),
        ({"trials": 0}, "trials=0"),
        ({"subtype": "FLOAT"}, "subtype='FLOAT'"),
        ({"export": ["x"]}, "export='x'"),
        ({"excerpt": (1.5, 1.0)}, "excerpt ends"),
        (
            {"conditions": [Condition(name="a", bits=4), Condition(name="a", bits=5)]},
            "twice",
        ),
    ],
)
def test_bad_sessions_are_refused(reference, tmp_path, kwargs, match):
    with pytest.raises(AdcsimError, match=match):
        build(reference, tmp_path / "s", **kwargs)


def test_existing_session_needs_force(reference, tmp_path):
    build(reference, tmp_path / "s")
    with pytest.raises(AdcsimError, match="--force"):
        build(reference, tmp_path / "s")
    build(reference, tmp_path / "s", force=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(AdcsimError, match="not empty"):
        build(reference, tmp_path / "other", force=True)


def test_no_two_stimulus_files_are_alike_and_sizes_do_not_tell_roles(
    reference, tmp_path
):
    out = tmp_path / "s"
    build(reference, out, trials=6)
    key = json.loads((out / "key.json").read_text())
    blobs = {n: (out / "stimuli" / f"{n}.js").read_bytes() for n in key["stimuli"]}
    assert len(set(blobs.values())) == len(blobs)
    wavs = {n: stimulus_wav(out, n) for n in key["stimuli"]}
    assert len(set(wavs.values())) == len(wavs)
    # Each WAV is RIFF with a JUNK chunk first; without it X is its source's
    # bytes, which is what the padding hides.
    for t in (t for t in key["trials"] if t["design"] == "abx"):
        x, src = wavs[t["x"]], wavs[t["a"] if t["x_is"] == "A" else t["b"]]
        assert x[12:16] == b"JUNK" and src[12:16] == b"JUNK"

        def strip(w: bytes) -> bytes:
            return w[20 + int.from_bytes(w[16:20], "little") :]

        assert strip(x) == strip(src) and x != src
    # Sizes of one trial's files: spread by the padding, not grouped by role.
    sizes = [len(w) for w in wavs.values()]
    assert len(set(sizes)) > len(sizes) // 2


def test_blinding_depends_on_the_reference_samples_not_only_the_seed(
    reference, tmp_path
):
    build(reference, tmp_path / "a")
    x, _ = read_audio(reference)
    other = str(tmp_path / "other.wav")
    write_audio(other, x * 0.5, RATE)
    build(other, tmp_path / "b")
    names_a = set(json.loads((tmp_path / "a" / "key.json").read_text())["stimuli"])
    names_b = set(json.loads((tmp_path / "b" / "key.json").read_text())["stimuli"])
    assert not names_a & names_b


def test_file_condition_of_another_length_needs_pad(reference, tmp_path):
    x, _ = read_audio(reference)
    short = str(tmp_path / "short.wav")
    write_audio(short, x[: x.shape[0] // 2], RATE)
    conditions = [Condition(name="short", path=short)]
    with pytest.raises(AdcsimError, match="--pad"):
        build(reference, tmp_path / "s", conditions=conditions)
    assert list(tmp_path.iterdir()) != [] and not (tmp_path / "s").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    build(reference, tmp_path / "s", conditions=conditions, pad=True)
    key = json.loads((tmp_path / "s" / "key.json").read_text())
    name = next(n for n, v in key["stimuli"].items() if v["label"] == "short")
    y = samples(tmp_path / "s", name)
    assert y.shape[0] == x.shape[0] and not y[x.shape[0] // 2 + 900 :].any()


def test_a_large_session_warns_with_the_excerpt_advice(
    reference, tmp_path, monkeypatch
):
    from adcsim.listening import _session

    monkeypatch.setattr(_session, "LARGE_SESSION_BYTES", 1000)
    session = build(reference, tmp_path / "s")
    assert (
        session.size_bytes
        == sum(p.stat().st_size for p in (tmp_path / "s").rglob("*") if p.is_file())
        - (tmp_path / "s" / "adcsim-manifest.json").stat().st_size
    )
    assert len(session.warnings) == 1 and "--excerpt" in session.warnings[0]


def test_more_than_twelve_stimuli_per_trial_is_an_error_saying_how_to_split(
    reference, tmp_path
):
    # 11 conditions + the hidden reference + the 3.5 kHz anchor = 13 > 12.
    many = [Condition(name=f"q{b}", bits=b) for b in range(2, 13)]
    with pytest.raises(AdcsimError, match="--max-per-trial 12 to split") as caught:
        build(reference, tmp_path / "s", conditions=many, design="mushra")
    assert "13 stimuli" in str(caught.value) and "2 trials" in str(caught.value)
    assert not (tmp_path / "s").exists()
    # 10 conditions fit exactly: 12 stimuli in one trial.
    session = build(reference, tmp_path / "t", conditions=many[:10], design="mushra")
    key = json.loads(session.key.read_text())
    assert [len(t["stimuli"]) for t in key["trials"]] == [12]


def test_max_per_trial_splits_the_conditions_each_trial_with_hidden_ref_and_anchor(
    reference, tmp_path
):
    many = [Condition(name=f"q{b}", bits=b) for b in range(2, 13)]
    session = build(
        reference, tmp_path / "s", conditions=many, design="mushra", max_per_trial=8
    )
    key = json.loads(session.key.read_text())
    labels = [sorted(t["stimuli"].values()) for t in key["trials"]]
    assert sorted(len(x) for x in labels) == [7, 8]
    for trial_labels in labels:
        assert trial_labels.count("hidden-reference") == 1
        assert trial_labels.count("anchor-3.5k") == 1
    shown = {v for x in labels for v in x} - {"hidden-reference", "anchor-3.5k"}
    assert shown == {c.name for c in many}
    with pytest.raises(AdcsimError, match="max-per-trial=2 must be in"):
        build(reference, tmp_path / "u", conditions=many, max_per_trial=2)


def test_allow_back_reaches_the_page_and_the_key(reference, tmp_path):
    build(reference, tmp_path / "s", allow_back=True)
    page = (tmp_path / "s" / "session.js").read_text()
    assert '"allow_back": true' in page
    assert json.loads((tmp_path / "s" / "key.json").read_text())["allow_back"]
    build(reference, tmp_path / "t")
    assert '"allow_back": false' in (tmp_path / "t" / "session.js").read_text()
