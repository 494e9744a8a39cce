"""Which files a run lints: the paths given, directories walked with excludes and `.gitignore`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from closelint.config import Settings


def discover(paths: Iterable[Path], settings: Settings) -> tuple[list[Path], list[str]]:
    """Python files to lint, sorted, and one error message per path that does not exist.

    A file named explicitly is always linted; files found by walking a directory are filtered by
    `exclude`/`extend-exclude` and, inside a git work tree, by `.gitignore`.
    """
    files: set[Path] = set()
    errors: list[str] = []
    for path in paths:
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(_not_git_ignored(path, list(_walk(path, settings))))
        else:
            errors.append(f"{path}: no such file or directory")
    return sorted(files), errors


def _walk(root: Path, settings: Settings) -> Iterable[Path]:
    for directory, subdirs, names in os.walk(root):
        base = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if not settings.excluded(base / d))
        for name in sorted(names):
            path = base / name
            if name.endswith(".py") and not settings.excluded(path):
                yield path


def _not_git_ignored(root: Path, paths: list[Path]) -> list[Path]:
    """Drop paths git ignores below `root`; outside a work tree (or without git) nothing is dropped."""
    if not paths:
        return paths
    try:
        completed = subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            input="\0".join(str(p.resolve()) for p in [root, *paths]).encode("utf-8", "surrogateescape"),
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
    if str(root.resolve()) in ignored:
        return paths  # a directory named explicitly is linted even if git ignores it, like a file
    return [p for p in paths if str(p.resolve()) not in ignored]
