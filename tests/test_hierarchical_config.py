"""Configuration per file (ruff's hierarchical model): each file is linted with the nearest pyproject.toml
above it that has a `[tool.closelint]` table, by the CLI and by the real flake8 alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from closelint.config import Settings, SettingsResolver

LEAK = 'import socket\n\n\ndef f():\n    s = socket.socket()\n    s.connect(("h", 1))\n'


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A root project and two subprojects: one with its own table, one whose pyproject.toml has none."""
    write(tmp_path / "pyproject.toml", '[tool.closelint]\nper-file-ignores = { "**/tests/**" = ["CL101"] }\n')
    write(
        tmp_path / "services/api/pyproject.toml",
        '[project]\nname = "api"\n\n[tool.closelint]\nignore = ["CL101"]\nextend-exclude = ["generated"]\n',
    )
    write(tmp_path / "services/worker/pyproject.toml", '[project]\nname = "worker"\n')
    for name in (
        "top.py",
        "tests/test_top.py",
        "services/api/app.py",
        "services/api/generated/stub.py",
        "services/worker/job.py",
        "services/worker/tests/test_job.py",
    ):
        write(tmp_path / name, LEAK)
    return tmp_path


def reported(output: str) -> set[str]:
    return {line.split(":")[0] for line in output.splitlines() if ": CL" in line}


def closelint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "closelint", "check", "--no-cache", "--output-format", "concise", "--quiet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "CL", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_each_file_gets_its_nearest_table(monorepo: Path) -> None:
    resolver = SettingsResolver()
    assert resolver.for_file(monorepo / "services/api/app.py").ignore == ("CL101",)
    assert resolver.for_file(monorepo / "services/api/app.py").root == str(monorepo / "services/api")
    worker = resolver.for_file(monorepo / "services/worker/job.py")  # no table there: the root's
    assert worker.root == str(monorepo) and worker.per_file_ignores


def test_cli_from_the_monorepo_root_applies_each_subprojects_settings(monorepo: Path) -> None:
    completed = closelint(monorepo, ".")
    assert completed.returncode == 1, completed.stderr
    # api ignores CL101 and excludes generated/; the root's `**/tests/**` covers tests/ at the top too
    assert reported(completed.stdout) == {"top.py", "services/worker/job.py"}


def test_cli_on_a_subproject_path_from_the_root(monorepo: Path) -> None:
    assert closelint(monorepo, "services/api").returncode == 0
    assert reported(closelint(monorepo, "services/worker").stdout) == {"services/worker/job.py"}


def test_config_option_overrides_the_hierarchy(monorepo: Path) -> None:
    write(monorepo / "strict.toml", "[tool.closelint]\n")
    completed = closelint(monorepo, "--config", "strict.toml", "services/api/app.py", "tests/test_top.py")
    assert reported(completed.stdout) == {"services/api/app.py", "tests/test_top.py"}


def test_flake8_applies_the_subprojects_settings_like_the_cli(monorepo: Path) -> None:
    files = ["top.py", "tests/test_top.py", "services/api/app.py", "services/worker/job.py"]
    from_flake8 = flake8(monorepo, *files)
    assert reported(from_flake8.stdout) == {"top.py", "services/worker/job.py"}, from_flake8.stderr
    assert reported(closelint(monorepo, *files).stdout) == reported(from_flake8.stdout)


def test_flake8_reports_an_invalid_subproject_table(monorepo: Path) -> None:
    write(monorepo / "services/bad/pyproject.toml", '[tool.closelint]\nselect = ["XX1"]\n')
    write(monorepo / "services/bad/mod.py", LEAK)
    completed = flake8(monorepo, "services/bad/mod.py")
    assert "CL000 closelint configuration error" in completed.stdout
    assert "XX1" in completed.stdout
    assert closelint(monorepo, "services/bad/mod.py").returncode == 2


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("**/tests/**", "tests/test_a.py", True),  # a top-level tests/, as in ruff
        ("**/tests/**", "pkg/tests/sub/test_a.py", True),
        ("**/tests/**", "pkg/testsuite/a.py", False),
        ("tests/*", "tests/sub/test_a.py", True),
        ("pkg/*.py", "other/pkg/a.py", False),  # a pattern with '/' is anchored at the project root
        ("test_*.py", "deep/down/test_a.py", True),  # one without matches a name anywhere
    ],
)
def test_per_file_ignores_patterns(tmp_path: Path, pattern: str, path: str, matched: bool) -> None:
    settings = Settings(per_file_ignores=((pattern, ("CL101",)),), root=str(tmp_path))
    assert settings.enabled("CL101", str(tmp_path / path)) is not matched
