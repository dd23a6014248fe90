"""``adcsim quantize`` over many inputs: lists, jobs, names, tables, skipping."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner, Result

from adcsim.cli._main import main


def run(runner: CliRunner, *args: Any, stdin: str | None = None) -> Result:
    return runner.invoke(main, ["quantize", *map(str, args)], input=stdin)


def errors(result: Result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]


def names(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def make(tmp_path: Path, noise: Any, *rels: str, frames: int = 800) -> list[Path]:
    paths = []
    for i, rel in enumerate(rels):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), noise(frames=frames, seed=i + 1), 8000, subtype="PCM_16")
        paths.append(path)
    return paths


def corrupt(path: Path) -> Path:
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# --- inputs -------------------------------------------------------------------------


def test_from_list_adds_paths_after_the_arguments_skipping_blanks_and_comments(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, b, c = make(tmp_path, noise, "a.wav", "b.wav", "c.wav")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# corpus\n\n{b}\n   \n  {c}  \n#{a}\n")
    result = run(
        runner, a, "--from-list", listing, "--out-dir", out, "--no-plot",
        "--report", "-",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    order = [json.loads(ln)["input"]["path"] for ln in result.stdout.splitlines()]
    assert order == [str(a), str(b), str(c)]
    assert result.stderr.splitlines()[-1] == "3 files quantized, 0 failed"


def test_from_list_reads_stdin_and_alone_needs_no_input_argument(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, b = make(tmp_path, noise, "a.wav", "b.wav")
    result = run(
        runner, "--from-list", "-", "--out-dir", out, "--no-plot", stdin=f"{a}\n{b}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert names(out) == {
        "a.uniform-8bit.wav", "a.uniform-8bit.json",
        "b.uniform-8bit.wav", "b.uniform-8bit.json",
    }  # fmt: skip


def test_no_input_at_all_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    assert run(runner).exit_code == 2
    assert run(runner, "--from-list", empty).exit_code == 2
    assert run(runner, "--from-list", tmp_path / "missing.txt").exit_code == 2
    assert run(runner, "-", "--from-list", "-", stdin="").exit_code == 2


# --- jobs, order, failures -------------------------------------------------------


def test_corrupt_file_in_the_middle_with_two_jobs_fails_alone_in_order(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, c, d = make(tmp_path, noise, "a.wav", "c.wav", "d.wav")
    bad = corrupt(tmp_path / "bad.wav")
    result = run(
        runner, a, bad, c, d, "-j", "2", "--out-dir", out, "--no-plot",
        "--report", "-",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    lines = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert [ln["input"] if "error" in ln else ln["input"]["path"] for ln in lines] == [
        str(a), str(bad), str(c), str(d)
    ]  # fmt: skip
    assert set(lines[1]) == {"input", "error"} and "bad.wav" in lines[1]["error"]
    assert len(errors(result)) == 1 and "bad.wav" in errors(result)[0]
    assert result.stderr.splitlines()[-1] == "3 files quantized, 1 failed"
    assert len(names(out)) == 3  # audio only: the reports went to stdout


def test_jobs_two_gives_the_bytes_of_jobs_one(
    tmp_path: Path, runner: CliRunner, noise: Any
) -> None:
    inputs = make(tmp_path, noise, *(f"in/t{i}.wav" for i in range(4)))
    trees = {}
    for jobs in ("1", "2", "0"):
        folder = tmp_path / f"o{jobs}"
        folder.mkdir()
        result = run(
            runner, *inputs, "-j", jobs, "--out-dir", folder, "-q", "--no-plot"
        )
        assert result.exit_code == 0, result.stderr
        trees[jobs] = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert len(trees["1"]) == 8  # audio and report of each input
    for jobs in ("2", "0"):
        assert trees[jobs].keys() == trees["1"].keys()
        for name, data in trees["1"].items():
            if name.endswith(".json"):
                one, other = json.loads(data), json.loads(trees[jobs][name])
                for r in (one, other):
                    r["provenance"].pop("command_line")
                    for key in ("path", "report_path"):
                        r["output"][key] = Path(r["output"][key]).name
                assert one == other
            else:
                assert data == trees[jobs][name]


def test_no_progress_output_when_stderr_is_not_a_terminal(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    inputs = make(tmp_path, noise, "a.wav", "b.wav")
    result = run(runner, *inputs, "--out-dir", out, "--no-plot", "-j", "2")
    assert result.exit_code == 0
    assert "\r" not in result.stderr and "ETA" not in result.stderr
    assert len(result.stderr.splitlines()) == 3  # one line per file, one summary


def _stderr_on_a_terminal(*args: Any) -> str:
    """What ``adcsim quantize ARGS`` writes to stderr when it is a terminal."""
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adcsim", "quantize", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(master)
    return b"".join(chunks).decode()


def test_a_single_input_shows_its_own_bar_on_a_terminal(
    tmp_path: Path, noise: Any, out: Path
) -> None:
    # issue 18: a 20-s Lloyd-Max design on one long file was silent
    (src,) = make(tmp_path, noise, "a.wav", frames=16000)
    shown = _stderr_on_a_terminal(src, "-s", "lloydmax", "-b", "3", "--out-dir", out)
    assert "design [####################]  2.0/2.0 s audio" in shown
    assert "quantize [####################]  2.0/2.0 s audio" in shown
    quiet = _stderr_on_a_terminal(src, "--out-dir", out, "--force", "-q")
    assert quiet == ""


# --- names ------------------------------------------------------------------------


def test_same_stem_from_two_directories_is_refused_before_any_work(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, b = make(tmp_path, noise, "x/take.wav", "y/take.wav")
    result = run(runner, a, b, "--out-dir", out, "-j", "2")
    assert result.exit_code == 1
    assert len(errors(result)) == 1
    assert str(a) in result.stderr and str(b) in result.stderr
    assert names(out) == set()


def test_mirror_reproduces_the_tree_and_refuses_inputs_outside_root(
    tmp_path: Path, runner: CliRunner, noise: Any
) -> None:
    a, b, c = make(tmp_path, noise, "c/x/take.wav", "c/y/z/take.wav", "c/top.wav")
    (outside,) = make(tmp_path, noise, "elsewhere/o.wav")
    out = tmp_path / "out"
    root = tmp_path / "c"
    bad = run(runner, a, outside, "--out-dir", out, "--mirror", root)
    assert bad.exit_code == 1 and "outside --mirror root" in bad.stderr
    assert not out.exists()
    result = run(runner, a, b, c, "--out-dir", out, "--mirror", root, "--no-plot")
    assert result.exit_code == 0, result.stderr
    assert names(out) == {
        "x/take.uniform-8bit.wav", "x/take.uniform-8bit.json",
        "y/z/take.uniform-8bit.wav", "y/z/take.uniform-8bit.json",
        "top.uniform-8bit.wav", "top.uniform-8bit.json",
    }  # fmt: skip
    assert run(runner, a, "-o", tmp_path / "o.wav", "--mirror", root).exit_code == 2


def test_the_same_input_through_a_symlink_is_named_twice(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    (a,) = make(tmp_path, noise, "a.wav")
    link = tmp_path / "link.wav"
    link.symlink_to(a)
    result = run(runner, a, link, "--out-dir", out)
    assert result.exit_code == 1 and "named twice" in result.stderr
    assert names(out) == set()


def test_an_output_that_is_an_input_through_a_symlink_is_refused_with_force(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, real = make(tmp_path, noise, "a.wav", "real.wav")
    original = real.read_bytes()
    # out/a.uniform-8bit.wav, the output of a.wav, is a link to the input real.wav
    (out / "a.uniform-8bit.wav").symlink_to(real)
    result = run(runner, a, real, "--out-dir", out, "--force", "-j", "2")
    assert result.exit_code == 1 and "it is the input" in result.stderr
    assert real.read_bytes() == original
    assert names(out) == {"a.uniform-8bit.wav"}


# --- tables and skipping ----------------------------------------------------------


def test_summary_csv_has_a_row_per_input_and_is_checked_before_work(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, b = make(tmp_path, noise, "a.wav", "b.wav")
    bad = corrupt(tmp_path / "bad.wav")
    table = tmp_path / "summary.csv"
    result = run(
        runner, a, bad, b, "--out-dir", out, "--no-plot", "--summary", table, "-q"
    )
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["input"] for r in rows] == [str(a), str(bad), str(b)]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    report = json.loads((out / "a.uniform-8bit.json").read_text())
    assert float(rows[0]["mse"]) == report["metrics"]["mse"]
    x, _ = sf.read(str(a), always_2d=True)
    y, _ = sf.read(str(out / "a.uniform-8bit.wav"), always_2d=True)
    assert float(rows[0]["max_abs_error"]) == pytest.approx(np.abs(y - x).max())
    # an existing summary is not overwritten without --force, before any work
    again = run(runner, a, "-o", tmp_path / "n.wav", "--summary", table)
    assert again.exit_code == 1 and "file exists" in again.stderr
    assert not (tmp_path / "n.wav").exists()


def test_skip_existing_leaves_up_to_date_inputs_untouched(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    a, b = make(tmp_path, noise, "a.wav", "b.wav")
    first = run(runner, a, b, "--out-dir", out, "--no-plot", "-q")
    assert first.exit_code == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = run(
        runner, a, b, "--out-dir", out, "--no-plot", "--skip-existing", "-j", "2"
    )
    assert again.exit_code == 0, again.stderr
    assert again.stderr.splitlines()[-1] == "0 files quantized, 2 skipped, 0 failed"
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    sf.write(str(b), noise(frames=900, seed=42), 8000, subtype="PCM_16")
    changed = run(
        runner, a, b, "--out-dir", out, "--no-plot", "--skip-existing", "--force"
    )
    assert changed.stderr.splitlines()[-1] == "1 file quantized, 1 skipped, 0 failed"
    assert (out / "a.uniform-8bit.wav").stat().st_mtime_ns == stamps[
        "a.uniform-8bit.wav"
    ]
    report = json.loads((out / "b.uniform-8bit.json").read_text())
    assert report["input"]["frames"] == 900
    other_bits = run(
        runner, a, "--out-dir", out, "--no-plot", "--skip-existing", "-b", "8"
    )
    assert "skipped" in other_bits.stderr
    assert run(runner, a, "--skip-existing", "--no-report").exit_code == 2


def test_each_report_records_the_command_that_makes_its_own_outputs(
    tmp_path: Path,
    runner: CliRunner,
    noise: Any,
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    a, b, c, _ = make(tmp_path, noise, "a.wav", "b.wav", "c.wav", "-d.wav")
    d = "-d.wav"  # relative: it reads as an option but after "--"
    listing = tmp_path / "list.txt"
    listing.write_text(f"{c}\n")
    options = ["-qb", "6", f"--out-dir={out}", "--no-plot", "-s", "mulaw"]
    args = [a, *options[:2], b, *options[2:], "--from-list", listing, "--", d]
    result = runner.invoke(main, ["quantize", *map(str, args)], prog_name="adcsim")
    assert result.exit_code == 0, result.stderr
    program = ["adcsim", "quantize"]
    # The options given, each once in its long spelling (Click's parameter
    # sources), in the command's order; --from-list and defaults are left out.
    given = [
        *("--bits", "6", "--scheme", "mulaw", "--out-dir", str(out)),
        *("--no-plot", "--quiet"),
    ]
    for path, expected in (
        (a, [*program, str(a), *given]),
        (b, [*program, str(b), *given]),
        (c, [*program, str(c), *given]),
        (d, [*program, *given, "--", d]),
    ):
        report = json.loads((out / f"{Path(path).stem}.mulaw-6bit.json").read_text())
        assert shlex.split(report["provenance"]["command_line"]) == expected
    # Run again, the last command makes the same audio.
    audio, report_file = out / "-d.mulaw-6bit.wav", out / "-d.mulaw-6bit.json"
    made = audio.read_bytes()
    line = json.loads(report_file.read_text())["provenance"]["command_line"]
    audio.unlink()
    report_file.unlink()
    again = runner.invoke(main, shlex.split(line)[1:])
    assert again.exit_code == 0, again.stderr
    assert audio.read_bytes() == made


def test_a_batch_report_names_its_own_input_and_only_options_given(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    first, second = make(tmp_path, noise, "it's a.wav", "b $x.wav")
    result = runner.invoke(
        main,
        [
            "quantize",
            str(first),
            str(second),
            "--out-dir",
            str(out),
            "--plot-window=0.01:0.005",
            "-qb7",
            "--dither",
            "tpdf",
        ],
        prog_name="adcsim",
    )
    assert result.exit_code == 0, result.stderr
    for path, other in ((first, second), (second, first)):
        data = json.loads((out / f"{path.stem}.uniform-7bit.json").read_text())
        line = data["provenance"]["command_line"]
        words = shlex.split(line)  # the shell reads back the quoted names
        assert words == [
            *("adcsim", "quantize", str(path)),
            *("--bits", "7", "--dither", "tpdf", "--out-dir", str(out)),
            *("--plot-window", "0.01:0.005", "--quiet"),
        ]
        assert str(other) not in line
        # Defaults (--seed 0, --blocksize, --scheme uniform) are not choices.
        assert not {"--seed", "--blocksize", "--scheme", "--jobs"} & set(words)


def test_a_temp_file_never_remains_in_the_output_directory(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    inputs = make(tmp_path, noise, "a.wav", "b.wav", "c.wav")
    result = run(
        runner,
        *inputs,
        corrupt(tmp_path / "d.wav"),
        "-j",
        "2",
        "--out-dir",
        out,
        "--no-plot",
    )
    assert result.exit_code == 1
    assert [n for n in os.listdir(out) if n.endswith(".part")] == []


def test_out_dir_is_created_as_mkdir_p_would(
    tmp_path: Path, runner: CliRunner, noise: Any
) -> None:
    (a,) = make(tmp_path, noise, "a.wav")
    deep = tmp_path / "new" / "deeper"
    result = run(runner, a, "--out-dir", deep, "--no-plot", "-q")
    assert result.exit_code == 0, result.stderr
    assert names(deep) == {"a.uniform-8bit.wav", "a.uniform-8bit.json"}


def test_out_dir_that_is_a_file_is_one_error_line(
    tmp_path: Path, runner: CliRunner, noise: Any
) -> None:
    (a,) = make(tmp_path, noise, "a.wav")
    (tmp_path / "taken").write_text("x")
    result = run(runner, a, "--out-dir", tmp_path / "taken", "--no-plot", "-q")
    assert result.exit_code == 1
    assert len(errors(result)) == 1 and "cannot create directory" in result.stderr


def test_incremental_batch_reruns_rewrite_the_summary_and_redo_changed_inputs(
    tmp_path: Path, runner: CliRunner, noise: Any
) -> None:
    a, b = make(tmp_path, noise, "corpus/a.wav", "corpus/sub/b.wav")
    table = tmp_path / "phone.csv"
    args = [a, b, "--out-dir", tmp_path / "phone", "--mirror", tmp_path / "corpus"]
    args += ["-s", "mulaw", "-b", "8", "--no-plot", "--summary", table]
    args += ["--skip-existing"]
    assert run(runner, *args).exit_code == 0

    def statuses() -> list[str]:
        return [r["status"] for r in csv.DictReader(io.StringIO(table.read_text()))]

    again = run(runner, *args)
    assert again.exit_code == 0, again.stderr
    assert again.stderr.splitlines()[-1] == "0 files quantized, 2 skipped, 0 failed"
    assert statuses() == ["skipped", "skipped"]
    # b changes: it is redone (its old outputs replaced, no --force), a skipped.
    sf.write(str(b), noise(frames=900, seed=42), 8000, subtype="PCM_16")
    changed = run(runner, *args)
    assert changed.exit_code == 0, changed.stderr
    assert changed.stderr.splitlines()[-1] == "1 file quantized, 1 skipped, 0 failed"
    assert statuses() == ["skipped", "ok"]
    report = json.loads((tmp_path / "phone/sub/b.mulaw-8bit.json").read_text())
    assert report["input"]["frames"] == 900
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name or "part" in p.name]


def test_skip_existing_never_replaces_files_it_did_not_make(
    tmp_path: Path, runner: CliRunner, noise: Any, out: Path
) -> None:
    (a,) = make(tmp_path, noise, "a.wav")
    (out / "a.uniform-8bit.wav").write_bytes(b"someone else's")
    result = run(runner, a, "--out-dir", out, "--no-plot", "--skip-existing", "-q")
    assert result.exit_code == 1 and "exists" in result.stderr
    assert (out / "a.uniform-8bit.wav").read_bytes() == b"someone else's"
