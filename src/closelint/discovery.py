"""Which files a run lints: the paths given, directories walked with excludes and `.gitignore`.

The tree may be hostile (SPEC §5): the walk never runs git, never enters a linked directory, skips a linked
`.py` that resolves outside the directory named on the command line (with a warning), and reports a
directory it cannot read as an error instead of passing over it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from closelint.config import Settings
from closelint.files import shown_path
from closelint.gitignore import GitIgnore


@dataclass
class Discovery:
    """The files to lint, sorted; errors (exit status 2) and warnings (skipped links) to show the user;
    `beneath` maps each file found by walking a directory to that directory, which reading it (or writing
    fixes) must not leave (`files.open_beneath`)."""

    files: list[Path] = field(default_factory=list)
    beneath: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def discover(paths: Iterable[Path], settings: Settings) -> Discovery:
    """Python files to lint, and one message per path that cannot be used.

    A file named explicitly is always linted (even a link out of the tree); files found by walking a
    directory are filtered by `exclude`/`extend-exclude` and, inside a git work tree, by `.gitignore`.
    """
    found = Discovery()
    files: set[Path] = set()
    named: set[str] = set()
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as error:
            reason = "no such file or directory" if error.errno == errno.ENOENT else error.strerror or str(error)
            found.errors.append(f"{shown_path(str(path))}: {reason}")
            continue
        if stat.S_ISDIR(mode):
            for file in _walk(path, settings, found):
                files.add(file)
                found.beneath.setdefault(str(file), os.fspath(path))
        else:  # reading it reports anything that is not a regular file
            files.add(path)
            named.add(str(path))
    for name in named:  # a file named on the command line is read as named
        found.beneath.pop(name, None)
    found.files = sorted(files, key=lambda p: p.parts)  # Path order, without Path.__lt__
    return found


def _walk(root: Path, settings: Settings, found: Discovery) -> Iterable[Path]:
    """The `.py` entries below `root` (real files, or links that stay inside it), directories first
    filtered by `excluded`, then by `.gitignore`; unreadable directories are added to `found.errors`."""
    real_root = os.path.realpath(root)
    ignore = GitIgnore.above(real_root)
    if ignore is not None and real_root != ignore.top and ignore.ignored(real_root, is_dir=True):
        ignore = None  # a directory named explicitly is linted even if git ignores it, like a file
    pending = [(os.fspath(root), real_root)]
    while pending:
        directory, real_directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as error:
            found.errors.append(f"cannot read directory {shown_path(directory)}: {error.strerror or error}")
            continue
        for entry in entries:
            real = os.path.join(real_directory, entry.name)
            if entry.is_dir(follow_symlinks=False):
                if not settings.excluded(Path(entry.path)) and not (ignore and ignore.ignored(real, is_dir=True)):
                    pending.append((entry.path, real))
            elif entry.name.endswith(".py"):
                path = Path(entry.path)
                if settings.excluded(path) or (ignore and ignore.ignored(real, is_dir=False)):
                    continue
                if entry.is_symlink() and not _inside(os.path.realpath(real), real_root):
                    found.warnings.append(
                        f"{shown_path(str(path))}: skipped, a symbolic link to a file outside {shown_path(str(root))}"
                        " (name it on the command line to lint it)"
                    )
                    continue
                yield path


def _inside(path: str, directory: str) -> bool:
    """Whether the real path `path` lies in the real directory `directory`."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)
