"""The fix engine: each rule's own before/after examples, the fixture pairs, and SPEC §3's safety properties."""

from __future__ import annotations

import ast
import os
import shutil
import stat
import sysconfig
from pathlib import Path

import pytest
from fixture_markers import FIXTURES, fixture_files

from closelint.cli import main
from closelint.config import Settings
from closelint.engine import lint_path
from closelint.fixer import _identity, fix_files, fix_text, line_edits, selected
from closelint.model import Applicability, Violation
from closelint.registry import all_rules
from closelint.rule import Rule

RULES = list(all_rules().values())
FIX_PAIRS = sorted((FIXTURES / "fixes").glob("*.py"))
LEAK_AND_SEND = (
    "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    s.sendall(b'x')\n    s.close()\n"
)


def _fixed_examples() -> list[tuple[type[Rule], str, str, bool]]:
    return [
        (rule, case.code, case.expected_fix, case.unsafe)
        for rule in RULES
        for case in rule.invalid
        if case.expected_fix is not None
    ]


@pytest.mark.parametrize(("rule", "before", "after", "unsafe"), _fixed_examples(), ids=lambda x: getattr(x, "code", ""))
def test_rule_example_is_fixed_as_documented(rule: type[Rule], before: str, after: str, unsafe: bool) -> None:
    only_this_rule = Settings(select=(rule.code,))
    assert fix_text(before, "example.py", only_this_rule, unsafe=unsafe).fixed == after


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_fix_availability_is_derived_from_the_examples(rule: type[Rule]) -> None:
    fixed = [case for case in rule.invalid if case.expected_fix is not None]
    assert bool(fixed) == (rule.fix_applicability is not None)
    if fixed:
        assert all(case.unsafe == (rule.fix_applicability is Applicability.UNSAFE) for case in fixed)


@pytest.mark.parametrize("before", FIX_PAIRS, ids=lambda p: p.name)
def test_fix_fixture_pair(before: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / before.name
    shutil.copyfile(before, target)
    monkeypatch.chdir(tmp_path)
    main(["check", "--fix", "--quiet", "--output-format", "concise", "--no-cache", target.name])
    assert target.read_text(encoding="utf-8") == before.with_suffix(".fixed").read_text(encoding="utf-8")


# --- safety properties (SPEC §3) ---------------------------------------------------------------------------


def _changed_lines_are_fixed_spans(before: str, after: str, spans: list[tuple[int, int]]) -> bool:
    """Every changed line is inside the span of an applied fix, or is an import the fixes need (the helper,
    `sys` for a close in `finally`, `asyncio` for a bounded wait_closed()) being added, with the blank lines
    that set it apart as a section."""
    for edit in line_edits(before, after):
        (first, _), (end, _) = edit.start, edit.end
        lines = [line for line in edit.content.splitlines() if line.strip()]
        adds_imports = all(
            line in ("import sys", "import asyncio") or (line.startswith("from ") and "graceful_close" in line)
            for line in lines
        )
        if adds_imports and (end - first <= 1 if lines else end == first):  # new imports, or blank lines
            continue
        if not any(lo <= first and end - 1 <= hi for lo, hi in spans):
            return False
    return True


def assert_fix_is_safe(text: str, path: str, unsafe: bool) -> None:
    """Compiles, changes nothing outside the fixed statements, and a second pass changes nothing; a text
    with nothing to fix is left as it is."""
    from closelint.engine import lint_source

    settings = Settings()
    first = fix_text(text, path, settings, unsafe=unsafe)
    assert first.error is None, first.error
    if not selected(lint_source(text, path, settings).violations, unsafe):
        assert (first.changed, first.fixed) == (False, text), "a text with nothing to fix was changed"
        return
    assert first.changed, "a fix was selected but nothing changed"
    compile(first.fixed, path, "exec", dont_inherit=True)
    spans = _all_spans(text, path, settings, unsafe)
    assert _changed_lines_are_fixed_spans(text, first.fixed, spans), first.diff()
    assert fix_text(first.fixed, path, settings, unsafe=unsafe).fixed == first.fixed, "second --fix changed more"


def _all_spans(text: str, path: str, settings: Settings, unsafe: bool) -> list[tuple[int, int]]:
    """Spans of every fix any round may apply (the loop re-lints, so later rounds are included)."""
    from closelint.engine import lint_source

    spans: list[tuple[int, int]] = []
    current = text
    for _ in range(8):
        chosen = selected(lint_source(current, path, settings).violations, unsafe)
        if not chosen:
            break
        spans += [v.fix.span for v in chosen if v.fix]
        nxt = fix_text(current, path, settings, unsafe=unsafe)
        current = nxt.fixed
    # a later round's spans refer to the rewritten text; widen by the lines earlier rounds added
    grown = max(0, len(current.splitlines()) - len(text.splitlines()))
    return [(lo, hi + grown) for lo, hi in spans]


@pytest.mark.parametrize("path", [*fixture_files(), *FIX_PAIRS], ids=lambda p: p.name)
def test_fixes_on_every_fixture_are_safe(path: Path) -> None:
    assert_fix_is_safe(path.read_text(encoding="utf-8"), path.name, unsafe=True)


def test_the_fixtures_exercise_the_fix_safety_checks() -> None:
    """Enough fixtures have something to fix that the safety checks above run on more than a handful."""
    from closelint.engine import lint_source

    with_fixes = [
        path
        for path in [*fixture_files(), *FIX_PAIRS]
        if selected(lint_source(path.read_bytes(), path.name, Settings()).violations, True)
    ]
    assert len(with_fixes) >= 40, [p.name for p in with_fixes]


def _stdlib_socket_modules() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    names = [
        "socket.py",
        "socketserver.py",
        "ssl.py",
        "smtplib.py",
        "ftplib.py",
        "poplib.py",
        "imaplib.py",
        "telnetlib.py",
        "nntplib.py",
        "http/client.py",
        "http/server.py",
        "multiprocessing/connection.py",
        "asyncio/base_events.py",
        "asyncio/selector_events.py",
        "test/support/socket_helper.py",
        "test/test_socket.py",
        "test/test_ssl.py",
        "test/test_socketserver.py",
        "test/test_selectors.py",
        "test/test_asyncio/test_sock_lowlevel.py",
        "test/test_httplib.py",
        "test/test_ftplib.py",
        "xmlrpc/server.py",
        "wsgiref/simple_server.py",
        "logging/handlers.py",
        "logging/config.py",
    ]
    return [root / n for n in names if (root / n).is_file()]


@pytest.mark.slow
def test_fix_on_real_code_compiles_and_leaves_unreported_files_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = _stdlib_socket_modules()
    assert len(sources) >= 15
    for index, source in enumerate(sources):
        shutil.copyfile(source, tmp_path / f"m{index:02d}_{source.name}")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.chdir(tmp_path)
    main(["check", "--no-cache", "--output-format", "concise", "--quiet", "."])
    reported = {Path(line.split(":", 1)[0]).name for line in capsys.readouterr().out.splitlines() if line}
    main(["check", "--fix", "--unsafe-fixes", "--no-cache", "--output-format", "concise", "--quiet", "."])
    changed = 0
    for name, data in before.items():
        after = (tmp_path / name).read_bytes()
        compile(after, name, "exec", dont_inherit=True)
        if name not in reported:
            assert after == data, f"{name} was not reported but was changed"
        changed += after != data
    assert changed > 0, "the real code base should have something to fix"
    for name in sorted(before)[:6]:
        assert_fix_is_safe(before[name].decode("utf-8"), name, unsafe=True)


# --- bytes on disk -----------------------------------------------------------------------------------------


def _fix_file(tmp_path: Path, name: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> bytes:
    target = tmp_path / name
    target.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    main(["check", "--fix", "--quiet", "--output-format", "concise", "--no-cache", name])
    return target.read_bytes()


SERVER = b"import socket\n\n\ndef reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    conn.close()\n"
FIXED_SERVER = (
    b"import socket\n\nfrom closelint_graceful import graceful_close\n\n\ndef reply(srv):\n"
    b"    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    graceful_close(conn)\n"
)


def test_crlf_line_endings_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fix_file(tmp_path, "a.py", SERVER.replace(b"\n", b"\r\n"), monkeypatch) == FIXED_SERVER.replace(
        b"\n", b"\r\n"
    )


def test_bom_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fix_file(tmp_path, "a.py", b"\xef\xbb\xbf" + SERVER, monkeypatch) == b"\xef\xbb\xbf" + FIXED_SERVER


def test_missing_final_newline_stays_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _fix_file(tmp_path, "a.py", SERVER.rstrip(b"\n"), monkeypatch) == FIXED_SERVER.rstrip(b"\n")


def test_latin1_file_stays_latin1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = b"# -*- coding: latin-1 -*-\n# caf\xe9\n"
    fixed = _fix_file(tmp_path, "a.py", header + SERVER, monkeypatch)
    assert fixed.startswith(header) and fixed.endswith(b"    graceful_close(conn)\n")


def test_file_mode_is_kept_and_no_temporary_file_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "tool.py"
    target.write_bytes(SERVER)
    target.chmod(0o751)
    monkeypatch.chdir(tmp_path)
    main(["check", "--fix", "--quiet", "--no-cache", "tool.py"])
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".closelint_cache") == ["tool.py"]


def test_files_without_fixes_are_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = tmp_path / "clean.py"
    unfixable = tmp_path / "leak.py"
    clean.write_text("import socket\n")
    unfixable.write_text("import socket\n\ndef f():\n    return socket.socket().fileno()\n")
    old = 1_000_000_000
    for path in (clean, unfixable):
        os.utime(path, (old, old))
    monkeypatch.chdir(tmp_path)
    main(["check", "--fix", "--unsafe-fixes", "--quiet", "--no-cache", "."])
    assert clean.stat().st_mtime == old and unfixable.stat().st_mtime == old


def test_syntax_error_file_is_never_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = SERVER + b"def (:\n"
    assert _fix_file(tmp_path, "a.py", broken, monkeypatch) == broken


def test_a_failed_write_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    temporaries: list[str] = []

    def refuse(source: str, _target: str, **_: object) -> None:
        temporaries.append(source)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    assert _fix_file(tmp_path, "a.py", SERVER, monkeypatch) == SERVER
    assert capsys.readouterr().err == "closelint: error: a.py: fixes not written: No space left on device\n"
    assert [p.name for p in tmp_path.iterdir() if p.name != ".closelint_cache"] == ["a.py"]
    # the rewrite went to a hidden file beside the target (a rename is atomic only within one file system),
    # named relative to the target's opened directory
    [temporary] = temporaries
    assert temporary == Path(temporary).name and temporary.startswith(".a.py.")


def test_fixes_whose_statements_touch_wait_for_the_next_round() -> None:
    from closelint.engine import lint_source

    source = (
        "import socket\n\n\ndef reply(a: socket.socket, b: socket.socket):\n"
        "    a.sendall(b'x')\n    b.sendall(b'y')\n    a.close()\n    b.close()\n"
    )
    found = lint_source(source, "a.py", Settings()).violations
    assert [(v.code, v.line) for v in found] == [("CL201", 7), ("CL201", 8)]
    assert [v.line for v in selected(found, unsafe=True)] == [7]  # b's span starts on a's last line
    fixed = fix_text(source, "a.py", Settings(), unsafe=True).fixed  # the sockets come from the caller
    assert "    graceful_close(a)\n    graceful_close(b)\n" in fixed  # the loop's second round fixes b


def test_a_rewrite_that_would_not_compile_is_discarded(monkeypatch: pytest.MonkeyPatch) -> None:
    import closelint.fixes

    monkeypatch.setattr(closelint.fixes, "apply_fixes", lambda text, *_: text + "def (:\n")
    result = fix_text(SERVER.decode(), "a.py", Settings())
    assert not result.changed and result.error and "would not compile" in result.error


# --- the command line --------------------------------------------------------------------------------------


def test_diff_prints_a_unified_diff_writes_nothing_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_bytes(SERVER)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--diff", "--no-cache", "a.py"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- a/a.py\n+++ b/a.py\n") and "+    graceful_close(conn)\n" in out
    assert (tmp_path / "a.py").read_bytes() == SERVER
    (tmp_path / "a.py").write_bytes(FIXED_SERVER)
    assert main(["check", "--diff", "--no-cache", "a.py"]) == 0


def test_fix_exits_0_when_everything_was_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_bytes(SERVER)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--quiet", "--no-cache", "--select", "CL2", "a.py"]) == 0


def test_unsafe_fixes_only_with_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text(LEAK_AND_SEND)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--quiet", "--no-cache", "a.py"]) == 1  # CL102 stays without --unsafe-fixes
    assert "with socket.create_connection" not in (tmp_path / "a.py").read_text()
    assert main(["check", "--fix", "--unsafe-fixes", "--quiet", "--no-cache", "a.py"]) == 0
    text = (tmp_path / "a.py").read_text()
    assert "    with socket.create_connection(addr) as s:\n        s.sendall(b'x')\n        graceful_close(s)\n" in text
    ast.parse(text)


def test_a_graceful_close_already_there_ends_the_with_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imported = "import socket\n\nfrom closelint_graceful import graceful_close\n"
    source = LEAK_AND_SEND.replace("import socket\n", imported)
    source = source.replace("    s.sendall(b'x')\n    s.close()\n", "    s.recv(1)\n    graceful_close(s)\n")
    (tmp_path / "a.py").write_text(source)  # nothing sent: no CL201 fix could put the graceful_close() back
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fix", "--unsafe-fixes", "--quiet", "--no-cache", "a.py"]) == 0
    text = (tmp_path / "a.py").read_text()
    with_block = "    with socket.create_connection(addr) as s:\n        s.recv(1)\n        graceful_close(s)\n"
    assert text.endswith(with_block)


def test_a_helper_module_of_the_project_joins_the_first_party_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.closelint]\nhelper-module = "mypkg.netutil"\n')
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    source = b"import socket\n\nimport requests\n" + SERVER[len(b"import socket\n") :]
    fixed = _fix_file(tmp_path, "mypkg/server.py", source, monkeypatch)
    assert b"\nimport requests\n\nfrom mypkg.netutil import graceful_close\n\n" in fixed  # a section of its own


def test_helper_module_setting_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.closelint]\nhelper-module = "myapp.netutil"\n')
    fixed = _fix_file(tmp_path, "a.py", SERVER, monkeypatch)
    assert b"from myapp.netutil import graceful_close\n" in fixed


def test_import_is_merged_into_an_existing_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = b"import socket\nfrom closelint_graceful import graceful\n" + SERVER[len(b"import socket\n") :]
    fixed = _fix_file(tmp_path, "a.py", source, monkeypatch)
    assert fixed.count(b"closelint_graceful") == 1
    assert b"from closelint_graceful import graceful, graceful_close\n" in fixed  # in the order ruff sorts names


def test_import_goes_after_docstring_and_future_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = b'"""Doc."""\nfrom __future__ import annotations\n\n' + SERVER
    fixed = _fix_file(tmp_path, "a.py", source, monkeypatch).decode()
    assert fixed.index("from __future__") < fixed.index("from closelint_graceful") < fixed.index("def reply")
    assert fixed.startswith('"""Doc."""\n')


def test_no_helper_in_async_def(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = b"import socket\n\n\nasync def reply(conn):\n    conn.sendall(b'bye')\n    conn.close()\n"
    assert _fix_file(tmp_path, "a.py", source, monkeypatch) == source


def test_drain_timeout_setting_is_written_into_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.closelint]\ndrain-timeout = 2.5\n")
    fixed = _fix_file(tmp_path, "a.py", SERVER, monkeypatch)
    assert b"    graceful_close(conn, timeout=2.5)\n" in fixed


def test_fix_descriptions_say_what_changes() -> None:
    from closelint.engine import lint_source

    source = "import asyncio\n\n\nasync def hang_up(w: asyncio.StreamWriter):\n    w.close()\n"
    [found] = lint_source(source, "a.py", Settings()).violations
    assert found.code == "CL501" and found.fix is not None
    assert found.fix.description == "Insert a bounded `await asyncio.wait_for(w.wait_closed(), ...)` after the close"


@pytest.mark.parametrize("path", [*fixture_files(), *FIX_PAIRS], ids=lambda p: p.name)
def test_every_fix_clears_its_own_finding(path: Path) -> None:
    """Applied alone, each offered fix (safe, unsafe or display-only) removes the finding it is attached to."""
    from collections import Counter

    from closelint.engine import lint_source
    from closelint.fixes import apply_fixes

    text = path.read_text(encoding="utf-8")
    settings = Settings()
    before = lint_source(text, path.name, settings).violations
    counts = Counter((v.code, v.message) for v in before)
    for v in before:
        if v.fix is None:
            continue
        after = lint_source(apply_fixes(text, [v], settings.helper_module), path.name, settings).violations
        assert Counter((a.code, a.message) for a in after)[(v.code, v.message)] < counts[(v.code, v.message)], (
            f"{v.line}:{v.col + 1} {v.code}: {v.fix.description}"
        )


@pytest.mark.parametrize("unsafe", [False, True])
def test_no_fix_rewrites_a_unix_or_datagram_socket_named_through_constants(unsafe: bool) -> None:
    """A graceful close of a Unix or datagram socket would drain a socket that resets nothing (SPEC §2):
    with its family or type given through a module constant, no fix of either applicability is offered."""
    path = FIXTURES / "cl201_ok_kind_through_module_constants.py"
    text = path.read_text(encoding="utf-8")
    from closelint.engine import lint_source

    assert selected(lint_source(text, path.name, Settings()).violations, unsafe) == []
    assert fix_text(text, path.name, Settings(), unsafe=unsafe).fixed == text


@pytest.mark.parametrize("line", [1, 2, 3])
def test_a_finding_is_known_across_rewrites_by_the_text_of_its_own_line(line: int) -> None:
    # rewrites move lines, so the fix engine tells a finding that is still there by code, message and the
    # stripped text of its line, never by its line number: the first and the last line included
    lines = ["import socket", "    s.close()", "s.close()  # last"]
    finding = Violation("f.py", line, 4, "CL201", "m")
    assert _identity(finding, lines) == ("CL201", "m", lines[line - 1].strip())


def test_a_file_unreadable_at_its_fix_is_reported_and_the_next_file_is_still_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "import socket\n\n\ndef reply(conn):\n    conn.sendall(b'x')\n    conn.close()\n"
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(text)
    second.write_text(text)
    settings = Settings(select=("CL201",))
    results = [lint_path(path, settings)[0] for path in (first, second)]
    assert all(result.violations for result in results)
    first.write_bytes(b"caf\xe9 = 1\n")  # rewritten under the run, between its lint and its fix: not UTF-8
    run = fix_files(results, settings, unsafe=True, write=True, roots=(tmp_path,))
    assert [w for w in run.warnings if "cannot read it again" in w and "a.py" in w]
    assert "graceful_close(conn)" in second.read_text()
