"""Files of a tree closelint did not write: read only regular files, bounded in size, without blocking;
show their names without letting a name forge output (SPEC §5).

A FIFO named `x.py` would block a plain `open()` forever and a link to `/dev/zero` would be read until
memory runs out: `read_regular_file` opens without blocking (`O_NONBLOCK`), checks the opened descriptor is
a regular file (`fstat`) and reads at most `MAX_FILE_BYTES`.
"""

from __future__ import annotations

import errno
import os
import stat

#: the largest source file closelint reads, in bytes (the biggest files of the standard library and of
#: popular packages are under 2 MiB; generated tables rarely exceed a few)
MAX_FILE_BYTES = 16 * 2**20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
#: control characters a name could use to fake output lines or move the terminal's cursor
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def read_regular_file(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises OSError (with `strerror` saying why) for anything else: a FIFO, a device, a directory, a file
    over the limit, a symbolic link when `follow_symlinks` is false (ELOOP), or the usual open errors.
    Never blocks on a FIFO or a device, never reads more than `limit` + 1 bytes.
    """
    _check_regular(os.stat(path, follow_symlinks=follow_symlinks).st_mode)  # no open() of a device at all
    flags = _OPEN_FLAGS if follow_symlinks else _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    with open(descriptor, "rb") as handle:
        _check_regular(os.fstat(descriptor).st_mode)  # what was opened, whatever happened since the stat
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes, closelint's limit for a source file")
    return data


def _check_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise OSError(errno.EINVAL, f"not a regular file ({kind}); closelint reads only regular files")


def shown_path(path: str) -> str:
    """A file name as one line of printable text: control characters (a newline would fake an output line)
    and bytes that are not UTF-8 (kept by Python as surrogate escapes) become backslash escapes."""
    if path.isprintable():
        return path
    return unicode_path(path).translate(_CONTROL)


def unicode_path(path: str) -> str:
    """A file name as valid Unicode, for formats whose strings must be (JSON read by other tools): bytes that
    are not UTF-8 become `\\xNN` escapes; everything else is kept."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
