"""The fix loop: lint, apply the non-overlapping fixes, re-lint until nothing changes; write safely.

Safety (SPEC §3): a rewrite that does not compile is discarded and reported, the file left as it was;
a fix that does not clear its own finding is not applied; files with nothing to fix are never written;
encoding, BOM, line endings, the final newline, the file mode and owner are kept; writes are atomic (a
temporary file renamed over the original), and a file that changed since it was read is not written
(a concurrent edit is never lost); a symlink stays a symlink: its target is written when it lies inside
the tree being fixed, else the file is skipped.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import tokenize
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from closelint.config import DEFAULT_DRAIN_TIMEOUT, Settings
from closelint.engine import lint_source, physical_lines
from closelint.files import CREATE_FLAGS, open_directory, read_entry, read_regular_file, shown_path, within
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
    allowed = {Applicability.SAFE, Applicability.UNSAFE} if unsafe else {Applicability.SAFE}
    candidates = [(v.fix, v) for v in violations if v.fix and v.fix.applicability in allowed]
    for fix, v in sorted(candidates, key=lambda pair: (pair[0].span, pair[1].line, pair[1].col)):
        first, last = fix.span
        if first > last_line:
            chosen.append(v)
            last_line = last
    return chosen


def fix_text(text: str, path: str, settings: Settings, unsafe: bool = False) -> FixResult:
    """Apply fixes to one file's text until stable (at most MAX_ROUNDS rounds).

    A round whose fixes do not each clear their own finding is retried without those fixes: a rewrite
    that leaves its finding in place would otherwise be applied again on every run."""
    from closelint.fixes import apply_fixes  # libcst: only when something is to be fixed

    result = FixResult(path, text, text)
    violations = lint_source(text, path, settings).violations
    refused: set[tuple[str, str, str]] = set()
    for _ in range(MAX_ROUNDS * 2):
        lines = physical_lines(result.fixed)
        chosen = selected([v for v in violations if _identity(v, lines) not in refused], unsafe)
        if not chosen:
            break
        try:
            candidate = apply_fixes(
                result.fixed, chosen, settings.helper_module, _timeout(settings), Path(settings.root)
            )
        except Exception as error:  # a rewrite bug must never cost the user their file
            result.error = f"{path}: fix not applied: {type(error).__name__}: {error}"
            break
        candidate = _final_newline_kept(result.fixed, candidate)
        if candidate == result.fixed:
            break
        problem = _compile_problem(candidate, path)
        if problem:
            result.error = f"{path}: fix not applied, the result would not compile: {problem}"
            break
        after = lint_source(candidate, path, settings).violations
        if not _cleared(chosen, violations, lines, after, physical_lines(candidate)):
            stuck = [v for v in chosen if not _clears(result.fixed, v, violations, lines, path, settings)] or chosen
            refused |= {_identity(v, lines) for v in stuck}
            result.error = "; ".join(
                f"{path}:{v.line}:{v.col + 1}: {v.code} fix not applied: it would not clear its finding" for v in stuck
            )
            continue
        result.fixed, result.applied, violations = candidate, result.applied + len(chosen), after
    result.remaining = violations
    return result


def _identity(v: Violation, lines: list[str]) -> tuple[str, str, str]:
    """What names a finding across rewrites, which move lines: code, message, and its line's text."""
    return v.code, v.message, lines[v.line - 1].strip() if 0 < v.line <= len(lines) else ""


def _cleared(
    chosen: Sequence[Violation],
    before: Sequence[Violation],
    lines: list[str],
    after: Sequence[Violation],
    new_lines: list[str],
) -> bool:
    """Whether the rewrite removed one finding for each applied fix (counted by `_identity`)."""
    present = Counter(_identity(v, lines) for v in before)
    fixed = Counter(_identity(v, lines) for v in chosen)
    remaining = Counter(_identity(v, new_lines) for v in after)
    return all(remaining[key] <= present[key] - count for key, count in fixed.items())


def _clears(
    text: str, v: Violation, before: Sequence[Violation], lines: list[str], path: str, settings: Settings
) -> bool:
    """Whether the fix of `v`, applied alone, clears its finding."""
    from closelint.fixes import apply_fixes

    try:
        candidate = _final_newline_kept(
            text, apply_fixes(text, [v], settings.helper_module, _timeout(settings), Path(settings.root))
        )
    except Exception:
        return False
    after = lint_source(candidate, path, settings).violations
    return _cleared([v], before, lines, after, physical_lines(candidate))


def _final_newline_kept(original: str, rewritten: str) -> str:
    """libcst drops a final `\r` of a file that ends its lines with `\r` only: put it back."""
    ending = next((e for e in ("\r\n", "\n", "\r") if original.endswith(e)), "")
    if ending and not rewritten.endswith(("\n", "\r")):
        return rewritten + ending
    return rewritten


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
    #: the bytes read: the file is written only if it still holds them
    raw: bytes = b""

    def encode(self, text: str) -> bytes:
        """`text` (this source, rewritten) in the source's encoding, with its BOM if it had one.

        Raises UnicodeEncodeError for a character the encoding lacks."""
        return text.encode(self.encoding)  # 'utf-8-sig' writes the BOM back


def decode_source(raw: bytes) -> SourceFile:
    """Decode Python source bytes as the interpreter would (BOM, coding cookie, UTF-8 default), keeping
    line endings as they are and remembering the encoding. Raises SyntaxError for a bad coding cookie,
    UnicodeDecodeError for bytes the encoding rejects."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    # newline="" keeps \r\n and \r exactly as they are in the file
    with io.TextIOWrapper(io.BytesIO(raw), encoding=encoding, newline="") as stream:
        return SourceFile(stream.read(), encoding, raw)


def read_source_file(path: Path, beneath: str | None = None) -> SourceFile:
    """Decode a Python file as the interpreter would (`decode_source`); a file that is not a regular one,
    too big, or reached by a link out of `beneath`, raises OSError (`files.read_regular_file`)."""
    return decode_source(read_regular_file(path, beneath=beneath))


class NotWritten(Exception):
    """A fixed file was left as it was; the message says why (reported as a warning)."""


def write_target(path: Path, roots: Sequence[Path]) -> Path:
    """The regular file a write to `path` replaces: `path`, or the target of a symlink inside `roots`.

    Raises NotWritten for a link that leaves the tree, or anything but a regular file."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target is not path:
        inside = any(target.is_relative_to(os.path.realpath(root)) for root in roots)
        if not inside:
            raise NotWritten(f"{shown_path(str(path))}: not fixed: a symlink to a file outside the tree")
    if not target.is_file():
        raise NotWritten(f"{shown_path(str(path))}: not fixed: not a regular file")
    return target


def write_atomically(path: Path, text: str, source: SourceFile, beneath: str | None = None) -> None:
    """Replace `path` by `text` through a temporary file in the same directory, keeping its mode and owner;
    every step is taken relative to that directory, opened once, and below `beneath` without following a
    link out of it (`files.open_directory`): a directory swapped for a link meanwhile cannot redirect it.

    Raises NotWritten, leaving the file as it is, when it no longer holds `source.raw` (edited meanwhile)
    or its owner cannot be kept; OSError when the directory cannot be opened or written."""
    data = source.encode(text)
    directory = open_directory(path.parent, beneath)
    name, temporary = path.name, f".{path.name}.{os.urandom(6).hex()}.closelint"
    try:
        info = os.stat(name, dir_fd=directory, follow_symlinks=False)
        descriptor = os.open(temporary, CREATE_FLAGS, 0o600, dir_fd=directory)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fchmod(descriptor, info.st_mode & 0o7777)
                if (os.fstat(descriptor).st_uid, os.fstat(descriptor).st_gid) != (info.st_uid, info.st_gid):
                    try:
                        os.fchown(descriptor, info.st_uid, info.st_gid)
                    except PermissionError:
                        raise NotWritten(f"{shown_path(str(path))}: not fixed: cannot keep its owner") from None
                    os.fchmod(descriptor, info.st_mode & 0o7777)  # chown clears set-user/group-ID bits
            if read_entry(directory, name) != source.raw:
                raise NotWritten(f"{shown_path(str(path))}: not fixed: it changed while it was being fixed; run again")
            os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=directory)
            raise
    finally:
        os.close(directory)


@dataclass
class FixRun:
    """What `--fix` / `--diff` did over a whole run."""

    applied: int = 0
    diffs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: fixes left out because they are not safe (or display-only), with the reason
    held_back: list[str] = field(default_factory=list)
    #: files whose fixes could not be written (exit status 2)
    errors: list[str] = field(default_factory=list)


def fix_files(
    results: Sequence[FileResult],
    settings: Settings,
    unsafe: bool,
    write: bool,
    roots: Sequence[Path] = (Path("."),),
    beneath: Mapping[str, str] | None = None,
) -> FixRun:
    """Fix every file whose findings have applicable fixes; their findings become what remains.

    `roots` are the trees being fixed: a symlink is written through only to a target inside one of them.
    `beneath` maps a file found by walking a directory to that directory, which reading and writing it
    never leave through a link (`discovery.Discovery.beneath`)."""
    run = FixRun()
    for result in results:
        run.held_back += held_back(result.violations, unsafe)
        if not selected(result.violations, unsafe):
            continue
        path = Path(result.path)
        try:
            target = write_target(path, roots)
            root = (beneath or {}).get(result.path)
            source = read_source_file(path, root)  # a link inside `root` is resolved as `target` was
        except NotWritten as skipped:
            run.warnings.append(str(skipped))
            continue
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
                write_atomically(target if root is None else within(root, target), fixed.fixed, source, root)
            except NotWritten as skipped:
                run.warnings.append(str(skipped))
                continue
            except (OSError, UnicodeError) as error:  # the file is left as it was; the others are still fixed
                run.errors.append(
                    f"{shown_path(str(path))}: fixes not written: {getattr(error, 'strerror', None) or error}"
                )
                continue
        run.diffs.append(fixed.diff())
        run.applied += fixed.applied
        result.violations = fixed.remaining
    return run


def held_back(violations: Iterable[Violation], unsafe: bool) -> list[str]:
    """A note for each finding whose fix `--fix` (with `unsafe`: `--unsafe-fixes`) does not apply, and why."""
    return [_held_back(v, unsafe) for v in violations if v.fix and v not in selected([v], unsafe)]


def _held_back(v: Violation, unsafe: bool) -> str:
    assert v.fix is not None
    kind = v.fix.applicability.value
    hint = "" if unsafe or v.fix.applicability is Applicability.DISPLAY_ONLY else ", applied with --unsafe-fixes"
    why = v.fix.reason or v.fix.description
    return f"{shown_path(v.path)}:{v.line}:{v.col + 1}: {v.code} fix not applied ({kind}{hint}): {why}"


def line_edits(before: str, after: str) -> tuple[Edit, ...]:
    """The change from `before` to `after` as whole-line replacements (start inclusive, end exclusive)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return tuple(
        Edit((i1 + 1, 0), (i2 + 1, 0), "".join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


def with_edits(
    violations: Sequence[Violation], settings: Settings, beneath: Mapping[str, str] | None = None
) -> list[Violation]:
    """The findings with each fix's text edits computed (for SARIF, rdjson and `--show-fixes`)."""
    from closelint.fixes import apply_fixes

    texts: dict[str, str | None] = {}
    out = []
    for v in violations:
        if v.fix is not None and v.path not in texts:
            try:
                texts[v.path] = read_source_file(Path(v.path), (beneath or {}).get(v.path)).text
            except (OSError, SyntaxError, UnicodeError):
                texts[v.path] = None
        text = texts.get(v.path)
        if v.fix is None or text is None:
            out.append(v)
            continue
        try:
            edits = line_edits(
                text, apply_fixes(text, [v], settings.helper_module, _timeout(settings), Path(settings.root))
            )
        except Exception:  # a preview must never stop the report
            edits = ()
        out.append(v._replace(fix=v.fix._replace(edits=edits)))
    return out
