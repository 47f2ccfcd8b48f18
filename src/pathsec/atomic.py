"""The one writer of pathsec's files: atomic, private, and never through a link or a device.

Policy (README, "Robustness"):

- A file is written to a temporary file in the same folder, flushed to disk and renamed
  over the target: a reader sees the old file or the whole new one, never a half.
- Every file pathsec writes is created with mode 0600 and every folder it creates with
  0700, whatever the umask (reports, rules, results, the history database, lab keys and
  logs): findings and firewall rules describe a network, and the history database holds
  them all. Folders that exist already keep their mode.
- The target must be a regular file or not exist: an existing folder, a device, a FIFO
  or a socket is refused (one line, exit 2) and nothing is replaced; so is a symbolic
  link, which pathsec neither follows nor replaces (name the link's target instead).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pathsec.errors import InputError, InputProblem, PathsecError

FILE_MODE = 0o600
DIR_MODE = 0o700

#: ``OSError`` numbers that mean the user named a place pathsec cannot write (exit 2).
_USER_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENOENT,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EEXIST,
    }
)


class WriteError(PathsecError):
    """A file could not be written for a reason other than the path (disk full …): exit 3."""


def _problem(path: Path, message: str) -> InputError:
    return InputError(InputProblem(str(path), None, None, message))


def _os_error(path: Path, exc: OSError) -> PathsecError:
    why = exc.strerror or type(exc).__name__
    if exc.errno in _USER_ERRNOS:
        return _problem(path, f"cannot write: {why}")
    return WriteError(f"{path}: cannot write: {why}")


def check_output(path: str | Path) -> None:
    """Refuse, as an input error, a target that is not a regular file or absent.

    Refused: an existing folder, a device, a FIFO, a socket, and a symbolic link (even one
    pointing to a regular file: pathsec does not write through links).
    """
    p = Path(path)
    try:
        st = p.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _os_error(p, exc) from None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise _problem(
            p, "is a symbolic link; pathsec does not write through links (name its target)"
        )
    if stat.S_ISDIR(mode):
        raise _problem(p, "is a directory; give a file name")
    if not stat.S_ISREG(mode):
        kind = (
            "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise _problem(p, f"is {kind}; pathsec writes regular files only and replaced nothing")


def check_outputs(paths: Iterable[str | Path]) -> None:
    """:func:`check_output` for every path, before any is written."""
    for p in paths:
        check_output(p)


def make_private_dirs(path: str | Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700; existing folders stay as
    they are. A path component that exists and is not a folder is an input error."""
    p = Path(path)
    missing: list[Path] = []
    cur = p
    while True:
        try:
            st = cur.stat()
        except FileNotFoundError:
            missing.append(cur)
            if cur.parent == cur:
                break
            cur = cur.parent
            continue
        except OSError as exc:
            raise _os_error(cur, exc) from None
        if not stat.S_ISDIR(st.st_mode):
            raise _problem(cur, "is not a directory")
        break
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
            os.chmod(d, DIR_MODE)  # mkdir's mode is masked by the umask
        except FileExistsError:
            if not d.is_dir():
                raise _problem(d, "is not a directory") from None
        except OSError as exc:
            raise _os_error(d, exc) from None
    return p


def write_atomic(path: str | Path, data: str | bytes | Iterable[str]) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets mode 0600; missing folders are created 0700; the target is checked
    first (:func:`check_output`). ``str`` data is written as UTF-8; an iterable of
    ``str`` pieces is written piece by piece (large documents need not be one string).
    """
    target = Path(path)
    check_output(target)
    make_private_dirs(target.parent)
    pieces: Iterable[str | bytes] = [data] if isinstance(data, str | bytes) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _os_error(target, exc) from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            for piece in pieces:
                fh.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # replaces a link itself, never writes through it
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _os_error(target, exc) from None
        raise
    return target


def create_private_file(path: str | Path) -> bool:
    """Create an empty file with mode 0600 unless it exists; True when created.

    For files another library opens (the SQLite history database): created here first,
    the library finds it with the right mode. A symbolic link is not followed.
    """
    p = Path(path)
    make_private_dirs(p.parent)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return False
    except OSError as exc:
        raise _os_error(p, exc) from None
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return True


def open_private(path: str | Path) -> BinaryIO:
    """Open ``path`` for writing (truncated), created with mode 0600, not through a link."""
    p = Path(path)
    check_output(p)
    make_private_dirs(p.parent)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise _os_error(p, exc) from None
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "wb")
