"""A JSON list of findings (schema: docs/json-output.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from closelint.files import unicode_path
from closelint.model import Violation
from closelint.output import OutputContext, rule_name

NAME = "json"


def as_dict(v: Violation) -> dict[str, Any]:
    """One finding as a JSON object; lines and columns are 1-based. JSON text is Unicode: bytes of a file
    name that are not UTF-8 are written as `\\xNN` (`files.unicode_path`)."""
    return {
        "filename": unicode_path(v.path),
        "line": v.line,
        "column": v.col + 1,
        "end_line": v.end_line or v.line,
        "end_column": (v.end_col if v.end_line else v.col) + 1,
        "code": v.code,
        "name": rule_name(v.code),
        "message": v.message,
        "fixable": v.fixable,
        "fix": (
            {"applicability": v.fix.applicability.value, "description": v.fix.description, "reason": v.fix.reason}
            if v.fix
            else None
        ),
    }


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    return json.dumps([as_dict(v) for v in violations], indent=2) + "\n"
