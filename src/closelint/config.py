"""Settings: `[tool.closelint]` from the nearest `pyproject.toml`, then command-line overrides."""

from __future__ import annotations

import keyword
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch, translate
from functools import cache
from pathlib import Path
from typing import Any

from closelint.files import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".closelint_cache",
    "__pypackages__",
)
DEFAULT_HELPER_MODULE = "closelint.graceful"
DEFAULT_DRAIN_TIMEOUT = 5.0  # graceful_close's own default
#: the longest `drain-timeout` (seconds, a day): graceful_close clamps longer ones to it
MAX_DRAIN_TIMEOUT = 86400.0


class ConfigError(Exception):
    """A configuration or command-line value closelint cannot use (exit status 2)."""


@dataclass(frozen=True)
class Settings:
    """Effective settings for a run; hashable so it can key the cache."""

    select: tuple[str, ...] = ("CL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    helper_module: str = DEFAULT_HELPER_MODULE
    #: the `timeout=` that fixes pass to graceful_close (not written when it is the helper's default)
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    #: where relative globs (exclude, per-file-ignores) are anchored: the directory of pyproject.toml
    root: str = field(default=".", compare=False)

    def enabled(self, code: str, path: str | None = None) -> bool:
        """Whether `code` is reported (for `path`, when per-file ignores apply)."""
        ignored = list(self.ignore)
        if path is not None:
            ignored += [
                c for pattern, codes in self.per_file_ignores if _matches(path, pattern, self.root) for c in codes
            ]
        chosen = _longest_prefix(code, (*self.select, *self.extend_select))
        if chosen is None:
            return False
        dropped = _longest_prefix(code, ignored)
        return dropped is None or len(chosen) > len(dropped)

    def excluded(self, path: Path) -> bool:
        """Whether a file or directory met while walking is skipped (each entry is checked as it is met)."""
        by_name, anchored = _exclude_patterns((*self.exclude, *self.extend_exclude))
        if by_name is not None and by_name.match(os.path.normcase(path.name)):
            return True
        return any(_matches(str(path), p, self.root, name_only=True) for p in anchored)


@cache
def _exclude_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """The bare patterns (no '/') as one regex over an entry's name, as `fnmatch` matches each; the rest."""
    bare = [p.strip("/") for p in patterns if "/" not in p.strip("/")]
    anchored = tuple(p for p in patterns if "/" in p.strip("/"))
    by_name = re.compile("|".join(translate(os.path.normcase(p)) for p in bare)) if bare else None
    return by_name, anchored


def _longest_prefix(code: str, prefixes: Iterable[str]) -> str | None:
    matches = [p for p in prefixes if code.startswith(p)]
    return max(matches, key=len) if matches else None


def _matches(path: str, pattern: str, root: str, name_only: bool = False) -> bool:
    """gitignore-like: a pattern without '/' matches by name (the entry itself when walking, else any
    directory below `root`); one with '/' matches the path relative to `root`."""
    try:
        relative = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        relative = Path(Path(path).name)
    bare = pattern.strip("/")
    if "/" not in bare:
        parts = [Path(path).name] if name_only else relative.parts
        return any(fnmatch(part, bare) for part in parts)
    return fnmatch(relative.as_posix(), bare) or fnmatch(relative.as_posix(), bare + "/*")


#: the largest pyproject.toml read, in bytes
MAX_CONFIG_BYTES = 2**20
_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_KNOWN_KEYS = frozenset({*_LIST_KEYS, "per-file-ignores", "helper-module", "drain-timeout"})


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start`."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if os.path.lexists(candidate):  # one that is not a readable regular file is an error, not skipped
            return candidate
    return None


def load_settings(config: Path | None = None, start: Path | None = None) -> Settings:
    """Read `[tool.closelint]` from `config`, or from the nearest pyproject.toml above `start`."""
    path = config if config is not None else find_pyproject(start or Path.cwd())
    if path is None:
        return Settings()
    try:
        document = tomllib.loads(read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None
    tool = document.get("tool", {})
    table = tool.get("closelint", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.closelint] must be a table")
    return settings_from_table(table, source=str(path), root=str(path.parent))


def settings_from_table(table: Mapping[str, Any], source: str, root: str = ".") -> Settings:
    """Validate a `[tool.closelint]` table; an unknown key or code is a ConfigError naming it."""
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} in [tool.closelint]")
    values: dict[str, Any] = {"root": root}
    for key in _LIST_KEYS:
        if key in table:
            items = _string_list(table[key], key, source)
            if key in ("select", "ignore", "extend-select"):
                check_codes(items, f"{source}: {key}")
            if key == "select" and not items and not table.get("extend-select"):
                raise ConfigError(f"{source}: select is empty, so every rule would be off")
            values[key.replace("-", "_")] = tuple(items)
    if "per-file-ignores" in table:
        mapping = table["per-file-ignores"]
        if not isinstance(mapping, dict):
            raise ConfigError(f"{source}: per-file-ignores must be a table of glob = [codes]")
        pairs = []
        for pattern, codes in mapping.items():
            items = _string_list(codes, f"per-file-ignores.{pattern}", source)
            check_codes(items, f"{source}: per-file-ignores")
            pairs.append((pattern, tuple(items)))
        values["per_file_ignores"] = tuple(pairs)
    if "helper-module" in table:
        module = table["helper-module"]
        if not isinstance(module, str) or not all(_is_name(part) for part in module.split(".")):
            raise ConfigError(f"{source}: helper-module must be a dotted module name, got {module!r}")
        values["helper_module"] = module
    if "drain-timeout" in table:
        timeout = table["drain-timeout"]
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 < timeout <= MAX_DRAIN_TIMEOUT  # also false for nan
        ):
            raise ConfigError(
                f"{source}: drain-timeout must be a number of seconds above 0 and at most {MAX_DRAIN_TIMEOUT:g}, "
                f"got {timeout!r}"
            )
        values["drain_timeout"] = float(timeout)
    return replace(Settings(), **values)


def _is_name(part: str) -> bool:
    """An identifier that can follow `from` in an import: not a keyword (`from class.x import ...`)."""
    return part.isidentifier() and not keyword.iskeyword(part)


def _string_list(value: Any, key: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {key} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def check_codes(codes: Iterable[str], where: str) -> None:
    """Every entry must be a known code or a prefix of one (`CL`, `CL1`, `CL201`)."""
    from closelint.registry import known_codes  # imports every rule: only when codes are given

    known = known_codes()
    for code in codes:
        if code.upper() != code or not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {code!r}")


def parse_codes(text: str) -> list[str]:
    """Split a command-line list of codes (`CL101,CL2`)."""
    return [c.strip() for c in text.split(",") if c.strip()]
