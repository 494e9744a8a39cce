"""Lint many files: in this process, or in a pool of processes fed in chunks."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from closelint.config import Settings
from closelint.engine import lint_files
from closelint.model import FileResult

_CHUNK = 32


def _lint_chunk(settings: Settings, chunk: list[Path]) -> list[FileResult]:
    return lint_files(chunk, settings)


def lint_paths(files: list[Path], settings: Settings, jobs: int = 1) -> list[FileResult]:
    """Results for `files`, in the same order whatever `jobs` is."""
    if jobs <= 1 or len(files) <= _CHUNK:
        return lint_files(files, settings)
    chunks = [files[i : i + _CHUNK] for i in range(0, len(files), _CHUNK)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [r for part in pool.map(partial(_lint_chunk, settings), chunks) for r in part]
