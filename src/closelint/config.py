"""Settings: `[tool.closelint]` from the nearest `pyproject.toml` above each file, then command-line overrides."""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatch, translate
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from closelint.files import read_regular_file
from closelint.policy import RAISING_CALLS, Policy

if TYPE_CHECKING:
    import pathspec

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
#: reported only when selected by more than the bare `CL` (ruff's RUF100 is opt-in likewise): CL001 unused-noqa
OPT_IN_CODES = frozenset({"CL001"})
DEFAULT_HELPER_MODULE = "closelint_graceful"
DEFAULT_DRAIN_TIMEOUT = 5.0  # graceful_close's own default
#: the longest `drain-timeout` (seconds, a day): graceful_close clamps longer ones to it
MAX_DRAIN_TIMEOUT = 86400.0


class ConfigError(Exception):
    """A configuration or command-line value closelint cannot use (exit status 2)."""


class Settings(NamedTuple):
    """Effective settings for a run; hashable so it can key the cache (a NamedTuple: see closelint.model)."""

    select: tuple[str, ...] = ("CL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    helper_module: str = DEFAULT_HELPER_MODULE
    #: the `timeout=` that fixes pass to graceful_close (not written when it is the helper's default)
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    #: codes (or prefixes) not reported in test modules
    quiet_in_tests: tuple[str, ...] = ()
    #: the analysis policy (closelint.policy.Policy): raising-calls, teardown-requires-send,
    #: linger-zero-in-branch
    raising_calls: str = "socket"
    teardown_requires_send: bool = True
    linger_zero_in_branch: bool = True
    #: where relative globs (exclude, per-file-ignores) are anchored: the directory of pyproject.toml
    root: str = "."

    def policy(self) -> Policy:
        return Policy(self.raising_calls, self.teardown_requires_send, self.linger_zero_in_branch)

    def enabled(self, code: str, path: str | None = None) -> bool:
        """Whether `code` is reported (for `path`, when per-file ignores apply)."""
        ignored = list(self.ignore)
        if path is not None:
            ignored += [
                c for pattern, codes in self.per_file_ignores if _matches(path, pattern, self.root) for c in codes
            ]
        chosen = _longest_prefix(code, (*self.select, *self.extend_select))
        if chosen is None or (code in OPT_IN_CODES and len(chosen) <= len("CL")):
            return False
        dropped = _longest_prefix(code, ignored)
        return dropped is None or len(chosen) > len(dropped)

    def excluded(self, path: Path) -> bool:
        """Whether a file or directory met while walking is skipped (each entry is checked as it is met)."""
        return self.excluded_entry(os.path.dirname(path), os.path.basename(path))

    def excluded_entry(self, directory: str, name: str) -> bool:
        """`excluded` for the entry `name` of `directory`, without building a Path (the walk's hot loop)."""
        by_name, anchored = _exclude_patterns((*self.exclude, *self.extend_exclude))
        if by_name is not None and by_name.match(os.path.normcase(name)):
            return True
        return any(_matches(os.path.join(directory, name), p, self.root, name_only=True) for p in anchored)

    def force_excluded(self, path: Path) -> bool:
        """Whether a path named on the command line is excluded (`--force-exclude`): it, or a directory
        between it and the project root, matches `exclude`/`extend-exclude`."""
        absolute = Path(os.path.abspath(path))
        root = Path(os.path.abspath(self.root))
        inside = root in absolute.parents
        candidates = [absolute, *(p for p in absolute.parents if root in p.parents)] if inside else [absolute]
        return any(self.excluded(candidate) for candidate in candidates)


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
    """gitignore's rules (`pathspec`): a pattern without '/' matches by name (the entry itself when walking,
    else any directory below `root`); one with '/' matches the path relative to `root`, `**/` standing for
    zero or more directories, so `**/tests/**` matches a top-level `tests/` as it does in ruff."""
    try:
        relative = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        relative = Path(Path(path).name)
    bare = pattern.strip("/")
    if "/" not in bare:
        parts = [Path(path).name] if name_only else relative.parts
        return any(fnmatch(part, bare) for part in parts)
    return _anchored(bare).match_file(relative.as_posix())


@cache
def _anchored(pattern: str) -> pathspec.GitIgnoreSpec:
    import pathspec  # about 90 ms of imports (asyncio among them): only for a pattern that needs it

    return pathspec.GitIgnoreSpec.from_lines([f"/{pattern}"])


#: the largest pyproject.toml read, in bytes
MAX_CONFIG_BYTES = 2**20
_LIST_KEYS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_BOOLEAN_KEYS = ("teardown-requires-send", "linger-zero-in-branch")
_KNOWN_KEYS = frozenset(
    {
        *_LIST_KEYS,
        *_BOOLEAN_KEYS,
        "per-file-ignores",
        "helper-module",
        "drain-timeout",
        "quiet-in-tests",
        "raising-calls",
    }
)


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` that has a `[tool.closelint]` table (others are
    skipped, as ruff skips a pyproject.toml without `[tool.ruff]`)."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if _closelint_table(directory / "pyproject.toml") is not None:
            return directory / "pyproject.toml"
    return None


def _closelint_table(path: Path) -> dict[str, Any] | None:
    """The `[tool.closelint]` table of a pyproject.toml, None when the file or the table is missing. A
    pyproject.toml that is there but is not a readable regular file of at most `MAX_CONFIG_BYTES` (a FIFO,
    a directory, a dangling link), or that mentions closelint but cannot be read as TOML, is a ConfigError;
    any other one is not ours to judge."""
    try:
        if not os.path.lexists(path):
            return None
        data = read_regular_file(path, MAX_CONFIG_BYTES)  # one that is there but unusable is an error
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    if b"closelint" not in data:
        return None
    import tomllib  # only for a file that may configure closelint (a few ms a run otherwise)

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None
    tool = document.get("tool", {})
    table = tool.get("closelint") if isinstance(tool, dict) else tool
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.closelint] must be a table")
    return table


def load_settings(config: Path | None = None, start: Path | None = None) -> Settings:
    """Read `[tool.closelint]` from `config`, or from the nearest pyproject.toml above `start` that has one."""
    path = config if config is not None else find_pyproject(start or Path.cwd())
    if path is None:
        return Settings()
    if config is not None and not os.path.lexists(config):
        raise ConfigError(f"cannot read config file {config}: no such file")
    table = _closelint_table(path)
    return settings_from_table(table or {}, source=str(path), root=str(path.parent))


class SettingsResolver:
    """Settings per directory, ruff's hierarchical model: a file is linted with the `[tool.closelint]` of
    the nearest pyproject.toml above it that has one, else with that of the working directory's project;
    `config` (`--config FILE`) applies to every file instead. `overrides` (command-line options) are applied
    on top. Each directory is looked up once; a ConfigError is raised where an invalid table is met."""

    def __init__(self, config: Path | None = None, overrides: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._fixed = self._with_overrides(load_settings(config)) if config is not None else None
        self._default: Settings | None = None
        self._by_directory: dict[str, Settings] = {}
        self._by_given_directory: dict[str, Settings] = {}

    def _with_overrides(self, settings: Settings) -> Settings:
        return settings._replace(**self._overrides) if self._overrides else settings  # type: ignore[arg-type]

    @property
    def default(self) -> Settings:
        """The settings of a file with no configured project above it: the working directory's."""
        if self._fixed is not None:
            return self._fixed
        if self._default is None:
            self._default = self._with_overrides(load_settings())
        return self._default

    def for_directory(self, directory: str | os.PathLike[str]) -> Settings:
        """The settings of the files and directories directly inside `directory`."""
        if self._fixed is not None:
            return self._fixed
        key = os.path.abspath(directory)
        found = self._by_directory.get(key)
        if found is None:
            config = os.path.join(key, "pyproject.toml")
            table = _closelint_table(Path(config))
            if table is not None:
                found = self._with_overrides(settings_from_table(table, source=config, root=key))
            else:
                parent = os.path.dirname(key)
                found = self.default if parent == key else self.for_directory(parent)
            self._by_directory[key] = found
        return found

    def for_file(self, path: str | os.PathLike[str]) -> Settings:
        """The settings `path` is linted with (looked up once per directory as given)."""
        directory = os.path.dirname(path)
        found = self._by_given_directory.get(directory)
        if found is None:
            found = self._by_given_directory[directory] = self.for_directory(directory or os.curdir)
        return found


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
    if "quiet-in-tests" in table:
        quiet = _string_list(table["quiet-in-tests"], "quiet-in-tests", source)
        check_codes(quiet, f"{source}: quiet-in-tests")
        values["quiet_in_tests"] = tuple(quiet)
    if "raising-calls" in table:
        if table["raising-calls"] not in RAISING_CALLS:
            raise ConfigError(f"{source}: raising-calls must be one of {', '.join(map(repr, RAISING_CALLS))}")
        values["raising_calls"] = table["raising-calls"]
    for key in _BOOLEAN_KEYS:
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(f"{source}: {key} must be true or false")
            values[key.replace("-", "_")] = table[key]
    return Settings()._replace(**values)


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
