"""Plain data shared by every part of closelint: findings, fixes and rule examples.

Immutable records are `NamedTuple`s, not dataclasses: a run answered from the cache builds these and
nothing else, and the dataclasses machinery (its import and the code it generates per class) would be a
fifth of that run's time. Change a record with `record._replace(field=value)`.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class Applicability(enum.Enum):
    """How much a fix can be trusted (ruff's terms)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    #: shown by `--diff`/`--show-fixes` but never applied, not even with `--unsafe-fixes`
    DISPLAY_ONLY = "display-only"


class Edit(NamedTuple):
    """Replace the source between two (line, column) positions, 1-based lines and 0-based columns."""

    start: tuple[int, int]
    end: tuple[int, int]
    content: str


class FixKey:
    """Names of the rewrites the fix engine (closelint.fixes) performs."""

    GRACEFUL_CLOSE = "graceful-close"
    #: a close in `finally`: graceful on the normal path, the plain close kept on the error path
    GRACEFUL_CLOSE_IN_FINALLY = "graceful-close-in-finally"
    GRACEFUL_CLOSE_IN_WITH = "graceful-close-in-with"
    WITH_STATEMENT = "with-statement"
    AWAIT_WAIT_CLOSED = "await-wait-closed"

    @staticmethod
    def in_with(handle: str) -> str:
        """The `with`-block rewrite's key, carrying the name the block gives the socket."""
        return f"{FixKey.GRACEFUL_CLOSE_IN_WITH}:{handle}"


class Fix(NamedTuple):
    """A rewrite attached to a finding; applied by the fix engine, never mid-analysis."""

    applicability: Applicability
    description: str
    #: which rewrite the fix engine performs at the finding's position (closelint.fixes)
    key: str = ""
    #: first and last line the rewrite touches; fixes whose spans overlap wait for the next round
    span: tuple[int, int] = (0, 0)
    #: the text edits, when the fix engine has computed them (SARIF, rdjson and `--show-fixes` report them)
    edits: tuple[Edit, ...] = ()
    #: why the fix is not safe (what the analysis could not prove); empty for a safe fix
    reason: str = ""


class Violation(NamedTuple):
    """One finding. Lines are 1-based, columns 0-based (characters), as flake8 receives them.

    Findings compare, sort and hash by everything but `fix` (a finding is where and what, not its fix)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    end_line: int = 0
    end_col: int = 0
    fix: Fix | None = None

    @property
    def fixable(self) -> bool:
        """Whether plain `--fix` fixes it (unsafe fixes need `--unsafe-fixes` too)."""
        return self.fix is not None and self.fix.applicability is Applicability.SAFE

    def _key(self) -> tuple[str, int, int, str, str, int, int]:
        return self[:7]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Violation) and self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Any) -> bool:
        return self._key() < other._key()  # type: ignore[no-any-return]

    def __le__(self, other: Any) -> bool:
        return self._key() <= other._key()  # type: ignore[no-any-return]

    def __gt__(self, other: Any) -> bool:
        return self._key() > other._key()  # type: ignore[no-any-return]

    def __ge__(self, other: Any) -> bool:
        return self._key() >= other._key()  # type: ignore[no-any-return]


class Valid(NamedTuple):
    """Code that a rule must not report."""

    code: str


class Invalid(NamedTuple):
    """Code that a rule must report; `expected_fix` is the source after `--fix` (None: no fix)."""

    code: str
    expected_fix: str | None = None
    unsafe: bool = False


class FileResult:
    """What linting one file produced. Per-file errors are values here, never exceptions."""

    __slots__ = ("error", "path", "violations")

    def __init__(self, path: str, violations: list[Violation] | None = None, error: str | None = None) -> None:
        self.path = path
        self.violations: list[Violation] = [] if violations is None else violations
        self.error = error

    def __repr__(self) -> str:
        return f"FileResult(path={self.path!r}, violations={self.violations!r}, error={self.error!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileResult) and (self.path, self.violations, self.error) == (
            other.path,
            other.violations,
            other.error,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable
