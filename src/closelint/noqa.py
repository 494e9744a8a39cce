"""`# noqa` handling that matches flake8's, so the CLI and the plugin suppress the same findings."""

from __future__ import annotations

import io
import re
import tokenize

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

_SPLIT = re.compile(r"[,\s]+")


def file_is_skipped(lines: list[str]) -> bool:
    """A line that is just `# flake8: noqa` skips the whole file, as in flake8."""
    return any(NOQA_FILE.match(line) for line in lines)


def logical_line_text(lines: list[str], text: str) -> dict[int, str]:
    """Map each line number to the text of the whole logical line it belongs to (flake8's noqa scope)."""
    mapping: dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return mapping
    first, last = len(lines) + 2, -1
    for token in tokens:
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first, last = min(first, token.start[0]), max(last, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            joined = "".join(lines[first - 1 : last])
            mapping.update(dict.fromkeys(range(first, last + 1), joined))
            first, last = len(lines) + 2, -1
    return mapping


def suppressed(code: str, line_text: str) -> bool:
    """Whether a `# noqa` comment in `line_text` silences `code`."""
    match = NOQA_INLINE_REGEXP.search(line_text)
    if match is None:
        return False
    codes_text = match.group("codes")
    if not codes_text:
        return True
    codes = {c for c in _SPLIT.split(codes_text) if c}
    return code in codes or code.startswith(tuple(codes))
