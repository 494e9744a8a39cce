"""Read the expectations written in fixture files, strictly.

A fixture says on its first line which codes it is linted with (`# fixture-select: CL2,CL3`; without the
header, every code) and marks each finding it expects on the reported line (`# expect: CL201`). A comment
that starts like a marker but is not exactly one (`# expect CL101`, `# expect: cl101`), or a marker for a
code outside the selection, is a `MarkerError`: a typo must never turn a fixture into one that expects
nothing. A positive fixture (its name has no `_ok_`) must mark at least one finding of its own code, and a
negative one none.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MARKER_START = re.compile(r"#\s*expect\b", re.IGNORECASE)
MARKER = re.compile(r"#\s*expect:\s*(?P<codes>CL\d{3}(?:\s*,\s*CL\d{3})*)\s*$")
SELECT = re.compile(r"^#\s*fixture-select:\s*(?P<prefixes>[A-Z0-9, ]+)$")
LINT_AS = re.compile(r"^#\s*fixture-path:\s*(?P<path>\S+)$", re.MULTILINE)
OWN_CODE = re.compile(r"^(?P<code>cl\d{3})_")


class MarkerError(ValueError):
    """A fixture whose expectations cannot be read as written."""


@dataclass(frozen=True)
class Fixture:
    """A fixture file read strictly: what it is linted with and the findings it expects."""

    path: Path
    select: tuple[str, ...]
    expected: frozenset[tuple[int, str]]
    lint_as: str


def read_fixture(path: Path) -> Fixture:
    """The fixture at `path`; raises `MarkerError` for a malformed or misplaced marker or header."""
    text = path.read_text(encoding="utf-8")
    select = selected_prefixes(text)
    expected = _markers(path, text)
    for line, code in sorted(expected):
        if not code.startswith(select):
            raise MarkerError(f"{path.name}:{line}: {code} is marked but the fixture selects only {select}")
    own = OWN_CODE.match(path.name)
    if own:
        code = own["code"].upper()
        if not code.startswith(select):
            raise MarkerError(f"{path.name}: the fixture does not select its own code {code}")
        marks_own = any(marked == code for _, marked in expected)
        if "_ok_" in path.name and marks_own:
            raise MarkerError(f"{path.name}: a negative fixture marks {code}")
        if "_ok_" not in path.name and not marks_own:
            raise MarkerError(f"{path.name}: a positive fixture marks no {code} finding")
    return Fixture(path, select, frozenset(expected), lint_path(text, path))


def _markers(path: Path, text: str) -> set[tuple[int, str]]:
    """(line, code) pairs marked in comments; a comment that starts like a marker must be one."""
    found: set[tuple[int, str]] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.COMMENT or not MARKER_START.match(token.string):
            continue
        match = MARKER.match(token.string)
        if not match:
            raise MarkerError(f"{path.name}:{token.start[0]}: malformed marker {token.string!r}")
        found.update((token.start[0], code.strip()) for code in match["codes"].split(","))
    return found


def selected_prefixes(text: str) -> tuple[str, ...]:
    """The code prefixes a fixture is linted with (its `# fixture-select:` header; default: every code)."""
    match = SELECT.match(text.split("\n", 1)[0])
    if not match:
        return ("CL",)
    return tuple(p.strip() for p in match["prefixes"].split(",") if p.strip())


def lint_path(text: str, path: Path) -> str:
    """The path a fixture is linted as: its `# fixture-path:` header (what a file's name decides, such
    as being a test module), or its own path."""
    match = LINT_AS.search(text.split('"""', 1)[0])
    return match["path"] if match else str(path)


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.py"))
