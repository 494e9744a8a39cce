"""Which files a run lints: the paths given, directories walked with excludes and `.gitignore`.

The tree may be hostile (SPEC §5): the walk never runs git, never enters a linked directory, skips a linked
`.py` that resolves outside the directory named on the command line (with a warning), and reports a
directory it cannot read as an error instead of passing over it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from closelint.config import Settings
from closelint.files import shown_path
from closelint.gitignore import GitIgnore

#: the settings that decide what is excluded inside a directory (`SettingsResolver.for_directory`)
SettingsFor = Callable[[Path], Settings]


class Discovery:
    """The files to lint, sorted; errors (exit status 2) and warnings (skipped links) to show the user;
    `beneath` maps each file found by walking a directory to that directory, which reading it (or writing
    fixes) must not leave (`files.open_beneath`). (A plain class: a run answered from the cache never loads
    dataclasses, see closelint.model.)"""

    def __init__(self) -> None:
        #: paths as given or found (strings: a Path per file costs more than the walk)
        self.files: list[str] = []
        self.beneath: dict[str, str] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []


def discover(paths: Iterable[Path], settings_for: SettingsFor, force_exclude: bool = False) -> Discovery:
    """Python files to lint, and one message per path that cannot be used.

    A file named explicitly is linted (even a link out of the tree) unless `force_exclude` and its
    project's `exclude` matches it or a directory above it; files found by walking a directory are
    filtered by the `exclude`/`extend-exclude` of the project each directory belongs to and, inside a git
    work tree, by `.gitignore`.
    """
    found = Discovery()
    files: set[str] = set()
    named: set[str] = set()
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as error:
            reason = "no such file or directory" if error.errno == errno.ENOENT else error.strerror or str(error)
            found.errors.append(f"{shown_path(str(path))}: {reason}")
            continue
        if force_exclude and settings_for(path.parent).force_excluded(path):
            continue
        if stat.S_ISDIR(mode):
            for file in _walk(path, settings_for, found):
                files.add(file)
                found.beneath.setdefault(file, os.fspath(path))
        else:  # reading it reports anything that is not a regular file
            files.add(str(path))
            named.add(str(path))
    for name in named:  # a file named on the command line is read as named
        found.beneath.pop(name, None)
    found.files = sorted(files, key=lambda name: name.split(os.sep))  # by components, as Paths sort
    return found


def _walk(root: Path, settings_for: SettingsFor, found: Discovery) -> Iterable[str]:
    """The `.py` entries below `root` (real files, or links that stay inside it), directories first
    filtered by `excluded`, then by `.gitignore`; unreadable directories are added to `found.errors`."""
    real_root = os.path.realpath(root)
    ignore = GitIgnore.above(real_root)
    if ignore is not None and real_root != ignore.top and ignore.ignored(real_root, is_dir=True):
        ignore = None  # a directory named explicitly is linted even if git ignores it, like a file
    start = str(root)  # as Path spells it ("src/" is "src"); "." prefixes nothing, as Path("./a") is "a"
    pending = [("" if start == os.curdir else start, real_root)]
    while pending:
        directory, real_directory = pending.pop()
        try:
            with os.scandir(directory or os.curdir) as listing:
                entries = list(listing)
        except OSError as error:
            found.errors.append(
                f"cannot read directory {shown_path(directory or os.curdir)}: {error.strerror or error}"
            )
            continue
        settings = settings_for(Path(directory))
        for entry in entries:
            real = os.path.join(real_directory, entry.name)
            path = os.path.join(directory, entry.name)
            if entry.is_dir(follow_symlinks=False):
                excluded = settings.excluded_entry(directory, entry.name)
                if not excluded and not (ignore and ignore.ignored(real, is_dir=True)):
                    pending.append((path, real))
            elif entry.name.endswith(".py"):
                if settings.excluded_entry(directory, entry.name) or (ignore and ignore.ignored(real, is_dir=False)):
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
