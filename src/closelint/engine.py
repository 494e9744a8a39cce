"""The one engine every front end calls: source in, findings out."""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from collections.abc import Iterable
from pathlib import Path

from closelint import noqa
from closelint.analysis.module import analyse
from closelint.config import Settings
from closelint.model import FileResult, Violation
from closelint.registry import PARSE_ERROR, all_rules
from closelint.rule import Report, Rule

#: no finding but CL000 is possible in a file that contains none of these (SPEC §6, the prefilter)
TRIGGERS = (
    b"socket",
    b"accept",
    b"send",
    b"makefile",
    b"open_connection",
    b"open_unix_connection",
    b"start_server",
    b"start_unix_server",
    b"StreamWriter",
    b"SO_LINGER",
    b"setsockopt",
)


def may_find(source: bytes) -> bool:
    """The prefilter: whether `source` mentions anything a rule could report."""
    return any(trigger in source for trigger in TRIGGERS)


def decode(source: bytes) -> str:
    """Decode Python source as the interpreter would (BOM, coding cookie, UTF-8 default)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    text = source.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def physical_lines(text: str) -> list[str]:
    """Lines as Python numbers them (\\r\\n, \\r and \\n end a line; form feeds do not)."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line + "\n" for line in normalized.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines


def enabled_rules(settings: Settings) -> list[Rule]:
    """Instances of the rules the settings select."""
    return [cls() for code, cls in all_rules().items() if settings.enabled(code)]


def lint_source(
    source: bytes | str,
    path: str,
    settings: Settings,
    *,
    prefilter: bool = True,
    apply_noqa: bool = True,
    tree: ast.Module | None = None,
) -> FileResult:
    """Lint one file's source. Errors (undecodable, unparsable) become a CL000 finding, never raise.

    `tree` is the already parsed module when the caller has one (flake8); `apply_noqa=False` leaves
    `# noqa` to the caller.
    """
    result = FileResult(path)
    try:
        text = source if isinstance(source, str) else decode(source)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        result.violations.append(_parse_error(path, 1, 0, f"cannot decode file: {error}", settings))
        return result
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text, filename=path)
        except SyntaxError as error:
            line, col = error.lineno or 1, max((error.offset or 1) - 1, 0)
            result.violations.append(_parse_error(path, line, col, f"SyntaxError: {error.msg}", settings))
            return result
        except (ValueError, RecursionError, MemoryError) as error:
            result.violations.append(_parse_error(path, 1, 0, f"cannot parse file: {error}", settings))
            return result
    raw = source.encode("utf-8") if isinstance(source, str) else source
    if not prefilter or may_find(raw):
        result.violations = _check(tree, text, path, settings, apply_noqa)
    return result


def _parse_error(path: str, line: int, col: int, message: str, settings: Settings) -> Violation:
    return Violation(path, line, col, PARSE_ERROR, message.replace("\n", " "), line, col)


def _check(tree: ast.Module, text: str, path: str, settings: Settings, apply_noqa: bool) -> list[Violation]:
    rules = [r for r in enabled_rules(settings) if settings.enabled(r.code, path)]
    if not rules:
        return []
    facts = analyse(tree, text)
    lines = physical_lines(text)
    if apply_noqa and noqa.file_is_skipped(lines):
        return []
    found: set[Violation] = set()
    for rule in rules:
        for report in rule.check(facts):
            found.add(_violation(rule, report, path, lines))
    violations = sorted(found)
    if apply_noqa and violations and "noqa" in text.lower():
        logical = noqa.logical_line_text(lines, text)
        violations = [v for v in violations if not noqa.suppressed(v.code, logical.get(v.line, ""))]
    return violations


def _violation(rule: Rule, report: Report, path: str, lines: list[str]) -> Violation:
    node = report.node
    line, end_line = node.lineno, getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
    col = _char_column(lines, line, node.col_offset)  # type: ignore[attr-defined]
    end_col = _char_column(lines, end_line, getattr(node, "end_col_offset", None) or 0)
    return Violation(path, line, col, rule.code, report.message, end_line, end_col, report.fix)


def _char_column(lines: list[str], line: int, byte_offset: int) -> int:
    """ast columns are UTF-8 byte offsets; report characters, as flake8 and editors count them."""
    if line - 1 >= len(lines):
        return byte_offset
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace"))


def read_source(path: Path) -> bytes:
    """Read a file's bytes (OSError propagates: the caller reports it and exits 2)."""
    return path.read_bytes()


def lint_files(paths: Iterable[Path], settings: Settings) -> list[FileResult]:
    """Lint files one by one in this process (the CLI parallelises over this)."""
    results = []
    for path in paths:
        try:
            source = read_source(path)
        except OSError as error:
            results.append(FileResult(str(path), error=f"cannot read {path}: {error.strerror or error}"))
            continue
        results.append(lint_source(source, str(path), settings))
    return results
