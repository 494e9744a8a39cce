"""`# noqa` handling that matches flake8's, so the CLI and the plugin suppress the same findings."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP

from closelint.model import Violation
from closelint.registry import CODE_PATTERN, PARSE_ERROR

_SPLIT = re.compile(r"[,\s]+")


def file_is_skipped(lines: list[str]) -> bool:
    """A line that is just `# flake8: noqa` skips the whole file, as in flake8."""
    return any(NOQA_FILE.match(line) for line in lines)


def logical_line_spans(lines: list[str], text: str) -> dict[int, tuple[int, int]]:
    """Map each line number to the first and last line of the logical line it belongs to (flake8's noqa
    scope); empty when the text cannot be tokenized."""
    mapping: dict[int, tuple[int, int]] = {}
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
            mapping.update(dict.fromkeys(range(first, last + 1), (first, last)))
            first, last = len(lines) + 2, -1
    return mapping


def logical_line_text(lines: list[str], text: str) -> dict[int, str]:
    """Map each line number to the text of the whole logical line it belongs to (flake8's noqa scope)."""
    return {line: "".join(lines[first - 1 : last]) for line, (first, last) in logical_line_spans(lines, text).items()}


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


def directive_codes(line_text: str) -> list[str] | None:
    """The codes a `# noqa: A, B` comment in `line_text` lists; [] for a bare `# noqa`; None for no comment."""
    match = NOQA_INLINE_REGEXP.search(line_text)
    if match is None:
        return None
    return [c for c in _SPLIT.split(match.group("codes") or "") if c]


def unused_codes(line_text: str, reported: Iterable[str], enabled: Callable[[str], bool]) -> list[str]:
    """The closelint codes a noqa directive in `line_text` lists that silence nothing: a full code
    (`CL201`, not a prefix) that is `enabled` here and that no code in `reported` (the findings of that
    logical line, before noqa) matches. Other tools' codes, prefixes and a bare `# noqa` are never unused."""
    codes = directive_codes(line_text) or []
    found = set(reported)
    return [c for c in codes if CODE_PATTERN.fullmatch(c) and enabled(c) and c not in found]


def with_directive(line: str, codes: Sequence[str]) -> str:
    """`line` (with its line ending) silencing `codes` as ruff's `--add-noqa` writes it: the codes merged
    into an existing `# noqa: ...` (comma separated), else `  # noqa: A, B` appended. A bare `# noqa`
    already silences everything: the line is returned as it is."""
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    match = NOQA_INLINE_REGEXP.search(body)
    if match is None:
        return f"{body.rstrip()}  # noqa: {', '.join(codes)}{ending}"
    present = [c for c in _SPLIT.split(match.group("codes") or "") if c]
    if not present:
        return line
    missing = [c for c in codes if c not in present]
    if not missing:
        return line
    start, end = match.span("codes")
    listed = body[start:end].rstrip(", \t")
    return f"{body[:start]}{listed}, {', '.join(missing)}{body[start + len(listed) :]}{ending}"


def add_noqa(text: str, violations: Iterable[Violation]) -> tuple[str, int]:
    """`text` with a noqa directive for each finding (on the last line of its logical line, where flake8
    and closelint read it), and the number of lines changed. CL000 (the file did not parse) is skipped."""
    lines = text.splitlines(keepends=True)
    spans = logical_line_spans([line.rstrip("\r\n") + "\n" for line in lines], text)
    wanted: dict[int, list[str]] = {}
    for v in violations:
        if v.code == PARSE_ERROR or not 0 < v.line <= len(lines):
            continue
        target = spans.get(v.line, (v.line, v.line))[1]
        if v.code not in wanted.setdefault(target, []):
            wanted[target].append(v.code)
    changed = 0
    for number, codes in wanted.items():
        updated = with_directive(lines[number - 1], sorted(codes))
        if updated != lines[number - 1]:
            lines[number - 1] = updated
            changed += 1
    return "".join(lines), changed


def add_noqa_to_file(path: Path, violations: Iterable[Violation], beneath: str | None = None) -> int:
    """Add noqa directives for `violations` to the file at `path`, written atomically in its own encoding
    and line endings, read and written without leaving the directory `beneath` it was found in (None: named
    by the user); returns the number of directives added or extended (the file is not written if 0)."""
    from closelint.fixer import read_source_file, write_atomically

    source = read_source_file(path, beneath)
    text, changed = add_noqa(source.text, violations)
    if changed:
        write_atomically(path, text, source, beneath)
    return changed
