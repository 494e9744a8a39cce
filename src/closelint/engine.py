"""The one engine every front end calls: source in, findings out.

The analysis, the rules and `noqa` are imported when a file is first checked, not with this module, so
that a run answered from the cache (and the prefilter) never loads them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import tokenize
import unicodedata
import warnings
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from closelint.config import Settings
from closelint.files import read_regular_file, shown_path
from closelint.model import FileResult, Violation
from closelint.registry import UNUSED_NOQA

if TYPE_CHECKING:
    from closelint.rule import Report, Rule

#: The prefilter (SPEC §6): a file whose text contains none of these yields no finding but CL000. Safe
#: because `analysis.module.analyse` walks only scopes whose lines name a word of `factories.SCOPE_TRIGGERS`
#: or a name imported from a module of `factories.SOCKET_MODULES`, each of which contains one of these
#: (tests/test_speed_design.py checks it), or a factory of another package, whose import names the package
#: (`eventlet`), and a rule that reads the tree itself first looks for a word that is here (`SO_LINGER`, ...).
TRIGGERS = (
    b"socket",
    b"eventlet",
    b"ssl",
    b"accept",
    b"dup",
    b"send",
    b"makefile",
    b"open_connection",
    b"open_unix_connection",
    b"start_server",
    b"start_unix_server",
    b"StreamWriter",
    b"drain",
    b"SO_LINGER",
    b"setsockopt",
)


_TEXT_TRIGGERS = tuple(trigger.decode("ascii") for trigger in TRIGGERS)
#: flake8's file-level noqa comment (NOQA_FILE, case-insensitive) cannot match a line unless this matches the text
_FLAKE8 = re.compile("flake8", re.IGNORECASE)
#: a noqa comment that names a closelint code (only such a directive can be unused: CL001)
_NOQA_CODES = re.compile(r"#\s*noqa:[^\n]*\bCL\d", re.IGNORECASE)


def may_find(source: bytes | str) -> bool:
    """The prefilter: False only if no rule can report anything in `source` (raw bytes or decoded text)."""
    if isinstance(source, str):
        return _text_may_find(source)
    if any(trigger in source for trigger in TRIGGERS):
        return True
    if source.isascii() and b"coding" not in source:
        return False  # read as UTF-8, ASCII bytes are the text itself, and its identifiers need no NFKC
    try:  # a declared encoding may not be ASCII-compatible (utf-7), an identifier may fold to a trigger
        return _text_may_find(decode(source))
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return True


def _text_may_find(text: str) -> bool:
    if any(trigger in text for trigger in _TEXT_TRIGGERS):
        return True
    # Python reads identifiers NFKC-normalised: `\u017focket` is `socket`
    return not text.isascii() and any(t in unicodedata.normalize("NFKC", text) for t in _TEXT_TRIGGERS)


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
    return [cls() for cls in _enabled_classes(settings)]


@cache
def _enabled_classes(settings: Settings) -> tuple[type[Rule], ...]:
    from closelint.registry import all_rules

    return tuple(cls for code, cls in all_rules().items() if settings.enabled(code))


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
            reason = str(error) or _UNSAID_PARSE_ERRORS.get(type(error), type(error).__name__)
            result.violations.append(_parse_error(path, 1, 0, f"cannot parse file: {reason}", settings))
            return result
    rules = not prefilter or may_find(source)
    if rules or _NOQA_CODES.search(text):
        try:
            result.violations = _check(tree, text, path, settings, apply_noqa, rules)
        except RecursionError:  # valid but deeply nested code: again, with a deeper stack
            result.violations = _check_deeply_nested(tree, text, path, settings, apply_noqa, rules)
    return result


#: what the parser means when it raises one of these without a message (CPython 3.11: 20,000 unary minus
#: signs or `not`s, 3,000 nested lambdas raise a bare MemoryError, its parser stack being full)
_UNSAID_PARSE_ERRORS: dict[type[BaseException], str] = {
    MemoryError: "too deeply nested for Python's parser",
    RecursionError: "too deeply nested for Python's parser",
}

#: the stack (bytes) and recursion limit of the second attempt at a deeply nested module. The analysis walks
#: the tree recursively; `ast.parse` refuses trees deeper than about three times the recursion limit (CPython
#: 3.11, measured: a 2,932-term `a + b + ...` parses under the default limit of 1,000 and is analysed within
#: 10,000 frames). The stack is reserved address space, used only as deep as the walk goes.
DEEP_STACK_BYTES = 256 * 2**20
DEEP_RECURSION_LIMIT = 20_000


def _check_deeply_nested(
    tree: ast.Module, text: str, path: str, settings: Settings, apply_noqa: bool, rules: bool = True
) -> list[Violation]:
    """`_check` in a thread with a deep stack; a CL000 finding saying the file was not analysed when even
    that is not deep enough (or the thread cannot be had), so that the run goes on with the other files."""
    import sys
    import threading

    outcome: list[list[Violation]] = []

    def analyse() -> None:
        with contextlib.suppress(RecursionError):
            outcome.append(_check(tree, text, path, settings, apply_noqa, rules))

    limit = sys.getrecursionlimit()
    try:
        previous_stack = threading.stack_size(DEEP_STACK_BYTES)
        try:
            worker = threading.Thread(target=analyse, name="closelint-deep-analysis")
            sys.setrecursionlimit(max(limit, DEEP_RECURSION_LIMIT))
            worker.start()
            worker.join()
        finally:
            sys.setrecursionlimit(limit)
            threading.stack_size(previous_stack)
    except (RuntimeError, ValueError, MemoryError):  # no thread with such a stack on this platform
        pass
    if outcome:
        return outcome[0]
    return [_parse_error(path, 1, 0, "not analysed: the code is nested too deeply for closelint", settings)]


def _parse_error(path: str, line: int, col: int, message: str, settings: Settings) -> Violation:
    from closelint.registry import PARSE_ERROR

    return Violation(path, line, col, PARSE_ERROR, message.replace("\n", " "), line, col)


def _check(
    tree: ast.Module, text: str, path: str, settings: Settings, apply_noqa: bool, rules: bool = True
) -> list[Violation]:
    """The findings of the enabled rules (when `rules`), then noqa: suppressed findings dropped when
    `apply_noqa` (flake8 drops them itself), directives that silence nothing reported as CL001."""
    from closelint import noqa
    from closelint.analysis.budget import TooComplex

    try:
        violations = _rule_violations(tree, text, path, settings) if rules else []
    except TooComplex as error:  # the run goes on with the other files; no noqa is judged unused unanalysed
        return [_parse_error(path, 1, 0, f"not analysed: too complex ({error})", settings)]
    check_unused = settings.enabled(UNUSED_NOQA, path) and _NOQA_CODES.search(text) is not None
    if not violations and not check_unused:
        return []
    lines = physical_lines(text)
    if apply_noqa and _FLAKE8.search(text) and noqa.file_is_skipped(lines):
        return []
    if "noqa" not in text.lower():
        return violations
    spans = noqa.logical_line_spans(lines, text)
    logical = {line: "".join(lines[first - 1 : last]) for line, (first, last) in spans.items()}
    unused = _unused_noqa(violations, lines, spans, logical, path, settings) if check_unused else []
    if apply_noqa:
        violations = [v for v in violations if not noqa.suppressed(v.code, logical.get(v.line, ""))]
        unused = [v for v in unused if not noqa.suppressed(v.code, logical.get(v.line, ""))]
    return sorted(violations + unused)


def _rule_violations(tree: ast.Module, text: str, path: str, settings: Settings) -> list[Violation]:
    from closelint.analysis.module import analyse

    classes = _enabled_classes(settings)
    if settings.per_file_ignores:
        classes = tuple(cls for cls in classes if settings.enabled(cls.code, path))
    if not classes:
        return []
    facts = analyse(tree, text, path, settings.policy())
    if facts.in_tests and settings.quiet_in_tests:
        quiet = settings.quiet_in_tests
        classes = tuple(cls for cls in classes if not any(cls.code.startswith(code) for code in quiet))
    reports = [(rule, report) for rule in (cls() for cls in classes) for report in rule.check(facts)]
    if not reports:
        return []
    lines = physical_lines(text)
    return sorted({_violation(rule, report, path, lines) for rule, report in reports})


def _unused_noqa(
    violations: list[Violation],
    lines: list[str],
    spans: dict[int, tuple[int, int]],
    logical: dict[int, str],
    path: str,
    settings: Settings,
) -> list[Violation]:
    """CL001 at each noqa comment that lists a closelint code no finding of its logical line has."""
    from closelint import noqa

    reported: dict[tuple[int, int], set[str]] = {}
    for v in violations:
        reported.setdefault(spans.get(v.line, (v.line, v.line)), set()).add(v.code)
    found = []
    for span in sorted(set(spans.values())):
        text = logical[span[0]]
        if _NOQA_CODES.search(text) is None:
            continue
        unused = noqa.unused_codes(text, reported.get(span, set()), lambda code: settings.enabled(code, path))
        if not unused:
            continue
        line, comment = next(
            (n, match) for n in range(span[0], span[1] + 1) if (match := _NOQA_CODES.search(lines[n - 1]))
        )
        listed = ", ".join(unused)
        message = f"unused noqa directive: nothing on this line reports {listed}; remove {listed} from it"
        end = len(lines[line - 1].rstrip())
        found.append(Violation(path, line, comment.start(), UNUSED_NOQA, message, line, end))
    return found


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


def read_source(path: str | os.PathLike[str], beneath: str | None = None) -> bytes:
    """Read a regular file's bytes, without following a link out of the directory `beneath` it was found in
    (OSError propagates, also for a FIFO, a device or a file over `files.MAX_FILE_BYTES`: the caller reports
    it and exits 2)."""
    return read_regular_file(path, beneath=beneath)


def lint_path(
    path: str | os.PathLike[str], settings: Settings, beneath: str | None = None
) -> tuple[FileResult, bytes | None]:
    """Read and lint one file (found in the directory `beneath`, or named by the user when None); also the
    bytes it read (None when unreadable: the result holds the error)."""
    try:
        source = read_source(path, beneath)
    except OSError as error:
        return FileResult(str(path), error=f"cannot read {shown_path(str(path))}: {error.strerror or error}"), None
    return lint_source(source, str(path), settings), source


def lint_files(paths: Iterable[Path], settings: Settings) -> list[FileResult]:
    """Lint files named by the user one by one in this process (`runner.lint_paths` adds the cache, the
    process pool and files found by walking a directory)."""
    return [lint_path(path, settings)[0] for path in paths]
