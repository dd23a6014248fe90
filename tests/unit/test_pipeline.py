"""One file through the chain to its outputs, and batches, without the CLI."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from adcsim.errors import AdcsimError
from adcsim.run import _batch as batch
from adcsim.run import _process as pipeline
from adcsim.run import _results as results
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import OutputPaths, default_audio_name, plan_outputs


def ref_uniform(x: np.ndarray, bits: int) -> np.ndarray:
    step = 2.0 / 2**bits
    return np.clip(np.round(x / step), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * step


def test_default_audio_name_follows_the_issue() -> None:
    cfg = QuantizeConfig(bits=12, scheme="mulaw", params={"mu": 255.0})
    assert default_audio_name("a/b/take.1.flac", cfg) == "take.1.mulaw-12bit.wav"


def test_plan_puts_report_and_plot_beside_the_audio() -> None:
    cfg = QuantizeConfig()
    p = plan_outputs("x/in.flac", cfg, out_dir="out")
    assert p == OutputPaths(
        "out/in.uniform-8bit.wav",
        "out/in.uniform-8bit.json",
        "out/in.uniform-8bit.png",
        None,
    )
    p = plan_outputs("in.wav", cfg, output="o.flac", no_plot=True, no_report=True)
    assert (p.audio, p.report, p.plot) == ("o.flac", None, None)
    p = plan_outputs("in.wav", cfg, output="-")
    assert (p.report, p.plot) == (None, None)  # stdout: only where asked
    p = plan_outputs("in.wav", cfg, output="-", report="r.json", plot="p.svg")
    assert (p.report, p.plot) == ("r.json", "p.svg")


def test_process_file_writes_levels_and_reports_their_figures(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    src = wav_file(tmp_path, noise(frames=1000, channels=2), 8000, subtype="PCM_24")
    cfg = QuantizeConfig(bits=5, blocksize=37).validate()
    paths = OutputPaths(str(tmp_path / "o.wav"), str(tmp_path / "o.json"))
    report = pipeline.process_file(str(src), cfg, paths, command_line="cmd")
    x, _ = sf.read(str(src), dtype="float64", always_2d=True)
    y, _ = sf.read(paths.audio, dtype="float64", always_2d=True)
    np.testing.assert_array_equal(y, ref_uniform(x, 5))
    e = y - x
    m = report.metrics
    assert m["mse"] == pytest.approx(np.mean(e**2), rel=1e-12)
    assert m["snr_db"] == pytest.approx(
        10 * math.log10(np.sum(x**2) / np.sum(e**2)), rel=1e-12
    )
    assert m["max_abs_error"] == pytest.approx(np.max(np.abs(e)), rel=1e-12)
    assert m["levels_used"] == np.unique(y).size
    assert (
        report.provenance["input_sha256"]
        == hashlib.sha256(src.read_bytes()).hexdigest()
    )
    assert report.provenance["command_line"] == "cmd"
    assert Path(paths.report).exists()  # type: ignore[arg-type]


def test_block_size_does_not_change_the_output(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    src = wav_file(
        tmp_path,
        noise(frames=999, channels=2).astype(np.float32),
        8000,
        subtype="FLOAT",
    )
    outs = []
    for blocksize in (1, 64, 999, 65536):
        cfg = QuantizeConfig(
            bits=8, dither="tpdf", seed=3, rate=11025, blocksize=blocksize
        ).validate()
        out = tmp_path / f"o{blocksize}.wav"
        pipeline.process_file(str(src), cfg, OutputPaths(str(out)))
        outs.append(out.read_bytes())
    assert all(o == outs[0] for o in outs[1:])


def test_process_file_streams_stdin_to_stdout(noise: Any) -> None:
    x = noise(frames=500)
    buf = io.BytesIO()
    sf.write(buf, x, 8000, format="WAV", subtype="FLOAT")
    out = io.BytesIO()
    cfg = QuantizeConfig(bits=6).validate()
    report = pipeline.process_file(
        "-",
        cfg,
        OutputPaths("-"),
        stdin=io.BytesIO(buf.getvalue()),  # type: ignore[arg-type]
        stdout=out,
    )  # type: ignore[arg-type]
    y, rate = sf.read(io.BytesIO(out.getvalue()), dtype="float64", always_2d=True)
    assert rate == 8000
    xf = x.astype(np.float32).astype(np.float64)
    np.testing.assert_array_equal(y, ref_uniform(xf, 6))
    assert (
        report.provenance["output_sha256"] == hashlib.sha256(out.getvalue()).hexdigest()
    )
    assert (
        report.provenance["input_sha256"] == hashlib.sha256(buf.getvalue()).hexdigest()
    )


def test_dither_on_a_source_already_on_the_grid_is_bypassed_and_noted(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    src = wav_file(tmp_path, noise(frames=300), 8000, subtype="PCM_U8")
    cfg = QuantizeConfig(bits=8, dither="tpdf").validate()
    report = pipeline.process_file(str(src), cfg, OutputPaths(str(tmp_path / "o.wav")))
    stage = next(s for s in report.stages if s["name"] == "dither")
    assert stage["active"] is False
    assert any("dither" in note for note in report.notes)
    assert report.metrics["mse"] == 0.0


def test_failing_file_leaves_nothing_and_batch_goes_on(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    good = wav_file(tmp_path, noise(frames=100), 8000, name="good.wav")
    good2 = wav_file(tmp_path, noise(frames=100), 8000, name="good2.wav")
    bad = tmp_path / "bad.wav"
    x = np.zeros((300, 1), dtype=np.float32)
    x[250] = np.nan
    sf.write(str(bad), x, 8000, subtype="FLOAT")
    out = tmp_path / "out"
    out.mkdir()
    cfg = QuantizeConfig(blocksize=50).validate()

    def plan(path: str) -> OutputPaths:
        return plan_outputs(path, cfg, out_dir=str(out), no_plot=True)

    seen: list[results.BatchItem] = []
    result = batch.run_batch(
        [str(good), str(bad), str(good2)], cfg, plan, on_item=seen.append
    )
    assert [item.error is None for item in result.items] == [True, False, True]
    assert seen == result.items
    assert result.exit_code == 1 and result.failed == 1
    assert result.summary() == "2 files quantized, 1 failed"
    assert sorted(p.name for p in out.iterdir()) == [
        "good.uniform-8bit.json",
        "good.uniform-8bit.wav",
        "good2.uniform-8bit.json",
        "good2.uniform-8bit.wav",
    ]


def test_batch_summary_and_exit_code() -> None:
    ok = results.BatchResult([results.BatchItem("a", report=None)])
    assert ok.exit_code == 0 and ok.summary() == "1 file quantized, 0 failed"
    assert results.BatchResult().exit_code == 0


def test_two_inputs_writing_one_output_are_refused_before_any_work(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    a = wav_file(tmp_path, noise(frames=100), 8000, name="take.wav")
    (tmp_path / "b").mkdir()
    b = wav_file(tmp_path / "b", noise(frames=100), 8000, name="take.wav")
    cfg = QuantizeConfig().validate()

    def plan(path: str) -> OutputPaths:
        return plan_outputs(path, cfg, out_dir=str(tmp_path / "out"))

    (tmp_path / "out").mkdir()
    with pytest.raises(AdcsimError, match="both write"):
        batch.run_batch([str(a), str(b)], cfg, plan)
    assert list((tmp_path / "out").iterdir()) == []


def test_output_colliding_with_its_own_report_is_refused(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    src = wav_file(tmp_path, noise(frames=100), 8000)
    cfg = QuantizeConfig().validate()
    same = str(tmp_path / "o.wav")
    with pytest.raises(AdcsimError, match="collide"):
        pipeline.process_file(str(src), cfg, OutputPaths(same, same))


@pytest.mark.parametrize(
    ("scheme", "subtype", "phases"),
    [
        ("uniform", "PCM_16", ["quantize"]),  # the 16-bit look-up path
        ("uniform", "PCM_24", ["quantize"]),  # integer path
        ("uniform", "FLOAT", ["quantize"]),  # float path
        ("lloydmax", "PCM_16", ["design", "quantize"]),
    ],
)
def test_process_file_tells_progress_how_far_each_pass_has_read(
    tmp_path: Path, scheme: str, subtype: str, phases: list[str]
) -> None:
    frames = 20000
    x = 0.3 * np.sin(np.arange(frames) * 0.01)
    src = tmp_path / "in.wav"
    sf.write(str(src), x, 8000, subtype=subtype)
    cfg = QuantizeConfig(scheme=scheme, bits=4, blocksize=3000).validate()
    calls: list[tuple[str, int, int | None, int]] = []
    pipeline.process_file(
        str(src),
        cfg,
        OutputPaths(str(tmp_path / "out.wav")),
        progress=lambda *args: calls.append(args),
    )
    assert [p for p in dict.fromkeys(c[0] for c in calls)] == phases
    for phase in phases:
        read = [c[1] for c in calls if c[0] == phase]
        assert read == sorted(read) and read[-1] == frames
    assert {(c[2], c[3]) for c in calls} == {(frames, 8000)}
