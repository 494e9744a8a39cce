"""Summaries of a run printed instead of or after the findings: `--statistics` and `--show-fixes`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from closelint.model import Applicability, Violation
from closelint.output import rule_name


@dataclass(frozen=True)
class Statistic:
    """How many findings of one code a run produced, and how many of them `--fix` could fix."""

    code: str
    name: str
    count: int
    fixable: int


def statistics(violations: Sequence[Violation]) -> list[Statistic]:
    """One entry per code that occurred, most frequent first, then by code."""
    counts = Counter(v.code for v in violations)
    fixable = Counter(v.code for v in violations if v.fixable)
    rows = [Statistic(code, rule_name(code), count, fixable[code]) for code, count in counts.items()]
    return sorted(rows, key=lambda row: (-row.count, row.code))


def render_statistics(violations: Sequence[Violation], as_json: bool = False) -> str:
    """ruff's `--statistics` table (`count  CODE  name  [*] N fixable`), or the same rows as a JSON list."""
    rows = statistics(violations)
    if as_json:
        return json.dumps([asdict(row) for row in rows], indent=2) + "\n"
    if not rows:
        return ""
    count_width = max(len(str(row.count)) for row in rows)
    name_width = max(len(row.name) for row in rows)
    lines = []
    for row in rows:
        fixable = f"  [*] {row.fixable} fixable" if row.fixable else ""
        lines.append(f"{row.count:>{count_width}}  {row.code}  {row.name:<{name_width}}{fixable}".rstrip())
    return "\n".join(lines) + "\n"


def render_fixes(violations: Sequence[Violation]) -> str:
    """What `--fix` would do, one entry per fixable finding: description, applicability, replacement text."""
    fixes = [(v, v.fix) for v in violations if v.fix is not None]
    if not fixes:
        return ""
    count = Counter(fix.applicability for _, fix in fixes)
    out = [
        f"\nFixes available ({count[Applicability.SAFE]} safe; {count[Applicability.UNSAFE]} unsafe, applied only "
        f"with `--unsafe-fixes`; {count[Applicability.DISPLAY_ONLY]} display-only, never applied):\n"
    ]
    for v, fix in fixes:
        out.append(f"  {v.path}:{v.line}:{v.col + 1}: {v.code} [{fix.applicability.value}] {fix.description}\n")
        if fix.reason:
            out.append(f"      not safe: {fix.reason}\n")
        for edit in fix.edits:
            (line, col), (end_line, end_col) = edit.start, edit.end
            replacement = json.dumps(edit.content, ensure_ascii=False)
            out.append(f"      {line}:{col + 1}-{end_line}:{end_col + 1} -> {replacement}\n")
    return "".join(out)
