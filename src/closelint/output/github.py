"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff."""

from __future__ import annotations

from collections.abc import Sequence

from closelint.files import shown_path
from closelint.model import Violation
from closelint.output import OutputContext, is_error, relative_path, span

NAME = "github"
#: GitHub's escaping (actions/toolkit `escapeData`, `escapeProperty`): a message is data, file and title are properties
_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def escape(text: str, escapes: Sequence[tuple[str, str]] = _DATA_ESCAPES) -> str:
    """Escape a message (data); pass `_PROPERTY_ESCAPES` for a property value. '%' goes first."""
    for char, replacement in escapes:
        text = text.replace(char, replacement)
    return text


def command(v: Violation) -> str:
    """`::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=CL201::message` (1-based columns).

    Columns only for a span on one line: GitHub ignores `col`/`endColumn` when `line` and `endLine`
    differ (its documentation of the `warning` command), so a multi-line span gives lines alone."""
    line, col, end_line, end_col = span(v)
    properties: dict[str, str | int] = {
        "file": escape(shown_path(relative_path(v.path)), _PROPERTY_ESCAPES),
        "line": line,
    }
    if end_line == line:
        properties.update(col=col, endLine=end_line, endColumn=end_col)
    else:
        properties["endLine"] = end_line
    properties["title"] = escape(v.code, _PROPERTY_ESCAPES)
    level = "error" if is_error(v.code) else "warning"
    listed = ",".join(f"{key}={value}" for key, value in properties.items())
    return f"::{level} {listed}::{escape(v.message)}"


def render(violations: Sequence[Violation], context: OutputContext) -> str:
    return "".join(command(v) + "\n" for v in violations)
