"""Output files that are never partial and never an input.

Responsible for: checking that an input path may be read and an output path
written (its directory exists and is writable, it is no input, also not
through stdin or stdout, it exists only with ``force``), atomic files (a
temporary file beside the target, renamed when complete) and atomic text
outputs. Not responsible for audio formats (``_containers``).

What a path names decides how it is written:

- nothing: a new file, made atomically;
- a regular file (or a link to one): replaced with ``force``, atomically; a
  link is replaced by the new file, its target is left alone (adcsim never
  writes through a link into a file elsewhere);
- a dangling link: an existing output like any other (``force`` replaces the
  link);
- a character device or a FIFO (``/dev/null``, ``mkfifo``, ``/dev/stdout`` on a
  pipe): written into as a stream, never unlinked, renamed over or replaced,
  and without ``force``, since nothing is replaced (`is_stream`);
- anything else (a directory, a block device, a socket, a link to an open
  file in ``/proc``): refused.

Inputs that are FIFOs or character devices (``<(sox ...)``, ``/dev/stdin``)
are streams too: read once, front to back, like ``-``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, TypeVar

from adcsim.errors import AdcsimError

#: The path that means stdin or stdout.
STDIO = "-"


#: errno values of ``stat`` that mean "nothing at this path".
_ABSENT = (errno.ENOENT, errno.ENOTDIR)


def _stat(path: str, verb: str, *, follow: bool = True) -> os.stat_result | None:
    """``os.stat`` (``lstat`` without ``follow``); None if nothing is there.

    Other failures (a name too long, a loop of links, a directory that cannot
    be searched) are one-line errors naming the path.
    """
    try:
        return os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise AdcsimError(f"cannot {verb} {path!r}: {os_reason(exc)}") from exc


def check_path(path: str, verb: str = "write") -> None:
    """Refuse a path the system cannot even look up (a name too long, a loop).

    For outputs checked elsewhere (a directory such as ``listen -o``).

    Raises
    ------
    AdcsimError
        One line naming the path and the reason.
    """
    _stat(path, verb, follow=False)


def is_stream(path: str) -> bool:
    """Whether ``path`` is read or written as a stream: ``-``, a FIFO, a device.

    Streams are read once, front to back, and written without seeking or
    renaming (character devices and FIFOs, also through links such as
    ``/dev/stdin`` or the ``/dev/fd/N`` of a shell's ``<(...)``).

    Examples
    --------
    >>> is_stream("-"), is_stream("/dev/null"), is_stream("no/such/file")
    (True, True, False)
    """
    if path == STDIO:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def open_stream(path: str, mode: str) -> BinaryIO:
    """Open a stream path (a FIFO, a device) for binary reading or writing.

    A FIFO blocks here until its other end is opened, as with any program.

    Raises
    ------
    AdcsimError
        It cannot be opened; one line naming it.
    """
    verb = "read" if "r" in mode else "write"
    try:
        if mode == "r":
            return open(path, "rb")  # noqa: SIM115 - the caller closes it
        return open(path, "wb")  # noqa: SIM115
    except OSError as exc:
        raise AdcsimError(f"cannot {verb} {path!r}: {os_reason(exc)}") from exc


@contextlib.contextmanager
def opened_streams(
    input_path: str,
    output_path: str,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> Iterator[tuple[BinaryIO | None, BinaryIO | None]]:
    """The streams a run reads and writes: stdin/stdout, or opened FIFOs.

    Yields ``(input stream, output stream)``: ``stdin`` (default
    ``sys.stdin.buffer``) for ``-``, the opened path for a FIFO or a device,
    None for a regular file; likewise for the output. What was opened here is
    closed on leaving.
    """
    with contextlib.ExitStack() as stack:
        streams: list[BinaryIO | None] = []
        for path, given, mode in ((input_path, stdin, "r"), (output_path, stdout, "w")):
            if path == STDIO:
                std = sys.stdin.buffer if mode == "r" else sys.stdout.buffer
                streams.append(given if given is not None else std)
            elif is_stream(path):
                streams.append(stack.enter_context(open_stream(path, mode)))
            else:
                streams.append(None)
        yield streams[0], streams[1]


def check_input_path(path: str) -> os.stat_result:
    """Refuse an input that is missing, a directory, unreadable or empty.

    Returns its ``stat`` (through links). FIFOs and character devices pass
    (they are read as streams, see `is_stream`); an empty regular file does
    not.

    Raises
    ------
    AdcsimError
        One line naming the path.
    """
    found = _stat(path, "read")
    if found is None:
        if _stat(path, "read", follow=False) is not None:
            raise AdcsimError(f"cannot read {path!r}: dangling link")
        raise AdcsimError(f"cannot read {path!r}: no such file")
    if stat.S_ISDIR(found.st_mode):
        raise AdcsimError(f"cannot read {path!r}: is a directory")
    if not os.access(path, os.R_OK):
        raise AdcsimError(f"cannot read {path!r}: permission denied")
    if stat.S_ISREG(found.st_mode) and found.st_size == 0:
        raise AdcsimError(f"cannot read {path!r}: empty file")
    return found


def check_output_path(path: str, *, force: bool, inputs: tuple[str, ...] = ()) -> None:
    """Refuse an output that would overwrite an input, or an existing file.

    See the module docstring for what each kind of path means.

    Raises
    ------
    AdcsimError
        The directory is missing or not writable, the path is a directory, a
        block device, a socket or a link to an open file, it is one of
        ``inputs`` (also through a link or ``..``), or a file or link is there
        and ``force`` is False.
    """
    if path == STDIO:
        return
    parent = os.path.dirname(path) or "."
    # (a name too long for the file system is an error of this first stat)
    if _stat(path, "write", follow=False) is None:
        if not os.path.isdir(parent):
            raise AdcsimError(
                f"cannot write {path!r}: directory {parent!r} does not exist"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise AdcsimError(f"cannot write {path!r}: directory is not writable")
        return
    found = _stat(path, "write")
    if found is None:  # a dangling link: replacing it is overwriting
        if not force:
            raise AdcsimError(
                f"cannot write {path!r}: a dangling link is there (use --force "
                "to replace the link)"
            )
    elif not (stat.S_ISREG(found.st_mode) or is_stream(path)):
        raise AdcsimError(f"cannot write {path!r}: is {_kind(found.st_mode)}")
    elif not is_stream(path) and _through_proc(path):
        raise AdcsimError(
            f"cannot write {path!r}: it is a link to an open file (use -o - for stdout)"
        )
    if found is not None:
        for source in inputs:
            if source != STDIO and _inode(source) == (found.st_dev, found.st_ino):
                raise AdcsimError(
                    f"refusing to write {path!r}: it is the input {source!r}"
                )
        if is_stream(path):
            return  # written into, nothing is replaced
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AdcsimError(f"cannot write {path!r}: directory is not writable")
    if not force:
        raise AdcsimError(f"cannot write {path!r}: file exists (use --force)")


def _kind(mode: int) -> str:
    """What a non-regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISBLK(mode):
        return "a block device (write to a file, a FIFO or a character device)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _through_proc(path: str) -> bool:
    """Whether ``path`` reaches its file through ``/proc`` (``/dev/stdout``, ...).

    Such a link names an open file descriptor; replacing it would replace
    the link (``/dev/stdout`` itself), not write to the descriptor.
    """
    hops = 0
    current = os.path.abspath(path)
    while hops < 40:
        if os.path.realpath(os.path.dirname(current)).startswith("/proc/"):
            return True
        if not os.path.islink(current):
            return False
        target = os.readlink(current)
        current = os.path.join(os.path.dirname(current), target)
        hops += 1
    return False


def check_std_streams(
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    *,
    writes_stdout: bool,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
) -> None:
    """Refuse a run whose stdin or stdout is one of its files.

    ``adcsim quantize - -o in.wav --force < in.wav`` would replace the file
    being read; ``-o - >> in.wav`` or ``-o - 1<>in.wav`` would write into an
    input. Only regular files count (a terminal may be stdin and stdout).

    Parameters
    ----------
    inputs, outputs : tuple of str
        The run's input and output paths (``-`` entries are the streams).
    writes_stdout : bool
        Whether the run writes to stdout (audio or a report on ``-``).

    Raises
    ------
    AdcsimError
        stdin (read as ``-``) is an output or stdout; stdout (written) is an
        input or stdin's file.
    """
    reads_stdin = STDIO in inputs
    stdin_key = _fd_key(stdin_fd) if reads_stdin else None
    stdout_key = _fd_key(stdout_fd) if writes_stdout else None
    if stdin_key is None and stdout_key is None:
        return
    if stdin_key is not None and stdin_key == stdout_key:
        raise AdcsimError("refusing to run: stdin and stdout are the same file")
    for path in outputs:
        if path != STDIO and stdin_key is not None and _inode(path) == stdin_key:
            raise AdcsimError(f"refusing to write {path!r}: it is the input - (stdin)")
    for path in inputs:
        if path != STDIO and stdout_key is not None and _inode(path) == stdout_key:
            raise AdcsimError(f"refusing to write - (stdout): it is the input {path!r}")


def _fd_key(fd: int) -> tuple[int, int] | None:
    """(device, inode) of the regular file open on ``fd``, else None."""
    try:
        found = os.fstat(fd)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return found.st_dev, found.st_ino


def check_not_output(path: str, outputs: tuple[str, ...], what: str) -> None:
    """Refuse a file the run reads or writes besides its outputs (``--codebook``).

    Compared by real path, since the outputs may not exist yet.

    Raises
    ------
    AdcsimError
        ``path`` is one of ``outputs``.
    """
    for out in outputs:
        if out != STDIO and (
            same_file(path, out) or os.path.realpath(path) == os.path.realpath(out)
        ):
            raise AdcsimError(
                f"{what} {path!r} is also an output of this run ({out!r}): "
                "give another path"
            )


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
    return (exc.strerror or type(exc).__name__).lower()


_S = TypeVar("_S", bound="Staged")


class Staged:
    """A ``with`` block around an output staged beside its target.

    Leaving the block calls ``discard``, which removes what was not
    committed: a failed run leaves no partial output.
    """

    def discard(self) -> None:
        """Remove what is staged and not committed (nothing once committed)."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


class AtomicFile(Staged):
    """A temporary file beside ``path`` renamed onto it by `commit`.

    Until `commit`, nothing exists at ``path``; `discard` (also on leaving a
    ``with`` block by an exception) removes the temporary file.

    A stream target (a FIFO or character device, see `is_stream`) is written
    directly: ``tmp`` is ``path`` itself, `commit` renames nothing and
    `discard` removes nothing.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = False
        #: Whether ``tmp`` is the target itself (a FIFO or a device).
        self.direct = path != STDIO and is_stream(path)
        if self.direct:
            self.tmp = path
            return
        target = Path(path)
        try:
            self.tmp = _create_beside(target)
        except OSError as exc:
            raise AdcsimError(f"cannot write {path!r}: {os_reason(exc)}") from exc

    def commit(self) -> None:
        """Move the finished temporary file onto the target (atomic rename)."""
        if not self.direct:
            os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        """Remove the temporary file if it is still there."""
        if not self.done and not self.direct:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)


def _create_beside(target: Path) -> str:
    """Create a new empty file ``.NAME.RANDOM.part`` in ``target``'s directory.

    ``O_EXCL`` makes the name ours alone. Mode 0666 less the umask, as a plain
    ``open()`` gives (``tempfile.mkstemp``'s 0600 would need changing, and
    importing tempfile cost more than the rest of this module).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    return create_unique(
        os.path.abspath(target.parent),
        f".{target.name}.",
        ".part",
        lambda tmp: os.close(os.open(tmp, flags, 0o666)),
    )


def create_unique(
    folder: str | os.PathLike[str],
    prefix: str,
    suffix: str,
    create: Callable[[str], object],
) -> str:
    """Create ``folder/PREFIX + RANDOM + SUFFIX`` by ``create``; return its path.

    ``create`` must fail with `FileExistsError` when the name is taken
    (``os.open`` with ``O_EXCL``, ``os.mkdir``): another name is tried, up to
    100. The one source of temporary names for atomic files and staged
    directories (`adcsim.listening._sessiondir`).

    Raises
    ------
    FileExistsError
        No free name in 100 tries.
    OSError
        What ``create`` raises otherwise.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     made = create_unique(folder, ".a.", ".part", os.mkdir)
    ...     os.path.basename(made).startswith(".a."), os.path.isdir(made)
    (True, True)
    """
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{os.urandom(4).hex()}{suffix}")
        try:
            create(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", os.fspath(folder))


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
