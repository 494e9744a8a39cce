"""`path:line:col: CODE message`, one line per finding: flake8's format."""

from __future__ import annotations

from collections.abc import Sequence

from closelint.files import shown_path
from closelint.model import Violation
from closelint.output import OutputContext, paint

NAME = "concise"


def line(v: Violation, color: bool = False) -> str:
    """One finding as flake8 prints it (1-based column); the file name cannot fake another line. Coloured
    as ruff colours it when `color`."""
    return f"{paint(shown_path(v.path), 'bold', color)}:{v.line}:{v.col + 1}: {paint(v.code, 'red', color)} {v.message}"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    return "".join(line(v, context.color) + "\n" for v in violations)
