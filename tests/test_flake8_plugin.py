"""The flake8 plugin, through the real `flake8` executable, reports exactly what `closelint check` reports.

Each tool runs once over many files; the `path:line:col: CODE message` lines are compared file by file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from closelint import __version__

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("tests/fixtures", "examples")
    for path in (ROOT / folder).rglob("*.py")
)

LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'
TWO_LEAKS = (
    "import socket\n\n\n"
    'def leak():\n    s = socket.socket()\n    s.connect(("h", 1))\n\n\n'
    'def leak_on_error():\n    s = socket.socket()\n    s.connect(("h", 1))\n    s.close()\n'
)


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    assert "Traceback" not in completed.stdout + completed.stderr, completed.stderr
    return completed


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "flake8", "--isolated", "--select", "CL", *args], cwd)


@cache
def _closelint_check_help() -> str:
    return run([sys.executable, "-m", "closelint", "check", "--help"], ROOT).stdout


def closelint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    no_cache = ["--no-cache"] if "--no-cache" in _closelint_check_help() else []
    return run(
        [sys.executable, "-m", "closelint", "check", "--output-format", "concise", "--quiet", *no_cache, *args], cwd
    )


def by_file(output: str, files: list[str]) -> dict[str, set[str]]:
    """Finding lines grouped by path (every file in `files` present, CL000 left out)."""
    grouped: dict[str, set[str]] = {name: set() for name in files}
    unexpected: defaultdict[str, set[str]] = defaultdict(set)
    for line in output.splitlines():
        path, _, rest = line.partition(":")
        if " CL000 " in line:
            continue
        (grouped if path in grouped else unexpected)[path].add(line)
        assert rest, line
    assert not unexpected, f"findings for files not asked about: {dict(unexpected)}"
    return grouped


def test_plugin_is_registered() -> None:
    completed = flake8(ROOT, "--version")
    assert completed.returncode == 0
    assert f"closelint: {__version__}" in completed.stdout


def test_corpus_exists() -> None:
    assert len(CORPUS) > 20
    assert any(name.startswith("examples/") for name in CORPUS)


def test_flake8_reports_what_closelint_reports_on_every_fixture_and_example() -> None:
    from_flake8 = flake8(ROOT, *CORPUS)
    from_closelint = closelint(ROOT, *CORPUS)
    assert from_flake8.returncode in (0, 1), from_flake8.stderr
    assert from_closelint.returncode in (0, 1), from_closelint.stderr
    flake8_lines, closelint_lines = by_file(from_flake8.stdout, CORPUS), by_file(from_closelint.stdout, CORPUS)
    differences = {
        name: {
            "flake8 only": flake8_lines[name] - closelint_lines[name],
            "closelint only": closelint_lines[name] - flake8_lines[name],
        }
        for name in CORPUS
        if flake8_lines[name] != closelint_lines[name]
    }
    assert differences == {}
    assert sum(map(len, closelint_lines.values())) > 20  # the comparison is not vacuous


NOQA_CASES = {
    # file name (not a stdlib module's: `python -m` puts the cwd first on sys.path): (source, reported?)
    "noqa_bare.py": (LEAK.replace("socket.socket()", "socket.socket()  # noqa"), False),
    "noqa_code.py": (LEAK.replace("socket.socket()", "socket.socket()  # noqa: CL101"), False),
    "noqa_prefix.py": (LEAK.replace("socket.socket()", "socket.socket()  # noqa:CL1"), False),
    "noqa_list.py": (LEAK.replace("socket.socket()", "socket.socket()  # noqa: CL102, CL101"), False),
    "noqa_other_code.py": (LEAK.replace("socket.socket()", "socket.socket()  # noqa: CL102"), True),
    "noqa_backslash.py": (
        LEAK.replace("socket.socket()", "socket.socket(); x = 1 + \\\n        2  # noqa: CL101"),
        False,
    ),
    "noqa_string.py": (
        LEAK.replace("socket.socket()", 'socket.socket(); s.sendall(b"""\npayload\n""")  # noqa'),
        False,
    ),
    "noqa_bracket.py": (
        LEAK.replace("socket.socket()", "socket.socket(\n        socket.AF_INET,\n    )  # noqa: CL101"),
        True,
    ),
    "noqa_file_skip.py": ("# flake8: noqa\n" + LEAK, False),
    "noqa_plain.py": (LEAK, True),
}


def test_noqa_suppresses_the_same_findings_in_both(tmp_path: Path) -> None:
    for name, (source, _) in NOQA_CASES.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    names = sorted(NOQA_CASES)
    flake8_lines = by_file(flake8(tmp_path, *names).stdout, names)
    closelint_lines = by_file(closelint(tmp_path, *names).stdout, names)
    assert flake8_lines == closelint_lines
    assert {name for name, lines in closelint_lines.items() if lines} == {
        name for name, (_, reported) in NOQA_CASES.items() if reported
    }


@pytest.mark.parametrize(
    "options",
    [
        ("--ignore", "CL101"),
        ("--extend-ignore", "CL101"),
        ("--select", "CL102"),
        ("--per-file-ignores", "two.py:CL101"),
    ],
    ids=" ".join,
)
def test_flake8_options_filter_closelint_codes(tmp_path: Path, options: tuple[str, str]) -> None:
    (tmp_path / "two.py").write_text(TWO_LEAKS, encoding="utf-8")
    everything = flake8(tmp_path, "two.py").stdout.splitlines()
    assert [line.split()[1] for line in everything] == ["CL101", "CL102"]
    filtered = flake8(tmp_path, *options, "two.py")  # a later --select replaces the first
    assert filtered.stdout.splitlines() == everything[1:]
    assert filtered.returncode == 1


ODD_FILES = {
    # a non-ASCII character before the call: both count the column in characters
    "odd_latin1.py": ("# -*- coding: latin-1 -*-\n" + LEAK.replace("    s = ", '    x = "\u00e9\u00e9"; s = ')).encode(
        "latin-1"
    ),
    "odd_utf8.py": LEAK.replace("    s = ", '    x = "\u00e9\u00e9"; s = ').encode("utf-8"),
    "odd_bom.py": b"\xef\xbb\xbf" + LEAK.encode(),
    "odd_crlf.py": LEAK.replace("\n", "\r\n").encode(),
    "odd_tab.py": LEAK.replace("    ", "\t").encode(),
}


def test_odd_encodings_and_line_endings_agree(tmp_path: Path) -> None:
    for name, content in ODD_FILES.items():
        (tmp_path / name).write_bytes(content)
    names = sorted(ODD_FILES)
    flake8_lines = by_file(flake8(tmp_path, *names).stdout, names)
    closelint_lines = by_file(closelint(tmp_path, *names).stdout, names)
    assert flake8_lines == closelint_lines
    assert all(len(lines) == 1 for lines in closelint_lines.values()), closelint_lines


def test_both_read_tool_closelint_from_pyproject_when_walking_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.closelint]\nper-file-ignores = { "pkg/tests/*.py" = ["CL101"], "s.py" = ["CL1"] }\n', encoding="utf-8"
    )
    names = ["pkg/a.py", "pkg/tests/test_a.py", "scripts/s.py"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(TWO_LEAKS, encoding="utf-8")
    from_flake8 = re.sub(r"^\./", "", flake8(tmp_path, ".").stdout, flags=re.MULTILINE)  # `flake8 .`: ./pkg/a.py
    flake8_lines = by_file(from_flake8, names)
    closelint_lines = by_file(closelint(tmp_path).stdout, names)
    assert flake8_lines == closelint_lines
    assert {name: len(lines) for name, lines in closelint_lines.items()} == {
        "pkg/a.py": 2,
        "pkg/tests/test_a.py": 1,
        "scripts/s.py": 0,
    }


def test_a_configuration_error_is_reported_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.closelint]\nbogus = 1\n", encoding="utf-8")
    (tmp_path / "a.py").write_text(TWO_LEAKS, encoding="utf-8")
    assert closelint(tmp_path).returncode == 2
    reported = flake8(tmp_path, "a.py")
    assert reported.returncode == 1
    assert reported.stdout.strip() == (
        f"a.py:1:1: CL000 closelint configuration error: {tmp_path / 'pyproject.toml'}: "
        "unknown key 'bogus' in [tool.closelint]"
    )
