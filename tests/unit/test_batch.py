"""Batches without the CLI: checks before work, workers, order, clean-up, tables."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from adcsim.cli._progress import Progress, format_duration, progress_line
from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.run import _batch as batch
from adcsim.run import _results as results
from adcsim.run._config import QuantizeConfig
from adcsim.run._outputs import OutputPaths, plan_outputs

CFG = QuantizeConfig(bits=6, blocksize=256).validate()
needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="workers are forked (monkeypatches inherited)"
)


def _planner(out: Path, cfg: QuantizeConfig = CFG) -> Any:
    def plan(path: str) -> OutputPaths:
        return plan_outputs(path, cfg, out_dir=str(out), no_plot=True)

    return plan


def _inputs(tmp_path: Path, noise: Any, wav_file: Any, names: list[str]) -> list[str]:
    return [
        str(wav_file(tmp_path, noise(frames=1500, seed=i), 8000, name=name))
        for i, name in enumerate(names)
    ]


def _corrupt(path: Path) -> str:
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    return str(path)


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _without_command_line(data: bytes) -> dict[str, Any]:
    report = json.loads(data)
    report["provenance"].pop("command_line")
    return report


# --- checks before any work ----------------------------------------------------


def test_the_same_input_named_twice_is_refused_also_through_dotdot_and_a_link(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    (a,) = _inputs(tmp_path, noise, wav_file, ["a.wav"])
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.wav"
    link.symlink_to(a)
    out = tmp_path / "out"
    out.mkdir()
    for second in (str(tmp_path / "sub" / ".." / "a.wav"), str(link), a):
        with pytest.raises(AdcsimError, match="named twice"):
            batch.run_batch([a, second], CFG, _planner(out))
    assert list(out.iterdir()) == []


def test_an_output_landing_on_another_input_is_refused_even_with_force(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    a, victim = _inputs(tmp_path, noise, wav_file, ["a.wav", "out/a.uniform-6bit.wav"])
    before = Path(victim).read_bytes()
    with pytest.raises(AdcsimError, match="it is the input"):
        batch.run_batch([a, victim], CFG, _planner(out), force=True)
    assert Path(victim).read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["a.uniform-6bit.wav"]


def test_two_inputs_with_one_stem_are_refused_naming_both(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = _inputs(tmp_path, noise, wav_file, ["x/take.wav", "y/take.flac"])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(AdcsimError, match="both write") as info:
        batch.run_batch([a, b], CFG, _planner(out), jobs=2)
    assert a in str(info.value) and b in str(info.value)
    assert list(out.iterdir()) == []


def test_real_paths_equal_os_realpath_through_linked_folders_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere" / "real").mkdir(parents=True)
    (tmp_path / "real").symlink_to(tmp_path / "elsewhere" / "real")
    (tmp_path / "real" / "a.wav").write_bytes(b"")
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.wav").symlink_to(tmp_path / "real" / "a.wav")
    monkeypatch.chdir(tmp_path)
    real_path = batch._RealPaths()
    for path in [
        "real/a.wav",
        "linked/a.wav",
        "linked/b.wav",
        "linked/../real/new.json",
        "linked/../new.json",  # .. of the link's target: elsewhere/
        "linked/new.json",
        str(tmp_path / "linked" / "x" / "..." / "y.png"),
    ]:
        assert real_path(path) == os.path.realpath(path), path


def test_negative_jobs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AdcsimError, match="jobs=-1"):
        batch.run_batch([], CFG, _planner(tmp_path), jobs=-1)


def test_mirror_dir_keeps_the_tree_below_root_and_refuses_inputs_outside() -> None:
    assert batch.mirror_dir("c/a/b/x.wav", root="c", out_dir="o") == "o/a/b"
    assert batch.mirror_dir("c/x.wav", root="./c/", out_dir="o") == "o"
    assert batch.mirror_dir("c/a/../x.wav", root="c", out_dir="o") == "o"
    with pytest.raises(AdcsimError, match="outside --mirror root"):
        batch.mirror_dir("c/../d/x.wav", root="c", out_dir="o")
    with pytest.raises(AdcsimError, match="outside --mirror root"):
        batch.mirror_dir("cc/x.wav", root="c", out_dir="o")


# --- running: order, failures, workers ------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_a_corrupt_file_in_the_middle_fails_alone_and_order_is_kept(
    tmp_path: Path, noise: Any, wav_file: Any, jobs: int
) -> None:
    a, b, c, d = _inputs(
        tmp_path, noise, wav_file, ["a.wav", "b.wav", "c.wav", "d.wav"]
    )
    bad = _corrupt(tmp_path / "bad.wav")
    out = tmp_path / "out"
    out.mkdir()
    in_order: list[results.BatchItem] = []
    done: list[results.BatchItem] = []
    result = batch.run_batch(
        [a, b, bad, c, d],
        CFG,
        _planner(out),
        jobs=jobs,
        on_item=in_order.append,
        on_done=done.append,
    )
    assert [i.input for i in result.items] == [a, b, bad, c, d]
    assert in_order == result.items
    assert sorted(i.input for i in done) == sorted([a, b, bad, c, d])
    assert [i.status for i in result.items] == ["ok", "ok", "failed", "ok", "ok"]
    assert "bad.wav" in (result.items[2].error or "")
    assert result.summary() == "4 files quantized, 1 failed"
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{s}.uniform-6bit.{e}" for s in "abcd" for e in ("wav", "json")
    )


@pytest.mark.parametrize("jobs", [1, pytest.param(2, marks=needs_fork)])
def test_a_batch_without_reports_still_writes_them_and_tells_failures(
    tmp_path: Path, noise: Any, wav_file: Any, jobs: int
) -> None:
    a, b = _inputs(tmp_path, noise, wav_file, ["a.wav", "b.wav"])
    bad = _corrupt(tmp_path / "bad.wav")
    out = tmp_path / "out"
    out.mkdir()
    result = batch.run_batch([a, bad, b], CFG, _planner(out), jobs=jobs, reports=False)
    assert [i.report for i in result.items] == [None, None, None]
    assert [i.status for i in result.items] == ["ok", "failed", "ok"]
    assert result.summary() == "2 files quantized, 1 failed"
    assert json.loads((out / "b.uniform-6bit.json").read_text())["metrics"]["snr_db"]


@needs_fork
def test_two_workers_write_the_same_bytes_as_one_process(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    names = [f"n{i}.wav" for i in range(7)]
    inputs = _inputs(tmp_path, noise, wav_file, names)
    trees = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        out.mkdir()
        command = batch.CommandLine(("adcsim", "quantize"), ("-j", str(jobs)))
        batch.run_batch(inputs, CFG, _planner(out), jobs=jobs, command=command)
        trees[jobs] = _tree(out)
    assert trees[1].keys() == trees[2].keys() and len(trees[1]) == 14
    for name, data in trees[1].items():
        if name.endswith(".json"):
            one, two = (
                _without_command_line(data),
                _without_command_line(trees[2][name]),
            )
            assert one["output"]["path"] != two["output"]["path"]
            one["output"].pop("path"), two["output"].pop("path")
            one["output"].pop("report_path"), two["output"].pop("report_path")
            assert one == two
        else:
            assert data == trees[2][name]


def _kill_writer_of(monkeypatch: pytest.MonkeyPatch, marker: str, how: Any) -> None:
    """Make the process writing ``marker``'s outputs act once its temp file exists.

    Test-only hook: `files.AtomicFile.__init__` (which creates the
    ``.part`` file every output goes through) is monkeypatched in this
    process; forked workers inherit the patch, so the worker holding that
    input is killed (or interrupted) with a ``.part`` file on disk.
    """
    original = files.AtomicFile.__init__

    def init(self: files.AtomicFile, path: str) -> None:
        original(self, path)
        if marker in path:
            assert os.path.exists(self.tmp)
            how()

    monkeypatch.setattr(files.AtomicFile, "__init__", init)


@needs_fork
def test_a_killed_worker_fails_only_its_input_and_leaves_no_temp_file(
    tmp_path: Path, noise: Any, wav_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["a.wav", "victim.wav", "c.wav", "d.wav", "e.wav"]
    inputs = _inputs(tmp_path, noise, wav_file, names)
    out = tmp_path / "out"
    out.mkdir()
    _kill_writer_of(monkeypatch, "victim", lambda: os.kill(os.getpid(), signal.SIGKILL))
    result = batch.run_batch(inputs, CFG, _planner(out), jobs=2)
    assert [i.status for i in result.items] == ["ok", "failed", "ok", "ok", "ok"]
    assert result.items[1].error == (
        f"cannot quantize {inputs[1]!r}: worker died (signal {int(signal.SIGKILL)})"
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{s}.uniform-6bit.{e}" for s in "acde" for e in ("wav", "json")
    )


def test_interrupt_removes_the_unfinished_input_and_says_what_was_not_done(
    tmp_path: Path, noise: Any, wav_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path, noise, wav_file, ["a.wav", "b.wav", "c.wav"])
    out = tmp_path / "out"
    out.mkdir()

    def interrupt() -> None:
        raise KeyboardInterrupt

    _kill_writer_of(monkeypatch, "b.uniform", interrupt)
    with pytest.raises(results.BatchInterrupted) as info:
        batch.run_batch(inputs, CFG, _planner(out))
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.not_done == 2
    assert info.value.summary() == "interrupted: 1 file quantized, 0 failed, 2 not done"
    assert sorted(p.name for p in out.iterdir()) == [
        "a.uniform-6bit.json",
        "a.uniform-6bit.wav",
    ]


def test_a_failure_after_the_audio_is_written_leaves_nothing(
    tmp_path: Path, noise: Any, wav_file: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a,) = _inputs(tmp_path, noise, wav_file, ["a.wav"])
    out = tmp_path / "out"
    out.mkdir()

    def full_disk(path: str, text: str, **kw: Any) -> None:
        raise AdcsimError(f"cannot write {path!r}: no space left on device")

    monkeypatch.setattr(files, "write_text", full_disk)
    result = batch.run_batch([a], CFG, _planner(out))
    assert result.items[0].error is not None and "no space" in result.items[0].error
    assert list(out.iterdir()) == []


def test_make_dirs_creates_the_mirrored_directories(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    (tmp_path / "c" / "x").mkdir(parents=True)
    (a,) = _inputs(tmp_path, noise, wav_file, ["c/x/a.wav"])
    out = tmp_path / "out"

    def plan(path: str) -> OutputPaths:
        folder = batch.mirror_dir(path, root=str(tmp_path / "c"), out_dir=str(out))
        return plan_outputs(path, CFG, out_dir=folder, no_plot=True)

    result = batch.run_batch([a], CFG, plan, make_dirs=True)
    assert result.exit_code == 0
    assert (out / "x" / "a.uniform-6bit.wav").is_file()


# --- skipping, summary table -------------------------------------------------------


def test_up_to_date_needs_same_settings_same_input_and_intact_output(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    a, b = _inputs(tmp_path, noise, wav_file, ["a.wav", "b.wav"])
    out = tmp_path / "out"
    out.mkdir()
    plan = _planner(out)
    batch.run_batch([a, b], CFG, plan)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = batch.run_batch([a, b], CFG, plan, skip_existing=True, jobs=2)
    assert [i.status for i in again.items] == ["skipped", "skipped"]
    assert again.summary() == "0 files quantized, 2 skipped, 0 failed"
    assert again.items[0].report is not None
    assert again.items[0].report.settings["bits"] == 6
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps

    other_seed = QuantizeConfig(bits=6, blocksize=256, seed=3).validate()
    assert batch.up_to_date(a, plan(a), other_seed) is None
    assert batch.up_to_date(a, plan(a), CFG) is not None
    sf.write(b, noise(frames=1500, seed=99), 8000, subtype="PCM_16")
    assert batch.up_to_date(b, plan(b), CFG) is None
    audio = Path(plan(a).audio)
    audio.write_bytes(audio.read_bytes()[:-2] + b"\x00\x00")
    assert batch.up_to_date(a, plan(a), CFG) is None


def test_summary_table_has_one_row_per_input_with_independent_snr(
    tmp_path: Path, noise: Any, wav_file: Any
) -> None:
    a, c = _inputs(tmp_path, noise, wav_file, ["a.wav", "c.wav"])
    bad = _corrupt(tmp_path / "bad.wav")
    out = tmp_path / "out"
    out.mkdir()
    result = batch.run_batch([a, bad, c], CFG, _planner(out))
    target = tmp_path / "summary.csv"
    results.write_summary(str(target), result)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert tuple(rows[0]) == results.SUMMARY_COLUMNS
    assert [r["input"] for r in rows] == [a, bad, c]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert rows[1]["error"] and rows[1]["snr_db"] == "" and rows[0]["error"] == ""
    x, _ = sf.read(a, always_2d=True)
    y, _ = sf.read(rows[0]["output"], always_2d=True)
    snr = 10 * np.log10(np.sum(x**2) / np.sum((y - x) ** 2))
    assert float(rows[0]["snr_db"]) == pytest.approx(snr, rel=1e-9)
    assert rows[0]["frames"] == "1500" and rows[0]["sample_rate"] == "8000"
    assert rows[0]["bits"] == "6" and rows[0]["scheme"] == "uniform"
    assert [p.name for p in tmp_path.glob(".*.part")] == []


# --- progress bar -----------------------------------------------------------------


def test_progress_line_shows_files_audio_speed_and_eta() -> None:
    # 30 of 120 files in 15 s holding 600 s of audio: 40x, 45 s left.
    line = progress_line(30, 120, 600.0, 15.0, width=8)
    assert line == "[##------]  30/120 files  600.0 s audio  40.0x real time  ETA 0:45"
    assert format_duration(3600 * 2 + 61) == "2:01:01"


def test_progress_redraws_in_place_and_erases_itself() -> None:
    ticks = iter([0.0, 0.05, 0.06, 1.0])
    out = io.StringIO()
    bar = Progress(3, out, clock=lambda: next(ticks))
    bar.advance(1.0)
    bar.advance(1.0)  # within 0.1 s of the last draw: not redrawn
    bar.advance(2.0)  # the last file: always drawn
    bar.close()
    text = out.getvalue()
    assert text.count("files") == 2
    assert "3/3 files  4.0 s audio  4.0x real time  ETA 0:00" in text
    assert text.endswith("\r\x1b[K") and "\n" not in text


@pytest.mark.parametrize("jobs", [1, 2])
def test_reports_seen_by_on_item_are_not_kept_when_asked(
    tmp_path, noise, wav_file, jobs
):
    # A batch's main process kept every report (90 -> 221 MB over 20000
    # files with progress on), though the CLI only prints them.
    inputs = _inputs(tmp_path, noise, wav_file, ["a.wav", "b.wav", "c.wav"])
    out = tmp_path / "out"
    out.mkdir()
    seen: list[Any] = []
    result = batch.run_batch(
        inputs,
        CFG,
        _planner(out),
        on_item=lambda item: seen.append(item.report),
        jobs=jobs,
        keep_reports=False,
    )
    assert [r.input["path"] for r in seen] == inputs
    assert [item.report for item in result.items] == [None, None, None]
    assert result.summary() == "3 files quantized, 0 failed"


def test_a_batch_keeping_only_summary_rows_writes_the_same_summary(
    tmp_path, noise, wav_file
):
    inputs = _inputs(tmp_path, noise, wav_file, ["a.wav", "b.wav"])
    inputs.append(str(tmp_path / "missing.wav"))
    tables = {}
    for keep in (True, "rows"):
        out = tmp_path / f"out-{keep}"
        out.mkdir()
        result = batch.run_batch(
            inputs, CFG, _planner(out), keep_reports=keep, force=True
        )
        rows = results.summary_rows(result)
        tables[keep] = [
            {**r, "output": os.path.basename(r["output"] or "")} for r in rows
        ]
        if keep == "rows":
            assert [item.report for item in result.items] == [None, None, None]
    assert tables[True] == tables["rows"]
    assert [r["status"] for r in tables["rows"]] == ["ok", "ok", "failed"]
    assert tables["rows"][0]["snr_db"] is not None
