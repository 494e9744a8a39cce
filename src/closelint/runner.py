"""Lint many files: answered from the cache, in this process, or in a pool of processes fed in chunks.

Nothing heavy is imported until a file has to be linted: a run answered from the cache loads neither the
engine (analysis, rules) nor the process pool.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from closelint.config import Settings
from closelint.model import FileResult

if TYPE_CHECKING:
    from closelint.cache import Cache, Stamp

#: below this many bytes to lint, starting worker processes costs more than it saves
PARALLEL_MIN_BYTES = 512 * 1024
#: chunks per job: enough for the pool to even out the load, few enough to keep messages cheap
_CHUNKS_PER_JOB = 16
_CHUNK_MAX_FILES = 64

#: a file to lint: a string (as discovery gives them) or a Path
StrPath = str | os.PathLike[str]
#: (result, content digest when the file was read and the caller wants it)
_Linted = tuple[FileResult, "str | None"]


def lint_paths(
    files: Sequence[StrPath],
    settings: Settings,
    jobs: int = 1,
    cache: bool = False,
    warn: Callable[[str], None] | None = None,
    beneath: Mapping[str, str] | None = None,
) -> list[FileResult]:
    """Results for `files`, in their order, the same whatever `jobs` is and whether `cache` is used.

    `warn` receives a one-line message when the cache cannot be used (the run goes on without it);
    `beneath` maps a file found by walking a directory to that directory (`discovery.Discovery.beneath`).
    """
    beneath = beneath or {}
    store = _open_cache(settings, warn) if cache else None
    results: list[FileResult | None] = [None] * len(files)
    todo: list[int] = []
    stamps: list[Stamp | None] = [None] * len(files)
    for index, path in enumerate(files):
        if store is not None:
            name = str(path)
            found, stamps[index] = store.get(name, beneath.get(name))
            if found is not None:
                results[index] = FileResult(name, found)
                continue
        todo.append(index)
    if todo:
        sizes = [_size(files[i], stamps[i]) for i in todo]
        todo_files = [(files[i], beneath.get(str(files[i]))) for i in todo]
        linted = _lint(todo_files, sizes, settings, jobs, store is not None)
        for index, (result, content_digest) in zip(todo, linted, strict=True):
            results[index] = result
            if store is not None and content_digest is not None:
                store.put(str(files[index]), stamps[index], content_digest, result.violations)
    if store is not None:
        store.save()
    return [r for r in results if r is not None]


def _open_cache(settings: Settings, warn: Callable[[str], None] | None) -> Cache | None:
    from closelint.cache import Cache, CacheRefused, cache_directory

    try:
        return Cache(cache_directory(settings), settings)
    except CacheRefused as refused:  # a link in a committed cache must not make closelint write elsewhere
        if warn is not None:
            warn(str(refused))
    except OSError:  # no working directory any more, ...: lint without the cache
        pass
    return None


def _size(path: StrPath, known: Stamp | None) -> int:
    if known is not None:
        return known[2]
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


#: a file to lint and the directory it was found in (None: named by the user)
_Source = tuple[StrPath, "str | None"]


def _lint(files: list[_Source], sizes: list[int], settings: Settings, jobs: int, digests: bool) -> list[_Linted]:
    """Lint `files` (results in their order): in this process, or, when there is enough work, in `jobs`
    processes fed chunks of files biggest first, so that the pool ends on small ones and finishes evenly."""
    total = sum(sizes)
    if jobs <= 1 or len(files) < 2 or total < PARALLEL_MIN_BYTES:
        with _gc_paused():
            return _lint_chunk(files, settings, digests)
    order = sorted(range(len(files)), key=lambda i: (-sizes[i], i))
    target = max(total // (jobs * _CHUNKS_PER_JOB), 1)
    chunks: list[list[int]] = [[]]
    weight = 0
    for index in order:
        if chunks[-1] and (weight >= target or len(chunks[-1]) >= _CHUNK_MAX_FILES):
            chunks.append([])
            weight = 0
        chunks[-1].append(index)
        weight += sizes[index]
    from concurrent.futures import ProcessPoolExecutor

    out: list[_Linted | None] = [None] * len(files)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)), initializer=_start_worker, initargs=(settings, digests)
    ) as pool:
        for chunk, linted in zip(chunks, pool.map(_worker_chunk, [[files[i] for i in c] for c in chunks]), strict=True):
            for index, item in zip(chunk, linted, strict=True):
                out[index] = item
    return [item for item in out if item is not None]


def _lint_chunk(files: list[_Source], settings: Settings, digests: bool) -> list[_Linted]:
    from closelint.cache import digest
    from closelint.engine import lint_path

    linted: list[_Linted] = []
    for path, directory in files:
        result, source = lint_path(path, settings, directory)
        linted.append((result, digest(source) if digests and source is not None else None))
        gc.collect(0)  # automatic collection is paused: free this file's cycles, if any (cheap: few objects)
    return linted


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause automatic garbage collection: `ast.parse` allocates millions of objects, none in cycles, and
    the collector would walk every young one several times (about a fifth of the parse time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_worker_settings: Settings | None = None
_worker_digests = False


def _start_worker(settings: Settings, digests: bool) -> None:
    global _worker_settings, _worker_digests
    _worker_settings, _worker_digests = settings, digests
    gc.freeze()  # what the worker inherited is never garbage: keep the collector (and copy-on-write) off it
    gc.disable()
    from closelint import engine

    engine.enabled_rules(settings)  # import the analysis and the rules once, before the first file


def _worker_chunk(files: list[_Source]) -> list[_Linted]:
    assert _worker_settings is not None
    return _lint_chunk(files, _worker_settings, _worker_digests)
