"""Read the expectations written in fixture files: `# expect: CL201` on the reported line."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>CL\d{3}(?:\s*,\s*CL\d{3})*)")
SELECT = re.compile(r"^#\s*fixture-select:\s*(?P<prefixes>[A-Z0-9, ]+)$")
LINT_AS = re.compile(r"^#\s*fixture-path:\s*(?P<path>\S+)$", re.MULTILINE)


def expected(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs marked in a fixture."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group("codes").split(","))
    return found


def selected_prefixes(path: Path) -> tuple[str, ...]:
    """The code prefixes a fixture judges (its `# fixture-select:` header; default: every code)."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = SELECT.match(first)
    if not match:
        return ("CL",)
    return tuple(p.strip() for p in match.group("prefixes").split(",") if p.strip())


def lint_path(path: Path) -> str:
    """The path a fixture is linted as: its `# fixture-path:` header (what a file's name decides, such
    as being a test module), or its own path."""
    match = LINT_AS.search(path.read_text(encoding="utf-8").split('"""', 1)[0])
    return match.group("path") if match else str(path)


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.py"))
