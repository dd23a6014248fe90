"""`listen --force` replaces only adcsim's own session, never an input, atomically."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from adcsim.errors import AdcsimError
from adcsim.io._writer import write as write_audio
from adcsim.listening import _sessiondir
from adcsim.listening._conditions import Condition
from adcsim.listening._session import export_listening_test
from adcsim.listening._sessiondir import MANIFEST

RATE = 8000


@pytest.fixture
def reference(tmp_path: Path) -> str:
    t = np.arange(RATE) / RATE
    path = str(tmp_path / "ref.wav")
    write_audio(path, 0.3 * np.sin(2 * np.pi * 440 * t), RATE)
    return path


def build(reference: str, out: Path, **kwargs):
    options = {"conditions": [Condition(name="q4", bits=4)], "trials": 2, "seed": 1}
    options.update(kwargs)
    return export_listening_test([reference], str(out), **options)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> bytes), hidden ones too."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_manifest_lists_every_file_the_session_wrote(reference, tmp_path):
    build(reference, tmp_path / "s", export=["webmushra"])
    files = tree(tmp_path / "s")
    manifest = json.loads(files.pop(MANIFEST))
    assert manifest["format"] == "adcsim-listening-manifest"
    assert manifest["files"] == sorted(files)
    assert "key.json" in files and "webmushra/adcsim.yaml" in files
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_force_refuses_a_foreign_key_and_its_neighbours_survive(reference, tmp_path):
    out = tmp_path / "s"
    (out / "audio").mkdir(parents=True)
    (out / "key.json").write_text("{}")
    (out / "audio" / "mine.wav").write_bytes(b"user data")
    (out / "stimuli").mkdir()
    (out / "stimuli" / "notes.txt").write_text("mine")
    before = tree(out)
    with pytest.raises(AdcsimError, match="holds no adcsim session"):
        build(reference, out, force=True)
    assert tree(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["audio", "key.json", "stimuli"]


def test_a_foreign_manifest_is_not_adcsims(reference, tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"format": "other", "files": ["x"]}))
    (out / "x").write_text("mine")
    with pytest.raises(AdcsimError, match="not an adcsim session manifest"):
        build(reference, out, force=True)
    assert (out / "x").read_text() == "mine"


@pytest.mark.parametrize("bad", ["../ref.wav", "/etc/passwd", "a/../../b", 3, ""])
def test_a_manifest_naming_files_outside_the_session_is_refused(
    reference, tmp_path, bad
):
    out = tmp_path / "s"
    build(reference, out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append(bad)
    (out / MANIFEST).write_text(json.dumps(manifest))
    before = tree(tmp_path)
    with pytest.raises(AdcsimError, match="bad path"):
        build(reference, out, force=True)
    assert tree(tmp_path) == before


def test_reference_inside_the_old_session_is_kept(reference, tmp_path):
    out = tmp_path / "s"
    build(reference, out)
    inside = out / "stimuli" / "ref.wav"
    shutil.copyfile(reference, inside)
    data = inside.read_bytes()
    build(str(inside), out, force=True)
    assert inside.read_bytes() == data
    listed = json.loads((out / MANIFEST).read_text())["files"]
    assert "stimuli/ref.wav" not in listed


@pytest.mark.parametrize("link", ["copy", "hardlink", "symlink"])
def test_force_refuses_when_a_file_it_would_remove_is_an_input(
    reference, tmp_path, link
):
    out = tmp_path / "s"
    build(reference, out)
    stimulus = sorted((out / "stimuli").iterdir())[0]
    source = stimulus
    if link == "hardlink":
        source = tmp_path / "linked.wav"
        os.link(stimulus, source)
    elif link == "symlink":
        source = tmp_path / "linked.wav"
        source.symlink_to(stimulus)
    before = tree(out)
    with pytest.raises(AdcsimError, match="is the input"):
        build(str(source), out, force=True)
    assert tree(out) == before


def test_user_files_in_a_session_survive_force(reference, tmp_path):
    out = tmp_path / "s"
    build(reference, out, export=["beaqlejs"])
    (out / "results").mkdir()
    (out / "results" / "alice.json").write_text("{}")
    (out / "audio" / "my-take.wav").write_bytes(b"take")
    build(reference, out, force=True, seed=2)
    assert (out / "results" / "alice.json").read_text() == "{}"
    assert (out / "audio" / "my-take.wav").read_bytes() == b"take"
    assert not (out / "beaqlejs").exists()  # the old session's export is gone
    files = set(tree(out)) - {MANIFEST, "results/alice.json", "audio/my-take.wav"}
    assert files == set(json.loads((out / MANIFEST).read_text())["files"])
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_failing_rerun_leaves_the_old_session_byte_identical(reference, tmp_path):
    out = tmp_path / "s"
    build(reference, out)
    before = tree(tmp_path)
    other = tmp_path / "stereo.wav"
    write_audio(str(other), np.zeros((RATE, 2)), RATE)
    before[other.name] = other.read_bytes()
    with pytest.raises(AdcsimError, match="channels"):
        build(
            reference,
            out,
            force=True,
            conditions=[
                Condition(name="q4", bits=4),
                Condition(name="f", path=str(other)),
            ],
        )
    assert tree(tmp_path) == before


@pytest.mark.parametrize("fresh", [True, False])
def test_a_full_disk_leaves_nothing_and_the_old_session_intact(
    reference, tmp_path, monkeypatch, fresh
):
    out = tmp_path / "new" / "s"
    if not fresh:
        build(reference, out)
    before = tree(tmp_path)
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == "README.txt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(AdcsimError, match="no space left on device"):
        build(reference, out, force=True)
    assert tree(tmp_path) == before
    if fresh:
        assert not (tmp_path / "new").exists()
    else:
        assert not [p for p in os.listdir(out) if p.startswith(".")]


@pytest.mark.parametrize("when", ["old", "new"])
def test_a_failed_swap_moves_everything_back(reference, tmp_path, monkeypatch, when):
    out = tmp_path / "s"
    build(reference, out)
    old = len(json.loads((out / MANIFEST).read_text())["files"]) + 1
    fail_at = 3 if when == "old" else old + 3  # among the old files, or the new
    before = tree(tmp_path)
    real = os.rename
    calls = []

    def failing(src, dst):
        calls.append(src)
        if len(calls) == fail_at:
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(_sessiondir.os, "rename", failing)
    with pytest.raises(AdcsimError, match="input/output error"):
        build(reference, out, force=True, seed=9)
    assert tree(tmp_path) == before
    assert not [p for p in os.listdir(out) if p.startswith(".")]
