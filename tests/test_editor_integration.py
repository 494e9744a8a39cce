"""Editors: `check --stdin-filename PATH -` lints standard input as PATH; `--output-file`; colour on a
terminal, honouring NO_COLOR and FORCE_COLOR. Run as a subprocess, as an editor runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from closelint.output import color_wanted

LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
SEND_THEN_CLOSE = (
    "import socket\n\n\ndef reply(srv):\n    conn, _ = srv.accept()\n    conn.sendall(b'bye')\n    conn.close()\n"
)


def closelint(
    cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    completed = subprocess.run(
        [sys.executable, "-m", "closelint", "check", "--no-cache", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        timeout=120,
        check=False,
    )
    assert "Traceback" not in completed.stdout + completed.stderr, completed.stderr
    return completed


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Per-file-ignores that silence CL101 in tests/, and a file on disk whose content differs from stdin."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.closelint]\nper-file-ignores = { "**/tests/**" = ["CL101"] }\nextend-exclude = ["vendored"]\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


def test_stdin_is_linted_as_the_named_file(project: Path) -> None:
    completed = closelint(project, "--output-format", "concise", "--stdin-filename", "app.py", "-", stdin=LEAK)
    assert completed.returncode == 1
    assert completed.stdout.splitlines()[0].startswith("app.py:5:9: CL101 ")


def test_stdin_gets_the_named_files_per_file_ignores_and_noqa(project: Path) -> None:
    completed = closelint(project, "--stdin-filename", "tests/test_app.py", "-", stdin=LEAK)
    assert completed.returncode == 0, completed.stdout
    silenced = LEAK.replace("socket.socket()", "socket.socket()  # noqa: CL101")
    assert closelint(project, "--stdin-filename", "app.py", "-", stdin=silenced).returncode == 0


def test_stdin_gets_the_settings_of_the_named_files_subproject(project: Path) -> None:
    sub = project / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.closelint]\nignore = ["CL101"]\n')
    assert closelint(project, "--stdin-filename", "sub/mod.py", "-", stdin=LEAK).returncode == 0
    assert closelint(project, "--stdin-filename", "mod.py", "-", stdin=LEAK).returncode == 1


def test_stdin_with_force_exclude_reports_nothing_for_an_excluded_name(project: Path) -> None:
    args = ("--force-exclude", "--stdin-filename", "vendored/lib.py", "-")
    completed = closelint(project, *args, stdin=LEAK)
    assert (completed.returncode, completed.stdout) == (0, "")


def test_stdin_fix_writes_the_fixed_source_to_stdout(project: Path) -> None:
    args = ("--fix", "--select", "CL2", "--stdin-filename", "app.py", "-")
    completed = closelint(project, *args, stdin=SEND_THEN_CLOSE)
    assert completed.returncode == 0, completed.stderr
    assert "from closelint_graceful import graceful_close\n" in completed.stdout
    assert "    graceful_close(conn)\n" in completed.stdout
    assert "Fixed 1 finding" in completed.stderr
    assert (project / "app.py").read_text(encoding="utf-8") == "x = 1\n"  # the file on disk is not touched


def test_stdin_fix_shows_what_remains_in_the_fixed_text(project: Path) -> None:
    completed = closelint(project, "--fix", "--stdin-filename", "app.py", "-", stdin=SEND_THEN_CLOSE)
    assert completed.returncode == 1, completed.stderr
    # the import added above moved the leak two lines down: its location and its excerpt are the fixed text's
    assert "app.py:7:15: CL102 " in completed.stderr
    assert "    7 |     conn, _ = srv.accept()\n" in completed.stderr


@pytest.mark.parametrize(
    ("stdin", "code", "diffed", "tally"),
    [
        (SEND_THEN_CLOSE, 1, True, "Would fix 1 finding."),
        (LEAK, 0, False, "Would fix 0 findings."),  # CL101: no fix at all
        (
            "import socket\n\n\ndef f(a):\n    s = socket.create_connection(a)\n    s.recv(1)\n    s.close()\n",
            0,
            False,
            "Would fix 0 findings.",
        ),
    ],
)
def test_stdin_diff_is_the_same_report_as_for_a_file(
    project: Path, stdin: str, code: int, diffed: bool, tally: str
) -> None:
    (project / "same.py").write_text(stdin, encoding="utf-8")
    from_file = closelint(project, "--diff", "same.py")
    from_stdin = closelint(project, "--diff", "--stdin-filename", "same.py", "-", stdin=stdin)
    assert from_stdin.returncode == from_file.returncode == code
    assert from_stdin.stdout.startswith("--- a/same.py") is diffed
    assert from_stdin.stdout == from_file.stdout and from_stdin.stderr == from_file.stderr
    assert from_stdin.stderr.endswith(tally + "\n")


def test_stdin_that_does_not_parse_is_a_cl000(project: Path) -> None:
    completed = closelint(project, "--output-format", "concise", "--stdin-filename", "app.py", "-", stdin="def (:\n")
    assert completed.returncode == 1 and " CL000 " in completed.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--stdin-filename", "app.py", "-", "other.py"), "standard input only"),
        (("--stdin-filename", "", "-"), "the name of a file is needed"),
    ],
)
def test_stdin_arguments_that_make_no_sense_are_one_error_line(
    project: Path, arguments: tuple[str, ...], message: str
) -> None:
    (project / "other.py").write_text(LEAK, encoding="utf-8")
    completed = closelint(project, *arguments, stdin=LEAK)
    assert (completed.returncode, completed.stdout) == (2, "")
    assert message in completed.stderr and completed.stderr.count("\n") == 1


def test_output_file_receives_the_report(project: Path) -> None:
    (project / "leak.py").write_text(LEAK, encoding="utf-8")
    completed = closelint(project, "--output-format", "json", "--output-file", "report.json", "leak.py")
    assert (completed.returncode, completed.stdout) == (1, "")
    assert '"code": "CL101"' in (project / "report.json").read_text(encoding="utf-8")


def test_output_file_that_cannot_be_written_is_one_error_line(project: Path) -> None:
    (project / "leak.py").write_text(LEAK, encoding="utf-8")
    completed = closelint(project, "--output-file", "no/such/dir/report.txt", "leak.py")
    assert completed.returncode == 2
    assert completed.stderr.startswith("closelint: error: cannot write no/such/dir/report.txt")
    assert completed.stderr.count("\n") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("terminal", "environ", "wanted"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: set *and not empty*
        (False, {"FORCE_COLOR": "1"}, True),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),  # CPython's order: NO_COLOR wins
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_decision(terminal: bool, environ: dict[str, str], wanted: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    assert color_wanted(stream, environ) is wanted


def test_force_color_colours_the_report_and_no_color_wins(project: Path) -> None:
    (project / "leak.py").write_text(LEAK, encoding="utf-8")
    coloured = closelint(project, "leak.py", env={"FORCE_COLOR": "1"})
    assert "\x1b[1;31mCL101\x1b[0m" in coloured.stdout
    plain = closelint(project, "leak.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in plain.stdout and " CL101 " in plain.stdout
    piped = closelint(project, "leak.py")
    assert "\x1b[" not in piped.stdout
    to_file = closelint(project, "--output-file", "r.txt", "leak.py", env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in (project / "r.txt").read_text(encoding="utf-8") and to_file.returncode == 1
