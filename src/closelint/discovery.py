"""Which files a run lints: the paths given, directories walked with excludes and `.gitignore`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from closelint.config import Settings

#: the settings that decide what is excluded inside a directory (`SettingsResolver.for_directory`)
SettingsFor = Callable[[Path], Settings]


def discover(
    paths: Iterable[Path], settings_for: SettingsFor, force_exclude: bool = False
) -> tuple[list[Path], list[str]]:
    """Python files to lint, sorted, and one error message per path that does not exist.

    A file named explicitly is linted unless `force_exclude` and its project's `exclude` matches it or a
    directory above it; files found by walking a directory are filtered by the `exclude`/`extend-exclude`
    of the project each directory belongs to and, inside a git work tree, by `.gitignore`.
    """
    files: dict[str, Path] = {}
    errors: list[str] = []
    for path in paths:
        if force_exclude and path.exists() and settings_for(path.parent).force_excluded(path):
            continue
        if path.is_file():
            files[str(path)] = path
        elif path.is_dir():
            files.update((str(p), p) for p in _not_git_ignored(path, list(_walk(path, settings_for))))
        else:
            errors.append(f"{path}: no such file or directory")
    # Path order (by components), computed on the strings: Path objects are slow to compare in bulk
    return [files[name] for name in sorted(files, key=lambda name: name.split(os.sep))], errors


def _walk(root: Path, settings_for: SettingsFor) -> Iterable[Path]:
    """The Python files below `root`, walked with strings (a Path per entry costs more than the walk)."""
    for directory, subdirs, names in os.walk(root):
        settings = settings_for(Path(directory))
        subdirs[:] = sorted(d for d in subdirs if not settings.excluded_entry(directory, d))
        for name in sorted(names):
            if name.endswith(".py") and not settings.excluded_entry(directory, name):
                yield Path(directory, name)


def _not_git_ignored(root: Path, paths: list[Path]) -> list[Path]:
    """Drop paths git ignores below `root`; outside a work tree (or without git) nothing is dropped."""
    if not paths or not _maybe_in_work_tree(root):
        return paths
    import subprocess  # a few ms of imports: only inside a work tree

    resolved = _resolver()
    try:
        completed = subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            input="\0".join(resolved(p) for p in [root, *paths]).encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=False,
            timeout=60,
            cwd=root,
        )
    except (OSError, subprocess.SubprocessError):
        return paths
    if completed.returncode not in (0, 1):  # 128: not a git repository
        return paths
    ignored = {item for item in completed.stdout.decode("utf-8", "surrogateescape").split("\0") if item}
    if not ignored:
        return paths
    if resolved(root) in ignored:
        return paths  # a directory named explicitly is linted even if git ignores it, like a file
    return [p for p in paths if resolved(p) not in ignored]


def _maybe_in_work_tree(root: Path) -> bool:
    """False when git would find no repository for `root` (no `.git` above it, no GIT_DIR): skip git."""
    if "GIT_DIR" in os.environ:
        return True
    directory = os.path.realpath(root)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return True
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent


def _resolver() -> Callable[[Path], str]:
    """`str(path.resolve())`, resolving each directory once (a walk yields many files per directory)."""
    directories: dict[str, str] = {}

    def resolved(path: Path) -> str:
        head, name = os.path.split(os.path.abspath(path))
        real = directories.get(head)
        if real is None:
            real = directories[head] = os.path.realpath(head)
        joined = os.path.join(real, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined

    return resolved
