"""The fix loop: lint, apply the non-overlapping fixes, re-lint until nothing changes; write safely.

Safety (SPEC §3): a rewrite that does not compile is discarded and reported, the file left as it was;
files with nothing to fix are never written; encoding, BOM, line endings, the final newline and the
file mode are kept; writes are atomic (a temporary file renamed over the original).
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
import tokenize
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from closelint.config import DEFAULT_DRAIN_TIMEOUT, Settings
from closelint.engine import lint_source
from closelint.files import read_regular_file, shown_path, write_beneath
from closelint.model import Applicability, Edit, FileResult, Violation

MAX_ROUNDS = 8


@dataclass
class FixResult:
    """What fixing one file did."""

    path: str
    original: str
    fixed: str
    applied: int = 0
    remaining: list[Violation] = field(default_factory=list)
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """A unified diff of the change (empty when nothing changed)."""
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.fixed.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


def selected(violations: Sequence[Violation], unsafe: bool) -> list[Violation]:
    """The fixable findings to apply in one round: allowed by `unsafe`, with no two spans overlapping."""
    chosen: list[Violation] = []
    last_line = 0
    candidates = [v for v in violations if v.fix and (unsafe or v.fix.applicability is Applicability.SAFE)]
    for v in sorted(candidates, key=lambda v: (v.fix.span if v.fix else (0, 0), v.line, v.col)):
        assert v.fix is not None
        first, last = v.fix.span
        if first > last_line:
            chosen.append(v)
            last_line = last
    return chosen


def fix_text(text: str, path: str, settings: Settings, unsafe: bool = False) -> FixResult:
    """Apply fixes to one file's text until stable (at most MAX_ROUNDS rounds)."""
    from closelint.fixes import apply_fixes  # libcst: only when something is to be fixed

    result = FixResult(path, text, text)
    violations = lint_source(text, path, settings).violations
    for _ in range(MAX_ROUNDS):
        chosen = selected(violations, unsafe)
        if not chosen:
            break
        try:
            candidate = apply_fixes(result.fixed, chosen, settings.helper_module, _timeout(settings))
        except Exception as error:  # a rewrite bug must never cost the user their file
            result.error = f"{path}: fix not applied: {type(error).__name__}: {error}"
            break
        if candidate == result.fixed:
            break
        problem = _compile_problem(candidate, path)
        if problem:
            result.error = f"{path}: fix not applied, the result would not compile: {problem}"
            break
        result.fixed, result.applied = candidate, result.applied + len(chosen)
        violations = lint_source(result.fixed, path, settings).violations
    result.remaining = violations
    return result


def _timeout(settings: Settings) -> float | None:
    """The `timeout=` argument fixes write, when the configuration asks for a non-default one."""
    return None if settings.drain_timeout == DEFAULT_DRAIN_TIMEOUT else settings.drain_timeout


def _compile_problem(text: str, path: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return str(error)
    return None


@dataclass(frozen=True)
class SourceFile:
    """A file's text and what it takes to write it back byte-for-byte the same way."""

    text: str
    encoding: str


def read_source_file(path: Path, beneath: str | None = None) -> SourceFile:
    """Decode a Python file as the interpreter would, remembering its encoding (and BOM); a file that is
    not a regular one, too big, or reached by a link out of `beneath`, raises OSError
    (`files.read_regular_file`)."""
    raw = read_regular_file(path, beneath=beneath)
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    # newline="" keeps \r\n and \r exactly as they are in the file
    with io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline="") as stream:
        return SourceFile(stream.read(), encoding)


def write_atomically(path: Path, text: str, encoding: str, beneath: str | None = None) -> None:
    """Replace `path` by `text` through a temporary file in the same directory, keeping the file mode;
    never through a link out of `beneath` (`files.write_beneath`)."""
    data = text.encode(encoding)  # 'utf-8-sig' writes the BOM back
    mode = path.stat().st_mode
    if beneath is not None:
        write_beneath(beneath, path, data, mode)
        return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".closelint")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@dataclass
class FixRun:
    """What `--fix` / `--diff` did over a whole run."""

    applied: int = 0
    diffs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: files whose fixes could not be written (exit status 2)
    errors: list[str] = field(default_factory=list)


def fix_files(
    results: Sequence[FileResult], settings: Settings, unsafe: bool, write: bool, beneath: Mapping[str, str] = {}
) -> FixRun:
    """Fix every file whose findings have applicable fixes; their findings become what remains. `beneath`
    maps a file found by walking a directory to that directory (`discovery.Discovery.beneath`)."""
    run = FixRun()
    for result in results:
        if not selected(result.violations, unsafe):
            continue
        path = Path(result.path)
        try:
            source = read_source_file(path, beneath.get(result.path))
        except (OSError, SyntaxError, UnicodeError) as error:
            run.warnings.append(f"{path}: not fixed, cannot read it again: {error}")
            continue
        fixed = fix_text(source.text, result.path, settings, unsafe)
        if fixed.error:
            run.warnings.append(fixed.error)
        if not fixed.changed:
            continue
        if write:
            try:
                write_atomically(path, fixed.fixed, source.encoding, beneath.get(result.path))
            except (OSError, UnicodeError) as error:  # the file is left as it was; the others are still fixed
                run.errors.append(
                    f"{shown_path(str(path))}: fixes not written: {getattr(error, 'strerror', None) or error}"
                )
                continue
        run.diffs.append(fixed.diff())
        run.applied += fixed.applied
        result.violations = fixed.remaining
    return run


def line_edits(before: str, after: str) -> tuple[Edit, ...]:
    """The change from `before` to `after` as whole-line replacements (start inclusive, end exclusive)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return tuple(
        Edit((i1 + 1, 0), (i2 + 1, 0), "".join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


def with_edits(violations: Sequence[Violation], settings: Settings, beneath: Mapping[str, str] = {}) -> list[Violation]:
    """The findings with each fix's text edits computed (for SARIF, rdjson and `--show-fixes`)."""
    from closelint.fixes import apply_fixes

    texts: dict[str, str | None] = {}
    out = []
    for v in violations:
        if v.fix is not None and v.path not in texts:
            try:
                texts[v.path] = read_source_file(Path(v.path), beneath.get(v.path)).text
            except (OSError, SyntaxError, UnicodeError):
                texts[v.path] = None
        text = texts.get(v.path)
        if v.fix is None or text is None:
            out.append(v)
            continue
        try:
            edits = line_edits(text, apply_fixes(text, [v], settings.helper_module, _timeout(settings)))
        except Exception:  # a preview must never stop the report
            edits = ()
        out.append(replace(v, fix=replace(v.fix, edits=edits)))
    return out
