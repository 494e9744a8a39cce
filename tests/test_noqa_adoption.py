"""Legacy adoption: `--add-noqa` (ruff's semantics), unused noqa directives (CL001), `--force-exclude`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from closelint.cli import main
from closelint.noqa import add_noqa, with_directive

# CL101 on line 5 (never closed) and CL102 on line 10 (leaks if connect() raises)
TWO_LEAKS = (
    "import socket\n\n\n"
    'def leak():\n    s = socket.socket()\n    s.connect(("h", 1))\n\n\n'
    'def leak_on_error():\n    s = socket.socket()\n    s.connect(("h", 1))\n    s.close()\n'
)
# a CL101 leak whose creating call spans three lines
MULTI_LINE = 'import socket\n\n\ndef f():\n    s = socket.create_connection(\n        ("h", 1),\n    )\n    s.recv(1)\n'


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--no-cache", "--output-format", "concise", "--quiet", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- --add-noqa -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "codes", "expected"),
    [
        ("    s = socket.socket()\n", ["CL101"], "    s = socket.socket()  # noqa: CL101\n"),
        ("x = 1  # keep me\r\n", ["CL101"], "x = 1  # keep me  # noqa: CL101\r\n"),
        ("x = 1  # noqa: E501\n", ["CL101"], "x = 1  # noqa: E501, CL101\n"),
        ("x = 1  # noqa:E501,W291 why\n", ["CL101", "CL102"], "x = 1  # noqa:E501,W291, CL101, CL102 why\n"),
        ("x = 1  # noqa: CL101\n", ["CL101"], "x = 1  # noqa: CL101\n"),  # already there
        ("x = 1  # noqa\n", ["CL101"], "x = 1  # noqa\n"),  # a bare noqa silences everything already
        ("x = 1", ["CL101"], "x = 1  # noqa: CL101"),  # no final newline: none added
    ],
)
def test_directive_is_appended_or_merged_as_ruff_does(line: str, codes: list[str], expected: str) -> None:
    assert with_directive(line, codes) == expected


def test_add_noqa_silences_every_finding_and_a_second_run_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "legacy.py"
    target.write_bytes(TWO_LEAKS.replace("\n", "\r\n").encode())
    target.chmod(0o640)
    (tmp_path / "multi.py").write_text(MULTI_LINE, encoding="utf-8")
    (tmp_path / "clean.py").write_text("import socket\n", encoding="utf-8")
    clean_before = (tmp_path / "clean.py").stat().st_mtime_ns

    code, out, err = check(capsys, "--add-noqa", ".")
    assert (code, out) == (0, "")
    assert "Added 3 noqa directives." in err
    text = target.read_bytes().decode()
    assert "    s = socket.socket()  # noqa: CL101\r\n" in text
    assert "    s = socket.socket()  # noqa: CL102\r\n" in text
    assert text.count("\r\n") == TWO_LEAKS.count("\n") and "\n" not in text.replace("\r\n", "")
    assert target.stat().st_mode & 0o777 == 0o640
    multi = (tmp_path / "multi.py").read_text(encoding="utf-8")
    assert "    s = socket.create_connection(  # noqa: CL101\n" in multi  # the reported line, as ruff does
    assert (tmp_path / "clean.py").stat().st_mtime_ns == clean_before  # nothing to add: not written

    assert check(capsys, ".")[0] == 0  # everything is silenced now
    code, _, err = check(capsys, "--add-noqa", ".")
    assert code == 0 and "Added 0 noqa directives." in err


def test_add_noqa_skips_files_that_do_not_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n", encoding="utf-8")
    code, _, err = check(capsys, "--add-noqa", str(broken))
    assert code == 0 and "Added 0 noqa directives." in err
    assert broken.read_text(encoding="utf-8") == "def (:\n"


def test_add_noqa_text_merges_codes_on_one_line() -> None:
    from closelint.config import Settings
    from closelint.engine import lint_source

    source = "import socket\n\n\ndef f():\n    a, b = socket.socketpair()\n"
    violations = lint_source(source, "pair.py", Settings()).violations
    assert len(violations) >= 1
    text, changed = add_noqa(source, violations)
    assert changed == 1
    assert lint_source(text, "pair.py", Settings()).violations == []


def test_add_noqa_refuses_fix_and_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "--add-noqa", "--fix", ".")
    assert code == 2 and err.startswith("closelint: error: --add-noqa") and err.count("\n") == 1


# --- CL001 unused-noqa ------------------------------------------------------------------------------------


USED_AND_STALE = (
    "import socket\n\n\n"
    "def f():\n"
    "    s = socket.socket()  # noqa: CL101\n"  # used
    "    s.connect(('h', 1))  # noqa: CL201, E501\n"  # stale: nothing reports CL201 here; E501 is not ours
    "    t = socket.socket()  # noqa: CL102, CL101\n"  # CL101 used, CL102 stale
    "    t.connect(('h', 1))  # noqa\n"  # a bare noqa is never reported
    "    u = 1  # noqa: CL1\n"  # a prefix is never reported
)


def test_unused_noqa_is_opt_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "m.py"
    target.write_text(USED_AND_STALE, encoding="utf-8")
    assert check(capsys, str(target))[:2] == (0, "")
    code, out, _ = check(capsys, "--extend-select", "CL001", str(target))
    assert code == 1
    assert out.splitlines() == [
        f"{target}:6:26: CL001 unused noqa directive: nothing on this line reports CL201; remove CL201 from it",
        f"{target}:7:26: CL001 unused noqa directive: nothing on this line reports CL102; remove CL102 from it",
    ]


def test_unused_noqa_findings_carry_their_name_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "m.py"
    target.write_text(USED_AND_STALE, encoding="utf-8")
    code, out, _ = check(capsys, "--extend-select", "CL001", "--output-format", "json", str(target))
    assert code == 1
    assert {(f["code"], f["name"]) for f in json.loads(out)} == {("CL001", "unused-noqa")}


def test_unused_noqa_ignores_codes_that_are_not_enabled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "m.py"
    target.write_text(USED_AND_STALE, encoding="utf-8")
    code, out, _ = check(capsys, "--extend-select", "CL001", "--ignore", "CL2,CL102", str(target))
    assert (code, out) == (0, "")


def test_unused_noqa_in_a_file_without_socket_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "plain.py"
    target.write_text("x = 1  # noqa: CL101\ny = 2  # noqa: CL101, CL001\n", encoding="utf-8")
    code, out, _ = check(capsys, "--select", "CL001,CL101", str(target))
    assert code == 1
    assert [line.split(": ")[1].split()[0] for line in out.splitlines()] == ["CL001"]
    assert out.startswith(f"{target}:1:8: CL001 ")


def test_flake8_reports_unused_noqa_like_the_cli(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text(USED_AND_STALE, encoding="utf-8")
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CL001", "m.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert [line.split(": ")[0] for line in flake8.stdout.splitlines()] == ["m.py:6:26", "m.py:7:26"], flake8.stderr


# --- --force-exclude --------------------------------------------------------------------------------------


def test_force_exclude_applies_exclude_to_files_named_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.closelint]\nextend-exclude = ["legacy", "gen/*.py"]\n')
    for name in ("legacy/old.py", "gen/out.py", "src/new.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(TWO_LEAKS, encoding="utf-8")
    named = ["legacy/old.py", "gen/out.py", "src/new.py"]
    code, out, _ = check(capsys, *named)
    assert code == 1 and {line.split(":")[0] for line in out.splitlines()} == set(named)
    code, out, _ = check(capsys, "--force-exclude", *named)
    assert code == 1 and {line.split(":")[0] for line in out.splitlines()} == {"src/new.py"}
    code, out, _ = check(capsys, "--force-exclude", "legacy/old.py")
    assert (code, out) == (0, "")
