"""Output files that are never partial and never an input.

Responsible for: checking that an output path may be written (its directory
exists and is writable, it is no input, it exists only with ``force``),
atomic files (a temporary file beside the target, renamed when complete) and
atomic text outputs. Not responsible for audio formats (``_containers``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from adcsim.errors import AdcsimError

#: The path that means stdin or stdout.
STDIO = "-"


def check_output_path(path: str, *, force: bool, inputs: tuple[str, ...] = ()) -> None:
    """Refuse an output that would overwrite an input, or an existing file.

    Raises
    ------
    AdcsimError
        The directory is missing or not writable, the path is a directory, it
        is one of ``inputs`` (also through a link or ``..``), or it exists and
        ``force`` is False.
    """
    if path == STDIO:
        return
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise AdcsimError(f"cannot write {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AdcsimError(f"cannot write {path!r}: directory is not writable")
    try:
        found = os.stat(path)
    except OSError:  # nothing there (or a dangling link): nothing is overwritten
        return
    if stat.S_ISDIR(found.st_mode):
        raise AdcsimError(f"cannot write {path!r}: is a directory")
    for source in inputs:
        if source != STDIO and _inode(source) == (found.st_dev, found.st_ino):
            raise AdcsimError(f"refusing to write {path!r}: it is the input {source!r}")
    if not force:
        raise AdcsimError(f"cannot write {path!r}: file exists (use --force)")


def _inode(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names, through links; None if none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (links and ``..`` resolved)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def os_reason(exc: OSError) -> str:
    """The lowercase reason of an OS error, for a one-line message."""
    """The lowercase reason of an OS error, for a one-line message."""
    return (exc.strerror or type(exc).__name__).lower()


class AtomicFile:
    """A temporary file beside ``path`` renamed onto it by `commit`.

    Until `commit`, nothing exists at ``path``; `discard` (also on leaving a
    ``with`` block by an exception) removes the temporary file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        target = Path(path)
        try:
            self.tmp = _create_beside(target)
        except OSError as exc:
            raise AdcsimError(f"cannot write {path!r}: {os_reason(exc)}") from exc
        self.done = False

    def commit(self) -> None:
        """Move the finished temporary file onto the target (atomic rename)."""
        os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        """Remove the temporary file if it is still there."""
        if not self.done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


def _create_beside(target: Path) -> str:
    """Create a new empty file ``.NAME.RANDOM.part`` in ``target``'s directory.

    ``O_EXCL`` makes the name ours alone. Mode 0666 less the umask, as a plain
    ``open()`` gives (``tempfile.mkstemp``'s 0600 would need changing, and
    importing tempfile cost more than the rest of this module).
    """
    folder = os.path.abspath(target.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{target.name}.{os.urandom(4).hex()}.part")
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def write_text(path: str, text: str, *, stdout: IO[str] | None = None) -> None:
    """Write ``text`` atomically to ``path`` (``-``: to stdout)."""
    if path == STDIO:
        out = stdout if stdout is not None else sys.stdout
        out.write(text)
        out.flush()
        return
    with AtomicFile(path) as tmp:
        try:
            Path(tmp.tmp).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AdcsimError(f"cannot write {path!r}: {exc.strerror or exc}") from exc
        tmp.commit()
