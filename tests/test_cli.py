"""The command line as a user runs it: `closelint.cli.main(argv)` in-process, in a scratch directory.

Exit codes, configuration and its errors, file discovery, output formats, noqa, odd files, `--jobs`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from trees import LEAK, LEAK_AT, write

from closelint import __version__
from closelint.cli import main

# A CL101 leak on line 5 and a CL102 leak (closed, but not if connect() raises) on line 10.
TWO_LEAKS = (
    "import socket\n\n\n"
    'def leak():\n    s = socket.socket()\n    s.connect(("h", 1))\n\n\n'
    'def leak_on_error():\n    s = socket.socket()\n    s.connect(("h", 1))\n    s.close()\n'
)
CLEAN = 'import socket\n\n\ndef f():\n    with socket.socket() as s:\n        s.connect(("h", 1))\n'


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def findings(self) -> list[str]:
        """The concise `path:line:col: CODE message` lines of stdout."""
        return [line for line in self.out.splitlines() if re.match(r"^\S+:\d+:\d+: CL\d{3} ", line)]

    @property
    def codes(self) -> list[str]:
        return [line.split(": ", 2)[1].split()[0] for line in self.findings]


def config(root: Path, body: str, name: str = "pyproject.toml") -> Path:
    return write(root, name, "[tool.closelint]\n" + body + "\n")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):
    """`run("check", ...)` calls main() and returns its exit code and captured output."""

    def call(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return call


def check(run, *argv: str) -> Run:
    return run("check", "--output-format", "concise", "--quiet", *argv)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_one_error_line(result: Run, *mentions: str) -> None:
    """A usage or configuration error: exit 2, exactly one stderr line, naming what is wrong."""
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("closelint: error: "), lines[0]
    for mention in mentions:
        assert mention in lines[0]


def git_init(root: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(root)], check=True)


# --- exit codes -------------------------------------------------------------------------------------------


def test_clean_file_exits_0(run, tmp_path: Path) -> None:
    write(tmp_path, "ok.py", CLEAN)
    result = check(run, "ok.py")
    assert (result.code, result.out) == (0, "")


def test_finding_exits_1_and_prints_it(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    result = check(run, "leak.py")
    assert result.code == 1
    assert result.findings == result.out.splitlines()
    assert result.findings[0].startswith("leak.py" + LEAK_AT)


def test_default_path_is_current_directory(run, tmp_path: Path) -> None:
    write(tmp_path, "pkg/leak.py")
    assert check(run).findings[0].startswith("pkg/leak.py" + LEAK_AT)


def test_exit_zero_reports_findings_but_exits_0(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    result = check(run, "--exit-zero", "leak.py")
    assert result.code == 0
    assert result.codes == ["CL101"]


def test_missing_path_exits_2_with_one_error_line(run) -> None:
    assert_one_error_line(check(run, "no_such_dir"), "no_such_dir")


def test_summary_is_printed_unless_quiet(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    loud = run("check", "--output-format", "concise", "leak.py")
    assert loud.out.splitlines()[-1] == "Found 1 finding."
    assert "Found" not in check(run, "leak.py").out


# --- rule selection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), ["CL101", "CL102"]),
        (("--select", "CL1"), ["CL101", "CL102"]),
        (("--select", "CL102"), ["CL102"]),
        (("--ignore", "CL101"), ["CL102"]),
        (("--select", "CL1", "--ignore", "CL101"), ["CL102"]),
        (("--select", "CL101", "--extend-select", "CL102"), ["CL101", "CL102"]),
        (("--select", "CL101,CL102"), ["CL101", "CL102"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_select_ignore_and_prefixes(run, tmp_path: Path, options: tuple[str, ...], expected: list[str]) -> None:
    write(tmp_path, "two.py", TWO_LEAKS)
    assert check(run, *options, "two.py").codes == expected


def test_more_specific_select_beats_broader_ignore(run, tmp_path: Path) -> None:
    write(tmp_path, "two.py", TWO_LEAKS)
    assert check(run, "--select", "CL101", "--ignore", "CL1", "two.py").codes == ["CL101"]


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_on_command_line_exits_2_naming_it(run, tmp_path: Path, option: str) -> None:
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, option, "CL999", "leak.py"), option, "CL999")


def test_lowercase_code_is_rejected_naming_it(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "--select", "cl101", "leak.py"), "cl101")


def test_extend_select_adds_to_configured_select(run, tmp_path: Path) -> None:
    config(tmp_path, 'select = ["CL102"]')
    write(tmp_path, "two.py", TWO_LEAKS)
    assert check(run, "two.py").codes == ["CL102"]
    assert check(run, "--extend-select", "CL101", "two.py").codes == ["CL101", "CL102"]


def test_command_line_select_overrides_config(run, tmp_path: Path) -> None:
    config(tmp_path, 'select = ["CL102"]')
    write(tmp_path, "two.py", TWO_LEAKS)
    assert check(run, "--select", "CL101", "two.py").codes == ["CL101"]


# --- configuration ----------------------------------------------------------------------------------------


def test_config_found_from_a_subdirectory(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config(tmp_path, 'ignore = ["CL101"]')
    write(tmp_path, "pkg/sub/leak.py")
    monkeypatch.chdir(tmp_path / "pkg" / "sub")
    assert check(run).code == 0


def test_a_pyproject_without_a_closelint_table_is_skipped(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config(tmp_path, 'ignore = ["CL101"]')
    write(tmp_path, "pkg/pyproject.toml", "[project]\nname = 'pkg'\n")
    write(tmp_path, "pkg/leak.py")
    monkeypatch.chdir(tmp_path / "pkg")
    assert check(run).codes == []


def test_nearest_closelint_table_wins(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config(tmp_path, 'ignore = ["CL101"]')
    write(tmp_path, "pkg/pyproject.toml", "[project]\nname = 'pkg'\n\n[tool.closelint]\nselect = ['CL1']\n")
    write(tmp_path, "pkg/leak.py")
    monkeypatch.chdir(tmp_path / "pkg")
    assert check(run).codes == ["CL101"]


def test_config_option_reads_that_file_instead(run, tmp_path: Path) -> None:
    config(tmp_path, 'select = ["CL102"]')
    other = config(tmp_path, 'select = ["CL101"]', name="conf/closelint.toml")
    write(tmp_path, "two.py", TWO_LEAKS)
    assert check(run, "--config", str(other), "two.py").codes == ["CL101"]


def test_missing_config_file_exits_2(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "--config", "nope.toml", "leak.py"), "nope.toml")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("bogus = 1", "'bogus'"),
        ('select = ["CL999"]', "CL999"),
        ('ignore = ["XX1"]', "XX1"),
        ('per-file-ignores = { "t.py" = ["CL9"] }', "CL9"),
        ("select = 5", "select"),
        ("exclude = [1]", "exclude"),
        ('drain-timeout = "soon"', "drain-timeout"),
        ("drain-timeout = -1", "drain-timeout"),
        ('per-file-ignores = ["t.py"]', "per-file-ignores"),
        ('per-file-ignores = { "t.py" = 3 }', "per-file-ignores"),
        ("helper-module = 3", "helper-module"),
        ('helper-module = "not a module"', "helper-module"),
        ('raising-calls = "some"', "raising-calls"),
        ('quiet-in-tests = ["CL9"]', "CL9"),
        ('teardown-requires-send = "no"', "teardown-requires-send"),
        ("linger-zero-in-branch = 1", "linger-zero-in-branch"),
        # values that would write broken code into fixed files
        ("drain-timeout = inf", "drain-timeout"),
        ("drain-timeout = nan", "drain-timeout"),
        ("drain-timeout = 1e9", "drain-timeout"),
        ('helper-module = "pkg.class.graceful"', "helper-module"),
        ('helper-module = "pkg..graceful"', "helper-module"),
        ('helper-module = ""', "helper-module"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_key(run, tmp_path: Path, body: str, named: str) -> None:
    config(tmp_path, body)
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "leak.py"), "pyproject.toml", named)


POLICY_CASES = {
    "test_server.py": (
        "import socket\n\ndef test_reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'hi')\n    conn.close()\n"
    ),
    "tests.py": (  # Django's name for a module of tests
        "import socket\n\ndef test_reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'hi')\n    conn.close()\n"
    ),
    "test_echo.py": (  # a test module by its class's base alone: no function is named test*
        "import socket, unittest\n\nclass Echo(unittest.TestCase):\n    def check_reply(self, srv):\n"
        "        conn, _ = srv.accept()\n        conn.sendall(b'hi')\n        conn.close()\n"
    ),
    "conftest.py": (  # pytest's fixtures module: tests by its name alone, whatever its functions are called
        "import socket\n\ndef served(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'hi')\n    conn.close()\n"
    ),
    "log_first.py": (
        "import socket\n\ndef f(addr, log):\n    s = socket.create_connection(addr)\n    audit(addr)\n    s.close()\n"
    ),
    "record_first.py": (  # a function of the module, called with no arguments: it may raise under "any"
        "import socket\n\nJOURNAL = []\n\ndef record():\n    JOURNAL.append(len(JOURNAL))\n\n"
        "def f(addr):\n    s = socket.create_connection(addr)\n    record()\n    s.close()\n"
    ),
    "bare.py": (
        "import socket\n\ndef f(addr):\n    s = socket.create_connection(addr)\n    try:\n"
        "        s.shutdown(socket.SHUT_RDWR)\n    finally:\n        s.close()\n"
    ),
    "bare_parameter.py": (
        "import socket\n\ndef f(s):\n    try:\n        s.shutdown(socket.SHUT_RDWR)\n    finally:\n        s.close()\n"
    ),
    "abort.py": (
        "import socket, struct\n\ndef f(s, rude):\n    if rude:\n"
        "        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
        "    else:\n        s.shutdown(socket.SHUT_WR)\n    s.close()\n"
    ),
    "abort_if.py": (
        "import socket, struct\n\ndef f(s, rude, now):\n    if rude:\n        if now:\n"
        "            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
        "    s.close()\n"
    ),
}


@pytest.mark.parametrize(
    ("body", "path", "without", "with_setting"),
    [
        ('quiet-in-tests = ["CL102"]', "test_server.py", ["CL102", "CL201"], ["CL201"]),
        ('quiet-in-tests = ["CL2", "CL1"]', "test_server.py", ["CL102", "CL201"], []),
        ('quiet-in-tests = ["CL102"]', "tests.py", ["CL102", "CL201"], ["CL201"]),
        ('quiet-in-tests = ["CL2"]', "test_echo.py", ["CL102", "CL201"], ["CL102"]),
        ('quiet-in-tests = ["CL2"]', "conftest.py", ["CL102", "CL201"], ["CL102"]),
        ('raising-calls = "any"', "log_first.py", [], ["CL102"]),
        ('raising-calls = "any"', "record_first.py", [], ["CL102"]),
        ("teardown-requires-send = false", "bare.py", [], ["CL202"]),
        ("teardown-requires-send = false", "bare_parameter.py", [], []),  # a parameter is a stream if it sent
        ("linger-zero-in-branch = false", "abort.py", ["CL301"], []),
        ("linger-zero-in-branch = false", "abort_if.py", ["CL301"], []),
    ],
)
def test_policy_settings_change_what_is_reported(
    run, tmp_path: Path, body: str, path: str, without: list[str], with_setting: list[str]
) -> None:
    write(tmp_path, path, POLICY_CASES[path])
    assert check(run, "--no-cache", path).codes == without
    config(tmp_path, body)
    assert check(run, "--no-cache", path).codes == with_setting


def test_invalid_toml_exits_2_with_one_line(run, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[tool.closelint]\nselect = ["CL1"\n')
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "leak.py"), "pyproject.toml", "TOML")


def test_tool_closelint_not_a_table_exits_2(run, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool]\ncloselint = []\n")
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "leak.py"), "tool.closelint")


def test_tool_not_a_table_exits_2(run, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", 'tool = "closelint"\n')
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "leak.py"), "pyproject.toml", "tool")


def test_non_utf8_pyproject_exits_2(run, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", b'[tool.closelint]\nselect = ["CL1"]\n# caf\xe9\n')
    write(tmp_path, "leak.py")
    assert_one_error_line(check(run, "leak.py"), "pyproject.toml")


# --- file discovery ---------------------------------------------------------------------------------------


def test_default_excludes_skip_venv_build_and_pycache(run, tmp_path: Path) -> None:
    for skipped in (".venv/lib/a.py", "build/lib/b.py", "pkg/__pycache__/c.py", ".git/d.py"):
        write(tmp_path, skipped)
    write(tmp_path, "pkg/leak.py")
    assert [line.split(":")[0] for line in check(run).findings] == ["pkg/leak.py"]


def test_exclude_replaces_the_defaults(run, tmp_path: Path) -> None:
    config(tmp_path, 'exclude = ["generated"]')
    write(tmp_path, "generated/g.py")
    write(tmp_path, "build/b.py")
    assert [line.split(":")[0] for line in check(run).findings] == ["build/b.py"]


def test_extend_exclude_keeps_the_defaults(run, tmp_path: Path) -> None:
    config(tmp_path, 'extend-exclude = ["generated", "pkg/legacy_*.py"]')
    for skipped in ("generated/g.py", "build/b.py", "pkg/legacy_io.py"):
        write(tmp_path, skipped)
    write(tmp_path, "pkg/leak.py")
    assert [line.split(":")[0] for line in check(run).findings] == ["pkg/leak.py"]


def test_gitignore_is_honoured_inside_a_git_repository(run, tmp_path: Path) -> None:
    git_init(tmp_path)
    write(tmp_path, ".gitignore", "generated/\nscratch.py\n")
    write(tmp_path, "generated/g.py")
    write(tmp_path, "scratch.py")
    write(tmp_path, "pkg/leak.py")
    assert [line.split(":")[0] for line in check(run).findings] == ["pkg/leak.py"]


@pytest.mark.parametrize("relative", ["build/b.py", "generated/g.py", "scratch.py"])
def test_explicitly_named_excluded_file_is_still_linted(run, tmp_path: Path, relative: str) -> None:
    git_init(tmp_path)
    write(tmp_path, ".gitignore", "scratch.py\n")
    config(tmp_path, 'extend-exclude = ["generated"]')
    write(tmp_path, relative)
    assert check(run, relative).findings[0].startswith(relative + LEAK_AT)


def test_project_inside_a_directory_named_build_is_walked(run, tmp_path: Path) -> None:
    write(tmp_path, "build/proj/leak.py")
    result = check(run, str(tmp_path / "build" / "proj"))
    assert result.codes == ["CL101"]


def test_per_file_ignores(run, tmp_path: Path) -> None:
    config(tmp_path, 'per-file-ignores = { "tests/*.py" = ["CL101"], "scripts/*" = ["CL1"] }')
    for relative in ("tests/test_x.py", "scripts/s.py", "src/a.py"):
        write(tmp_path, relative, TWO_LEAKS)
    result = check(run)
    assert [(line.split(":")[0], code) for line, code in zip(result.findings, result.codes, strict=True)] == [
        ("src/a.py", "CL101"),
        ("src/a.py", "CL102"),
        ("tests/test_x.py", "CL102"),
    ]


def test_per_file_ignores_are_anchored_at_the_pyproject_directory(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config(tmp_path, 'per-file-ignores = { "pkg/tests/*.py" = ["CL101"] }')
    write(tmp_path, "pkg/tests/test_x.py")
    write(tmp_path, "pkg/a.py")
    monkeypatch.chdir(tmp_path / "pkg")
    assert [line.split(":")[0] for line in check(run).findings] == ["a.py"]


# --- output formats ---------------------------------------------------------------------------------------


def test_concise_format_is_flake8s(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    assert check(run, "leak.py").out == (
        "leak.py:5:9: CL101 socket 's' is not closed on every path; use `with` or close it in `finally`\n"
    )


def test_full_format_shows_source_line_and_caret(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    result = run("check", "--output-format", "full", "leak.py")
    finding, source, caret, *_ = result.out.splitlines()
    assert finding.startswith("leak.py" + LEAK_AT)
    assert source.endswith("| " + LEAK.splitlines()[4])
    assert caret.index("^") == source.index("socket.socket()")


def test_json_format_is_a_list_of_findings(run, tmp_path: Path) -> None:
    write(tmp_path, "leak.py")
    result = run("check", "--output-format", "json", "leak.py")  # no --quiet: nothing else on stdout
    assert result.code == 1
    [item] = json.loads(result.out)
    assert {k: item[k] for k in ("filename", "line", "column", "end_line", "end_column", "code", "name")} == {
        "filename": "leak.py",
        "line": 5,
        "column": 9,
        "end_line": 5,
        "end_column": 24,
        "code": "CL101",
        "name": "socket-leaked",
    }
    assert item["message"].startswith("socket 's' is not closed")
    assert item["fixable"] is False


def test_json_format_of_a_clean_run_is_an_empty_list(run, tmp_path: Path) -> None:
    write(tmp_path, "ok.py", CLEAN)
    result = run("check", "--output-format", "json", "ok.py")
    assert (result.code, json.loads(result.out)) == (0, [])


# --- rule documentation and version -----------------------------------------------------------------------


def test_rule_prints_the_rule_page(run) -> None:
    result = run("rule", "CL101")
    assert result.code == 0
    assert result.out.startswith("# CL101 socket-leaked")
    assert "## Example" in result.out


def test_unknown_rule_exits_2(run) -> None:
    assert_one_error_line(run("rule", "CL999"), "CL999")


def test_rules_lists_every_rule(run) -> None:
    result = run("rules")
    codes = [line.split()[0] for line in result.out.splitlines()]
    assert result.code == 0
    assert {"CL101", "CL102", "CL103"} <= set(codes)
    assert codes == sorted(set(codes))


def test_rules_as_json(run) -> None:
    result = run("rules", "--output-format", "json")
    rules = {item["code"]: item for item in json.loads(result.out)}
    assert rules["CL101"]["name"] == "socket-leaked"
    assert rules["CL102"]["name"] == "socket-leaked-on-error"


def test_version(run) -> None:
    result = run("--version")
    assert (result.code, result.out) == (0, f"closelint {__version__}\n")


def test_python_dash_m_version() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "closelint", "--version"], capture_output=True, text=True, check=False
    )
    assert (completed.returncode, completed.stdout) == (0, f"closelint {__version__}\n")


def test_closed_stdout_is_not_a_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "closelint", "rules", "--output-format", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in completed.stderr
    assert "BrokenPipeError" not in completed.stderr


# --- files that are odd in some way -----------------------------------------------------------------------

LATIN1_LEAK = (
    "# -*- coding: latin-1 -*-\nimport socket\n\n\n"
    'def f():\n    x = "\u00e9\u00e9"; s = socket.socket()\n    s.connect(("h", 1))\n'
)


def test_bad_directory_reports_each_file_and_never_crashes(run, tmp_path: Path) -> None:
    write(tmp_path, "bad/syntax.py", "def f(:\n    pass\n")
    write(tmp_path, "bad/latin1.py", LATIN1_LEAK.encode("latin-1"))
    write(tmp_path, "bad/empty.py", "")
    write(tmp_path, "bad/x.py", b"\x00\x01\x02\xff\xfe socket \x89PNG\r\n\x1a\n")
    result = check(run, "bad")
    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    assert [(line.split(":")[0], code) for line, code in zip(result.findings, result.codes, strict=True)] == [
        ("bad/latin1.py", "CL101"),
        ("bad/syntax.py", "CL000"),
        ("bad/x.py", "CL000"),
    ]
    assert result.findings[1].startswith("bad/syntax.py:1:")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_column_counts_characters_not_bytes(run, tmp_path: Path, encoding: str) -> None:
    # 'é' is 2 bytes in UTF-8: a byte offset would put the call at column 21
    write(tmp_path, "enc.py", LATIN1_LEAK.replace("latin-1", encoding).encode(encoding))
    assert check(run, "enc.py").findings[0].startswith("enc.py:6:19: CL101 ")


def test_crlf_file_is_reported_like_lf(run, tmp_path: Path) -> None:
    write(tmp_path, "crlf.py", LEAK.replace("\n", "\r\n"))
    assert check(run, "crlf.py").findings[0].startswith("crlf.py" + LEAK_AT)
    full = run("check", "--output-format", "full", "crlf.py").out
    assert "\r" not in full


def test_unreadable_file_exits_2(run, tmp_path: Path) -> None:
    path = write(tmp_path, "secret.py")
    path.chmod(0)
    try:
        try:
            path.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("chmod 000 does not stop this user from reading (root)")
        write(tmp_path, "leak.py")
        result = check(run, ".")
    finally:
        path.chmod(0o644)
    assert result.code == 2
    assert result.findings[0].startswith("leak.py" + LEAK_AT)  # the others are still linted
    assert_one_error_line(result, "secret.py")


def test_dangling_symlink_is_an_unreadable_file(run, tmp_path: Path) -> None:
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere" / "target.py")
    write(tmp_path, "leak.py")
    result = check(run, ".")
    assert result.codes == ["CL101"]
    assert_one_error_line(result, "gone.py")


# --- noqa -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# noqa", True),
        ("# noqa: CL101", True),
        ("# noqa:CL1", True),
        ("# noqa: CL102,CL101", True),
        ("# NOQA:CL101", True),
        ("# noqa: CL102", False),
        ("# noqa: CL1011", False),
    ],
)
def test_noqa_comment(run, tmp_path: Path, comment: str, suppressed: bool) -> None:
    write(tmp_path, "n.py", LEAK.replace("socket.socket()", "socket.socket()  " + comment))
    assert check(run, "n.py").codes == ([] if suppressed else ["CL101"])


def test_noqa_on_last_line_of_backslash_continuation_suppresses(run, tmp_path: Path) -> None:
    # flake8 applies a noqa to every line of a statement continued with '\' or by a multi-line string
    source = LEAK.replace("socket.socket()", "socket.socket(); x = 1 + \\\n        2  # noqa: CL101")
    write(tmp_path, "n.py", source)
    assert check(run, "n.py").codes == []


def test_noqa_on_last_line_of_multiline_string_statement_suppresses(run, tmp_path: Path) -> None:
    source = LEAK.replace("socket.socket()", 'socket.socket(); s.sendall(b"""\npayload\n""")  # noqa')
    write(tmp_path, "n.py", source)
    assert check(run, "n.py").codes == []


def test_noqa_on_closing_bracket_line_does_not_suppress_as_in_flake8(run, tmp_path: Path) -> None:
    # inside brackets each physical line is its own noqa line for flake8 (see test_flake8_plugin)
    source = LEAK.replace("socket.socket()", "socket.socket(\n        socket.AF_INET,\n    )  # noqa: CL101")
    write(tmp_path, "n.py", source)
    assert check(run, "n.py").findings[0].startswith("n.py" + LEAK_AT)


def test_flake8_noqa_file_comment_skips_the_file(run, tmp_path: Path) -> None:
    write(tmp_path, "n.py", "# flake8: noqa\n" + TWO_LEAKS)
    assert check(run, "n.py").code == 0


# --- parallel runs ----------------------------------------------------------------------------------------


def test_jobs_do_not_change_the_output(run, tmp_path: Path) -> None:
    for i in range(40):
        write(tmp_path, f"pkg{i % 3}/m{i:02}.py", (LEAK, TWO_LEAKS, CLEAN, "x = 1\n")[i % 4])
    serial = check(run, "--jobs", "1")
    parallel = check(run, "--jobs", "2")
    assert serial.code == parallel.code == 1
    assert len(serial.findings) == 30
    assert parallel.out == serial.out
