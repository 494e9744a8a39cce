"""The results cache (SPEC §6): `.closelint_cache/` next to the configuration, one file per run setup.

A run setup is closelint's version and source files, the Python version, the effective settings, the
working directory (paths are reported as given, relative to it) and the machine's boot: Linux's random
`boot_id`, which no other machine (nor this one after a reboot) has, so a cache committed into a tree, or
edited by hand elsewhere, never matches a run here (the trade-off: the first run after a reboot is cold).
Without a boot id (not Linux), the host name and hardware address stand in; they are not secret. Its file
maps each linted path to the file's stat signature, a BLAKE2b digest of its bytes and its findings. A path
whose stat signature is unchanged is answered without reading the file; otherwise the file is read and
hashed, and an equal digest still reuses the findings. A file modified less than `RACY_SECONDS` before it
was linted keeps no stat signature (it could change again within the same timestamp tick), so the next run
checks its digest.

Entries are JSON, written to a temporary file and renamed into place, so a concurrent run or a crash never
leaves a half-written cache; a cache that cannot be read or decoded is ignored (and rewritten). Decoding
builds only `closelint.model` classes: a cache file from elsewhere cannot run code, and an entry whose
findings are not well-formed findings of that very file, carry a code closelint does not have, or repeat
a finding, is not used. Findings of files that do not parse
(CL000) are cached; unreadable files are not. This module imports only what a warm run needs.

The cache directory may come with the tree being linted, so writing never follows a symbolic link: when
the directory or anything closelint would write in it is a link, `Cache` raises `CacheRefused` and the run
goes on without a cache; files are created with `O_EXCL | O_NOFOLLOW`, and only regular files are read.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from closelint import __version__, model
from closelint.config import Settings
from closelint.files import CREATE_FLAGS, read_regular_file, shown_path
from closelint.model import Violation
from closelint.registry import PARSE_ERROR, RULE_CODES, UNUSED_NOQA

DIRECTORY_NAME = ".closelint_cache"
#: overrides where the cache lives (tests, CI caches)
ENVIRONMENT_VARIABLE = "CLOSELINT_CACHE_DIR"
#: a file changed this recently (or later) may change again without changing its stat signature
RACY_SECONDS = 2.0
_FORMAT = 1
_CODES = RULE_CODES | {PARSE_ERROR, UNUSED_NOQA}

#: (st_mtime_ns, st_ctime_ns, st_size, st_ino)
Stamp = tuple[int, int, int, int]


def stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """The stat signature of a file, None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


def digest(source: bytes) -> str:
    """The content key of a file's bytes."""
    from hashlib import blake2b

    return blake2b(source, digest_size=16).hexdigest()


def cache_directory(settings: Settings) -> Path:
    """`$CLOSELINT_CACHE_DIR`, else `.closelint_cache/` in the directory of the pyproject.toml in use (ruff's
    choice: one cache per project, wherever in it closelint runs), else in the working directory."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    return Path(configured) if configured else Path(settings.root) / DIRECTORY_NAME


#: the largest cache file read, in bytes (a cache of 100,000 files is about 15 MB)
MAX_CACHE_BYTES = 256 * 2**20
_MARKERS = (
    (".gitignore", "# Automatically created by closelint.\n*\n"),
    ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# closelint cache directory\n"),
)


class CacheRefused(OSError):
    """The cache directory, or an entry closelint would write in it, is a symbolic link."""


class Cache:
    """Findings per path for one run setup; `get` and `put` during the run, `save` at its end.

    Raises CacheRefused when a link would make it read or write outside the cache directory.
    """

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory
        self.setup = _setup(settings)
        self.file = directory / __version__ / f"{_short_hash(self.setup)}.json"
        _refuse_links(directory, [directory / __version__, self.file, *(directory / n for n, _ in _MARKERS)])
        self.started_ns = time.time_ns()
        self._entries: dict[str, list[Any]] = {}  # path -> [stamp | None, digest, encoded findings]
        self._touched: set[str] = set()
        self._loaded_stamp: Stamp | None = None
        self._load()

    def _load(self) -> None:
        self._loaded_stamp = stamp(self.file)
        if self._loaded_stamp is not None:
            self._entries = _read(self.file, self.setup)

    def get(self, path: str, beneath: str | None = None) -> tuple[list[Violation] | None, Stamp | None]:
        """The cached findings of `path` if its content is unchanged (else None), and its stat signature;
        `beneath` is the directory it was found in (`files.read_regular_file`)."""
        try:
            st = os.stat(path)
        except OSError:
            return None, None
        current = st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino
        entry = self._entries.get(path)
        if type(entry) is not list or len(entry) != 3 or type(entry[2]) is not list:
            return None, current
        signature = entry[0]  # a list in JSON, or null: then the digest decides
        if type(signature) is not list or len(signature) != 4 or tuple(signature) != current:
            if type(entry[1]) is not str:
                return None, current
            try:
                source = read_regular_file(path, beneath=beneath)
            except OSError:
                return None, current
            if digest(source) != entry[1]:
                return None, current
            self._entries[path] = [self._stamp_to_keep(current), entry[1], entry[2]]
            self._touched.add(path)
        if not entry[2]:
            return [], current
        try:
            found = [_decode(item) for item in entry[2]]
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError):  # not written by this closelint
            return None, current
        if not all(_is_finding(v, path) for v in found) or len(set(found)) != len(found):
            return None, current
        return (found, current) if {v.code for v in found} <= _CODES else (None, current)

    def put(self, path: str, before: Stamp | None, content_digest: str, violations: Iterable[Violation]) -> None:
        """Remember the findings of `path`, whose stat signature was `before` when it was read."""
        try:
            encoded = [_encode(v) for v in violations]
        except TypeError:  # a finding this cache cannot represent: do not cache the file
            return
        self._entries[path] = [self._stamp_to_keep(before), content_digest, encoded]
        self._touched.add(path)

    def _stamp_to_keep(self, current: Stamp | None) -> list[int] | None:
        """The signature to store: none for a file modified too recently to trust its timestamps."""
        if current is None or max(current[0], current[1]) >= self.started_ns - int(RACY_SECONDS * 1e9):
            return None
        return list(current)

    def save(self) -> None:
        """Write the entries if anything changed; never raises for file system errors."""
        if not self._touched:
            return
        with contextlib.suppress(OSError):
            self._write()

    def _write(self) -> None:
        entries = self._entries
        if stamp(self.file) != self._loaded_stamp:  # another run saved meanwhile: keep its entries too
            entries = {**_read(self.file, self.setup), **{p: self._entries[p] for p in self._touched}}
        entries = {p: e for p, e in entries.items() if p in self._touched or os.path.exists(p)}
        _make_directory(self.directory)
        _make_directory(self.file.parent)
        for name, text in _MARKERS:  # keep the cache out of git (as ruff does) and out of backups
            with contextlib.suppress(FileExistsError):
                _create(self.directory / name, text)
        temporary = self.file.with_name(f"{self.file.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        document = {"format": _FORMAT, "setup": self.setup, "entries": entries}
        try:
            _create(temporary, json.dumps(document, separators=(",", ":")))
            os.replace(temporary, self.file)  # replaces a link itself, never what it points to
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)


def _setup(settings: Settings) -> str:
    """Everything besides a file's bytes that decides its findings."""
    return json.dumps(
        {
            "closelint": [__version__, _source_fingerprint()],
            "python": [sys.implementation.name, list(sys.version_info)],
            "settings": repr(settings),
            "cwd": os.getcwd(),
            "machine": _machine(),
        },
        sort_keys=True,
    )


BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def _machine() -> str:
    """This machine's boot (Linux: the kernel's random boot id), else its host name and hardware address."""
    try:
        return read_regular_file(BOOT_ID_FILE, 64).decode("ascii", "replace").strip()
    except OSError:
        import platform
        import uuid

        return f"{platform.node()}/{uuid.getnode():012x}"


def _source_fingerprint() -> list[list[Any]]:
    """Stat signatures of closelint's own modules: an edited rule invalidates the cache without a release."""
    found: list[list[Any]] = []
    pending = [os.path.dirname(os.path.abspath(__file__))]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.endswith(".py"):
                        st = entry.stat()
                        found.append([entry.path, st.st_mtime_ns, st.st_size])
                    elif entry.is_dir() and not entry.name.startswith(("_", ".")):
                        pending.append(entry.path)
        except OSError:
            continue
    return sorted(found)


def _short_hash(text: str) -> str:
    import zlib

    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _read(file: Path, setup: str) -> dict[str, list[Any]]:
    """The entries of a cache file; nothing when it is missing, corrupt, or for another setup."""
    try:
        document = json.loads(read_regular_file(file, MAX_CACHE_BYTES, follow_symlinks=False))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(document, dict) or document.get("format") != _FORMAT or document.get("setup") != setup:
        return {}
    entries = document.get("entries")
    return entries if isinstance(entries, dict) else {}  # `Cache.get` checks the entries it uses


def _refuse_links(directory: Path, inside: list[Path]) -> None:
    """Raise CacheRefused if `directory` or an entry of `inside` is a symbolic link."""
    for path in (directory, *inside):
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except FileNotFoundError:
            continue
        if is_link:
            raise CacheRefused(f"{shown_path(str(path))} is a symbolic link; running without the cache")


def _make_directory(path: Path) -> None:
    """Create the directory `path` (its parent exists) unless it is there; a link there is refused."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise CacheRefused(f"{shown_path(str(path))} is not a directory; running without the cache") from None


def _create(path: Path, text: str) -> None:
    """Write a new file; raises FileExistsError if anything, a link included, is already at `path`."""
    descriptor = os.open(path, CREATE_FLAGS, 0o644)
    with open(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _is_finding(value: Any, path: str) -> bool:
    """Whether a decoded cache entry is a well-formed finding of `path` (entries are read from the tree)."""
    if type(value) is not Violation or value.path != path:
        return False
    numbers = (value.line, value.col, value.end_line, value.end_col)
    if not all(type(n) is int for n in numbers) or not (type(value.code) is str and type(value.message) is str):
        return False
    fix = value.fix
    return fix is None or (
        type(fix) is model.Fix
        and type(fix.applicability) is model.Applicability
        and type(fix.description) is str
        and type(fix.key) is str
        and type(fix.span) is tuple
        and len(fix.span) == 2
        and all(type(n) is int for n in fix.span)
        and fix.edits == ()
    )


def _encode(value: Any) -> Any:
    """JSON for findings: records (NamedTuples) and enums of `closelint.model`, tuples, str, int, float, bool,
    None."""
    fields = getattr(type(value), "_fields", None)
    if isinstance(value, tuple) and fields is not None:
        kind = type(value)
        if getattr(model, kind.__name__, None) is not kind:
            raise TypeError(f"cannot cache {kind!r}")
        return {"@": kind.__name__, **{name: _encode(getattr(value, name)) for name in fields}}
    if isinstance(value, enum.Enum):
        if getattr(model, type(value).__name__, None) is not type(value):
            raise TypeError(f"cannot cache {type(value)!r}")
        return {"@enum": type(value).__name__, "value": value.value}
    if isinstance(value, (tuple, list)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache {type(value)!r}")


def _decode(value: Any) -> Any:
    """The inverse of `_encode` (the model's sequences are tuples)."""
    if isinstance(value, list):
        return tuple(_decode(item) for item in value)
    if isinstance(value, dict):
        if "@enum" in value:
            return _model_class(value["@enum"], enum.Enum)(value["value"])
        fields = {key: _decode(item) for key, item in value.items() if key != "@"}
        return _model_class(value["@"], object)(**fields)
    return value


def _model_class(name: Any, base: type) -> Any:
    kind = getattr(model, name, None) if isinstance(name, str) else None
    if not isinstance(kind, type) or not issubclass(kind, base) or kind.__module__ != model.__name__:
        raise ValueError(f"not a closelint.model class: {name!r}")
    return kind
