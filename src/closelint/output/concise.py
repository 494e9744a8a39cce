"""`path:line:col: CODE message`, one line per finding: flake8's format."""

from __future__ import annotations

from collections.abc import Sequence

from closelint.files import shown_path
from closelint.model import Violation
from closelint.output import OutputContext

NAME = "concise"


def line(v: Violation) -> str:
    """One finding as flake8 prints it (1-based column); the file name cannot fake another line."""
    return f"{shown_path(v.path)}:{v.line}:{v.col + 1}: {v.code} {v.message}"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    return "".join(line(v) + "\n" for v in violations)
