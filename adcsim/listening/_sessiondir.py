"""A listening session's directory: built beside, swapped in, replaced safely.

Responsible for where a session's files go while it is built and how they
replace an earlier session: the staging directory, the manifest that marks a
directory as adcsim's own session and lists every file it wrote, the checks
that ``--force`` never removes a file it did not write or an input, and the
swap once the new session is complete. Not responsible for what the files
hold (`adcsim.listening._session`) or for single output files
(`adcsim.io._files`).

Notes
-----
``--force`` used to remove ``audio/`` and ``stimuli/`` of any directory that
held a ``key.json``: user files, a foreign ``{}`` key's neighbours and the
reference itself were lost, and a rerun that failed had already destroyed the
old session. Now:

- a session is built in a new hidden directory (inside the target when it
  exists, so that every move is a rename on one file system; beside it when
  it does not), and written last is ``adcsim-manifest.json``, with a format
  tag and the relative path of every file;
- a failure removes the staging directory and nothing else: the old session
  stays byte for byte;
- only a directory holding adcsim's manifest is replaced, and only the files
  the manifest lists are removed, never one that is an input (compared by
  device and inode, so hard and symbolic links count) and never before the
  new session is complete: the old files are first renamed aside, the new ones
  renamed in, and on any error everything is moved back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from adcsim.errors import AdcsimError
from adcsim.io._files import Staged, create_unique, os_reason

MANIFEST = "adcsim-manifest.json"
MANIFEST_FORMAT = "adcsim-listening-manifest"
MANIFEST_VERSION = 1


def _shown(path: Path | str) -> str:
    """A path for a message: undecodable bytes stay visible as escapes."""
    return repr(os.fsdecode(path))


class SessionDirectory(Staged):
    """Stage a session beside ``out`` and swap it in by `commit`.

    Parameters
    ----------
    out : Path
        The session directory: new, empty, or (with ``force``) an earlier
        adcsim session.
    force : bool
        Replace an earlier session; a directory without adcsim's manifest is
        never replaced.
    inputs : sequence of str
        Files the session reads: none of them may be among the files removed.

    Raises
    ------
    AdcsimError
        ``out`` is not a directory, holds files but no manifest, holds a
        session and ``force`` is False, its manifest lists an input, or the
        staging directory cannot be made.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with SessionDirectory(root / "s", force=False, inputs=()) as stage:
    ...     _ = (stage / "key.json").write_text("{}")
    ...     stage.commit("0123")
    >>> sorted(p.name for p in (root / "s").iterdir())
    ['adcsim-manifest.json', 'key.json']
    >>> shutil.rmtree(root)
    """

    def __init__(self, out: Path, *, force: bool, inputs: Sequence[str]) -> None:
        self.out = out
        self._inputs = tuple(inputs)
        self._old: list[str] = []
        self._created: list[Path] = []
        self._done = False
        if out.exists() and not out.is_dir():
            raise AdcsimError(f"out-dir {_shown(out)} is not a directory")
        if out.is_dir():
            self._old = self._old_session(force)
            self._check_inputs()
            self.path = self._new_dir(out, ".adcsim-new-")
        else:
            self._make_parents()
            self.path = self._new_dir(out.parent, f".{out.name}.adcsim-new-")

    # -------------------------------------------------------------- checks

    def _old_session(self, force: bool) -> list[str]:
        """The files of the earlier session in ``out`` (none if it is empty)."""
        try:
            entries = os.listdir(self.out)
        except OSError as exc:
            raise AdcsimError(
                f"cannot read out-dir {_shown(self.out)}: {os_reason(exc)}"
            ) from exc
        if not entries:
            return []
        manifest = self.out / MANIFEST
        if not manifest.is_file():
            raise AdcsimError(
                f"out-dir {_shown(self.out)} is not empty and holds no adcsim "
                f"session ({MANIFEST}): choose another directory"
            )
        if not force:
            raise AdcsimError(
                f"out-dir {_shown(self.out)} holds a session; use --force to replace it"
            )
        return read_manifest(manifest)

    def _check_inputs(self) -> None:
        """Refuse when a file of the old session is one of the inputs."""
        inodes: dict[tuple[int, int], str] = {}
        for source in self._inputs:
            for look in (os.stat, os.lstat):
                with contextlib.suppress(OSError):
                    found = look(source)
                    inodes[(found.st_dev, found.st_ino)] = source
        for name in [*self._old, MANIFEST]:
            try:
                found = os.lstat(self.out / name)
            except OSError:
                continue
            same = inodes.get((found.st_dev, found.st_ino))
            if same is not None:
                raise AdcsimError(
                    f"refusing to replace the session in {_shown(self.out)}: its "
                    f"file {name!r} is the input {_shown(same)}"
                )

    def _make_parents(self) -> None:
        missing = []
        parent = self.out.parent
        while not parent.exists() and parent != parent.parent:
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except OSError as exc:
                self._remove_created()
                raise AdcsimError(
                    f"cannot create out-dir {_shown(self.out)}: {os_reason(exc)}"
                ) from exc
            self._created.append(folder)

    def _new_dir(self, parent: Path, prefix: str) -> Path:
        # mkdir, not tempfile.mkdtemp: the directory that becomes the session
        # gets the umask's mode, not 0700.
        try:
            return Path(create_unique(parent, prefix, "", os.mkdir))
        except OSError as exc:
            self._remove_created()
            raise AdcsimError(
                f"cannot create out-dir {_shown(self.out)}: {os_reason(exc)}"
            ) from exc

    def _remove_created(self) -> None:
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._created = []

    # -------------------------------------------------------------- staging

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def discard(self) -> None:
        """Remove the staging directory (ours alone) and parents made for it."""
        if self._done:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self._remove_created()

    def commit(self, session_id: str) -> None:
        """Write the manifest and put the staged session in place of ``out``.

        Raises
        ------
        AdcsimError
            The swap failed (everything is moved back, the staging removed),
            or a staged file would replace a file the old session did not
            write.
        """
        try:
            new = _walk(self.path)
            write_manifest(self.path / MANIFEST, session_id, new)
        except OSError as exc:
            raise AdcsimError(
                f"cannot write the session in {_shown(self.out)}: {os_reason(exc)}"
            ) from exc
        if self.path.parent != self.out:
            self._rename_in()
        else:
            self._check_inputs()
            self._swap([*new, MANIFEST])
        self._done = True

    def _rename_in(self) -> None:
        try:
            os.rename(self.path, self.out)  # also onto an empty directory
        except OSError as exc:
            raise AdcsimError(
                f"cannot create out-dir {_shown(self.out)}: {os_reason(exc)}"
            ) from exc

    def _swap(self, new: list[str]) -> None:
        old = [*self._old, MANIFEST] if self._old else []
        keep = set(old)
        for name in new:
            target = self.out / name
            if name not in keep and (
                os.path.lexists(target) or _blocked(self.out, name)
            ):
                raise AdcsimError(
                    f"refusing to replace {_shown(target)}: the earlier session "
                    "did not write it"
                )
        aside = self._new_dir(self.out, ".adcsim-old-")
        moved: list[tuple[Path, Path]] = []
        try:
            for name in old:
                if _inside(self.out, name) and os.path.lexists(self.out / name):
                    _move(self.out / name, aside / name, moved)
            for name in new:
                _move(self.path / name, self.out / name, moved)
        except OSError as exc:
            for src, dst in reversed(moved):
                with contextlib.suppress(OSError):
                    os.rename(dst, src)
            shutil.rmtree(aside, ignore_errors=True)
            raise AdcsimError(
                f"cannot replace the session in {_shown(self.out)}: {os_reason(exc)}"
            ) from exc
        shutil.rmtree(aside, ignore_errors=True)
        shutil.rmtree(self.path, ignore_errors=True)
        _prune(self.out, self._old)


def write_manifest(path: Path, session_id: str, files: Iterable[str]) -> None:
    """Write the manifest naming every file of a session (relative paths)."""
    data = {
        "format": MANIFEST_FORMAT,
        "schema_version": MANIFEST_VERSION,
        "session_id": session_id,
        "files": sorted(files),
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> list[str]:
    """The files a manifest lists, each a plain relative path inside the session.

    Raises
    ------
    AdcsimError
        Unreadable, not adcsim's format, or a listed path that is absolute,
        climbs out with ``..`` or is not a string.
    """
    try:
        data: Any = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise AdcsimError(
            f"{_shown(path)} is not an adcsim session manifest: {exc}"
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != MANIFEST_FORMAT
        or data.get("schema_version") != MANIFEST_VERSION
        or not isinstance(files, list)
    ):
        raise AdcsimError(f"{_shown(path)} is not an adcsim session manifest")
    for name in files:
        parts = PurePosixPath(name).parts if isinstance(name, str) else ()
        if (
            not parts
            or name.startswith("/")
            or any(p in ("..", ".") for p in parts)
            or "\0" in name
            or name == MANIFEST
        ):
            raise AdcsimError(f"{_shown(path)} lists a bad path: {name!r}")
    return list(files)


def _walk(root: Path) -> list[str]:
    out = []
    for folder, _, names in os.walk(root):
        for name in names:
            out.append(Path(folder, name).relative_to(root).as_posix())
    return out


def _inside(root: Path, name: str) -> bool:
    """Whether every parent of ``root/name`` below ``root`` is a real directory.

    A listed file behind a symbolic link to a folder elsewhere is not the
    session's: it stays.
    """
    folder = root
    for part in PurePosixPath(name).parts[:-1]:
        folder = folder / part
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return False
        except OSError:
            return False
    return True


def _blocked(root: Path, name: str) -> bool:
    """Whether a parent of ``root/name`` exists but is not a directory."""
    folder = root
    for part in PurePosixPath(name).parts[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except OSError:
            return False
        if not stat.S_ISDIR(mode):
            return True
    return False


def _move(src: Path, dst: Path, moved: list[tuple[Path, Path]]) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.rename(src, dst)
    moved.append((src, dst))


def _prune(root: Path, names: Iterable[str]) -> None:
    """Remove the folders of the old files that are now empty, deepest first."""
    folders = {
        root.joinpath(*PurePosixPath(n).parts[:i])
        for n in names
        for i in range(1, len(PurePosixPath(n).parts))
    }
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
