"""Plain data shared by every part of closelint: findings, fixes and rule examples."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Applicability(enum.Enum):
    """How much a fix can be trusted (ruff's terms)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    #: shown by `--diff`/`--show-fixes` but never applied, not even with `--unsafe-fixes`
    DISPLAY_ONLY = "display-only"


@dataclass(frozen=True)
class Edit:
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


@dataclass(frozen=True)
class Fix:
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


@dataclass(frozen=True, order=True)
class Violation:
    """One finding. Lines are 1-based, columns 0-based (characters), as flake8 receives them."""

    path: str
    line: int
    col: int
    code: str
    message: str
    end_line: int = 0
    end_col: int = 0
    fix: Fix | None = field(default=None, compare=False)

    @property
    def fixable(self) -> bool:
        """Whether plain `--fix` fixes it (unsafe fixes need `--unsafe-fixes` too)."""
        return self.fix is not None and self.fix.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Valid:
    """Code that a rule must not report."""

    code: str


@dataclass(frozen=True)
class Invalid:
    """Code that a rule must report; `expected_fix` is the source after `--fix` (None: no fix)."""

    code: str
    expected_fix: str | None = None
    unsafe: bool = False


@dataclass
class FileResult:
    """What linting one file produced. Per-file errors are values here, never exceptions."""

    path: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
