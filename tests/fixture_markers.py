"""Read the expectations written in fixture files: `# expect: CL201` on the reported line."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>CL\d{3}(?:\s*,\s*CL\d{3})*)")
SELECT = re.compile(r"^#\s*fixture-select:\s*(?P<prefixes>[A-Z0-9, ]+)$")


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


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.py"))
