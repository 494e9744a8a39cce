"""reviewdog's rdjson (`DiagnosticResult`): `closelint check --output-format rdjson | reviewdog -f=rdjson`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from closelint.engine import physical_lines
from closelint.files import unicode_path
from closelint.model import Violation
from closelint.output import OutputContext, is_error, relative_path

NAME = "rdjson"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    lines = {path: physical_lines(text) for path, text in context.sources.items()}
    diagnostics = [_diagnostic(v, lines.get(v.path, [])) for v in violations]
    result = {"source": {"name": "closelint"}, "diagnostics": diagnostics}
    return json.dumps(result, indent=2) + "\n"


def _diagnostic(v: Violation, lines: list[str]) -> dict[str, Any]:
    end = (v.end_line, v.end_col) if v.end_line else (v.line, v.col)
    diagnostic: dict[str, Any] = {
        "message": v.message,
        "location": {"path": unicode_path(relative_path(v.path)), "range": _range(lines, (v.line, v.col), end)},
        "severity": "ERROR" if is_error(v.code) else "WARNING",
        "code": {"value": v.code},
    }
    if v.fix is not None and v.fix.edits:
        diagnostic["suggestions"] = [{"range": _range(lines, e.start, e.end), "text": e.content} for e in v.fix.edits]
    return diagnostic


def _range(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    """An end-exclusive range; reviewdog counts columns in UTF-8 bytes from 1."""
    return {"start": _position(lines, *start), "end": _position(lines, *end)}


def _position(lines: list[str], line: int, col: int) -> dict[str, int]:
    """Characters before `col` counted in UTF-8 bytes (as characters past the known source, if any)."""
    before = (lines[line - 1] if 0 < line <= len(lines) else "")[:col]
    return {"line": line, "column": len(before.encode("utf-8", "surrogatepass")) + col - len(before) + 1}
