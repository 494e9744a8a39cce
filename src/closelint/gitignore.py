"""`.gitignore` matching with `pathspec`, without git: closelint never runs a command from the tree it lints
(git would run the tree's own `core.fsmonitor`).

Inside a git work tree (the nearest directory above the walked one that holds `.git`), as git does: every
`.gitignore` from the top of the work tree down to an entry's directory applies, a deeper file overriding a
shallower one, the last matching pattern of a file winning (`!` negates), then `.git/info/exclude`; an
ignored directory is not entered, so nothing below it comes back. A `.gitignore` that is a symbolic link
or not a regular file is not read (git ignores such links too); the user's global excludes file, which
git finds through its configuration, is not read. Outside a work tree nothing is ignored.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from closelint.files import read_regular_file

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILE = ".gitignore"


class GitIgnore:
    """Which entries below a work tree's top git would ignore; every path given is a real (resolved) path."""

    def __init__(self, top: str) -> None:
        self.top = top
        self._specs: dict[str, GitIgnoreSpec | None] = {}
        info = os.path.join(top, ".git")
        self._exclude = _load(os.path.join(info, "info", "exclude")) if os.path.isdir(info) else None

    @classmethod
    def above(cls, directory: str) -> GitIgnore | None:
        """The rules of the work tree holding `directory` (a real path); None outside a work tree."""
        current = directory
        while True:
            if os.path.lexists(os.path.join(current, ".git")):
                return cls(current)
            parent = os.path.dirname(current)
            if parent == current:
                return None
            current = parent

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether git ignores the entry `path` (below the top); a directory is matched as `path/`."""
        suffix = "/" if is_dir else ""
        directory = os.path.dirname(path)
        while len(directory) >= len(self.top):
            spec = self._spec(directory)
            if spec is not None:
                verdict = spec.check_file(_relative(path, directory) + suffix).include
                if verdict is not None:
                    return verdict
            if directory == self.top:
                break
            directory = os.path.dirname(directory)
        if self._exclude is None:
            return False
        return bool(self._exclude.check_file(_relative(path, self.top) + suffix).include)

    def _spec(self, directory: str) -> GitIgnoreSpec | None:
        if directory not in self._specs:
            self._specs[directory] = _load(os.path.join(directory, IGNORE_FILE))
        return self._specs[directory]


def _relative(path: str, directory: str) -> str:
    """`path` relative to its ancestor `directory`, with '/' separators (both real paths)."""
    return path[len(directory) :].lstrip(os.sep).replace(os.sep, "/")


def _load(path: str) -> GitIgnoreSpec | None:
    """The patterns of one ignore file; None when it is missing, unreadable, a link, or has no pattern."""
    try:
        text = read_regular_file(path, follow_symlinks=False).decode("utf-8", "surrogateescape")
    except OSError:
        return None
    lines = text.splitlines()
    if not any(line.strip() and not line.startswith("#") for line in lines):
        return None
    from pathspec import GitIgnoreSpec  # about 30 ms to import: only for a tree that has patterns

    return GitIgnoreSpec.from_lines(lines)
