"""Files of a tree closelint did not write: read only regular files, bounded in size, without blocking;
show their names without letting a name forge output (SPEC §5).

A FIFO named `x.py` would block a plain `open()` forever and a link to `/dev/zero` would be read until
memory runs out: `read_regular_file` opens without blocking (`O_NONBLOCK`), checks the opened descriptor is
a regular file (`fstat`) and reads at most `MAX_FILE_BYTES`. A file found by walking a directory is opened
by `open_beneath`, one component at a time without following links, so that nothing swapped in between
the walk and the read leads out of that directory (SPEC §5).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: the largest source file closelint reads, in bytes: the biggest files of the standard library (CPython
#: 3.11, pydoc_data/topics.py: 757 kB) and of the real-world corpus (scapy's manuf.py: 922 kB) fit, and
#: socket-heavy code, analysed at about 7 s per MiB on a 2-core machine, stays well under 30 s per file
MAX_FILE_BYTES = 2 * 2**20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: a new file, never through a link (FileExistsError if anything is there)
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_BINARY", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
#: links resolved while opening one path, as Linux allows (ELOOP past it)
_MAX_LINKS = 40
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
#: the usual short escapes; every other character that is not printable is shown by its code point
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def read_regular_file(
    path: str | os.PathLike[str],
    limit: int = MAX_FILE_BYTES,
    follow_symlinks: bool = True,
    beneath: str | os.PathLike[str] | None = None,
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    With `beneath` (a directory `path` was found in), no symbolic link is followed out of that directory on
    any component of `path` below it, whatever is renamed or swapped meanwhile (`open_beneath`).
    Raises OSError (with `strerror` saying why) for anything else: a FIFO, a device, a directory, a file
    over the limit, a symbolic link when `follow_symlinks` is false (ELOOP), or the usual open errors.
    Never blocks on a FIFO or a device, never reads more than `limit` + 1 bytes.
    """
    if beneath is not None:
        descriptor = open_beneath(beneath, path)
    else:
        _check_regular(os.stat(path, follow_symlinks=follow_symlinks).st_mode)  # no open() of a device at all
        descriptor = os.open(path, _OPEN_FLAGS if follow_symlinks else _OPEN_FLAGS | _NOFOLLOW)
    return _read(descriptor, limit)


def read_entry(directory: int, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file `name` in the open directory `directory`, not through a link (ELOOP);
    raises OSError as `read_regular_file` does."""
    _check_regular(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    return _read(os.open(name, _OPEN_FLAGS | _NOFOLLOW, dir_fd=directory), limit)


def _read(descriptor: int, limit: int) -> bytes:
    """Read and close an opened regular file of at most `limit` bytes."""
    with open(descriptor, "rb") as handle:
        _check_regular(os.fstat(descriptor).st_mode)  # what was opened, whatever happened since the stat
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes, closelint's limit for a source file")
    return data


def open_directory(path: str | os.PathLike[str], beneath: str | os.PathLike[str] | None = None) -> int:
    """A descriptor of the directory `path`, opened by `open_beneath` when it lies in the directory `beneath`
    (then never through a link out of it); the caller closes it. Raises OSError."""
    if beneath is None:
        return os.open(path, _DIRECTORY_FLAGS & ~_NOFOLLOW)
    return open_beneath(beneath, path, directory=True)


def within(root: str | os.PathLike[str], path: Path) -> Path:
    """`path` spelled below `root`: as it is when it starts with `root`, else (a real path, the target of a
    link) relative to `root`'s real path."""
    if path.is_relative_to(root):
        return path
    return Path(root, os.path.relpath(path, os.path.realpath(root)))


def open_beneath(root: str | os.PathLike[str], path: str | os.PathLike[str], directory: bool = False) -> int:
    """A descriptor of `path` (`root` joined with a relative path), opened one component at a time below
    `root` with `O_NOFOLLOW` relative to the directory opened before it, so that nothing renamed or swapped
    between a check and the open can lead out of `root`; links met on the way are resolved by hand and only
    while they stay inside `root` (as the real path `os.path.realpath(root)`).

    The file is opened read-only and non-blocking, and only if it is a regular file (a directory with
    `directory`); the caller closes the descriptor. Raises OSError: EXDEV for a path or link leading out of
    `root`, ELOOP for too many links, EINVAL for anything but a regular file, and the usual open errors.
    """
    relative = os.path.relpath(path, root)
    real_root = os.path.realpath(root)
    stack = [os.open(root, _DIRECTORY_FLAGS & ~_NOFOLLOW)]  # the root itself is named by the user: followed
    pending = list(reversed(relative.split(os.sep)))
    links = 0
    try:
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if len(stack) == 1:
                    raise OSError(errno.EXDEV, f"leads out of {os.fspath(root)}")
                os.close(stack.pop())
                continue
            mode = os.stat(name, dir_fd=stack[-1], follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links")
                target = os.readlink(name, dir_fd=stack[-1])
                if os.path.isabs(target):  # restart from the root, if the target is inside it
                    target = os.path.relpath(target, real_root)
                    while len(stack) > 1:
                        os.close(stack.pop())
                pending.extend(reversed(target.split(os.sep)))
                continue
            is_file = not directory and not [rest for rest in pending if rest not in ("", ".")]
            if is_file:
                _check_regular(mode)  # no open() of a device at all
            flags = _OPEN_FLAGS | _NOFOLLOW if is_file else _DIRECTORY_FLAGS
            stack.append(os.open(name, flags, dir_fd=stack[-1]))
        if directory:
            if not stat.S_ISDIR(os.fstat(stack[-1]).st_mode):
                raise OSError(errno.ENOTDIR, "not a directory")
        else:
            _check_regular(os.fstat(stack[-1]).st_mode)
        return stack.pop()
    finally:
        for descriptor in stack:
            os.close(descriptor)


def _check_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise OSError(errno.EINVAL, f"not a regular file ({kind}); closelint reads only regular files")


def shown_path(path: str) -> str:
    """A file name as one line of printable text: characters that are not printable (Python's
    `str.isprintable`: control characters, a newline would fake an output line, an ESC would start a terminal
    sequence; format characters such as the bidirectional override U+202E, which would reorder what is shown)
    and bytes that are not UTF-8 (kept by Python as surrogate escapes) become backslash escapes
    (`\\n`, `\\x1b`, `\\u202e`, `\\xff`)."""
    if path.isprintable():
        return path
    return "".join(char if char.isprintable() else _escape(char) for char in unicode_path(path))


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def unicode_path(path: str) -> str:
    """A file name as valid Unicode, for formats whose strings must be (JSON read by other tools): bytes that
    are not UTF-8 become `\\xNN` escapes; everything else is kept."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
