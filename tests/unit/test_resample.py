"""The resampler against the ideal band-limited signal (issue 2's quality targets)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import adcsim.stages._resample
from adcsim.errors import AdcsimError
from adcsim.stages._chain import StreamInfo
from adcsim.stages._resample import (
    OVERLAP_MAX_FRAMES,
    OVERLAP_MIN_FRAMES,
    Resampler,
    resample,
)

TRIM_S = 0.05  # filter start-up and run-out at the record's edges are excluded


def _sine(freq, rate, seconds=1.0, phase=0.4, amp=0.9):
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t + phase)


def _trim(x, rate):
    k = int(TRIM_S * rate)
    return x[k:-k]


@pytest.mark.parametrize(
    ("in_rate", "out_rate"),
    # 44.1 kHz to 16 kHz is the benchmark's case and, with 8 kHz, the tightest:
    # VHQ gives 90.9 dB at 60% (HQ, 89.7 dB, would fail).
    [(48000, 16000), (44100, 8000), (44100, 16000), (16000, 44100), (44100, 48000)],
)
def test_tones_up_to_60_percent_of_new_nyquist_are_within_90_db_of_ideal(
    in_rate, out_rate
):
    nyquist = min(in_rate, out_rate) / 2
    for fraction in (0.1, 0.35, 0.6):
        freq = fraction * nyquist
        y = resample(_sine(freq, in_rate), in_rate=in_rate, out_rate=out_rate)
        ideal = _sine(freq, out_rate)
        n = min(len(y), len(ideal))
        err = _trim(y[:n] - ideal[:n], out_rate)
        ratio_db = 10 * np.log10(
            np.mean(_trim(ideal[:n], out_rate) ** 2) / np.mean(err**2)
        )
        assert ratio_db >= 90, (freq, ratio_db)


def test_output_has_no_time_shift():
    # A shift of even 0.01 sample at 4 kHz would limit the error ratio to ~52 dB;
    # the previous test bounds it far below; here a click's centre stays put.
    x = np.zeros(48000)
    x[24000] = 1.0
    y = resample(x, in_rate=48000, out_rate=16000)
    assert int(np.argmax(np.abs(y))) == 8000


@pytest.mark.parametrize("freq", [9000.0, 12000.0, 20000.0])
def test_content_above_the_new_nyquist_is_suppressed_by_120_db(freq):
    x = _sine(freq, 48000)
    y = resample(x, in_rate=48000, out_rate=16000)
    ratio_db = 10 * np.log10(np.mean(_trim(y, 16000) ** 2) / np.mean(x**2))
    assert ratio_db <= -120


def test_length_follows_the_rate_ratio():
    assert resample(np.zeros(44100), in_rate=44100, out_rate=16000).shape == (16000,)
    assert resample(np.zeros((480, 3)), in_rate=48000, out_rate=8000).shape == (80, 3)


def _streamed(x, sizes, *, in_rate=44100, out_rate=16000):
    stage = Resampler(out_rate=out_rate)
    stage.start(StreamInfo(rate=in_rate, channels=x.shape[1]))
    parts, pos, i = [], 0, 0
    while pos < len(x):
        n = sizes[i % len(sizes)]
        parts.append(stage.process(x[pos : pos + n]))
        pos, i = pos + n, i + 1
    parts.append(stage.flush())
    return np.concatenate(parts)


def test_streaming_equals_one_shot_for_any_block_split():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30011, 2)) * 0.1
    whole = resample(x, in_rate=44100, out_rate=16000)
    for sizes in ([1000], [4096, 1, 777], [30011]):
        streamed = _streamed(x, sizes)
        assert streamed.shape == whole.shape
        np.testing.assert_array_equal(streamed, whole)


@pytest.mark.parametrize("channels", [1, 2])
def test_blocks_on_the_worker_thread_give_the_one_shot_output(channels):
    # Long blocks go to the worker (their output comes one call later), short
    # ones are converted in the call, and a block longer than the worker takes
    # is split: every mix of the three must give the same samples.
    rng = np.random.default_rng(6)
    x = rng.standard_normal((OVERLAP_MAX_FRAMES + 30011, channels)) * 0.1
    whole = resample(x, in_rate=44100, out_rate=16000)  # head in the call, tail not
    assert whole.shape == (round(len(x) * 16000 / 44100), channels)
    splits = (
        [OVERLAP_MIN_FRAMES],
        [OVERLAP_MIN_FRAMES - 1, OVERLAP_MIN_FRAMES + 1],
        [65536, 5, 20000, 3000],
        [OVERLAP_MAX_FRAMES + 1],
        [len(x)],
    )
    for sizes in splits:
        np.testing.assert_array_equal(_streamed(x, sizes), whole, err_msg=str(sizes))
    # Blocks in Fortran order or in float32 are converted, not refused.
    exact = np.float32(x).astype(np.float64)
    for block in (np.asfortranarray(exact), np.float32(exact)):
        np.testing.assert_array_equal(
            _streamed(block, [65536, 100]),
            resample(exact, in_rate=44100, out_rate=16000),
        )


def test_resampling_is_deterministic():
    x = np.random.default_rng(7).standard_normal((100_000, 2)) * 0.1
    first = _streamed(x, [65536])
    np.testing.assert_array_equal(_streamed(x, [65536]), first)


def test_process_neither_modifies_nor_keeps_its_input(monkeypatch):
    # The worker is held until the caller has overwritten its block: output
    # made from the caller's array instead of a copy would show the zeros.
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3 * OVERLAP_MIN_FRAMES, 2)) * 0.1
    want = resample(x, in_rate=44100, out_rate=16000)
    go = threading.Event()
    convert = adcsim.stages._resample._convert

    def held(*args):
        assert go.wait(10)
        return convert(*args)

    monkeypatch.setattr(adcsim.stages._resample, "_convert", held)
    stage = Resampler(out_rate=16000)
    stage.start(StreamInfo(rate=44100, channels=2))
    block = x.copy()
    first = stage.process(block)
    np.testing.assert_array_equal(block, x)
    block[:] = 0.0
    go.set()
    got = np.concatenate([first, stage.flush()])
    np.testing.assert_array_equal(got, want)


def test_reset_with_a_block_on_the_worker_starts_afresh():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4 * OVERLAP_MIN_FRAMES, 2)) * 0.1
    stage = Resampler(out_rate=16000)
    stage.start(StreamInfo(rate=44100, channels=2))
    stage.process(rng.standard_normal((2 * OVERLAP_MIN_FRAMES, 2)))
    stage.reset()
    got = np.concatenate([stage.process(x), stage.flush()])
    np.testing.assert_array_equal(got, resample(x, in_rate=44100, out_rate=16000))


def test_the_worker_thread_ends_with_the_stream():
    stage = Resampler(out_rate=16000)
    stage.start(StreamInfo(rate=44100, channels=1))
    stage.process(np.zeros((OVERLAP_MIN_FRAMES, 1)))
    workers = [t for t in threading.enumerate() if t.name.startswith("adcsim-res")]
    assert workers
    stage.flush()
    for thread in workers:
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_a_block_with_the_wrong_channel_count_is_refused_at_once():
    stage = Resampler(out_rate=16000)
    stage.start(StreamInfo(rate=44100, channels=2))
    with pytest.raises(ValueError, match="expected"):
        stage.process(np.zeros((OVERLAP_MIN_FRAMES, 3)))


def test_same_rate_bypasses_the_stage():
    stage = Resampler(out_rate=8000)
    stage.start(StreamInfo(rate=8000, channels=1))
    assert stage.active is False


@pytest.mark.parametrize("rate", [0, -5, 2.5, "x"])
def test_bad_rates_are_refused(rate):
    with pytest.raises(AdcsimError, match="rate="):
        Resampler(out_rate=rate)
