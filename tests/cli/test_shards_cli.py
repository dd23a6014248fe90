"""Sharded runs (``--shard``) and ``merge-summaries`` (issue 15).

The reference is one unsharded run of the same list: N shard processes
together must write exactly its files, byte for byte, and the merged summary
must be its summary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adcsim.cli import main
from adcsim.errors import AdcsimError
from adcsim.run._shards import Shard, merge_summaries, shard_from_environment
from tests.conftest import make_noise, make_tone, write_wav

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "JOB_"))}


def _corpus(root: Path) -> list[str]:
    """Seven short inputs, the fourth corrupt; returns the list (relative)."""
    (root / "in").mkdir(parents=True)
    names = []
    for k in range(7):
        name = f"in/take{k}.wav"
        if k == 3:
            (root / name).write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
        else:
            data = make_tone(300.0 + 70 * k, rate=8000, frames=1600) + make_noise(
                frames=1600, amplitude=0.01, seed=k
            )
            write_wav(root, data, 8000, name=name)
        names.append(name)
    (root / "list.txt").write_text("\n".join(names) + "\n")
    return names


def _adcsim(*args: Any, cwd: Path, env: dict[str, str] | None = None) -> Any:
    return subprocess.Popen(
        [sys.executable, "-m", "adcsim", *map(str, args)],
        cwd=cwd,
        env=ENV if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


OPTIONS = (
    "quantize",
    "--from-list",
    "list.txt",
    "-b",
    "6",
    "--dither",
    "tpdf",
    "--seed",
    "3",
)
OPTIONS += ("--out-dir", "out", "--no-plot")


def test_three_shard_processes_write_what_one_unsharded_run_writes(
    tmp_path: Path,
) -> None:
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    _corpus(whole)
    shutil.copytree(whole, sharded)
    one = _adcsim(*OPTIONS, "--summary", "s.csv", cwd=whole)
    shards = [
        _adcsim(*OPTIONS, "--shard", f"{k}/3", "--summary", "{shard}.csv", cwd=sharded)
        for k in (1, 2, 3)
    ]
    one.communicate(timeout=300)
    assert one.returncode == 1  # the corrupt input fails
    errors = [p.communicate(timeout=300)[1] for p in shards]
    # 7 inputs: shard 2 holds positions 2 and 3 (the corrupt one).
    assert [p.returncode for p in shards] == [0, 1, 0], errors
    merged = subprocess.run(
        [sys.executable, "-m", "adcsim", "merge-summaries", "all.csv"]
        + [f"{k}-of-3.csv" for k in (3, 1, 2)]  # any order
        + ["--from-list", "list.txt"],
        cwd=sharded,
        env=ENV,
        capture_output=True,
        timeout=120,
    )
    assert merged.returncode == 1, merged.stderr  # one input failed
    assert b"7 inputs from 3 summaries: 6 ok, 0 skipped, 1 failed" in merged.stderr
    assert (sharded / "all.csv").read_bytes() == (whole / "s.csv").read_bytes()
    assert _tree(sharded / "out") == _tree(whole / "out")
    assert len(_tree(whole / "out")) == 12  # six WAVs and six reports


def test_shard_auto_reads_a_slurm_array_task_and_says_so(tmp_path: Path) -> None:
    _corpus(tmp_path)
    env = {
        **ENV,
        "SLURM_ARRAY_TASK_ID": "7",
        "SLURM_ARRAY_TASK_MIN": "5",
        "SLURM_ARRAY_TASK_COUNT": "3",
    }
    proc = _adcsim(
        *OPTIONS, "--shard", "auto", "--summary", "s.csv", cwd=tmp_path, env=env
    )
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert b"shard 3/3 (from SLURM_ARRAY_TASK_ID=7, SLURM_ARRAY_TASK_MIN=5, " in err
    rows = (tmp_path / "s.shard-3-of-3.csv").read_text().splitlines()
    # 7 inputs in 3 parts: the third holds positions 4, 5, 6.
    assert [r.split(",")[0] for r in rows[1:]] == [f"in/take{k}.wav" for k in (4, 5, 6)]


def test_environment_shards_follow_each_schedulers_numbering() -> None:
    k8s = shard_from_environment({"JOB_COMPLETION_INDEX": "3"}, 4)
    assert k8s == (Shard(4, 4), "JOB_COMPLETION_INDEX=3")
    stepped = {
        "SLURM_ARRAY_TASK_ID": "8",
        "SLURM_ARRAY_TASK_MIN": "0",
        "SLURM_ARRAY_TASK_STEP": "4",
        "SLURM_ARRAY_TASK_COUNT": "4",
    }  # sbatch --array=0-15:4 runs tasks 0, 4, 8, 12
    assert shard_from_environment(stepped)[0] == Shard(3, 4)
    with pytest.raises(AdcsimError, match="gives no count; give --shard auto/N"):
        shard_from_environment({"JOB_COMPLETION_INDEX": "0"})
    with pytest.raises(AdcsimError, match="neither SLURM_ARRAY_TASK_ID"):
        shard_from_environment({})
    with pytest.raises(AdcsimError, match="index 4 is outside 0..3"):
        shard_from_environment({"JOB_COMPLETION_INDEX": "4"}, 4)
    with pytest.raises(AdcsimError, match="SLURM_ARRAY_TASK_COUNT=8 says otherwise"):
        shard_from_environment(
            {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "8"}, 4
        )


def test_shards_cover_every_position_exactly_once() -> None:
    for total in range(0, 40):
        items = [str(k) for k in range(total)]
        for count in range(1, 12):
            parts = [Shard(k, count).select(items) for k in range(1, count + 1)]
            assert [x for part in parts for x in part] == items
            assert max(map(len, parts)) - min(map(len, parts)) <= 1


@pytest.mark.parametrize("spec", ["0/3", "4/3", "3", "a/b", "auto/0", "auto/x"])
def test_a_bad_shard_is_a_usage_error(tmp_path: Path, spec: str) -> None:
    _corpus(tmp_path)
    os.chdir(tmp_path)
    result = CliRunner().invoke(main, [*OPTIONS, "--shard", spec])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_every_shard_refuses_a_list_whose_outputs_collide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _corpus(tmp_path)
    (tmp_path / "in" / "sub").mkdir()
    shutil.copy(tmp_path / names[0], tmp_path / "in" / "sub" / "take0.wav")
    # The last entry collides with the first: only shard 1 holds the first,
    # only shard 3 the last, and each refuses before doing anything.
    (tmp_path / "list.txt").write_text("\n".join([*names, "in/sub/take0.wav"]))
    monkeypatch.chdir(tmp_path)
    for k in (1, 2, 3):
        result = CliRunner().invoke(main, [*OPTIONS, "--shard", f"{k}/3"])
        assert result.exit_code == 1
        assert "would both write 'out/take0.uniform-6bit.wav'" in result.output
    assert not (tmp_path / "out").exists()


def test_a_sharded_lloydmax_run_needs_an_existing_codebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = [*OPTIONS, "-s", "lloydmax", "--shard", "1/2"]
    for extra in ([], ["--codebook", "cb.json"]):
        result = CliRunner().invoke(main, [*args, *extra])
        assert result.exit_code == 1
        assert "a sharded lloydmax run needs a shared codebook that exists" in (
            result.output
        )
    assert not (tmp_path / "out").exists()


HEAD = "input,status\n"


def test_merge_refuses_a_missing_a_repeated_or_a_foreign_input() -> None:
    cols = ["input", "status"]
    with pytest.raises(AdcsimError, match="input 'c' of the list appears in no"):
        merge_summaries(["a", "b", "c"], [("1", HEAD + "a,ok\nb,ok\n")], cols)
    with pytest.raises(AdcsimError, match="input 'a' appears twice: in '1' and '2'"):
        merge_summaries(["a"], [("1", HEAD + "a,ok\n"), ("2", HEAD + "a,ok\n")], cols)
    with pytest.raises(AdcsimError, match="input 'z' is not in the list"):
        merge_summaries(["a"], [("1", HEAD + "a,ok\nz,ok\n")], cols)
    with pytest.raises(AdcsimError, match="status='' "):
        merge_summaries(["a"], [("1", HEAD + "a,\n")], cols)
    with pytest.raises(AdcsimError, match="is not an adcsim quantize --summary"):
        merge_summaries(["a"], [("1", "name,status\na,ok\n")], cols)


def test_merge_summaries_errors_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("list.txt").write_text("a.wav\nb.wav\n")
    Path("1.csv").write_text("input,status\na.wav,ok\n")
    result = CliRunner().invoke(
        main, ["merge-summaries", "all.csv", "1.csv", "--from-list", "list.txt"]
    )
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1
    assert "is not an adcsim quantize --summary table" in result.output
    assert not Path("all.csv").exists()
    result = CliRunner().invoke(
        main, ["merge-summaries", "1.csv", "1.csv", "--from-list", "list.txt"]
    )
    assert result.exit_code == 1
    assert "refusing to write '1.csv': it is the input '1.csv'" in result.output
